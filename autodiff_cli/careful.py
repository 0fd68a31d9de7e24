"""The careful path: the op table's derivative rules in decimal numbers whose exponent does not overflow.

The fast paths (the engine's backward pass, forward mode, the compiled batch
function) compute in doubles.  A rule's intermediate can leave the doubles where
the derivative itself does not: at x = -710, log(exp(x)) passes 1/exp(-710),
above the largest double, on its way to the derivative 1; the base rule of x^x,
y * x^(y-1), overflows at x = 1e-310 although the derivative is -712.8.  Only
then, on the error path, the same rules run here on decimal numbers with 40
digits and exponents up to a hundred million, and the result is rounded once to
a double.  A result that is not a double is an overflow; a rule that has no
value even here (1/0, log of a negative) is a point without a derivative.
Standard library only.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from . import ops
from .errors import AutodiffError, MathError
from .formulas import evaluate

__all__ = ["gradient", "local", "times"]

_CONTEXT = decimal.Context(
    prec=40, Emax=10**8, Emin=-(10**8), traps=[decimal.InvalidOperation, decimal.DivisionByZero]
)


def _exp(x: Decimal) -> Decimal:
    return x.exp()


def _wide(f: Callable[[float], float], wide: Callable[[Decimal], Decimal]) -> Callable[[Decimal], Decimal]:
    """The float function where it is far from overflow and underflow (its own digits), else the decimal one."""
    return lambda x: Decimal(f(float(x))) if abs(x) < 700 else wide(x)


# Table functions whose value can leave the doubles (or that call exp at a point where it would).
# Any other function of a rule is evaluated on floats: its arguments are the node's own numbers.
_DECIMAL: dict[str, Callable[..., Decimal]] = {
    "exp": _exp,
    "log": lambda x: x.ln(),
    "sqrt": lambda x: x.sqrt(),
    "hypot": lambda x, y: (x * x + y * y).sqrt(),
    "cosh": _wide(math.cosh, lambda x: (_exp(x) + _exp(-x)) / 2),
    "sinh": _wide(math.sinh, lambda x: (_exp(x) - _exp(-x)) / 2),
    "sech": _wide(lambda x: 1.0 / math.cosh(x), lambda x: 2 / (_exp(x) + _exp(-x))),
    "sigmoid": _wide(lambda x: ops.OPS["sigmoid"].fn(x), lambda x: 1 / (1 + _exp(-x))),
}


def _power(x: Decimal, y: Decimal) -> Decimal:
    if y == 0:
        return Decimal(1)  # 0^0 is 1 in the table (math.pow), an error in decimal
    if x == 0 and y < 0:
        raise ZeroDivisionError("0 to a negative power")  # decimal says Infinity: no derivative, as sqrt's at 0
    return x**y


_ARITHMETIC: dict[str, Callable[..., Decimal]] = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "neg": lambda x: -x, "pow": _power,
}


def _apply(op: str, *args: Decimal) -> Decimal:
    f = _ARITHMETIC.get(op) or _DECIMAL.get(op)
    if f is not None:
        return f(*args)
    return Decimal(ops.OPS[op].evaluate(*(float(a) for a in args)))


def local(spec: ops.Op, args: Sequence[float], out: float, i: int) -> Decimal:
    """d out / d argument i as a decimal: the op's convention where one applies, else its rule.

    Raises the op's 'no derivative' MathError where the rule has no value.
    """
    value = spec.convention(args, i)
    if value is not None:
        return Decimal(value)
    env = {n: Decimal(a) for n, a in zip(ops.ARG_NAMES, args, strict=False)} | {ops.RESULT_NAME: Decimal(out)}
    try:
        with decimal.localcontext(_CONTEXT):
            return +evaluate(spec.grad_trees[i], env, _apply, Decimal)
    except (ArithmeticError, ValueError, AutodiffError):  # decimal's InvalidOperation is an ArithmeticError
        raise spec.no_derivative(args, i) from None


def times(args: Sequence[float], out: float, i: int, spec: ops.Op, g: float) -> float:
    """g times d out / d argument i, rounded once to a double: inf where the product is too large for one."""
    with decimal.localcontext(_CONTEXT):
        return float(Decimal(g) * local(spec, args, out, i))


def local_float(spec: ops.Op, args: Sequence[float], out: float, i: int) -> float:
    """The local derivative as a double, or a MathError saying that it overflows (or does not exist)."""
    d = float(local(spec, args, out, i))
    if not math.isfinite(d):
        where = f" with respect to its {spec.role(i)}" if spec.arity > 1 else ""
        raise MathError(spec.name, f"overflow: the derivative of {spec.call_text(*args)}{where} "
                        "is too large for a double")
    return d


def gradient(order: Sequence[Any], root: Any, leaves: Sequence[Any]) -> list[float]:
    """d root / d leaf for each leaf, by reverse mode in decimal numbers, each rounded once to a double.

    `order` is a graph of engine Values in topological order (this module sits below the engine).
    Only arguments that lead to one of the leaves are differentiated (the others are numbers
    here, as --wrt makes them), so pow's exponent rule is not asked for where nobody needs it.
    A result that is too large for a double comes back as inf.
    """
    wanted = {id(leaf) for leaf in leaves}
    needs: set[int] = set()
    for node in order:  # parents before children
        if id(node) in wanted or any(id(p) in needs for p in node.parents):
            needs.add(id(node))
    adjoint: dict[int, Decimal] = {id(root): Decimal(1)}
    with decimal.localcontext(_CONTEXT):
        for node in reversed(order):
            g = adjoint.get(id(node))
            if g is None or not node.parents:
                continue
            spec = ops.OPS[node.op]
            args = [p.data for p in node.parents]
            for i, parent in enumerate(node.parents):
                if id(parent) not in needs:
                    continue
                term = g * local(spec, args, node.data, i)
                # the first term is taken as it is: a -0 keeps its sign, as in the engine
                adjoint[id(parent)] = adjoint[id(parent)] + term if id(parent) in adjoint else term
    return [float(adjoint.get(id(leaf), Decimal(0))) for leaf in leaves]
