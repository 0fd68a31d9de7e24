"""softmax, log_softmax and logsumexp along an axis: numerically stable, each one node with its own backward.

Stable: the largest element m of each slice is subtracted before exp (exp(x - m) <= 1
never overflows), and added back after the log: logsumexp(x) = m + log(sum(exp(x - m))).

The backward steps are the Jacobians worked out by hand, applied to the gradient g
without ever forming the Jacobian (n x n per slice):

- logsumexp: d/dx_i = exp(x_i - out) = softmax(x)_i, so the gradient is g * softmax.
- softmax s: ds_i/dx_j = s_i (delta_ij - s_j), so (J^T g)_j = s_j (g_j - sum_i g_i s_i).
- log_softmax o = x - logsumexp(x): (J^T g)_j = g_j - exp(o_j) sum_i g_i.
"""

from __future__ import annotations

from typing import Any

from .shapes import axis_index, normalise_axes
from .tensor import Array, Tensor, common, kernel, node

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _shifted(b: Any, x: Array, axes: tuple[int, ...]) -> tuple[Array, Array]:
    """x - max(x) over the axes (every element <= 0: its exp cannot overflow), and that max (axes kept)."""
    m = b.max(x, axes, True)
    return kernel(b, "sub", x, m), m


def _log_sum_exp_kept(b: Any, x: Array, axes: tuple[int, ...]) -> Array:
    """log(sum(exp(x))) over the axes, kept with size 1, computed as m + log(sum(exp(x - m)))."""
    shifted, m = _shifted(b, x, axes)
    return kernel(b, "add", m, kernel(b, "log", b.sum(kernel(b, "exp", shifted), axes, True)))


def _logsumexp_backward(node: Tensor, g: Array) -> list[Array]:
    x = node.parents[0]
    kept = node.saved  # the result with its reduced axes kept (size 1)
    b = node.backend
    softmax_ = kernel(b, "exp", kernel(b, "sub", x.array, kept))  # exp(x - logsumexp(x)) = softmax(x)
    return [kernel(b, "mul", softmax_, b.reshape(g, b.shape(kept)))]


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over all elements or along axes, without overflow; its gradient is softmax(x)."""
    (t,), b = common([x])
    axes = normalise_axes(axis, t.ndim)
    kept = _log_sum_exp_kept(b, t.array, axes)
    shape = b.shape(kept) if keepdims else tuple(n for k, n in enumerate(t.shape) if k not in axes)
    return node("logsumexp", (t,), b.reshape(kept, shape), _logsumexp_backward, kept)


def _softmax_backward(node: Tensor, g: Array) -> list[Array]:
    s, axis, b = node.array, node.saved, node.backend
    gs = b.sum(kernel(b, "mul", g, s), (axis,), True)  # sum_i g_i s_i along the axis
    return [kernel(b, "mul", s, kernel(b, "sub", g, gs))]  # s * (g - sum(g * s))


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along an axis (the last by default): positive, summing to 1 along it."""
    (t,), b = common([x])
    k = axis_index(axis, t.ndim)
    e = kernel(b, "exp", _shifted(b, t.array, (k,))[0])
    out = kernel(b, "div", e, b.sum(e, (k,), True))
    return node("softmax", (t,), out, _softmax_backward, k)


def _log_softmax_backward(node: Tensor, g: Array) -> list[Array]:
    out, axis, b = node.array, node.saved, node.backend
    total = b.sum(g, (axis,), True)
    return [kernel(b, "sub", g, kernel(b, "mul", kernel(b, "exp", out), total))]  # g - softmax * sum(g)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along an axis: the log of softmax, without the log of a tiny number."""
    (t,), b = common([x])
    k = axis_index(axis, t.ndim)
    out = kernel(b, "sub", t.array, _log_sum_exp_kept(b, t.array, (k,)))
    return node("log_softmax", (t,), out, _log_softmax_backward, k)
