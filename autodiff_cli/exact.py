"""Exact numbers for the simplifier: which results a double holds exactly, and how a coefficient is written.

The simplifier folds 2*3 into 6 but leaves 1/3, log(2) and 0.1 + 0.2 as the
operations that make them, so that a printed derivative computes what its graph
computes.  Standard library and the op table only.
"""

from __future__ import annotations

import math
from fractions import Fraction

from . import ops

__all__ = ["fold", "parts", "writable"]

EXACT = 2**53  # integers up to this are exact doubles


def exact(c: Fraction) -> bool:
    """c's numerator and denominator are both whole doubles."""
    return abs(c.numerator) <= EXACT and c.denominator <= EXACT


def writable(c: Fraction) -> bool:
    """c can be written exactly: as a double, or as p/q of two whole doubles.

    Anything else (1e16 + 1, 0.1 + 0.2, 1e308 * 10) is left as the operations that
    make it, so the printed expression computes what the graph computes.
    """
    if exact(c):
        return True
    try:
        return float(c) == c
    except OverflowError:
        return False


def parts(c: Fraction) -> tuple[float, float]:
    """A positive coefficient as numerator and denominator: 3/4 as (3, 4), 0.7 as (0.7, 1)."""
    if c.denominator <= 1024 and c.numerator <= EXACT:
        return float(c.numerator), float(c.denominator)  # x/2, 3*x/4: as people write them
    if float(c) == c:
        return float(c), 1.0  # 0.7, 1e-300: the double itself
    return float(c.numerator), float(c.denominator)  # 1/3 * 0.7: an exact quotient


def fold(op: str, numbers: list[float]) -> float | None:
    """op applied to numbers, when the double result is exact; else None (log(2) stays log(2))."""
    spec = ops.OPS[op]
    try:
        r = spec.fn(*numbers)
    except (ArithmeticError, ValueError):
        return None
    if not math.isfinite(r):
        return None
    q = [Fraction(n) for n in numbers]
    result: Fraction | None
    if op == "add":
        result = q[0] + q[1]
    elif op == "sub":
        result = q[0] - q[1]
    elif op == "mul":
        result = q[0] * q[1]
    elif op == "div":
        result = q[0] / q[1]
    elif op == "neg":
        result = -q[0]
    elif op == "pow":
        result = q[0] ** int(q[1]) if q[1].denominator == 1 and abs(q[1]) < 1100 else None
    elif spec.exact:  # abs, sign, relu, max, floor: the float result is the exact one
        result = Fraction(r)
    else:  # sqrt(4), exp(0), log(1), cos(0): whole numbers in, whole number out
        whole = all(n.is_integer() for n in numbers) and r.is_integer()
        # sqrt is checked by squaring back: sqrt of a huge whole number is whole but rounded
        result = Fraction(r) if whole and (op != "sqrt" or r * r == numbers[0]) else None
    if result is None or Fraction(r) != result:
        return None
    return r
