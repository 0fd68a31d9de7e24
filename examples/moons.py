"""The two-moons classifier of micrograd's demo, on autodiff_cli's engine.

100 points in two interleaving half circles, an MLP 2-16-16-1 (relu, then a linear
score), the max-margin (hinge) loss with L2 regularisation, and full-batch SGD
whose learning rate decays from 1.0 to 0.1.  It reaches 100% training accuracy.

    python examples/moons.py                 # train, print progress and a picture
    python examples/moons.py --steps 20      # fewer steps
    python examples/moons.py --csv moons.csv # only write the data set (x1,x2,label) for `autodiff train`

The moons are generated here in plain Python (no scikit-learn): the upper half
circle of radius 1 centred at (0, 0) and the lower one centred at (1, 0.5), with
Gaussian noise, as sklearn.datasets.make_moons draws them.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys

from autodiff_cli.losses import hinge, l2
from autodiff_cli.nn import MLP
from autodiff_cli.optim import SGD


def make_moons(n=100, noise=0.1, seed=1):
    """n points (x, y) and labels -1 / +1: the top moon is -1, the bottom moon +1."""
    rng = random.Random(seed)
    n_top = n // 2
    n_bottom = n - n_top
    points, labels = [], []
    for i in range(n_top):
        t = math.pi * i / (n_top - 1)
        points.append([math.cos(t), math.sin(t)])
        labels.append(-1)
    for i in range(n_bottom):
        t = math.pi * i / (n_bottom - 1)
        points.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        labels.append(1)
    for p in points:
        p[0] += rng.gauss(0.0, noise)
        p[1] += rng.gauss(0.0, noise)
    order = list(range(n))
    rng.shuffle(order)
    return [points[i] for i in order], [labels[i] for i in order]


def train(steps=100, seed=1, log=print):
    X, y = make_moons(100, noise=0.1, seed=seed)
    model = MLP(2, [16, 16, 1], activation="relu", output_activation="linear", seed=seed)
    opt = SGD(model.parameters(), lr=1.0)
    accuracy = 0.0
    # Value graphs hold no reference cycles, so reference counting frees each one; pausing
    # Python's cyclic collector spares it rescanning every node of the graph (3x faster).
    gc.disable()
    try:
        for k in range(steps):
            accuracy = step(model, opt, X, y, k, steps, log)
    finally:
        gc.enable()
    return model, X, y, accuracy


def step(model, opt, X, y, k, steps, log):
    """One full-batch step: forward, loss, backward, update; returns the accuracy before the update."""
    scores = [model(x)[0] for x in X]
    loss = hinge(scores, y) + l2(model.parameters(), 1e-4)
    accuracy = sum((s.data > 0) == (yi > 0) for s, yi in zip(scores, y, strict=True)) / len(y)
    opt.zero_grad()
    loss.backward()
    opt.lr = 1.0 - 0.9 * k / steps  # decay from 1.0 towards 0.1
    opt.step()
    if k % 10 == 0 or k == steps - 1:
        log(f"step {k:3d}  loss {loss.data:.6f}  accuracy {accuracy:.0%}")
    return accuracy


def picture(model, X, y, width=48, height=18):
    """The decision regions in characters (. for -1, : for +1) with the points (o for -1, x for +1)."""
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    x0, x1, y0, y1 = min(xs) - 0.25, max(xs) + 0.25, min(ys) - 0.25, max(ys) + 0.25
    grid = [[" "] * width for _ in range(height)]
    for r in range(height):
        for c in range(width):
            px = x0 + (c + 0.5) * (x1 - x0) / width
            py = y1 - (r + 0.5) * (y1 - y0) / height
            grid[r][c] = ":" if model([px, py])[0].data > 0 else "."
    for (px, py), label in zip(X, y, strict=True):
        c = min(width - 1, int((px - x0) / (x1 - x0) * width))
        r = min(height - 1, int((y1 - py) / (y1 - y0) * height))
        grid[r][c] = "x" if label > 0 else "o"
    return "\n".join("".join(row) for row in grid)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the data and the initial weights")
    parser.add_argument("--csv", metavar="PATH", help="write the data set as CSV (x1,x2,label) and stop")
    args = parser.parse_args(argv)
    if args.csv:
        X, y = make_moons(100, noise=0.1, seed=args.seed)
        with open(args.csv, "w", encoding="utf-8") as f:
            f.write("x1,x2,label\n")
            for (a, b), label in zip(X, y, strict=True):
                f.write(f"{a!r},{b!r},{'bottom' if label > 0 else 'top'}\n")
        return 0
    model, X, y, accuracy = train(args.steps, args.seed)
    print(picture(model, X, y))
    print(f"training accuracy {accuracy:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
