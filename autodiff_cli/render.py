"""Every view of a graph and its results, gathered: the one module the command line draws with.

Each view lives in its own room, and this module re-exports their public names:

* columns.py: numbers and columns (full precision, display widths, aligned text, matrices, tables
  that fit the console or are stacked as blocks);
* tree_view.py: the graph as a rich tree;
* functions_view.py: the op table as text, a table, or Markdown (`autodiff functions`);
* explain_tables.py: backpropagation step by step as two tables (`autodiff explain`; its TABLE_ROWS
  is set there, not here);
* notebook.py: Jupyter's views of a Value (importing this module attaches them).

DOT, Mermaid and JSON are export.py's, the HTML page html_explain.py's.  rich is
imported inside the functions that draw with it.
"""

from __future__ import annotations

from .columns import (
    aligned,
    compact,
    fits,
    gradient_text,
    ljust,
    matrix_rows,
    matrix_table,
    number,
    print_blocks,
    print_matrix,
    rjust,
    short,
    signed,
    width,
)
from .explain_tables import explanation_rows, explanation_tables, explanation_text
from .functions_view import function_rows, functions_markdown, functions_table, functions_text
from .notebook import notebook_html, notebook_svg, notebook_svg_possible
from .tree_view import consumers, graph_tree

__all__ = [
    "aligned", "compact", "consumers", "explanation_rows", "explanation_tables", "explanation_text",
    "fits", "function_rows", "functions_markdown", "functions_table", "functions_text", "gradient_text",
    "graph_tree", "ljust", "matrix_rows", "matrix_table", "notebook_html", "notebook_svg", "notebook_svg_possible",
    "number", "print_blocks", "print_matrix", "rjust", "short", "signed", "width",
]
