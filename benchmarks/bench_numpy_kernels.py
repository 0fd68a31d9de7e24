"""The NumPy backend's cost per kernel call against the NumPy expression it runs, on the moons network's arrays.

    python benchmarks/bench_numpy_kernels.py            # (100, 16) arrays, as in the moons network
    python benchmarks/bench_numpy_kernels.py 256 256    # another shape

Each line times one backend call and the bare NumPy it amounts to, in the same run; the difference
is what the backend adds (the table lookup, NumPy's warnings turned off, the look for inf and NaN,
the domain test).  The best of many short samples (a shared machine's noise only ever adds time).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread, as the other benchmarks

import math
import sys
import timeit

import numpy as np

from autodiff_cli import ops
from autodiff_cli.tensor.backends import get


def best(f, number: int = 200, repeat: int = 40) -> float:
    """Microseconds per call: the best of `repeat` samples of `number` calls."""
    return min(timeit.repeat(f, number=number, repeat=repeat)) / number * 1e6


def sigmoid(x: np.ndarray) -> np.ndarray:  # what numpy_rules.forward_source("sigmoid") runs
    t = np.exp(x)
    return np.where(x >= 0.0, 1.0 / (1.0 + np.exp(-x)), t / (1.0 + t))


def sech(x: np.ndarray) -> np.ndarray:  # numpy_rules.forward_source("sech")
    t = np.exp(-np.abs(x))
    return 2.0 * t / (1.0 + t * t)


def main() -> None:
    shape = tuple(int(a) for a in sys.argv[1:]) or (100, 16)
    B, table = get("numpy"), ops.OPS
    rng = np.random.default_rng(0)
    x, y, g = (rng.standard_normal(shape) for _ in range(3))
    pos = np.abs(x) + 0.5
    row = rng.standard_normal(shape[-1:])
    w = rng.standard_normal((shape[-1], shape[-1]))
    two = np.array(2.0)
    out = np.tanh(x)
    pairs = [
        ("apply add (row broadcast)", lambda: x + row, lambda: B.apply(table["add"], (x, row))),
        ("apply mul", lambda: x * y, lambda: B.apply(table["mul"], (x, y))),
        ("apply relu", lambda: np.where(x > 0.0, x, 0.0), lambda: B.apply(table["relu"], (x,))),
        ("apply tanh", lambda: np.tanh(x), lambda: B.apply(table["tanh"], (x,))),
        ("apply log (domain test)", lambda: np.log(pos), lambda: B.apply(table["log"], (pos,))),
        ("apply pow x**2 (domain test)", lambda: np.power(x, two), lambda: B.apply(table["pow"], (x, two))),
        ("apply sigmoid (two branches)", lambda: sigmoid(x), lambda: B.apply(table["sigmoid"], (x,))),
        ("derivative add (g itself)", lambda: g, lambda: B.derivative(table["add"], 0, (x, y), x, g)),
        ("derivative mul", lambda: g * y, lambda: B.derivative(table["mul"], 0, (x, y), x, g)),
        ("derivative relu", lambda: g * (x > 0.0).astype(np.float64),
         lambda: B.derivative(table["relu"], 0, (x,), x, g)),
        ("derivative tanh (sech(x)**2)", lambda: g * sech(x) ** 2.0,
         lambda: B.derivative(table["tanh"], 0, (x,), out, g)),
        ("sum over axis 0", lambda: np.add.reduce(x, axis=0), lambda: B.sum(x, (0,), False)),
        ("matmul x @ w", lambda: x @ w, lambda: B.matmul(x, w)),
    ]
    print(f"NumPy {np.__version__}, arrays of shape {shape}: microseconds per call (best of 40 x 200)")
    print(f"  {'kernel':32s} {'NumPy':>8s} {'backend':>8s} {'added':>7s}")
    for label, bare, ours in pairs:
        a, o = best(bare), best(ours)
        print(f"  {label:32s} {a:8.2f} {o:8.2f} {o - a:7.2f}")
    from autodiff_cli.tensor.backends.numpy_backend import _loud, _quiet

    def errstate() -> None:
        with np.errstate(all="ignore"):
            pass

    print("  what the backend adds, in parts:")
    print(f"    with np.errstate(all='ignore'): pass    {best(errstate):6.2f}")

    print(f"    the backend's _quiet() / _loud()        {best(lambda: _loud(_quiet())):6.2f}")
    print(f"    finite test, sum of squares (BLAS dot)  {best(lambda: B._all_finite(x)):6.2f}")
    print(f"    np.isfinite(r).all()                    {best(lambda: bool(np.isfinite(x).all())):6.2f}")
    print(f"    math.isfinite(np.add.reduce(r, None))   {best(lambda: math.isfinite(np.add.reduce(x, None))):6.2f}")


if __name__ == "__main__":
    main()
