"""The NumPy backend's kernels against NumPy's own semantics, hand values and the scalar engine.

Every op of the table, forward and derivative, is compared element by element with the scalar
engine (op.evaluate, rulecode.products / careful.times as engine.gradient_term multiplies) on
random points of its domain and on the tails; errors name the first bad element in row-major order.
"""

from __future__ import annotations

import math
import random

import pytest

np = pytest.importorskip("numpy")

from autodiff_cli import careful, ops, rulecode  # noqa: E402
from autodiff_cli.errors import MathError, UsageError  # noqa: E402
from autodiff_cli.tensor.backends import get  # noqa: E402

B = get("numpy")
OPS = ops.OPS


def arr(values, shape=None) -> np.ndarray:
    a = np.array(values, dtype=np.float64)
    return a if shape is None else a.reshape(shape)


def ulps(a: float, b: float) -> float:
    """How many units in the last place a and b differ by (0 for equal, signed zeros equal)."""
    if a == b:
        return 0.0
    return abs(a - b) / math.ulp(max(abs(a), abs(b)))


def scalar_term(op, i, args, out, g) -> float:
    """g * d out / d arg_i at one element as engine.gradient_term computes it."""
    try:
        d = rulecode.products(op)[i](*args, out, g)
        if math.isfinite(d):
            return d
    except (ArithmeticError, ValueError):
        pass
    return careful.times(args, out, i, op, g)


# -- elementwise: hand values and errors ----------------------------------------------------------


def test_apply_broadcasts_as_numpy():
    a = arr([[1.0], [2.0], [3.0]])
    b = arr([10.0, 20.0, 30.0, 40.0])
    r = B.apply(OPS["add"], [a, b])
    assert r.shape == (3, 4) and r.tolist() == (a + b).tolist()


def test_broadcast_failure_names_both_shapes():
    with pytest.raises(UsageError, match=r"shapes \(3,\) and \(4,\) cannot be broadcast together"):
        B.apply(OPS["mul"], [arr([1, 2, 3]), arr([1, 2, 3, 4])])


def test_error_names_the_first_bad_element_in_row_major_order():
    x = arr([[1.0, 2.0], [3.0, 4.0], [-0.5, -2.0]])
    with pytest.raises(MathError) as info:
        B.apply(OPS["log"], [x])
    assert info.value.op == "log"
    assert info.value.message == "element [2, 0]: log(-0.5) is undefined: log needs a positive number"


def test_overflow_error_is_the_scalar_engines():
    with pytest.raises(MathError) as info:
        B.apply(OPS["exp"], [arr([1.0, 800.0])])
    assert info.value.message == "element [1]: overflow: exp(800) is too large for a double"


def test_derivative_without_a_value_names_the_element():
    x = arr([4.0, 0.0])
    with pytest.raises(MathError) as info:
        B.derivative(OPS["sqrt"], 0, [x], arr([2.0, 0.0]), arr([1.0, 1.0]))
    assert info.value.message == "element [1]: no derivative: sqrt(0) is not differentiable"


# -- every op of the table against the scalar engine ----------------------------------------------


def close(got: float, want: float, g: float = 0.0) -> bool:
    """Within 4 ulps, or (where a rule's terms cancel: gelu' near its zero) within 4 ulps of the scale g."""
    return ulps(got, want) <= 4 or abs(got - want) <= 4 * math.ulp(abs(g))


def domain_points(op, rnd: random.Random, count: int) -> list[tuple[list[float], float, float, list[float]]]:
    """(arguments, out, g, g * d out / d arg_i) at random points where the scalar engine has all of them.

    Half the points in [-3, 3], half spread over magnitudes from 1e-10 to 1e3, either sign.
    """
    rows = []
    while len(rows) < count:
        args = [rnd.uniform(-3, 3) if rnd.random() < 0.5 else rnd.choice((-1, 1)) * 10 ** rnd.uniform(-10, 3)
                for _ in range(op.arity)]
        if op.name == "pow" and args[0] < 0:
            args[1] = float(round(args[1]))  # a negative base needs a whole exponent
        try:
            out = op.evaluate(*args)
            g = rnd.uniform(-2, 2)
            terms = [scalar_term(op, i, args, out, g) for i in range(op.arity)]
        except MathError:
            continue
        if all(math.isfinite(t) for t in terms):
            rows.append((args, out, g, terms))
    return rows


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_agrees_with_the_scalar_engine(name):
    op = OPS[name]
    rows = domain_points(op, random.Random(name), 400)
    cols = [arr([r[0][k] for r in rows]) for k in range(op.arity)]
    got = B.apply(op, cols)
    assert got.dtype == np.float64 and got.shape == (len(rows),)
    for k, r in enumerate(rows):
        assert ulps(got[k], r[1]) <= 4, (name, r[0], got[k], r[1])
    outs, gs = arr([r[1] for r in rows]), arr([r[2] for r in rows])
    for i in range(op.arity):
        d = B.derivative(op, i, cols, outs, gs)
        assert d.shape == (len(rows),)
        for k, r in enumerate(rows):
            assert close(d[k], r[3][i], r[2]), (name, i, r[0], d[k], r[3][i])


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_runs_on_a_2d_array_broadcast_with_a_row(name):
    op = OPS[name]
    rows = domain_points(op, random.Random(f"2d {name}"), 12)
    if op.arity == 1:
        x = arr([r[0][0] for r in rows], (3, 4))
        got = B.apply(op, [x])
        assert got.shape == (3, 4)
        assert all(ulps(a, op.evaluate(v)) <= 4 for a, v in zip(got.ravel().tolist(), x.ravel().tolist(), strict=True))
        return
    # y a row of 4 stretched over 3 rows: pick points whose y is the row's
    x = arr([r[0][0] for r in rows], (3, 4))
    y = arr([r[0][1] for r in rows[:4]])
    want = []
    for row in x.tolist():
        line = []
        for a, b in zip(row, y.tolist(), strict=True):
            try:
                line.append(op.evaluate(a, b))
            except MathError:
                return  # a point outside the domain after the regrouping: covered by the errors' tests
        want.append(line)
    got = B.apply(op, [x, y])
    assert got.shape == (3, 4)
    assert all(ulps(a, b) <= 4 for a, b in zip(got.ravel().tolist(), [v for line in want for v in line], strict=True))


TAILS = [("log1p", 1e-20), ("expm1", 1e-20), ("erfc", 10.0), ("gelu", -40.0), ("gelu", 40.0), ("sigmoid", -40.0),
         ("sigmoid", 800.0), ("sech", 800.0), ("tanh", 30.0), ("tanh", -800.0), ("softplus", 800.0),
         ("softplus", -800.0), ("elu", -800.0), ("silu", -800.0), ("exp", -800.0), ("atan", 1e200)]


@pytest.mark.parametrize(("name", "x"), TAILS)
def test_tails_keep_their_digits(name, x):
    op = OPS[name]
    got = B.apply(op, [arr([x])])[0]
    want = op.evaluate(x)
    assert ulps(got, want) <= 2
    d = B.derivative(op, 0, [arr([x])], arr([want]), arr([1.0]))[0]
    assert ulps(d, scalar_term(op, 0, [x], want, 1.0)) <= 2


def test_tail_values_by_hand():
    one = arr([1.0])
    assert B.apply(OPS["log1p"], [arr([1e-20])])[0] == 1e-20
    assert ulps(B.apply(OPS["erfc"], [arr([10.0])])[0], 2.0884875837625446e-45) <= 2
    assert ulps(B.apply(OPS["sigmoid"], [arr([-40.0])])[0], 4.248354255291589e-18) <= 2
    assert B.apply(OPS["sech"], [arr([800.0])])[0] == 0.0
    # tanh'(30) = sech(30)^2 = 4 e^-60, not 1 - tanh(30)^2 = 0
    assert ulps(B.derivative(OPS["tanh"], 0, [arr([30.0])], one, one)[0], 4 * math.exp(-60.0)) <= 4


# -- conventions at kinks (PyTorch's) ---------------------------------------------------------------


def test_conventions_at_kinks():
    zero, one = arr([0.0]), arr([1.0])
    assert B.derivative(OPS["relu"], 0, [zero], zero, one).tolist() == [0.0]
    assert B.derivative(OPS["abs"], 0, [zero], zero, one).tolist() == [0.0]
    assert B.derivative(OPS["elu"], 0, [zero], zero, one).tolist() == [1.0]
    assert B.derivative(OPS["leaky_relu"], 0, [zero, arr([0.2])], zero, one).tolist() == [0.2]
    for name in ("max", "min"):  # a tie splits the gradient evenly
        assert B.derivative(OPS[name], 0, [arr([3.0]), arr([3.0])], arr([3.0]), arr([2.0])).tolist() == [1.0]
        assert B.derivative(OPS[name], 1, [arr([3.0]), arr([3.0])], arr([3.0]), arr([2.0])).tolist() == [1.0]
    # pow: d/dy of 0^y is 0 for y >= 0 (0^y is 0 or 1); d/dx of x^0 is 0, even at x = 0
    x, y = arr([0.0, 0.0, 2.0, 0.0]), arr([0.0, 2.5, 3.0, 1.0])
    out = B.apply(OPS["pow"], [x, y])
    assert out.tolist() == [1.0, 0.0, 8.0, 0.0]
    assert B.derivative(OPS["pow"], 1, [x, y], out, arr([1, 1, 1, 1])).tolist() == [0.0, 0.0, 8 * math.log(2), 0.0]
    assert B.derivative(OPS["pow"], 0, [x, y], out, arr([1, 1, 1, 1])).tolist() == [0.0, 0.0, 12.0, 1.0]


def test_pow_exponent_derivative_only_when_asked():
    x, y = arr([-2.0, 3.0]), arr([2.0, 2.0])  # (-2)^2 has a base derivative but no exponent derivative
    out = B.apply(OPS["pow"], [x, y])
    assert B.derivative(OPS["pow"], 0, [x, y], out, arr([1.0, 1.0])).tolist() == [-4.0, 6.0]
    with pytest.raises(MathError) as info:
        B.derivative(OPS["pow"], 1, [x, y], out, arr([1.0, 1.0]))
    assert info.value.message == "element [0]: no derivative: (-2)^2 is not differentiable with respect to its exponent"


# -- errors: the scalar engine's, at the first bad element ---------------------------------------------


def test_domain_error_in_a_broadcast_names_the_element_of_the_result():
    x = arr([[2.0], [-8.0]])  # (2, 1) with (3,): the result is (2, 3)
    y = arr([2.0, 0.5, 3.0])
    with pytest.raises(MathError) as info:
        B.apply(OPS["pow"], [x, y])
    assert info.value.op == "pow"
    assert info.value.message == "element [1, 1]: (-8)^0.5 is undefined: a negative base needs a whole exponent"


def test_division_by_zero_and_the_first_of_several():
    with pytest.raises(MathError) as info:
        B.apply(OPS["div"], [arr([1.0, 2.0, 3.0, 4.0], (2, 2)), arr([1.0, 0.0, 0.0, 1.0], (2, 2))])
    assert info.value.message == "element [0, 1]: division by zero: 2 / 0"


def test_derivative_overflow_is_an_error_never_inf():
    x = arr([1.0, 1e-300])
    with pytest.raises(MathError) as info:
        B.derivative(OPS["log"], 0, [x], B.apply(OPS["log"], [x]), arr([1.0, 1e10]))
    assert info.value.op == "log"
    assert info.value.message == "element [1]: overflow: the gradient of log(1e-300) is too large for a double"


def test_an_intermediate_overflow_gives_the_careful_number():
    # x^x at x = 1e-310: y * x^(y-1) overflows in doubles, the derivative is a number (careful.py)
    x = arr([1e-310, 2.0])
    out = B.apply(OPS["pow"], [x, x])
    d = B.derivative(OPS["pow"], 0, [x, x], out, arr([1.0, 1.0]))
    assert np.isfinite(d).all()
    assert d[0] == careful.times([1e-310, 1e-310], out[0], 0, OPS["pow"], 1.0)
    assert d[1] == 4.0


def test_nothing_warns_and_nothing_is_nan(recwarn):
    with pytest.raises(MathError):
        B.apply(OPS["exp"], [arr([1000.0])])
    assert B.apply(OPS["sigmoid"], [arr([-1000.0, 1000.0])]).tolist() == [0.0, 1.0]
    assert len(recwarn) == 0


# -- the translation: printable, vectorised, and a new table entry works -----------------------------


def test_sources_are_printable_numpy():
    from autodiff_cli.tensor.backends import numpy_rules

    sigmoid = numpy_rules.forward_source("sigmoid")
    assert "np.where(" in sigmoid and "np.exp(" in sigmoid and "math." not in sigmoid
    assert numpy_rules.forward_source("asin").endswith("return np.arcsin(x)\n")
    assert "np.where((x == 0.0) & (y >= 0.0), 0.0, out * _np_log(x))" in numpy_rules.derivative_source("pow", 1)
    assert "g / x" in numpy_rules.derivative_source("log", 0)  # times_python's form: g divided, not g * (1 / x)
    assert "~(x > 0.0)" in numpy_rules.undefined_source("log")
    for op in OPS.values():  # NumPy has every function but erf and erfc
        per_element = "_math_" in numpy_rules.forward_source(op) or "_table_" in numpy_rules.forward_source(op)
        assert per_element == (op.name in ("erf", "erfc", "gelu")), op.name


def test_erf_runs_math_erf_on_each_element():
    from autodiff_cli.tensor.backends import numpy_rules

    assert "_math_erf(x)" in numpy_rules.forward_source("erf")
    x = arr([-2.0, -0.1, 0.0, 0.5, 3.0])
    assert B.apply(OPS["erf"], [x]).tolist() == [math.erf(v) for v in x.tolist()]


def test_a_new_table_entry_works_on_arrays():
    cube = ops.Op("cube", 1, "x * x * x", ("3 * x * x",), "x^3")
    # statements, a call of the table and a domain where the forward has a value: the domain still decides
    halfroot = ops.Op(
        "halfroot", 1,
        """
        if x > 4.0:
            return 0.5 * sqrt(x)
        h = x / 2.0
        return h
        """,
        ("0.5",), "half the square root past 4, else half", domain=(("x < -1", "{call} is odd"),),
    )
    with ops.extended(cube, halfroot) as table:
        x = arr([1.0, -2.0, 9.0])
        assert B.apply(table["cube"], [x]).tolist() == [1.0, -8.0, 729.0]
        assert B.derivative(table["cube"], 0, [x], x, arr([1.0, 1.0, 2.0])).tolist() == [3.0, 12.0, 486.0]
        assert B.apply(table["halfroot"], [arr([2.0, 16.0])]).tolist() == [1.0, 2.0]
        with pytest.raises(MathError) as info:
            B.apply(table["halfroot"], [arr([0.0, -3.0])])
        assert info.value.message == "element [1]: halfroot(-3) is odd"


def test_a_forward_the_translation_does_not_know_runs_element_by_element():
    from autodiff_cli.tensor.backends import numpy_rules

    halve = ops.Op("halve", 1, """
        while x > 10.0:
            x = x / 2.0
        return x
        """, ("0",), "halved until at most 10")
    with ops.extended(halve) as table:
        assert "_table_halve(x)" in numpy_rules.forward_source(table["halve"])
        assert B.apply(table["halve"], [arr([[3.0, 48.0], [100.0, -5.0]])]).tolist() == [[3.0, 6.0], [6.25, -5.0]]


def test_the_package_imports_without_numpy():
    import subprocess
    import sys

    script = """
import sys
sys.modules["numpy"] = None  # import numpy now fails, as where it is not installed
import autodiff_cli.tensor.backends as backends
from autodiff_cli.errors import UsageError
assert backends.available() == ["python"]
try:
    backends.get("numpy")
except UsageError as e:
    print(e)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == 'the numpy backend needs NumPy: pip install "autodiff[numpy]"'


EXTREMES = [-1.7976931348623157e308, -1e300, -710.0, -1.0, -5e-324, -0.0, 0.0, 5e-324, 0.5, 1.0, 710.0, 1e300,
            1.7976931348623157e308]


def test_results_said_to_stay_finite_do_on_extreme_arguments():
    from autodiff_cli.tensor.backends import numpy_bounds, numpy_rules

    grid = np.array(EXTREMES)
    for op in OPS.values():
        cols = [grid] if op.arity == 1 else list(np.meshgrid(grid, grid))
        with np.errstate(all="ignore"):
            if numpy_bounds.stays_finite(op):
                assert np.isfinite(numpy_rules.forward(op, np)(*cols)).all(), op.name
            for i in range(op.arity):
                rule = numpy_rules.derivative(op, i, np)
                if numpy_bounds.stays_finite(op, i) and rule is not None:
                    assert np.isfinite(rule(*cols, cols[0], cols[-1])).all(), (op.name, i)
    assert numpy_bounds.stays_finite(OPS["relu"]) and numpy_bounds.stays_finite(OPS["relu"], 0)
    assert not numpy_bounds.stays_finite(OPS["exp"]) and not numpy_bounds.stays_finite(OPS["mul"], 0)


def test_a_rule_of_one_passes_g_on():
    from autodiff_cli.tensor.backends import numpy_rules

    assert numpy_rules.derivative_source("add", 1).endswith("    return g\n")
    assert numpy_rules.derivative(OPS["add"], 1, np) is None
    g = arr([1.0, -2.0])
    assert B.derivative(OPS["sub"], 0, [g, g], g, g) is g  # sub's first argument: g itself, no copy
    assert B.derivative(OPS["sub"], 1, [g, g], g, g).tolist() == [-1.0, 2.0]


def test_the_quick_domain_test_agrees_with_the_table_element_by_element():
    from autodiff_cli.tensor.backends import numpy_rules

    rnd = random.Random(7)
    values = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0]
    for op in (op for op in OPS.values() if op.domain):
        quick = numpy_rules.any_undefined(op, np)
        for _ in range(30):
            args = [arr([rnd.choice(values) for _ in range(3)]) for _ in range(op.arity)]
            columns = [a.tolist() for a in args]
            want = any(op.domain_error(*point) is not None for point in zip(*columns, strict=True))
            assert quick(*args) == want, (op.name, columns)
        if op.arity == 2:  # a number as the second argument (x ** 2)
            assert quick(arr([1.0, 2.0]), arr(2.0)) is (op.domain_error(1.0, 2.0) is not None)
    assert "if not _every(x > 0.0):" in numpy_rules.any_undefined_source("log")


def test_whole_numbers_have_no_negative_zero():
    # float(math.floor(-0.0)) is 0.0 (an int made float), np.floor(-0.0) is -0.0: the translation adds 0.0
    for name in ("floor", "ceil"):
        got = B.apply(OPS[name], [arr([-0.0, -0.5, 0.5])])
        assert [math.copysign(1.0, v) for v in got.tolist()] == [math.copysign(1.0, OPS[name].evaluate(v))
                                                                 for v in (-0.0, -0.5, 0.5)]
