"""Making tensors: zeros, ones, full, arange, eye, and seeded random rand, randn and uniform.

Every constructor takes requires_grad= (True by default: a leaf tracks its gradient, as a
Value does) and backend= ("python", "numpy", or None for the one in force).  Random numbers
come from Python's random.Random(seed), not from the backend, so that both backends
get the same numbers for the same seed.
"""

from __future__ import annotations

import math
import random
from typing import Any

from ..errors import UsageError
from .backends import Backend
from .nested import number
from .shapes import shape_argument
from .tensor import Tensor, constant, resolve_backend

__all__ = ["arange", "eye", "full", "ones", "rand", "randn", "uniform", "zeros"]


def _sizes(shape: tuple) -> tuple[int, ...]:
    sizes = shape_argument(shape)
    if any(n < 0 for n in sizes):
        raise UsageError(f"a shape has sizes >= 0, not {sizes}")
    return sizes


def _leaf(values: list[float] | None, shape: tuple[int, ...], requires_grad: bool, backend: str | Backend | None,
          fill: float = 0.0) -> Tensor:
    b = resolve_backend(backend)
    array = b.full(shape, fill) if values is None else b.from_flat(values, shape)
    t = constant(array, b)
    t.requires_grad = requires_grad
    return t


def zeros(*shape: Any, requires_grad: bool = True, backend: str | Backend | None = None) -> Tensor:
    """A tensor of zeros: zeros(2, 3) or zeros((2, 3))."""
    return _leaf(None, _sizes(shape), requires_grad, backend)


def ones(*shape: Any, requires_grad: bool = True, backend: str | Backend | None = None) -> Tensor:
    """A tensor of ones: ones(2, 3) or ones((2, 3))."""
    return _leaf(None, _sizes(shape), requires_grad, backend, 1.0)


def full(shape: Any, value: float, requires_grad: bool = True, backend: str | Backend | None = None) -> Tensor:
    """A tensor of one value: full((2, 3), 0.5)."""
    return _leaf(None, _sizes((shape,)), requires_grad, backend, number(value))


def arange(start: float, stop: float | None = None, step: float = 1.0, requires_grad: bool = True,
           backend: str | Backend | None = None) -> Tensor:
    """0, 1, ..., n - 1 for arange(n); start, start + step, ... below stop for arange(start, stop, step)."""
    if stop is None:
        start, stop = 0.0, start
    start, stop, step = number(start), number(stop), number(step)
    if step == 0:
        raise UsageError("arange: the step cannot be 0")
    n = max(0, math.ceil((stop - start) / step))
    return _leaf([start + k * step for k in range(n)], (n,), requires_grad, backend)


def eye(n: int, requires_grad: bool = True, backend: str | Backend | None = None) -> Tensor:
    """The n x n identity matrix."""
    (n,) = _sizes((n,))
    return _leaf([1.0 if i == j else 0.0 for i in range(n) for j in range(n)], (n, n), requires_grad, backend)


def _generator(seed: int | random.Random | None) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(seed)


def _count(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def rand(*shape: Any, seed: int | random.Random | None = None, requires_grad: bool = True,
         backend: str | Backend | None = None) -> Tensor:
    """Uniform numbers in [0, 1): rand(2, 3, seed=0).  seed: an int (runs repeat), a random.Random, or None."""
    sizes = _sizes(shape)
    r = _generator(seed)
    return _leaf([r.random() for _ in range(_count(sizes))], sizes, requires_grad, backend)


def randn(*shape: Any, seed: int | random.Random | None = None, requires_grad: bool = True,
          backend: str | Backend | None = None) -> Tensor:
    """Normally distributed numbers (mean 0, standard deviation 1): randn(2, 3, seed=0)."""
    sizes = _sizes(shape)
    r = _generator(seed)
    return _leaf([r.gauss(0.0, 1.0) for _ in range(_count(sizes))], sizes, requires_grad, backend)


def uniform(shape: Any, low: float = 0.0, high: float = 1.0, seed: int | random.Random | None = None,
            requires_grad: bool = True, backend: str | Backend | None = None) -> Tensor:
    """Uniform numbers in [low, high): uniform((2, 3), -1, 1, seed=0)."""
    sizes = _sizes((shape,))
    low, high = number(low), number(high)
    if not low <= high:
        raise UsageError(f"uniform: low {low} is above high {high}")
    r = _generator(seed)
    return _leaf([low + (high - low) * r.random() for _ in range(_count(sizes))], sizes, requires_grad, backend)
