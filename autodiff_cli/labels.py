"""How nodes are called in explanations and drawings: x, 2, var#1, #3.

Shared by explain, tree_view and export (each a reader of graphs), so it lives below them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .formulas import number_text

if TYPE_CHECKING:
    from .engine import Value


def labels(order: list[Value]) -> list[str]:
    """How each node is called in explanations and drawings, by its position in `order`.

    A named leaf is its name, an unnamed constant its value, an unnamed variable
    (the library's Value(2.0)) var#j, and every computed node #k, both numbered in
    order from 1.  Neither form can be a variable's name or a number.
    """
    out: list[str] = []
    k = j = 0
    for node in order:
        if node.is_leaf and node.name is not None:
            out.append(node.name)
        elif node.is_constant:
            out.append(number_text(node.data))
        elif node.is_leaf:
            j += 1
            out.append(f"var#{j}")
        else:
            k += 1
            out.append(f"#{k}")
    return out
