"""Backpropagation through a Tensor graph, step by step, as plain data: explain's tensor room.

`explain_tensors(root, leaves, texts)` reads a graph whose forward pass is done and returns a
`TensorExplanation`: each node in topological order with its operation, inputs, shape and
values, then each edge in the order Tensor.backward() takes them, with its vector-Jacobian
product rule (tensor_rules.py, e.g. `grad of W = g @ x.T`), the gradient g arriving from
above, what the edge sends to its input (the Tensor's own backward step computed it) and
the input's gradient so far.  tensor_explain_text.py lays it out; `to_json()` is --json.

The scalar explain (explain.py) is the same idea on Values, a number per node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import tensor_rules
from .tensor_graph import forward_order, is_constant, nested, node_labels, walk_backward

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["TensorEdge", "TensorExplanation", "TensorStep", "explain_tensors", "nested"]


@dataclass(frozen=True)
class TensorStep:
    """One node of the forward pass: parents before children."""

    id: int  # position in the forward pass
    label: str  # a variable's name, a small constant's values, #k for a computed node
    op: str  # 'var', 'const' or the operation's name (matmul, sum, tanh, ...)
    inputs: tuple[int, ...]  # ids of the parents, in argument order
    tensor: Tensor  # the node itself: its shape, its values
    source: str  # the text of the expression that made it ('' when unknown)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tensor.shape)


@dataclass(frozen=True)
class TensorEdge:
    """One edge of the backward pass: node → input, the rule, and the arrays (the backend's) it works with."""

    node: int  # id of the node whose gradient g flows back
    input: int  # id of the input receiving a part
    arg: int  # which argument of the operation the input is
    rule: str  # the right-hand side: "g @ x.T"
    upstream: Any  # g: the node's gradient, complete when the edge is taken (the node's shape)
    operands: tuple[tuple[str, int], ...]  # (label, node id) of each node the rule names besides g
    local: tuple[str, Any] | None  # for a function of the op table: (its derivative formula, its values)
    sent: Any  # what the edge adds to the input's gradient (the input's shape)
    total: Any  # the input's gradient after it (the running sum)
    part: int  # this is contribution number `part` ...
    parts: int  # ... of `parts` that the input receives


@dataclass(frozen=True)
class TensorExplanation:
    """The forward pass and the backward pass's edges, and the arrays' backend to read them with."""

    forward: tuple[TensorStep, ...]
    backward: tuple[TensorEdge, ...]
    backend: Any
    upstream_name: str  # "g", or another name when a variable is called g
    gradients: dict[str, Any]  # each variable's gradient (backend arrays), in the order given

    @property
    def root(self) -> TensorStep:
        return self.forward[-1]

    def to_json(self) -> dict:
        """Plain lists and dicts for json.dumps (the --json output): every value in full."""
        b = self.backend
        labels = [s.label for s in self.forward]
        return {
            "forward": [
                {"id": s.id, "label": s.label, "op": s.op, "inputs": list(s.inputs), "shape": list(s.shape),
                 "source": s.source or None, "value": nested(s.tensor.array, b)}
                for s in self.forward
            ],
            "backward": [
                {
                    "from": e.node, "to": e.input, "edge": f"{labels[e.node]} → {labels[e.input]}", "arg": e.arg,
                    "rule": f"grad of {labels[e.input]} = {e.rule}", "shape": list(self.forward[e.input].shape),
                    "local": None if e.local is None else {"formula": e.local[0], "value": nested(e.local[1], b)},
                    "upstream": nested(e.upstream, b), "product": nested(e.sent, b), "sum": nested(e.total, b),
                    "contribution": e.part, "contributions": e.parts,
                }
                for e in self.backward
            ],
        }


def explain_tensors(
    root: Tensor, leaves: Mapping[str, Tensor] | None = None, texts: Mapping[int, str] | None = None
) -> TensorExplanation:
    """The forward and backward passes of root's graph, whose values are computed.

    leaves: the variables by name (Built.leaves), in the order their gradients are listed;
    texts: id(node) -> the source text that made it (Built.labels).  The output must be one
    number (shape (), or one element): a UsageError says what to do otherwise.  Raises what
    a backward step raises (MathError where a derivative has no value, as backward() would).
    """
    from .errors import UsageError

    if root.size != 1:
        raise UsageError(f"explain needs an expression with one number as its value; this one has shape "
                         f"{tuple(root.shape)}: explain sum(...) of it, or see its jacobian")
    leaves = dict(leaves or {})
    texts = dict(texts or {})
    for name, t in leaves.items():
        texts.setdefault(id(t), name)
    order = forward_order(root)
    names = node_labels(order, texts)
    index = {id(t): i for i, t in enumerate(order)}
    forward = tuple(
        TensorStep(i, names[i], _op(t), tuple(index[id(p)] for p in t.parents), t,
                   _source(t, names[i], texts))
        for i, t in enumerate(order)
    )
    upstream_name = "g" if "g" not in names else next(n for n in ("G", "g_out", "grad_out") if n not in names)
    walk = walk_backward(root)
    seen: dict[int, int] = {}
    edges: list[TensorEdge] = []
    b = root.backend
    for node, parent, arg, sent, total in walk.edges:
        args = [names[index[id(p)]] for p in node.parents]
        out = names[index[id(node)]]
        rule = tensor_rules.rule(node, arg, args, out, upstream_name)
        seen[id(parent)] = seen.get(id(parent), 0) + 1
        local = _local(node, arg, args)  # a table function's f'(x) shows its own numbers: no operand besides
        operands = _operands(rule, node, args, out, index) if not tensor_rules.is_table(node) else ()
        edges.append(TensorEdge(index[id(node)], index[id(parent)], arg, rule, walk.grads[id(node)], operands, local,
                                sent, total, seen[id(parent)], walk.parts[id(parent)]))
    gradients = {name: walk.grads.get(id(t), b.full(t.shape, 0.0)) for name, t in leaves.items()}
    return TensorExplanation(forward, tuple(edges), b, upstream_name, gradients)


def _source(t: Tensor, label: str, texts: Mapping[int, str]) -> str:
    """The text that made a node: a computed node's, or a constant's when it says more than its label."""
    text = texts.get(id(t), "")
    if t.parents or (is_constant(t) and text != label):
        return text
    return ""


def _op(t: Tensor) -> str:
    if t.parents:
        return t.op
    return "const" if is_constant(t) else "var"


def _operands(rule: str, node: Tensor, args: list[str], out: str, index: dict[int, int]) -> tuple[tuple[str, int], ...]:
    """The nodes a rule names (x in g @ x.T, out in out * (g - ...)), each once, in the rule's order."""
    named = [(label, index[id(p)]) for label, p in zip(args, node.parents, strict=True)]
    named.append((out, index[id(node)]))
    found: list[tuple[int, tuple[str, int]]] = []
    for label, i in named:
        m = re.search(rf"(?<![\w#.]){re.escape(label)}(?![\w])", rule)
        if m is not None and all(i != j for _, (_, j) in found):
            found.append((m.start(), (label, i)))
    return tuple(item for _, item in sorted(found))


def _local(node: Tensor, arg: int, args: list[str]) -> tuple[str, Any] | None:
    """For a function of the op table: the derivative's formula and its values, elementwise (None for 1 and -1)."""
    formula = tensor_rules.local_formula(node, arg, args)
    if formula is None or formula in ("1", "-1"):
        return None
    b = node.backend
    arrays = [p.array for p in node.parents]
    ones = b.full(node.shape, 1.0)
    return formula, b.derivative(node.saved, arg, arrays, node.array, ones)  # g = 1: f'(x) itself
