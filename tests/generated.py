"""Hypothesis strategies for expressions over the whole op table, each with an independent reference.

A generated expression is (text, reference).  The text is written by hand here in the project's
syntax (not by the printer under test); the reference is a plain Python function of a dict of
variable values built from the math module, never from the package.  It raises ValueError,
ZeroDivisionError or OverflowError where the expression is undefined, and appends to
env["_kinks"] the distance of every kink it crosses (relu, abs, sign, step, max, min, sqrt at 0,
asin and acos at -1 and 1), so that finite differences are only trusted away from them.

The operations are drawn from ops.OPS itself, so an entry added to the table without a reference
here fails test_every_table_operation_has_a_reference.
"""

from __future__ import annotations

import math

import mpmath
from hypothesis import strategies as st

from autodiff_cli import ops
from autodiff_cli.ops import number_text

NAMES = ("x", "y", "z")


def _kink(env: dict, distance: float) -> None:
    env["_kinks"].append(abs(distance))


def _sqrt(env, u):
    _kink(env, u)
    return math.sqrt(u)


def _asin(env, u):
    _kink(env, 1 - abs(u))
    return math.asin(u)


def _acos(env, u):
    _kink(env, 1 - abs(u))
    return math.acos(u)


def _log(u):
    if u <= 0:
        raise ValueError("log")
    return math.log(u)


def _relu(env, u):
    _kink(env, u)
    return max(u, 0.0)


def _abs(env, u):
    _kink(env, u)
    return abs(u)


def _sign(env, u):
    _kink(env, u)
    return float((u > 0) - (u < 0))


def _step(env, u):
    _kink(env, u)
    return 1.0 if u > 0 else 0.0


def _max(env, a, b):
    _kink(env, a - b)
    return max(a, b)


def _min(env, a, b):
    _kink(env, a - b)
    return min(a, b)


def _pow(env, a, b):
    if a == 0 and b < 0:
        raise ZeroDivisionError("0^negative")
    if a < 0 and b != int(b):
        raise ValueError("negative base")
    _kink(env, a)  # x^y near x = 0 turns fast (and its y-derivative needs x > 0)
    return math.pow(a, b)


def _div(a, b):
    return a / b  # ZeroDivisionError at 0


def _acosh(env, u):
    _kink(env, u - 1)
    return math.acosh(u)


def _atanh(env, u):
    _kink(env, 1 - abs(u))
    return math.atanh(u)


def _atan2(env, a, b):
    _kink(env, math.hypot(a, b))
    if b < 0:
        _kink(env, a)  # the jump of 2 pi across the negative x axis
    return math.atan2(a, b)


def _hypot(env, a, b):
    _kink(env, math.hypot(a, b))
    # correctly rounded (mpmath, 40 digits), not sqrt(a*a + b*b), which can be an ulp off: sin of it at
    # 3.7e15 then turned 0.51 into 0.42 (found by the property run)
    with mpmath.workdps(40):
        return float(mpmath.hypot(a, b))


def _cbrt(env, u):
    _kink(env, u)
    return math.copysign(abs(u) ** (1 / 3), u) if u != 0 else u


def _softsign(env, u):
    _kink(env, u)  # the second derivative jumps
    return u / (1 + abs(u))


def _elu(env, u):
    _kink(env, u)
    return u if u > 0 else math.exp(u) - 1 if u < -1e-5 else math.expm1(u)


def _leaky_relu(env, u, slope):
    _kink(env, u)
    return u if u > 0 else slope * u


def _floor(env, u):
    _kink(env, u - round(u))
    return float(math.floor(u))


def _ceil(env, u):
    _kink(env, u - round(u))
    return float(math.ceil(u))


# The reference of each table operation: f(env, *args), from the math module and first principles.
REFERENCE = {
    "add": lambda env, a, b: a + b,
    "sub": lambda env, a, b: a - b,
    "mul": lambda env, a, b: a * b,
    "div": lambda env, a, b: _div(a, b),
    "neg": lambda env, a: -a,
    "pow": _pow,
    "exp": lambda env, a: math.exp(a),
    "log": lambda env, a: _log(a),
    "log2": lambda env, a: _log(a) / math.log(2),
    "log10": lambda env, a: _log(a) / math.log(10),
    "sqrt": _sqrt,
    "sin": lambda env, a: math.sin(a),
    "cos": lambda env, a: math.cos(a),
    "tan": lambda env, a: math.sin(a) / math.cos(a),
    "asin": _asin,
    "acos": _acos,
    "atan": lambda env, a: math.atan(a),
    "sinh": lambda env, a: math.sinh(a),
    "cosh": lambda env, a: math.cosh(a),
    "tanh": lambda env, a: math.tanh(a),
    "sech": lambda env, a: 1 / math.cosh(a) if abs(a) < 700 else 2 * math.exp(-abs(a)),
    # tanh's form loses the tail below -37 (1 + tanh rounds to 0); there e^a is sigmoid to 1e-13
    "sigmoid": lambda env, a: 0.5 * (1 + math.tanh(a / 2)) if a > -30 else math.exp(a),
    "softplus": lambda env, a: math.log1p(math.exp(a)) if a < 30 else a + math.exp(-a),
    "relu": _relu,
    "abs": _abs,
    "sign": _sign,
    "step": _step,
    "max": _max,
    "min": _min,
    # added with issue 13
    "asinh": lambda env, a: math.asinh(a),
    "acosh": _acosh,
    "atanh": _atanh,
    "atan2": _atan2,
    "hypot": _hypot,
    "log1p": lambda env, a: math.log1p(a),
    "expm1": lambda env, a: math.expm1(a),
    "erf": lambda env, a: math.erf(a),
    "erfc": lambda env, a: math.erfc(a),
    "cbrt": _cbrt,
    "silu": lambda env, a: a * REFERENCE["sigmoid"](env, a),
    "gelu": lambda env, a: 0.5 * a * math.erfc(-a / math.sqrt(2)),
    "softsign": _softsign,
    "elu": _elu,
    "leaky_relu": _leaky_relu,
    "floor": _floor,
    "ceil": _ceil,
    "sec": lambda env, a: 1 / math.cos(a),
    "csc": lambda env, a: 1 / math.sin(a),
    "cot": lambda env, a: math.cos(a) / math.sin(a),
}

SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def _leaf(text: str, value):
    return text, (lambda env, v=value: v(env) if callable(v) else v)


def numbers(wide: bool = True):
    """Number literals as a user types them: small ones, many digits, tiny and huge ones, pi and e."""
    small = st.integers(-9, 9).map(lambda k: k / 4)
    choices = [small, small, small, st.sampled_from([0.5, 2.0, 3.0, 1.0])]
    if wide:
        choices += [
            st.floats(-10, 10, allow_nan=False, allow_infinity=False),  # all 17 digits
            st.floats(allow_nan=False, allow_infinity=False),  # tiny, subnormal and huge
            st.sampled_from([5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e-300, 1e300, -0.0]),
        ]

    def text(c: float) -> tuple:
        body = number_text(abs(c))
        # a negative number is a unary minus in front of an unsigned literal, as the grammar reads it
        return (f"(-{body})" if math.copysign(1.0, c) < 0 else body), c

    literals = st.one_of(*choices).map(text).map(lambda tc: _leaf(*tc))
    constants = st.sampled_from([("pi", math.pi), ("e", math.e)]).map(lambda tc: _leaf(*tc))
    return literals | constants


def leaves(wide: bool = True):
    variables = st.sampled_from(NAMES).map(lambda n: (n, lambda env, n=n: env[n]))
    return st.one_of(variables, variables, variables, numbers(wide))  # mostly variables


def extend(children):
    def call(name: str, arity: int):
        f = REFERENCE[name]
        spec = ops.OPS[name]
        args = st.lists(children, min_size=arity, max_size=3 if spec.variadic else arity)

        def build(parts):
            texts = [p[0] for p in parts]
            refs = [p[1] for p in parts]
            if spec.symbol is None:
                text = f"{name}({', '.join(texts)})"
            elif spec.arity == 1:
                text = f"-({texts[0]})"
            else:
                text = f"({texts[0]}) {SYMBOLS[name]} ({texts[1]})"

            def reference(env, refs=refs):
                values = [r(env) for r in refs]
                out = values[0]
                for v in values[1:] if arity == 2 else ():  # variadic calls fold from the left
                    out = f(env, out, v)
                return out if arity == 2 else f(env, out)

            return text, reference

        return args.map(build)

    unary_minus_chain = st.tuples(children, st.integers(1, 4)).map(
        lambda ak: ("-" * ak[1] + f"({ak[0][0]})", lambda env, ak=ak: (-1) ** ak[1] * ak[0][1](env))
    )
    power_spelling = st.tuples(children, children).map(  # x**y is x^y; the exponent is right-associative
        lambda ab: (f"({ab[0][0]})**({ab[1][0]})", lambda env, ab=ab: _pow(env, ab[0][1](env), ab[1][1](env)))
    )
    log_base = st.tuples(children, children).map(  # sugar: log(x, b) is log(x) / log(b)
        lambda ab: (f"log({ab[0][0]}, {ab[1][0]})",
                    lambda env, ab=ab: _div(_log(ab[0][1](env)), _log(ab[1][1](env))))
    )
    return st.one_of(*[call(name, op.arity) for name, op in ops.OPS.items()],
                     unary_minus_chain, power_spelling, log_base)


def expressions(wide: bool = True, max_leaves: int = 10):
    return st.recursive(leaves(wide), extend, max_leaves=max_leaves)


def run(reference, env: dict) -> tuple[float, list[float]]:
    """The reference's value at env and the distances to the kinks it crossed."""
    env = dict(env, _kinks=[])
    value = reference(env)
    return value, env["_kinks"]


def points(low: float = -3.0, high: float = 3.0, moderate: bool = False):
    """Points in a box; moderate: every coordinate 0 or at least 0.1 in size (second derivatives computed by
    the chain rule cancel catastrophically near 0: x/sin(x) at 1e-38 has terms of 1e76 that sum to 1/3)."""
    coordinate = st.floats(low, high, allow_nan=False)
    if moderate:  # drawn from the two sides directly, not filtered (a filter that rejects a lot fails a health check)
        coordinate = st.floats(max(low, 0.1), high) | st.floats(low, min(high, -0.1))
    coordinate = coordinate | st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0])
    return st.fixed_dictionaries({n: coordinate for n in NAMES})
