"""How readable are printed derivatives?  Length against SymPy and Maxima, in one run.

For each expression of derivative_cases.txt, the derivative printed by
`autodiff diff`, by SymPy's str(diff(...)) and by Maxima's diff (batch mode,
display2d:false), with spaces removed; then the ratios and their medians.
Maxima is Debian's package `maxima`; it is skipped, with a note, when absent.
Also checks that all three agree numerically at a point, so short is not wrong.

    python benchmarks/bench_symbolic.py            # table on stdout
    python benchmarks/bench_symbolic.py --markdown
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
from pathlib import Path

import sympy as sp

from autodiff_cli.parser import parse
from autodiff_cli.symbolic import partials, to_text

CASES = Path(__file__).with_name("derivative_cases.txt")


def cases() -> list[tuple[str, str]]:
    found = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text, name = line.rsplit(None, 1)
            found.append((text.strip(), name))
    return found


def ours(text: str, name: str) -> str:
    expr = parse(text)
    return to_text(partials(expr.root, expr.variables, [name])[(name,)])


def sympy_diff(text: str, name: str) -> str:
    return str(sp.diff(sp.sympify(text.replace("^", "**")), sp.Symbol(name)))


def maxima_diffs(items: list[tuple[str, str]]) -> list[str] | None:
    if shutil.which("maxima") is None:
        return None
    script = "display2d:false$ " + " ".join(f"diff({t},{n});" for t, n in items)
    out = subprocess.run(["maxima", "--very-quiet", f"--batch-string={script}"],
                         capture_output=True, text=True, check=True).stdout
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    # maxima echoes each input line ending in '$' and then prints the result line
    results = [line for line in lines[1:] if not line.startswith("diff(")]
    return [r.rstrip("$") for r in results]


def agree(text: str, name: str, mine: str, theirs: str) -> bool:
    """Our printed derivative and SymPy's at two random points."""
    f = sp.sympify(theirs)
    rng = random.Random(0)
    for _ in range(2):
        point = {s: rng.uniform(0.2, 0.9) for s in parse(text).variables}
        expr = parse(mine)
        a = expr.evaluate({k: point[k] for k in expr.variables})
        b = float(f.subs({sp.Symbol(k): v for k, v in point.items()}))
        if abs(a - b) > 1e-9 * (1 + abs(b)):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    items = cases()
    maxima = maxima_diffs(items)
    rows = []
    for i, (text, name) in enumerate(items):
        mine, theirs = ours(text, name), sympy_diff(text, name)
        assert agree(text, name, mine, theirs), (text, mine, theirs)
        row = [text, name, mine, len(mine.replace(" ", "")), theirs, len(theirs.replace(" ", ""))]
        row += [maxima[i], len(maxima[i].replace(" ", ""))] if maxima else ["", 0]
        rows.append(row)
    sym_ratios = [r[3] / r[5] for r in rows]
    no_longer = sum(1 for r in rows if r[3] <= r[5])
    if args.markdown:
        print("| expression | d/d | autodiff | SymPy | Maxima |")
        print("| --- | --- | --- | --- | --- |")
        for r in rows:
            print(f"| `{r[0]}` | {r[1]} | `{r[2]}` ({r[3]}) | `{r[4]}` ({r[5]}) | `{r[6]}` ({r[7]}) |")
    else:
        for r in rows:
            print(f"{r[0]}  d/d{r[1]}\n  autodiff {r[3]:4d}  {r[2]}\n  sympy    {r[5]:4d}  {r[4]}")
            if maxima:
                print(f"  maxima   {r[7]:4d}  {r[6]}")
    print()
    print(f"{len(rows)} expressions; autodiff no longer than SymPy for {no_longer}; "
          f"median length ratio autodiff/SymPy {statistics.median(sym_ratios):.2f}")
    if maxima:
        max_ratios = [r[3] / r[7] for r in rows]
        no_longer_m = sum(1 for r in rows if r[3] <= r[7])
        print(f"median length ratio autodiff/Maxima {statistics.median(max_ratios):.2f} "
              f"(no longer than Maxima for {no_longer_m})")
    else:
        print("Maxima not found (apt install maxima): its column is empty")


if __name__ == "__main__":
    main()
