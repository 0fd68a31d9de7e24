"""The graph as text for other tools: Graphviz DOT, Mermaid and JSON, streamed line by line.

Each writer is a generator of lines, so a graph of 100,000 nodes goes to a file
(or to Graphviz's `dot`) without ever being one big string.  Node ids are the
positions in topological order (n0, n1, ...); labels are escaped for each
format, so any variable name is safe.  Pictures (svg, png, pdf) are drawn by
Graphviz's dot from the DOT lines; files are written whole or not at all
(autodiff_cli.files).  Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from . import limits, ops
from .engine import Value, topological_order
from .errors import OutputError, UsageError
from .files import is_stream, publish, target_of, temporary_beside, write_atomic, write_lines
from .labels import labels

__all__ = [
    "dot_lines", "is_stream", "json_lines", "mermaid_lines", "render_image", "render_image_stream", "write_atomic",
    "write_lines",
]

INSTALL_GRAPHVIZ = """\
Install Graphviz, which provides it:
  Debian, Ubuntu:  sudo apt-get install graphviz
  Fedora:          sudo dnf install graphviz
  macOS:           brew install graphviz
  conda:           conda install -c conda-forge graphviz
  Windows:         winget install graphviz
Or write the DOT text, which needs nothing: --format dot (or --output FILE.dot)"""


def fixed(x: float) -> str:
    """Four decimals as in micrograd's drawing; scientific where that would hide the number; zero unsigned."""
    x += 0.0  # -0.0 becomes 0.0
    if x == 0 or 1e-3 <= abs(x) < 1e9:
        return f"{x:.4f}"
    return f"{x:.4e}"


def op_symbol(node: Value) -> str:
    """What the small operation node shows: the operator ('+', '*', '^') or the function's name."""
    spec = ops.OPS[node.op]
    if spec.symbol is not None and spec.arity == 2:
        return spec.symbol
    return spec.name  # neg, tanh, ...


# -- Graphviz DOT ---------------------------------------------------------------


def dot_escape(text: str) -> str:
    """A string safe inside a double-quoted record label: quotes, backslashes and record syntax escaped."""
    out = []
    for ch in text:
        if ch in '\\"{}|<> ':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch in "\r\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def dot_lines(root: Value, with_values: bool = True, order: list[Value] | None = None) -> Iterator[str]:
    """Graphviz DOT in the look of micrograd's draw_dot: a record per value, a small node per operation.

    Values flow left to right: inputs -> operation -> its result.  Edges into a
    two-argument operation are marked x and y, the names its derivative rules use.
    """
    order = topological_order(root) if order is None else order
    names = labels(order)
    index = {id(node): i for i, node in enumerate(order)}
    yield "digraph autodiff {"
    yield "  graph [rankdir=LR];"
    yield '  node [shape=record, fontname="Helvetica", fontsize=11];'
    yield '  edge [fontname="Helvetica", fontsize=9, color="#555555"];'
    for i, node in enumerate(order):
        fields = [dot_escape(names[i])]
        if with_values:
            fields.append(f"data {fixed(node.data)}")
            if not node.is_constant:
                fields.append(f"grad {fixed(node.grad)}")
        style = ', style=dashed, color="#888888"' if node.is_constant else ""
        yield f'  n{i} [label="{{ {" | ".join(fields)} }}"{style}];'
        if not node.is_leaf:
            yield f'  n{i}op [label="{dot_escape(op_symbol(node))}", shape=ellipse, margin=0.02, height=0.3];'
            yield f"  n{i}op -> n{i};"
            two = len(node.parents) == 2
            for a, p in enumerate(node.parents):
                mark = f' [label="{ops.ARG_NAMES[a]}"]' if two else ""
                yield f"  n{index[id(p)]} -> n{i}op{mark};"
    yield "}"


# -- Mermaid ----------------------------------------------------------------------


def mermaid_escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label: entities for quotes, #, &, < and >."""
    entities = {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "\n": " ", "\r": " "}
    return "".join(entities.get(ch, ch) for ch in text)


def mermaid_lines(root: Value, with_values: bool = True, order: list[Value] | None = None) -> Iterator[str]:
    """A Mermaid flowchart (left to right) for Markdown notes: the same shape as the DOT drawing."""
    order = topological_order(root) if order is None else order
    names = labels(order)
    index = {id(node): i for i, node in enumerate(order)}
    yield "flowchart LR"
    for i, node in enumerate(order):
        parts = [mermaid_escape(names[i])]
        if with_values:
            parts.append(f"data {fixed(node.data)}")
            if not node.is_constant:
                parts.append(f"grad {fixed(node.grad)}")
        yield f'  n{i}["{"<br/>".join(parts)}"]'
        if not node.is_leaf:
            yield f'  n{i}op(("{mermaid_escape(op_symbol(node))}"))'
            yield f"  n{i}op --> n{i}"
            two = len(node.parents) == 2
            for a, p in enumerate(node.parents):
                arrow = f"-->|{ops.ARG_NAMES[a]}|" if two else "-->"
                yield f"  n{index[id(p)]} {arrow} n{i}op"


# -- JSON -------------------------------------------------------------------------


def _number(x: float, with_values: bool) -> float | None:
    return x if with_values and math.isfinite(x) else None


def json_lines(
    root: Value, with_values: bool = True, expression: str | None = None, order: list[Value] | None = None
) -> Iterator[str]:
    """The graph as one JSON document, written a node or an edge per line.

    {"expression": ..., "root": id, "nodes": [{"id", "label", "op", "name", "data", "grad", "parents"}],
    "edges": [{"from": input id, "to": node id, "arg": argument position}]}.  Ids are
    positions in topological order; data and grad are null when there are no values.
    """
    order = topological_order(root) if order is None else order
    names = labels(order)
    index = {id(node): i for i, node in enumerate(order)}

    def dump(obj: object) -> str:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False)

    yield "{"
    if expression is not None:
        yield f'  "expression": {dump(expression)},'
    yield f'  "root": {len(order) - 1},'
    yield '  "nodes": ['
    last = len(order) - 1
    for i, node in enumerate(order):
        item = {
            "id": i,
            "label": names[i],
            "op": node.op,
            "name": node.name,
            "data": _number(node.data, with_values),
            "grad": None if node.is_constant else _number(node.grad, with_values),
            "parents": [index[id(p)] for p in node.parents],
        }
        yield f"    {dump(item)}{',' if i < last else ''}"
    yield "  ],"
    yield '  "edges": ['
    held: str | None = None  # one edge held back: the last one takes no comma
    for j, node in enumerate(order):
        for a, p in enumerate(node.parents):
            if held is not None:
                yield f"    {held},"
            held = dump({"from": index[id(p)], "to": j, "arg": a})
    if held is not None:
        yield f"    {held}"
    yield "  ]"
    yield "}"


# -- pictures: Graphviz's dot -----------------------------------------------------


def dot_program() -> str | None:
    """The path of Graphviz's dot, or None when it is not installed."""
    return shutil.which("dot")


def _need_dot(what: str) -> str:
    program = dot_program()
    if program is None:
        raise UsageError(f"writing {what} needs Graphviz's dot program, which is not on PATH.", INSTALL_GRAPHVIZ)
    return program


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the block runs, then deliver them to their real handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


def _run_dot(program: str, fmt: str, lines: Iterable[str], output: str | None, stdout: BinaryIO | None) -> None:
    """Feed DOT lines to `dot -T<fmt>`, its picture going to the file `output` or to `stdout`.

    Whatever stops us (an error in the lines, SIGINT, SIGTERM turned into an exception)
    stops dot too; a failing dot is an OutputError with its own message.
    """
    # dot's messages go to a file, not a pipe: a full pipe would stall it while we write
    with tempfile.TemporaryFile() as messages:
        proc = None
        try:
            with _signals_held():  # so that no signal lands between dot's start and `proc` knowing it
                proc = subprocess.Popen(
                    [program, f"-T{fmt}", *(["-o", output] if output is not None else [])], stdin=subprocess.PIPE,
                    stdout=stdout if stdout is not None else subprocess.DEVNULL, stderr=messages, text=True,
                    encoding="utf-8",
                )
            assert proc.stdin is not None
            try:
                write_lines(proc.stdin, lines)
                proc.stdin.close()
            except BrokenPipeError:  # dot stopped reading: its exit status and message say why
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            seconds = limits.get("drawing")
            try:
                code = proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:  # a layout that will not end soon: stopped below, like an interrupt
                took = f"Graphviz's dot took more than {seconds:,} second{'s' * (seconds != 1)} to draw the picture"
                raise limits.error("drawing", took, seconds,
                                   "--format dot, mermaid or json write any graph as text") from None
        except BaseException:  # interrupted, terminated, the lines failed, or too slow: stop dot too
            if proc is not None:
                proc.kill()
                proc.wait()
                with contextlib.suppress(OSError, ValueError):  # now, not at exit, where it would print a warning
                    proc.stdin.close()
            raise
        messages.seek(0)
        problem = messages.read().decode("utf-8", "replace").strip()
    if code != 0:
        raise OutputError(f"Graphviz's dot failed (exit {code}): {problem or 'no message'}")


def render_image(path: Path, lines: Iterable[str], fmt: str) -> None:
    """Render DOT lines to an svg, png or pdf file with Graphviz, all or nothing.

    Links are written through and devices directly, as by write_atomic.  Raises
    UsageError (with install instructions) when `dot` is missing, and OutputError
    when it fails or the file cannot be written.
    """
    path = Path(path)
    target, direct = target_of(path)
    program = _need_dot(str(path) if direct else path.name)
    if direct:
        try:
            with open(target, "ab") as out:
                render_image_stream(out, lines, fmt, program)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    fd, tmp = temporary_beside(target, path)
    os.close(fd)
    try:
        _run_dot(program, fmt, lines, tmp, None)
        publish(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def render_image_stream(out: BinaryIO, lines: Iterable[str], fmt: str, program: str | None = None) -> None:
    """Render DOT lines to a binary stream (stdout, a device): the whole picture once dot has succeeded."""
    program = program or _need_dot(f"the {fmt.upper()} picture to stdout")
    with tempfile.TemporaryFile() as picture:  # a real file for dot, whatever `out` is
        _run_dot(program, fmt, lines, None, picture)
        picture.seek(0)
        shutil.copyfileobj(picture, out)
    out.flush()
