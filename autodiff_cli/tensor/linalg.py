"""Linear algebra: matmul (NumPy's rules), dot, outer, trace and the 2-norm, with their backward.

Matmul's backward is two more matmuls: for C = A @ B and an upstream gradient G,
dA = G @ B^T and dB = A^T @ G.  A 1-D operand is promoted (a row on the left, a
column on the right) and the added axis removed from the result, as NumPy does; the
gradient is computed on the promoted shapes and reshaped back.  Batched operands
broadcast their leading axes, so their gradients are summed over the broadcast ones
(sum_to_shape, as for any broadcast input).
"""

from __future__ import annotations

from typing import Any

from ..errors import MathError, UsageError
from . import elementwise
from .backends import element_error
from .shapes import normalise_axes, reshape
from .tensor import Array, Tensor, broadcast_shapes, common, kernel, node, sum_to_shape

__all__ = ["dot", "matmul", "norm", "outer", "trace"]


def _swap_last(b: Any, a: Array) -> Array:
    """The matrix transpose of every matrix in a batch: the last two axes swapped."""
    n = len(b.shape(a))
    return b.permute(a, (*range(n - 2), n - 1, n - 2))


def _matmul_backward(node: Tensor, g: Array) -> list[Array | None]:
    a, c = node.parents
    ashape, cshape, shape = node.saved  # the promoted shapes and the product's before the added axes went
    b = node.backend
    g = b.reshape(g, shape)
    ga = gc = None
    if a.requires_grad:  # dA = G @ B^T, summed over broadcast batch axes, in A's own shape
        ga = b.reshape(sum_to_shape(b, b.matmul(g, _swap_last(b, b.reshape(c.array, cshape))), ashape), a.shape)
    if c.requires_grad:  # dB = A^T @ G
        gc = b.reshape(sum_to_shape(b, b.matmul(_swap_last(b, b.reshape(a.array, ashape)), g), cshape), c.shape)
    return [ga, gc]


def matmul(a: Any, b: Any) -> Tensor:
    """The matrix product with NumPy's rules: (m, k) @ (k, n) is (m, n); a 1-D operand is a row on the left and
    a column on the right (the added axis is removed again); leading axes are batches and broadcast."""
    (x, y), bk = common([a, b])
    if not x.ndim or not y.ndim:
        raise UsageError(f"matmul needs tensors with at least one axis, not shapes {x.shape} and {y.shape}: "
                         "multiply by a number with *")
    xs = (1, *x.shape) if x.ndim == 1 else x.shape
    ys = (*y.shape, 1) if y.ndim == 1 else y.shape
    if xs[-1] != ys[-2]:
        raise UsageError(f"shapes {x.shape} and {y.shape} cannot be multiplied (matmul: {xs[-1]} != {ys[-2]})")
    try:
        batch = broadcast_shapes(xs[:-2], ys[:-2])
    except UsageError:
        raise UsageError(f"shapes {x.shape} and {y.shape} cannot be multiplied (matmul: the batch shapes "
                         f"{xs[:-2]} and {ys[:-2]} cannot be broadcast together)") from None
    out = bk.matmul(bk.reshape(x.array, xs), bk.reshape(y.array, ys))
    shape = (*batch, xs[-2], ys[-1])
    final = (*batch, *xs[-2:-1][: x.ndim - 1], *ys[-1:][: y.ndim - 1])  # without the axes the promotion added
    return node("matmul", (x, y), bk.reshape(out, final), _matmul_backward, (xs, ys, shape))


def dot(a: Any, b: Any) -> Tensor:
    """The dot product of two vectors of one length (PyTorch's dot: 1-D only; matmul for the rest)."""
    (x, y), _ = common([a, b])
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise UsageError(f"dot needs two 1-D tensors of one length, not shapes {x.shape} and {y.shape}: "
                         "use matmul for matrices")
    return matmul(x, y)


def outer(a: Any, b: Any) -> Tensor:
    """The outer product of two vectors: out[i, j] = a[i] * b[j] (a column times a row, broadcast)."""
    (x, y), _ = common([a, b])
    if x.ndim != 1 or y.ndim != 1:
        raise UsageError(f"outer needs two 1-D tensors, not shapes {x.shape} and {y.shape}")
    return elementwise.apply("mul", reshape(x, -1, 1), reshape(y, 1, -1))


def _trace_backward(node: Tensor, g: Array) -> list[Array]:
    eye = node.saved  # d trace / d A[i, j] is 1 on the diagonal, 0 elsewhere
    return [kernel(node.backend, "mul", eye, g)]


def trace(a: Any) -> Tensor:
    """The sum of the diagonal of a matrix (of any m x n shape: min(m, n) elements)."""
    (x,), b = common([a])
    if x.ndim != 2:
        raise UsageError(f"trace needs a matrix (2 axes), not shape {x.shape}")
    m, n = x.shape
    eye = b.from_flat([1.0 if i == j else 0.0 for i in range(m) for j in range(n)], (m, n))
    out = b.sum(kernel(b, "mul", x.array, eye), (0, 1), False)
    return node("trace", (x,), out, _trace_backward, eye)


def _norm_backward(node: Tensor, g: Array) -> list[Array]:
    """d ||x|| / d x = x / ||x||: no derivative where the norm is 0 (as the table's hypot at (0, 0))."""
    x = node.parents[0]
    kept, shape = node.saved
    b = node.backend
    zero = b.compare("==", kept, b.full((), 0.0))
    flat = b.to_flat(zero)
    if 1.0 in flat:
        error = MathError("norm", "no derivative: the 2-norm of an all-zero tensor is not differentiable "
                          "(its gradient x / norm(x) divides by 0)")
        raise element_error(error, flat.index(1.0), shape) if shape else error  # which norm, when there are several
    share = kernel(b, "div", b.reshape(g, b.shape(kept)), kept)
    return [kernel(b, "mul", x.array, share)]


def norm(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """The 2-norm sqrt(sum of squares) of all elements (the Frobenius norm of a matrix) or along axes.

    Computed as m * sqrt(sum((x / m)^2)) with m the largest |x_i|, so that no square overflows.
    Its gradient x / norm has no value at an all-zero tensor: a MathError (PyTorch gives 0 there).
    """
    (t,), b = common([x])
    axes = normalise_axes(axis, t.ndim)
    if t.size == 0:
        raise UsageError(f"norm of an empty tensor (shape {t.shape})")
    m = b.max(kernel(b, "abs", t.array), axes, True)
    one, zero = b.full((), 1.0), b.full((), 0.0)
    scale = b.where(b.compare("==", m, zero), one, m)
    scaled = kernel(b, "div", t.array, scale)
    kept = kernel(b, "mul", m, kernel(b, "sqrt", b.sum(kernel(b, "mul", scaled, scaled), axes, True)))
    shape = b.shape(kept) if keepdims else tuple(n for k, n in enumerate(t.shape) if k not in axes)
    return node("norm", (t,), b.reshape(kept, shape), _norm_backward, (kept, shape))

