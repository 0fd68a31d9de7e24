"""A parsed expression: its graph, its variables, and evaluation at a point."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping

from . import limits, ops
from .engine import Value, constants_for_now, forward, topological_order
from .errors import BindingError, MathError, UsageError, listing, shortened
from .ops import number_text


def require_values(names: Iterable[str], bindings: Mapping[str, float]) -> None:
    """BindingError naming the variables without a value (the first five, and how many more)."""
    missing = [n for n in names if n not in bindings]
    if missing:
        listed = listing(missing)
        example = " ".join(f"{shortened(n)}=1" for n in missing[:5]) + (" ..." if len(missing) > 5 else "")
        noun = "variable" if len(missing) == 1 else "variables"
        for name in missing:  # --X 2 for a variable x
            given = [b for b in bindings if b.casefold() == name.casefold()]
            if given:
                raise BindingError(f"no value for {noun} {listed}: {shortened(given[0])} was given, and names are "
                                   f"case-sensitive (write --{shortened(name)} {number_text(bindings[given[0]])})")
        pi = [n for n in missing if n.casefold() in ops.CONSTANTS]  # PI: the constant is pi
        hint = f"; for the constant write {pi[0].casefold()}" if pi else ""
        raise BindingError(f"no value for {noun} {listed} (give one as --{shortened(missing[0])} 1 or {example}){hint}")


# The largest graph whose zero or subnormal derivatives are checked again in decimal numbers.
CAREFUL_NODES = 5_000


class Expression:
    """The Value graph of one expression, with its variables in order of first appearance."""

    __slots__ = ("_order", "root", "text", "variables")

    def __init__(self, text: str, root: Value, variables: dict[str, Value]) -> None:
        self.text = text
        self.root = root
        self.variables = variables  # name -> leaf, the same leaf wherever the name occurs
        self._order: list[Value] | None = None

    def __repr__(self) -> str:
        return f"Expression(text={self.text!r}, root={self.root!r}, variables={self.variables!r})"

    @property
    def order(self) -> list[Value]:
        """All nodes, parents before children (computed once)."""
        if self._order is None:
            self._order = topological_order(self.root)
        return self._order

    def check_bindings(self, bindings: Mapping[str, float], wrt: Iterable[str] = ()) -> list[str]:
        """Validate names and values; return the bound names the expression does not use."""
        for name in bindings:
            if name in ops.CONSTANTS:
                raise BindingError(f"{name} is a constant ({ops.CONSTANTS[name]!r}) and cannot be bound")
        for name, value in bindings.items():
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BindingError(f"the value of {name} must be a finite number, not {value!r}")
        require_values(self.variables, bindings)
        self.check_wrt(wrt)
        return [n for n in bindings if n not in self.variables]

    def check_wrt(self, names: Iterable[str]) -> None:
        """UsageError for a --wrt name that is not a variable of the expression."""
        for name in names:
            if name in self.variables:
                continue
            if name in ops.CONSTANTS:
                raise UsageError(f"--wrt {name}: {name} is a constant ({ops.CONSTANTS[name]!r}), not a variable")
            known = ", ".join(self.variables) or "none"
            raise UsageError(f"--wrt {name}: the expression has no variable {name} (it has: {known})")

    def evaluate(self, bindings: Mapping[str, float]) -> float:
        """The value at a point.  Raises BindingError or MathError."""
        self.check_bindings(bindings)
        return self._forward(bindings)

    def _forward(self, bindings: Mapping[str, float]) -> float:
        for name, leaf in self.variables.items():
            leaf.data = float(bindings[name])
        forward(self.order)
        return self.root.data

    def gradient(
        self, bindings: Mapping[str, float], wrt: Iterable[str] | None = None, mode: str = "reverse"
    ) -> tuple[float, dict[str, float]]:
        """The value and the partial derivatives at a point.

        mode "reverse": one backward pass gives every partial derivative.
        mode "forward": one pass of dual numbers per variable (see `dual`).
        """
        if mode not in ("reverse", "forward"):
            raise UsageError(f"mode must be 'reverse' or 'forward', not {mode!r}")
        names = list(self.variables) if wrt is None else list(wrt)
        self.check_bindings(bindings, names)
        value = self._forward(bindings)  # bindings checked just above
        if mode == "forward":
            limits.check_work(
                len(names) * len(self.order) * limits.FORWARD,
                f"forward mode is {len(names):,} passes over {len(self.order):,} nodes",
                "reverse mode (the default) gives every derivative in one pass",
            )
            from .dual import jvp  # forward mode's dual numbers load only when asked for

            grads = {}
            for name in names:
                duals = jvp(self.order, {self.variables[name]: 1.0})
                grads[name] = duals[self.root].tangent
        else:
            for leaf in self.variables.values():
                leaf.grad = -0.0  # IEEE's additive identity: a derivative of -0.0 keeps its sign
            others = [leaf for n, leaf in self.variables.items() if n not in names] if wrt is not None else None
            if others:
                with constants_for_now(others):  # --wrt x: y is a number here, as in forward mode
                    self.root.backward()
            else:
                self.root.backward()
            grads = {n: self.variables[n].grad for n in names}
        wild = [n for n, g in grads.items() if not math.isfinite(g)]
        if wild:  # an intermediate left the doubles: the careful path (decimal numbers) redoes these, in either mode
            from . import careful  # decimal numbers, loaded only where a double failed
            for name, g in zip(wild, careful.gradient(self.order, self.root, [self.variables[n] for n in wild]),
                               strict=True):
                grads[name] = g
        # A product on the way can fall below the doubles where the derivative does not: forward mode
        # carries d node / d x, 1e-600 in 1e300*atan(x) at x = 1e300 (the derivative is 1e-300), and
        # reverse mode's y * x^(y-1) in 1e300*x^y is 0 at x = 1e155, y = 1e-310 (the derivative is
        # 1e-165).  A derivative that comes out 0 or subnormal is checked carefully, on graphs small
        # enough for decimal arithmetic to be quick (a command line's expression); a 0 stays as it was.
        small = len(self.order) <= CAREFUL_NODES
        faint = [n for n, g in grads.items() if abs(g) < sys.float_info.min] if small else []
        if faint:
            try:
                from . import careful  # decimal numbers, loaded only where a double failed
                again = careful.gradient(self.order, self.root, [self.variables[n] for n in faint])
            except MathError:
                again = [0.0] * len(faint)  # the fast pass had a value: keep it
            for name, g in zip(faint, again, strict=True):
                if g != 0.0 and math.isfinite(g):
                    grads[name] = g
        for name, g in grads.items():
            if not math.isfinite(g):
                message = f"overflow: the derivative with respect to {name} is too large for a double"
                raise MathError("backward", message)
        return value, grads
