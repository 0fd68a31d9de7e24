"""The Python the op table generates for floats: each operation's backward step, and its products.

The engine runs these functions; they are made from the table's derivative rules as text,
compiled once per operation on first use, so that a learner can print exactly what runs
(`autodiff functions --code mul`) and no closure is allocated per node.  Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable

from . import ops
from .formulas import times_python

__all__ = ["backward_source", "compile_backward", "products"]


def backward_source(op: str | ops.Op) -> str:
    """The Python the backward pass runs for one node of an operation, generated from its table entry.

    For `mul` (d/dx = y, d/dy = x):

        def backward(node):
            g = node.grad
            a0, a1, = node._prev
            x = a0.data
            y = a1.data
            d0 = g * (y)
            d1 = g * (x)
            a0.grad += d0
            a1.grad += d1
    """
    spec = op if isinstance(op, ops.Op) else ops.OPS[op]
    names = {n: n for n in (*ops.ARG_NAMES, ops.RESULT_NAME)}
    sources = [spec.rule_python(i, names, lambda f: f"_f_{f}") for i in range(spec.arity)]
    used = _names_read(spec)  # which of x, y, out to load
    parents = [f"a{i}" for i in range(spec.arity)]
    lines = ["def backward(node):", "    g = node.grad", f"    {', '.join(parents)}, = node._prev"]
    for i, arg in enumerate(ops.ARG_NAMES[: spec.arity]):
        if arg in used:
            lines.append(f"    {arg} = a{i}.data")
    if ops.RESULT_NAME in used:
        lines.append(f"    {ops.RESULT_NAME} = node.data")
    updates = []
    for i, src in enumerate(sources):
        if src == "0.0":  # sign, step: a zero still flows back, so that every leaf reached gets a term
            updates.append(f"a{i}.grad += 0.0 * g")
            continue
        if src in ("1.0", "-1.0"):
            updates.append(f"a{i}.grad {src[0] if src[0] == '-' else '+'}= g")
        elif i in spec.lazy:  # only when the argument may need it (pow's exponent: log of the base)
            lines.append(f"    d{i} = {times_python('g', src)} if a{i}._op is not CONST else 0.0")
            updates.append(f"a{i}.grad += d{i}")
        else:
            lines.append(f"    d{i} = {times_python('g', src)}")  # g / d where the rule divides
            updates.append(f"a{i}.grad += d{i}")
    # every local derivative first, then the updates: a rule that fails changes nothing
    return "\n".join(lines + [f"    {u}" for u in updates]) + "\n"


def _names_read(spec: ops.Op) -> set[str]:
    """The names an operation's derivative rules read: arguments, out, and the table functions they call."""
    return set().union(*(spec.rule_names(i) for i in range(spec.arity)))


def compile_backward(spec: ops.Op, const: object) -> Callable:
    """backward_source, compiled into one straight-line float function (no closure per node).

    const: the engine's marker of constant leaves, which pow's exponent rule skips.
    """
    source = backward_source(spec)
    namespace: dict = {**ops.float_namespace(_names_read(spec)), "CONST": const}
    # The source is generated from the op table's own formulas, never from user text.
    exec(compile(source, f"<backward of {spec.name}>", "exec"), namespace)
    return namespace["backward"]


def _compile_products(spec: ops.Op) -> tuple[Callable[..., float], ...]:
    """One float function per argument: g times d out / d arg_i, (x, y, out, g) -> float, as backward multiplies."""
    names = {n: n for n in (*ops.ARG_NAMES, ops.RESULT_NAME)}
    params = ", ".join((*ops.ARG_NAMES[: spec.arity], ops.RESULT_NAME, "g"))
    funcs = []
    for i in range(spec.arity):
        src = spec.rule_python(i, names, lambda f: f"_f_{f}")  # with the op's conventions (pow at 0)
        source = f"def d({params}):\n    return {times_python('g', src)}\n"
        # Generated from the op table's own formulas, never from user text.
        local: dict = {}
        exec(compile(source, f"<g * d {spec.name}/d arg {i}>", "exec"), ops.float_namespace(spec.rule_names(i)), local)
        funcs.append(local["d"])
    return tuple(funcs)


_PRODUCTS: dict[ops.Op, tuple[Callable[..., float], ...]] = {}  # by table entry, compiled on first use


def products(spec: ops.Op) -> tuple[Callable[..., float], ...]:
    """The functions (x, y, out, g) -> g * d out / d arg_i of an operation, multiplied as backward() does.

    Forward mode (dual.py) and explain use them, so that every path rounds alike.
    """
    found = _PRODUCTS.get(spec)
    if found is None:
        found = _PRODUCTS[spec] = _compile_products(spec)
    return found
