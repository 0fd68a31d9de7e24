"""What every reader shares: the row's error, reading bounded lines, quoting values in messages."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from .. import limits
from ..errors import shortened

Row = tuple[int, tuple[float, ...] | None, object, str | None]
"""(line, args, values, kept): see the package's docstring."""


class RowError(Exception):
    """A row that gives an error record instead of a result."""

    def __init__(self, body: dict) -> None:
        super().__init__(body["message"])
        self.body = body


def input_error(message: str) -> RowError:
    return RowError({"message": message, "type": "InputError"})


def describe(value: object) -> str:
    """A row's value quoted in a message: as JSON, shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return printable(shortened(text))


def printable(text: str) -> str:
    """Text that can be written as UTF-8: a lone surrogate (JSON allows "\\ud800") becomes its escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


@contextmanager
def csv_field_limit(size: int) -> Iterator[None]:
    """Let the csv module read fields up to `size` characters (its own default, 131,072, is not our limit)."""
    saved = csv.field_size_limit()
    csv.field_size_limit(size)
    try:
        yield
    finally:
        csv.field_size_limit(saved)


_SKIP = 1 << 16  # bytes read at a time while skipping the rest of a line over the limit


class Lines:
    """The lines of a byte stream, each read with a bound: a line over the limit is skipped, never held.

    Iterating yields each line (bytes, with its ending), or None for a line over
    the limit, whose length is then in `skipped` (its ending not counted).
    """

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self.source = source
        self.limit = limit
        self.skipped = 0
        self.skip_long = True  # False: a line over the limit is not read to its end (a CSV header: refused at once)

    def __iter__(self) -> Iterator[bytes | None]:
        limit = self.limit
        readline = getattr(self.source, "readline", None)
        if readline is None:  # an iterable of lines already in memory: only measured
            for line in self.source:
                if len(line) > limit and len(line.rstrip(b"\r\n")) > limit:
                    self.skipped = len(line.rstrip(b"\r\n"))
                    yield None
                else:
                    yield line
            return
        while True:
            line = readline(limit + 1)
            if len(line) <= limit or line.endswith(b"\n"):
                if not line:
                    return
                yield line
                continue
            if not self.skip_long:
                self.skipped = len(line)  # limit + 1: more than the limit, however long the rest
                yield None
                continue
            total = len(line)
            while True:  # the rest of the line, in bounded pieces
                chunk = readline(_SKIP)
                total += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            ending = 2 if chunk.endswith(b"\r\n") else 1 if chunk.endswith(b"\n") else 0
            self.skipped = total - ending
            yield None


def too_long(length: int) -> RowError:
    return RowError(limits.error("line", f"the line is {length:,} bytes long").to_json())


def blank(cells: list[str]) -> bool:
    """A blank (or whitespace-only) line: not a row, in CSV as in JSON Lines."""
    return len(cells) <= 1 and not "".join(cells).strip()
