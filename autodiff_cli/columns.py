"""Numbers and columns on a screen or in a pipe: full-precision numbers, display widths, aligned text,
labelled matrices, and rich tables that fit the console or are stacked as blocks.

rich is imported inside the functions that draw with it, so that commands which
print a number or JSON never pay for it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def number(x: float) -> str:
    """Full precision: the shortest text that reads back as the same double."""
    return repr(float(x))


def short(x: float) -> str:
    """Six significant digits, for drawings; zero is 0, whatever its sign bit (no -0 beside a 0.0)."""
    return f"{x + 0.0:.6g}"  # -0.0 + 0.0 is 0.0; every other number is unchanged


def width(text: str) -> int:
    """Columns `text` takes on a terminal: two for a wide or full-width character (CJK, ｘ), none for a
    combining mark or an invisible format character, one for the rest."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def ljust(text: str, columns: int) -> str:
    """str.ljust by display width."""
    return text + " " * (columns - width(text))


def rjust(text: str, columns: int) -> str:
    """str.rjust by display width."""
    return " " * (columns - width(text)) + text


def aligned(rows: Sequence[Sequence[str]], gap: str = "  ") -> str:
    """Columns padded with spaces: plain text that lines up in a pipe as on a screen (by display width)."""
    if not rows:
        return ""
    widths = [max(width(r[i]) for r in rows if i < len(r)) for i in range(max(len(r) for r in rows))]
    lines = []
    for row in rows:
        cells = [ljust(cell, widths[i]) for i, cell in enumerate(row)]
        lines.append(gap.join(cells).rstrip())
    return "\n".join(lines)


def gradient_text(value: float, gradient: dict[str, float]) -> str:
    """The value and each partial derivative, one per line, numbers aligned on their sign."""
    rows = [["value", signed(value)]]
    rows += [[f"∂/∂{name}", signed(g)] for name, g in gradient.items()]
    return aligned(rows)


def matrix_rows(row_names: Sequence[str], column_names: Sequence[str], matrix: Sequence[Sequence[float]],
                corner: str = "") -> list[list[str]]:
    """A labelled matrix as rows of text cells, full precision."""
    return [[corner, *(f" {c}" for c in column_names)]] + [
        [name, *(signed(x) for x in row)] for name, row in zip(row_names, matrix, strict=True)
    ]


def matrix_table(title: str, row_names: Sequence[str], column_names: Sequence[str],
                 matrix: Sequence[Sequence[float]], corner: str = "") -> Table:
    """The same as a rich table, names on both axes."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", min_width=len(title))  # a narrow table never wraps its title
    table.add_column(corner, style="bold")
    for name in column_names:
        table.add_column(name, justify="right")
    for name, row in zip(row_names, matrix, strict=True):
        table.add_row(name, *(number(x) for x in row))
    return table


def print_matrix(console: Console, title: str, row_names: Sequence[str], column_names: Sequence[str],
                 matrix: Sequence[Sequence[float]], corner: str = "",
                 name: Callable[[str, str], str] | None = None) -> None:
    """The matrix as a table when it fits the console's width whole, else one block per row (full precision
    either way: a number on screen is never cut).  name(row, column): what a number is called in its block
    (∂/∂x rather than x), where there is no column header above it."""
    from rich.text import Text

    for table in (matrix_table(title, row_names, column_names, matrix, corner),
                  compact(matrix_table(title, row_names, column_names, matrix, corner))):
        if fits(console, table):
            console.print(table)
            return
    console.print(Text(title, style="italic"))
    rows = [[name, *(signed(x) for x in row)] for name, row in zip(row_names, matrix, strict=True)]
    names = [[name(r, c) for c in column_names] for r in row_names] if name is not None else None
    print_blocks(console, [corner, *column_names], rows, labels=1, names=names)


def compact(table: Table) -> Table:
    """The same table with a rule under the header and no other lines: six columns take 13 fewer cells."""
    from rich import box

    table.box, table.show_edge, table.pad_edge = box.SIMPLE_HEAD, False, False
    return table


def fits(console: Console, renderable: object, wrapped: bool = False) -> bool:
    """Whether `renderable` takes no more than the console's width at its natural size (nothing wrapped or cut),
    or, wrapped, with its cells wrapped between words (no word cut)."""
    from rich.measure import Measurement

    natural = Measurement.get(console, console.options.update_width(1_000_000), renderable)  # type: ignore[arg-type]
    return (natural.minimum if wrapped else natural.maximum) <= console.width


def print_blocks(console: Console, header: Sequence[str], rows: Sequence[Sequence[str]], labels: int,
                 styles: Sequence[str] = (), names: Sequence[Sequence[str]] | None = None) -> None:
    """A table too wide for the console, stacked: each row's first `labels` cells on a line, then each
    other cell beside its column's name (or names[row]), or below it, indented, where the line would be
    too long."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    every = names if names is not None else [list(header[labels:])] * len(rows)
    pad = max((width(n) for row in every for n in row), default=0)
    parts: list[object] = []
    for r, row in enumerate(rows):
        if r:
            parts.append(Text())
        parts.append(Text("  ".join(c for c in row[:labels] if c), style="bold"))
        for i, (name, cell) in enumerate(zip(every[r], row[labels:], strict=True)):
            style = styles[labels + i] if len(styles) > labels + i else ""
            if "\n" not in cell and 2 + pad + 2 + width(cell) <= console.width:
                line = Text(f"  {ljust(name, pad)}  ")
                line.append(cell, style=style)
                parts.append(line)
            else:  # the name on its line, the cell below it (wrapped inside the indent if need be)
                parts.append(Text(f"  {name}"))
                parts.append(Padding(Text(cell.strip(), style=style), (0, 0, 0, 4)))
    console.print(Group(*parts))  # type: ignore[arg-type]


def signed(x: float) -> str:
    """Full precision with a space where a minus sign would be, so columns line up."""
    text = number(x)
    return text if text.startswith("-") else " " + text
