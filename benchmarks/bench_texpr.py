"""Benchmark the tensor language's front end: parsing, array literals, bindings, and refusals past the limits.

    python benchmarks/bench_texpr.py            # readable report
    python benchmarks/bench_texpr.py --json     # the figures as one JSON document

The figures: the scalar parser and the tensor parser on the same scalar expressions (the
tensor parser's loop also records every token's position); an array literal of 100,000
numbers and a call of 20,000 arguments (linear in their length since a repetition's list
grows in place); read_binding of a JSON array of 10^6 numbers, of a 1000 x 1000 CSV file
and of a .npy file (with NumPy); and how long a binding past the `elements` limit (10^8
numbers, 200 MB of text) takes to be refused: it is measured (its commas counted), never
read.  Each figure is the best of a few runs (the machine is shared); nothing is compared
with a peer here: the end-to-end figure against PyTorch is bench_tensor_cli.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable

from autodiff_cli import limits
from autodiff_cli.errors import LimitError
from autodiff_cli.parser import parse as parse_scalar
from autodiff_cli.texpr import parse, read_binding


def best(f: Callable[[], object], runs: int = 5) -> float:
    """The best of `runs` timings, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def refused(text: str) -> None:
    try:
        read_binding("A", text)
    except LimitError:
        return
    raise AssertionError("not refused")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--json", action="store_true")
    args = options.parse_args()
    rng = random.Random(0)
    long_sum = " + ".join(f"tanh(w{i}*x + b{i})^2 * sin(x/{i + 1})" for i in range(1500))
    figures: dict[str, float] = {}
    with limits.raised(nodes=10**6):
        for name, text in (("short", "tanh(w*x+b)"), ("long", long_sum)):
            n = 1000 if name == "short" else 1
            figures[f"scalar parser, {name} (ms)"] = best(lambda t=text, n=n: [parse_scalar(t) for _ in range(n)]) \
                * 1000 / n
            figures[f"tensor parser, {name} (ms)"] = best(lambda t=text, n=n: [parse(t) for _ in range(n)]) * 1000 / n
        literal = "[" + ", ".join(str(rng.randint(0, 999)) for _ in range(100_000)) + "]"
        figures["literal of 100,000 numbers, parse (s)"] = best(lambda: parse(literal), 3)
        call = "max(" + ", ".join(f"x{i}" for i in range(20_000)) + ")"
        figures["max of 20,000 arguments, scalar parse (s)"] = best(lambda: parse_scalar(call), 3)
    numbers = json.dumps([rng.uniform(-1, 1) for _ in range(10**6)])
    figures["JSON binding of 10^6 numbers (s)"] = best(lambda: read_binding("A", numbers), 3)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "A.csv")
        with open(path, "w") as f:
            for _ in range(1000):
                f.write(",".join(repr(rng.uniform(-1, 1)) for _ in range(1000)) + "\n")
        figures["CSV binding, 1000 x 1000 (s)"] = best(lambda: read_binding("A", f"@{path}"), 3)
        try:
            import numpy as np
        except ImportError:
            np = None
        if np is not None:
            npy = os.path.join(folder, "A.npy")
            np.save(npy, np.random.default_rng(0).uniform(-1, 1, (1000, 1000)))
            figures[".npy binding, 1000 x 1000 (s)"] = best(lambda: read_binding("A", f"@{npy}"), 3)
    huge = "[" + "0," * 10**8 + "0]"
    figures["refusing a binding of 10^8 numbers (s)"] = best(lambda: refused(huge), 3)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print("| figure | time |\n| --- | ---: |")
        for name, value in figures.items():
            print(f"| {name} | {value:.3g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
