"""Benchmark `autodiff grad` of a tensor expression, one shot from the shell, against PyTorch (and JAX).

    python benchmarks/bench_tensor_cli.py                # readable report (progress on stderr)
    python benchmarks/bench_tensor_cli.py --runs 20      # more rounds (default 10)
    python benchmarks/bench_tensor_cli.py --n 1000       # another size of A (default 500)
    python benchmarks/bench_tensor_cli.py --json         # every figure as one JSON document

The task: the value and the gradients of sum((A@x - b)^2) for an n x n matrix A and vectors
x, b of random numbers (seeded), read from files, as a shell user would compute them:

    autodiff grad "sum((A@x - b)^2)" --A @A.json --x @x.json --b @b.json

against the same gradient with PyTorch (float64) in a script started from the shell, which
reads the same JSON files and prints the value and the first elements of each gradient (as
autodiff's text output prints a large gradient's edges), and with JAX's jax.grad likewise
when JAX is importable.  Each is a whole process: start-up, imports, reading the files, the
forward and backward pass, printing.  Also timed: autodiff on the pure-Python backend
(AUTODIFF_BACKEND=python), autodiff reading A from a .npy file (when NumPy is installed),
and `python -c pass` and a script that only reads the JSON files, the floors under all of them.

Every command runs once a round, the order rotating from round to round (a busy moment of the
machine falls on all alike); the report gives the median wall and CPU time (user + system, of
the child, os.wait4).  Before timing, autodiff's --json gradients are compared with PyTorch's:
a benchmark of wrong numbers would be no benchmark.  Nothing runs on import.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_startup import log, measure  # benchmarks/bench_startup.py, beside this script
from machine import describe

EXPRESSION = "sum((A@x - b)^2)"

TORCH = """
import json, torch
A = torch.tensor(json.load(open("A.json")), dtype=torch.float64, requires_grad=True)
x = torch.tensor(json.load(open("x.json")), dtype=torch.float64, requires_grad=True)
b = torch.tensor(json.load(open("b.json")), dtype=torch.float64, requires_grad=True)
loss = ((A @ x - b) ** 2).sum()
loss.backward()
print(loss.item())
for g in (A.grad, x.grad, b.grad):
    print(g.flatten()[:3].tolist())
"""

JAX = """
import json, jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
A, x, b = (jnp.array(json.load(open(f"{n}.json")), dtype=jnp.float64) for n in "Axb")
value, grads = jax.value_and_grad(lambda A, x, b: jnp.sum((A @ x - b) ** 2), argnums=(0, 1, 2))(A, x, b)
print(float(value))
for g in grads:
    print(g.flatten()[:3].tolist())
"""

READ_ONLY = """
import json
for n in "Axb":
    json.load(open(f"{n}.json"))
"""


def write_inputs(folder: Path, n: int, seed: int) -> bool:
    """A.json, x.json, b.json (and A.npy when NumPy is importable): uniform numbers in [-1, 1)."""
    rng = random.Random(seed)
    a = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(n)]
    (folder / "A.json").write_text(json.dumps(a))
    (folder / "x.json").write_text(json.dumps([rng.uniform(-1, 1) for _ in range(n)]))
    (folder / "b.json").write_text(json.dumps([rng.uniform(-1, 1) for _ in range(n)]))
    if importlib.util.find_spec("numpy") is None:
        return False
    import numpy

    numpy.save(folder / "A.npy", numpy.array(a, dtype=numpy.float64))
    return True


def commands(autodiff: str, npy: bool) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Name -> (argv, environment changes), in the order of the report."""
    py = sys.executable
    grad = [autodiff, "grad", EXPRESSION, "--A", "@A.json", "--x", "@x.json", "--b", "@b.json"]
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([py, "-c", "pass"], {}),
        "python: read the JSON files only": ([py, "-c", READ_ONLY], {}),
        "autodiff grad (default backend)": (grad, {}),
        "autodiff grad (python backend)": (grad, {"AUTODIFF_BACKEND": "python"}),
    }
    if npy:
        cases["autodiff grad, A from A.npy"] = ([*grad[:4], "@A.npy", *grad[5:]], {})
    if importlib.util.find_spec("torch") is not None:
        cases["PyTorch script"] = ([py, "-c", TORCH], {})
    if importlib.util.find_spec("jax") is not None:
        cases["JAX script (jax.grad)"] = ([py, "-c", JAX], {})
    return cases


def verify(autodiff: str, folder: Path) -> str:
    """autodiff's gradients against PyTorch's (the largest relative difference), or why it could not be done."""
    if importlib.util.find_spec("torch") is None:
        return "PyTorch is not installed: not compared"
    import torch

    out = subprocess.run([autodiff, "grad", EXPRESSION, "--A", "@A.json", "--x", "@x.json", "--b", "@b.json",
                          "--json"], cwd=folder, capture_output=True, text=True, check=True)
    ours = json.loads(out.stdout)["gradient"]
    worst = 0.0
    leaves = {n: torch.tensor(json.loads((folder / f"{n}.json").read_text()), dtype=torch.float64,
                              requires_grad=True) for n in "Axb"}
    ((leaves["A"] @ leaves["x"] - leaves["b"]) ** 2).sum().backward()
    for name, leaf in leaves.items():
        mine = torch.tensor(ours[name], dtype=torch.float64)
        worst = max(worst, float(((mine - leaf.grad).abs() / leaf.grad.abs().clamp(min=1.0)).max()))
    if worst > 1e-9:
        raise SystemExit(f"autodiff's gradient differs from PyTorch's by {worst:.1e}: not benchmarking wrong numbers")
    return f"gradients agree with PyTorch's to {worst:.1e} (relative, largest)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="rounds (every command once a round)")
    parser.add_argument("--n", type=int, default=500, help="A is n x n (default 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--cli", help="the autodiff program (default: the one beside this Python, else on PATH)")
    args = parser.parse_args()
    beside = Path(sys.executable).with_name("autodiff")
    autodiff = args.cli or (str(beside) if beside.exists() else shutil.which("autodiff"))
    if not autodiff:
        raise SystemExit("no autodiff program found: pip install -e . in this Python's environment, or pass --cli")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log(f"writing A ({args.n} x {args.n}), x and b")
        npy = write_inputs(folder, args.n, args.seed)
        checked = verify(autodiff, folder)
        log(checked)
        cases = commands(autodiff, npy)
        here = os.getcwd()
        os.chdir(folder)  # every command reads its files from here
        try:
            times = measure({name: _with_env(argv, env) for name, (argv, env) in cases.items()}, args.runs, warmup=1)
        finally:
            os.chdir(here)
    stats = {name: {"wall_median_ms": 1000 * statistics.median(t["wall"]),
                    "cpu_median_ms": 1000 * statistics.median(t["cpu"])} for name, t in times.items()}
    peer = "PyTorch script" if "PyTorch script" in stats else None
    if args.json:
        print(json.dumps({"machine": describe(("autodiff", "torch", "jax", "numpy")), "n": args.n,
                          "runs": args.runs, "check": checked, "commands": {k: v[0] for k, v in cases.items()},
                          "results": stats}, indent=2))
        return
    print(f"grad of {EXPRESSION}, A {args.n} x {args.n} from a file; {args.runs} rounds, medians (ms); {checked}\n")
    print("| command | wall | CPU |" + (" wall / PyTorch |" if peer else ""))
    print("| --- | ---: | ---: |" + (" ---: |" if peer else ""))
    for name, s in stats.items():
        ratio = f" {s['wall_median_ms'] / stats[peer]['wall_median_ms']:.2f} |" if peer else ""
        print(f"| {name} | {s['wall_median_ms']:.0f} | {s['cpu_median_ms']:.0f} |{ratio}")


def _with_env(argv: list[str], env: dict[str, str]) -> list[str]:
    """argv run with these environment variables set (through env(1), so that measure() can run it as it is)."""
    if not env:
        return argv
    return ["env", *(f"{k}={v}" for k, v in env.items()), *argv]


if __name__ == "__main__":
    main()
