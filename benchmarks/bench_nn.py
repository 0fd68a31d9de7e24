"""Benchmark one training epoch of the moons demo: autodiff_cli vs micrograd 0.1.0 vs PyTorch (0-dim tensors).

Run it from the repository after `pip install ".[bench]"` (and, for the PyTorch column,
`pip install torch==2.13.0`, the CPU build; without torch its column is skipped):

    python benchmarks/bench_nn.py              # readable report (progress goes to stderr)
    python benchmarks/bench_nn.py --json       # every figure as one JSON document
    python benchmarks/bench_nn.py --rounds 3   # a quick run

One epoch is micrograd's demo step: 100 moons points, an MLP 2-16-16-1 (relu, then a
linear score), the hinge loss plus 1e-4 * the sum of squared parameters, full batch:
forward, backward, and an SGD update of every parameter.  All three engines start
from the same weights, and the script checks that their losses agree before timing.

Each round runs one epoch per engine, taking turns in a rotating order; the median
(and the best) of the rounds are reported, with Python's garbage collector at its
default settings (as users run them) and paused for all (the engines' own work).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from machine import describe  # noqa: E402  (benchmarks/machine.py, beside this script)
from moons import make_moons  # noqa: E402  (the examples folder is not a package)

from autodiff_cli.losses import hinge, l2  # noqa: E402
from autodiff_cli.nn import MLP  # noqa: E402

try:
    from micrograd.engine import Value as MGValue
    from micrograd.nn import MLP as MGMLP
except ImportError:
    MGValue = MGMLP = None
try:
    import torch
except ImportError:
    torch = None

SIZES = [2, 16, 16, 1]
ALPHA = 1e-4
LR = 0.1
SEED = 1


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def weights_of(model: MLP) -> list[tuple[list[list[float]], list[float]]]:
    return [([[w.data for w in n.w] for n in layer], [n.b.data for n in layer]) for layer in model.layers]


# -- one epoch per engine, each written in its own library's idiom ---------------------------


def autodiff_epoch(X: list, y: list) -> Callable[[], float]:
    model = MLP(2, SIZES[1:], activation="relu", output_activation="linear", seed=SEED)
    params = model.parameters()

    def epoch() -> float:
        scores = [model(x)[0] for x in X]
        loss = hinge(scores, y) + l2(params, ALPHA)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= LR * p.grad
        return loss.data

    return epoch


def micrograd_epoch(X: list, y: list, weights: list) -> Callable[[], float]:
    model = MGMLP(2, SIZES[1:])  # relu neurons, the last layer linear: the demo's network
    for layer, (w, b) in zip(model.layers, weights, strict=True):
        for n, row, bias in zip(layer.neurons, w, b, strict=True):
            for v, value in zip(n.w, row, strict=True):
                v.data = value
            n.b.data = bias
    params = model.parameters()

    def epoch() -> float:
        scores = [model([MGValue(v) for v in x]) for x in X]  # micrograd returns a bare Value for one output
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
        loss = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in params)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= LR * p.grad
        return loss.data

    return epoch


def torch_epoch(X: list, y: list, weights: list) -> Callable[[], float]:
    layers = [
        ([[torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in row] for row in w],
         [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in b])
        for w, b in weights
    ]
    params = [p for w, _ in layers for row in w for p in row] + [p for _, b in layers for p in b]

    def forward(x: list) -> object:
        out = x
        for k, (w, b) in enumerate(layers):
            nxt = []
            for row, bias in zip(w, b, strict=True):
                act = bias
                for wi, xi in zip(row, out, strict=True):
                    act = act + wi * xi
                nxt.append(act if k == len(layers) - 1 else torch.relu(act))
            out = nxt
        return out[0]

    def epoch() -> float:
        scores = [forward(x) for x in X]
        losses = [torch.relu(1 - yi * si) for yi, si in zip(y, scores, strict=True)]
        loss = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss.item()

    return epoch


# -- timing ---------------------------------------------------------------------------


def measure(epochs: dict[str, Callable[[], float]], rounds: int, pause_gc: bool) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in epochs}
    names = list(epochs)
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            gc.collect()
            if pause_gc:
                gc.disable()
            try:
                t0 = time.perf_counter()
                epochs[name]()
                times[name].append(time.perf_counter() - t0)
            finally:
                gc.enable()
    return times


def machine() -> dict[str, object]:
    return describe(("autodiff", "micrograd", "torch"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One epoch of the moons demo: autodiff vs micrograd vs PyTorch.")
    parser.add_argument("--rounds", type=int, default=7, help="timed epochs per engine and setting (default 7)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the report")
    args = parser.parse_args(argv)

    X, y = make_moons(100, noise=0.1, seed=SEED)
    ours = autodiff_epoch(X, y)
    weights = weights_of(MLP(2, SIZES[1:], activation="relu", output_activation="linear", seed=SEED))
    epochs: dict[str, Callable[[], float]] = {"autodiff": ours}
    notes = []
    if MGMLP is not None:
        epochs["micrograd"] = micrograd_epoch(X, y, weights)
    else:
        notes.append("micrograd is not installed (pip install '.[bench]'): its column is skipped")
    if torch is not None:
        torch.set_num_threads(1)
        epochs["pytorch"] = torch_epoch(X, y, weights)
    else:
        notes.append("torch is not installed (pip install torch==2.13.0, the CPU build): its column is skipped")

    # the same computation: the first epoch's losses agree (and the second, after an update)
    check = {name: [f(), f()] for name, f in epochs.items()}
    for name, losses in check.items():
        for a, b in zip(losses, check["autodiff"], strict=True):
            if abs(a - b) > 1e-9 * max(1.0, abs(b)):
                raise SystemExit(f"{name} computes a different loss: {losses} vs {check['autodiff']}")
    log(f"losses agree: {check['autodiff']}; warming up done")

    results = {}
    for setting, pause in (("default", False), ("gc paused", True)):
        log(f"timing {args.rounds} rounds, garbage collector {setting}")
        times = measure(epochs, args.rounds, pause)
        results[setting] = {
            name: {"median": statistics.median(ts), "best": min(ts), "all": ts} for name, ts in times.items()
        }

    doc = {"epoch": "moons, 100 points, MLP 2-16-16-1, hinge + L2, full batch: forward, backward, SGD update",
           "rounds": args.rounds, "results": results, "machine": machine(), "notes": notes}
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    info = doc["machine"]
    print(f"{doc['epoch']}\n{info['cpu']}, {info['cores']} cores, CPython {info['python']}; "
          f"median of {args.rounds} rounds (best in brackets)\n")
    header = f"{'setting':<11}" + "".join(f"{name:>26}" for name in epochs)
    print(header)
    for setting, by_engine in results.items():
        base = by_engine["autodiff"]["median"]
        cells = []
        for name in epochs:
            r = by_engine[name]
            ratio = "" if name == "autodiff" else f" {r['median'] / base:.1f}x"
            cells.append(f"{r['median'] * 1e3:8.1f} ms ({r['best'] * 1e3:.1f}){ratio}")
        print(f"{setting:<11}" + "".join(f"{c:>26}" for c in cells))
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
