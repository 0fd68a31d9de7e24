"""Reductions: sum, mean, max, min and prod over all axes or some, each with its backward.

Every element of a reduced group receives the group's gradient times its own local
derivative: 1 for sum, 1/n for mean, the share of a tie for max and min, the product of
the other elements for prod.  The gradient arrives in the reduced shape; `_spread` puts it
back on the input's shape (the kept axes of size 1 broadcast over the group).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from ..errors import UsageError
from . import elementwise
from .shapes import normalise_axes
from .tensor import Array, Tensor, common, kernel, node

__all__ = ["max", "maximum", "mean", "min", "minimum", "prod", "sum"]

Axis = int | Sequence[int] | None


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if k in axes else n for k, n in enumerate(shape))


def _spread(node: Tensor, g: Array) -> Array:
    """The gradient of a reduction, from the reduced shape back onto every element of the input."""
    x = node.parents[0]
    axes = node.saved[0]
    b = node.backend
    return b.broadcast_to(b.reshape(g, _kept_shape(x.shape, axes)), x.shape)


def _reduce(op: str, x: Any, axis: Axis, keepdims: bool, backward: Any, extra: Any = None) -> Tensor:
    (x,), b = common([x])
    axes = normalise_axes(axis, x.ndim)
    out = getattr(b, op if op != "mean" else "sum")(x.array, axes, keepdims)
    if op == "mean":
        n = _count(x.shape, axes)
        if n == 0:
            raise UsageError(f"mean over no elements (shape {x.shape}) has no value")
        out = kernel(b, "div", out, b.full((), float(n)))
    return node(op, (x,), out, backward, (axes, extra))


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    n = 1
    for k in axes:
        n *= shape[k]
    return n


# -- sum and mean ----------------------------------------------------------------------------


def _sum_backward(node: Tensor, g: Array) -> list[Array]:
    return [_spread(node, g)]  # d sum / d x_i = 1: each element gets the gradient of its group


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The sum over all elements (axis=None), one axis or a tuple of axes; keepdims keeps them with size 1."""
    return _reduce("sum", x, axis, keepdims, _sum_backward)


def _mean_backward(node: Tensor, g: Array) -> list[Array]:
    b = node.backend
    n = _count(node.parents[0].shape, node.saved[0])
    return [_spread(node, kernel(b, "div", g, b.full((), float(n))))]  # d mean / d x_i = 1 / n


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The mean over all elements or some axes."""
    return _reduce("mean", x, axis, keepdims, _mean_backward)


# -- max and min -----------------------------------------------------------------------------


def _extreme_backward(node: Tensor, g: Array) -> list[Array]:
    """The gradient goes to the elements equal to the max (or min), split evenly among ties, as PyTorch's amax."""
    x = node.parents[0]
    axes = node.saved[0]
    b = node.backend
    best = b.reshape(node.array, _kept_shape(x.shape, axes))
    hit = b.compare("==", x.array, best)  # 1.0 at each element that is the extreme of its group
    ties = b.sum(hit, axes, True)  # how many share it (at least 1)
    share = kernel(b, "div", b.reshape(g, _kept_shape(x.shape, axes)), ties)
    return [kernel(b, "mul", hit, share)]


def _is_axis(value: Any) -> bool:
    """An axis argument (None, an int, a tuple of ints), not a second operand (a tensor, a float, a list)."""
    if isinstance(value, tuple):
        return builtins.all(isinstance(k, int) and not isinstance(k, bool) for k in value)
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _extreme(op: str, x: Any, args: tuple, axis: Axis, keepdims: bool) -> Tensor:
    if args and not _is_axis(args[0]):  # max(a, b, ...): the table's elementwise max
        return elementwise.apply(op, x, *args)
    if len(args) > 2:
        raise TypeError(f"{op}(x, axis, keepdims) takes at most 3 arguments")
    if args:
        axis = args[0]
        keepdims = args[1] if len(args) > 1 else keepdims
    (t,), _ = common([x])
    if any(t.shape[k] == 0 for k in normalise_axes(axis, t.ndim)):
        raise UsageError(f"{op} over an axis of size 0 has no value (shape {t.shape})")
    return _reduce(op, t, axis, keepdims, _extreme_backward)


def max(x: Any, *args: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The largest element (over all, or along axes: max(x, 1), max(x, axis=(0, 1), keepdims=True)).

    With another tensor or a number, max(a, b, ...) is the op table's elementwise max instead.
    Tied elements share the gradient evenly, as PyTorch's amax does.
    """
    return _extreme("max", x, args, axis, keepdims)


def min(x: Any, *args: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The smallest element, as max; min(a, b, ...) with tensors or numbers is the elementwise min."""
    return _extreme("min", x, args, axis, keepdims)


def maximum(a: Any, b: Any) -> Tensor:
    """The larger of a and b, elementwise (the op table's max, broadcast; a tie splits the gradient)."""
    return elementwise.apply("max", a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """The smaller of a and b, elementwise (the op table's min)."""
    return elementwise.apply("min", a, b)


# -- prod -------------------------------------------------------------------------------------


def _prod_backward(node: Tensor, g: Array) -> list[Array]:
    """d prod / d x_i is the product of the other elements of x_i's group, found without dividing by zero.

    With no zero in the group it is prod / x_i.  With exactly one zero, only that element has a
    nonzero derivative: the product of the others.  With two or more, every derivative is 0.
    """
    x = node.parents[0]
    axes = node.saved[0]
    b = node.backend
    zero, one = b.full((), 0.0), b.full((), 1.0)
    is_zero = b.compare("==", x.array, zero)
    zeros = b.sum(is_zero, axes, True)  # zeros per group
    safe = b.where(is_zero, one, x.array)  # the zeros replaced by 1
    others = b.prod(safe, axes, True)  # the product of the nonzero elements
    no_zero = kernel(b, "div", others, safe)  # prod / x_i, for groups without a zero
    one_zero = kernel(b, "mul", is_zero, others)  # at the zero, the product of the rest; elsewhere 0
    local = b.where(b.compare("==", zeros, zero), no_zero,
                    b.where(b.compare("==", zeros, one), one_zero, zero))
    return [kernel(b, "mul", local, b.reshape(g, _kept_shape(x.shape, axes)))]


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The product over all elements or some axes (correct at zeros in the backward too)."""
    return _reduce("prod", x, axis, keepdims, _prod_backward)
