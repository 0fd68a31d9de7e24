"""Backpropagation step by step as two tables, the forward pass and the backward pass's edges:
aligned plain text for pipes, rich tables (or styled columns, or blocks) on a terminal.

The steps themselves come from explain.py; this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .columns import aligned, compact, fits, ljust, print_blocks, rjust, short, width

if TYPE_CHECKING:
    from rich.console import Console

    from .explain import Explanation


FORWARD_TITLE = "Forward pass, inputs first (topological order)"
BACKWARD_TITLE = "Backward pass, output first: each edge sends upstream × local to its input"
FORWARD_HEADER = ["node", "op", "inputs", "value"]
BACKWARD_HEADER = ["edge", "local derivative", "local", "upstream", "product", "input's grad"]


def explanation_rows(explanation: Explanation) -> tuple[list[list[str]], list[list[str]]]:
    """The forward and backward tables as text cells (six significant digits)."""
    steps = explanation.forward
    forward = [[s.label, s.op, ", ".join(steps[i].label for i in s.inputs), _short(s.value)] for s in steps]
    backward = []
    for e in explanation.backward:
        total = _short(e.total) + (f" ({e.part} of {e.parts})" if e.parts > 1 else "")
        edge = f"{steps[e.node].label} → {steps[e.input].label}"
        backward.append([edge, e.rule, _short(e.local), _short(e.upstream), _short(e.product), total])
    return forward, backward


def _short(x: float) -> str:
    """Six significant digits, a space where a minus would be: the digits line up in a column."""
    text = short(x)
    return text if text.startswith("-") else " " + text


def _no_edges(explanation: Explanation) -> str:
    if explanation.root.is_leaf:
        return "(no edges: the output is a leaf)"
    return "(no edges: every input is a constant, and constants need no gradient)"


def explanation_text(explanation: Explanation) -> str:
    """The explanation as aligned plain text, for pipes and files."""
    forward, backward = explanation_rows(explanation)
    parts = [FORWARD_TITLE, aligned([FORWARD_HEADER, *forward]), "", BACKWARD_TITLE]
    if backward:
        parts.append(aligned([BACKWARD_HEADER, *backward]))
    else:
        parts.append(_no_edges(explanation))
    return "\n".join(parts)


# Above this many rows rich's Table, which measures every cell, takes most of a
# second per thousand rows: long explanations are drawn as styled aligned columns.
TABLE_ROWS = 300
FORWARD_STYLES = ("bold cyan", "bold", "", "green")
BACKWARD_STYLES = ("bold cyan", "", "green", "", "", "bold")


def explanation_tables(console: Console, explanation: Explanation) -> None:
    """The explanation as two rich tables (styled aligned columns when they are long)."""
    forward, backward = explanation_rows(explanation)
    _table(console, FORWARD_TITLE, FORWARD_HEADER, forward, FORWARD_STYLES, right={3})
    if backward:
        _table(console, BACKWARD_TITLE, BACKWARD_HEADER, backward, BACKWARD_STYLES, right={2, 3, 4, 5})
    else:
        console.print(_no_edges(explanation))


def _table(
    console: Console, title: str, header: list[str], rows: list[list[str]], styles: Sequence[str], right: set[int]
) -> None:
    """A table that fits the console's width, else the same rows as blocks (print_blocks): never a cut number."""
    from rich.text import Text

    labels = min(right)  # the columns before the first number: names and rules
    if len(rows) > TABLE_ROWS:
        widths = [max(width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        if sum(widths) + 2 * (len(widths) - 1) > console.width:
            console.print(Text(title, style="italic"), soft_wrap=True)
            print_blocks(console, header, rows, labels, styles)
            return
        text = Text(title + "\n", style="italic")
        for n, row in enumerate([header, *rows]):
            for i, cell in enumerate(row):
                cell = rjust(cell, widths[i]) if i in right else ljust(cell, widths[i])
                text.append(cell, style="bold" if n == 0 else styles[i])
                text.append("  " if i < len(row) - 1 else "\n")
        console.print(text, end="", soft_wrap=True)
        return
    from rich.table import Table

    console.print(Text(title, style="italic"), soft_wrap=True)  # above, not in, the table: it never wraps
    table = Table()
    for i, (name, style) in enumerate(zip(header, styles, strict=True)):
        table.add_column(name, style=style, justify="right" if i in right else "left")
    for row in rows:
        table.add_row(*map(Text, row))  # Text: a name like [b] is not markup
    if fits(console, table):
        console.print(table)
    elif fits(console, compact(table)):
        console.print(table)
    else:
        print_blocks(console, header, rows, labels, styles)
