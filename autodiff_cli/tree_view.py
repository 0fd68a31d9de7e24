"""The graph as a rich tree: the output at the top, its inputs below, a shared node drawn once and tagged."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .columns import short
from .engine import Value, topological_order, walk

if TYPE_CHECKING:
    from rich.text import Text
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

    from .labels import labels

    shared = {i for i, c in consumers(root).items() if c > 1}
    tags: dict[int, int] = {}
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

    return draw_tree(root, label, tags, max_nodes, max_depth)


def draw_tree(root: Any, label: Callable[[Any], Text], tags: dict[int, int], max_nodes: int, max_depth: int) -> Tree:
    """The walk both graph views share (Values here, Tensors in tensor_export): the root at the top, each node's
    parents below it in their stored order, with a stack, not recursion.  `label` draws one node and
    enters a shared one in `tags` (id -> #n) the first time; where it recurs it is "#n (above)"."""
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(label(root), guide_style="dim")
    drawn = 0
    stack: list[tuple[Any, Tree, int]] = [(p, tree, 1) for p in reversed(root.parents)]
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
