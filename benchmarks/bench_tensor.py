"""Benchmark tensors: the moons network on both backends against micrograd, our scalar engine and PyTorch;
a 256x256 matmul forward and backward; bytes per element.

Run it from the repository after `pip install -e ".[bench,numpy]"` (and, for the PyTorch column,
`pip install torch==2.13.0`, the CPU build; a peer that is not installed is skipped with a note):

    python benchmarks/bench_tensor.py            # the three reports (a few minutes)
    python benchmarks/bench_tensor.py --quick    # a smoke run: few rounds, a 64x64 matmul, n up to 1e5
    python benchmarks/bench_tensor.py --json     # every figure as one JSON document

(a) One full-batch forward and backward pass of micrograd's moons network: 100 points, an MLP
2-16-16-1 (relu hidden layers, a linear score: micrograd's MLP knows no other activation), the
hinge loss mean(relu(1 - y * score)).  Every engine starts from the same weights; the script checks
that the losses and the first layer's gradients agree before timing.  The Tensor version is five
lines of `X @ W + b`; micrograd and the scalar engine build one Value per number.
(b) C = A @ B for two 256x256 tensors and its backward with an upstream G (G @ B.T and A.T @ G):
the NumPy backend against NumPy's own three `@` (50 rounds), the Python backend against a plain triple
loop (5 rounds).
(c) Bytes per element of a tensor of n elements (tracemalloc: everything allocated to hold it).

One thread everywhere: torch.set_num_threads(1), and OPENBLAS/MKL/OMP_NUM_THREADS=1 set before NumPy
loads (unless already set).  Each round runs every peer once, taking turns in a rotating order; the
median of the rounds is reported, with the best in brackets, and ratios against a named peer.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread, as torch.set_num_threads(1): before NumPy loads

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from machine import describe  # noqa: E402  (benchmarks/machine.py, beside this script)
from moons import make_moons  # noqa: E402  (the examples folder is not a package)

import autodiff_cli.tensor as T  # noqa: E402
from autodiff_cli.losses import hinge  # noqa: E402
from autodiff_cli.nn import MLP  # noqa: E402
from autodiff_cli.tensor import Tensor  # noqa: E402
from autodiff_cli.tensor.backends import available  # noqa: E402

try:
    from micrograd.engine import Value as MGValue
    from micrograd.nn import MLP as MGMLP
except ImportError:
    MGValue = MGMLP = None
try:
    import torch
except ImportError:
    torch = None
try:
    import numpy
except ImportError:
    numpy = None

SIZES = [2, 16, 16, 1]
SEED = 1
Pass = Callable[[], tuple[float, list[float]]]  # one pass: (loss, d loss / d first weight row)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


CHOSEN = ["python", "numpy"]  # --backend narrows it


def backends() -> list[str]:
    return [b for b in CHOSEN if b in available()]


# -- (a) the moons network, each engine in its own idiom -------------------------------------


def layers_of(model: MLP) -> list[tuple[list[list[float]], list[float]]]:
    """(rows of weights, one per neuron; biases) for each layer of our scalar MLP."""
    return [([[w.data for w in n.w] for n in layer], [n.b.data for n in layer]) for layer in model.layers]


def tensor_pass(backend: str, X: list, y: list, layers: list) -> Pass:
    x = Tensor(X, requires_grad=False, backend=backend)  # (100, 2)
    labels = Tensor(y, requires_grad=False, backend=backend)  # (100,)
    # W is (inputs, outputs): the transpose of the neurons' rows, so that a layer is x @ W + b
    params = [(Tensor([list(c) for c in zip(*w, strict=True)], backend=backend), Tensor(b, backend=backend))
              for w, b in layers]

    def one() -> tuple[float, list[float]]:
        h = x
        for k, (W, b) in enumerate(params):
            W.grad = b.grad = None
            h = h @ W + b
            if k < len(params) - 1:
                h = h.relu()
        loss = (1 - labels * h.reshape(len(y))).relu().mean()
        loss.backward()
        return loss.item(), [row[0] for row in params[0][0].grad.tolist()]

    return one


def scalar_pass(X: list, y: list) -> Pass:
    model = MLP(2, SIZES[1:], activation="relu", output_activation="linear", seed=SEED)

    def one() -> tuple[float, list[float]]:
        loss = hinge([model(p)[0] for p in X], y)
        model.zero_grad()
        loss.backward()
        return loss.data, [w.grad for w in model.layers[0].neurons[0].w]

    return one


def micrograd_pass(X: list, y: list, layers: list) -> Pass:
    model = MGMLP(2, SIZES[1:])  # relu neurons, the last layer linear
    for layer, (w, b) in zip(model.layers, layers, strict=True):
        for n, row, bias in zip(layer.neurons, w, b, strict=True):
            for v, value in zip(n.w, row, strict=True):
                v.data = value
            n.b.data = bias

    def one() -> tuple[float, list[float]]:
        scores = [model([MGValue(v) for v in p]) for p in X]  # a bare Value for one output
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
        loss = sum(losses) * (1.0 / len(losses))
        model.zero_grad()
        loss.backward()
        return loss.data, [w.grad for w in model.layers[0].neurons[0].w]

    return one


def torch_pass(X: list, y: list, layers: list) -> Pass:
    f64 = torch.float64
    x, labels = torch.tensor(X, dtype=f64), torch.tensor(y, dtype=f64)
    params = [(torch.tensor(w, dtype=f64).T.contiguous().requires_grad_(), torch.tensor(b, dtype=f64).requires_grad_())
              for w, b in layers]

    def one() -> tuple[float, list[float]]:
        h = x
        for k, (W, b) in enumerate(params):
            W.grad = b.grad = None
            h = h @ W + b
            if k < len(params) - 1:
                h = torch.relu(h)
        loss = torch.relu(1 - labels * h.reshape(len(y))).mean()
        loss.backward()
        return loss.item(), params[0][0].grad[:, 0].tolist()

    return one


# -- timing -------------------------------------------------------------------------------


def measure(runs: dict[str, Callable[[], object]], rounds: int, pause_gc: bool = False) -> dict[str, dict[str, float]]:
    """Median and best seconds of each peer over `rounds` rounds, peers taking turns in a rotating order.

    pause_gc: Python's cyclic garbage collector paused while each peer runs (its own work only).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            gc.collect()
            if pause_gc:
                gc.disable()
            try:
                t0 = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - t0)
            finally:
                gc.enable()
    return {name: {"median": statistics.median(ts), "best": min(ts)} for name, ts in times.items()}


def agree(results: dict[str, tuple[float, list[float]]], what: str) -> None:
    first, (loss, grad) = next(iter(results.items()))
    for name, (other_loss, other_grad) in results.items():
        close = abs(other_loss - loss) <= 1e-9 * max(1.0, abs(loss)) and all(
            abs(a - b) <= 1e-9 * max(1.0, abs(b)) for a, b in zip(other_grad, grad, strict=True))
        if not close:
            raise SystemExit(f"{what}: {name} computes {other_loss}, {other_grad}; {first} {loss}, {grad}")


def moons(rounds: int, notes: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    X, y = make_moons(100, noise=0.1, seed=SEED)
    layers = layers_of(MLP(2, SIZES[1:], activation="relu", output_activation="linear", seed=SEED))
    runs: dict[str, Pass] = {f"tensor ({b})": tensor_pass(b, X, y, layers) for b in backends()}
    runs["scalar engine"] = scalar_pass(X, y)
    if MGMLP is not None:
        runs["micrograd"] = micrograd_pass(X, y, layers)
    else:
        notes.append("micrograd is not installed (pip install '.[bench]'): its column is skipped")
    if torch is not None:
        runs["pytorch"] = torch_pass(X, y, layers)
    else:
        notes.append("torch is not installed (pip install torch==2.13.0, the CPU build): its column is skipped")
    if "numpy" in CHOSEN and "numpy" not in available():
        notes.append("NumPy is not installed (pip install '.[numpy]'): the numpy backend is skipped")
    agree({name: one() for name, one in runs.items()}, "moons")
    log(f"moons: the {len(runs)} engines agree; timing {rounds} rounds, then {rounds} with the collector paused")
    return {"garbage collector on (as users run)": measure(runs, rounds),
            "garbage collector paused": measure(runs, rounds, pause_gc=True)}


# -- (b) matmul forward and backward ------------------------------------------------------


def triple_loop(A: list[list[float]], B: list[list[float]]) -> list[list[float]]:
    """C[i][j] = sum over t of A[i][t] * B[t][j], three plain loops."""
    n, k, m = len(A), len(B), len(B[0])
    C = [[0.0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            s = 0.0
            for t in range(k):
                s += A[i][t] * B[t][j]
            C[i][j] = s
    return C


def transposed(A: list[list[float]]) -> list[list[float]]:
    return [list(col) for col in zip(*A, strict=True)]


def matmul(n: int, rounds: int) -> dict[str, dict[str, float]]:
    """The numpy pair (milliseconds) over 10 times more rounds than the Python pair (seconds)."""
    rngs = [random.Random(seed) for seed in (1, 2, 3)]
    rows = [[[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(n)] for rng in rngs]
    a, b, g = rows

    def tensor_mm(name: str) -> Callable[[], object]:
        A, B = Tensor(a, backend=name), Tensor(b, backend=name)
        G = Tensor(g, requires_grad=False, backend=name)

        def one() -> list:
            A.grad = B.grad = None
            (A @ B).backward(gradient=G)
            return [A.grad, B.grad]

        return one

    fast: dict[str, Callable[[], object]] = {}
    if "numpy" in backends():
        fast["tensor (numpy)"] = tensor_mm("numpy")
    if numpy is not None:
        na, nb, ng = (numpy.array(m) for m in rows)
        fast["numpy @ x3"] = lambda: [na @ nb, ng @ nb.T, na.T @ ng]
    slow: dict[str, Callable[[], object]] = {}
    if "python" in backends():
        slow["tensor (python)"] = tensor_mm("python")
    slow["triple loop x3"] = lambda: [triple_loop(a, b), triple_loop(g, transposed(b)), triple_loop(transposed(a), g)]
    log(f"matmul {n}x{n}: timing {rounds} rounds of the Python pair, {10 * rounds} of the NumPy pair")
    return {**measure(fast, 10 * rounds), **measure(slow, rounds)}


# -- (c) memory ---------------------------------------------------------------------------


def allocated(make: Callable[[], object]) -> tuple[int, object]:
    """Bytes allocated (and still held) by make(), and what it made (kept alive while measuring)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    made = make()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before, made


def memory(sizes: list[int]) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    for n in sizes:
        row: dict[str, float] = {}
        for name in backends():
            zeros, _ = allocated(lambda name=name, n=n: T.zeros(n, requires_grad=False, backend=name))
            x = T.zeros(n, requires_grad=False, backend=name)
            result, _ = allocated(lambda x=x: x + 1.0)  # an operation's output: what a graph holds per node
            row[f"zeros ({name})"] = zeros / n
            row[f"x + 1 ({name})"] = result / n
        floats, _ = allocated(lambda n=n: [float(i) for i in range(n)])
        row["list of floats"] = floats / n
        found[str(n)] = row
    log(f"memory: n = {', '.join(str(n) for n in sizes)}")
    return found


# -- the report ---------------------------------------------------------------------------


def table(title: str, results: dict[str, dict[str, float]], against: dict[str, str]) -> None:
    """One line per peer: median (best), and its ratio to the peers named in `against` (label: peer)."""
    print(title)
    for name, r in results.items():
        ratios = [f"{results[peer]['median'] / r['median']:.3g}x {label}" for label, peer in against.items()
                  if peer in results and peer != name]
        print(f"  {name:<16} {r['median'] * 1e3:10.2f} ms ({r['best'] * 1e3:.2f})   {', '.join(ratios)}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Tensors: moons pass, matmul, memory, against their peers.")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 rounds, 64x64 matmul, n up to 1e5")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of (a) (default 21; 3 with --quick)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the report")
    parser.add_argument("--backend", action="append", choices=["python", "numpy"],
                        help="time only this tensor backend (repeatable; default: both, where installed)")
    args = parser.parse_args(argv)
    if args.backend:
        CHOSEN[:] = args.backend
    rounds = args.rounds or (3 if args.quick else 21)
    size = 64 if args.quick else 256
    sizes = [1_000, 100_000] if args.quick else [1_000, 100_000, 1_000_000]
    if torch is not None:
        torch.set_num_threads(1)

    notes: list[str] = []
    doc = {
        "moons": moons(rounds, notes),
        "matmul": matmul(size, 3 if args.quick else 5),
        "memory": memory(sizes),
        "rounds": rounds, "matmul_size": size, "notes": notes,
        "machine": describe(("autodiff", "micrograd", "torch", "numpy")),
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    info = doc["machine"]
    print(f"{info['cpu']}, {info['cores']} cores, CPython {info['python']}, one thread; "
          "medians (best in brackets); a ratio is how many times faster than the peer named\n")
    peers = {"micrograd": "micrograd", "scalar engine": "scalar engine", "pytorch": "pytorch"}
    for setting, results in doc["moons"].items():
        table(f"(a) moons 2-16-16-1, 100 points: one forward + backward pass ({rounds} rounds, {setting})",
              results, peers)
    table(f"(b) {size}x{size} matmul, forward + backward", doc["matmul"],
          {"numpy @ x3": "numpy @ x3", "triple loop": "triple loop x3"})
    print("(c) bytes per element (tracemalloc)")
    for n, row in doc["memory"].items():
        print(f"  n = {int(n):>9,}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()))
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
