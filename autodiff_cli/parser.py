"""Text to graph: the Lark grammar, parsed LALR, builds the Value graph as it reduces.

The parser is built once per process from lark's LALR tables, generated from the
grammar into autodiff_cli/grammar_tables.py (lark itself loads only to report an
error), and the graph is made by callbacks that run during the LALR parse (no parse tree, no recursion), so
10,000 nested parentheses or a sum of 100,000 terms parse in well under a second.

The parser in four files: this one loads the grammar and runs a parse; parser_build.py
holds the callbacks that build the graph, parser_driver.py the fast LALR loop for valid
input, parser_errors.py the translation of lark's errors into messages with a caret.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
from typing import TYPE_CHECKING

from . import limits
from .errors import ParseError
from .expression import Expression
from .parser_build import Builder, LarkCallbacks
from .parser_driver import Driver
from .parser_errors import reword, translate

if TYPE_CHECKING:
    from lark import Lark

_LOCK = threading.Lock()
_PARSER: tuple[Builder, Driver | None] | None = None
_LARK: Lark | None = None  # lark itself: built only to place an error, or if the tables do not match the grammar


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



def _parser() -> tuple[Builder, Driver | None]:
    """The builder and the fast driver, made once; lark is not imported when the generated tables match."""
    global _PARSER
    if _PARSER is None:
        builder = Builder()
        from . import grammar_tables

        try:
            if grammar_tables.GRAMMAR == grammar_text():
                tables = grammar_tables.TABLES
            else:  # the grammar changed since `python -m autodiff_cli.tablegen`: lark analyses it now
                from .tablegen import tables_from_lark

                tables = tables_from_lark(_lark(builder))
            driver: Driver | None = Driver(tables, builder)
        except (NotImplementedError, AttributeError, KeyError):
            driver = None  # a grammar this driver does not understand: lark does it all
        _PARSER = (builder, driver)
    return _PARSER


def tables() -> dict:
    """The LALR tables for the grammar as it is: the generated ones, or lark's analysis if the grammar changed."""
    from . import grammar_tables

    if grammar_tables.GRAMMAR == grammar_text():
        return grammar_tables.TABLES
    from .tablegen import tables_from_lark

    return tables_from_lark(plain_lark())


_PLAIN: list[Lark] = []


def plain_lark() -> Lark:
    """Lark's LALR parser for the grammar with no callbacks (it makes a tree): the tensor parser asks it
    where a syntax error is.  Lark's cache does not depend on the callbacks: the same file serves both."""
    if not _PLAIN:
        from lark import Lark

        _PLAIN.append(Lark(grammar_text(), parser="lalr", cache=_cache_path()))
    return _PLAIN[0]


def _lark(builder: Builder) -> Lark:
    """Lark's own LALR parser for the grammar (its analysis cached on disk), building with `builder`."""
    global _LARK
    if _LARK is None:
        from lark import Lark

        _LARK = Lark(grammar_text(), parser="lalr", transformer=LarkCallbacks(builder), cache=_cache_path())
    return _LARK



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


# Where an operand is expected, '|' opens an absolute value; elsewhere it closes one
_OPERAND_NEXT = frozenset("(,+-*/^√−×·⋅÷")


def _bar_nesting(text: str) -> int:
    """How many parentheses, calls and |...| are open at once, at most (a '|' opens where an operand
    is expected, as the grammar reads it, and closes elsewhere)."""
    depth = deepest = 0
    operand_next = True
    for c in text:
        if c in " \t\n\r":
            continue
        if c == "|":
            depth += 1 if operand_next else -1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        operand_next = c in _OPERAND_NEXT or (c == "|" and operand_next)
        deepest = max(deepest, depth)
    return deepest


def _check_text(text: str) -> None:
    limits.check("length", len(text), "the expression is {size} characters long")
    depth = limits.get("depth")
    if text.count("(") + text.count("|") // 2 > depth:  # only then can the nesting be deeper: one pass
        found = _bar_nesting(text) if "|" in text else nesting(text)
        if found > depth:
            what = "parentheses, calls and |...|" if "|" in text else "parentheses and calls"
            raise limits.error("depth", f"the expression nests {what} {found:,} deep", depth)


def _parse(text: str, fast: bool) -> Expression:
    _check_text(text)
    budget = limits.get("nodes")
    if "\x00" in text:
        before = text[: text.index("\x00")]
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        raise ParseError("the expression contains a NUL character", text, column, line)
    builder, driver = _parser()
    failed: ParseError | None = None
    with _LOCK:
        try:
            builder.reset(text, budget)
            root = Driver.FAIL
            if fast and driver is not None:
                try:
                    root = driver.parse(text)
                except ParseError:
                    root = Driver.FAIL  # lark parses again, to place the error
            if root is Driver.FAIL:
                from lark.exceptions import UnexpectedInput

                lark = _lark(builder)
                builder.reset(text, budget)
                try:
                    root = lark.parse(text)
                except UnexpectedInput as exc:
                    failed = translate(exc, text)
                except ParseError as error:
                    failed = error
            variables = builder.variables
        finally:
            builder.reset("")
    if failed is not None:
        raise reword(failed, text)  # outside the lock: rewording may parse a part of the text
    return Expression(text=text, root=root, variables=variables)
