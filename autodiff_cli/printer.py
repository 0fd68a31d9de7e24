"""Graphs printed back as expressions, in the project's syntax.

`to_text` prints any graph with the fewest parentheses that keep its meaning,
down to the order of floating-point operations, so parsing the text gives back
the same function, bit for bit.  Standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import limits, ops
from .engine import Value, topological_order
from .errors import LimitError

__all__ = ["check_length", "printed_lengths", "to_text"]


_ATOM, _POWER, _UNARY, _PRODUCT, _SUM = 9, 4, 3, 2, 1


def to_text(root: Value, max_length: int | None = None) -> str:
    """The expression a graph computes, in the project's syntax, with minimal parentheses.

    Parsing the text gives the same operations in the same order (so the same
    doubles), except that -(a*b) prints as -a*b, which is the same number.
    A node used in several places is printed in each (expressions have no names
    for parts); the length is checked before the text is built.  Variables made
    without a name (Value(2.0)) print as _1, _2, ... in order of appearance.
    """
    if max_length is None:
        max_length = limits.get("output")
    order = topological_order(root)
    check_length([root], max_length)
    texts: dict[int, tuple[str, int]] = {}
    unnamed = 0
    for node in order:
        if not node.parents and node.name is None and not node.is_constant:
            unnamed += 1
            texts[id(node)] = (f"_{unnamed}", _ATOM)
        else:
            texts[id(node)] = _text(node, texts)
    text = texts[id(root)][0]
    if len(text) > max_length:
        raise _too_long(f"{len(text):,}", max_length)
    return text


def printed_lengths(roots: Sequence[Value]) -> list[int]:
    """For each graph, a lower bound on the length of its text (to_text), worked out without building any text.

    Each node's bound comes from its parents' once, over all the graphs together
    (they share parts): the names and numbers, the operators and the function
    calls' commas, but no parentheses, so the text is at least that long.
    """
    length: dict[int, int] = {}
    stack = [(r, False) for r in roots]
    while stack:
        node, ready = stack.pop()
        if id(node) in length:
            continue
        if not ready and node.parents:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if id(p) not in length)
            continue
        if not node.parents:
            if node.name is not None:
                n = len(node.name)
            elif node.is_constant:
                n = len(ops.number_text(node.data))
            else:
                n = 2  # _1
        else:
            spec = ops.OPS[node.op]
            n = sum(length[id(p)] for p in node.parents)
            if spec.symbol is None:
                n += len(spec.name) + 2 + 2 * (len(node.parents) - 1)
            elif spec.arity == 1 or node.op == "pow":
                n += 1
            else:
                n += len(spec.symbol) + (2 if spec.precedence == _SUM else 0)
        length[id(node)] = n
    return [length[id(r)] for r in roots]


def check_length(roots: Sequence[Value], max_length: int | None = None) -> None:
    """LimitError if the graphs' texts together would certainly be longer than max_length (the `output` limit)."""
    if max_length is None:
        max_length = limits.get("output")
    least = sum(printed_lengths(roots))
    if least > max_length:
        raise _too_long(f"at least {least:,}", max_length)


def _too_long(size: str, max_length: int) -> LimitError:
    return limits.error("output", f"the derivative would print {size} characters", max_length,
                        "evaluate it at a point with grad or hessian instead")


def _text(node: Value, texts: dict[int, tuple[str, int]]) -> tuple[str, int]:
    """(text, precedence) of a node, from its parents' texts."""
    if not node.parents:
        if node.name is not None:
            return node.name, _ATOM
        text = ops.number_text(node.data)
        return text, (_UNARY if text.startswith("-") else _ATOM)
    spec = ops.OPS[node.op]
    args = [texts[id(p)] for p in node.parents]
    if spec.symbol is None:
        return f"{spec.name}({', '.join(t for t, _ in args)})", _ATOM
    if spec.arity == 1:  # neg: -(a*b) and (-a)*b are the same double, so no parentheses
        text, prec = args[0]
        if prec < _PRODUCT:
            return f"-({text})", _UNARY
        return f"-{text}", min(prec, _UNARY)
    (left, lp), (right, rp) = args
    if node.op == "pow":  # the base is an atom, the exponent a factor (may be signed)
        left = left if lp == _ATOM else f"({left})"
        right = right if rp >= _UNARY else f"({right})"
        return f"{left}^{right}", _POWER
    prec = spec.precedence
    left = left if lp >= prec else f"({left})"
    right = right if rp > prec else f"({right})"
    sep = f" {spec.symbol} " if prec == _SUM else spec.symbol
    return f"{left}{sep}{right}", prec
