"""The op table's forwards and derivative rules on NumPy arrays.

(First version: every element through the table's float functions, np.frompyfunc; the
vectorised translation replaces it.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ... import rulecode
from ...ops import Op

__all__ = ["derivative", "forward", "has_domain", "undefined"]


def _safe(f: Callable[..., float]) -> Callable[..., float]:
    """f on one element, NaN where it fails: the backend then asks the scalar path for the error."""

    def element(*args: float) -> float:
        try:
            return f(*args)
        except (ArithmeticError, ValueError):
            return math.nan

    return element


def forward(op: Op, xp: Any) -> Callable[..., Any]:
    """The forward of op on arrays (broadcast together)."""
    ufunc = xp.frompyfunc(_safe(op.fn), op.arity, 1)
    return lambda *args: ufunc(*args).astype(xp.float64)


def derivative(op: Op, i: int, xp: Any) -> Callable[..., Any]:
    """(x[, y], out, g) -> g * d out / d arg_i on arrays."""
    ufunc = xp.frompyfunc(_safe(rulecode.products(op)[i]), op.arity + 2, 1)
    return lambda *args: ufunc(*args).astype(xp.float64)


def has_domain(op: Op) -> bool:
    return bool(op.domain)


def undefined(op: Op, args: Sequence[Any], xp: Any) -> Any:
    """True where the table's domain says op is undefined."""
    ufunc = xp.frompyfunc(lambda *a: op.domain_error(*a) is not None, op.arity, 1)
    return ufunc(*args).astype(bool)
