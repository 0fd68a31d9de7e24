"""The scalar reverse-mode engine: `Value` and its backward pass.

Standard library only.  Every node knows its data, its gradient, its parents (an
ordered tuple, so `x*x` keeps both edges) and the operation that made it.  The
operations and their derivative rules come from the op table in `ops`;
`rulecode` compiles each rule once into a small float function for the backward
pass, so no closure is allocated per node and nothing recurses.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from . import ops
from .errors import MathError
from .formulas import evaluate
from .rulecode import backward_source, compile_backward, products

__all__ = [
    "Value", "apply_formula", "backward_source", "constants_for_now", "forward", "gradient_term", "local_derivative",
    "products",
    "topological_order", "walk",
]


class _Op:
    """What produced a node: a table operation with its compiled backward, or a leaf."""

    __slots__ = ("backward", "name", "spec")

    def __init__(self, name: str, spec: ops.Op | None) -> None:
        self.name = name
        self.spec = spec
        self.backward: Callable = self._first_backward

    def _first_backward(self, node: Value) -> None:
        # compiled on first use, so that a one-shot command compiles only its own ops
        self.backward = compile_backward(self.spec, CONST)
        self.backward(node)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


VAR = _Op("var", None)  # a leaf the user made: it gets a gradient
CONST = _Op("const", None)  # a number in an expression: the same, but pow skips its log


def gradient_term(node: Value, i: int, g: float) -> float:
    """g times d node / d (argument i), rounded as the backward pass rounds it; the careful rule where that fails."""
    spec = node._op.spec
    args = [p.data for p in node._prev]
    try:
        return products(spec)[i](*args, node.data, g)
    except (ArithmeticError, ValueError):
        from . import careful  # decimal numbers, loaded only where a double failed
        return careful.times(args, node.data, i, spec, g)


# The engine's registry: one _Op per table operation (made on first use, so a table extended
# with ops.extended() works too), keyed by the table entry.
_KINDS: dict[ops.Op, _Op] = {}


def _kind(name: str) -> _Op:
    spec = ops.OPS[name]
    kind = _KINDS.get(spec)
    if kind is None:
        kind = _KINDS[spec] = _Op(name, spec)
    return kind


_ADD, _SUB, _MUL, _DIV, _NEG, _POW = (_kind(n) for n in ("add", "sub", "mul", "div", "neg", "pow"))

_alloc = object.__new__


def _new(data: float, prev: tuple, op: _Op) -> Value:
    v = _alloc(Value)
    v.data = data
    v.grad = 0.0
    v.name = None
    v._prev = prev
    v._op = op
    v._pending = 0
    return v


def _lift(other: object) -> Value:
    """A Python number taking part in an operation becomes a constant node."""
    cls = other.__class__
    if cls is float or cls is int:
        return _new(float(other), (), CONST)
    if isinstance(other, Value):
        return other
    from numbers import Real  # numpy scalars, Fractions, bools

    if isinstance(other, Real):
        return _new(float(other), (), CONST)
    return NotImplemented  # type: ignore[return-value]


def _overflow(op: _Op, args: tuple) -> MathError:
    return op.spec.overflow(*(a.data for a in args))


def _compute(op: _Op, args: tuple) -> float:
    """Apply a table operation to its arguments' data, with the project's errors."""
    return op.spec.evaluate(*[a.data for a in args])


class Value:
    """A scalar in a computation graph: data, grad, parents and the op that made it."""

    __slots__ = ("_op", "_pending", "_prev", "data", "grad", "name")

    def __init__(self, data: float, name: str | None = None) -> None:
        if isinstance(data, (str, bytes)):
            raise TypeError(f"Value needs a number, not {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.name = name
        self._prev: tuple[Value, ...] = ()
        self._op = VAR
        self._pending = 0  # consumers not yet processed, during backward()

    # -- structure --------------------------------------------------------

    @property
    def op(self) -> str:
        """The operation that produced this node: a table name, 'var' or 'const'."""
        return self._op.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the operation, in order (a node used twice appears twice)."""
        return self._prev

    @property
    def is_leaf(self) -> bool:
        return not self._prev

    @property
    def is_constant(self) -> bool:
        return self._op is CONST

    @classmethod
    def constant(cls, data: float, name: str | None = None) -> Value:
        """A number in an expression (e.g. the 2 of x^2, or pi); `name` is how it prints."""
        v = _new(float(data), (), CONST)
        v.name = name
        return v

    @classmethod
    def node(cls, op: str, parents: Iterable[Value], data: float = math.nan) -> Value:
        """A node built without computing it (forward() fills in data later)."""
        kind = _kind(op)
        prev = tuple(parents)
        if len(prev) != kind.spec.arity:
            raise TypeError(f"{op} takes {kind.spec.arity} arguments, got {len(prev)}")
        return _new(data, prev, kind)

    @classmethod
    def apply(cls, op: str, *args: Value | float) -> Value:
        """Apply a table operation to Values (or numbers), computing the result now."""
        kind = _kind(op)
        if len(args) != kind.spec.arity:
            raise TypeError(f"{op} takes {kind.spec.arity} arguments, got {len(args)}")
        prev = tuple(a if isinstance(a, Value) else _lift(a) for a in args)
        return _new(_compute(kind, prev), prev, kind)

    def __repr__(self) -> str:
        label = f"name={self.name!r}, " if self.name is not None else ""
        return f"Value({label}data={self.data!r}, grad={self.grad!r})"

    # -- arithmetic: the fast, common paths, written out -------------------

    def __add__(self, other: Value | float) -> Value:
        if other.__class__ is not Value and (other := _lift(other)) is NotImplemented:
            return NotImplemented
        r = self.data + other.data
        if r - r != 0.0:
            raise _overflow(_ADD, (self, other))
        return _new(r, (self, other), _ADD)

    def __mul__(self, other: Value | float) -> Value:
        if other.__class__ is not Value and (other := _lift(other)) is NotImplemented:
            return NotImplemented
        r = self.data * other.data
        if r - r != 0.0:
            raise _overflow(_MUL, (self, other))
        return _new(r, (self, other), _MUL)

    def __sub__(self, other: Value | float) -> Value:
        if other.__class__ is not Value and (other := _lift(other)) is NotImplemented:
            return NotImplemented
        r = self.data - other.data
        if r - r != 0.0:
            raise _overflow(_SUB, (self, other))
        return _new(r, (self, other), _SUB)

    def __truediv__(self, other: Value | float) -> Value:
        if other.__class__ is not Value and (other := _lift(other)) is NotImplemented:
            return NotImplemented
        return _new(_compute(_DIV, (self, other)), (self, other), _DIV)

    def __pow__(self, other: Value | float) -> Value:
        if other.__class__ is not Value and (other := _lift(other)) is NotImplemented:
            return NotImplemented
        return _new(_compute(_POW, (self, other)), (self, other), _POW)

    def __neg__(self) -> Value:
        return _new(-self.data, (self,), _NEG)

    def __pos__(self) -> Value:
        return self

    # reflected forms: the number on the left becomes a constant node
    def __radd__(self, other: float) -> Value:  # other + self
        return NotImplemented if (c := _lift(other)) is NotImplemented else c + self

    def __rsub__(self, other: float) -> Value:  # other - self
        return NotImplemented if (c := _lift(other)) is NotImplemented else c - self

    def __rmul__(self, other: float) -> Value:  # other * self
        return NotImplemented if (c := _lift(other)) is NotImplemented else c * self

    def __rtruediv__(self, other: float) -> Value:  # other / self
        return NotImplemented if (c := _lift(other)) is NotImplemented else c / self

    def __rpow__(self, other: float) -> Value:  # other ** self
        return NotImplemented if (c := _lift(other)) is NotImplemented else c**self

    # -- backward ---------------------------------------------------------

    def backward(self) -> None:
        """Reverse mode: add d(self)/d(leaf) to every leaf's grad.

        Leaves accumulate across calls, as in PyTorch (zero them between steps);
        inner nodes' grads are recomputed on each call.  A leaf whose grad is 0
        counts as having none yet (PyTorch's None): its first term is taken as it
        is, so Value(-0.0) * y gives y.grad == -0.0, as in PyTorch and IEEE
        arithmetic (sums start from -0.0, the additive identity).  No recursion: the graph
        may be millions of nodes deep.
        """
        stack = [self]
        push, pop = stack.append, stack.pop
        try:
            # 1. count, for every inner node, the edges that lead to it from above
            while stack:
                for p in pop()._prev:
                    if p._prev:
                        if p._pending == 0:
                            p.grad = -0.0  # IEEE's additive identity: the first term keeps its sign
                            push(p)
                        p._pending += 1
                    elif p.grad == 0.0:
                        p.grad = -0.0  # a leaf without a gradient yet (+0.0 or -0.0): the same
            # 2. chain rule from the output down: a node's grad is complete once all
            #    its consumers have been processed, and only then is it passed on
            if not self._prev:
                self.grad += 1.0  # a leaf is its own output: it accumulates like any leaf
                return
            self.grad = 1.0
            push(self)
            while stack:
                node = pop()
                try:
                    # the op's local derivatives times node.grad, added (+=) to its parents' grads:
                    # straight-line code generated from the op table (backward_source(op) prints it)
                    node._op.backward(node)
                except (ArithmeticError, ValueError):
                    if node._op.spec is None:
                        raise
                    _backward_carefully(node)  # perhaps only an argument no variable depends on
                for p in node._prev:
                    if p._prev:
                        p._pending -= 1
                        if p._pending == 0:
                            push(p)
        except BaseException:
            _reset_pending(self)  # the graph stays usable
            raise


def _backward_carefully(node: Value) -> None:
    """One node's backward step when its compiled rule failed (the error path only).

    A rule can fail for an argument that no variable depends on: the exponent of
    z^-1 is neg(1), whose derivative (a log of the base) nobody needs.  Such
    arguments are skipped.  For any other argument the rule runs again in decimal
    numbers (careful.py): an intermediate that overflowed a double (x^(y-1) in
    x^x at x = 1e-310) is then a number, and the product with the gradient is
    rounded once (inf if it is too large, which Expression.gradient then redoes
    carefully from the top); a rule without a value even there is the user's error.
    """
    updates = []
    args = [p.data for p in node._prev]
    for i, parent in enumerate(node._prev):
        if parent._op is CONST or not _depends_on_a_variable(parent):
            continue
        from . import careful  # decimal numbers, loaded only where a double failed
        updates.append((parent, careful.times(args, node.data, i, node._op.spec, node.grad)))
    for parent, d in updates:
        parent.grad += d


def local_derivative(node: Value, i: int) -> float:
    """d node / d (argument i) at the values the graph holds: the op table's rule, evaluated once.

    The slow, careful path (errors, explanations): the op's convention where one
    applies (pow's exponent at a zero base), else the rule; where the rule has no
    value, a MathError 'no derivative: ...' names the operation and the argument,
    and where the derivative is too large for a double, a MathError 'overflow: ...'.
    """
    spec = node._op.spec
    args = [p.data for p in node._prev]
    env = {n: Value(a) for n, a in zip(ops.ARG_NAMES, args, strict=False)} | {ops.RESULT_NAME: Value(node.data)}
    value = spec.convention(args, i)  # pow's exponent at a zero base, ...: tested first, as the fast path does
    if value is not None:
        return value
    try:
        return apply_formula(spec.grad_trees[i], env, Value.apply).data
    except (ArithmeticError, ValueError):  # an overflow on the way, or no derivative: the careful rule says which
        from . import careful  # decimal numbers, loaded only where a double failed
        return careful.local_float(spec, args, node.data, i)


def _depends_on_a_variable(root: Value) -> bool:
    return any(node._op is VAR for node in walk(root))


@contextmanager
def constants_for_now(leaves: Iterable[Value]) -> Iterator[None]:
    """Treat some variables as constants while the block runs (pow skips their log, as for numbers)."""
    changed = [leaf for leaf in leaves if leaf._op is VAR]
    for leaf in changed:
        leaf._op = CONST
    try:
        yield
    finally:
        for leaf in changed:
            leaf._op = VAR


def _reset_pending(root: Value) -> None:
    """Undo the counts of an interrupted backward pass."""
    for node in walk(root):
        node._pending = 0


def _method(name: str) -> Callable:
    spec = ops.OPS[name]

    def method(self: Value, *others: Value | float) -> Value:
        args = (self, *others)
        spelling = spec.spelling(len(args))
        if spelling is not None:  # e.g. x.log(2): log(x) / log(2); x.leaky_relu(): leaky_relu(x, 0.01)
            env = dict(zip(ops.ARG_NAMES, (a if isinstance(a, Value) else _lift(a) for a in args), strict=False))
            return apply_formula(spelling, env, Value.apply)
        if spec.variadic and len(args) > 2:
            out = Value.apply(name, args[0], args[1])
            for a in args[2:]:
                out = Value.apply(name, out, a)
            return out
        return Value.apply(name, *args)

    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = f"{spec.signature()}: {spec.doc}."
    return method


# One method per function of the table: x.tanh(), x.log(), x.max(y), ...
for _name in ops.FUNCTIONS:
    setattr(Value, _name, _method(_name))


# -- whole-graph helpers --------------------------------------------------


def walk(*roots: Value) -> Iterator[Value]:
    """Every node reachable from the roots, each once, roots first (iterative: graphs may be deep)."""
    stack, seen = list(roots), {id(r) for r in roots}
    while stack:
        node = stack.pop()
        yield node
        for p in node._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from root, each after all of its parents (iterative DFS)."""
    order: list[Value] = []
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack[-1]
        for p in node._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
                break
        else:
            order.append(stack.pop())
    return order


def forward(order: list[Value]) -> None:
    """Recompute every inner node's data from its parents, in topological order."""
    for node in order:
        if node._prev:
            node.data = _compute(node._op, node._prev)


def apply_formula(tree: ast.expr, env: Mapping[str, Value], apply: Callable[..., Value]) -> Value:
    """Evaluate a table formula on Values: names from env, calls and operators through apply.

    `apply(op_name, *values)` builds one node; passing Value.apply computes as it
    goes, passing Value.node builds structure only.  Formulas are a few nodes deep.
    """
    return evaluate(tree, env, apply, Value.constant)
