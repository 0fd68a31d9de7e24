"""The graph as a rich tree: the output at the top, its inputs below, a shared node drawn once and tagged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .columns import short
from .engine import Value, topological_order, walk

if TYPE_CHECKING:
    from rich.tree import Tree


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
