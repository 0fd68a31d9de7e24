"""Backpropagation step by step, as plain data: the forward pass, then every edge of the backward pass.

`explain(root)` reads a graph whose values are computed and returns an
`Explanation`: each node in topological order with its operation, inputs and
value, then each edge in the order the engine's `backward()` visits them, with the
local derivative (the op table's rule, written over the nodes' labels, and its
value), the gradient arriving from above, their product and the running sum at
the input.  Standard library only; explain_tables.py lays it out as tables,
html_explain.py as a page, the CLI prints it as JSON.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass

from . import ops
from .engine import Value, gradient_term, local_derivative, topological_order, walk
from .labels import labels

__all__ = ["BackwardEdge", "Explanation", "ForwardStep", "explain", "formula_text", "labels", "rule_text"]


@dataclass(frozen=True)
class ForwardStep:
    """One node of the forward pass: parents before children."""

    id: int  # position in the forward pass
    label: str  # a variable's name (var#j if it has none), a constant's value, or #k for a computed node
    op: str  # 'var', 'const' or the op table's name
    inputs: tuple[int, ...]  # ids of the parents, in argument order
    value: float

    @property
    def is_leaf(self) -> bool:
        return not self.inputs


@dataclass(frozen=True)
class BackwardEdge:
    """One edge of the backward pass: the chain rule sends upstream × local from a node to one input."""

    node: int  # id of the node whose gradient flows back
    input: int  # id of the input receiving a contribution
    arg: int  # which argument of the node's operation the input is (0 or 1)
    rule: str  # the local derivative, e.g. "∂tanh(#2)/∂#2 = sech(#2)^2"
    local: float  # the rule's value at this point
    upstream: float  # the node's gradient, complete when the edge is taken
    product: float  # upstream * local: what the edge adds to the input's gradient
    total: float  # the input's gradient after this contribution (the running sum)
    part: int  # this is contribution number `part` ...
    parts: int  # ... of `parts` that the input receives


@dataclass(frozen=True)
class Explanation:
    """The forward steps (by id), the backward edges in the engine's order, and the gradient of each node."""

    forward: tuple[ForwardStep, ...]
    backward: tuple[BackwardEdge, ...]

    @property
    def root(self) -> ForwardStep:
        return self.forward[-1]

    def gradient(self) -> dict[int, float]:
        """Each node's gradient as the explanation sums it (the output's is 1)."""
        grads = {step.id: 0.0 for step in self.forward}
        grads[self.root.id] = 1.0
        for edge in self.backward:
            grads[edge.input] = edge.total
        return grads

    def to_json(self) -> dict:
        """Plain lists and dicts for json.dumps (the --json output)."""
        labels = [s.label for s in self.forward]
        return {
            "forward": [
                {"id": s.id, "label": s.label, "op": s.op, "inputs": list(s.inputs), "value": s.value}
                for s in self.forward
            ],
            "backward": [
                {
                    "from": e.node, "to": e.input, "edge": f"{labels[e.node]} → {labels[e.input]}", "arg": e.arg,
                    "rule": e.rule, "local": e.local, "upstream": e.upstream, "product": e.product,
                    "sum": e.total, "contribution": e.part, "contributions": e.parts,
                }
                for e in self.backward
            ],
        }


def backward_order(root: Value) -> list[Value]:
    """The inner nodes in the order the engine's backward() processes them.

    The same schedule as Value.backward: a node is taken once every consumer has
    sent its contribution, so the sums below add up in the engine's order, to the
    last bit.
    """
    pending: dict[int, int] = {}  # consumers not yet processed, as the engine counts them
    for node in walk(root):
        for p in node.parents:
            if not p.is_leaf:
                pending[id(p)] = pending.get(id(p), 0) + 1
    order: list[Value] = []
    if root.is_leaf:
        return order
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        for p in node.parents:
            if not p.is_leaf:
                pending[id(p)] -= 1
                if pending[id(p)] == 0:
                    stack.append(p)
    return order


def explain(root: Value, inputs: Iterable[Value] | None = None) -> Explanation:
    """The forward and backward passes of `root`'s graph at the values its nodes hold.

    Leaves' current values are used as they are (compute them first); gradients are
    summed from zero, independently of what the nodes' .grad hold.  Constants, and
    parts made of constants only, take no part in the backward pass: nothing asks
    for their gradient.  With `inputs`, only those variables are differentiated (the
    others are numbers here, as with grad --wrt).  Raises MathError where a needed
    local derivative does not exist.
    """
    order = topological_order(root)
    names = labels(order)
    index = {id(node): i for i, node in enumerate(order)}
    forward = tuple(
        ForwardStep(i, names[i], node.op, tuple(index[id(p)] for p in node.parents), node.data)
        for i, node in enumerate(order)
    )
    # only what depends on a variable takes part: not 2, nor the neg(1) of z^-1, nor (with
    # inputs given, as grad --wrt does) the variables left out
    wanted = None if inputs is None else {id(v) for v in inputs}
    varying: set[int] = set()
    for node in order:  # parents first
        if node.is_leaf:
            if not node.is_constant and (wanted is None or id(node) in wanted):
                varying.add(id(node))
        elif any(id(p) in varying for p in node.parents):
            varying.add(id(node))
    # how many contributions each input receives
    parts: dict[int, int] = {}
    for node in order:
        for p in node.parents:
            if id(p) in varying:
                parts[id(p)] = parts.get(id(p), 0) + 1
    grad: dict[int, float] = {id(root): 1.0}
    seen: dict[int, int] = {}
    edges: list[BackwardEdge] = []
    for node in backward_order(root):
        if id(node) not in varying:
            continue
        upstream = grad[id(node)]
        spec = ops.OPS[node.op]
        for i, p in enumerate(node.parents):
            if id(p) not in varying:
                continue
            local = local_derivative(node, i)  # the engine's own, with its error where there is none
            product = gradient_term(node, i, upstream)  # multiplied as the backward pass multiplies
            total = grad.get(id(p), -0.0) + product  # -0.0: the first term keeps its sign
            grad[id(p)] = total
            seen[id(p)] = seen.get(id(p), 0) + 1
            rule = rule_text(spec, i, [names[index[id(a)]] for a in node.parents])
            edges.append(
                BackwardEdge(index[id(node)], index[id(p)], i, rule, local, upstream, product, total,
                             seen[id(p)], parts[id(p)])
            )
    return Explanation(forward, tuple(edges))


def rule_text(spec: ops.Op, i: int, args: list[str]) -> str:
    """The rule for argument i written over the arguments' labels: "∂(w * x)/∂w = x"."""
    # the texts print power as ^; read it back as Python's ** (the formulas have no other ^)
    signature = spec.signature().replace(", ...", "").replace("^", "**")
    call = ast.unparse(_over(ast.parse(signature, mode="eval").body, args))
    call = _caret(call)
    if spec.symbol is not None:
        call = f"({call})"
    which = ""
    if len(args) > 1 and args.count(args[i]) > 1:  # x * x: say which of the two
        which = f" (as {ops.ARG_NAMES[i]})"
    return f"∂{call}/∂{args[i]}{which} = {formula_text(spec, i, args)}"


def formula_text(spec: ops.Op, i: int, args: list[str]) -> str:
    """The op table's derivative for argument i written over the arguments' labels: "sech(#2)^2"."""
    return _caret(ast.unparse(_over(ast.parse(spec.grad_text(i).replace("^", "**"), mode="eval").body, args)))


def _caret(text: str) -> str:
    return text.replace(" ** ", "^").replace("**", "^")


def _over(tree: ast.expr, args: list[str]) -> ast.expr:
    """Replace the formula's x and y with the labels of the actual arguments."""
    shown = [f"({a})" if a.startswith("-") else a for a in args]
    mapping = dict(zip(ops.ARG_NAMES, shown, strict=False))

    class Swap(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return ast.Name(id=mapping[node.id], ctx=ast.Load()) if node.id in mapping else node

        def visit_Call(self, node: ast.Call) -> ast.expr:
            node.args = [self.visit(a) for a in node.args]  # the function's name stays
            return node

    return Swap().visit(tree)

