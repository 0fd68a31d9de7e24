"""The op table for people: `autodiff functions` as aligned text, a rich table, or docs/functions.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ops
from .columns import aligned, fits, print_blocks

if TYPE_CHECKING:
    from rich.console import Console


def function_rows(rule_separator: str = "; ") -> list[list[str]]:
    """One row per operation: how it is written, its derivative rules, what it does."""
    rows = []
    for op in ops.functions():
        names = ops.ARG_NAMES[: op.arity]
        rules = [f"∂/∂{n} = {op.grad_text(i)}" for i, n in enumerate(names)]
        about = op.doc + (f"; {op.note}" if op.note else "")
        rows.append([op.signature(), rule_separator.join(rules), about])
    for name, value in ops.CONSTANTS.items():
        rows.append([name, "constant", f"{value!r}"])
    return rows


def functions_markdown() -> str:
    """docs/functions.md: the op table as a Markdown page (`autodiff functions --markdown` prints it)."""
    lines = [
        "# Functions and operators",
        "",
        "Generated from the op table (`autodiff_cli/table.py`) by `autodiff functions --markdown`;",
        "a test checks that this page matches the table.  Derivatives are the table's own formulas.",
        "",
        "| written as | also | derivative | what it is |",
        "| --- | --- | --- | --- |",
    ]

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    for op in ops.functions():
        rules = "; ".join(f"∂/∂{n} = {op.grad_text(i)}" for i, n in enumerate(ops.ARG_NAMES[: op.arity]))
        about = op.doc + (f"; {op.note}" if op.note else "")
        also = ", ".join(f"`{a}`" for a in op.aliases)
        lines.append(f"| `{cell(op.signature())}` | {also} | {cell(rules)} | {cell(about)} |")
    lines += ["", "Constants: " + ", ".join(f"`{n}` = {v!r}" for n, v in ops.CONSTANTS.items()) + "."]
    return "\n".join(lines) + "\n"


def functions_table(console: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Operations and functions", title_justify="left")
    table.add_column("written as", style="bold", no_wrap=True)
    table.add_column("derivative", style="green", overflow="fold")  # fold, never an ellipsis: nothing is cut
    table.add_column("what it is", overflow="fold")
    rows = function_rows(rule_separator="\n")
    for row in rows:
        table.add_row(*row)
    if fits(console, table, wrapped=True):
        console.print(table)
        return
    console.print(Text(table.title or "", style="italic"))  # too narrow for the words: a block per function
    print_blocks(console, ["written as", "derivative", "what it is"], rows, labels=1)


def functions_text() -> str:
    return aligned([["written as", "derivative", "what it is"], *function_rows()])
