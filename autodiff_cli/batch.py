"""Batch mode: stream rows of bindings (JSON Lines or CSV) through a compiled expression.

One row in, one record out, in input order, in constant memory.  The expression is
parsed and compiled once (autodiff_cli.compile); each row runs the generated
function on floats.  A row the fast path cannot take (a value that is not a
number, a missing variable, a math error, a result that is not finite) is
evaluated again through the Value graph, which gives the project's exact error
message, and becomes an error record in place of its result.

No click, no rich here: the command line wraps `run` and draws the progress bar.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import IO

from . import limits
from .compile import compile_expression
from .errors import AutodiffError, BindingError, UsageError, json_value_problem, listing, shortened
from .expression import Expression

__all__ = ["FORMATS", "Summary", "guess_format", "run"]

FORMATS = ("jsonl", "csv")
_FLUSH_ROWS = 1024  # records gathered before one write
_PROGRESS_ROWS = 4096  # rows between two progress callbacks


@dataclass
class Summary:
    """What a run did: rows read, rows that failed, and the first failure (line, message)."""

    rows: int = 0
    failed: int = 0
    first_error: tuple[int, str] | None = field(default=None)
    stopped: bool = False  # --fail-fast stopped the run at the first failure


class RowError(Exception):
    """A row that gives an error record instead of a result."""

    def __init__(self, body: dict) -> None:
        super().__init__(body["message"])
        self.body = body


def guess_format(path: str | None) -> str:
    """The input format a file name suggests: csv for .csv, else JSON Lines."""
    return "csv" if path and path.lower().endswith(".csv") else "jsonl"


def _describe(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return _printable(shortened(text))


def _printable(text: str) -> str:
    """Text that can be written as UTF-8: a lone surrogate (JSON allows "\\ud800") becomes its escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class _Evaluator:
    """The compiled function, with the slow exact path for rows it cannot take."""

    def __init__(self, expr: Expression, constants: Mapping[str, float], wrt: Sequence[str] | None,
                 gradient: bool) -> None:
        self.expr = expr
        self.gradient = gradient
        self.names = list(expr.variables)
        self.wrt = list(self.names if wrt is None else wrt)
        expr.check_bindings(dict.fromkeys(self.names, 0.0) | dict(constants), self.wrt)  # --wrt names
        compiled = compile_expression(expr, self.wrt)
        self.function: Callable = compiled.gradient if gradient else compiled.value
        self.constants = {n: float(v) for n, v in constants.items() if n in expr.variables}

    def exact(self, values: Mapping[str, object]) -> tuple[float, ...]:
        """Evaluate one row through the Value graph: the result, or a RowError with the exact message."""
        bindings: dict[str, float] = dict(self.constants)
        for name in self.names:
            if name not in values:
                continue
            v = values[name]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise RowError(BindingError(f"the value of {name} must be a number, not {_describe(v)}").to_json())
            try:
                bindings[name] = float(v)
            except OverflowError:
                digits = ("-" if v < 0 else "") + shortened(str(abs(v)), unit="digits")
                error = BindingError(f"the value of {name} must be a finite number, not {digits}")
                raise RowError(error.to_json()) from None
        try:
            if not self.gradient:
                return (self.expr.evaluate(bindings),)
            value, grads = self.expr.gradient(bindings, self.wrt)
        except AutodiffError as error:
            raise RowError(error.to_json()) from None
        return (value, *grads.values())


def _floats(args: Sequence[object]) -> tuple[float, ...]:
    """Finite floats from JSON numbers (ints included, booleans not); anything else raises TypeError."""
    out = []
    for v in args:
        if v.__class__ is int:
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
        json.loads(text.rstrip())  # without the newline, an error at its end is at its end
    except json.JSONDecodeError as again:
        exc = again
    except (ValueError, RecursionError):
        pass
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON: {exc.msg} (column {exc.colno})"
    return f"not a usable JSON object of bindings: {json_value_problem(exc)}"


def _error_body(message: str, kind: str = "InputError") -> dict:
    return {"message": message, "type": kind}


# -- output -------------------------------------------------------------------


def _json_key(name: str) -> str:
    return json.dumps(name, ensure_ascii=False).replace("%", "%%")


def _csv_cell(text: str) -> str:
    if any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


class _Output:
    """Records as text: precomputed templates filled with repr() of floats (what json.dumps prints)."""

    def __init__(self, fmt: str, gradient: bool, wrt: Sequence[str], keep: bool) -> None:
        self.fmt = fmt
        self.keep = keep
        self.input_width = 1  # CSV in: the number of input columns (--keep copies them)
        n = len(wrt)
        if fmt == "jsonl":
            inner = ", ".join(f"{_json_key(w)}: %r" for w in wrt)
            body = f'"value": %r, "gradient": {{{inner}}}}}\n' if gradient else '"value": %r}\n'
            self.good = ('{"input": %s, ' if keep else "{") + body
        else:
            cells = ["%r"] * (1 + (n if gradient else 0))
            self.good = ("%s," if keep else "") + ",".join(cells) + ",\n"
            columns = ["value", *(f"d_{w}" for w in wrt)] if gradient else ["value"]
            self.columns = [*columns, "error"]
            self.blanks = "," * (len(self.columns) - 1)

    def header(self, input_header: str | None) -> str:
        if self.fmt != "csv":
            return ""
        names = [_csv_cell(c) for c in self.columns]
        return (f"{input_header}," if self.keep and input_header is not None else "") + ",".join(names) + "\n"

    def bad(self, line: int, body: dict, raw: str | None) -> str:
        body = {**body, "message": _printable(body["message"])}
        if self.fmt == "jsonl":
            return json.dumps({"line": line, "error": body}, ensure_ascii=False) + "\n"
        prefix = ""
        if self.keep:  # the row as it was, or empty cells where it cannot be copied: every record has every column
            prefix = (raw if raw is not None else "," * (self.input_width - 1)) + ","
        return f"{prefix}{self.blanks}{_csv_cell(f'line {line}: ' + body['message'])}\n"


# -- the loops ----------------------------------------------------------------


def run(
    expr: Expression,
    source: IO[bytes],
    write: Callable[[str], object],
    *,
    input_format: str = "jsonl",
    output_format: str = "jsonl",
    constants: Mapping[str, float] | None = None,
    wrt: Sequence[str] | None = None,
    gradient: bool = True,
    keep: bool = False,
    fail_fast: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> Summary:
    """Stream the rows of `source` (bytes) through the expression, writing one record per row.

    constants: bindings for every row (a row's own value wins).  wrt: the
    gradient's variables (default: all, in order of appearance).  progress, if
    given, is called now and then with (rows so far, bytes read so far).
    Raises UsageError before writing anything if the options or the CSV header
    cannot work; row problems become error records.
    """
    if input_format not in FORMATS or output_format not in FORMATS:
        raise UsageError(f"unknown format: use one of {', '.join(FORMATS)}")
    if keep and input_format == "jsonl" and output_format == "csv":
        raise UsageError("--keep needs CSV in for CSV out: the columns of JSON Lines are not known in advance")
    evaluator = _Evaluator(expr, constants or {}, wrt, gradient)
    out = _Output(output_format, gradient, evaluator.wrt, keep)
    loop = _jsonl_rows if input_format == "jsonl" else _csv_rows
    buffer: list[str] = []
    try:
        with csv_field_limit(limits.get("line")):  # the line limit is the only one on a CSV field
            return loop(evaluator, out, source, write, buffer, fail_fast, progress)
    finally:
        if buffer:  # the loop stopped on an unexpected error: the records made so far still go out
            write("".join(buffer))


_SKIP = 1 << 16  # bytes read at a time while skipping the rest of a line over the limit


@contextmanager
def csv_field_limit(size: int) -> Iterator[None]:
    """Let the csv module read fields up to `size` characters (its own default, 131,072, is not our limit)."""
    saved = csv.field_size_limit()
    csv.field_size_limit(size)
    try:
        yield
    finally:
        csv.field_size_limit(saved)


class _Lines:
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


def _too_long(length: int) -> dict:
    return limits.error("line", f"the line is {length:,} bytes long").to_json()


class _Counter:
    """Lines of a byte stream, decoded, with a running count of bytes for the progress bar."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = _Lines(source, limits.get("line"))
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


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # the point after a \r that no \n follows: a line ends there
_ESCAPED = re.compile("[\udc80-\udcff]")  # a byte that was not UTF-8, as surrogateescape keeps it


def _blank(cells: list[str]) -> bool:
    """A blank (or whitespace-only) line: not a row, in CSV as in JSON Lines."""
    return len(cells) <= 1 and not "".join(cells).strip()


def _finish(summary: Summary, buffer: list[str], write: Callable[[str], object]) -> Summary:
    if buffer:
        write("".join(buffer))
        buffer.clear()
    return summary


def _record_error(summary: Summary, line: int, body: dict) -> None:
    summary.failed += 1
    if summary.first_error is None:
        summary.first_error = (line, body["message"])


def _jsonl_rows(ev: _Evaluator, out: _Output, source: IO[bytes], write: Callable[[str], object], buffer: list[str],
                fail_fast: bool, progress: Callable[[int, int], object] | None) -> Summary:
    summary = Summary()
    if out.fmt == "csv":
        buffer.append(out.header(None))
    decode = json.JSONDecoder().decode
    names, constants, function = ev.names, ev.constants, ev.function
    getter = itemgetter(*names) if names else (lambda _row: ())
    single = len(names) == 1
    good, keep = out.good, out.keep
    line_no = 0
    nbytes = 0
    reader = _Lines(source, limits.get("line"))
    lines = iter(reader)
    first = next(lines, None)
    if first is not None and first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]  # a byte-order mark is not part of the first object
    for raw in itertools.chain(() if first is None and reader.skipped == 0 else (first,), lines):
        line_no += 1
        if raw is None:  # over the line limit: an error record, and the reader goes on
            nbytes += reader.skipped
            body: dict | None = _too_long(reader.skipped)
            summary.rows += 1
            _record_error(summary, line_no, body)
            buffer.append(out.bad(line_no, body, None))
            if fail_fast:
                summary.stopped = True
                return _finish(summary, buffer, write)
            continue
        nbytes += len(raw)
        try:
            text = raw.decode("utf-8")
            row = decode(text)
        except UnicodeDecodeError as exc:
            body = _error_body(f"not UTF-8 text (byte {exc.start + 1} of the line)")
        except ValueError as exc:
            if not raw.strip():
                continue  # a blank line is not a row (but it is counted as a line)
            body = _error_body(_json_problem(text, exc))
        except RecursionError:
            body = _error_body("not a JSON object of bindings: nested too deeply")
        else:
            body = None
            if row.__class__ is not dict:
                kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
                    row.__class__, "a number")
                body = _error_body(f"not a JSON object of bindings, but {kind}")
        if body is None:
            summary.rows += 1
            try:
                args = getter(constants | row if constants else row)
                if single:
                    args = (args,)
                for v in args:
                    if v.__class__ is not float or v - v != 0.0:
                        args = _floats(args)  # ints become floats; anything else raises
                        break
                result = function(*args)
                if ev.gradient:
                    s = sum(result)
                    if s - s != 0.0:
                        raise OverflowError  # inf or nan among the results
                elif result - result != 0.0:
                    raise OverflowError
            except Exception:
                try:
                    result = ev.exact(row)
                except RowError as error:
                    body = error.body
            if body is None:
                if result.__class__ is float:
                    result = (result,)
                buffer.append(good % ((_one_line(text), *result) if keep else result))
        else:
            summary.rows += 1
        if body is not None:
            _record_error(summary, line_no, body)
            buffer.append(out.bad(line_no, body, None))
            if fail_fast:
                summary.stopped = True
                return _finish(summary, buffer, write)
        if len(buffer) >= _FLUSH_ROWS:
            write("".join(buffer))
            buffer.clear()
        if progress is not None and line_no % _PROGRESS_ROWS == 0:
            progress(summary.rows, nbytes)
    if progress is not None:
        progress(summary.rows, nbytes)
    return _finish(summary, buffer, write)


def _csv_rows(ev: _Evaluator, out: _Output, source: IO[bytes], write: Callable[[str], object], buffer: list[str],
              fail_fast: bool, progress: Callable[[int, int], object] | None) -> Summary:
    summary = Summary()
    counter = _Counter(source)
    counter.source.skip_long = False  # a header line that never ends is refused as soon as it passes the limit
    reader = csv.reader(counter.lines(), strict=True)
    try:
        header = next(reader)
        while _blank(header) and counter.too_long is None:  # blank lines before the header are skipped
            counter.next_record()
            header = next(reader)
    except StopIteration:
        write(out.header(None))
        return summary
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
    input_header = "".join(counter.pending).rstrip("\r\n")
    counter.next_record()
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise UsageError(f"the CSV header has two columns named {name!r}")
        seen.add(name)
    missing = [n for n in ev.names if n not in seen and n not in ev.constants]
    if missing:
        raise UsageError(
            f"no column and no value for {listing(missing)}: the header has {listing(header) or 'nothing'}"
            f" (give a constant as --{missing[0]} 1)"
        )
    if out.keep and out.fmt == "csv":
        clash = [c for c in out.columns if c in seen]
        if clash:
            raise UsageError(f"--keep: the input already has a column named {clash[0]!r}, as the output does")
    columns = {name: i for i, name in enumerate(header)}
    width = out.input_width = len(header)
    # for each variable: its column, or None for the command-line constant
    where = [(columns.get(n), ev.constants.get(n)) for n in ev.names]
    function, good, keep = ev.function, out.good, out.keep
    as_json = keep and out.fmt == "jsonl"
    buffer.append(out.header(input_header))
    line_no = reader.line_num
    while True:
        start = line_no + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line_no = reader.line_num
            raw = None
            body: dict | None = _error_body(f"not CSV: {exc}")
            cells = None
        else:
            line_no = reader.line_num
            raw = "".join(counter.pending).rstrip("\r\n")
            if as_json and len(cells) == width:  # the row as a JSON object of strings
                raw = json.dumps(dict(zip(header, cells, strict=True)), ensure_ascii=False)
            body = None
            if counter.too_long is not None:
                raw = None  # not copied: only its length is known
                body = _too_long(counter.too_long)
            elif counter.bad_byte is not None:
                raw = None  # not copied: the row is an error, its text is not UTF-8
                body = _error_body(f"not UTF-8 text (byte {counter.bad_byte} of the line)")
        counter.next_record()
        if body is None and cells is not None and len(cells) <= 1 and _blank(cells):
            continue  # a blank line is not a row
        summary.rows += 1
        if body is None and len(cells) != width:
            body = _error_body(f"{len(cells)} fields where the header has {width}")
        if body is None:
            try:
                args = []
                for i, constant in where:
                    cell = cells[i].strip() if i is not None else ""
                    if cell:
                        v = float(cell)
                        if v - v != 0.0 or "_" in cell or not cell.isascii():
                            raise ValueError  # not finite, or not a plain decimal (float takes 1_000 and ١٢)
                        args.append(v)
                    elif constant is not None:
                        args.append(constant)
                    else:
                        raise ValueError
                result = function(*args)
                if ev.gradient:
                    s = sum(result)
                    if s - s != 0.0:
                        raise OverflowError  # inf or nan among the results
                elif result - result != 0.0:
                    raise OverflowError
            except Exception:
                try:
                    result = ev.exact(_csv_values(ev, cells, columns))
                except RowError as error:
                    body = error.body
            if body is None:
                if result.__class__ is float:
                    result = (result,)
                buffer.append(good % ((raw, *result) if keep else result))
        if body is not None:
            _record_error(summary, start, body)
            buffer.append(out.bad(start, body, raw if raw is not None and len(cells) == width else None))
            if fail_fast:
                summary.stopped = True
                return _finish(summary, buffer, write)
        if len(buffer) >= _FLUSH_ROWS:
            write("".join(buffer))
            buffer.clear()
        if progress is not None and summary.rows % _PROGRESS_ROWS == 0:
            progress(summary.rows, counter.bytes)
    if progress is not None:
        progress(summary.rows, counter.bytes)
    return _finish(summary, buffer, write)


def _csv_values(ev: _Evaluator, cells: list[str], columns: Mapping[str, int]) -> dict[str, object]:
    """A CSV row's values for the exact path: numbers where the cell is one, the text otherwise."""
    values: dict[str, object] = {}
    for name in ev.names:
        i = columns.get(name)
        if i is None:
            continue
        cell = cells[i].strip()
        if not cell:
            continue  # empty: the command-line constant, if there is one
        if "_" in cell or not cell.isascii():
            message = f"the value of {name} must be a plain decimal number, not {_describe(cell)}"
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
