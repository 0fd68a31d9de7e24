"""Lark's exceptions turned into the project's parse errors: what went wrong, where, and a hint."""

from __future__ import annotations

import unicodedata

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import ParseError


def translate(exc: UnexpectedInput, text: str) -> ParseError:
    """Turn lark's exception into the project's parse error, with a column for the caret."""
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

