"""Benchmark explain and graph on a tensor expression: what the views add to the gradient itself.

Run it from the repository:

    python benchmarks/bench_tensor_views.py            # readable report (progress goes to stderr)
    python benchmarks/bench_tensor_views.py --json     # every figure as one JSON document
    python benchmarks/bench_tensor_views.py --n 100 --repeat 1    # a quick run

Each measure is a whole command started from the shell, in a subprocess, on
sum((A@x - b)^2) with A an n x n matrix read from a JSON file (500 x 500 by default):
`autodiff grad` is the peer (the same forward and backward, printed), then
`autodiff explain` as text and as --json (every edge's arrays in full) and
`autodiff graph` as the tree, DOT and JSON.  Nothing runs on import.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe  # benchmarks/machine.py, beside this script

EXPRESSION = "sum((A@x - b)^2)"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(args: list[str], repeat: int) -> tuple[float, float, int]:
    """Best and median wall time of the command, and the bytes it wrote to stdout."""
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        size = len(done.stdout)
    return min(times), statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="A is n x n (default 500)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure; the best is reported")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    options = parser.parse_args()
    rng = random.Random(0)
    n = options.n
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for name, value in (("A", [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]),
                            ("x", [rng.uniform(-1, 1) for _ in range(n)]),
                            ("b", [rng.uniform(-1, 1) for _ in range(n)])):
            files[name] = Path(folder) / f"{name}.json"
            files[name].write_text(json.dumps(value))
        bindings = [f"{name}=@{path}" for name, path in files.items()]
        base = [sys.executable, "-m", "autodiff_cli"]
        commands = {
            "grad (peer)": [*base, "grad", EXPRESSION, *bindings],
            "explain": [*base, "explain", EXPRESSION, *bindings],
            "explain --json": [*base, "explain", EXPRESSION, *bindings, "--json"],
            "graph (tree)": [*base, "graph", EXPRESSION, *bindings],
            "graph --format dot": [*base, "graph", EXPRESSION, *bindings, "--format", "dot"],
            "graph --format json": [*base, "graph", EXPRESSION, *bindings, "--format", "json"],
        }
        figures = {}
        for label, args in commands.items():
            log(f"{label} ...")
            low, median, size = timed(args, options.repeat)
            figures[label] = {"best_s": round(low, 3), "median_s": round(median, 3), "stdout_bytes": size}
    document = {"machine": describe(), "expression": EXPRESSION, "n": n, "figures": figures}
    if options.json:
        print(json.dumps(document, indent=2))
        return
    print(f"{EXPRESSION} with A {n} x {n} (JSON files), whole commands, best of {options.repeat}")
    peer = figures["grad (peer)"]["best_s"]
    for label, figure in figures.items():
        print(f"  {label:22} {figure['best_s']:7.3f} s  ({figure['best_s'] / peer:4.1f}x grad)  "
              f"{figure['stdout_bytes']:>12,} bytes out")


if __name__ == "__main__":
    main()
