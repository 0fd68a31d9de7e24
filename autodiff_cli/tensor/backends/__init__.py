"""The kernels a Tensor runs on: one interface, two backends, a seam for a third.

A backend stores n-dimensional arrays of doubles (its own type, opaque to the
Tensor layer) and does the array arithmetic: the op table's functions applied
elementwise with broadcasting, reductions, shape changes, matmul.  The Tensor
layer (tensor/) builds the graph and the backward pass out of these kernels and
never looks inside an array.

- ``python``: standard library only.  A flat ``array('d')`` with a shape and
  strides (views share storage): the one to read to see how broadcasting,
  reductions and matmul work.
- ``numpy``: the same kernels on NumPy arrays (the optional extra
  ``pip install "autodiff[numpy]"``); the table's formulas are translated into
  vectorised NumPy expressions.
- A GPU backend would be the NumPy backend with CuPy (which mirrors NumPy's API)
  as its array module: see docs/tensors.md.  None is shipped: nothing here runs on a GPU.

Which one: ``AUTODIFF_BACKEND=python|numpy``, else NumPy when it is installed,
else Python; in code ``set_backend("python")`` or ``with use_backend("numpy"):``.
Every kernel raises the project's errors (MathError for a value with no result,
naming the operation and the element), never NaN or inf.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ...errors import MathError, UsageError
from ...ops import Op

__all__ = ["DET_OVERFLOW", "LOGDET_ZERO", "NEAR_SINGULAR", "SINGULAR", "Backend", "Shape", "available", "backend",
           "element_error", "get", "logdet_negative", "matrix_error", "set_backend", "use_backend", "using"]

Shape = tuple[int, ...]
Index = tuple[Any, ...]  # ints, slices (start, stop, step normalised, step > 0) and None: see Backend.getitem
Array = Any  # the backend's own array type


class Backend:
    """The kernels every backend provides.  Arrays are the backend's own; shapes are tuples of ints.

    Broadcasting follows NumPy: shapes are aligned at the right, a dimension of 1 stretches.
    Kernels that take several arrays broadcast them; they never change their arguments.
    Axes given to reductions are non-negative, sorted and distinct (the Tensor layer normalises them).
    """

    name: str = "?"

    # -- making and reading arrays -------------------------------------------
    def from_flat(self, values: Sequence[float], shape: Shape) -> Array:
        """An array of this shape holding these values in row-major (C) order; len(values) == prod(shape)."""
        raise NotImplementedError

    def to_flat(self, a: Array) -> list[float]:
        """The values in row-major order, as Python floats."""
        raise NotImplementedError

    def shape(self, a: Array) -> Shape:
        raise NotImplementedError

    def full(self, shape: Shape, value: float) -> Array:
        raise NotImplementedError

    def nbytes(self, a: Array) -> int:
        """Bytes the array's values take (its storage), for the memory report."""
        raise NotImplementedError

    # -- the op table, elementwise ---------------------------------------------
    def apply(self, op: Op, args: Sequence[Array]) -> Array:
        """op's forward on every element, the arguments broadcast together (op.arity of them).

        Raises element_error(...) for the first element (row-major) where the table says the
        operation is undefined or the result is not a finite double.
        """
        raise NotImplementedError

    def derivative(self, op: Op, i: int, args: Sequence[Array], out: Array, g: Array) -> Array:
        """g times d out / d (argument i), elementwise, at the broadcast shape of the arguments (= out's, = g's).

        Computed as the scalar engine computes it (rulecode.products(op)[i](x, y, out, g) per element,
        careful.times where that fails), so that both engines give the same numbers; raises
        element_error(...) where the derivative does not exist (sqrt at 0).
        """
        raise NotImplementedError

    # -- comparisons and selection (values 0.0 / 1.0) -----------------------------
    def compare(self, relation: str, a: Array, b: Array) -> Array:
        """1.0 where `a relation b` holds, else 0.0, broadcast; relation is one of == != < <= > >=."""
        raise NotImplementedError

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        """a where cond is nonzero, else b, the three broadcast together."""
        raise NotImplementedError

    # -- reductions -----------------------------------------------------------------
    def sum(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        """The sum over the given axes (all of them when axes lists them all); keepdims keeps them as 1."""
        raise NotImplementedError

    def max(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        raise NotImplementedError

    def min(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        raise NotImplementedError

    def prod(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        """The product; raises a MathError (op 'prod') if it overflows."""
        raise NotImplementedError

    # -- shapes (views where the backend can; the caller never writes into a result) -------
    def reshape(self, a: Array, shape: Shape) -> Array:
        raise NotImplementedError

    def permute(self, a: Array, axes: Shape) -> Array:
        """Axes reordered: result.shape[k] == a.shape[axes[k]]."""
        raise NotImplementedError

    def broadcast_to(self, a: Array, shape: Shape) -> Array:
        raise NotImplementedError

    def getitem(self, a: Array, index: Index) -> Array:
        """a[index]; the index has one entry per axis of a, each an int in range or a slice(start, stop, step)
        with start, stop, step already normalised (0 <= start, step > 0, as slice.indices gives them)."""
        raise NotImplementedError

    def index_add(self, shape: Shape, index: Index, g: Array) -> Array:
        """Zeros of `shape` with g added at index (the backward of getitem): z = zeros(shape); z[index] += g."""
        raise NotImplementedError

    def concatenate(self, arrays: Sequence[Array], axis: int) -> Array:
        raise NotImplementedError

    # -- linear algebra -----------------------------------------------------------
    def matmul(self, a: Array, b: Array) -> Array:
        """The matrix product of arrays with at least 2 dimensions: (..., m, k) @ (..., k, n) -> (..., m, n),
        the leading (batch) dimensions broadcast.  Raises a MathError (op 'matmul') on overflow."""
        raise NotImplementedError

    # -- square matrices (..., n, n): a batch of them when there are leading axes ---------
    def det(self, a: Array) -> Array:
        """The determinants, shape (...); 0.0 for a singular matrix.  MathError (op 'det') if one overflows."""
        raise NotImplementedError

    def logdet(self, a: Array) -> Array:
        """log(det) of each matrix, shape (...), from the pivots (no overflow on the way).
        MathError (op 'logdet') where det <= 0: log(det) is defined for det > 0 only."""
        raise NotImplementedError

    def inv(self, a: Array) -> Array:
        """The inverses, shape (..., n, n).  MathError (op 'inv') for a singular matrix, or one so close to
        singular that its inverse is not a finite double."""
        raise NotImplementedError

    def solve(self, a: Array, b: Array) -> Array:
        """X with A X = B: a (..., n, n), b (..., n, k) with the same leading axes.  MathError (op 'solve') as inv."""
        raise NotImplementedError


def matrix_error(op: str, problem: str, k: int = 0, batch: Shape = ()) -> MathError:
    """A MathError about matrix k (row-major) of a batch of this shape, or about the one matrix when batch is ().

    matrix_error("inv", SINGULAR, 1, (2,)) says 'inv: matrix [1] of the batch: the matrix is singular ...'.
    """
    if not batch:
        return MathError(op, f"{op}: {problem}")
    where = element_error(MathError(op, problem), k, batch).message.replace("element [", "matrix [", 1)
    return MathError(op, f"{op}: {where.replace(']: ', '] of the batch: ', 1)}")


# What the square-matrix kernels say, the same words on every backend
SINGULAR = {"inv": "the matrix is singular (its determinant is 0): it has no inverse",
            "solve": "the matrix is singular (its determinant is 0): A x = b has no unique solution"}
NEAR_SINGULAR = {"inv": "the matrix is too close to singular: its inverse is too large for a double",
                 "solve": "the matrix is too close to singular: the solution is too large for a double"}
DET_OVERFLOW = "overflow: the determinant is too large for a double (logdet gives its logarithm)"
LOGDET_ZERO = "the matrix is singular: its determinant is 0, and log(0) is undefined"


def logdet_negative(det: float) -> str:
    """Why logdet refuses a negative determinant, and what to write instead."""
    value = f" ({det:.6g})" if det - det == 0.0 else ""
    return (f"the determinant is negative{value}: logdet is log(det), defined for det > 0 "
            "(no sign is returned, as NumPy's slogdet would; log(abs(det(A))) is the log of its size)")


def element_error(error: MathError, flat: int, shape: Shape) -> MathError:
    """A scalar error moved to an element: 'element [2, 1]: log(-0.5) is undefined: log needs a positive number'.

    flat: the element's position in row-major order within an array of this shape.
    """
    index = []
    for size in reversed(shape):
        flat, k = divmod(flat, size) if size else (flat, 0)
        index.append(k)
    where = ", ".join(str(k) for k in reversed(index))
    return MathError(error.op, f"element [{where}]: {error.message}")


# -- choosing a backend -------------------------------------------------------------

_NAMES = ("python", "numpy")
_made: dict[str, Backend] = {}
_current: list[Backend] = []  # the backend in force (one entry once chosen)


def get(name: str) -> Backend:
    """The backend called `name` ('python' or 'numpy'); a UsageError if it is unknown or cannot load."""
    found = _made.get(name)
    if found is not None:
        return found
    if name == "python":
        from .python_backend import PythonBackend

        found = PythonBackend()
    elif name == "numpy":
        try:
            from .numpy_backend import NumpyBackend
        except ImportError:
            raise UsageError('the numpy backend needs NumPy: pip install "autodiff[numpy]"') from None
        found = NumpyBackend()
    else:
        raise UsageError(f"unknown tensor backend {name!r}: choose {' or '.join(_NAMES)}")
    _made[name] = found
    return found


def available() -> list[str]:
    """The backends that can load here."""
    names = ["python"]
    try:
        import numpy  # noqa: F401
    except ImportError:
        return names
    return [*names, "numpy"]


def backend() -> Backend:
    """The backend new tensors use: AUTODIFF_BACKEND, else numpy if installed, else python."""
    if not _current:
        chosen = os.environ.get("AUTODIFF_BACKEND", "").strip().lower()
        if not chosen:
            chosen = "numpy" if "numpy" in available() else "python"
        _current.append(get(chosen))
    return _current[-1]


def set_backend(name: str) -> Backend:
    """Make `name` the backend of tensors made from now on."""
    chosen = get(name)
    _current[:] = [chosen]
    return chosen


@contextmanager
def using(chosen: Backend) -> Iterator[Backend]:
    """Use a backend object (one get() does not know by name: tensor/functional.py's private one) in a block."""
    before = backend()
    _current[:] = [chosen]
    try:
        yield chosen
    finally:
        _current[:] = [before]


@contextmanager
def use_backend(name: str) -> Iterator[Backend]:
    """Use a backend inside a with block, then go back to the one before."""
    before = backend()
    chosen = set_backend(name)
    try:
        yield chosen
    finally:
        _current[:] = [before]
