"""The NumPy backend: the kernels of backends.Backend on NumPy arrays of doubles.

Arrays are ``numpy.ndarray`` of float64, always.  The op table's functions run as
vectorised NumPy code that numpy_rules.py generates from the table's own formulas
(``numpy_rules.forward_source("sigmoid")`` prints it); an element whose result is
not a finite double is recomputed by the scalar engine (``op.evaluate``, the rules
of rulecode.py and careful.py), which gives the scalar engine's number or its error,
naming the element.  The structural kernels (sums, reshapes, matmul) are NumPy's own.

The GPU seam: every kernel reaches NumPy through one name, ``xp``.  CuPy mirrors
NumPy's API, so a CuPy backend would be this class with ``xp = cupy`` (and its
error path copying the few offending elements to the host).  None is shipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ... import careful, rulecode
from ...errors import MathError, UsageError
from ...ops import Op
from . import Backend, Index, Shape, element_error, numpy_rules

__all__ = ["NumpyBackend"]

Array = numpy.ndarray
_UNKNOWN = object()  # a derivative not compiled yet
_RELATIONS = ("==", "!=", "<", "<=", ">", ">=")


class NumpyBackend(Backend):
    """Backend kernels on NumPy float64 arrays (views where NumPy makes them: the caller never writes into one)."""

    name = "numpy"
    xp: Any = numpy  # the array module: the one name a CuPy backend would change

    def __init__(self) -> None:
        self._forwards: dict[Op, Callable[..., Array]] = {}  # op -> its vectorised forward, compiled on first use
        self._derivatives: dict[tuple[Op, int], Callable[..., Array] | None] = {}

    # -- making and reading arrays -------------------------------------------
    def from_flat(self, values: Sequence[float], shape: Shape) -> Array:
        return self.xp.array(values, dtype=self.xp.float64).reshape(shape)

    def to_flat(self, a: Array) -> list[float]:
        return a.ravel().tolist()

    def shape(self, a: Array) -> Shape:
        return a.shape

    def full(self, shape: Shape, value: float) -> Array:
        return self.xp.full(shape, float(value), dtype=self.xp.float64)

    def nbytes(self, a: Array) -> int:
        return int(a.nbytes)

    # -- the op table, elementwise ---------------------------------------------
    def apply(self, op: Op, args: Sequence[Array]) -> Array:
        kernels = self._forwards.get(op)
        if kernels is None:
            kernels = self._forwards[op] = (numpy_rules.forward(op, self.xp), numpy_rules.undefined(op, self.xp))
        forward, undefined = kernels
        with self.xp.errstate(all="ignore"):  # overflow and 0/0 give inf and nan here, found below: no warnings
            try:
                r = forward(*args)
            except ValueError:
                self._broadcast_shape(args)  # a UsageError naming the shapes if they do not broadcast
                raise
            if type(r) is not self.xp.ndarray:
                r = self.xp.asarray(r)  # NumPy gives a scalar for 0-d arrays
            # the vectorised result stands where it is a finite double and the domain allows the element
            if self._all_finite(r) and (undefined is None or not undefined(*args).any()):
                return r
            return self._patch(op, args, r, undefined)

    def _patch(self, op: Op, args: Sequence[Array], r: Array, undefined: Callable[..., Array] | None) -> Array:
        """Recompute by op.evaluate every element the vectorised forward left non-finite or the domain forbids.

        The scalar path gives the scalar engine's value, or its error for the first such element (row-major).
        """
        xp = self.xp
        shape = r.shape
        r = xp.array(r, dtype=xp.float64)  # a copy we may write into
        bad = ~xp.isfinite(r)
        if undefined is not None:
            bad |= xp.broadcast_to(undefined(*args), shape)
        flats = [xp.broadcast_to(a, shape).ravel() for a in args]
        flat = r.reshape(-1)  # a view of our own copy
        for k in xp.flatnonzero(bad).tolist():
            try:
                flat[k] = op.evaluate(*(float(f[k]) for f in flats))
            except MathError as err:
                raise element_error(err, k, shape) from None
        return r

    def derivative(self, op: Op, i: int, args: Sequence[Array], out: Array, g: Array) -> Array:
        rule = self._derivatives.get((op, i), _UNKNOWN)
        if rule is _UNKNOWN:
            rule = self._derivatives[op, i] = numpy_rules.derivative(op, i, self.xp)
        if rule is None:
            return g  # a rule of 1 (add, sub's first argument): g itself, as backward passes it on
        with self.xp.errstate(all="ignore"):
            r = rule(*args, out, g)
            if type(r) is not self.xp.ndarray:
                r = self.xp.asarray(r)
            if self._all_finite(r):
                return r
            return self._patch_derivative(op, i, args, out, g, r)

    def _patch_derivative(self, op: Op, i: int, args: Sequence[Array], out: Array, g: Array, r: Array) -> Array:
        """Recompute every non-finite element as the scalar engine does (engine.gradient_term), or raise its error."""
        xp = self.xp
        shape = g.shape
        r = xp.array(r, dtype=xp.float64)
        flats = [xp.broadcast_to(a, shape).ravel() for a in (*args, out, g)]
        flat = r.reshape(-1)
        for k in xp.flatnonzero(~xp.isfinite(r)).tolist():
            values = [float(f[k]) for f in flats]
            try:
                flat[k] = gradient_term(op, i, values[:-2], values[-2], values[-1])
            except MathError as err:
                raise element_error(err, k, shape) from None
        return r

    def _all_finite(self, r: Array) -> bool:
        """Whether every element is a finite double.

        A sum is finite only if every term is (one pass, no temporary array, no thread); where it
        overflows although the elements are finite (near 1e308), isfinite decides.
        """
        return math.isfinite(self.xp.add.reduce(r, axis=None)) or bool(self.xp.isfinite(r).all())

    def _broadcast_shape(self, arrays: Sequence[Array]) -> Shape:
        try:
            return tuple(self.xp.broadcast_shapes(*(a.shape for a in arrays)))
        except ValueError:
            shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
            raise UsageError(f"shapes {shapes} cannot be broadcast together") from None

    # -- comparisons and selection ---------------------------------------------------
    def compare(self, relation: str, a: Array, b: Array) -> Array:
        if relation not in _RELATIONS:
            raise ValueError(f"unknown relation {relation!r}")
        self._broadcast_shape((a, b))
        xp = self.xp
        test = {"==": xp.equal, "!=": xp.not_equal, "<": xp.less, "<=": xp.less_equal,
                ">": xp.greater, ">=": xp.greater_equal}[relation]
        return test(a, b).astype(xp.float64)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        self._broadcast_shape((cond, a, b))
        return self.xp.where(cond != 0.0, a, b).astype(self.xp.float64, copy=False)

    # -- reductions -----------------------------------------------------------------
    def sum(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        r = self.xp.asarray(a.sum(axis=tuple(axes), keepdims=keepdims))
        if not self._all_finite(r):
            raise self._reduction_error("sum", r)
        return r

    def max(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        self._not_empty("max", a, axes)
        return self.xp.asarray(a.max(axis=tuple(axes), keepdims=keepdims))

    def min(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        self._not_empty("min", a, axes)
        return self.xp.asarray(a.min(axis=tuple(axes), keepdims=keepdims))

    def prod(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        with self.xp.errstate(all="ignore"):
            r = self.xp.asarray(a.prod(axis=tuple(axes), keepdims=keepdims))
        if not self._all_finite(r):
            raise self._reduction_error("prod", r)
        return r

    def _reduction_error(self, name: str, r: Array) -> MathError:
        what = {"sum": "the sum", "prod": "the product", "matmul": "the matrix product"}[name]
        error = MathError(name, f"overflow: {what} is too large for a double")
        if r.ndim == 0:
            return error
        k = int(self.xp.flatnonzero(~self.xp.isfinite(r))[0])
        return element_error(error, k, r.shape)

    def _not_empty(self, name: str, a: Array, axes: Shape) -> None:
        if any(a.shape[k] == 0 for k in axes):
            raise UsageError(f"{name} of an empty axis: shape {tuple(a.shape)}")

    # -- shapes -------------------------------------------------------------------------
    def reshape(self, a: Array, shape: Shape) -> Array:
        return a.reshape(shape)

    def permute(self, a: Array, axes: Shape) -> Array:
        return a.transpose(axes)

    def broadcast_to(self, a: Array, shape: Shape) -> Array:
        try:
            return self.xp.broadcast_to(a, shape)
        except ValueError:
            raise UsageError(f"shapes {tuple(a.shape)} and {tuple(shape)} cannot be broadcast together") from None

    def getitem(self, a: Array, index: Index) -> Array:
        return self.xp.asarray(a[tuple(index)])

    def index_add(self, shape: Shape, index: Index, g: Array) -> Array:
        z = self.xp.zeros(shape, dtype=self.xp.float64)
        z[tuple(index)] += g  # ints and slices never repeat an element: no np.add.at needed
        return z

    def concatenate(self, arrays: Sequence[Array], axis: int) -> Array:
        try:
            return self.xp.concatenate(list(arrays), axis=axis)
        except ValueError:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise UsageError(f"shapes {shapes} cannot be concatenated along axis {axis}") from None

    # -- linear algebra -----------------------------------------------------------
    def matmul(self, a: Array, b: Array) -> Array:
        if a.shape[-1] != b.shape[-2]:
            raise UsageError(f"shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                             f"(matmul: {a.shape[-1]} != {b.shape[-2]})")
        self._broadcast_shape((a[..., :1, :1], b[..., :1, :1]))  # the batch dimensions
        with self.xp.errstate(all="ignore"):
            r = self.xp.matmul(a, b)
        if not self._all_finite(r):
            raise self._reduction_error("matmul", r)
        return r


def gradient_term(op: Op, i: int, args: list[float], out: float, g: float) -> float:
    """g times d out / d (argument i) at one element, as the scalar engine computes it (engine.gradient_term).

    The compiled float rule first; where it fails or overflows, the careful rule in decimal numbers
    (careful.times), which gives the right double or says that the derivative does not exist.
    """
    try:
        d = rulecode.products(op)[i](*args, out, g)
        if d - d == 0.0:  # a finite double
            return d
    except (ArithmeticError, ValueError):
        pass
    d = careful.times(args, out, i, op, g)  # raises the op's 'no derivative' error where there is none
    if d - d == 0.0:
        return d
    where = f" with respect to its {op.role(i)}" if op.arity > 1 else ""
    raise MathError(op.name, f"overflow: the gradient through {op.call_text(*args)}{where} is too large for a double")
