"""The op table lifted to tensors: every function of ops.py, elementwise, with NumPy's broadcasting.

One forward and one backward serve the whole table.  The forward is the backend's
`apply(op, arrays)`: the table's own float function on every element.  The backward
for argument i is the backend's `derivative(op, i, arrays, out, g)`: g times the
table's derivative rule on every element, as the scalar engine computes it, then
summed back to the argument's shape (sum_to_shape: broadcasting's backward).  So a
function added to the table is a tensor function too, with nothing written here.

A derivative is computed only for arguments that need a gradient: pow's exponent
rule, out * log(x), is never evaluated for `x ** 2` (it has no value where x < 0),
which is what the table's `lazy` mark asks for, here for every argument.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

from .. import ops
from ..formulas import ARG_NAMES, evaluate
from .tensor import Array, Tensor, broadcast_shapes, common, constant, kernel, node, sum_to_shape

__all__ = ["OPERATORS", "apply", "function", "is_operand", "method"]

_PYTHON_NAMES = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "pow": "pow"}


def apply(name: str, *args: Any) -> Tensor:
    """The table operation `name` (or one of its aliases) on tensors and numbers, broadcast together."""
    op = ops.lookup(name)
    if op is None:
        raise AttributeError(f"no operation called {name!r} in the op table")
    if len(args) != op.arity:
        return _other_arity(op, args)
    tensors, b = common(args)
    shapes = [t.shape for t in tensors]
    if op.arity > 1 and shapes[0] != shapes[1]:
        broadcast_shapes(*shapes)  # a UsageError naming the shapes, before any kernel runs
    out = b.apply(op, [t.array for t in tensors])
    return node(op.name, tuple(tensors), out, table_backward, op)


def table_backward(node: Tensor, g: Array) -> list[Array | None]:
    """g times d out / d argument i, elementwise by the table's rule (backend.derivative), summed back to its shape."""
    op, b = node.saved, node.backend
    arrays = [p.array for p in node.parents]
    grads: list[Array | None] = []
    for i, p in enumerate(node.parents):
        if not p.requires_grad:
            grads.append(None)  # nobody needs it: not computed (pow's exponent rule for x ** 2)
            continue
        rule = op.grads[i]
        if rule == "1" and not op.conventions:  # add, sub: g itself, as the engine's generated code has it
            d = g
        elif rule == "-1" and not op.conventions:  # sub's second argument, neg
            d = kernel(b, "neg", g)
        else:
            d = b.derivative(op, i, arrays, node.array, g)
        grads.append(sum_to_shape(b, d, p.shape))
    return grads


def _other_arity(op: ops.Op, args: tuple) -> Tensor:
    """A call with another number of arguments: a spelling of the table (log(x, b), leaky_relu(x)), or a fold."""
    spelling = op.spelling(len(args))
    if spelling is not None:  # log(x, b) is log(x) / log(b): built from the table's own operations
        tensors, b = common(args)
        return evaluate(spelling, dict(zip(ARG_NAMES, tensors, strict=False)), apply,
                        lambda v: constant(b.from_flat([v], ()), b))
    if op.variadic and len(args) > op.arity:  # max(a, b, c) is max(max(a, b), c)
        out = apply(op.name, args[0], args[1])
        for a in args[2:]:
            out = apply(op.name, out, a)
        return out
    counts = sorted({op.arity, *(n for n, _ in op.spellings)})
    wanted = " or ".join(str(n) for n in counts) + (" or more" if op.variadic else "")
    raise TypeError(f"{op.name} takes {wanted} arguments, got {len(args)}")


_FUNCTIONS: dict[tuple[str, ops.Op], Callable[..., Tensor]] = {}


def function(name: str) -> Callable[..., Tensor] | None:
    """T.<name>: the table function (or alias) as a tensor function, made on first use; None if there is none."""
    op = ops.lookup(name)
    if op is None:
        return None
    found = _FUNCTIONS.get((name, op))
    if found is None:

        def f(*args: Any) -> Tensor:
            return apply(op.name, *args)

        f.__name__ = f.__qualname__ = name
        f.__doc__ = f"{op.signature()}: {op.doc}; elementwise on tensors, broadcast (the op table's {op.name})."
        found = _FUNCTIONS[(name, op)] = f
    return found


def method(t: Tensor, name: str) -> Callable[..., Tensor]:
    """x.<name>(...): a function of the table (x.tanh(), x.log(2), x.atan2(y)) with x as its first argument."""
    op = ops.lookup(name)
    if op is None or op.symbol is not None or name.startswith("_"):
        raise AttributeError(f"'Tensor' object has no attribute {name!r}")

    def bound(*others: Any) -> Tensor:
        return apply(op.name, t, *others)

    bound.__name__ = name
    bound.__doc__ = f"{op.signature()}: {op.doc}."
    return bound


def is_operand(value: Any) -> bool:
    """A Tensor or a plain number: what the operators (+ - * / **) take; anything else is NotImplemented."""
    return isinstance(value, (Tensor, Real))


def _operator(name: str, reflected: bool) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        if not is_operand(other):
            return NotImplemented
        return apply(name, other, self) if reflected else apply(name, self, other)

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


# The operators are the table's arithmetic: x + y is add(x, y), 2 - x is sub(2, x), -x is neg(x).
OPERATORS: dict[str, Callable[..., Tensor]] = {
    **{f"__{py}__": _operator(name, False) for py, name in _PYTHON_NAMES.items()},
    **{f"__r{py}__": _operator(name, True) for py, name in _PYTHON_NAMES.items()},
    "__neg__": lambda self: apply("neg", self),
    "__abs__": lambda self: apply("abs", self),
    "__pos__": lambda self: self,
}
