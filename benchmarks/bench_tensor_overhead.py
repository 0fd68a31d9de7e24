"""The Tensor layer's overhead: one forward and backward pass of the moons network, ours against PyTorch.

The network of issue 14 (100 points, 2-16-16-1, `h = (h @ W + b).relu()` per hidden layer, a linear
score, the hinge loss mean(relu(1 - y * score))), and the same with tanh hidden layers, written once
with Tensor operations (each backend) and once with torch (float64, torch.set_num_threads(1)).  The
peers alternate in one process, pass by pass; the median of each is reported, with the ratio to torch.

    python benchmarks/bench_tensor_overhead.py                 # 3000 passes of each (python: 100)
    python benchmarks/bench_tensor_overhead.py --passes 500 --profile   # cProfile of the numpy pass too
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread, as torch.set_num_threads(1): before NumPy loads

import argparse  # noqa: E402
import gc  # noqa: E402
import itertools  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

from autodiff_cli.tensor import Tensor  # noqa: E402

SIZES = [2, 16, 16, 1]


def data(seed: int = 1) -> tuple[list, list, list]:
    rng = random.Random(seed)
    X = [[rng.uniform(-1.5, 2.5), rng.uniform(-1.0, 1.5)] for _ in range(100)]
    y = [rng.choice((-1.0, 1.0)) for _ in range(100)]
    layers = [([[rng.uniform(-1, 1) for _ in range(m)] for _ in range(n)], [rng.uniform(-0.1, 0.1) for _ in range(m)])
              for n, m in itertools.pairwise(SIZES)]  # W as (inputs, outputs), b
    return X, y, layers


def ours(backend: str, act: str, X: list, y: list, layers: list) -> Callable[[], float]:
    x = Tensor(X, requires_grad=False, backend=backend)
    labels = Tensor(y, requires_grad=False, backend=backend)
    params = [(Tensor(w, backend=backend), Tensor(b, backend=backend)) for w, b in layers]

    def one() -> float:
        h = x
        for k, (W, b) in enumerate(params):
            W.grad = b.grad = None
            h = h @ W + b
            if k < len(params) - 1:
                h = h.relu() if act == "relu" else h.tanh()
        loss = (1 - labels * h.reshape(len(y))).relu().mean()
        loss.backward()
        return loss.item()

    return one


def torch_pass(act: str, X: list, y: list, layers: list) -> Callable[[], float]:
    import torch

    f64 = torch.float64
    x, labels = torch.tensor(X, dtype=f64), torch.tensor(y, dtype=f64)
    params = [(torch.tensor(w, dtype=f64).requires_grad_(), torch.tensor(b, dtype=f64).requires_grad_())
              for w, b in layers]
    f = torch.relu if act == "relu" else torch.tanh

    def one() -> float:
        h = x
        for k, (W, b) in enumerate(params):
            W.grad = b.grad = None
            h = h @ W + b
            if k < len(params) - 1:
                h = f(h)
        loss = torch.relu(1 - labels * h.reshape(len(y))).mean()
        loss.backward()
        return loss.item()

    return one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3000)
    parser.add_argument("--python-passes", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    X, y, layers = data()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    for act in ("relu", "tanh"):
        runs = {"numpy": ours("numpy", act, X, y, layers)}
        if torch is not None:
            runs["torch"] = torch_pass(act, X, y, layers)
        losses = {name: run() for name, run in runs.items()}
        assert max(losses.values()) - min(losses.values()) < 1e-9, losses
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(200):  # warm up
            for run in runs.values():
                run()
        gc.disable()
        for _ in range(args.passes):
            for name, run in runs.items():
                t0 = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - t0)
        gc.enable()
        py = ours("python", act, X, y, layers)
        py_times = []
        for _ in range(args.python_passes):
            t0 = time.perf_counter()
            py()
            py_times.append(time.perf_counter() - t0)
        medians = {name: statistics.median(ts) for name, ts in times.items()}
        line = "  ".join(f"{name} {m * 1e6:7.1f} us" for name, m in medians.items())
        ratio = f"  numpy/torch {medians['numpy'] / medians['torch']:.2f}" if "torch" in medians else ""
        print(f"{act:5s} {line}{ratio}  python {statistics.median(py_times) * 1e3:.2f} ms")
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(lambda run=runs["numpy"]: [run() for _ in range(args.passes)])
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
