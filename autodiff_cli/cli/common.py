"""What every command shares: reading EXPR and bindings, JSON output, errors and exit codes."""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

import click

from ..errors import AutodiffError, BindingError, Located, MathError, ParseError, UsageError, shortened, visible
from ..expression import Expression
from ..notation import CONSTANT_SPELLINGS, is_name
from .group import BINDING_MARK

# Commands take their expression and bindings as free arguments, so that --x 2,
# --x=2 and x=2 all work next to the command's own options, and -3 is a value.
FREE_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


def free_arguments(f: Callable) -> Callable:
    """EXPR and bindings, parsed by read_call() rather than by click."""
    return click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="EXPR [BINDINGS]...")(f)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "json_", is_flag=True, help="Print one JSON document (errors too).")(f)


def wrt_option(f: Callable) -> Callable:
    return click.option(
        "--wrt", multiple=True, metavar="NAMES",
        help="Differentiate only with respect to these (x,y or repeated); default: all, in order of appearance.",
    )(f)


def mode_option(f: Callable) -> Callable:
    return click.option(
        "--mode", type=click.Choice(["reverse", "forward"]), default="reverse", show_default=True,
        help="reverse: one backward pass for all variables; forward: dual numbers, one pass per variable.",
    )(f)


def split_names(values: Sequence[str], option: str = "--wrt") -> list[str]:
    """The names of --wrt x,y (or --wrt x --wrt y); a name given twice is an error that says what to write."""
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if not name:
                raise UsageError(f"{option} {value!r}: empty variable name")
            if name in names:
                raise UsageError(f"{option} names {shortened(name)} twice; {_twice_advice(name)}")
            names.append(name)
    return names


def _twice_advice(name: str) -> str:
    """How to get what `--wrt x,x` probably meant, in the terms of the command it was given to."""
    ctx = click.get_current_context(silent=True)
    command = ctx.info_name if ctx is not None else ""
    if command == "diff":
        return (f"for the second derivative write --partial {name},{name} (or --order 2); "
                f"for the first, --wrt {name}")
    if command == "hessian":
        return f"the Hessian in {name} alone is --wrt {name} (its one entry is the second derivative)"
    return f"write --wrt {name} (hessian and diff --partial {name},{name} give second derivatives)"


def read_call(args: Sequence[str], stdin_taken_by: str | None = None,
              texts: dict[str, str] | None = None) -> tuple[str, dict[str, float]]:
    """Split free arguments into the expression and its bindings (--x 2, --x=2, x=2).

    stdin_taken_by: the option that reads stdin already (--input -), if any: EXPR cannot be - then.
    texts: see read_calls.
    """
    expressions, bindings = read_calls(args, many=False, stdin_taken_by=stdin_taken_by, texts=texts)
    return expressions[0], bindings


def read_calls(args: Sequence[str], many: bool = True, stdin_taken_by: str | None = None,
               texts: dict[str, str] | None = None) -> tuple[list[str], dict[str, float]]:
    """Split free arguments into expressions (one, or several if many) and bindings.

    texts: a dict to fill with every binding's text as given, for a command that also takes tensors
    (--A '[[1,2],[3,4]]', A=[1,2], --b @b.csv, x=@-): a value that is an array or a file is then not
    read as a number here (it is missing from the numbers returned) but left to tensor_route() and
    texpr.bindings.read_binding.  Without texts, every value must be a number, as it always was.
    """
    args = [a[1:] if a[:1] == BINDING_MARK else a for a in args]  # the group's mark on --x (see BINDING_MARK)
    expressions: list[str] = []
    bindings: dict[str, float] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        # --x 2 and --x=2 bind x; before the expression, '--' and no name (--(x), --2, --x^2) is the expression
        if arg.startswith("--") and len(arg) > 2 and (expressions or is_name(arg[2:].partition("=")[0].strip())):
            name, eq, text = arg[2:].partition("=")
            if not is_name(name.strip()):
                raise UsageError(f"{name.strip()!r} is not a variable name (bindings look like x=2 or --x 2)")
            if not eq:
                if i + 1 >= len(args):
                    if name in _option_names():
                        raise UsageError(f"{_not_here(name)}; to bind a variable {name}, write {name}=2")
                    raise UsageError(f"{arg} needs a value, as in {arg} 2 or {name}=2")
                i += 1
                text = args[i]
        elif "=" in arg and (expressions or is_name(arg.partition("=")[0].strip())):
            name, _, text = arg.partition("=")
        elif not expressions or many:
            # the group put a space before an expression starting with '-' (see protect_expressions)
            expressions.append(arg[1:] if arg.startswith(" -") else arg)
            i += 1
            continue
        else:
            shown = arg[1:] if arg.startswith(" -") else arg  # without the group's protective space
            raise UsageError(f"unexpected argument {shown!r}: give one expression, then bindings like x=2 or --x 2")
        name = _utf8(name, "a binding's name").strip()
        text = _utf8(text, f"the value of {name}")
        if not is_name(name):
            raise UsageError(f"{name!r} is not a variable name (bindings look like x=2 or --x 2)")
        if name in bindings or (texts is not None and name in texts):
            raise UsageError(f"{name} is given twice")
        if texts is not None:
            texts[name] = text
            if is_array_text(text):  # an array or a file: read by the tensor path, never as a number
                i += 1
                continue
        try:
            bindings[name] = parse_number(name, text)
        except BindingError:
            if not expressions and not _expression_follows(args[i + 1 :]):  # y = x^2: an equation
                raise UsageError(f"an expression has no '='; give the right-hand side: {shortened(text.strip())}"
                                 ) from None
            if name in _option_names():  # e.g. eval --wrt y: an option of another command
                raise UsageError(f"{_not_here(name)}; as a binding, its value must be a number, "
                                 f"not {shortened(text)!r}") from None
            raise
        i += 1
    if not expressions:
        raise UsageError("missing EXPR: give an expression, e.g. autodiff eval 'x^2' x=3 (or - to read it from stdin)")
    if expressions.count("-") > 1:
        raise UsageError("only one expression can be read from stdin (-)")
    if "-" in expressions and stdin_taken_by:
        raise UsageError(f"EXPR - and {stdin_taken_by} cannot both read stdin: "
                         "give the expression on the command line, or the rows in a file")
    if texts:
        _one_reader_of_stdin(texts, "-" in expressions, stdin_taken_by)
    expressions = [read_stdin() if e == "-" else _utf8(e) for e in expressions]
    return expressions, bindings


def is_array_text(text: str) -> bool:
    """Whether a binding's text is an array ('[1, 2]') or names a file ('@b.csv', '@-' for stdin)."""
    return text.lstrip()[:1] in ("[", "@")


def _one_reader_of_stdin(texts: dict[str, str], expression: bool, stdin_taken_by: str | None) -> None:
    """A usage error when two things would read stdin: x=@- and y=@-, or x=@- and EXPR - (or --input -)."""
    readers = [name for name, text in texts.items() if text.strip() == "@-"]
    if len(readers) > 1:
        raise UsageError(f"only one value can be read from stdin (@-): {readers[0]} and {readers[1]} both ask")
    if readers and expression:
        raise UsageError(f"EXPR - and {readers[0]}=@- cannot both read stdin: give the expression on the command "
                         "line, or the value in a file")
    if readers and stdin_taken_by:
        raise UsageError(f"{readers[0]}=@- and {stdin_taken_by} cannot both read stdin: give the value in a file")


def tensor_route(text: str, texts: dict[str, str], numbers: dict[str, float]) -> bool:
    """Whether this call is one for the tensor path (texpr.route.wants_tensors decides, from the expression
    and the bindings' texts).  When it is not, every value must be a number, as on the scalar path: a value
    left unread by read_calls is read now, with the scalar path's message if it is no number."""
    from ..texpr.route import wants_tensors  # standard library only, and small: the scalar path pays ~nothing

    if wants_tensors(text, texts):
        return True
    for name, value in texts.items():
        if name not in numbers:
            numbers[name] = parse_number(name, value)
    return False


def _expression_follows(rest: Sequence[str]) -> bool:
    """Whether an expression is among the arguments left (not only bindings like x=2 and --x 2)."""
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg.startswith("--") and is_name(arg[2:].partition("=")[0].strip()):
            i += 1 if "=" in arg else 2
        elif "=" in arg and is_name(arg.partition("=")[0].strip()):
            i += 1
        else:
            return True
    return False


def _utf8(text: str, what: str = "the expression") -> str:
    """An argument as given, or a usage error if its bytes were not UTF-8 (Python keeps them as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as bad:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte ('\ud800' from a Python caller)
            where = bad.start + 1
            raise UsageError(f"the expression is not valid text (a lone surrogate at character {where})") from None
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{what} is not UTF-8 text (byte {exc.start + 1})") from None
        raise UsageError(f"{what} is not UTF-8 text") from None
    return text


def _option_names() -> set[str]:
    """The long options of every command (to tell a misplaced option from a binding)."""
    from . import cli

    names = set()
    for name in cli.list_commands(click.Context(cli)):
        command = cli.get_command(click.Context(cli), name)
        for param in command.params if command is not None else ():
            names.update(o[2:] for o in getattr(param, "opts", []) if o.startswith("--"))
    return names


def _not_here(name: str) -> str:
    ctx = click.get_current_context(silent=True)
    here = f"autodiff {ctx.info_name}" if ctx is not None and ctx.info_name else "this command"
    return f"--{name} is not an option of {here} (see {here} --help)"


def parse_number(name: str, text: str) -> float:
    """A binding's value: a number, or an expression of numbers such as pi/2 or -1e-3."""
    text = text.strip()
    try:
        value = float(text) if "_" not in text else _constant_expression(name, text)  # 1_000 is not a number
    except ValueError:
        value = _constant_expression(name, text)
    if not math.isfinite(value):
        raise BindingError(f"the value of {name} must be a finite number, not {shortened(text)!r}")
    if value == 0.0 and re.match(r"[^eE]*[1-9]", text):  # 1e-400, refused as 1e999 is: never a silent 0
        raise BindingError(f"the value of {name} is too small for a double: {shortened(text)} would be 0")
    if name in CONSTANT_SPELLINGS:
        constant = CONSTANT_SPELLINGS[name]
        raise BindingError(f"{name} is the constant {constant} ({getattr(math, constant)!r}) and cannot be bound")
    return value


def _constant_expression(name: str, text: str) -> float:
    from ..parser import parse

    try:
        expr = parse(text)
    except ParseError:
        expr = None
    if expr is None or expr.variables:
        raise BindingError(f"the value of {name} must be a number (or numbers like pi/2), not {shortened(text)!r}")
    try:
        return expr.evaluate({})
    except MathError as error:
        raise BindingError(f"the value of {name} cannot be computed: {error.message}") from None


def read_stdin() -> str:
    """The expression on stdin, read with a bound: never more than the length limit could need."""
    from .. import limits

    limit = limits.get("length")
    cap = 4 * limit + 4096  # a character is at most 4 bytes in UTF-8; some room for surrounding blanks
    if hasattr(sys.stdin, "buffer"):
        data = limits.read_bounded(sys.stdin.buffer.read, cap + 1)
    else:
        data = sys.stdin.read(cap + 1).encode()
    if len(data) > cap:
        raise limits.error("length", f"the expression on stdin is more than {cap:,} bytes long", limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"stdin is not UTF-8 text (byte {exc.start + 1})") from None
    return text.strip()


def load(text: str) -> Expression:
    from ..parser import parse

    return parse(text)


def warn_unused(expr: Expression, bindings: dict[str, float]) -> None:
    """A value for a name the expression lacks: a warning, or an error if it looks like a misplaced option."""
    warn_unused_names(expr.variables, bindings)


def warn_unused_names(variables: Collection[str], bindings: Iterable[str]) -> None:
    """warn_unused for any expression: the variables it has, the names given values."""
    unused = [name for name in bindings if name not in variables]
    for name in unused:
        if name in _option_names():  # grad ... --order 2: not a binding, an option of another command
            raise UsageError(_not_here(name))
    for name in unused:
        click.echo(f"Warning: {name} is not in the expression; its value is ignored", err=True)


def print_json(document: Any) -> None:
    """Strict JSON (never NaN or Infinity), pretty-printed, to stdout."""
    import json  # here: a command that prints a number does not load it

    click.echo(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))


def report(error: AutodiffError, json_mode: bool) -> None:
    """An error as the user sees it: 'Error: ...' on stderr; with --json, also on stdout."""
    lines = [f"Error: {visible(error.message)}"]
    if error.detail:
        lines.append(error.detail)
    if isinstance(error, Located) and (caret := error.caret()):
        lines.append(caret)
    click.echo("\n".join(lines), err=True)
    if json_mode:
        print_json({"error": error.to_json()})


def handles_errors(f: Callable) -> Callable:
    """Turn the library's errors into a message and the documented exit code (2 usage, 1 math)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except AutodiffError as error:
            report(error, bool(kwargs.get("json_")))
            sys.exit(error.exit_code)

    return wrapper


def console(wide: bool = False, stderr: bool = False) -> Any:
    """A rich Console made when the command runs, so pipes, NO_COLOR and widths are seen then.

    wide: in a pipe nothing should be cropped to the 80 columns rich assumes there.  With NO_COLOR set
    (and not empty) no escape code at all is written: rich alone would drop the colours but keep bold and dim.
    """
    import os

    from rich.console import Console

    plain = os.environ.get("NO_COLOR", "") != ""
    return Console(highlight=False, width=100_000 if wide else None, stderr=stderr,
                   **({"color_system": None} if plain else {}))


def is_terminal() -> bool:
    return sys.stdout.isatty()
