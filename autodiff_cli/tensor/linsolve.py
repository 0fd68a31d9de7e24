"""det, inv, logdet and solve of square matrices, each forward beside its hand-derived backward.

The forwards are backend kernels (Gaussian elimination with partial pivoting in the Python
backend, numpy.linalg in the NumPy one); a batch (..., n, n) is one matrix per leading index.
The backwards are matrix calculus, with G the gradient arriving at the output and A^-T the
transpose of the inverse:

    det:     d det(A) = det(A) tr(A^-1 dA)    (Jacobi's formula)  ->  grad A = g det(A) A^-T
    logdet:  d log det(A) = tr(A^-1 dA)                             ->  grad A = g A^-T
    inv:     d A^-1 = -A^-1 dA A^-1                                 ->  grad A = -A^-T G A^-T
    solve:   x = A^-1 b:  grad b = A^-T G,  grad A = -(grad b) x^T

det's formula needs A^-1, which a singular matrix has not; there its gradient is the
cofactor matrix (det(A) A^-T is the cofactor matrix wherever A^-1 exists, and the
cofactors exist everywhere): each cofactor is (-1)^(i+j) times the determinant of A without
row i and column j, n^2 determinants of size n - 1, computed for n up to 16.
"""

from __future__ import annotations

from typing import Any

from ..errors import MathError, UsageError
from .backends import Backend
from .tensor import Array, Tensor, common, kernel, node

__all__ = ["det", "inv", "logdet", "solve"]

_COFACTORS_UP_TO = 16  # n^2 determinants of (n - 1) x (n - 1): about n^5 / 3 steps


def _square(x: Tensor, name: str) -> None:
    """A UsageError unless x is a square matrix (n, n), or a batch of them (..., n, n)."""
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        what = "a vector" if x.ndim == 1 else "a number" if x.ndim == 0 else "not square"
        raise UsageError(f"{name} needs a square matrix (shape (n, n), or a batch (..., n, n)), not shape {x.shape} "
                         f"({what})")


def _swap_last(b: Backend, a: Array) -> Array:
    """Each matrix of a batch transposed: the last two axes swapped."""
    n = len(b.shape(a))
    return b.permute(a, (*range(n - 2), n - 1, n - 2))


def _per_matrix(b: Backend, g: Array) -> Array:
    """A gradient with one number per matrix, shape (...), as (..., 1, 1): it multiplies its whole matrix."""
    return b.reshape(g, (*b.shape(g), 1, 1))


# -- det ---------------------------------------------------------------------------------------------


def det(a: Any) -> Tensor:
    """The determinant of a square matrix (shape ()), or of each matrix of a batch (shape (...)).

    A singular matrix has determinant 0 (and a gradient: its cofactor matrix); one too large
    for a double is a MathError that points to logdet.
    """
    (x,), b = common([a])
    _square(x, "det")
    return node("det", (x,), b.det(x.array), _det_backward)


def _det_backward(node: Tensor, g: Array) -> list[Array]:
    x, b = node.parents[0], node.backend
    d = node.array
    if 0.0 not in b.to_flat(d):
        try:  # Jacobi's formula: d det / d A = det(A) A^-T
            return [kernel(b, "mul", _per_matrix(b, kernel(b, "mul", g, d)), _swap_last(b, b.inv(x.array)))]
        except MathError:
            pass  # so close to singular that A^-1 overflows: the cofactors are still finite
    return [kernel(b, "mul", _per_matrix(b, g), _cofactors(b, x.array))]


def _cofactors(b: Backend, a: Array) -> Array:
    """The cofactor matrix C[i, j] = (-1)^(i+j) det(A without row i and column j), which is det(A) A^-T
    where A^-1 exists, and is det's gradient everywhere."""
    shape = b.shape(a)
    n = shape[-1]
    if n == 1:  # the determinant of the empty matrix left is 1
        return b.full(shape, 1.0)
    if n > _COFACTORS_UP_TO:
        raise MathError("det", f"det: the gradient of det at a singular {n} x {n} matrix is its cofactor matrix, "
                        f"computed for matrices up to {_COFACTORS_UP_TO} x {_COFACTORS_UP_TO} only "
                        "(det(A) inv(A)^T needs inv(A), which a singular matrix has not)")
    lead = tuple(slice(0, k, 1) for k in shape[:-2])
    minors = []
    for i in range(n):
        rows = b.concatenate([b.getitem(a, (*lead, slice(0, i, 1), slice(0, n, 1))),
                              b.getitem(a, (*lead, slice(i + 1, n, 1), slice(0, n, 1)))], len(shape) - 2)
        for j in range(n):
            minor = b.concatenate([b.getitem(rows, (*lead, slice(0, n - 1, 1), slice(0, j, 1))),
                                   b.getitem(rows, (*lead, slice(0, n - 1, 1), slice(j + 1, n, 1)))], len(shape) - 1)
            minors.append(b.reshape(minor, (*shape[:-2], 1, n - 1, n - 1)))
    dets = b.reshape(b.det(b.concatenate(minors, len(shape) - 2)), shape)
    signs = b.from_flat([(-1.0) ** (i + j) for i in range(n) for j in range(n)], (n, n))
    return kernel(b, "mul", dets, signs)


# -- logdet ------------------------------------------------------------------------------------------


def logdet(a: Any) -> Tensor:
    """log(det(A)) of a square matrix with a positive determinant (or of each matrix of a batch).

    Computed as the sum of the logs of the pivots, so it is finite where det itself would overflow.
    det <= 0 is a MathError: log(det) is defined for det > 0 only, and no sign is returned as
    NumPy's slogdet does; log(abs(det(A))) is the log of the determinant's size.
    """
    (x,), b = common([a])
    _square(x, "logdet")
    return node("logdet", (x,), b.logdet(x.array), _logdet_backward)


def _logdet_backward(node: Tensor, g: Array) -> list[Array]:
    x, b = node.parents[0], node.backend  # d log det / d A = A^-T
    return [kernel(b, "mul", _per_matrix(b, g), _swap_last(b, b.inv(x.array)))]


# -- inv ---------------------------------------------------------------------------------------------


def inv(a: Any) -> Tensor:
    """The inverse of a square matrix (or of each matrix of a batch); a singular matrix is a MathError."""
    (x,), b = common([a])
    _square(x, "inv")
    return node("inv", (x,), b.inv(x.array), _inv_backward)


def _inv_backward(node: Tensor, g: Array) -> list[Array]:
    b = node.backend
    inv_t = _swap_last(b, node.array)  # A^-T, from the forward's own output
    return [kernel(b, "neg", b.matmul(b.matmul(inv_t, g), inv_t))]  # -A^-T G A^-T


# -- solve -------------------------------------------------------------------------------------------


def solve(a: Any, rhs: Any) -> Tensor:
    """x with A x = b: A square (n, n) or a batch (..., n, n); b a vector (n,) or a matrix (..., n, k) with A's
    leading axes (NumPy 2's rule: b is a vector only when it is 1-D).  The same as inv(A) @ b, without the inverse."""
    (x, y), b = common([a, rhs])
    _square(x, "solve")
    n = x.shape[-1]
    vector = y.ndim == 1
    columns = (n, 1) if vector else y.shape
    if (vector and y.shape != (n,)) or (not vector and (y.shape[:-2] != x.shape[:-2] or y.shape[-2] != n)):
        want = f"({n},) or {(*x.shape[:-2], n, 'k')}".replace("'k'", "k")
        raise UsageError(f"solve: A of shape {x.shape} needs b of shape {want}, not {y.shape}")
    out = b.solve(x.array, b.reshape(y.array, columns) if vector else y.array)
    return node("solve", (x, y), b.reshape(out, y.shape), _solve_backward, columns)


def _solve_backward(node: Tensor, g: Array) -> list[Array | None]:
    a, rhs = node.parents
    b = node.backend
    columns = node.saved  # b's shape as a matrix (a vector is one column)
    gb = b.solve(_swap_last(b, a.array), b.reshape(g, columns))  # grad b = A^-T G
    ga = None
    if a.requires_grad:  # grad A = -(grad b) x^T
        ga = kernel(b, "neg", b.matmul(gb, _swap_last(b, b.reshape(node.array, columns))))
    return [ga, b.reshape(gb, rhs.shape) if rhs.requires_grad else None]
