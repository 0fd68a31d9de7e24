"""A Tensor graph as text for other tools, and as a tree: DOT, Mermaid, JSON and rich's Tree, with shapes.

The same drawings as export.py and tree_view.py make of a Value graph, a node per array
operation: each node says its operation and shape and, for a tensor of at most
tensor_graph.SMALL elements, its values and its gradient (large ones: the shape alone,
and every value in the JSON).  Node ids are positions in topological order (n0, n1, ...);
labels are escaped for each format by export.py's own escapers.  Writers are generators of
lines, streamed to a file or to Graphviz's dot as export.py's are.

    view = TensorView.of(root, texts, with_grads=True)   # order, labels, every node's gradient
    lines = dot_lines(view)                                # or mermaid_lines, json_lines(view, text)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import ops
from .export import dot_escape, mermaid_escape
from .tensor_graph import SMALL, forward_order, inline, is_constant, nested, node_labels, shape_text, walk_backward
from .tree_view import draw_tree

if TYPE_CHECKING:
    from rich.tree import Tree

    from .tensor import Tensor

__all__ = ["TensorView", "dot_lines", "graph_tree", "json_lines", "mermaid_lines", "op_symbol"]


@dataclass
class TensorView:
    """What every drawing reads: the nodes in order, their labels and source texts, and their gradients."""

    order: list[Tensor]
    labels: list[str]
    sources: list[str]
    grads: dict[int, Any] | None  # id(node) -> gradient array; None: no gradients drawn

    @classmethod
    def of(cls, root: Tensor, texts: Mapping[int, str] | None = None, with_grads: bool = True) -> TensorView:
        """The view of root's graph; with_grads runs the backward pass (root must be one number)."""
        texts = texts or {}
        order = forward_order(root)
        labels = node_labels(order, texts)
        sources = [texts.get(id(t), "") if t.parents else "" for t in order]
        grads = walk_backward(root).grads if with_grads else None
        return cls(order, labels, sources, grads)

    def grad(self, t: Tensor) -> Any | None:
        """The node's gradient array (None for a constant, or when gradients are not drawn)."""
        if self.grads is None or is_constant(t):
            return None
        found = self.grads.get(id(t))
        return found if found is not None else t.backend.full(t.shape, 0.0)

    def small(self, t: Tensor) -> bool:
        return t.size <= SMALL


def op_symbol(t: Tensor) -> str:
    """What the small operation node shows: @ for matmul, the operator of +, *, ^, or the function's name."""
    if t.op == "matmul":
        return "@"
    if t.op == "permute" and t.saved == (1, 0):
        return ".T"
    spec = ops.OPS.get(t.op)
    if spec is not None and spec.symbol is not None and spec.arity == 2:
        return spec.symbol
    return t.op


def _fields(view: TensorView, i: int) -> list[str]:
    """A node's lines: its label, its shape, and its data and grad when it is small."""
    t = view.order[i]
    fields = [view.labels[i], shape_text(t.shape)]
    if view.small(t):
        fields.append(f"data {inline(t)}")
        g = view.grad(t)
        if g is not None:
            fields.append(f"grad {inline(g, t.backend)}")
    return fields


def _arrow_names(t: Tensor) -> list[str]:
    """The names of the edges into an operation of two or three arguments: x, y, z, the names its rules use
    (tensor_rules.py); one argument, or more than three (a concatenation), go unnamed."""
    if len(t.parents) in (2, 3):
        return ["x", "y", "z"][: len(t.parents)]
    return [""] * len(t.parents)


# -- Graphviz DOT ---------------------------------------------------------------------


def dot_lines(view: TensorView) -> Iterator[str]:
    """Graphviz DOT as export.dot_lines draws a Value graph: a record per tensor (label, shape, data, grad)."""
    index = {id(t): i for i, t in enumerate(view.order)}
    yield "digraph autodiff {"
    yield "  graph [rankdir=LR];"
    yield '  node [shape=record, fontname="Helvetica", fontsize=11];'
    yield '  edge [fontname="Helvetica", fontsize=9, color="#555555"];'
    for i, t in enumerate(view.order):
        label, *numbers = _fields(view, i)  # the numbers hold no record syntax: only the label is escaped
        fields = " | ".join([dot_escape(label), *numbers])
        style = ', style=dashed, color="#888888"' if is_constant(t) else ""
        yield f'  n{i} [label="{{ {fields} }}"{style}];'
        if t.parents:
            yield f'  n{i}op [label="{dot_escape(op_symbol(t))}", shape=ellipse, margin=0.02, height=0.3];'
            yield f"  n{i}op -> n{i};"
            for name, p in zip(_arrow_names(t), t.parents, strict=True):
                mark = f' [label="{name}"]' if name else ""
                yield f"  n{index[id(p)]} -> n{i}op{mark};"
    yield "}"


# -- Mermaid ------------------------------------------------------------------------------


def mermaid_lines(view: TensorView) -> Iterator[str]:
    """A Mermaid flowchart, left to right, the same picture as the DOT one."""
    index = {id(t): i for i, t in enumerate(view.order)}
    yield "flowchart LR"
    for i, t in enumerate(view.order):
        yield f'  n{i}["{"<br/>".join(mermaid_escape(f) for f in _fields(view, i))}"]'
        if t.parents:
            yield f'  n{i}op(("{mermaid_escape(op_symbol(t))}"))'
            yield f"  n{i}op --> n{i}"
            for name, p in zip(_arrow_names(t), t.parents, strict=True):
                arrow = f"-->|{name}|" if name else "-->"
                yield f"  n{index[id(p)]} {arrow} n{i}op"


# -- JSON ------------------------------------------------------------------------------------


def json_lines(view: TensorView, expression: str | None = None) -> Iterator[str]:
    """The graph as one JSON document, a node or an edge per line, every value in full.

    {"expression", "root", "nodes": [{"id", "label", "op", "name", "shape", "source", "data", "grad",
    "parents"}], "edges": [{"from", "to", "arg"}]}: the scalar document's keys, with each node's
    shape (a list) and its source text; data and grad are nested lists (a number for shape ()).
    """
    index = {id(t): i for i, t in enumerate(view.order)}

    def dump(obj: object) -> str:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False)

    yield "{"
    if expression is not None:
        yield f'  "expression": {dump(expression)},'
    yield f'  "root": {len(view.order) - 1},'
    yield '  "nodes": ['
    last = len(view.order) - 1
    for i, t in enumerate(view.order):
        g = view.grad(t)
        item = {
            "id": i,
            "label": view.labels[i],
            "op": t.op if t.parents else ("const" if is_constant(t) else "var"),
            "name": view.labels[i] if not t.parents and not is_constant(t) else None,
            "shape": list(t.shape),
            "source": view.sources[i] or None,
            "data": nested(t.array, t.backend),
            "grad": None if g is None else nested(g, t.backend),
            "parents": [index[id(p)] for p in t.parents],
        }
        yield f"    {dump(item)}{',' if i < last else ''}"
    yield "  ],"
    yield '  "edges": ['
    held: str | None = None  # one edge held back: the last one takes no comma
    for j, t in enumerate(view.order):
        for a, p in enumerate(t.parents):
            if held is not None:
                yield f"    {held},"
            held = dump({"from": index[id(p)], "to": j, "arg": a})
    if held is not None:
        yield f"    {held}"
    yield "  ]"
    yield "}"


# -- the tree ------------------------------------------------------------------------------------


def graph_tree(view: TensorView, max_nodes: int = 500, max_depth: int = 60) -> Tree:
    """A rich Tree, output at the top, inputs below in their order, as tree_view.graph_tree draws Values.

    Each line: the operation (or a leaf's label), the shape, and for a small tensor its values and
    gradient.  A node with several consumers is drawn once, tagged #n, and referred to where it recurs.
    """
    from rich.text import Text

    consumers: dict[int, int] = {}
    for t in view.order:
        for p in t.parents:
            consumers[id(p)] = consumers.get(id(p), 0) + 1
    shared = {k for k, c in consumers.items() if c > 1}
    position = {id(t): i for i, t in enumerate(view.order)}
    tags: dict[int, int] = {}

    def label(t: Tensor) -> Text:
        i = position[id(t)]
        text = Text()
        if not t.parents:
            text.append(view.labels[i], style="magenta" if is_constant(t) else "bold cyan")
        else:
            text.append(t.op, style="bold")
            if id(t) in shared:
                tags[id(t)] = len(tags) + 1
                text.append(f" #{tags[id(t)]}", style="yellow")
        text.append(f"  {shape_text(t.shape)}", style="magenta")
        if view.small(t) and not (is_constant(t) and view.labels[i] == inline(t)):
            text.append(f"  = {inline(t)}", style="green")
            g = view.grad(t)
            if g is not None:
                text.append(f"  grad {inline(g, t.backend)}", style="dim")
        return text

    return draw_tree(view.order[-1], label, tags, max_nodes, max_depth)
