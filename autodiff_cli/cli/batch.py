"""Batch mode on the command line (--input on eval and grad) and `autodiff compile`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from ..errors import UsageError
from ..expression import Expression
from .common import (
    FREE_ARGS,
    console,
    free_arguments,
    handles_errors,
    load,
    read_call,
    split_names,
    warn_unused,
    wrt_option,
)
from .group import Command

# batch.FORMATS, written here so that eval and grad load the batch machinery only for --input
FORMATS = ("jsonl", "csv")

BATCH_OPTIONS = ("input_", "input_format", "output_format", "keep", "fail_fast", "progress")


def batch_options(f: Callable) -> Callable:
    """--input and its companions, shared by eval and grad."""
    options = [
        click.option("--input", "input_", metavar="FILE",
                     help="Evaluate at every row of FILE (- for stdin): JSON Lines, or CSV with a header."),
        click.option("--input-format", type=click.Choice(FORMATS),
                     help="Format of --input [default: csv for a .csv file, else jsonl]."),
        click.option("--output-format", type=click.Choice(FORMATS),
                     help="Format of the records written for --input [default: jsonl]."),
        click.option("--keep", is_flag=True, help="With --input: copy each input row into its record."),
        click.option("--fail-fast", is_flag=True, help="With --input: stop at the first row that fails."),
        # tests and curious users: force the progress bar on or off (default: when stderr is a terminal)
        click.option("--progress", type=click.Choice(["auto", "always", "never"]), default="auto", hidden=True),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def requested(options: dict[str, Any]) -> bool:
    """True when --input was given; a batch-only option without it is a usage error."""
    if options.get("input_") is not None:
        return True
    for name in ("input_format", "output_format", "keep", "fail_fast"):
        if options.get(name):
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} needs --input FILE (or --input - for stdin)")
    return False


def stdin_taker(options: dict[str, Any]) -> str | None:
    """'--input -' when the rows come from stdin (so the expression cannot), else None."""
    return "--input -" if options.get("input_") == "-" else None


@contextmanager
def _open(path: str) -> Iterator[tuple[IO[bytes], int | None]]:
    """The input as bytes, with its size when it is a regular file (for the progress bar's ETA)."""
    if path == "-":
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        yield stream, None
        return
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        size = os.fstat(f.fileno()).st_size
        yield f, size if size > 0 else None
    finally:
        f.close()


@contextmanager
def _progress(mode: str, total: int | None) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr (rows, rows per second, time left for a file, time elapsed), or nothing."""
    show = mode == "always" or (mode == "auto" and sys.stderr.isatty())
    if not show:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns: list[Any] = [TextColumn("{task.fields[rows]:,} rows"), TextColumn("{task.fields[rate]:,.0f} rows/s")]
    if total is not None:  # a file: its size gives the share done and the time left
        columns += [BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn(), TextColumn("left")]
    columns += [TimeElapsedColumn(), TextColumn("elapsed")]
    start = time.perf_counter()
    with Progress(*columns, console=console(stderr=True), transient=False) as bar:  # NO_COLOR: no codes
        task = bar.add_task("rows", total=total, rows=0, rate=0.0)

        def update(rows: int, nbytes: int) -> None:
            elapsed = time.perf_counter() - start
            bar.update(task, completed=nbytes, rows=rows, rate=rows / elapsed if elapsed > 0 else 0.0)

        yield update


def run(expr: Expression, bindings: dict[str, float], *, gradient: bool, wrt: list[str] | None,
        options: dict[str, Any], mode: str = "reverse") -> None:
    """Stream --input through the expression; exit 1 at the end if any row failed."""
    if mode != "reverse":
        raise UsageError(f"--mode {mode} is for one point: --input runs the compiled reverse-mode code")
    warn_unused(expr, bindings)
    path = options["input_"]
    from .. import batch

    input_format = options.get("input_format") or batch.guess_format(None if path == "-" else path)
    output_format = options.get("output_format") or "jsonl"
    out = sys.stdout
    with _open(path) as (source, size), _progress(options.get("progress", "auto"), size) as progress:
        summary = batch.run(
            expr, source, out.write, input_format=input_format, output_format=output_format, constants=bindings,
            wrt=wrt, gradient=gradient, keep=bool(options.get("keep")), fail_fast=bool(options.get("fail_fast")),
            progress=progress, guessed=options.get("input_format") is None,
        )
    out.flush()
    if summary.failed:
        line, message = summary.first_error or (0, "")
        what = "stopped at the first failing row" if summary.stopped else (
            f"{summary.failed} of {summary.rows} rows failed")
        click.echo(f"Error: {what}; line {line}: {message}", err=True)
        sys.exit(1)


@click.command("compile", cls=Command, context_settings=FREE_ARGS)
@wrt_option
@free_arguments
@handles_errors
def compile_command(args: tuple[str, ...], wrt: tuple[str, ...]) -> None:
    """Print EXPR compiled to a plain Python module: value() and gradient() by position.

    This is what batch mode runs: a forward sweep, then the adjoints in reverse
    order, each derivative taken from the op table.  The module imports only
    math; VARIABLES says which argument is which variable.  Paste it into your
    own program, or run it inside a Dask, Ray or Spark map.

    \b
    Examples:
      autodiff compile "tanh(w*x+b)"
      autodiff compile "x*y + sin(x)" --wrt x > f.py
    """
    from ..compile import compile_expression

    text, bindings = read_call(args)
    if bindings:
        raise UsageError("compile takes no bindings: the compiled function takes every variable as an argument")
    expr = load(text)
    names = split_names(wrt) if wrt else None
    expr.check_bindings(dict.fromkeys(expr.variables, 0.0), names or ())
    click.echo(compile_expression(expr, names).source, nl=False)


COMMANDS = (compile_command,)
