"""The CSV reader: a header of names, then rows of plain decimal numbers."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from .. import limits
from ..errors import BindingError, UsageError, listing, shortened
from .lines import Lines, Row, RowError, blank, describe, input_error, too_long

_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # the point after a \r that no \n follows: a line ends there
_ESCAPED = re.compile("[\udc80-\udcff]")  # a byte that was not UTF-8, as surrogateescape keeps it


class _Counter:
    """Lines of a byte stream, decoded, with a running count of bytes for the progress bar."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = Lines(source, limits.get("line"))
        self.too_long: int | None = None  # a line of the record being read is over the limit: its length
        self.bytes = 0
        self.pending: list[str] = []  # the raw lines of the CSV record being read
        self.bad_byte: int | None = None  # a line of that record is not UTF-8: the first bad byte (1-based)

    def lines(self) -> Iterator[str]:
        """Decoded lines ending in \n, \r\n or a lone \r (old Mac files), as a spreadsheet writes them.

        Bytes that are not UTF-8 are kept (as surrogate escapes, never replaced by
        U+FFFD) and flagged in bad_byte: their record is an error, not changed data.
        """
        encoding = "utf-8-sig"  # a spreadsheet's byte-order mark is not part of the first name
        for line in self.source:
            if line is None:  # over the limit: the CSV reader sees an empty line, the record an error
                self.bytes += self.source.skipped
                if self.too_long is None:
                    self.too_long = self.source.skipped
                line = b"\n"
            self.bytes += len(line)
            bad = None
            try:
                text = line.decode(encoding)
            except UnicodeDecodeError as exc:
                text = line.decode(encoding, "surrogateescape")
                bad = exc.start + 1
            encoding = "utf-8"
            if "\r" in text and (text.count("\r") > 1 or not text.endswith("\r\n")):
                for piece in _LONE_CR.split(text):
                    if piece:
                        if bad is not None and self.bad_byte is None:  # the piece's own bad byte, if it has one
                            escaped = _ESCAPED.search(piece)
                            if escaped:
                                self.bad_byte = len(piece[: escaped.start()].encode("utf-8", "surrogateescape")) + 1
                        self.pending.append(piece)
                        yield piece
                continue
            if bad is not None and self.bad_byte is None:
                self.bad_byte = bad
            self.pending.append(text)
            yield text

    def next_record(self) -> None:
        self.pending.clear()
        self.bad_byte = None
        self.too_long = None


class CsvRows:
    """The rows of CSV with a header of names; the header is read (and checked) when the reader is made."""

    def __init__(self, source: IO[bytes], names: Sequence[str], constants: Mapping[str, float],
                 keep_as_json: bool) -> None:
        self.names = list(names)
        self.constants = dict(constants)
        self.keep_as_json = keep_as_json  # --keep into JSON Lines: the row as an object of strings
        self.header: str | None = None  # the header line as it was (None: no header, no rows)
        self.columns: list[str] = []
        self._index: dict[str, int] = {}
        self.width = 1
        self._counter = _Counter(source)
        self._reader = csv.reader(self._counter.lines(), strict=True)
        self._read_header()

    @property
    def nbytes(self) -> int:
        return self._counter.bytes

    def _read_header(self) -> None:
        counter, reader = self._counter, self._reader
        counter.source.skip_long = False  # a header line that never ends is refused as soon as it passes the limit
        try:
            header = next(reader)
            while blank(header) and counter.too_long is None:  # blank lines before the header are skipped
                counter.next_record()
                header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UsageError(f"the CSV header cannot be read: {exc}") from None
        if counter.too_long is not None:
            raise limits.error("line", f"the CSV header's line is more than {counter.source.limit:,} bytes long")
        counter.source.skip_long = True
        if counter.bad_byte is not None:
            raise UsageError(f"the CSV header is not UTF-8 text (byte {counter.bad_byte} of its line)")
        header = [h.strip() for h in header]
        control = next((i for i, c in enumerate("".join(counter.pending)) if c < " " and c not in "\t\r\n"), None)
        if control is not None:
            raise UsageError(f"the CSV header holds a control character (character {control + 1} of its line): "
                             "is the input a binary file?")
        text = "".join(counter.pending).rstrip("\r\n")
        counter.next_record()
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise UsageError(f"the CSV header has two columns named {name!r}")
            seen.add(name)
        missing = [n for n in self.names if n not in seen and n not in self.constants]
        if missing:
            raise UsageError(
                f"no column and no value for {listing(missing)}: the header has {listing(header) or 'nothing'}"
                f" (give a constant as --{missing[0]} 1)"
            )
        self.header, self.columns, self.width = text, header, len(header)
        self._index = {name: i for i, name in enumerate(header)}

    def __iter__(self) -> Iterator[Row]:
        if self.header is None:
            return
        counter, reader, header, width = self._counter, self._reader, self.columns, self.width
        # for each variable: its column, or None for the command-line constant
        where = [(self._index.get(n), self.constants.get(n)) for n in self.names]
        as_json = self.keep_as_json
        line = reader.line_num
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                counter.next_record()
                yield start, None, input_error(f"not CSV: {exc}"), None
                continue
            line = reader.line_num
            raw: str | None = "".join(counter.pending).rstrip("\r\n")
            if as_json and len(cells) == width:  # the row as a JSON object of strings
                raw = json.dumps(dict(zip(header, cells, strict=True)), ensure_ascii=False)
            error = None
            if counter.too_long is not None:
                raw, error = None, too_long(counter.too_long)  # not copied: only its length is known
            elif counter.bad_byte is not None:  # not copied: the row is an error, its text is not UTF-8
                raw, error = None, input_error(f"not UTF-8 text (byte {counter.bad_byte} of the line)")
            counter.next_record()
            if error is not None:
                yield start, None, error, raw
                continue
            if len(cells) <= 1 and blank(cells):
                continue  # a blank line is not a row
            if len(cells) != width:
                yield start, None, input_error(f"{len(cells)} fields where the header has {width}"), None
                continue
            try:
                args: tuple[float, ...] | None
                values = []
                for i, constant in where:
                    cell = cells[i].strip() if i is not None else ""
                    if cell:
                        v = float(cell)
                        if v - v != 0.0 or "_" in cell or not cell.isascii():
                            raise ValueError  # not finite, or not a plain decimal (float takes 1_000 and ١٢)
                        values.append(v)
                    elif constant is not None:
                        values.append(constant)
                    else:
                        raise ValueError
                args = tuple(values)
            except ValueError:  # the exact path says what is wrong
                args = None
            yield start, args, cells, raw

    def bindings(self, cells: list[str]) -> dict[str, object]:
        """A row's values for the exact path: numbers where the cell is one, the text otherwise."""
        values: dict[str, object] = {}
        for name in self.names:
            i = self._index.get(name)
            if i is None:
                continue
            cell = cells[i].strip()
            if not cell:
                continue  # empty: the command-line constant, if there is one
            if "_" in cell or not cell.isascii():
                message = f"the value of {name} must be a plain decimal number, not {describe(cell)}"
                raise RowError(BindingError(message).to_json())
            try:
                number = float(cell)
            except ValueError:
                values[name] = cell
                continue
            if not math.isfinite(number):
                message = f"the value of {name} must be a finite number, not {shortened(repr(cell))}"
                raise RowError(BindingError(message).to_json())
            values[name] = number
        return values
