"""Reading a Tensor graph for the views: its nodes in order, their names, and every node's gradient.

A Tensor keeps a gradient on its leaves only; explain and graph want one on every node,
and every edge's contribution.  `walk_backward(root)` runs the backward pass again, with
the Tensors' own backward steps (`node.backward_fn`) in the schedule `Tensor.backward()`
uses, and records what each edge sends: the sums end on the leaves' `.grad` to the last bit.

    order = forward_order(root)          # every node, parents first (constants too)
    names = node_labels(order, texts)    # x, W, [1, 2], #1, #2, ...
    walk = walk_backward(root)           # walk.grads[id(node)]; walk.edges: (node, parent, arg, sent, total)

Standard library only, and the Tensor layer's `kernel` (its add) when a backward pass is walked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .columns import short

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["SMALL", "Walk", "forward_order", "inline", "is_constant", "nested", "node_labels", "shape_text", "summary",
           "values_text", "walk_backward"]

# Tensors of at most this many elements have their numbers printed; larger ones are summarised by shape.
SMALL = 16


def is_constant(t: Tensor) -> bool:
    """A leaf that needs no gradient: a literal of the expression, or what only literals made."""
    return not t.parents and not t.requires_grad


def forward_order(root: Tensor) -> list[Tensor]:
    """Every node reachable from root, constants too, each after all of its parents (iterative DFS)."""
    order: list[Tensor] = []
    seen = {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        t, parents = stack[-1]
        for p in parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p.parents)))
                break
        else:
            order.append(t)
            stack.pop()
    return order


def node_labels(order: list[Tensor], texts: Mapping[int, str] | None = None) -> list[str]:
    """How each node is called: a variable by its name, a small constant by its values, else #k (const#j).

    texts: id(node) -> the source text that made it (Built.labels); leaves found there are named by it.
    Computed nodes are #1, #2, ... in forward order, as in the scalar views.
    """
    texts = texts or {}
    out: list[str] = []
    counts = {"#": 0, "var#": 0, "const#": 0}  # each kind numbered from 1, in forward order
    for t in order:
        if id(t) in texts and not t.parents and not is_constant(t):
            out.append(texts[id(t)])
            continue
        if is_constant(t) and t.size <= SMALL:
            out.append(inline(t))
            continue
        kind = "#" if t.parents else "const#" if is_constant(t) else "var#"
        counts[kind] += 1
        out.append(f"{kind}{counts[kind]}")
    return out


# -- the numbers as text ---------------------------------------------------------------


def shape_text(shape: tuple[int, ...]) -> str:
    """(2, 3), (3,), () as Python writes a shape."""
    return str(tuple(shape))


def _flat(t: Tensor | Any, backend: Any = None) -> tuple[list[float], tuple[int, ...]]:
    if backend is None:
        return t.backend.to_flat(t.array), t.shape
    return backend.to_flat(t), backend.shape(t)


def _nest(flat: list[float], shape: tuple[int, ...], cells: list[str] | None = None) -> Any:
    """Nested lists of the cells (texts, or the numbers themselves), row-major."""
    items: Any = cells if cells is not None else flat
    for n in reversed(shape[1:]):
        items = [items[i : i + n] for i in range(0, len(items), n)]
    return items


def inline(t: Tensor | Any, backend: Any = None) -> str:
    """The values on one line: 3, [1, 2], [[1, 2], [3, 4]] (six significant digits)."""
    flat, shape = _flat(t, backend)
    cells = [short(v) for v in flat]
    if not shape:
        return cells[0]
    nested = _nest(flat, shape, cells)

    def text(item: Any) -> str:
        return "[" + ", ".join(text(i) for i in item) + "]" if isinstance(item, list) else item

    return text(nested)


def values_text(t: Tensor | Any, backend: Any = None) -> list[str]:
    """The values as NumPy prints them, a row a line, the columns aligned (a blank line between matrices):

    [[ 1, -2],
     [30,  4]]
    """
    flat, shape = _flat(t, backend)
    if len(shape) <= 1:
        return [inline(t, backend)]
    cells = [short(v) for v in flat]
    wide = max((len(c) for c in cells), default=0)
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]

    def block(axis: int, offset: int) -> list[str]:  # as deep as the tensor has axes
        if axis == len(shape) - 1:
            return ["[" + ", ".join(c.rjust(wide) for c in cells[offset : offset + shape[axis]]) + "]"]
        lines: list[str] = []
        for k in range(shape[axis]):
            part = block(axis + 1, offset + k * strides[axis])
            if k < shape[axis] - 1:
                part[-1] += ","
                part.extend([""] * (len(shape) - 2 - axis))  # NumPy's blank lines between matrices
            lines.extend(part)
        if not lines:
            return ["[]"]
        lines = ["[" + lines[0], *(" " + line if line else "" for line in lines[1:])]
        lines[-1] += "]"
        return lines

    return block(0, 0)


def summary(t: Tensor | Any, backend: Any = None, with_shape: bool = True) -> str:
    """A large tensor in a few words: its shape (unless said beside it), how many numbers and their range."""
    flat, shape = _flat(t, backend)
    head = f"shape {shape_text(shape)}, " if with_shape else ""
    if not flat:
        return f"{head}empty"
    low, high = min(flat), max(flat)
    if low == high:
        return f"{head}{len(flat):,} numbers, all {short(low)}"
    return f"{head}{len(flat):,} numbers from {short(low)} to {short(high)}"


def nested(array: Any, backend: Any) -> Any:
    """A backend array as nested lists of floats (a float for shape ()), for JSON."""
    flat, shape = backend.to_flat(array), tuple(backend.shape(array))
    items: Any = list(flat)
    if not shape:
        return items[0]
    for n in reversed(shape[1:]):
        items = [items[i : i + n] for i in range(0, len(items), n)]
    return items


# -- backward, edge by edge ---------------------------------------------------------------


@dataclass
class Walk:
    """What the backward pass sent along each edge, and every node's complete gradient."""

    grads: dict[int, Any] = field(default_factory=dict)  # id(node) -> its gradient (a backend array)
    # (node, parent, argument position, what the edge sent, the parent's gradient after it)
    edges: list[tuple[Any, Any, int, Any, Any]] = field(default_factory=list)
    parts: dict[int, int] = field(default_factory=dict)  # id(parent) -> how many contributions it receives


def _needing_grad(root: Tensor) -> list[Tensor]:
    """The nodes backward() visits, each after its parents: as Tensor.backward orders them."""
    order: list[Tensor] = []
    seen = {id(root)}
    stack = [(root, iter(root.parents))]
    while stack:
        t, parents = stack[-1]
        for p in parents:
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p.parents)))
                break
        else:
            order.append(t)
            stack.pop()
    return order


def walk_backward(root: Tensor, seed: Any = None) -> Walk:
    """The backward pass from root (seeded with ones, or `seed`), recording every edge.

    The same steps and the same order of additions as Tensor.backward(); nothing is written
    into any tensor.  Raises what a backward step raises (a MathError where a derivative has no value).
    """
    from .tensor.tensor import kernel  # the Tensor layer's own add, so the sums are backward()'s, bit for bit

    b = root.backend
    walk = Walk()
    if not root.requires_grad:
        return walk
    order = _needing_grad(root)
    grads: dict[int, Any] = {id(root): seed if seed is not None else b.full(root.shape, 1.0)}
    for t in reversed(order):
        g = grads.get(id(t))
        if g is None:
            continue
        walk.grads[id(t)] = g
        if not t.parents:
            continue
        for arg, (parent, pg) in enumerate(zip(t.parents, t.backward_fn(t, g), strict=True)):
            if pg is None or not parent.requires_grad:
                continue
            total = kernel(b, "add", grads[id(parent)], pg) if id(parent) in grads else pg
            grads[id(parent)] = total
            walk.edges.append((t, parent, arg, pg, total))
    for _, parent, _, _, _ in walk.edges:
        walk.parts[id(parent)] = walk.parts.get(id(parent), 0) + 1
    return walk
