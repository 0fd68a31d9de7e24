"""The JSON Lines reader: one object of bindings per line."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import IO

from .. import limits
from ..errors import UsageError, json_value_problem, listing
from .lines import Lines, Row, RowError, input_error, too_long

_decode = json.JSONDecoder().decode


def _json_int(text: str) -> int | float:
    """A JSON integer as Python reads it, but -0 keeps its sign as the float -0.0 (the int 0 has none)."""
    return int(text) if text != "-0" else -0.0


# A row is read again with this where an int 0 may be a -0: a hook on every integer would slow rows of integers
_decode_signed = json.JSONDecoder(parse_int=_json_int).decode


def _floats(args: Sequence[object], text: str = "") -> tuple[float, ...] | None:
    """Finite floats from JSON numbers (ints included, booleans not); anything else raises TypeError.

    None when an int 0 may have been a -0 (`text`, the line, holds "-0"): read the line again with _decode_signed.
    """
    out = []
    for v in args:
        if v.__class__ is int:
            if v == 0 and "-0" in text:
                return None
            v = float(v)  # OverflowError for a huge one
        if v.__class__ is not float or v - v != 0.0:
            raise TypeError("not a finite number")
        out.append(v)
    return tuple(out)


def _one_line(text: str) -> str:
    """A JSON line as --keep copies it: a carriage return inside is whitespace there, and becomes a space.

    Left as it is, it would end the record early for a reader that takes a lone \r
    as a line break (Python's text files do); in valid JSON it is never inside a string.
    """
    text = text.strip()
    return text.replace("\r", " ") if "\r" in text else text


def _json_problem(text: str, exc: ValueError) -> str:
    """Why a line is not JSON, with the column on that line (not on the line after its newline)."""
    try:
        _decode(text.rstrip())  # without the newline, an error at its end is at its end
    except json.JSONDecodeError as again:
        exc = again
    except (ValueError, RecursionError):
        pass
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} (column {exc.colno})"
    return f"not a usable JSON object of bindings: {json_value_problem(exc)}"


def _csv_header(text: str, names: Sequence[str]) -> list[str] | None:
    """The names of `text` when it reads as a CSV header (names between commas, one of them ours), else None."""
    try:
        cells = [c.strip() for c in next(csv.reader([text.strip()]), [])]
    except csv.Error:  # a line break inside (a lone \r): no header of names
        return None
    if cells and all(c.isidentifier() for c in cells) and (len(cells) > 1 or cells[0] in names):
        return cells
    return None


def _jq_recipe(name: str) -> str:
    """The jq command that makes each number of a stream the object {name: number} (jq quotes a non-ASCII key)."""
    key = name if name.isascii() and name.isidentifier() else json.dumps(name, ensure_ascii=False)
    return f"jq -c '{{{key}: .}}'"


class JsonLinesRows:
    """The rows of JSON Lines: one object of bindings per line."""

    def __init__(self, source: IO[bytes], names: Sequence[str], constants: Mapping[str, float], keep: bool,
                 guessed: bool = False) -> None:
        self.names = list(names)
        self.constants = dict(constants)
        self.keep = keep
        self.header: str | None = None  # JSON Lines has none (for CSV out with --keep)
        self.width = 1
        self.nbytes = 0
        self._reader = Lines(source, limits.get("line"))
        self._lines = iter(self._reader)
        self._blank = 0  # blank lines before the first row
        self._first = self._first_line()  # [that row's line], or [] for no row at all
        if guessed:
            self._refuse_csv()

    def _first_line(self) -> list[bytes | None]:
        """The first line that is not blank (a byte-order mark before it is not part of it), if there is one."""
        start = True
        for raw in self._lines:
            if start and raw is not None and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            start = False
            if raw is None or raw.strip():
                return [raw]
            self._blank += 1
            self.nbytes += len(raw)
        return []

    def _refuse_csv(self) -> None:
        """A format guessed from the file name, and a first line that is a CSV header: say so once, not per row."""
        first = self._first[0] if self._first else None
        if first is None:
            return
        try:
            _decode(first.decode("utf-8"))
        except (ValueError, RecursionError):
            text = first.decode("utf-8", "replace")
            header = _csv_header(text, self.names)
            if header is not None:
                raise UsageError(f"the input looks like CSV, not JSON Lines: its first line reads as a header "
                                 f"({listing(header)}); give --input-format csv") from None

    def bindings(self, row: dict) -> dict:
        """A row's values for the exact path: the object as JSON gave it (the exact path checks each value)."""
        return row

    def __iter__(self) -> Iterator[Row]:
        names, constants, keep, reader = self.names, self.constants, self.keep, self._reader
        getter = itemgetter(*names) if names else (lambda _row: ())
        single = len(names) == 1
        decode = _decode
        line = self._blank
        for raw in itertools.chain(self._first, self._lines):
            line += 1
            if raw is None:  # over the line limit: an error record, and the reader goes on
                self.nbytes += reader.skipped
                yield line, None, too_long(reader.skipped), None
                continue
            self.nbytes += len(raw)
            try:
                text = raw.decode("utf-8")
                row = decode(text)
            except UnicodeDecodeError as exc:
                yield line, None, input_error(f"not UTF-8 text (byte {exc.start + 1} of the line)"), None
                continue
            except ValueError as exc:
                if not raw.strip():
                    continue  # a blank line is not a row (but it is counted as a line)
                yield line, None, input_error(_json_problem(text, exc)), None
                continue
            except RecursionError:
                yield line, None, input_error("not a JSON object of bindings: nested too deeply"), None
                continue
            if row.__class__ is not dict:
                yield line, None, self._not_an_object(row), None
                continue
            try:
                args = getter(constants | row if constants else row)
                if single:
                    args = (args,)
                for v in args:
                    if v.__class__ is not float or v - v != 0.0:  # an int, or not a finite number
                        floats = _floats(args, text)  # ints become floats; anything else raises
                        if floats is None:  # perhaps a -0, which json reads as the int 0: read it again, signed
                            row = _decode_signed(text)
                            args = getter(constants | row if constants else row)
                            floats = _floats((args,) if single else args)
                        args = floats
                        break
            except Exception:  # a missing variable, a value that is not a finite number: the exact path says which
                args = None
            yield line, args, row, _one_line(text) if keep else None

    def _not_an_object(self, row: object) -> RowError:
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(row.__class__, "a number")
        message = f"not a JSON object of bindings, but {kind}"
        if kind == "a number" and len(self.names) == 1:  # a stream of bare numbers: the recipe that makes objects
            message += f": to bind {self.names[0]} to each number, pipe them through {_jq_recipe(self.names[0])}"
        return input_error(message)
