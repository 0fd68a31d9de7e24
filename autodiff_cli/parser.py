"""Text to graph: the Lark grammar, parsed LALR, builds the Value graph as it reduces.

The parser is built once per process from lark's LALR tables, generated from the
grammar into autodiff_cli/grammar_tables.py (lark itself loads only to report an
error), and the graph is made by callbacks that run during the LALR parse (no parse tree, no recursion), so
10,000 nested parentheses or a sum of 100,000 terms parse in well under a second.
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
import os
import re
import sys
import threading
import unicodedata
from typing import TYPE_CHECKING, Any

from . import limits, ops
from .engine import Value, apply_formula
from .errors import ParseError, shortened
from .expression import Expression

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

_LOCK = threading.Lock()
_PARSER: tuple[_Builder, _Driver | None] | None = None
_LARK: Lark | None = None  # lark itself: built only to place an error, or if the tables do not match the grammar

# The four letters that Unicode says to draw as nothing (Default_Ignorable_Code_Point) and that the
# grammar's NAME, like Python's identifiers, would otherwise take
_INVISIBLE = re.compile("[\u115f\u1160\u3164\uffa0]")

# Python's own limit on int <-> str conversion; a longer literal cannot be a double anyway
_MAX_DIGITS = 4300


def grammar_path() -> str:
    """The grammar: the copy shipped inside the wheel, else the source tree's grammars/ folder."""
    here = os.path.dirname(os.path.abspath(__file__))
    shipped = os.path.join(here, "grammars", "expression.lark")
    if os.path.exists(shipped):
        return shipped
    return os.path.join(os.path.dirname(os.path.realpath(here)), "grammars", "expression.lark")


def grammar_text() -> str:
    with open(grammar_path(), encoding="utf-8") as f:
        return f.read()


def _cache_path() -> str | bool:
    """Where lark keeps the analysed grammar: a private folder of the user's cache."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG rule: a relative path is ignored (it would depend on the folder we are in)
        base = os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "autodiff")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK) or not _private(folder, directory=True):
        return False
    import lark

    version = f"{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}"
    path = os.path.join(folder, f"grammar-{version}.lark-cache")
    if os.path.lexists(path) and not _private(path, directory=False):
        return False
    return path


def _private(path: str, directory: bool) -> bool:
    """Whether only this user can change `path`: lark's cache is a pickle, and loading a pickle runs
    whatever it says, so a cache that someone else could have written is never read (nor written)."""
    import stat

    try:
        info = os.lstat(path)  # a link is not followed: it could point anywhere
    except OSError:
        return False
    kind = stat.S_ISDIR if directory else stat.S_ISREG
    if not kind(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


class _Builder:
    """Callbacks named after the grammar's aliases, i.e. the op table's names."""

    def __init__(self) -> None:
        self.text = ""
        self.variables: dict[str, Value] = {}
        self.constants: dict[str, Value] = {}
        self.budget = 0  # nodes still allowed: counted down as they are made, refused below zero

    def reset(self, text: str, budget: int = 0) -> None:
        self.text = text
        self.variables = {}
        self.constants = {}
        self.budget = budget

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
        return Value.constant(value)

    def name(self, tok: Token) -> Value:
        name = str(tok)
        if _INVISIBLE.search(name):  # letters to Unicode, but they show as nothing: x and x+filler look alike
            c = _INVISIBLE.search(name).group()  # type: ignore[union-attr]
            raise self._error(f"a name holds U+{ord(c):04X} ({unicodedata.name(c).lower()}), a letter that shows as "
                              "nothing: rename the variable", tok)
        if name in ops.CONSTANTS:
            if name not in self.constants:
                self.budget -= 1
                self.constants[name] = Value.constant(ops.CONSTANTS[name], name=name)
            return self.constants[name]
        if ops.lookup(name) is not None:
            raise self._error(f"{name} is a function: call it as {name}(...)", tok)  # a table name: short
        leaf = self.variables.get(name)
        if leaf is None:
            self.budget -= 1
            if self.budget < 0:
                raise self._too_many()
            leaf = self.variables[name] = Value(math.nan, name=name)
        return leaf

    def call(self, tok: Token, args: list[Value] | None = None) -> Value:
        name, args = str(tok), args or []
        op = ops.lookup(name)  # every op can be called by its name (pow(x, 2), mul(a, b)) or an alias (ln)
        if op is None:
            import difflib

            guess = difflib.get_close_matches(name, [*ops.FUNCTIONS, *ops.ALIASES], n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else " (autodiff functions lists them)"
            raise self._error(f"unknown function {shortened(name)}{hint}", tok)
        name = op.name  # ln(x) makes a log node
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
            raise self._error(f"{name} takes {_arity_text(name, op)}, got {len(args)}", tok)
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
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("div", (a, b))

    def pow(self, a: Value, _tok: Token, b: Value) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("pow", (a, b))

    def neg(self, a: Value) -> Value:
        self.budget -= 1
        if self.budget < 0:
            raise self._too_many()
        return Value.node("neg", (a,))

    def pos(self, a: Value) -> Value:
        return a

    def _error(self, message: str, tok: Token) -> ParseError:
        # the fast driver passes plain strings: parse() then asks lark for the position
        return ParseError(message, self.text, getattr(tok, "column", None), getattr(tok, "line", 1))


class _LarkCallbacks:
    """The builder as lark calls it: one list of children per rule."""

    def __init__(self, builder: _Builder) -> None:
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


class _Driver:
    """A tight LALR loop over lark's own parse table, for the common case of valid input.

    Lark's general parser loop costs about 5 µs a token; this one, with a single
    regular expression built from the grammar's terminals, about a fifth of that.
    The tables are lark's, as plain data (autodiff_cli/tablegen.py), so a valid
    expression is parsed without importing lark at all.  The driver handles the
    tree-shaping rules this grammar uses (aliases, ?rules that pass a single child
    through, _rules spliced into their parent, filtered anonymous tokens); the
    table generator refuses any other, and then lark's parser does all the work.
    On any error the driver gives up and lark parses again, so every error message
    comes from lark's own analysis.
    """

    FAIL = object()

    def __init__(self, tables: dict[str, Any], builder: _Builder) -> None:
        self.regex = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in tables["terminals"]))
        self.ignore = frozenset(tables["ignore"])
        self.start = tables["start"]
        self.end = tables["end"]
        self.actions: dict[int, dict[str, int]] = tables["actions"]
        self.rules = [
            (size, origin, keep, splice, build if build in (None, "pass") else getattr(builder, build))
            for size, origin, keep, splice, build in tables["rules"]
        ]
        self.chains: dict[tuple[int, int, str], int] = {}

    def _chain(self, below: int, top: int, typ: str) -> int:
        """Where a run of single-child pass-through reductions from `top` ends."""
        while top != self.end:
            act = self.actions[top].get(typ)
            if act is None or act >= 0:
                break
            size, origin, _, _, build = self.rules[~act]
            if not (size == 1 and build == "pass"):
                break
            top = self.actions[below][origin]
        return top

    def parse(self, text: str) -> object:
        actions, rules, regex_match, ignore, fail = self.actions, self.rules, self.regex.match, self.ignore, self.FAIL
        end_state, chains = self.end, self.chains
        states = [self.start]
        values: list = []
        pos, n = 0, len(text)
        while True:
            if pos < n:
                m = regex_match(text, pos)
                if m is None:
                    return fail
                pos = m.end()
                typ = m.lastgroup
                if typ in ignore:
                    continue
                token = m.group()
            else:
                typ = token = "$END"
            while True:
                act = actions[states[-1]].get(typ)
                if act is None:
                    return fail
                if act >= 0:
                    states.append(act)
                    values.append(token)
                    break
                size, origin, keep, splice, build = rules[~act]
                if size == 1 and build == "pass":  # ?rules handing their one child up
                    # A run of these replaces the top state and leaves the one below it
                    # alone, so its end depends only on (below, top, token): look it up.
                    key = (states[-2], states[-1], typ)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._chain(*key)
                    states[-1] = top
                    if typ == "$END" and top == end_state:
                        return values[-1]
                    continue
                children = values[len(values) - size :]
                del values[len(values) - size :]
                del states[len(states) - size :]
                if build == "pass":
                    value = children[keep[0]]
                else:
                    kids = [children[i] for i in keep]
                    if splice:
                        kids = [c for j, k in enumerate(kids) for c in (k if j in splice else (k,))]
                    value = kids if build is None else build(*kids)
                states.append(actions[states[-1]][origin])
                values.append(value)
                if typ == "$END" and states[-1] == end_state:
                    return values[-1]


def _parser() -> tuple[_Builder, _Driver | None]:
    """The builder and the fast driver, made once; lark is not imported when the generated tables match."""
    global _PARSER
    if _PARSER is None:
        builder = _Builder()
        from . import grammar_tables

        try:
            if grammar_tables.GRAMMAR == grammar_text():
                tables = grammar_tables.TABLES
            else:  # the grammar changed since `python -m autodiff_cli.tablegen`: lark analyses it now
                from .tablegen import tables_from_lark

                tables = tables_from_lark(_lark(builder))
            driver: _Driver | None = _Driver(tables, builder)
        except (NotImplementedError, AttributeError, KeyError):
            driver = None  # a grammar this driver does not understand: lark does it all
        _PARSER = (builder, driver)
    return _PARSER


def _lark(builder: _Builder) -> Lark:
    """Lark's own LALR parser for the grammar (its analysis cached on disk), building with `builder`."""
    global _LARK
    if _LARK is None:
        from lark import Lark

        _LARK = Lark(grammar_text(), parser="lalr", transformer=_LarkCallbacks(builder), cache=_cache_path())
    return _LARK


def _translate(exc: UnexpectedInput, text: str) -> ParseError:
    """Turn lark's exception into the project's parse error, with a column for the caret."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        return ParseError(f"unexpected character {_character(char)} at {_where(exc)}{_mark_hint(char)}", text,
                          exc.column, exc.line)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        if not text.strip():
            return ParseError("empty expression", text, None)
        lines = text.rstrip().split("\n")
        missing = text.count("(") - text.count(")")
        hint = f": {missing} '(' not closed" if missing > 0 else ": an operand is missing"
        return ParseError("unexpected end of expression" + hint, text, len(lines[-1]) + 1, len(lines))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        before = text[: tok.start_pos].rstrip()
        hint = ""
        if tok.type == "RPAR" and before.count("(") <= before.count(")"):
            hint = " (no '(' to close)"
        elif tok.type in ("NAME", "NUMBER", "LPAR") and before and (before[-1].isalnum() or before[-1] in "_.)"):
            hint = " (missing operator? write 2*x, not 2x)"
        return ParseError(f"unexpected {_shown(tok)} at {_where(tok)}{hint}", text, tok.column, tok.line)
    return ParseError(str(exc).splitlines()[0], text, getattr(exc, "column", None))


def _character(char: str) -> str:
    """A character for a message: quoted when it can be seen, else its code point and Unicode name
    (a combining accent, a variation selector, a zero-width space, a control character)."""
    if (char.isprintable() and unicodedata.category(char) not in ("Mn", "Me", "Cf", "Zs")) or char == " ":
        return repr(char)
    kind = "a control character" if unicodedata.category(char) == "Cc" else unicodedata.name(char, "unnamed").lower()
    return f"U+{ord(char):04X} ({kind})"


def _mark_hint(char: str) -> str:
    if char and unicodedata.combining(char):
        return ": a combining mark, as in text from some editors; write the accented letter as one character"
    return ""


def _where(at: UnexpectedInput | Token) -> str:
    return f"column {at.column}" if at.line == 1 else f"line {at.line}, column {at.column}"


def _shown(tok: Token) -> str:
    text = str(tok)
    return repr(text if len(text) <= 20 else text[:20] + "...")


def parse(text: str) -> Expression:
    """Parse an expression into its Value graph.  Raises ParseError, or LimitError past a limit.

    The limits (autodiff_cli.limits): the text's length, how deep its parentheses
    and calls nest (both checked before parsing), and the number of nodes of its
    graph (counted while it is built, so refusing costs no more than the limit).
    """
    return _parse(text, fast=True)


_PARENS = re.compile(r"[^()]+")
_STEP = {"(": 1, ")": -1}


def nesting(text: str) -> int:
    """How many parentheses (a function call's included) are open at once, at most, in the text."""
    if "(" not in text:
        return 0
    return max(0, max(itertools.accumulate(map(_STEP.__getitem__, _PARENS.sub("", text))), default=0))


def _check_text(text: str) -> None:
    limits.check("length", len(text), "the expression is {size} characters long")
    depth = limits.get("depth")
    if text.count("(") > depth:  # only then can the nesting be deeper: one pass over the parentheses
        found = nesting(text)
        if found > depth:
            raise limits.error("depth", f"the expression nests parentheses and calls {found:,} deep", depth)


def _parse(text: str, fast: bool) -> Expression:
    _check_text(text)
    budget = limits.get("nodes")
    if "\x00" in text:
        before = text[: text.index("\x00")]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        raise ParseError("the expression contains a NUL character", text, column, line)
    builder, driver = _parser()
    with _LOCK:
        try:
            builder.reset(text, budget)
            root = _Driver.FAIL
            if fast and driver is not None:
                try:
                    root = driver.parse(text)
                except ParseError:
                    root = _Driver.FAIL  # lark parses again, to place the error
            if root is _Driver.FAIL:
                from lark.exceptions import UnexpectedInput

                lark = _lark(builder)
                builder.reset(text, budget)
                try:
                    root = lark.parse(text)
                except UnexpectedInput as exc:
                    raise _translate(exc, text) from None
            variables = builder.variables
        finally:
            builder.reset("")
    return Expression(text=text, root=root, variables=variables)
