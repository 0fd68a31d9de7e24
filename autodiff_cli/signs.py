"""What the simplifier can tell about a node's sign without computing it: nonzero, positive, nonnegative.

Cheap, safe tests, not proofs: True means certainly, False means perhaps not.  Besides
the arithmetic (a sum of positives is positive), what they know comes from the op
table's facts (exp is positive, sqrt nonnegative).  Standard library only.
"""

from __future__ import annotations

from . import ops
from .engine import Value


def number(v: Value) -> float | None:
    """The value of an unnamed constant node (a number written as such), else None."""
    return v.data if v.is_constant and v.name is None else None


def nonzero(v: Value, depth: int = 0) -> bool:
    """True when v cannot be 0 wherever it is defined (a cheap, safe test, not a proof)."""
    if depth > 20:
        return False
    n = number(v)
    if n is not None:
        return n != 0.0
    if v.is_constant:  # pi, e
        return True
    if fact(v, "positive"):
        return True
    if v.op in ("mul", "div", "neg", "pow"):
        return nonzero(v.parents[0], depth + 1) and (v.op != "mul" or nonzero(v.parents[1], depth + 1))
    if v.op == "add":
        return positive(v, depth + 1)
    return False


def fact(v: Value, fact: str) -> bool:
    """A fact of the op table about the operation that made v (positive, nonnegative); False for leaves."""
    spec = ops.OPS.get(v.op)
    return spec is not None and getattr(spec, fact)


def positive(v: Value, depth: int = 0) -> bool:
    if depth > 20:
        return False
    n = number(v)
    if n is not None:
        return n > 0.0
    if fact(v, "positive") or (v.is_constant and v.data > 0):
        return True
    if v.op == "add":
        a, b = v.parents
        d = depth + 1
        return (positive(a, d) and nonnegative(b, d)) or (nonnegative(a, d) and positive(b, d))
    if v.op in ("mul", "div"):
        return positive(v.parents[0], depth + 1) and positive(v.parents[1], depth + 1)
    return False


def nonnegative(v: Value, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if positive(v, depth + 1) or fact(v, "nonnegative"):
        return True
    if v.op == "pow" and (k := number(v.parents[1])) is not None and k.is_integer() and k % 2 == 0:
        return True
    if v.op == "mul":
        a, b = v.parents
        return (a is b) or (nonnegative(a, depth + 1) and nonnegative(b, depth + 1))
    if v.op == "add":
        return nonnegative(v.parents[0], depth + 1) and nonnegative(v.parents[1], depth + 1)
    return False
