"""Hostile inputs and the limits, through the installed command line: how long each takes to end, and how.

Every input of issue 7 runs as a subprocess of the `autodiff` found on PATH (or
--cli), its big inputs generated on the fly into a temporary folder: a table of
input, seconds (wall clock, one run, process start included), exit code and the
first line of the message.  Then each limit at its value (time to success, every
command for the node limit) and one past it (time to refusal).  The first row
is a trivial command: what starting the program costs.

    python benchmarks/bench_hostile.py            # the table, Markdown, on stdout
    python benchmarks/bench_hostile.py --json     # every row as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe

MB = 1_000_000


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def cases(folder: Path) -> list[tuple[str, list[str], Path | None, dict[str, str]]]:
    """(label, arguments, stdin file, environment) for every row."""
    nodes = 20_000
    depth = 10_000
    a_sum = write(folder, "sum_at_nodes.txt", "+".join(["x"] * nodes))
    a_sum_over = write(folder, "sum_over_nodes.txt", "+".join(["x"] * (nodes + 1)))
    # at the depth limit and the node limit at once: 10,000 calls nested around a sum
    chain = write(folder, "chain.txt", "sin(" * depth + "+".join(["x"] * (nodes - depth)) + ")" * depth)
    parens = write(folder, "parens_1mb.txt", "(" * (MB // 2 - 1) + "x" + ")" * (MB // 2 - 1) + "\n")
    big_sum = write(folder, "sum_1mb.txt", "+".join(["x"] * (MB // 2)) + "\n")
    minus = write(folder, "minus_1m.txt", "-" * MB + "x\n")
    line = write(folder, "line_100mb.txt", b"x+" * (50 * MB) + b"x\n")
    rows = write(folder, "rows_100mb.jsonl", b'{"x": 1}\n' + b"x+" * (50 * MB) + b'x\n{"x": 2}\n')
    binary = write(folder, "binary.dat", bytes(range(256)) * 4096)  # 1 MB of every byte value
    bad_utf8 = write(folder, "bad_utf8.txt", b"x + \xff\xfe 1\n")
    nul = write(folder, "nul.txt", b"x\x00+1\n")
    at_length = write(folder, "length_at.txt", "(x" + " " * (MB - 3) + ")")
    over_length = write(folder, "length_over.txt", "(x" + " " * (MB - 2) + ")")
    at_depth = write(folder, "depth_at.txt", "(" * depth + "x" + ")" * depth)
    over_depth = write(folder, "depth_over.txt", "(" * (depth + 1) + "x" + ")" * (depth + 1))
    limit = 1_048_576
    head = b'{"x": 1'
    at_line = write(folder, "line_at.jsonl", head + b" " * (limit - len(head) - 1) + b"}\n")
    over_line = write(folder, "line_over.jsonl", head + b" " * (limit - len(head)) + b"}\n")
    small = write(folder, "small.csv", "x,y\n" + "".join(f"{i},{3 * i}\n" for i in range(10)))
    over_file = folder / "file_over.csv"
    with open(over_file, "wb") as f:  # a sparse file one byte past the limit: refused from its size
        f.truncate(104_857_601)
    none: dict[str, str] = {}
    # work, cells and pictures (issue 7's review): each at its limit and the reviewer's inputs past it
    def cycling_sum(variables: int, nodes: int) -> str:  # `variables` leaves and nodes - variables additions
        return "+".join(f"v{i % variables}" for i in range(nodes - variables + 1))

    def values(variables: int) -> list[str]:
        return [f"v{i}=0.5" for i in range(variables)]

    forward_at = write(folder, "forward_at.txt", cycling_sum(100, 10_000))  # 100 x 10,000 x 10 steps
    check_at = write(folder, "check_at.txt", cycling_sum(500, 10_000))  # 2 x 500 x 10,000 steps
    sum6k = write(folder, "sum_6000.txt", "+".join(f"v{i}" for i in range(6000)))
    sin_chain = lambda n: "+".join(f"sin(v{i}*v{i + 1})" for i in range(n))  # noqa: E731
    hessian_at = write(folder, "chain_707.txt", sin_chain(706))  # 707 variables: 499,849 cells
    check2_at = write(folder, "chain_444.txt", sin_chain(443))  # 444 variables: 99,234 rows of 5 cells
    product = write(folder, "product_400.txt", "*".join(f"sin(v{(7 * i) % 44}*v{(13 * i + 5) % 44})"
                                                          for i in range(400)))
    picture_at = write(folder, "picture_at.txt", "+".join(f"sin(x*{i})*y" for i in range(1, 40)) + "+x+y+x+y")
    picture_over = write(folder, "picture_over.txt", "+".join(f"sin(x*{i})*y" for i in range(1, 100)))
    wide_field = write(folder, "wide_field.csv", "x\n0." + "0" * 200_000 + "1\n")
    star = "+".join(f"x*{i}" for i in range(66))  # 198 nodes, under the picture limit: dot's time is its shape's
    ten_thousand = "+".join(["x"] * 10_000)
    jacobian_texts = [f"v{i}*v{i + 1}+v{i + 20}" for i in range(3000)]
    rows_: list[tuple[str, list[str], Path | None, dict[str, str]]] = [
        ("start-up: `eval 1`", ["eval", "1"], None, none),
        ("`9^9^9`", ["eval", "9^9^9"], None, none),
        ("`exp(exp(exp(10)))`", ["eval", "exp(exp(exp(10)))"], None, none),
        ("`10^400`", ["eval", "10^400"], None, none),
        ("`1e308*10`", ["eval", "1e308*10"], None, none),
        ("`-0.0`", ["eval", "-0.0"], None, none),
        ("`5e-324`", ["eval", "5e-324"], None, none),
        ("`grad x*x --x 1e-310`", ["grad", "x*x", "--x", "1e-310"], None, none),
        ("1 MB of nested parentheses, `eval -`", ["eval", "-", "--x", "1"], parens, none),
        ("1 MB sum `x+x+...` (500,000 nodes), `eval -`", ["eval", "-", "--x", "1"], big_sum, none),
        ("1 MB sum, `explain -`", ["explain", "-", "--x", "1"], big_sum, none),
        ("1 MB sum, `hessian -`", ["hessian", "-", "--x", "1"], big_sum, none),
        ("`-` * 1,000,000 + `x`, `explain -`", ["explain", "-", "--x", "1"], minus, none),
        ("100 MB single line, `eval -`", ["eval", "-", "--x", "1"], line, none),
        ("100 MB single line among rows, `eval x --input -`", ["eval", "x", "--input", "-"], rows, none),
        ("100 MB single line among rows, `--input FILE --fail-fast`",
         ["eval", "x", "--input", str(rows), "--fail-fast"], None, none),
        ("binary file (1 MB), `eval -`", ["eval", "-"], binary, none),
        ("binary file, `eval x --input FILE`", ["eval", "x", "--input", str(binary)], None, none),
        ("binary file, `--input - --input-format csv`", ["eval", "x", "--input", "-", "--input-format", "csv"],
         binary, none),
        ("binary file, `train FILE`", ["train", str(binary), "--target", "y"], None, none),
        ("binary file, `predict FILE FILE`", ["predict", str(binary), str(binary)], None, none),
        ("invalid UTF-8, `eval -`", ["eval", "-", "--x", "1"], bad_utf8, none),
        ("NUL byte, `eval -`", ["eval", "-", "--x", "1"], nul, none),
        ("length at the limit (1,000,000 characters), `eval -`", ["eval", "-", "--x", "1"], at_length, none),
        ("length one over, `eval -`", ["eval", "-", "--x", "1"], over_length, none),
        ("depth at the limit (10,000), `eval -`", ["eval", "-", "--x", "1"], at_depth, none),
        ("depth one over, `eval -`", ["eval", "-", "--x", "1"], over_depth, none),
    ]
    for command in (["eval"], ["grad"], ["diff"], ["hessian"], ["explain"], ["graph"], ["graph", "--format", "json"],
                    ["graph", "--format", "dot"], ["compile"]):
        binding = [] if command[0] in ("diff", "compile") or command[1:] else ["--x", "1"]
        shown = " ".join(command)
        rows_.append((f"nodes at the limit (20,000), `{shown} -`", [*command, "-", *binding], a_sum, none))
        rows_.append((f"depth and nodes at their limits (sin chain), `{shown} -`", [*command, "-", *binding], chain,
                      none))
    rows_ += [
        ("nodes one over, `explain -`", ["explain", "-", "--x", "1"], a_sum_over, none),
        ("order at the limit, `diff x^12 --order 10`", ["diff", "x^12", "--order", "10"], None, none),
        ("order one over, `diff x^12 --order 11`", ["diff", "x^12", "--order", "11"], None, none),
        ("batch line at the limit (1,048,576 bytes)", ["eval", "x", "--input", str(at_line)], None, none),
        ("batch line one over", ["eval", "x", "--input", str(over_line)], None, none),
        ("data file one byte over (100 MiB + 1), `train`", ["train", str(over_file), "--target", "y"], None, none),
        ("`train --hidden 100000,100000` (10^10 parameters)",
         ["train", str(small), "--target", "y", "--hidden", "100000,100000"], None, none),
        ("work at the limit: `grad --mode forward`, 100 variables x 10,000 nodes",
         ["grad", "-", "--mode", "forward", *values(100)], forward_at, none),
        ("work at the limit: `check`, 500 variables x 10,000 nodes", ["check", "-", *values(500)], check_at, none),
        ("`grad --mode forward`, sum of 6,000 variables", ["grad", "-", "--mode", "forward", *values(6000)], sum6k,
         none),
        ("`check`, sum of 6,000 variables", ["check", "-", *values(6000)], sum6k, none),
        ("`hessian`, sum of 6,000 variables", ["hessian", "-", *values(6000)], sum6k, none),
        ("cells at the limit: `hessian`, 707 variables (499,849 cells)", ["hessian", "-", *values(707)], hessian_at,
         none),
        ("cells at the limit: `check --order 2`, 444 variables (99,234 rows)",
         ["check", "-", "--order", "2", *values(444)], check2_at, none),
        ("`jacobian`, 3,000 expressions x 3,021 variables", ["jacobian", *jacobian_texts, *values(3021)], None,
         none),
        ("work (symbolic) under the limit: `diff sin(a*b*c*d) --order 9`",
         ["diff", "sin(a*b*c*d)", "--order", "9"], None, none),
        ("`diff sin(a*b*c*d) --order 10`", ["diff", "sin(a*b*c*d)", "--order", "10"], None, none),
        ("`diff max(a,b,c,d)*sin(a*b*c*d) --order 10`", ["diff", "max(a,b,c,d)*sin(a*b*c*d)", "--order", "10"],
         None, none),
        ("`diff - --order 2`, product of 400 sin(vi*vj) over 44 variables", ["diff", "-", "--order", "2"], product,
         none),
        ("picture at the limit (200 nodes), `graph --format svg`", ["graph", "-", "x=1", "y=1", "--format", "svg"],
         picture_at, none),
        ("picture over (496 nodes), `graph --format svg`", ["graph", "-", "x=1", "y=1", "--format", "svg"],
         picture_over, none),
        ("a star of 66 products (198 nodes), `graph --format svg`: the drawing limit (10 s)",
         ["graph", star, "x=1", "--format", "svg"], None, none),
        ("`jacobian`, 95 expressions of 10,002 nodes each (the node limit holds for them together)",
         ["jacobian", *(f"{ten_thousand}+{i}" for i in range(95)), "x=1"], None, none),
        ("`check \"1e20 + x\" x=1` (rounding swamps the difference)", ["check", "1e20 + x", "x=1"], None, none),
        ("`AUTODIFF_MAX_LINE=9223372036854775807` (past 10^15)", ["eval", "x", "--input", "-"], small,
         {"AUTODIFF_MAX_LINE": "9223372036854775807"}),
        ("output at the limit, `AUTODIFF_MAX_OUTPUT=5 diff x^3`", ["diff", "x^3"], None, {"AUTODIFF_MAX_OUTPUT": "5"}),
        ("output one over, `AUTODIFF_MAX_OUTPUT=4 diff x^3`", ["diff", "x^3"], None, {"AUTODIFF_MAX_OUTPUT": "4"}),
        ("CSV header that never ends (`/dev/zero`)", ["eval", "x", "--input", "-", "--input-format", "csv"],
         Path("/dev/zero"), none),
        ("CSV field of 200,003 characters", ["eval", "x+1", "--input", str(wide_field)], None, none),
    ]
    return rows_


def measure(cli: list[str], args: list[str], stdin: Path | None, env: dict[str, str]) -> dict:
    environment = {**os.environ, **env, "NO_COLOR": "1"}
    with open(stdin if stdin else os.devnull, "rb") as source:
        start = time.perf_counter()
        result = subprocess.run([*cli, *args], stdin=source, capture_output=True, env=environment)
        seconds = time.perf_counter() - start
    err = result.stderr.decode("utf-8", "replace").splitlines()
    out = result.stdout.decode("utf-8", "replace").splitlines()
    first = err[0] if err else (out[0] if out else "")
    return {"seconds": seconds, "exit": result.returncode, "first_line": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default=shutil.which("autodiff") or "autodiff", help="the autodiff program to run")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    cli = [options.cli]
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_hostile_") as tmp:
        for label, args, stdin, env in cases(Path(tmp)):
            row = {"input": label, **measure(cli, args, stdin, env)}
            row["first_line"] = row["first_line"].replace(tmp + os.sep, "")  # the generated files by name
            print(f"{row['seconds']:7.2f} s  exit {row['exit']}  {label}", file=sys.stderr)
            results.append(row)
    if options.json:
        print(json.dumps({"machine": describe(), "rows": results}, indent=2))
        return
    machine = describe()
    print(f"{machine['cpu']}, {machine['cores']} cores, load {machine['load_average']}, "
          f"Python {machine['python']}; {machine.get('date', '')}\n")
    print("| input | seconds | exit | first line of the message (or of the output) |")
    print("| --- | ---: | ---: | --- |")
    for row in results:
        line = row["first_line"].replace("|", "\\|")
        if len(line) > 110:
            line = line[:107] + "..."
        print(f"| {row['input']} | {row['seconds']:.2f} | {row['exit']} | {line} |")


if __name__ == "__main__":
    main()
