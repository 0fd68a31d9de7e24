"""Which of the NumPy backend's elementwise results cannot leave the doubles, so need no look for inf and NaN.

A small abstract interpretation of the expressions numpy_rules.py generates: each node is
a number in [-1, 1], a finite number, or anything, given that every argument is a finite
double.  relu is np.where(x > 0.0, x, 0.0): one of its arguments, finite.  relu's derivative
is g * step(x), a finite g times 0 or 1: finite.  x + y is anything (1e308 + 1e308 is inf).
A test (tests/test_backend_numpy.py) runs every result said to stay finite on extreme arguments.
"""

from __future__ import annotations

import ast

from ... import ops
from ...ops import Op
from .numpy_rules import expression

__all__ = ["stays_finite"]

# What a NumPy expression can give when every argument is a finite double: a number in [-1, 1]
# (step, sign, a comparison), a finite number (x, where(x > 0, x, 0), g * step(x)), or anything
# (x + y overflows past 1.8e308, exp(x) past 709.8, 0 / 0 is NaN).
UNIT, FINITE, ANY = 0, 1, 2
_KEEPS = {"abs", "floor", "ceil", "trunc"}  # |f(v)| <= |v| + 1 and finite: the argument's bound
_LARGER = {"where", "maximum", "minimum"}  # one of the arguments: the larger bound
_WITHIN = {"tanh": UNIT, "sin": UNIT, "cos": UNIT, "arctan": FINITE, "arctan2": FINITE}  # bounded everywhere
_ANALYSED: dict[Op, int] = {}


def _bound(node: ast.expr) -> int:
    if isinstance(node, ast.Name):
        return FINITE  # an argument, out or g: finite doubles by the backend's promise
    if isinstance(node, ast.Constant):
        return UNIT if abs(node.value) <= 1 else FINITE
    if isinstance(node, ast.Compare):
        return UNIT  # True or False
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        return UNIT
    if isinstance(node, ast.UnaryOp):
        return UNIT if isinstance(node.op, ast.Invert) else _bound(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and _zero(node.right):
        return _bound(node.left)  # v + 0.0: v, its zero's sign made +
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        a, b = sorted((_bound(node.left), _bound(node.right)))
        return b if a == UNIT else ANY  # a factor in [-1, 1] cannot make a product overflow
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "astype":
        return _bound(node.func.value)  # True and False as 1.0 and 0.0
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        bounds = [_bound(a) for a in node.args]
        if node.func.attr in _KEEPS:
            return max(bounds[0], FINITE)
        if node.func.attr in _WITHIN:
            return _WITHIN[node.func.attr]
        if node.func.attr in _LARGER:
            return max(bounds[1:] if node.func.attr == "where" else bounds)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("_np_"):
        return _forward_bound(ops.OPS[node.func.id[4:]])  # a table function: its own forward's bound
    return ANY


def _zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0


def _forward_bound(op: Op) -> int:
    found = _ANALYSED.get(op)
    if found is None:
        _ANALYSED[op] = ANY  # while it is analysed: a forward that calls itself proves nothing
        tree = expression(op)
        found = _ANALYSED[op] = ANY if tree is None else _bound(tree)
    return found


def stays_finite(op: Op, i: int | None = None) -> bool:
    """Whether the forward (i None) or g * the derivative by argument i is a finite double wherever the
    arguments are (relu, step, abs, g * step(x)): then the backend need not look for inf and NaN."""
    if i is None:
        return _forward_bound(op) != ANY
    tree = expression(op, i)
    return tree is not None and _bound(tree) != ANY
