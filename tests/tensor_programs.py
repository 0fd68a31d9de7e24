"""Random tensor programs for the property tests (test_tensor_properties.py) and the PyTorch oracle
(test_tensor_torch.py): where each table function is defined, shapes that broadcast, and running a
program on a backend to get its values and gradients.

A program is a function of Tensors (or, for the oracle, of torch tensors) returning one tensor; it is
run on leaves built from flat values and shapes, and its output is reduced to a number with fixed
weights (sum(out * W)), so that every element of every gradient is tested, not only their sum.
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Callable, Sequence

from hypothesis import strategies as st

import autodiff_cli.tensor as T
from autodiff_cli.ops import TABLE
from autodiff_cli.tensor import Tensor, no_grad
from autodiff_cli.tensor.backends import available

BACKENDS = available()
HAS_NUMPY = "numpy" in BACKENDS

# Where each argument may be drawn from so that the function and its derivative exist, away from the
# domain's edges (finite differences need room on both sides).  Functions not named: (-2, 2).
DOMAIN: dict[str, tuple[tuple[float, float], ...]] = {
    "div": ((-2.0, 2.0), (0.5, 2.0)),
    "pow": ((0.5, 2.0), (-2.0, 2.0)),
    "log": ((0.2, 3.0),), "log2": ((0.2, 3.0),), "log10": ((0.2, 3.0),), "sqrt": ((0.2, 3.0),),
    "log1p": ((-0.8, 2.0),), "cbrt": ((0.2, 2.0),),
    "tan": ((-1.2, 1.2),), "sec": ((-1.2, 1.2),), "csc": ((0.2, 2.8),), "cot": ((0.2, 2.8),),
    "asin": ((-0.9, 0.9),), "acos": ((-0.9, 0.9),), "atanh": ((-0.9, 0.9),), "acosh": ((1.2, 3.0),),
    "hypot": ((0.1, 2.0), (-2.0, 2.0)), "atan2": ((0.1, 2.0), (-2.0, 2.0)),  # away from (0, 0) and the cut
    "leaky_relu": ((-2.0, 2.0), (0.01, 0.5)),
}
# Where the derivative jumps: finite differences are moved off these points.
KINKS = {"relu": 0.0, "abs": 0.0, "sign": 0.0, "step": 0.0, "leaky_relu": 0.0}
STEPS = {"floor", "ceil"}  # kinks at every integer
UNARY = [op.name for op in TABLE if op.arity == 1]
BINARY = [op.name for op in TABLE if op.arity == 2]
# A continuous derivative, but a jump in the second one at 0 (softsign'' goes from 2 to -2, elu'' from 1 to 0):
# a central difference across 0 is off by about h/4 times the jump, which a chain of them amplifies past the
# FD tolerance (softsign(softsign(.)) at 0: 2.7e-6).  Tested alone (UNARY), not in chains.
ROUGH = {"softsign", "elu"}
# Smooth everywhere in their domain: what random chains are made of.
SMOOTH = [name for name in UNARY if name not in KINKS and name not in STEPS and name not in ROUGH]

OPERATORS: dict[str, Callable] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "neg": operator.neg, "pow": operator.pow,
}


def domain(name: str, arg: int = 0) -> tuple[float, float]:
    ranges = DOMAIN.get(name)
    return ranges[arg] if ranges else (-2.0, 2.0)


def call(name: str, *args: Tensor) -> Tensor:
    """The table function `name` on tensors: the operator for + - * / ** and unary -, else T.<name>."""
    if name in OPERATORS:
        return OPERATORS[name](*args)
    return getattr(T, name)(*args)


def off_kinks(name: str, values: list[float]) -> list[float]:
    """The values moved 0.01 away from where `name`'s derivative jumps (for finite differences)."""
    moved = []
    for v in values:
        if name in KINKS and abs(v - KINKS[name]) < 1e-3:
            v = KINKS[name] + 0.01
        elif name in STEPS and abs(v - round(v)) < 1e-3:
            v = round(v) + 0.01
        moved.append(v)
    return moved


# -- shapes and values ------------------------------------------------------------------------


def size(shape: Sequence[int]) -> int:
    return math.prod(shape)


def nest(flat: Sequence[float], shape: Sequence[int]) -> object:
    """Flat row-major values as nested lists of this shape (a bare number for shape ())."""
    if not shape:
        return flat[0]
    step = size(shape[1:])
    return [nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def flatten(nested: object) -> list[float]:
    if isinstance(nested, list):
        return [x for item in nested for x in flatten(item)]
    return [float(nested)]


shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_shapes(draw: st.DrawFn, count: int = 2) -> list[tuple[int, ...]]:
    """`count` shapes that broadcast together: suffixes of one shape, some sizes replaced by 1."""
    full = draw(shapes)
    found = []
    for _ in range(count):
        drop = draw(st.integers(0, len(full)))
        found.append(tuple(1 if draw(st.booleans()) else n for n in full[drop:]))
    return found


def values(lo: float, hi: float, n: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(lo, hi, exclude_min=True, exclude_max=True), min_size=n, max_size=n)


# -- running a program -------------------------------------------------------------------------

Inputs = list[tuple[list[float], tuple[int, ...]]]


def weights_for(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0.5, 1.5) * rng.choice((-1, 1)) for _ in range(n)]


def run(program: Callable[..., Tensor], inputs: Inputs, backend: str, seed: int = 0) -> tuple[list, list]:
    """(the output's values, each input's gradient of sum(out * W)), all flat lists of floats."""
    leaves = [Tensor(nest(v, s), backend=backend) for v, s in inputs]
    out = program(*leaves)
    W = Tensor(nest(weights_for(out.size, seed), out.shape), requires_grad=False, backend=backend)
    (out * W).sum().backward()
    grads = [flatten(leaf.grad.tolist()) if leaf.grad is not None else [0.0] * leaf.size for leaf in leaves]
    return flatten(out.tolist()), grads


def loss(program: Callable[..., Tensor], inputs: Inputs, backend: str, seed: int = 0) -> float:
    with no_grad():
        leaves = [Tensor(nest(v, s), backend=backend) for v, s in inputs]
        out = program(*leaves)
        return math.fsum(a * w for a, w in zip(flatten(out.tolist()), weights_for(out.size, seed), strict=True))


def finite_differences(program: Callable[..., Tensor], inputs: Inputs, backend: str, seed: int = 0) -> list:
    """Central differences of sum(out * W) by every input element, step 1e-6 * max(1, |x|)."""
    grads = []
    for k, (flat, shape) in enumerate(inputs):
        g = []
        for i, x in enumerate(flat):
            h = 1e-6 * max(1.0, abs(x))
            up = [*inputs[:k], ([*flat[:i], x + h, *flat[i + 1:]], shape), *inputs[k + 1:]]
            down = [*inputs[:k], ([*flat[:i], x - h, *flat[i + 1:]], shape), *inputs[k + 1:]]
            g.append((loss(program, up, backend, seed) - loss(program, down, backend, seed)) / (2 * h))
        grads.append(g)
    return grads


def close(a: Sequence[float], b: Sequence[float], rel: float, absolute: float = 0.0) -> bool:
    """Elementwise |a - b| <= rel * max(1, |a|, |b|, the largest |b|) + absolute: a few ulps of the scale."""
    if len(a) != len(b):
        return False
    scale = max([1.0, *map(abs, b)])
    return all(abs(x - y) <= rel * max(scale, abs(x)) + absolute for x, y in zip(a, b, strict=True))
