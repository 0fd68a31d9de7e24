"""A tensor explanation laid out for people: the forward pass as a table, then each edge of the backward pass
as a short block with its rule and its numbers (small tensors printed, large ones summarised by shape).

    #1 → W  grad of W = g @ x.T
        g      [1, 1]
        x      [1, 1]
        sends  [[1, 1],
                [1, 1]]

g is the gradient arriving at the edge's node (#1), the names after it are the numbers the
rule reads, `sends` what the edge adds to its input's gradient, and `sum (k of n)` that
gradient so far when the input receives several parts.

Plain text for pipes and files; on a terminal the same lines with rich's styles.  The steps
come from tensor_explain.py; this module only lays them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .columns import ljust, width
from .tensor_graph import SMALL, shape_text, summary, values_text

if TYPE_CHECKING:
    from rich.console import Console

    from .tensor_explain import TensorExplanation

__all__ = ["explanation_lines", "explanation_text", "print_explanation", "result_lines"]

FORWARD_TITLE = "Forward pass, inputs first (topological order)"
BACKWARD_TITLE = "Backward pass, output first: each edge turns g, the gradient of its node, into its input's share"
FORWARD_HEADER = ["node", "op", "inputs", "shape", "value", "source"]
FORWARD_STYLES = ("edge", "op", "", "shape", "value", "dim")


def numbers(array: Any, backend: Any, with_shape: bool = True) -> list[str]:
    """The values of a small array, a row a line; a large one in a line: its shape and range."""
    size = 1
    for n in backend.shape(array):
        size *= n
    if size <= SMALL:
        return values_text(array, backend)
    return [summary(array, backend, with_shape)]


def _forward_rows(explanation: TensorExplanation) -> list[list[list[str]]]:
    """Each node as a row of cells, a cell being its lines (a matrix's value takes several)."""
    steps = explanation.forward
    rows = []
    for s in steps:
        inputs = ", ".join(steps[i].label for i in s.inputs)
        value = numbers(s.tensor.array, explanation.backend, with_shape=False)  # the shape has its column
        rows.append([[s.label], [s.op], [inputs], [shape_text(s.shape)], value, [s.source]])
    return rows


def _table(header: list[str], rows: list[list[list[str]]]) -> list[tuple[str, list[str]]]:
    """Aligned lines, each as (kind, cells) with kind 'header' or 'row', every cell padded to its column."""
    widths = [width(h) for h in header]
    for row in rows:
        for k, cell in enumerate(row):
            widths[k] = max(widths[k], *(width(line) for line in cell))
    out = [("header", [ljust(h, widths[k]) for k, h in enumerate(header)])]
    for row in rows:
        for j in range(max(len(cell) for cell in row)):  # a matrix's value takes several lines
            out.append(("row", [ljust(cell[j] if j < len(cell) else "", widths[k]) for k, cell in enumerate(row)]))
    return out


def _edge_blocks(explanation: TensorExplanation) -> list[list[tuple[str, str]]]:
    """Each edge as lines of (text, style) pieces: the heading with its rule, then its named numbers."""
    steps, b, g = explanation.forward, explanation.backend, explanation.upstream_name
    blocks = []
    for e in explanation.backward:
        node, target = steps[e.node], steps[e.input]
        twice = [steps[i].label for i in node.inputs].count(target.label) > 1
        which = f" (argument {e.arg + 1} of {node.op})" if twice else ""
        heading = [(f"{node.label} → {target.label}", "edge"), ("  ", ""),
                   (f"grad of {target.label}{which} = {e.rule}", "rule")]
        named: list[tuple[str, list[str]]] = [(g, numbers(e.upstream, b))]
        named += [(label, numbers(steps[i].tensor.array, b)) for label, i in e.operands]
        if e.local is not None:
            named.append((e.local[0], numbers(e.local[1], b)))
        named.append(("sends", numbers(e.sent, b)))
        if e.parts > 1:
            named.append((f"sum ({e.part} of {e.parts})", numbers(e.total, b)))
        wide = max(width(name) for name, _ in named)
        lines = [heading]
        for name, values in named:
            for j, line in enumerate(values):
                label = ljust(name, wide) if j == 0 else " " * wide
                style = "result" if name.startswith(("sends", "sum")) else "value"
                lines.append([("    ", ""), (label, "name"), ("  ", ""), (line, style)])
        blocks.append(lines)
    return blocks


def _no_edges(explanation: TensorExplanation) -> str:
    if not explanation.root.inputs:
        return "(no edges: the output is a leaf)"
    return "(no edges: every input is a constant, and constants need no gradient)"


def explanation_lines(explanation: TensorExplanation) -> list[list[tuple[str, str]]]:
    """Every line of the explanation as (text, style) pieces: titles, the forward table, the edges' blocks."""
    lines: list[list[tuple[str, str]]] = [[(FORWARD_TITLE, "title")]]
    for kind, cells in _table(FORWARD_HEADER, _forward_rows(explanation)):
        styles = FORWARD_STYLES if kind == "row" else ("header",) * len(cells)
        line: list[tuple[str, str]] = []
        for k, text in enumerate(cells):
            line += [(text, styles[k]), ("  ", "")]
        lines.append(line[:-1])
    lines += [[], [(BACKWARD_TITLE, "title")]]
    blocks = _edge_blocks(explanation)
    if not blocks:
        lines.append([(_no_edges(explanation), "")])
    for block in blocks:
        lines.extend(block)
    return lines


def _plain(line: list[tuple[str, str]]) -> str:
    return "".join(text for text, _ in line).rstrip()


def explanation_text(explanation: TensorExplanation) -> str:
    """The explanation as plain text, for pipes and files."""
    return "\n".join(_plain(line) for line in explanation_lines(explanation))


STYLES = {"title": "italic", "header": "bold", "edge": "bold cyan", "op": "bold", "shape": "magenta",
          "value": "green", "rule": "bold", "name": "cyan", "result": "bold green", "dim": "dim"}


def print_explanation(console: Console, explanation: TensorExplanation) -> None:
    """The explanation on a terminal: the same lines, styled (a name like [b] is never markup)."""
    from rich.text import Text

    for line in explanation_lines(explanation):
        text = Text()
        for piece, style in line:
            text.append(piece, style=STYLES.get(style, ""))
        text.rstrip()
        console.print(text, soft_wrap=True)


def result_lines(explanation: TensorExplanation, value: Any) -> list[str]:
    """The value and each variable's gradient at full precision, as autodiff grad prints them
    (array_text: small arrays whole, large ones by their shape and edges; --json has every value)."""
    from .array_text import array_block, labelled

    b = explanation.backend
    rows = [("value", value)] + [(f"∂/∂{name}", g) for name, g in explanation.gradients.items()]
    return labelled([(name, array_block(b.to_flat(array), b.shape(array))) for name, array in rows]).split("\n")
