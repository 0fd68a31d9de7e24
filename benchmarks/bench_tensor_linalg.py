"""Benchmark det, inv, logdet and the exact tensor Hessian, against NumPy and PyTorch in the same run.

    python benchmarks/bench_tensor_linalg.py            # both reports (about a minute)
    python benchmarks/bench_tensor_linalg.py --quick    # a smoke run: small sizes, one round
    python benchmarks/bench_tensor_linalg.py --json     # every figure as one JSON document

(a) Forward and backward of logdet(A) + sum(inv(A)) for an n x n A (n = 50, 200): the Python backend
(Gaussian elimination in Python), the NumPy backend (numpy.linalg), and PyTorch 2.13 CPU float64 if it
is installed.  The gradients are checked to agree before timing.
(b) hessian() of 0.5 * x @ A @ x with respect to x (n elements) and of sum(tanh(W @ x)) with respect to W
and x (n^2 + n elements), at growing n: the seconds each takes, and torch.autograd.functional.hessian
on the same function for comparison.  The Hessian is exact (the program expanded into scalar Values:
see autodiff_cli/tensor/functional.py), so its cost grows with the scalar graph, not with a few array
operations as PyTorch's does; the report gives the largest n done within about a second.

One thread everywhere (torch.set_num_threads(1), OPENBLAS/MKL/OMP_NUM_THREADS=1 before NumPy loads).
The median of the rounds is reported.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from machine import describe  # noqa: E402  (benchmarks/machine.py, beside this script)

import autodiff_cli.tensor as T  # noqa: E402
from autodiff_cli import limits  # noqa: E402
from autodiff_cli.tensor.backends import available  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:
    torch = None


def timed(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matrix(n: int, backend: str | None = None) -> T.Tensor:
    """A well-conditioned n x n matrix: entries in [0, 1) plus n on the diagonal."""
    values = T.rand(n, n, seed=n).tolist()
    return T.Tensor([[v + (n if i == j else 0.0) for j, v in enumerate(row)] for i, row in enumerate(values)],
                    backend=backend)


def linalg_report(sizes: list[int], rounds: int) -> list[dict]:
    rows = []
    for n in sizes:
        row: dict = {"n": n}
        grads = {}
        for name in available():
            A = matrix(n, name)

            def step(A: T.Tensor = A) -> None:
                A.grad = None
                (T.logdet(A) + T.inv(A).sum()).backward()

            row[f"{name} s"] = timed(step, rounds if name == "numpy" or n <= 50 else 1)
            grads[name] = A.grad.tolist()
        if torch is not None:
            At = torch.tensor(matrix(n).tolist(), dtype=torch.float64, requires_grad=True)

            def torch_step(At: torch.Tensor = At) -> None:
                At.grad = None
                (torch.logdet(At) + torch.linalg.inv(At).sum()).backward()

            row["torch s"] = timed(torch_step, rounds)
            grads["torch"] = At.grad.tolist()
        reference = next(iter(grads.values()))
        row["agree"] = all(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for g in grads.values()
                           for ra, rb in zip(g, reference, strict=True) for a, b in zip(ra, rb, strict=True))
        rows.append(row)
    return rows


def hessian_report(cases: dict[str, list[int]]) -> list[dict]:
    rows = []
    for case, sizes in cases.items():
        for n in sizes:
            x = T.rand(n, seed=1)
            A = T.rand(n, n, seed=2)
            if case == "0.5*x@A@x":
                ours = (lambda x, A=A: 0.5 * x @ A @ x), [x]
            else:
                ours = (lambda W, x: T.tanh(W @ x).sum()), [A, x]
            f, inputs = ours
            with limits.raised(work=10**9, cells=10**8):
                start = time.perf_counter()
                H = T.hessian(f, inputs)
                seconds = time.perf_counter() - start
            row = {"case": case, "n": n, "elements": len(H), "seconds": seconds}
            if torch is not None:
                xt = torch.tensor(x.tolist(), dtype=torch.float64)
                At = torch.tensor(A.tolist(), dtype=torch.float64)
                start = time.perf_counter()
                if case == "0.5*x@A@x":
                    torch.autograd.functional.hessian(lambda x, At=At: 0.5 * x @ At @ x, xt)
                else:
                    torch.autograd.functional.hessian(lambda W, x: torch.tanh(W @ x).sum(), (At, xt))
                row["torch seconds"] = time.perf_counter() - start
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [20] if args.quick else [50, 200]
    cases = ({"0.5*x@A@x": [20], "sum(tanh(W@x))": [5]} if args.quick else
             {"0.5*x@A@x": [50, 100, 200, 300], "sum(tanh(W@x))": [5, 10, 15, 20, 25]})
    report = {"machine": describe(("autodiff", "numpy", "torch")),
              "linalg": linalg_report(sizes, 1 if args.quick else 5), "hessian": hessian_report(cases)}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print("(a) logdet(A) + sum(inv(A)), forward and backward, median seconds")
    for row in report["linalg"]:
        print("   ", "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    print("(b) hessian(), seconds (exact, expanded into scalar Values), torch.autograd.functional.hessian beside it")
    for row in report["hessian"]:
        print("   ", "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
