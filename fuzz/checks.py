"""What the fuzz targets check, as plain functions of bytes: no atheris needed.

Each check takes one input (bytes), runs it through the package, and raises
`FuzzFailure` (or lets an unexpected exception escape) when the package breaks
its promises: an exception that is not one of the project's (`AutodiffError`),
a printed expression that does not parse back to the same function, or a batch
run whose output is not one well-formed record per input row, in order.

The atheris targets (fuzz_parser.py, fuzz_batch.py) call these functions, and
tests/test_fuzz_corpus.py replays every file of fuzz/corpus/ through them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable

from autodiff_cli import symbolic
from autodiff_cli.batch import run
from autodiff_cli.compile import Compiled, compile_expression
from autodiff_cli.engine import Value
from autodiff_cli.errors import AutodiffError, LimitError, ParseError
from autodiff_cli.expression import Expression
from autodiff_cli.parser import parse

__all__ = ["BATCH_EXPRESSIONS", "FuzzFailure", "batch_case", "check_batch", "check_parser", "decode"]


class FuzzFailure(AssertionError):
    """The package broke a promise on this input (not a crash: a wrong answer)."""


def decode(data: bytes) -> str:
    """Bytes as the text a command line hands the parser: invalid UTF-8 kept as surrogate escapes.

    That is what Python makes of a non-UTF-8 argv on Linux, so the parser must take it.
    """
    return data.decode("utf-8", "surrogateescape")


# -- the parser -------------------------------------------------------------------


def point(expr: Expression) -> dict[str, float]:
    """A fixed, unremarkable point: 0.75, 1.25, -0.5, 2.0, 0.3, ... in order of appearance."""
    values = (0.75, 1.25, -0.5, 2.0, 0.3, -1.5, 3.0, 0.1)
    return {name: values[i % len(values)] for i, name in enumerate(expr.variables)}


def edge_point(expr: Expression) -> dict[str, float]:
    """Where functions have their edges: 0, 1, -1, 2, -0.0, 0.5, ... in order of appearance."""
    values = (0.0, 1.0, -1.0, 2.0, -0.0, 0.5, -2.0, 3.0)
    return {name: values[i % len(values)] for i, name in enumerate(expr.variables)}


def _outcome(f: Callable[[], float]) -> float | str:
    """The value, or the name of the project's error that stopped it."""
    try:
        return f()
    except AutodiffError as error:
        return type(error).__name__


def _same(a: float | str, b: float | str) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def check_parser(data: bytes) -> None:
    """Parse the text; if it parses: evaluate, differentiate, print, and parse the printed text again.

    Only the project's errors may come out.  A value or a derivative is a finite
    float; the printed expression parses and computes the same number at the
    same point (or fails the same way).
    """
    text = decode(data)
    try:
        expr = parse(text)
    except AutodiffError as error:
        _check_error(text, error)
        return
    try:
        printed = symbolic.to_text(expr.root)
    except LimitError:
        printed = None
    again = None
    if printed is not None:
        try:
            again = parse(printed)
        except ParseError as error:
            raise FuzzFailure(f"the printed form {printed!r} of {text!r} does not parse: {error.message}") from None
        if set(again.variables) != set(expr.variables):
            raise FuzzFailure(f"{text!r} printed as {printed!r}: variables {list(again.variables)}"
                              f" instead of {list(expr.variables)}")
    derivatives = None
    # what `diff` does: symbolic derivatives, printed (for short inputs: the simplifier's rules are
    # reached by them, and long ones would make the replay of the corpus slow)
    if len(expr.variables) <= 3 and len(expr.order) <= 60:
        try:
            derivatives = symbolic.partials(expr.root, expr.variables, list(expr.variables), 1)
            for graph in derivatives.values():
                symbolic.to_text(graph)
        except AutodiffError:
            derivatives = None
    compiled = compile_expression(expr)
    for at in (point(expr), edge_point(expr)):
        _check_at(text, expr, compiled, at, printed, again, derivatives)


def _check_at(text: str, expr: Expression, compiled: Compiled, at: dict[str, float], printed: str | None,
              again: Expression | None, derivatives: dict[tuple[str, ...], Value] | None) -> None:
    """At one point: value and gradient, forward mode, the compiled function, the printed form, `diff`'s graphs."""
    value = _outcome(lambda: expr.evaluate(at))
    if isinstance(value, float) and not math.isfinite(value):
        raise FuzzFailure(f"evaluate gave {value!r} for {text!r}")
    grads = None
    try:
        _, grads = expr.gradient(at)
    except AutodiffError:
        pass
    else:
        bad = {n: g for n, g in grads.items() if not math.isfinite(g)}
        if bad:
            raise FuzzFailure(f"gradient gave {bad!r} for {text!r}")
    if grads is not None:  # forward mode (dual numbers) agrees with reverse mode
        try:
            _, tangents = expr.gradient(at, mode="forward")
        except AutodiffError as error:
            raise FuzzFailure(f"{text!r} at {at}: reverse mode gives {grads}, forward mode {error!r}") from None
        if not all(_near(tangents[n], g) for n, g in grads.items()):
            raise FuzzFailure(f"{text!r} at {at}: reverse mode gives {grads}, forward mode {tangents}")
    _check_compiled(text, expr, compiled, at, value, grads if isinstance(value, float) else None)
    if again is not None:
        second = _outcome(lambda: again.evaluate(at))
        if not _same(value, second):
            raise FuzzFailure(f"{text!r} = {value!r} but its printed form {printed!r} = {second!r} at {at}")
    if derivatives is not None and grads is not None:  # diff's graphs, evaluated, are the gradient
        for name, leaf in expr.variables.items():
            leaf.data = at[name]
        for (name,), graph in derivatives.items():
            try:
                d = symbolic.evaluate(graph)
            except AutodiffError:
                continue  # the simplified derivative may be undefined at a point where backward() is not
            if not _near(d, grads[name]):
                raise FuzzFailure(f"{text!r} at {at}: d/d{name} printed as {symbolic.to_text(graph)!r}"
                                  f" evaluates to {d!r}, the gradient is {grads[name]!r}")


def _check_error(text: str, error: AutodiffError) -> None:
    """A parse error is fit to print: a message, a column on the text, a caret line, JSON."""
    if not isinstance(error.message, str) or not error.message:
        raise FuzzFailure(f"an error without a message for {text!r}: {error!r}")
    json.dumps(error.to_json())
    if isinstance(error, ParseError) and error.column is not None:
        lines = text.split("\n")
        if not 1 <= error.line <= len(lines) or not 1 <= error.column <= len(lines[error.line - 1]) + 1:
            raise FuzzFailure(f"{text!r}: the error {error.message!r} points at line {error.line},"
                              f" column {error.column}, outside the text")
        error.caret()


def _check_compiled(text: str, expr: Expression, compiled: Compiled, at: dict[str, float], value: float | str,
                    grads: dict[str, float] | None) -> None:
    """The compiled function (the batch fast path) agrees with the graph wherever both give numbers.

    It may fail where the graph does (a Python error: batch then asks the graph),
    but never give a different number.
    """
    args = [at[n] for n in expr.variables]
    try:
        fast_value = compiled.value(*args)
        fast = compiled.gradient(*args)
    except (ArithmeticError, ValueError):
        return
    if not all(math.isfinite(v) for v in (fast_value, *fast)):
        return  # the batch reader sends such a row to the graph
    if not isinstance(value, float) or grads is None:
        raise FuzzFailure(f"{text!r} at {at}: compiled {fast_value!r}, {fast!r}; the graph refuses ({value})")
    want = (value, *grads.values())
    if not (_near(fast_value, value) and len(fast) == len(want) and all(map(_near, fast, want))):
        raise FuzzFailure(f"{text!r} at {at}: compiled {fast_value!r}, {fast!r}; graph {want!r}")


def _near(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# -- the batch reader -------------------------------------------------------------

BATCH_EXPRESSIONS = ("x*y + sin(x)", "log(x) / y", "x^y", "exp(x)")


def batch_case(data: bytes) -> tuple[dict, bytes]:
    """The options a batch input's first byte chooses, and the rest of the bytes as the input stream.

    Bit 0: CSV in (else JSON Lines); bit 1: CSV out; bit 2: values only (no
    gradient); bit 3: --keep; bits 4-5: the expression; bit 6: a constant y=2.
    """
    flags = data[0] if data else 0
    options = {
        "input_format": "csv" if flags & 1 else "jsonl",
        "output_format": "csv" if flags & 2 else "jsonl",
        "gradient": not flags & 4,
        "keep": bool(flags & 8),
        "constants": {"y": 2.0} if flags & 64 else {},
        "expression": BATCH_EXPRESSIONS[(flags >> 4) & 3],
    }
    return options, data[1:]


def _jsonl_rows(stream: bytes) -> list[int]:
    """The line numbers of the rows of a JSON Lines stream: every line but the blank ones.

    Lines end at \\n only (as a file object reads them); a byte-order mark before
    the first line is not part of it; a line of ASCII whitespace is blank.
    """
    if stream.startswith(b"\xef\xbb\xbf"):
        stream = stream[3:]
    lines = stream.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the text after the last newline, when there is none
    return [i + 1 for i, line in enumerate(lines) if line.strip()]


def _csv_rows(stream: bytes) -> list[int] | None:
    """The start lines of the data rows of a CSV stream without quotes: every line after the header, blanks skipped.

    None when the stream has quotes (a quoted field can hold line breaks: counting
    them is the csv module's job, not something to check it against).
    """
    if b'"' in stream:
        return None
    text = stream.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if "," in line or line.strip()]
    return [n for n, _ in numbered[1:]]  # the first is the header


def _expected(expr: Expression, options: dict, row: dict) -> tuple[float, ...] | None:
    """What the Value graph says a good row's record holds (None: the graph refuses the row)."""
    bindings = dict(options["constants"])
    for name in expr.variables:
        if name in row:
            bindings[name] = row[name]
    try:
        if not options["gradient"]:
            return (expr.evaluate(bindings),)
        value, grads = expr.gradient(bindings)
    except AutodiffError:
        return None
    return (value, *grads.values())


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def check_batch(data: bytes) -> None:
    """Run the batch reader over the bytes; check one well-formed record per row, in input order."""
    options, stream = batch_case(data)
    expr = parse(options["expression"])
    out = io.StringIO()
    try:
        summary = run(expr, io.BytesIO(stream), out.write, input_format=options["input_format"],
                      output_format=options["output_format"], constants=options["constants"],
                      gradient=options["gradient"], keep=options["keep"])
    except AutodiffError:
        if out.getvalue():
            raise FuzzFailure(f"a refused run wrote output first: {out.getvalue()[:200]!r}") from None
        return
    text = out.getvalue()
    names = list(expr.variables)
    if options["output_format"] == "jsonl":
        records = _jsonl_records(text, names, options)
    else:
        records = _csv_records(text, names, options)
    if len(records) != summary.rows:
        raise FuzzFailure(f"{len(records)} records for {summary.rows} rows")
    if sum(1 for line, _ in records if line is not None) != summary.failed:
        raise FuzzFailure(f"{summary.failed} failed rows, but the records say otherwise")
    expected = _jsonl_rows(stream) if options["input_format"] == "jsonl" else _csv_rows(stream)
    if expected is not None and len(expected) != len(records):
        raise FuzzFailure(f"{len(records)} records for {len(expected)} rows ({expected[:10]}...)")
    if expected is None:  # at least: error lines go up
        lines = [line for line, _ in records if line is not None]
        if lines != sorted(lines) or len(set(lines)) != len(lines):
            raise FuzzFailure(f"error records out of order: {lines[:20]}")
        return
    for (line, result), row_line in zip(records, expected, strict=True):
        if line is not None and line != row_line:
            raise FuzzFailure(f"an error record for line {line} where the row is on line {row_line}")
        if line is None and options["input_format"] == "jsonl":
            row = json.loads(_jsonl_line(stream, row_line))
            want = _expected(expr, options, row)
            if want is None or len(want) != len(result) or not all(map(_close, want, result)):
                raise FuzzFailure(f"line {row_line}: {result} where the graph gives {want}")


def _jsonl_line(stream: bytes, number: int) -> bytes:
    if stream.startswith(b"\xef\xbb\xbf"):
        stream = stream[3:]
    return stream.split(b"\n")[number - 1]


def _finite(v: object) -> bool:
    return isinstance(v, float) and math.isfinite(v)


def _jsonl_records(text: str, names: list[str], options: dict) -> list[tuple[int | None, tuple]]:
    """Each output line: (its error's line, ()) or (None, the numbers of its result)."""
    if text and not text.endswith("\n"):
        raise FuzzFailure(f"the output does not end with a newline: {text[-80:]!r}")
    records = []
    for line in text[:-1].split("\n") if text else []:
        if "\r" in line:  # a text-mode reader (universal newlines) would see two lines
            raise FuzzFailure(f"a record holds a carriage return: {line!r}")
        try:
            record = json.loads(line)
        except ValueError:
            raise FuzzFailure(f"a record is not JSON: {line[:200]!r}") from None
        if not isinstance(record, dict):
            raise FuzzFailure(f"a record is not an object: {line[:200]!r}")
        if "error" in record:
            error = record["error"]
            if set(record) != {"line", "error"} or not isinstance(record["line"], int) or record["line"] < 1:
                raise FuzzFailure(f"a bad error record: {line[:200]!r}")
            if not isinstance(error, dict) or not isinstance(error.get("message"), str) or "type" not in error:
                raise FuzzFailure(f"a bad error body: {line[:200]!r}")
            records.append((record["line"], ()))
            continue
        keys = {"value"} | ({"gradient"} if options["gradient"] else set()) | ({"input"} if options["keep"] else set())
        if set(record) != keys or not _finite(record["value"]):
            raise FuzzFailure(f"a bad result record: {line[:200]!r}")
        result = (record["value"],)
        if options["gradient"]:
            grads = record["gradient"]
            if not isinstance(grads, dict) or list(grads) != names or not all(map(_finite, grads.values())):
                raise FuzzFailure(f"a bad gradient: {line[:200]!r}")
            result += tuple(grads.values())
        records.append((None, result))
    return records


def _csv_records(text: str, names: list[str], options: dict) -> list[tuple[int | None, tuple]]:
    """The CSV output: its header, then per record (its error's line, ()) or (None, its numbers)."""
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if not rows:
        raise FuzzFailure("CSV output without a header")
    columns = ["value", *(f"d_{n}" for n in names)] if options["gradient"] else ["value"]
    columns.append("error")
    header = rows[0]
    if header[len(header) - len(columns):] != columns:
        raise FuzzFailure(f"CSV output header {header} does not end with {columns}")
    width = len(header)
    records = []
    for row in rows[1:]:
        if len(row) != width:
            raise FuzzFailure(f"a CSV record of {len(row)} cells under a header of {width}: {row}")
        cells = row[width - len(columns):]
        if cells[-1]:
            message = cells[-1]
            number = message.split(":", 1)[0].removeprefix("line ")
            if not message.startswith("line ") or not number.isdigit() or any(cells[:-1]):
                raise FuzzFailure(f"a bad CSV error record: {row}")
            records.append((int(number), ()))
            continue
        try:
            numbers = tuple(float(c) for c in cells[:-1])
        except ValueError:
            raise FuzzFailure(f"a CSV result that is not numbers: {row}") from None
        if not all(map(math.isfinite, numbers)):
            raise FuzzFailure(f"a CSV result that is not finite: {row}")
        records.append((None, numbers))
    return records
