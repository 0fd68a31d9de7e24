"""Forward mode: dual numbers that carry a value and its derivative along one direction.

A `Dual` is a + b·ε with ε² = 0: pushing it through f gives f(a) + f'(a)·b·ε, so
the ε part is the directional derivative.  The local derivatives are the op
table's own formulas, compiled to float functions, exactly as the reverse-mode
engine uses them; only the direction of the chain rule differs.

One forward pass gives the derivative with respect to one input (or along one
direction), for every output at once.  Reverse mode gives the derivatives of
one output with respect to every input at once.  So forward mode is cheaper
when there are fewer inputs than outputs, reverse mode when there are more.
Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from . import ops
from .engine import products
from .formulas import evaluate

if TYPE_CHECKING:
    from .engine import Value

__all__ = ["Dual", "derivative", "jvp"]


class Dual:
    """A value and its tangent (derivative along the chosen direction).

    Values are checked as the engine checks them (overflow is a MathError);
    tangents, like the engine's gradients, are not: a caller that needs a finite
    derivative checks the one it reads (Expression.gradient does).
    """

    __slots__ = ("data", "tangent", "varies")

    def __init__(self, data: float, tangent: float = 0.0) -> None:
        self.data = float(data)
        self.tangent = float(tangent)
        # whether the value moves along the direction: a tangent of 0 given here means "does not"
        # (a constant), while a computed tangent of 0 (or -0.0) is carried on like any other
        self.varies = self.tangent != 0.0

    def __repr__(self) -> str:
        return f"Dual({self.data!r}, {self.tangent!r})"

    @classmethod
    def apply(cls, op: str, *args: Dual | float) -> Dual:
        """Apply a table operation: the value as usual, the tangent by the chain rule."""
        duals = tuple(a if isinstance(a, Dual) else Dual(a) for a in args)
        spec = ops.OPS[op]
        data = spec.evaluate(*[a.data for a in duals])
        tangent = 0.0
        varies = False
        for i, (arg, d) in enumerate(zip(duals, products(spec), strict=True)):
            if not arg.varies:
                continue  # nothing to carry (a constant, or an input off the direction)
            try:
                term = d(*(a.data for a in duals), data, arg.tangent)
            except (ArithmeticError, ValueError):  # the error path: the careful rule says overflow or undefined
                from . import careful  # decimal numbers, loaded only where a double failed
                term = careful.times([a.data for a in duals], data, i, spec, arg.tangent)
            # the first term is taken as it is: a -0.0 keeps its sign, as in reverse mode
            tangent = tangent + term if varies else term
            varies = True
        return cls.__new__(cls)._set(data, tangent, varies)

    def _set(self, data: float, tangent: float, varies: bool) -> Dual:
        self.data = data
        self.tangent = tangent
        self.varies = varies
        return self

    # operators, each one line on top of apply()
    def __add__(self, other: Dual | float) -> Dual:
        return Dual.apply("add", self, other)

    def __radd__(self, other: float) -> Dual:  # other + self
        return Dual.apply("add", other, self)

    def __sub__(self, other: Dual | float) -> Dual:
        return Dual.apply("sub", self, other)

    def __rsub__(self, other: float) -> Dual:  # other - self
        return Dual.apply("sub", other, self)

    def __mul__(self, other: Dual | float) -> Dual:
        return Dual.apply("mul", self, other)

    def __rmul__(self, other: float) -> Dual:  # other * self
        return Dual.apply("mul", other, self)

    def __truediv__(self, other: Dual | float) -> Dual:
        return Dual.apply("div", self, other)

    def __rtruediv__(self, other: float) -> Dual:  # other / self
        return Dual.apply("div", other, self)

    def __pow__(self, other: Dual | float) -> Dual:
        return Dual.apply("pow", self, other)

    def __rpow__(self, other: float) -> Dual:  # other ** self
        return Dual.apply("pow", other, self)

    def __neg__(self) -> Dual:
        return Dual.apply("neg", self)

    def __pos__(self) -> Dual:
        return self


def _method(name: str) -> Callable[..., Dual]:
    def method(self: Dual, *others: Dual | float) -> Dual:
        spelling = ops.OPS[name].spelling(1 + len(others))
        if spelling is not None:  # x.log(2): log(x) / log(2); x.leaky_relu(): leaky_relu(x, 0.01)
            env = dict(zip(ops.ARG_NAMES, (self, *others), strict=False))
            return evaluate(spelling, env, Dual.apply, Dual)
        return Dual.apply(name, self, *others)

    method.__name__ = name
    method.__doc__ = f"{ops.OPS[name].signature()} on dual numbers."
    return method


for _name, _spec in ops.OPS.items():
    if _spec.is_function:
        setattr(Dual, _name, _method(_name))


def jvp(order: Iterable[Value], seeds: Mapping[Value, float]) -> dict[Value, Dual]:
    """One forward-mode pass over a graph whose leaves hold their values.

    `order` is the graph in topological order (engine.topological_order), `seeds`
    the tangent of each input leaf (the direction); other leaves get tangent 0.
    Returns the dual number of every node.
    """
    out: dict[Value, Dual] = {}
    for node in order:
        if node.parents:
            out[node] = Dual.apply(node.op, *(out[p] for p in node.parents))
        else:
            out[node] = Dual(node.data, seeds.get(node, 0.0))
    return out


def derivative(f: Callable[[Dual], Dual], x: float) -> float:
    """d f / d x at x, for a Python function written with Dual arithmetic and methods."""
    y = f(Dual(x, 1.0))
    return y.tangent if isinstance(y, Dual) else 0.0

