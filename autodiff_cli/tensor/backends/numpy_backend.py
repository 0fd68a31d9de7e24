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

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy

from ... import careful, rulecode
from ...errors import MathError, UsageError
from ...ops import Op
from . import Backend, Index, Shape, element_error, numpy_bounds, numpy_rules
from .numpy_square import NumpySquare

__all__ = ["NumpyBackend"]

Array = numpy.ndarray

# NumPy's floating-point warnings off while a kernel runs (inf and NaN are looked for afterwards).  In NumPy 2
# the error state is a context variable: setting it directly is np.errstate without its wrapper (1.6 us -> 0.3).
try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _quiet = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    _loud = _extobj_contextvar.reset
except (ImportError, AttributeError, TypeError):  # NumPy 1 (or a NumPy that moved its private names): seterr
    # gives back the state it replaced, restored after each kernel

    def _quiet() -> Any:
        return numpy.seterr(all="ignore")

    def _loud(before: Any) -> None:
        numpy.seterr(**before)

_RELATIONS = {"==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal", ">": "greater",
              ">=": "greater_equal"}


class NumpyBackend(NumpySquare, Backend):
    """Backend kernels on NumPy float64 arrays (views where NumPy makes them: the caller never writes into one).

    det, logdet, inv and solve are numpy.linalg's, with the project's errors (numpy_square.py)."""

    name = "numpy"
    xp: Any = numpy  # the array module: the one name a CuPy backend would change

    def __init__(self) -> None:
        # compiled on first use: op -> (vectorised forward, whether it can leave the doubles, quick domain test)
        self._forwards: dict[Op, tuple[Callable[..., Array], bool, Callable[..., Array] | None]] = {}
        # (op, i) -> (g * derivative, or None where that is g; whether it can leave the doubles)
        self._derivatives: dict[tuple[Op, int], tuple[Callable[..., Array] | None, bool]] = {}

    # -- making and reading arrays -------------------------------------------
    def from_flat(self, values: Sequence[float], shape: Shape) -> Array:
        a = self.xp.array(values, dtype=self.xp.float64)
        if a.size != math.prod(shape):
            raise UsageError(f"{a.size} values cannot fill an array of shape {tuple(shape)}")
        return a.reshape(shape)

    def to_flat(self, a: Array) -> list[float]:
        return a.ravel().tolist()

    def shape(self, a: Array) -> Shape:
        return a.shape

    def full(self, shape: Shape, value: float) -> Array:
        if not shape:
            return self.xp.array(float(value))  # a number (the 1 of 1 - x): 5 times quicker than np.full
        a = self.xp.empty(shape, dtype=self.xp.float64)
        a.fill(value)
        return a

    def nbytes(self, a: Array) -> int:
        return int(a.nbytes)

    # -- the op table, elementwise ---------------------------------------------
    def apply(self, op: Op, args: Sequence[Array]) -> Array:
        kernels = self._forwards.get(op)
        if kernels is None:
            kernels = self._forwards[op] = (numpy_rules.forward(op, self.xp), not numpy_bounds.stays_finite(op),
                                            numpy_rules.any_undefined(op, self.xp))
        forward, checked, undefined = kernels
        token = _quiet()  # overflow and 0/0 give inf and nan, found below: no warnings
        try:
            try:
                r = forward(*args)
            except ValueError:
                self._broadcast_shape(args)  # a UsageError naming the shapes if they do not broadcast
                raise
            scalar = type(r) is not self.xp.ndarray  # NumPy gives a scalar for 0-d arrays
            if scalar:
                r = self.xp.asarray(r)
            # the vectorised result stands where it is a finite double and the domain allows every element
            if (not checked or (math.isfinite(r) if scalar else self._all_finite(r))) and (
                    undefined is None or not undefined(*args)):
                return r
            return self._patch(op, args, r)
        finally:
            _loud(token)

    def _patch(self, op: Op, args: Sequence[Array], r: Array) -> Array:
        """Recompute by op.evaluate every element the vectorised forward left non-finite or the domain forbids.

        The scalar path gives the scalar engine's value, or its error for the first such element (row-major).
        """
        xp = self.xp
        shape = r.shape
        r = xp.array(r, dtype=xp.float64)  # a copy we may write into
        bad = ~xp.isfinite(r)
        undefined = numpy_rules.undefined(op, xp)  # where, element by element
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
        kernel = self._derivatives.get((op, i))
        if kernel is None:
            kernel = self._derivatives[op, i] = (numpy_rules.derivative(op, i, self.xp),
                                                 not numpy_bounds.stays_finite(op, i))
        rule, checked = kernel
        if rule is None:
            return g  # a rule of 1 (add, sub's first argument): g itself, as backward passes it on
        token = _quiet()
        try:
            r = rule(*args, out, g)
            if type(r) is not self.xp.ndarray:  # a scalar, from 0-d arrays
                if not checked or math.isfinite(r):
                    return self.xp.asarray(r)
                r = self.xp.asarray(r)
            elif not checked or self._all_finite(r):
                return r
            return self._patch_derivative(op, i, args, out, g, r)
        finally:
            _loud(token)

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
        """Whether every element is a finite double (under _quiet: the test itself may overflow).

        The sum of squares is finite only if every element is: one pass, no temporary array (BLAS's dot,
        twice as fast as isfinite(r).all() on small arrays; a plain sum past 8192 elements, where BLAS
        might start threads).  Where it overflows although the elements are finite (past 1e154),
        isfinite decides.
        """
        v = r.ravel("K")  # a view, whatever the layout the ufunc chose
        total = v.dot(v) if v.size <= 8192 else self.xp.add.reduce(v)
        return math.isfinite(total) or bool(self.xp.isfinite(v).all())

    def _broadcast_shape(self, arrays: Sequence[Array]) -> Shape:
        try:
            return tuple(self.xp.broadcast_shapes(*(a.shape for a in arrays)))
        except ValueError:
            shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
            raise UsageError(f"shapes {shapes} cannot be broadcast together") from None

    # -- comparisons and selection ---------------------------------------------------
    def compare(self, relation: str, a: Array, b: Array) -> Array:
        test = _RELATIONS.get(relation)
        if test is None:
            raise UsageError(f"unknown comparison {relation!r}: use one of {' '.join(_RELATIONS)}")
        try:
            return getattr(self.xp, test)(a, b).astype(self.xp.float64)
        except ValueError:
            self._broadcast_shape((a, b))
            raise

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        try:
            return self.xp.where(cond != 0.0, a, b)
        except ValueError:
            self._broadcast_shape((cond, a, b))
            raise

    # -- reductions -----------------------------------------------------------------
    def sum(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        token = _quiet()
        try:
            return self._reduced("sum", self.xp.add.reduce(a, axis=tuple(axes), keepdims=keepdims))
        finally:
            _loud(token)

    def max(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        self._not_empty("max", a, axes)
        return self.xp.asarray(self.xp.maximum.reduce(a, axis=tuple(axes), keepdims=keepdims))

    def min(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        self._not_empty("min", a, axes)
        return self.xp.asarray(self.xp.minimum.reduce(a, axis=tuple(axes), keepdims=keepdims))

    def prod(self, a: Array, axes: Shape, keepdims: bool) -> Array:
        token = _quiet()
        try:
            return self._reduced("prod", self.xp.multiply.reduce(a, axis=tuple(axes), keepdims=keepdims))
        finally:
            _loud(token)

    def _reduced(self, name: str, r: Any) -> Array:
        """A reduction's result as an array, or its overflow error (NumPy's warnings off: sums of it may overflow)."""
        if type(r) is not self.xp.ndarray:  # a scalar: everything reduced
            if math.isfinite(r):
                return self.xp.asarray(r)
            r = self.xp.asarray(r)
        elif self._all_finite(r):
            return r
        raise self._reduction_error(name, r)

    def _reduction_error(self, name: str, r: Array) -> MathError:
        """A reduction's or a matmul's overflow at its first non-finite element (the Python backend's words)."""
        what = {"matmul": "a row times a column", "prod": "the product"}.get(name, f"the {name}")
        error = MathError(name, f"overflow: {what} is too large for a double")
        if r.ndim == 0:
            return error
        k = int(self.xp.flatnonzero(~self.xp.isfinite(r))[0])
        return element_error(error, k, r.shape)

    def _not_empty(self, name: str, a: Array, axes: Shape) -> None:
        if any(a.shape[k] == 0 for k in axes):
            raise UsageError(f"{name} over an axis of size 0 has no value (shape {tuple(a.shape)})")

    # -- shapes -------------------------------------------------------------------------
    def reshape(self, a: Array, shape: Shape) -> Array:
        try:
            return a.reshape(shape)
        except ValueError:
            raise UsageError(f"cannot reshape an array of shape {tuple(a.shape)} ({a.size} elements) "
                             f"into shape {tuple(shape)}") from None

    def permute(self, a: Array, axes: Shape) -> Array:
        try:
            return a.transpose(axes)
        except ValueError:
            raise UsageError(f"axes {tuple(axes)} are not a permutation of the {a.ndim} axes "
                             f"of shape {tuple(a.shape)}") from None

    def broadcast_to(self, a: Array, shape: Shape) -> Array:
        try:
            return self.xp.broadcast_to(a, shape)
        except ValueError:
            raise UsageError(f"shapes {tuple(a.shape)} and {tuple(shape)} cannot be broadcast together") from None

    def getitem(self, a: Array, index: Index) -> Array:
        try:
            return self.xp.asarray(a[tuple(index)])
        except IndexError:
            raise UsageError(self._index_problem(a.shape, index)) from None

    def _index_problem(self, shape: Shape, index: Index) -> str:
        axis = 0
        for k in index:
            if k is None:
                continue
            if axis >= len(shape):
                return f"too many indices for an array of shape {tuple(shape)}"
            if isinstance(k, int) and not -shape[axis] <= k < shape[axis]:
                return f"index {k} is out of range for axis {axis} with size {shape[axis]}"
            axis += 1
        return f"index {tuple(index)} does not fit shape {tuple(shape)}"

    def index_add(self, shape: Shape, index: Index, g: Array) -> Array:
        z = self.xp.zeros(shape, dtype=self.xp.float64)
        z[tuple(index)] += g  # ints and slices never repeat an element: no np.add.at needed
        return z

    def concatenate(self, arrays: Sequence[Array], axis: int) -> Array:
        try:
            return self.xp.concatenate(list(arrays), axis=axis)
        except ValueError:
            first = tuple(arrays[0].shape)
            other = next((tuple(a.shape) for a in arrays if len(a.shape) != len(first) or any(
                n != m for d, (n, m) in enumerate(zip(a.shape, first, strict=True)) if d != axis)), first)
            raise UsageError(f"shapes {first} and {other} cannot be concatenated along axis {axis}") from None

    # -- linear algebra -----------------------------------------------------------
    def matmul(self, a: Array, b: Array) -> Array:
        if a.ndim < 2 or b.ndim < 2:
            raise UsageError(f"matmul needs at least 2 axes here: shapes {tuple(a.shape)} and {tuple(b.shape)}")
        if a.shape[-1] != b.shape[-2]:
            raise UsageError(f"shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                             f"(matmul: {a.shape[-1]} != {b.shape[-2]})")
        token = _quiet()
        try:
            r = self.xp.matmul(a, b)
            if self._all_finite(r):
                return r
        except ValueError:  # the batch dimensions do not broadcast
            raise UsageError(f"shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
                             "(matmul: batch axes)") from None
        finally:
            _loud(token)
        raise self._reduction_error("matmul", r)


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
    raise MathError(op.name, f"overflow: the gradient of {op.call_text(*args)}{where} is too large for a double")
