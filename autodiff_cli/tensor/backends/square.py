"""det, logdet, inv and solve for the backends that compute in Python: Gaussian elimination on each matrix.

A mixin: the Python backend (floats in array('d')) and tensor/functional.py's private backend
(the scalar engine's Values in lists) share these kernels; each matrix of a batch (..., n, n)
is factored by lu.py, which only adds, subtracts, multiplies and divides.  A backend says how
to read its numbers and make an array of them (_numbers, _array) and, for Values, how large a
number is and how to take a log (_size, _log_size, _total); the defaults are for floats.
Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import DET_OVERFLOW, LOGDET_ZERO, NEAR_SINGULAR, SINGULAR, Shape, logdet_negative, lu, matrix_error

__all__ = ["SquareKernels"]

Array = Any
Number = Any  # a float, or a Value


def _count(shape: Shape) -> int:
    n = 1
    for k in shape:
        n *= k
    return n


class SquareKernels:
    """The square-matrix kernels of backends.Backend, by Gaussian elimination with partial pivoting (lu.py)."""

    # -- how this backend's numbers are read and made (floats by default) ---------------
    def _numbers(self, a: Array) -> Sequence[Number]:
        return self.to_flat(a)  # type: ignore[attr-defined]

    def _array(self, values: list[Number], shape: Shape) -> Array:
        return self.from_flat(values, shape)  # type: ignore[attr-defined]

    def _size(self, x: Number) -> float:
        """How large a number is, for choosing pivots."""
        return abs(x)

    def _log_size(self, x: Number) -> Number:
        return math.log(abs(x))

    def _total(self, xs: list[Number]) -> Number:
        return math.fsum(xs)

    def _float(self, x: Number) -> float:
        return x

    # -- the kernels -------------------------------------------------------------------
    def _factors(self, a: Array) -> tuple[list[lu.Factors], Shape, int]:
        """Each matrix of the batch factored: (factors, the batch's shape, n)."""
        shape = self.shape(a)  # type: ignore[attr-defined]
        n, batch = shape[-1], shape[:-2]
        size = self._size
        return [lu.factor(m, size) for m in lu.matrices(self._numbers(a), n, n, _count(batch))], batch, n

    def _finite(self, values: Sequence[Number]) -> bool:
        return all(self._float(v) - self._float(v) == 0.0 for v in values)  # inf - inf and nan - nan are nan

    def det(self, a: Array) -> Array:
        factors, batch, _ = self._factors(a)
        out = []
        for k, f in enumerate(factors):
            d = lu.det(f)
            if not self._finite([d]):
                raise matrix_error("det", DET_OVERFLOW, k, batch)
            out.append(d)
        return self._array(out, batch)

    def logdet(self, a: Array) -> Array:
        """log det = log |U[0][0]| + ... + log |U[n-1][n-1]|: a sum of logs, where the product could overflow."""
        factors, batch, _ = self._factors(a)
        out = []
        for k, f in enumerate(factors):
            if f.zero_pivot is not None:
                raise matrix_error("logdet", LOGDET_ZERO, k, batch)
            pivots = f.pivots()
            negative = sum(1 for p in pivots if self._float(p) < 0.0)
            if f.sign * (-1) ** negative < 0:
                raise matrix_error("logdet", logdet_negative(self._float(lu.det(f))), k, batch)
            out.append(self._total([self._log_size(p) for p in pivots]))
        return self._array(out, batch)

    def inv(self, a: Array) -> Array:
        factors, batch, n = self._factors(a)
        return self._solved("inv", factors, [lu.identity(n)] * len(factors), batch, (n, n))

    def solve(self, a: Array, b: Array) -> Array:
        factors, batch, n = self._factors(a)
        k = self.shape(b)[-1]  # type: ignore[attr-defined]
        columns = lu.matrices(self._numbers(b), n, k, len(factors))
        return self._solved("solve", factors, columns, batch, (n, k))

    def _solved(self, op: str, factors: list[lu.Factors], columns: list[lu.Rows], batch: Shape,
                shape: tuple[int, int]) -> Array:
        out: list[Number] = []
        for k, (f, b) in enumerate(zip(factors, columns, strict=True)):
            if f.zero_pivot is not None:
                raise matrix_error(op, SINGULAR[op], k, batch)
            try:
                values = [v for row in lu.solve(f, b) for v in row]
            except ArithmeticError:  # a Value that overflowed on the way
                values = [math.inf]
            if not self._finite(values):
                raise matrix_error(op, NEAR_SINGULAR[op], k, batch)
            out.extend(values)
        return self._array(out, (*batch, *shape))
