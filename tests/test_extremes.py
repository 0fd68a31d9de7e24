"""Derivatives at the extremes of the doubles (issue 12, §6-8), in every mode, against mpmath at 50 digits.

An intermediate of a derivative rule can leave the doubles where the derivative does
not: 1/(x*log(10)) at x = exp(709.7), 1/(1 + x*x) at x = 1e155, 1/exp(-710).  Each
case below is checked in reverse mode (`grad`), forward mode (`grad --mode forward`)
and the compiled batch path (`grad --input -`), against the derivative written by hand
and evaluated by mpmath at 50 digits at the very doubles the command reads.  Where
the derivative is not a double, every mode says the same words.
"""

from __future__ import annotations

import json
import math

import pytest

mp = pytest.importorskip("mpmath").mp
mp.dps = 50

from helpers import records, run  # noqa: E402

from autodiff_cli import ops, parse  # noqa: E402

OVERFLOW = "overflow: the derivative with respect to {} is too large for a double"
TINY = 2.2250738585072014e-308  # the smallest normal double: below it a number has fewer digits


def f(x: float):
    """The double x, exactly, as mpmath's number."""
    return mp.mpf(x)


def _three_modes(expr: str, point: dict[str, float]) -> list[tuple[str, int, object]]:
    """(mode, exit code, gradient dict or error message) for reverse, forward and batch."""
    args = [f"{k}={v!r}" for k, v in point.items()]
    found = []
    for mode, extra in (("reverse", []), ("forward", ["--mode", "forward"])):
        result = run("grad", expr, *args, *extra, "--json")
        body = json.loads(result.stdout)
        found.append((mode, result.exit_code, body["gradient"] if result.exit_code == 0 else body["error"]["message"]))
    result = run("grad", expr, "--input", "-", input=json.dumps(point) + "\n")
    (row,) = records(result.stdout)
    found.append(("batch", result.exit_code, row["gradient"] if "gradient" in row else row["error"]["message"]))
    return found


def _close(got: float, want, rel: float) -> bool:
    return abs(mp.mpf(got) - want) <= rel * abs(want) or (want == 0 and got == 0)


# (expression, point, d/d each variable by hand, relative tolerance).  The tolerance is a few ulps,
# looser (4e-15) where the derivative's way passes a subnormal double (1/exp(709.7) is 6e-309),
# which holds fewer digits in every double-precision autodiff.
FINITE = [
    # §6: silent zeros
    ("log10(exp(x))", {"x": 709.7}, {"x": lambda x: 1 / mp.log(10)}, 4e-15),
    ("1e300*atan(exp(x))", {"x": 400.0},
     {"x": lambda x: f(1e300) * mp.exp(x) / (1 + mp.exp(2 * x))}, 1e-15),
    ("atan(x)*1e300", {"x": 1e155}, {"x": lambda x: f(1e300) / (1 + x * x)}, 4e-15),
    # §7: false overflow errors, and paths that disagreed
    ("log(softplus(x))/3", {"x": -710.0},
     {"x": lambda x: mp.exp(x) / (1 + mp.exp(x)) / mp.log1p(mp.exp(x)) / 3}, 1e-15),
    ("0*log(x)", {"x": 1e-310}, {"x": lambda x: mp.mpf(0)}, 0.0),
    ("1e-10*log(x)", {"x": 1e-310}, {"x": lambda x: f(1e-10) / x}, 1e-15),
    ("2.5*log10(exp(x))", {"x": -710.5}, {"x": lambda x: 2.5 / mp.log(10)}, 4e-15),
    ("log(exp(x))", {"x": -710.0}, {"x": lambda x: mp.mpf(1)}, 1e-15),
    ("1e-300*log2(x)", {"x": 1e-323}, {"x": lambda x: f(1e-300) / (x * mp.log(2))}, 1e-15),
    # §8: an overflow inside pow's base rule, not a missing derivative
    ("x^x", {"x": 1e-310}, {"x": lambda x: x**x * (mp.log(x) + 1)}, 1e-15),
    ("1e-300*x^-0.5", {"x": 1e-310}, {"x": lambda x: f(1e-300) * -0.5 * x**-1.5}, 1e-15),
]


@pytest.mark.parametrize(("expr", "point", "derivatives", "rel"), FINITE, ids=[c[0] for c in FINITE])
def test_a_finite_derivative_comes_out_right_in_every_mode(expr, point, derivatives, rel):
    for mode, code, grads in _three_modes(expr, point):
        assert code == 0, (mode, grads)
        for name, d in derivatives.items():
            want = d(*(f(point[n]) for n in point if n == name))
            assert _close(grads[name], want, rel), (mode, name, grads[name], mp.nstr(want, 20))


def test_min_at_a_huge_point_is_the_same_in_every_mode():
    # min(x*sin(z*x), y) is y here (x*sin(z*x) is about 3.4e199): d/dy 1, the others 0; forward mode used to
    # carry x*x*cos(z*x) = inf into 0 * inf
    point = {"x": 1e200, "z": 0.5, "y": -2.0}
    assert float(f(1e200) * mp.sin(f(0.5) * f(1e200))) > -2
    for mode, code, grads in _three_modes("min(x*sin(z*x),y)", point):
        assert code == 0, (mode, grads)
        assert grads == {"x": 0.0, "z": 0.0, "y": 1.0}, mode


@pytest.mark.parametrize(("expr", "x"), [("x^-0.5", 1e-310), ("log(x)", 5e-324), ("1e10*log(x)", 1e-300)])
def test_a_derivative_too_large_for_a_double_is_called_an_overflow_in_every_mode(expr, x):
    for mode, code, message in _three_modes(expr, {"x": x}):
        assert code == 1, mode
        assert message == OVERFLOW.format("x"), mode


def test_a_point_without_a_derivative_is_still_called_so():
    for mode, code, message in _three_modes("sqrt(x)", {"x": 0.0}):
        assert (code, message) == (1, "no derivative: sqrt(0) is not differentiable"), mode


# -- every rule of the table at the extremes ------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


# d f / d x of every one-argument function, by hand, for mpmath
DERIVATIVES = {
    "neg": lambda x: -1,
    "exp": mp.exp, "expm1": mp.exp, "log": lambda x: 1 / x, "log2": lambda x: 1 / (x * mp.log(2)),
    "log10": lambda x: 1 / (x * mp.log(10)), "log1p": lambda x: 1 / (1 + x),
    "sqrt": lambda x: 1 / (2 * mp.sqrt(x)), "cbrt": lambda x: 1 / (3 * mp.cbrt(abs(x)) ** 2),
    "sin": mp.cos, "cos": lambda x: -mp.sin(x), "tan": lambda x: mp.sec(x) ** 2,
    "sec": lambda x: mp.sec(x) * mp.tan(x), "csc": lambda x: -mp.csc(x) * mp.cot(x), "cot": lambda x: -mp.csc(x) ** 2,
    "asin": lambda x: 1 / mp.sqrt(1 - x * x), "acos": lambda x: -1 / mp.sqrt(1 - x * x),
    "atan": lambda x: 1 / (1 + x * x),
    "sinh": mp.cosh, "cosh": mp.sinh, "tanh": lambda x: mp.sech(x) ** 2, "sech": lambda x: -mp.sech(x) * mp.tanh(x),
    "asinh": lambda x: 1 / mp.sqrt(x * x + 1), "acosh": lambda x: 1 / mp.sqrt(x * x - 1),
    "atanh": lambda x: 1 / (1 - x * x),
    "erf": lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x), "erfc": lambda x: -2 / mp.sqrt(mp.pi) * mp.exp(-x * x),
    "sigmoid": lambda x: _sigmoid(x) * _sigmoid(-x), "softplus": _sigmoid,
    "relu": lambda x: 1 if x > 0 else 0, "elu": lambda x: 1 if x > 0 else mp.exp(x),
    "silu": lambda x: _sigmoid(x) * (1 + x * _sigmoid(-x)),
    "gelu": lambda x: (mp.ncdf(x) if abs(x) < 1e6 else (1 if x > 0 else 0)) + x * mp.npdf(x),  # ncdf(1e300) fails
    "softsign": lambda x: 1 / (1 + abs(x)) ** 2, "abs": mp.sign,
    "sign": lambda x: 0, "step": lambda x: 0, "floor": lambda x: 0, "ceil": lambda x: 0,
}

MAGNITUDES = (1e-310, 1e-300, 1e-155, 1e-8, 0.5, 0.999999999, 20.0, 400.0, 709.7, 710.4, 1e155, 1e300)
POINTS = sorted({s * m for m in MAGNITUDES for s in (1.0, -1.0)})
# the gradient arriving at the function: 1, huge and tiny (c * f(x))
SCALES = (1.0, 1e300, 1e-300)


def test_the_audit_covers_every_one_argument_operation():
    unary = {op.name for op in ops.functions() if op.arity == 1}
    assert unary == set(DERIVATIVES)


def _expected(name: str, x: float, c: float) -> tuple[str, float | None]:
    """('value', the double nearest c * f'(x)) or ('overflow', None); ('skip', None) off the domain."""
    spec = ops.OPS[name]
    try:
        value = spec.evaluate(x)
    except ArithmeticError:
        return "skip", None
    if not math.isfinite(c * value):
        return "skip", None  # the value itself is too large for a double (1e300 * exp(20))
    d = mp.mpf(c) * DERIVATIVES[name](f(x))
    if abs(d) > mp.mpf(1.7976931348623157e308):
        return "overflow", None
    return "value", float(d)


def _agrees(got: float, want: float) -> bool:
    if abs(want) < TINY:  # the true value is below the normal doubles: it may come out 0 or with few digits
        return abs(got - want) <= TINY
    return math.isclose(got, want, rel_tol=1e-12)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_every_rule_at_huge_and_tiny_arguments(name, scale):
    """c * f(x) at arguments from 1e-310 to 1e300, each sign, in reverse, forward and batch mode."""
    text = f"{scale!r}*{name}(x)" if name != "neg" else f"{scale!r}*(-x)"
    expr = parse(text)
    cases = [(x, *_expected(name, x, scale)) for x in POINTS]
    cases = [c for c in cases if c[1] != "skip"]
    rows = "".join(json.dumps({"x": x}) + "\n" for x, *_ in cases)
    batch = records(run("grad", text, "--input", "-", input=rows).stdout)
    for (x, kind, want), row in zip(cases, batch, strict=True):
        for mode in ("reverse", "forward", "batch"):
            if mode == "batch":
                got, said = (None, row["error"]["message"]) if "error" in row else (row["gradient"]["x"], None)
            else:
                try:
                    got, said = expr.gradient({"x": x}, mode=mode)[1]["x"], None
                except ArithmeticError as error:
                    got, said = None, str(error)
            where = f"{text} at x={x!r}, {mode}"
            if kind == "overflow":
                assert said == OVERFLOW.format("x"), where
            else:
                assert said is None, (where, said, want)
                assert _agrees(got, want), (where, got, want)


def _half_or(a, b, first):
    """d max(a, b) / d a (first) or / d b: 1 for the larger, 0 for the other, 1/2 each at a tie."""
    if a == b:
        return mp.mpf(0.5)
    return 1 if (a > b) == first else 0


# d f / d x and d f / d y of every two-argument operation, by hand, for mpmath
PARTIALS = {
    "add": (lambda x, y: 1, lambda x, y: 1),
    "sub": (lambda x, y: 1, lambda x, y: -1),
    "mul": (lambda x, y: y, lambda x, y: x),
    "div": (lambda x, y: 1 / y, lambda x, y: -x / (y * y)),
    "pow": (lambda x, y: y * x ** (y - 1), lambda x, y: x**y * mp.log(x)),
    "hypot": (lambda x, y: x / mp.hypot(x, y), lambda x, y: y / mp.hypot(x, y)),
    "atan2": (lambda x, y: y / (x * x + y * y), lambda x, y: -x / (x * x + y * y)),
    "max": (lambda x, y: _half_or(x, y, True), lambda x, y: _half_or(x, y, False)),
    "min": (lambda x, y: _half_or(y, x, True), lambda x, y: _half_or(y, x, False)),
    "leaky_relu": (lambda x, y: 1 if x > 0 else y, lambda x, y: 0 if x > 0 else x),
}
PAIR_POINTS = (1e-310, -1e-300, 1e-155, 0.5, -3.0, 1e155, -1e300)
TEXT = {"add": "(x + y)", "sub": "(x - y)", "mul": "(x * y)", "div": "(x / y)", "pow": "(x ^ y)"}


# Batch mode keeps a compiled derivative that is a double, 0 included (checking every 0 again would send
# every row of relu(x) at x < 0 to the slow path): where a rule's own product falls below the doubles
# against a huge gradient (d/dy of 1e300*atan2(x, y) at x = 1e-155, y = 1e155 passes -x/h/h = 1e-465),
# the compiled code says 0 where grad (which checks zeros again) says -1e-165.  The audit allows batch
# mode that 0 for derivatives below 1e-100, and nothing else.
FAINT = 1e-100


def _batch_flushed(got: float, want: float) -> bool:
    return got == 0.0 and abs(want) < FAINT


def test_the_audit_covers_every_two_argument_operation():
    assert {op.name for op in ops.functions() if op.arity == 2} == set(PARTIALS)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("name", sorted(PARTIALS))
def test_every_two_argument_rule_at_huge_and_tiny_arguments(name, scale):
    text = f"{scale!r}*{TEXT.get(name, f'{name}(x, y)')}"
    expr = parse(text)
    cases = []
    for x in PAIR_POINTS:
        for y in PAIR_POINTS:
            if name == "pow" and x <= 0:
                continue  # a negative base: pow's conventions have their own tests
            try:
                value = ops.OPS[name].evaluate(x, y)
            except ArithmeticError:
                continue
            if not math.isfinite(scale * value):
                continue
            if abs(value) < TINY and name in ("mul", "div", "pow"):
                continue  # the value itself fell below the doubles (1e155^-3): its derivative follows it
            want = [mp.mpf(scale) * d(f(x), f(y)) for d in PARTIALS[name]]
            big = [n for n, w in zip("xy", want, strict=True) if abs(w) > mp.mpf(1.7976931348623157e308)]
            cases.append((x, y, big, [float(w) for w in want]))
    rows = "".join(json.dumps({"x": x, "y": y}) + "\n" for x, y, *_ in cases)
    batch = records(run("grad", text, "--input", "-", input=rows).stdout)
    for (x, y, big, want), row in zip(cases, batch, strict=True):
        for mode in ("reverse", "forward", "batch"):
            if mode == "batch":
                got, said = (None, row["error"]["message"]) if "error" in row else (row["gradient"], None)
            else:
                try:
                    got, said = expr.gradient({"x": x, "y": y}, mode=mode)[1], None
                except ArithmeticError as error:
                    got, said = None, str(error)
            where = f"{text} at x={x!r}, y={y!r}, {mode}"
            if big:
                assert said == OVERFLOW.format(big[0]), (where, said)
            else:
                assert said is None, (where, said, want)
                for name_, w in zip("xy", want, strict=True):
                    flushed = mode == "batch" and _batch_flushed(got[name_], w)
                    assert flushed or _agrees(got[name_], w), (where, got, want)
