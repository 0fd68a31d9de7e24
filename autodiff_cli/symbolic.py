"""Symbolic differentiation, in three rooms: simplify.py, derivatives.py and printer.py.

This module gathers their public names, so `from autodiff_cli.symbolic import grad, to_text` works:

* simplify.py: the Builder, which simplifies as it builds and shares equal nodes (exact.py: which
  numbers it may fold);
* derivatives.py: gradients as graphs (reverse mode on Values), partials of any order, the Hessian;
* printer.py: a graph printed back as an expression with minimal parentheses.
"""

from __future__ import annotations

from .derivatives import MAX_PARTIALS, count_nodes, evaluate, grad, gradients, hessian, partials
from .printer import check_length, printed_lengths, to_text
from .simplify import MAX_FACTORS, MAX_TERMS, Builder, simplify

__all__ = [
    "MAX_FACTORS", "MAX_PARTIALS", "MAX_TERMS", "Builder", "check_length", "count_nodes", "evaluate", "grad",
    "gradients", "hessian", "partials", "printed_lengths", "simplify", "to_text",
]
