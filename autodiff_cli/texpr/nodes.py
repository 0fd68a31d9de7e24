"""The pieces of a tensor program: Nodes, and what a call's keywords and an index's slices are on the way.

Standard library only: the parser makes them, the program runs them.
"""

from __future__ import annotations

from typing import Any


class Node:
    """One step of a program: what it does (op), its arguments, where it is in the text.

    op: "number", "constant" (pi, e), "variable", "literal" (an array of numbers, value = (flat, shape)),
    "array" (elements to stack), "table" (value = the op table's name: add, mul, tanh, ...), "matmul",
    "transpose", "index" (value = (the key, where each of its entries is)), "call" (value = (function,
    keyword values, where each keyword is)).
    start, end: the span of its text (for labels); at: the offset of its operator or name (for carets).
    """

    __slots__ = ("args", "at", "end", "op", "start", "value")

    def __init__(self, op: str, args: tuple[Node, ...], start: int, end: int, at: int, value: Any = None) -> None:
        self.op = op
        self.args = args
        self.start = start
        self.end = end
        self.at = at
        self.value = value

    def __repr__(self) -> str:
        return f"Node({self.op!r}, {self.value!r}, args={len(self.args)}, at={self.at})"


class Keyword:
    """name=value inside a call's parentheses, before the call sees it."""

    __slots__ = ("at", "name", "value")

    def __init__(self, name: str, value: Node, at: int) -> None:
        self.name, self.value, self.at = name, value, at


class Slice:
    """start:stop:step inside [...], as written (None where left out)."""

    __slots__ = ("at", "parts")

    def __init__(self, parts: list[Node | None], at: int) -> None:
        self.parts, self.at = parts, at


def location(text: str, offset: int) -> tuple[int, int]:
    """(line, column), both from 1, of an offset into the text."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - text.rfind("\n", 0, offset)
