"""det, logdet, inv and solve on the NumPy backend: numpy.linalg (LAPACK's LU with partial pivoting).

A mixin of NumpyBackend.  numpy.linalg works on batches (..., n, n) by itself; what is added
here is the project's errors, in the same words as the Python backend's (square.py): a
singular matrix (LAPACK finds a pivot that is exactly 0), one so close to singular that the
result is not a finite double, a determinant that overflows, logdet of det <= 0.
"""

from __future__ import annotations

from typing import Any

import numpy

from . import DET_OVERFLOW, LOGDET_ZERO, NEAR_SINGULAR, SINGULAR, logdet_negative, matrix_error

__all__ = ["NumpySquare"]

Array = Any


def _first_bad(bad: Array) -> int:
    """The row-major position of the first True of a boolean array (of the batch's shape)."""
    return int(numpy.flatnonzero(numpy.ravel(bad))[0])


class NumpySquare:
    """The square-matrix kernels of backends.Backend on NumPy arrays (self.xp is the array module)."""

    xp: Any

    def det(self, a: Array) -> Array:
        with numpy.errstate(all="ignore"):
            d = self.xp.linalg.det(a)
        bad = ~self.xp.isfinite(d)
        if bad.any():
            raise matrix_error("det", DET_OVERFLOW, _first_bad(bad), d.shape)
        return self.xp.asarray(d, dtype=self.xp.float64)

    def logdet(self, a: Array) -> Array:
        with numpy.errstate(all="ignore"):
            sign, logabs = self.xp.linalg.slogdet(a)
        bad = sign <= 0.0
        if bad.any():
            k = _first_bad(bad)
            if numpy.ravel(sign)[k] == 0.0:
                raise matrix_error("logdet", LOGDET_ZERO, k, sign.shape)
            with numpy.errstate(all="ignore"):
                det = -float(numpy.exp(numpy.ravel(logabs)[k]))
            raise matrix_error("logdet", logdet_negative(det), k, sign.shape)
        return self.xp.asarray(logabs, dtype=self.xp.float64)

    def inv(self, a: Array) -> Array:
        return self._solved("inv", a, None)

    def solve(self, a: Array, b: Array) -> Array:
        return self._solved("solve", a, b)

    def _solved(self, op: str, a: Array, b: Array | None) -> Array:
        linalg = self.xp.linalg
        batch = a.shape[:-2]
        with numpy.errstate(all="ignore"):
            try:
                out = linalg.inv(a) if b is None else linalg.solve(a, b)
            except linalg.LinAlgError:  # a zero pivot in some matrix: which one, LAPACK does not say
                raise matrix_error(op, SINGULAR[op], self._singular_one(a), batch) from None
        bad = ~self.xp.isfinite(out).all(axis=(-2, -1))
        if bad.any():
            raise matrix_error(op, NEAR_SINGULAR[op], _first_bad(bad), batch)
        return out

    def _singular_one(self, a: Array) -> int:
        """The first matrix of a batch that LAPACK cannot invert (0 for a single matrix)."""
        if a.ndim == 2:
            return 0
        for k, m in enumerate(a.reshape(-1, *a.shape[-2:])):
            try:
                self.xp.linalg.inv(m)
            except self.xp.linalg.LinAlgError:
                return k
        return 0
