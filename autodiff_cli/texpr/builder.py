"""The tensor builder: the grammar's callbacks, making a small program of Nodes with source positions.

The scalar parser's callbacks (parser_build.py) make Values at once; these make Nodes,
which a Program later runs on Tensors as many times as it is asked (check, the Hessian
and the Jacobian run it again on other values).  The LALR loop (parser_driver.py's
parse_located) calls them in the order the parse reduces, so the list of Nodes, in the
order they were made, has every node after its arguments: running it is one plain loop.

Everything that the text alone decides is checked here, as a ParseError (exit 2) with a
caret: function names and their arguments, keyword arguments (axis= must be a whole
number written in the expression), indices and slices, ragged array literals and their
size.  What depends on the values bound (shapes) is checked when the program runs.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from .. import notation, ops
from ..errors import ParseError, shortened
from . import functions
from .nodes import Keyword, Node, Slice, location

# Python's own limit on int <-> str conversion; a longer literal cannot be a double anyway
_MAX_DIGITS = 4300
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0")


class TensorBuilder:
    """Callbacks named after the grammar's aliases; `spans` is set by the LALR loop before each call."""

    def __init__(self) -> None:
        self.reset("")

    def reset(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int]] = []
        self.variables: dict[str, Node] = {}
        self.constants: dict[str, Node] = {}
        self.implied: set[int] = set()  # products written without '*' (2x), refused after '/' and '^'

    # -- positions and errors

    def _node(self, op: str, args: tuple[Node, ...], at: int, value: Any = None) -> Node:
        spans = self.spans
        return Node(op, args, spans[0][0], spans[-1][1], at, value)

    def error(self, message: str, offset: int) -> ParseError:
        line, column = location(self.text, offset)
        return ParseError(message, self.text, column, line)

    def _at(self, i: int) -> int:
        return self.spans[i][0]

    # -- numbers, names, constants

    def number(self, tok: str) -> Node:
        return self._node("number", (), self._at(0), self._float(tok, self._at(0)))

    def _float(self, tok: str, at: int) -> float:
        if len(tok) > _MAX_DIGITS:
            raise self.error(f"number literal too long ({len(tok)} characters)", at)
        value = float(tok)
        if math.isinf(value):
            raise self.error(f"number too large for a double: {tok}", at)
        if value == 0.0 and re.match(r"[^eE]*[1-9]", tok):
            raise self.error(f"number too small for a double: {tok} (it would be 0)", at)
        return value

    def name(self, tok: str) -> Node:
        at = self._at(0)
        name = str(tok)
        c = next((ch for ch in name if ch in _INVISIBLE), None)
        if c is not None:
            raise self.error(f"a name holds U+{ord(c):04X} ({unicodedata.name(c).lower()}), a letter that shows as "
                             "nothing: rename the variable", at)
        name = notation.CONSTANT_SPELLINGS.get(name, name)
        if name in ops.CONSTANTS:
            if name not in self.constants:
                self.constants[name] = self._node("constant", (), at, (name, ops.CONSTANTS[name]))
            return self.constants[name]
        if notation.function_name(name) is not None:
            raise self.error(f"{name} is a function: call it as {name}(...)", at)
        leaf = self.variables.get(name)
        if leaf is None:
            leaf = self.variables[name] = self._node("variable", (), at, name)
        return leaf

    # -- operators

    def _table(self, op: str, args: tuple[Node, ...], at: int) -> Node:
        return self._node("table", args, at, op)

    def add(self, a: Node, b: Node) -> Node:
        return self._table("add", (a, b), self._at(1))

    def sub(self, a: Node, b: Node) -> Node:
        return self._table("sub", (a, b), self._at(1))

    def mul(self, a: Node, b: Node) -> Node:
        return self._table("mul", (a, b), self._at(1))

    def div(self, a: Node, b: Node) -> Node:
        self._refuse_implied(b, "after '/'", "as in 1/2x: 1/(2*x) or x/2?")
        return self._table("div", (a, b), self._at(1))

    def pow(self, a: Node, _tok: str, b: Node) -> Node:
        self._refuse_implied(b, "in an exponent", "as in e^2x: e^(2*x) or e^2*x?")
        return self._table("pow", (a, b), self._at(1))

    def matmul(self, a: Node, _tok: str, b: Node) -> Node:
        return self._node("matmul", (a, b), self._at(1))

    def neg(self, a: Node) -> Node:
        out = self._table("neg", (a,), self._at(0))
        if id(a) in self.implied:
            self.implied.add(id(out))
        return out

    def pos(self, a: Node) -> Node:
        return a

    def abs(self, a: Node) -> Node:
        return self._table("abs", (a,), self._at(0))

    def sqrt(self, a: Node) -> Node:
        return self._table("sqrt", (a,), self._at(0))

    def coefficient(self, tok: str, b: Node) -> Node:
        """2x, 2(x+1), 3sin(x): a number directly before a name, '(' or '√' multiplies."""
        at = self._at(0)
        if (b.op == "constant" and b.value[0] == "e") or (b.op == "variable" and b.value == "E"):  # 2e-x: 2e-3?
            e = b.value if b.op == "variable" else "e"
            raise self.error(f"{tok}{e} is not a number: write {tok}*{e} for the product "
                             f"(a number's exponent needs digits, as in {tok}{e}3)", at)
        number = Node("number", (), at, at + len(tok), at, self._float(tok, at))
        out = self._table("mul", (number, b), at)
        self.implied.add(id(out))
        return out

    def superscript(self, a: Node, tok: str) -> Node:
        """x², x⁻¹: superscript digits are a power."""
        at = self._at(1)
        exponent = Node("number", (), at, self.spans[1][1], at, notation.superscript_value(str(tok)))
        return self._table("pow", (a, exponent), at)

    def transpose(self, a: Node, _tok: str) -> Node:
        return self._node("transpose", (a,), self._at(1) + 1)

    def _refuse_implied(self, b: Node, where: str, example: str) -> None:
        if id(b) in self.implied:
            raise self.error(f"a product without '*' {where} is ambiguous ({example}): "
                             "write the '*' and the parentheses you mean", b.start)

    # -- calls

    def arguments(self, *args: Node | Keyword) -> list[Node | Keyword]:
        return list(args)

    def keyword(self, tok: str, value: Node) -> Keyword:
        return Keyword(str(tok), value, self._at(0))

    def call(self, tok: str, args: list[Node | Keyword] | None = None) -> Node:
        at = self._at(0)
        positional = [a for a in args or () if isinstance(a, Node)]
        keywords: dict[str, Keyword] = {}
        for a in args or ():
            if isinstance(a, Keyword):
                name = functions.KEYWORD_ALIASES.get(a.name, a.name)
                if name in keywords:
                    raise self.error(f"{name}= is given twice", a.at)
                keywords[name] = a
        name, options = functions.check_call(self, str(tok), positional, keywords, at)
        places = {name: keyword.at for name, keyword in keywords.items()}  # for a caret under axis=
        return self._node("call", tuple(positional), at, (name, options, places))

    # -- arrays, indexing, slicing

    def array(self, tok: str, elements: list[Node | Keyword] | None = None) -> Node:
        at = self._at(0)
        items: list[Node] = []
        for e in elements or ():
            if isinstance(e, Keyword):
                raise self.error(f"{e.name}= inside an array: an array holds numbers and expressions", e.at)
            items.append(e)
        literal = functions.literal(self, items, at)
        if literal is not None:
            return self._node("literal", (), at, literal)
        return self._node("array", tuple(items), at)

    def subscripts(self, *items: Node | Slice) -> list[Node | Slice]:
        return list(items)

    def slice(self, *children: Node | str) -> Slice:
        parts: list[Node | None] = [None]
        colon_at = -1
        for child in children:
            if isinstance(child, Node):
                parts[-1] = child
            else:  # a ':'
                if colon_at < 0:
                    colon_at = len(parts)
                parts.append(None)
        at = self.spans[0][0] if parts[0] is None else self.spans[1][0]
        return Slice(parts, at)

    def index(self, a: Node, _tok: str, items: list[Node | Slice]) -> Node:
        key = tuple(functions.subscript(self, item) for item in items)
        places = tuple(item.at if isinstance(item, Slice) else item.start for item in items)
        return self._node("index", (a,), self._at(1), (key, places))

    def describe(self, node: Node) -> str:
        """The text of a node, shortened for a message."""
        return shortened(self.text[node.start:node.end])
