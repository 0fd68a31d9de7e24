"""Derivatives as graphs: reverse mode run on Values, to any order, and the Hessian.

`gradients(y, xs)` is reverse mode run on Values instead of floats: the adjoint
of every node is itself a graph, built from the op table's derivative formulas
(the same ones the float backward pass compiles), so it can be differentiated
again, to any order.  That is PyTorch's `torch.autograd.grad(..., create_graph=True)`.
Every node is made through a simplify.Builder.  Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from . import limits, ops
from .engine import Value, apply_formula, constants_for_now, forward, topological_order, walk
from .errors import LimitError, MathError
from .simplify import Builder

__all__ = ["MAX_PARTIALS", "count_nodes", "evaluate", "grad", "gradients", "hessian", "partials"]


def gradients(output: Value, inputs: Sequence[Value], builder: Builder | None = None) -> list[Value]:
    """d output / d input for each input, as new graphs (not evaluated: data is nan).

    Reverse mode on Values: the adjoint of each node, from the output down, is a
    graph; each edge adds adjoint * (the op table's formula for that argument).
    Only nodes that lie on a path to an input are visited, and pow's exponent
    formula (which takes a log) is skipped for constant exponents, as in backward().
    """
    b = builder or Builder()
    order = topological_order(output)
    targets = {id(x) for x in inputs}
    needed: set[int] = set()
    for node in order:  # parents come first
        if id(node) in targets or any(id(p) in needed for p in node.parents):
            needed.add(id(node))
    adjoint: dict[int, Value] = {id(output): b.const(1.0)}
    for node in reversed(order):
        g = adjoint.get(id(node))
        if g is None or not node.parents:
            continue
        spec = ops.OPS[node.op]
        env = dict(zip(ops.ARG_NAMES, node.parents, strict=False)) | {ops.RESULT_NAME: node}
        for i, parent in enumerate(node.parents):
            if id(parent) not in needed:
                continue
            local = apply_formula(spec.grad_trees[i], env, b.apply)
            contribution = b.apply("mul", g, local)
            before = adjoint.get(id(parent))
            adjoint[id(parent)] = contribution if before is None else b.apply("add", before, contribution)
    return [adjoint.get(id(x), b.const(0.0)) for x in inputs]


def grad(output: Value, inputs: Sequence[Value], *, simplify_first: bool = True) -> list[Value]:
    """Like torch.autograd.grad(output, inputs, create_graph=True): derivatives as Values.

    The returned graphs are evaluated at the inputs' current data (MathError if a
    derivative is undefined there) and can be differentiated again:

        x = Value(2.0)
        y = x**3
        (dy,) = grad(y, [x])        # 3*x^2: dy.data == 12.0
        (d2y,) = grad(dy, [x])      # 6*x:   d2y.data == 12.0
    """
    b = Builder()
    root = b.rebuild(output) if simplify_first else output
    b.assume_defined(root)
    results = gradients(root, inputs, b)
    for r in results:
        evaluate(r)
    return results


def evaluate(root: Value) -> float:
    """Compute every node of a graph from its leaves (whose data must be set)."""
    forward(topological_order(root))
    return root.data


# -- derivatives of an expression, by name ----------------------------------------

MAX_PARTIALS = 1000


def partials(
    root: Value, variables: dict[str, Value], names: Sequence[str], order: int = 1
) -> dict[tuple[str, ...], Value]:
    """Every distinct partial derivative of the given order over the named variables.

    Mixed partials commute (for the smooth functions of the table), so each
    multiset of names appears once, in the order the names were given:
    order 2 over x, y gives (x, x), (x, y), (y, y).  Each graph is simplified and
    shares its parts with the others.
    """
    if order < 1:
        raise ValueError("the order of a derivative is at least 1")
    limits.check("order", order, "the derivative's order is {size}")
    count = math.comb(len(names) + order - 1, order)
    if count > MAX_PARTIALS:
        raise LimitError(
            f"{count:,} partial derivatives of order {order} over {len(names)} variables; "
            f"at most {MAX_PARTIALS:,} are printed (name fewer variables with --wrt)"
        )
    b = Builder()
    level: dict[tuple[int, ...], Value] = {(): b.rebuild(root)}
    b.assume_defined(level[()])
    for _ in range(order):
        following: dict[tuple[int, ...], Value] = {}
        for key, graph in level.items():
            start = key[-1] if key else 0  # only non-decreasing index tuples: each multiset once
            leaves = [variables[n] for n in names[start:]]
            for offset, d in enumerate(gradients(graph, leaves, b)):
                following[(*key, start + offset)] = d
        level = following
    return {tuple(names[i] for i in key): graph for key, graph in level.items()}


def count_nodes(roots: Sequence[Value]) -> int:
    """The nodes of several graphs together (shared parts once)."""
    return sum(1 for _ in walk(*roots))


def hessian(
    root: Value, variables: dict[str, Value], names: Sequence[str]
) -> list[list[float]]:
    """The matrix of second partials at the point held by the leaves (their data set, graph computed).

    Reverse over reverse: the first derivatives are graphs (gradients()); each is
    computed at the point and run through the fast float backward() for its row.
    The matrix is made exactly symmetric from its upper triangle.
    """
    b = Builder()
    leaves = [variables[n] for n in names]
    rebuilt = b.rebuild(root)
    b.assume_defined(rebuilt)
    firsts = gradients(rebuilt, leaves, b)
    n = len(names)
    size = count_nodes(firsts)  # each row evaluates and runs backward over (part of) these
    limits.check_work(
        n * size * (limits.EVALUATE + limits.BACKWARD),
        f"the Hessian is {n:,} passes over first derivatives of {size:,} nodes",
        "name fewer variables with --wrt",
    )
    matrix = [[0.0] * n for _ in range(n)]
    others = [leaf for name, leaf in variables.items() if name not in names]
    for i, first in enumerate(firsts):
        try:
            evaluate(first)
            for leaf in leaves:
                leaf.grad = -0.0  # IEEE's additive identity: a second derivative of -0.0 keeps its sign
            reached = {id(node) for node in topological_order(first)}
            with constants_for_now(others):  # only the named variables: the others are numbers here
                first.backward()
        except MathError as error:
            raise MathError(error.op, f"no second derivative with respect to {names[i]}: {error.message}") from None
        for j in range(i, n):
            g = leaves[j].grad if id(leaves[j]) in reached else 0.0  # not reached: the derivative is 0
            if not math.isfinite(g):
                raise MathError("backward", f"overflow: a second derivative ({names[i]}, {names[j]}) is too large")
            matrix[i][j] = matrix[j][i] = g
    for leaf in leaves:
        leaf.grad = 0.0
    return matrix
