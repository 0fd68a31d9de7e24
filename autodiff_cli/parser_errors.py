"""Lark's exceptions turned into the project's parse errors: what went wrong, where, and a hint."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from . import notation, ops
from .errors import ParseError, shortened

if TYPE_CHECKING:
    from lark import Token
    from lark.exceptions import UnexpectedInput

# Patterns compiled when an error needs them (re.compile caches them), not by every parse's import.
# The word (a name or a number) just before an unexpected token, and the word the token starts
_LAST_WORD = r"(?:([^\W\d]\w*)|(\d[\w.]*|\.\d[\w.]*))(\s*)$"
_WORD = r"[\w.]+"
# d/dx x^2, d/dx(x^2), ∂/∂x x*y: derivative notation, which the expression language does not have
_DERIVATIVE = r"\s*[d∂]\s*/\s*[d∂]\s*([^\W\d]\w*?)\s*([\s(].*)"


def translate(exc: UnexpectedInput, text: str) -> ParseError:
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
        elif tok.type in ("NAME", "NUMBER", "COEFFICIENT", "LPAR") and before and \
                (before[-1].isalnum() or before[-1] in "_.)|"):
            hint = _juxtaposed(before, text, tok)
        return ParseError(f"unexpected {_shown(tok)} at {_where(tok)}{hint}", text, tok.column, tok.line)
    return ParseError(str(exc).splitlines()[0], text, getattr(exc, "column", None))


def _juxtaposed(before: str, text: str, tok: Token) -> str:
    """The hint for two operands side by side: sin x, x y, 2 x."""
    word = re.compile(_WORD).match(text, tok.start_pos)
    following = "(...)" if tok.type == "LPAR" else word.group() if word else str(tok)
    last = re.search(_LAST_WORD, text[: tok.start_pos])
    if following.startswith("_") and last and last.group(2) and not last.group(3):
        return f" (write {last.group(2)}{following.replace('_', '')}: '_' does not group digits)"
    if last and last.group(1) and notation.function_name(last.group(1)) and tok.type != "LPAR":
        return f" (write {last.group(1)}({following}): a function's argument goes in parentheses)"
    if last and last.group(2) and last.group(3) and tok.type in ("NAME", "LPAR"):
        return f" (write {last.group(2)}*{following}, or {last.group(2)}{following} without the space)"
    if last and last.group(1):
        return f" (missing operator? write {last.group(1)}*{following})"
    return " (missing operator? write '*' between them)"


def reword(error: ParseError, text: str) -> ParseError:
    """A parse error in words for input that is not an expression at all: an equation, or d/dx notation."""
    if (found := re.fullmatch(_DERIVATIVE, text, re.S)) is not None and found.group(2).strip():
        name, rest = found.group(1), found.group(2).strip()
        if rest.startswith("(") and rest.endswith(")") and _balanced(rest[1:-1]):
            rest = rest[1:-1].strip()
        wrt = "" if _only_variable(rest, name) else f" --wrt {name}"
        return ParseError(f"d/d{name} is not part of an expression: use autodiff diff '{shortened(rest)}'{wrt}",
                          text, 1)
    at = _top_level_equals(text) if "=" in text else -1
    if at >= 0:  # an '=' inside a call is a keyword argument (sum(A, axis=0)): its own errors stand
        right = text[at + 1 :].lstrip("=").strip()
        give = f"; give the right-hand side: {shortened(right)}" if right else ""
        line = text.count("\n", 0, at) + 1
        return ParseError(f"an expression has no '='{give}", text, at - text.rfind("\n", 0, at), line)
    return error


def _top_level_equals(text: str) -> int:
    """Where the first '=' outside parentheses and brackets is, or -1."""
    depth = 0
    for i, c in enumerate(text):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        elif c == "=" and depth == 0:
            return i
    return -1


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    return depth == 0


def _only_variable(text: str, name: str) -> bool:
    """Whether `name` is the only variable in text (the names in it that are no function and no constant)."""
    names = {n for n in notation.name_regex().findall(text)
             if notation.function_name(n) is None and n not in ops.CONSTANTS and n not in notation.CONSTANT_SPELLINGS}
    return names <= {name}


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

