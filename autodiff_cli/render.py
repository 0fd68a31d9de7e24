"""Views of graphs and results: aligned text, rich trees and tables.

rich is imported inside the functions that draw with it, so that commands which
print a number or JSON never pay for it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from . import ops
from .engine import Value, walk

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.tree import Tree

    from .explain import Explanation


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


# -- the graph as a tree ----------------------------------------------------




def consumers(root: Value) -> dict[int, int]:
    """How many edges lead into each node, by id (a node used twice by one op counts twice)."""
    counts: dict[int, int] = {}
    for node in walk(root):
        for p in node.parents:
            counts[id(p)] = counts.get(id(p), 0) + 1
    return counts


def graph_tree(root: Value, with_values: bool, max_nodes: int = 500, max_depth: int = 60) -> Tree:
    """A rich Tree of the graph, output at the top, inputs below in their stored order.

    An inner node with several consumers is drawn once, tagged #n, and referred to
    as "#n (above)" where it recurs.  Built iteratively: graphs can be deep.
    """
    from rich.text import Text
    from rich.tree import Tree

    from .engine import topological_order
    from .labels import labels

    shared = {i for i, c in consumers(root).items() if c > 1}
    tags: dict[int, int] = {}
    drawn = 0
    order = topological_order(root)
    leaf_names = {id(n): name for n, name in zip(order, labels(order), strict=True) if n.is_leaf}

    def label(node: Value) -> Text:
        text = Text()
        if node.is_leaf:  # a variable (named, or var#j), or a constant's value: the labels of every other view
            text.append(leaf_names[id(node)], style="magenta" if node.is_constant else "bold cyan")
        else:
            text.append(node.op, style="bold")
            if id(node) in shared:
                tags[id(node)] = len(tags) + 1
                text.append(f" #{tags[id(node)]}", style="yellow")
        if with_values and not (node.is_constant and node.name is None):
            text.append(f"  = {short(node.data)}", style="green")
            text.append(f"  grad {short(node.grad)}", style="dim")
        return text

    tree = Tree(label(root), guide_style="dim")
    stack: list[tuple[Value, Tree, int]] = [(p, tree, 1) for p in reversed(root.parents)]
    while stack:
        node, parent, depth = stack.pop()
        if id(node) in tags:
            parent.add(Text(f"{node.op} #{tags[id(node)]} (above)", style="yellow"))
            continue
        if drawn >= max_nodes or depth > max_depth:
            parent.add(Text("… (not drawn: raise --max-nodes / --max-depth)", style="dim italic"))
            # nothing below this point is drawn either
            continue
        drawn += 1
        branch = parent.add(label(node))
        stack.extend((p, branch, depth + 1) for p in reversed(node.parents))
    return tree


# -- the op table -----------------------------------------------------------


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


# -- backpropagation step by step ---------------------------------------------

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


# -- Jupyter ------------------------------------------------------------------------

def _picture_limit() -> int:
    """The `picture` limit: Graphviz's dot takes seconds past it (and nobody can read the picture)."""
    from . import limits

    return limits.get("picture")


def notebook_svg(root: Value) -> str | None:
    """The graph as SVG drawn by Graphviz's dot; None without dot, for big graphs, or if dot fails."""
    from . import export, limits
    from .engine import topological_order

    program = export.dot_program()
    if program is None:
        return None
    order = topological_order(root)
    if len(order) > _picture_limit():
        return None
    import subprocess

    source = "\n".join(export.dot_lines(root, order=order)) + "\n"
    try:
        done = subprocess.run(
            [program, "-Tsvg"], input=source, capture_output=True, text=True, encoding="utf-8",
            timeout=limits.get("drawing"),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def notebook_html(root: Value) -> str | None:
    """The rich tree as preformatted HTML text, when notebook_svg cannot draw the graph."""
    if notebook_svg_possible(root):
        return None
    import html

    from rich.console import Console

    console = Console(width=120, color_system=None, record=True, file=_Discard())
    console.print(graph_tree(root, with_values=True, max_nodes=_picture_limit()))
    return f"<pre>{html.escape(console.export_text())}</pre>"


def notebook_svg_possible(root: Value) -> bool:
    from . import export
    from .engine import topological_order

    return export.dot_program() is not None and len(topological_order(root)) <= _picture_limit()


class _Discard:
    """A file that forgets what is written (the recording console keeps it)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


# Notebooks: a Value displays as its graph.  The drawing side attaches itself to Value here, so that
# the engine never imports it; `import autodiff_cli` imports this module when IPython is running.
Value._repr_svg_ = notebook_svg  # type: ignore[attr-defined]
Value._repr_html_ = notebook_html  # type: ignore[attr-defined]
