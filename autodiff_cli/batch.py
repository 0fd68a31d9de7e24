"""Batch mode: stream rows of bindings (JSON Lines or CSV) through a compiled expression.

One row in, one record out, in input order, in constant memory.  The expression is
parsed and compiled once (autodiff_cli.compile); a reader per input format
(autodiff_cli.readers) turns the bytes into rows, and one loop runs the generated
function on each row's floats.  A row the fast path cannot take (a value that is
not a number, a missing variable, a math error, a result that is not finite) is
evaluated again through the Value graph, which gives the project's exact error
message, and becomes an error record in place of its result.

No click, no rich here: the command line wraps `run` and draws the progress bar.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from . import limits
from .compile import compile_expression
from .errors import AutodiffError, BindingError, UsageError, shortened
from .expression import Expression
from .readers import CsvRows, JsonLinesRows, RowError, csv_field_limit, describe, printable

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


def guess_format(path: str | None) -> str:
    """The input format a file name suggests: csv for .csv, else JSON Lines."""
    return "csv" if path and path.lower().endswith(".csv") else "jsonl"


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
                raise RowError(BindingError(f"the value of {name} must be a number, not {describe(v)}").to_json())
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
        body = {**body, "message": printable(body["message"])}
        if self.fmt == "jsonl":
            return json.dumps({"line": line, "error": body}, ensure_ascii=False) + "\n"
        prefix = ""
        if self.keep:  # the row as it was, or empty cells where it cannot be copied: every record has every column
            prefix = (raw if raw is not None else "," * (self.input_width - 1)) + ","
        return f"{prefix}{self.blanks}{_csv_cell(f'line {line}: ' + body['message'])}\n"


# -- the loop -------------------------------------------------------------------


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
    guessed: bool = False,
) -> Summary:
    """Stream the rows of `source` (bytes) through the expression, writing one record per row.

    constants: bindings for every row (a row's own value wins).  wrt: the
    gradient's variables (default: all, in order of appearance).  progress, if
    given, is called now and then with (rows so far, bytes read so far).
    guessed: the input format was guessed, not asked for; JSON Lines whose first
    line reads as a CSV header is then refused with a hint, not read as rows.
    Raises UsageError before writing anything if the options or the CSV header
    cannot work; row problems become error records.
    """
    if input_format not in FORMATS or output_format not in FORMATS:
        raise UsageError(f"unknown format: use one of {', '.join(FORMATS)}")
    if keep and input_format == "jsonl" and output_format == "csv":
        raise UsageError("--keep needs CSV in for CSV out: the columns of JSON Lines are not known in advance")
    evaluator = _Evaluator(expr, constants or {}, wrt, gradient)
    out = _Output(output_format, gradient, evaluator.wrt, keep)
    buffer: list[str] = []
    try:
        with csv_field_limit(limits.get("line")):  # the line limit is the only one on a CSV field
            if input_format == "csv":
                rows: JsonLinesRows | CsvRows = CsvRows(source, evaluator.names, evaluator.constants,
                                                        keep_as_json=keep and output_format == "jsonl")
            else:
                rows = JsonLinesRows(source, evaluator.names, evaluator.constants, keep, guessed)
            if keep and output_format == "csv":  # CSV in: its columns come first
                clash = [c for c in out.columns if c in rows.columns]
                if clash:
                    raise UsageError(f"--keep: the input already has a column named {clash[0]!r}, as the output does")
            out.input_width = rows.width
            buffer.append(out.header(rows.header))
            return _loop(evaluator, out, rows, write, buffer, fail_fast, progress)
    finally:
        if buffer:  # the last records, or those made before an unexpected error: they still go out
            write("".join(buffer))


def _loop(ev: _Evaluator, out: _Output, rows: JsonLinesRows | CsvRows, write: Callable[[str], object],
          buffer: list[str], fail_fast: bool, progress: Callable[[int, int], object] | None) -> Summary:
    """Each row: the compiled function on its floats, else the exact path; its record into the buffer."""
    summary = Summary()
    function, exact, bindings = ev.function, ev.exact, rows.bindings
    gradient, good, keep, bad = ev.gradient, out.good, out.keep, out.bad
    for line, args, values, kept in rows:
        summary.rows += 1
        result = None
        if args is not None:  # the fast path
            try:
                result = function(*args)
                if gradient:
                    s = sum(result)
                    if s - s != 0.0:
                        result = None  # inf or nan among the results: the exact path says which
                elif result - result != 0.0:
                    result = None
            except Exception:
                result = None
        if result is None:  # the exact path: the result, or the row's error
            try:
                if values.__class__ is RowError:  # the reader could not read the row
                    raise values
                result = exact(bindings(values))
            except RowError as error:
                summary.failed += 1
                if summary.first_error is None:
                    summary.first_error = (line, error.body["message"])
                buffer.append(bad(line, error.body, kept))
                if fail_fast:
                    summary.stopped = True
                    return summary
        if result is not None:
            if result.__class__ is float:
                result = (result,)
            buffer.append(good % ((kept, *result) if keep else result))
        if len(buffer) >= _FLUSH_ROWS:
            write("".join(buffer))
            buffer.clear()
        if progress is not None and summary.rows % _PROGRESS_ROWS == 0:
            progress(summary.rows, rows.nbytes)
    if progress is not None:
        progress(summary.rows, rows.nbytes)
    return summary
