"""The parser's callbacks: they build the Value graph while the LALR parse reduces.

Each method is named after a grammar alias, i.e. an op table name, and gets the
children of its rule: tokens (lark's, with positions) or strings (the fast driver's),
and the Values already built below it.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import unicodedata
from typing import TYPE_CHECKING

from . import limits, notation, ops
from .engine import Value, apply_formula
from .errors import ParseError, shortened

if TYPE_CHECKING:
    from lark import Token

# The four letters that Unicode says to draw as nothing (Default_Ignorable_Code_Point) and that the
# grammar's NAME, like Python's identifiers, would otherwise take
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0")  # a set, not a regex: no start-up cost

# A literal with a digit other than 0 before its exponent: not zero, whatever float() makes of it
# (compiled when a literal gives 0.0, not on import)
_NONZERO = r"[^eE]*[1-9]"

# Python's own limit on int <-> str conversion; a longer literal cannot be a double anyway
_MAX_DIGITS = 4300


class Builder:
    """Callbacks named after the grammar's aliases, i.e. the op table's names."""

    def __init__(self) -> None:
        self.text = ""
        self.variables: dict[str, Value] = {}
        self.constants: dict[str, Value] = {}
        self.budget = 0  # nodes still allowed: counted down as they are made, refused below zero
        # products written without '*' (2x), by id, with their number's token: refused after '/' and '^'
        self.implied: dict[int, Token] = {}

    def reset(self, text: str, budget: int = 0) -> None:
        self.text = text
        self.variables = {}
        self.constants = {}
        self.budget = budget
        self.implied = {}

    def _too_many(self) -> Exception:
        limit = limits.get("nodes")
        return limits.error("nodes", f"the expression has more than {limit:,} node{'s' * (limit != 1)}", limit)

    def number(self, tok: Token) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        if len(tok) > _MAX_DIGITS:
            raise self._error(f"number literal too long ({len(tok)} characters)", tok)
        value = float(tok)
        if math.isinf(value):
            raise self._error(f"number too large for a double: {tok}", tok)
        if value == 0.0 and re.match(_NONZERO, tok):  # 1e-400: both ends of the doubles alike, never a silent 0
            raise self._error(f"number too small for a double: {tok} (it would be 0)", tok)
        return Value.constant(value)

    def coefficient(self, tok: Token, b: Value) -> Value:
        """2x, 2(x+1), 3sin(x): a number directly before a name, '(' or '√' multiplies."""
        if b.name in ("e", "E") and b.is_leaf:  # 2e-x: is it 2e-3 mistyped, or 2*e - x?
            raise self._error(f"{tok}{b.name} is not a number: write {tok}*{b.name} for the product "
                              f"(a number's exponent needs digits, as in {tok}{b.name}3)", tok)
        out = self.mul(self.number(tok), b)
        self.implied[id(out)] = tok
        return out

    def superscript(self, a: Value, tok: Token) -> Value:
        """x², x⁻¹: superscript digits are a power."""
        return self.pow(a, tok, self.number_value(notation.superscript_value(str(tok))))

    def number_value(self, value: float) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.constant(value)

    def abs(self, a: Value) -> Value:
        return self._unary("abs", a)

    def sqrt(self, a: Value) -> Value:
        return self._unary("sqrt", a)

    def _unary(self, op: str, a: Value) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node(op, (a,))

    def _refuse_implied(self, b: Value, where: str, example: str) -> None:
        tok = self.implied.get(id(b))
        if tok is not None:
            raise self._error(f"a product without '*' {where} is ambiguous ({example}): "
                              "write the '*' and the parentheses you mean", tok)

    def name(self, tok: Token) -> Value:
        name = str(tok)
        c = next((ch for ch in name if ch in _INVISIBLE), None)
        if c is not None:  # letters to Unicode, but they show as nothing: x and x+filler look alike
            raise self._error(f"a name holds U+{ord(c):04X} ({unicodedata.name(c).lower()}), a letter that shows as "
                              "nothing: rename the variable", tok)
        name = notation.CONSTANT_SPELLINGS.get(name, name)  # π is pi
        if name in ops.CONSTANTS:
            if name not in self.constants:
                self.budget -= 1
                self.constants[name] = Value.constant(ops.CONSTANTS[name], name=name)
            return self.constants[name]
        if notation.function_name(name) is not None:  # a table name or an alias: short
            raise self._error(f"{name} is a function: call it as {name}(...)", tok)
        leaf = self.variables.get(name)
        if leaf is None:
            self.budget -= 1
            if self.budget < 0:
                raise self._too_many()
            leaf = self.variables[name] = Value(math.nan, name=name)
        return leaf

    def call(self, tok: Token, args: list[Value] | None = None) -> Value:
        spelt, args = str(tok), args or []
        name = notation.function_name(spelt)  # every op by its name, pow(x, 2), mul(a, b); or an alias: ln(x)
        if name is None:
            raise self._error(f"unknown function {shortened(spelt)}{notation.suggestion(spelt)}", tok)
        op = ops.OPS[name]  # ln(x) makes a log node
        sugar = op.spelling(len(args))
        self.budget -= max(1, len(args) - 1) if sugar is None else _size(sugar)
        if self.budget < 0:
            raise self._too_many()
        if sugar is not None:  # log(x, b): log(x) / log(b)
            env = dict(zip(ops.ARG_NAMES, args, strict=False))
            return apply_formula(sugar, env, _node)
        if op.variadic and len(args) >= op.arity:
            out = Value.node(name, args[:2])
            for a in args[2:]:
                out = Value.node(name, (out, a))
            return out
        if len(args) != op.arity:
            raise self._error(f"{spelt} takes {_arity_text(name, op)}, got {len(args)}", tok)
        return Value.node(name, args)

    def arguments(self, *args: Value) -> list[Value]:
        return list(args)

    def add(self, a: Value, b: Value) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("add", (a, b))

    def sub(self, a: Value, b: Value) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("sub", (a, b))

    def mul(self, a: Value, b: Value) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("mul", (a, b))

    def div(self, a: Value, b: Value) -> Value:
        self._refuse_implied(b, "after '/'", "as in 1/2x: 1/(2*x) or x/2?")
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("div", (a, b))

    def pow(self, a: Value, _tok: Token, b: Value) -> Value:
        self._refuse_implied(b, "in an exponent", "as in e^2x: e^(2*x) or e^2*x?")
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("pow", (a, b))

    def neg(self, a: Value) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        out = Value.node("neg", (a,))
        if id(a) in self.implied:  # 2^-3x is as ambiguous as 2^3x
            self.implied[id(out)] = self.implied[id(a)]
        return out

    def pos(self, a: Value) -> Value:
        return a

    # Tensor syntax: the grammar has it, autodiff_cli/texpr/ builds it; a scalar expression refuses it
    # (the command line sends an expression with tensor syntax to the tensor parser by itself)

    def matmul(self, _a: Value, tok: Token, _b: Value) -> Value:
        raise self._tensor_syntax("'@' (the matrix product)", tok)

    def transpose(self, _a: Value, tok: Token) -> Value:
        raise self._tensor_syntax("'.T' (the transpose)", tok)

    def index(self, _a: Value, tok: Token, _subscripts: list) -> Value:
        raise self._tensor_syntax("indexing x[...]", tok)

    def array(self, tok: Token, _elements: list | None = None) -> Value:
        raise self._tensor_syntax("an array [...]", tok)

    def keyword(self, tok: Token, _value: Value) -> Value:
        raise self._tensor_syntax(f"a keyword argument ({shortened(str(tok))}=...)", tok)

    def slice(self, *children: Value | Token) -> Value:
        raise self._tensor_syntax("a slice (:)", next(c for c in children if isinstance(c, str)))

    def subscripts(self, *args: Value) -> list[Value]:
        return list(args)

    def _tensor_syntax(self, what: str, tok: Token) -> ParseError:
        return self._error(f"{what} is tensor syntax, which a scalar expression does not have: "
                           "parse it with autodiff_cli.texpr.parse", tok)

    def _error(self, message: str, tok: Token) -> ParseError:
        # the fast driver passes plain strings: parse() then asks lark for the position
        return ParseError(message, self.text, getattr(tok, "column", None), getattr(tok, "line", 1))


class LarkCallbacks:
    """The builder as lark calls it: one list of children per rule."""

    def __init__(self, builder: Builder) -> None:
        self._builder = builder

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self._builder, name)  # AttributeError: lark's default (a ?rule passes through)
        return lambda children: method(*children)


@functools.cache
def _size(tree: ast.AST) -> int:
    """Nodes a sugar formula makes (its operations and numbers), an upper bound for the node count."""
    return sum(isinstance(n, ast.BinOp | ast.UnaryOp | ast.Call | ast.Constant) for n in ast.walk(tree))


def _node(op: str, *args: Value) -> Value:
    return Value.node(op, args)


def _arity_text(name: str, op: ops.Op) -> str:
    counts = sorted({op.arity, *(n for n, _ in op.spellings)})
    if op.variadic:
        return f"{op.arity} or more arguments"
    words = " or ".join(str(c) for c in counts)
    return f"{words} argument{'s' if counts[-1] != 1 else ''}"
