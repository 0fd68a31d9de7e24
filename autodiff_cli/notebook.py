"""Jupyter: a Value displays as its graph, an SVG drawn by Graphviz's dot, or the rich tree as text.

Importing this module attaches the views to Value, so that the engine never
imports the drawing side; `import autodiff_cli` imports it when IPython is running.
"""

from __future__ import annotations

from .engine import Value, topological_order
from .tree_view import graph_tree


def _picture_limit() -> int:
    """The `picture` limit: Graphviz's dot takes seconds past it (and nobody can read the picture)."""
    from . import limits

    return limits.get("picture")


def notebook_svg(root: Value) -> str | None:
    """The graph as SVG drawn by Graphviz's dot; None without dot, for big graphs, or if dot fails."""
    from . import export, limits

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
