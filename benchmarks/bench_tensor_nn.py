"""Benchmark training epochs through the tensor networks (autodiff_cli.tensor.nn, losses, optim) against their peers.

Run it from the repository after `pip install -e ".[bench,numpy]"` (and, for the PyTorch column,
`pip install torch==2.13.0`, the CPU build; scikit-learn for the real digits; a peer that is not
installed is skipped with a note):

    python benchmarks/bench_tensor_nn.py            # both reports (a few minutes)
    python benchmarks/bench_tensor_nn.py --quick    # a smoke run: 3 rounds
    python benchmarks/bench_tensor_nn.py --json     # every figure as one JSON document

(a) One epoch of micrograd's moons demo: 100 points, an MLP 2-16-16-1 (relu hidden layers, a linear
score), the hinge loss mean(relu(1 - y * score)), full batch; forward, backward and an SGD step
(lr 0.1) with the demo's L2 penalty 1e-4 * sum(p^2): weight_decay 2e-4 in optim.SGD and torch.optim.SGD,
the same update as micrograd's penalty term in its graph.  Peers: the tensor nn on the numpy and the
python backend, micrograd 0.1.0, PyTorch float64 (torch.nn.Sequential, torch.optim.SGD).
(b) One epoch of a digits classifier: 64-128-10, tanh, cross-entropy, Adam (lr 0.01), batches of 128
over 1,437 rows (scikit-learn's load_digits, the first 1,437 of a seeded shuffle, pixels / 16;
random data of that shape where scikit-learn is missing, said in the report).  Peers: the tensor nn
on both backends and PyTorch float64.  micrograd would build some 30 million nodes: left out.

Every peer starts from the same weights (our seeded MLP's, copied), and the script checks that their
parameters agree (to 1e-9) after two epochs before timing.  One thread everywhere:
torch.set_num_threads(1), OPENBLAS/MKL/OMP_NUM_THREADS=1 set before NumPy loads.  Each round runs
every peer once, in a rotating order; the median of the rounds is reported (the best in brackets),
with Python's garbage collector on (as users run them) and paused (each engine's own work).
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
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from machine import describe  # noqa: E402  (benchmarks/machine.py, beside this script)
from moons import make_moons  # noqa: E402  (the examples folder is not a package)

from autodiff_cli.tensor import Tensor, available, losses, nn, optim  # noqa: E402

try:
    from micrograd.engine import Value as MGValue
    from micrograd.nn import MLP as MGMLP
except ImportError:
    MGValue = MGMLP = None
try:
    import torch
except ImportError:
    torch = None

SEED = 1
ALPHA = 1e-4  # the moons demo's L2 penalty: alpha * sum(p^2), whose gradient is weight decay 2 * alpha
LR = 0.1
Epoch = Callable[[], None]
Params = Callable[[], list[float]]  # every parameter's values, flattened, in PyTorch's order


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def flat(nested: object) -> list[float]:
    if isinstance(nested, list):
        return [v for item in nested for v in flat(item)]
    return [float(nested)]


# -- (a) the moons demo, one epoch per engine in its own idiom ---------------------------------


def tensor_moons(backend: str, X: list, y: list, state: dict) -> tuple[Epoch, Params]:
    x = Tensor(X, requires_grad=False, backend=backend)
    labels = Tensor(y, requires_grad=False, backend=backend)
    model = nn.MLP(2, [16, 16, 1], activation="relu", backend=backend)
    model.load_state_dict(state)
    opt = optim.SGD(model.parameters(), lr=LR, weight_decay=2 * ALPHA)

    def epoch() -> None:
        opt.zero_grad()
        losses.hinge(model(x).reshape(-1), labels).backward()
        opt.step()

    return epoch, lambda: flat(list(model.state_dict().values()))


def micrograd_moons(X: list, y: list, state: dict) -> tuple[Epoch, Params]:
    model = MGMLP(2, [16, 16, 1])  # relu neurons, the last layer linear: the demo's network
    for k, layer in enumerate(model.layers):
        for n, row, bias in zip(layer.neurons, state[f"{2 * k}.weight"], state[f"{2 * k}.bias"], strict=True):
            for v, value in zip(n.w, row, strict=True):
                v.data = value
            n.b.data = bias
    params = model.parameters()

    def epoch() -> None:
        scores = [model([MGValue(v) for v in p]) for p in X]  # a bare Value for one output
        hinge = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
        loss = sum(hinge) * (1.0 / len(hinge)) + ALPHA * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= LR * p.grad

    def values() -> list[float]:
        out = []
        for layer in model.layers:
            out += [w.data for n in layer.neurons for w in n.w] + [n.b.data for n in layer.neurons]
        return out

    return epoch, values


def torch_model(sizes: list[int], activation: Callable[[], object], state: dict) -> object:
    modules = []
    for k in range(len(sizes) - 1):
        modules.append(torch.nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            modules.append(activation())
    model = torch.nn.Sequential(*modules).double()
    model.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in state.items()})
    return model


def torch_values(model: object) -> Params:
    return lambda: [v for p in model.state_dict().values() for v in p.reshape(-1).tolist()]


def torch_moons(X: list, y: list, state: dict) -> tuple[Epoch, Params]:
    x, labels = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    model = torch_model([2, 16, 16, 1], torch.nn.ReLU, state)
    opt = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=2 * ALPHA)

    def epoch() -> None:
        opt.zero_grad()
        torch.relu(1 - labels * model(x).reshape(-1)).mean().backward()
        opt.step()

    return epoch, torch_values(model)


# -- (b) the digits classifier ---------------------------------------------------------------


def digits_data(notes: list[str]) -> tuple[list[list[float]], list[int], str]:
    """1,437 rows of 64 pixels in [0, 1] and their classes: scikit-learn's digits, or random data of that shape."""
    rng = random.Random(SEED)
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        notes.append("scikit-learn is not installed: (b) runs on random data of the digits' shape (1,437 x 64, "
                     "10 classes); the timing is the same, there is nothing to learn")
        return ([[rng.random() for _ in range(64)] for _ in range(1437)], [rng.randrange(10) for _ in range(1437)],
                "random data of the digits' shape")
    digits = load_digits()
    order = list(range(len(digits.target)))
    rng.shuffle(order)
    rows = order[:1437]
    return ([[float(v) / 16.0 for v in digits.data[k]] for k in rows], [int(digits.target[k]) for k in rows],
            "scikit-learn's load_digits")


BATCH = 128


def batches(n: int) -> list[tuple[int, int]]:
    return [(start, min(start + BATCH, n)) for start in range(0, n, BATCH)]


def tensor_digits(backend: str, X: list, y: list, state: dict) -> tuple[Epoch, Params]:
    parts = [(Tensor(X[a:b], requires_grad=False, backend=backend), Tensor([float(c) for c in y[a:b]],
              requires_grad=False, backend=backend)) for a, b in batches(len(X))]
    model = nn.MLP(64, [128, 10], activation="tanh", backend=backend)
    model.load_state_dict(state)
    opt = optim.Adam(model.parameters(), lr=0.01)

    def epoch() -> None:
        for xb, yb in parts:
            opt.zero_grad()
            losses.cross_entropy(model(xb), yb).backward()
            opt.step()

    return epoch, lambda: flat(list(model.state_dict().values()))


def torch_digits(X: list, y: list, state: dict) -> tuple[Epoch, Params]:
    parts = [(torch.tensor(X[a:b], dtype=torch.float64), torch.tensor(y[a:b])) for a, b in batches(len(X))]
    model = torch_model([64, 128, 10], torch.nn.Tanh, state)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    cross_entropy = torch.nn.functional.cross_entropy

    def epoch() -> None:
        for xb, yb in parts:
            opt.zero_grad()
            cross_entropy(model(xb), yb).backward()
            opt.step()

    return epoch, torch_values(model)


# -- timing -------------------------------------------------------------------------------


def measure(runs: dict[str, Epoch], rounds: int, pause_gc: bool = False) -> dict[str, dict[str, float]]:
    """Median and best seconds of each peer over `rounds` rounds, peers taking turns in a rotating order."""
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


def agree(peers: dict[str, tuple[Epoch, Params]], what: str) -> None:
    """Two epochs each, then every parameter equal to the first peer's (to 1e-9): the same computation."""
    found = {}
    for name, (epoch, values) in peers.items():
        epoch()
        epoch()
        found[name] = values()
    first, ref = next(iter(found.items()))
    for name, vals in found.items():
        worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(vals, ref, strict=True))
        if worst > 1e-9:
            raise SystemExit(f"{what}: {name} and {first} differ by {worst:.3g} after two epochs")


def report(peers: dict[str, tuple[Epoch, Params]], rounds: int, what: str) -> dict[str, dict[str, dict[str, float]]]:
    agree(peers, what)
    runs = {name: epoch for name, (epoch, _) in peers.items()}
    log(f"{what}: the {len(runs)} peers agree; timing {rounds} rounds, then {rounds} with the collector paused")
    return {"garbage collector on (as users run)": measure(runs, rounds),
            "garbage collector paused": measure(runs, rounds, pause_gc=True)}


def backends() -> list[str]:
    return [b for b in ("numpy", "python") if b in available()]


def moons(rounds: int, notes: list[str]) -> dict:
    X, y = make_moons(100, noise=0.1, seed=SEED)
    state = nn.MLP(2, [16, 16, 1], activation="relu", seed=SEED, backend="python").state_dict()
    peers = {f"tensor nn ({b})": tensor_moons(b, X, y, state) for b in backends()}
    if MGMLP is not None:
        peers["micrograd"] = micrograd_moons(X, y, state)
    else:
        notes.append("micrograd is not installed (pip install '.[bench]'): its column is skipped")
    if torch is not None:
        peers["pytorch"] = torch_moons(X, y, state)
    return report(peers, rounds, "moons")


def digits(rounds: int, notes: list[str]) -> tuple[dict, str]:
    X, y, source = digits_data(notes)
    state = nn.MLP(64, [128, 10], activation="tanh", seed=SEED, backend="python").state_dict()
    peers = {f"tensor nn ({b})": tensor_digits(b, X, y, state) for b in backends()}
    if torch is not None:
        peers["pytorch"] = torch_digits(X, y, state)
    return report(peers, rounds, "digits"), source


def table(title: str, results: dict[str, dict[str, float]], against: list[str]) -> None:
    print(title)
    for name, r in results.items():
        ratios = [f"{results[peer]['median'] / r['median']:.3g}x {peer}" for peer in against
                  if peer in results and peer != name]
        print(f"  {name:<20} {r['median'] * 1e3:10.2f} ms ({r['best'] * 1e3:.2f})   {', '.join(ratios)}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Training epochs through the tensor nn, against their peers.")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of each report (default 11; 3 with --quick)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the report")
    parser.add_argument("--only", choices=["moons", "digits"], help="run one of the two reports")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 11)
    notes: list[str] = []
    if torch is not None:
        torch.set_num_threads(1)
    else:
        notes.append("torch is not installed (pip install torch==2.13.0, the CPU build): its column is skipped")
    if "numpy" not in available():
        notes.append("NumPy is not installed (pip install '.[numpy]'): the numpy backend is skipped")
    doc: dict = {"rounds": rounds, "notes": notes}
    if args.only != "digits":
        doc["moons"] = moons(rounds, notes)
    if args.only != "moons":
        doc["digits"], doc["digits_data"] = digits(rounds, notes)
    doc["machine"] = describe(("autodiff", "micrograd", "torch", "numpy", "scikit-learn"))
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    info = doc["machine"]
    print(f"{info['cpu']}, {info['cores']} cores, CPython {info['python']}, one thread; "
          "medians (best in brackets); a ratio is how many times faster than the peer named\n")
    for setting, results in doc.get("moons", {}).items():
        table(f"(a) moons epoch, 2-16-16-1 relu, hinge, SGD, 100 points ({rounds} rounds, {setting})", results,
              ["micrograd", "pytorch"])
    for setting, results in doc.get("digits", {}).items():
        table(f"(b) digits epoch, 64-128-10 tanh, cross-entropy, Adam, 12 batches of up to 128 from 1,437 rows "
              f"({doc['digits_data']}; {rounds} rounds, {setting})", results, ["pytorch", "tensor nn (python)"])
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
