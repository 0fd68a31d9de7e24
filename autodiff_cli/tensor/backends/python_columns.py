"""A formula over numbers turned into a formula over columns: each operation becomes a map.

The scalar engine multiplies the gradient by a derivative rule one number at a time, in a
function the op table compiles (rulecode.products):

    def d(x, out, g):
        return g * (_f_sech(x) ** 2.0)          # tanh's rule, times g

Over columns of values (all the x's, all the g's of a tensor) the same expression can be
written with ``map``, the inner operations first:

    map(mul, gs, map(pow, map(sech, xs), repeat(2.0)))

Each element goes through the same operations in the same order, so the results are the
same bits as the per-element function's; but the loops run in C (``map``, ``operator.mul``),
and Python code runs only inside the table's own functions (sech).  Formulas made of names,
numbers, + - * / **, unary minus and calls become maps; one with a condition (pow's
``0.0 if y == 0.0 else ...``) gives None, and the caller runs it element by element.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat

__all__ = ["Columns", "column_formula"]

Columns = Callable[[Mapping[str, Iterable[float]]], Iterable[float]]  # columns by name -> the result's column

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_BUILTINS: dict[str, Callable[..., float]] = {"abs": abs, "max": max, "min": min, "float": float}


def column_formula(source: str | ast.expr, functions: Mapping[str, Callable[..., float]]) -> Columns | None:
    """The formula as a function of columns (each a re-iterable sequence, by name), or None if it has a condition.

    functions: what the formula's calls mean (the table's float functions, by the name the source calls them);
    ``math.<name>`` and abs, max, min, float are what they are in Python.
    """
    tree = ast.parse(source, mode="eval").body if isinstance(source, str) else source
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    if not any(isinstance(n, ast.Name) and id(n) not in called for n in ast.walk(tree)):
        return None  # numbers only: every column would be endless (repeat), nothing says how long
    try:
        return _columns(tree, functions)
    except _NotAMap:
        return None


class _NotAMap(Exception):
    """A part of the formula that map cannot express (a condition, a keyword argument)."""


def _columns(node: ast.expr, functions: Mapping[str, Callable[..., float]]) -> Columns:
    if isinstance(node, ast.Name):
        name = node.id
        return lambda env: env[name]
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        return lambda env: repeat(value)  # endless: map stops with the shortest column
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        f, left, right = _BINARY[type(node.op)], _columns(node.left, functions), _columns(node.right, functions)
        return lambda env: map(f, left(env), right(env))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        g, operand = _UNARY[type(node.op)], _columns(node.operand, functions)
        return lambda env: map(g, operand(env))
    if isinstance(node, ast.Call) and not node.keywords:
        called = _function(node.func, functions)
        args = [_columns(a, functions) for a in node.args]
        return lambda env: map(called, *(a(env) for a in args))
    raise _NotAMap


def _function(func: ast.expr, functions: Mapping[str, Callable[..., float]]) -> Callable[..., float]:
    if isinstance(func, ast.Name) and func.id in functions:
        return functions[func.id]
    if isinstance(func, ast.Name) and func.id in _BUILTINS:
        return _BUILTINS[func.id]
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "math":
        found = getattr(math, func.attr, None)
        if callable(found):
            return found
    raise _NotAMap
