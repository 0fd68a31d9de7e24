"""Every entry of the op table, checked against independent references.

For each operation: the forward against SymPy's value, each derivative rule
against SymPy's derivative and against central finite differences, at points
inside its domain and away from its kinks.  A new entry without a reference
here fails test_every_op_has_a_reference.
"""

import ast
import math

import pytest
import sympy as sp

from autodiff_cli import ops
from autodiff_cli.engine import Value

X, Y = sp.symbols("x y", real=True)

# The SymPy expression for each op, and points (x, [y]) to check it at.
REFERENCE = {
    "add": (X + Y, [(1.5, -0.25), (-3.0, 2.0)]),
    "sub": (X - Y, [(1.5, -0.25), (-3.0, 2.0)]),
    "mul": (X * Y, [(1.5, -0.25), (-3.0, 2.0)]),
    "div": (X / Y, [(1.5, -0.25), (-3.0, 2.0)]),
    "neg": (-X, [(1.5,), (-0.3,)]),
    "pow": (X**Y, [(1.5, -0.25), (2.0, 3.0), (0.7, 2.5)]),
    "exp": (sp.exp(X), [(0.3,), (-2.0,), (5.0,)]),
    "log": (sp.log(X), [(0.3,), (7.0,)]),
    "log2": (sp.log(X, 2), [(0.3,), (7.0,)]),
    "log10": (sp.log(X, 10), [(0.3,), (7.0,)]),
    "sqrt": (sp.sqrt(X), [(0.3,), (7.0,)]),
    "sin": (sp.sin(X), [(0.3,), (-2.0,)]),
    "cos": (sp.cos(X), [(0.3,), (-2.0,)]),
    "tan": (sp.tan(X), [(0.3,), (-1.2,)]),
    "asin": (sp.asin(X), [(0.3,), (-0.9,)]),
    "acos": (sp.acos(X), [(0.3,), (-0.9,)]),
    "atan": (sp.atan(X), [(0.3,), (-4.0,)]),
    "sinh": (sp.sinh(X), [(0.3,), (-2.0,)]),
    "cosh": (sp.cosh(X), [(0.3,), (-2.0,)]),
    "tanh": (sp.tanh(X), [(0.3,), (-2.0,)]),
    "sech": (sp.sech(X), [(0.3,), (-2.0,)]),
    "sigmoid": (1 / (1 + sp.exp(-X)), [(0.3,), (-2.0,), (6.0,)]),
    "softplus": (sp.log(1 + sp.exp(X)), [(0.3,), (-2.0,), (6.0,)]),
    "relu": (sp.Max(X, 0), [(0.3,), (-2.0,)]),
    "abs": (sp.Abs(X), [(0.3,), (-2.0,)]),
    "sign": (sp.sign(X), [(0.3,), (-2.0,)]),
    "step": (sp.Heaviside(X), [(0.3,), (-2.0,)]),
    "max": (sp.Max(X, Y), [(1.5, -0.25), (-3.0, 2.0)]),
    "min": (sp.Min(X, Y), [(1.5, -0.25), (-3.0, 2.0)]),
    # added with issue 13: each one table entry, checked here like the others
    "asinh": (sp.asinh(X), [(0.3,), (-4.0,)]),
    "acosh": (sp.acosh(X), [(1.5,), (7.0,)]),
    "atanh": (sp.atanh(X), [(0.3,), (-0.9,)]),
    "atan2": (sp.atan2(X, Y), [(1.5, -0.25), (-3.0, 2.0), (0.5, 0.7)]),  # atan2(y, x): y first
    "hypot": (sp.sqrt(X**2 + Y**2), [(1.5, -0.25), (-3.0, 2.0)]),
    "log1p": (sp.log(1 + X), [(0.3,), (-0.5,)]),
    "expm1": (sp.exp(X) - 1, [(0.3,), (-2.0,)]),
    "erf": (sp.erf(X), [(0.3,), (-2.0,)]),
    "erfc": (sp.erfc(X), [(0.3,), (-2.0,), (4.0,)]),
    "cbrt": (sp.sign(X) * sp.Abs(X) ** sp.Rational(1, 3), [(0.3,), (-2.0,)]),
    "silu": (X / (1 + sp.exp(-X)), [(0.3,), (-2.0,), (6.0,)]),
    "gelu": (X * (1 + sp.erf(X / sp.sqrt(2))) / 2, [(0.3,), (-2.0,), (6.0,)]),
    "softsign": (X / (1 + sp.Abs(X)), [(0.3,), (-2.0,)]),
    "elu": (sp.Piecewise((X, X > 0), (sp.exp(X) - 1, True)), [(0.3,), (-2.0,)]),
    "leaky_relu": (sp.Piecewise((X, X > 0), (Y * X, True)), [(1.5, 0.01), (-3.0, 0.2)]),
    # SymPy cannot differentiate floor: by hand, the constant pieces around the points (derivative 0)
    "floor": (sp.Piecewise((-3, X < -2), (0, X < 1), (1, True)), [(0.3,), (-2.5,), (0.99,)]),
    "ceil": (sp.Piecewise((-2, X < -2), (1, X < 1), (2, True)), [(0.3,), (-2.5,), (0.99,)]),
    "sec": (sp.sec(X), [(0.3,), (-2.0,)]),
    "csc": (sp.csc(X), [(0.3,), (-2.0,)]),
    "cot": (sp.cot(X), [(0.3,), (-2.0,)]),
}

CASES = [(name, point) for name, (_, points) in REFERENCE.items() for point in points]


def _engine(name, point):
    """Value and gradient of one op at a point, by the engine."""
    leaves = [Value(v) for v in point]
    out = Value.apply(name, *leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def test_every_op_has_a_reference():
    assert set(REFERENCE) == set(ops.OPS)


def test_every_formula_parses_and_uses_only_the_table():
    for op in ops.functions():
        assert len(op.grad_trees) == op.arity  # parse_formula checked names and node types


@pytest.mark.parametrize(("name", "point"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_against_sympy(name, point):
    expr, _ = REFERENCE[name]
    symbols = [X, Y][: len(point)]
    subs = dict(zip(symbols, point, strict=True))
    value, grads = _engine(name, point)
    assert value == pytest.approx(float(expr.subs(subs).evalf(30)), rel=1e-14, abs=1e-300)
    for symbol, grad in zip(symbols, grads, strict=True):
        expected = float(sp.diff(expr, symbol).subs(subs).evalf(30))
        assert grad == pytest.approx(expected, rel=1e-13, abs=1e-300), f"d{name}/d{symbol}"


@pytest.mark.parametrize(("name", "point"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_against_central_differences(name, point):
    op = ops.OPS[name]
    _, grads = _engine(name, point)
    for i, grad in enumerate(grads):
        h = 1e-6 * max(1.0, abs(point[i]))
        up = list(point)
        down = list(point)
        up[i] += h
        down[i] -= h
        numeric = (op.fn(*up) - op.fn(*down)) / (2 * h)
        assert grad == pytest.approx(numeric, rel=1e-6, abs=1e-8), f"d{name}/d arg {i}"


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_derivative_of_derivative_rules_on_values(name):
    """The same formula evaluated on Values builds a graph whose value is the float rule's."""
    from autodiff_cli.engine import apply_formula

    op = ops.OPS[name]
    point = REFERENCE[name][1][0]
    leaves = [Value(v) for v in point]
    out = Value.apply(name, *leaves)
    env = dict(zip(ops.ARG_NAMES, leaves, strict=False)) | {ops.RESULT_NAME: out}
    _, grads = _engine(name, point)
    for i, tree in enumerate(op.grad_trees):
        local = apply_formula(tree, env, Value.apply)
        assert local.data == pytest.approx(grads[i], rel=1e-15, abs=1e-300)


def test_pow_exponent_derivative_is_skipped_for_constants():
    # x^2 at x = -3: the exponent's derivative would need log(-3); the constant 2 needs none
    x = Value(-3.0)
    y = x**2
    y.backward()
    assert x.grad == -6.0


def test_pow_exponent_derivative_for_a_variable_negative_base_is_an_error():
    from autodiff_cli.errors import MathError

    x, n = Value(-3.0), Value(2.0)
    y = x**n
    with pytest.raises(MathError) as info:
        y.backward()
    assert info.value.op == "pow"


def test_number_text_round_trips():
    for x in [0.1, 1 / 3, 2.0, -0.0, 1e300, 5e-324, 123456789012345.0, 1e16, -7.25]:
        assert float(ops.number_text(x)) == x
    assert ops.number_text(2.0) == "2"
    assert ops.number_text(-0.0) == "-0.0"


def test_saturating_forwards_do_not_overflow():
    assert ops.OPS["sech"].fn(800.0) == 0.0
    assert ops.OPS["sigmoid"].fn(-800.0) == 0.0
    assert ops.OPS["sigmoid"].fn(800.0) == 1.0
    assert ops.OPS["softplus"].fn(800.0) == 800.0
    assert ops.OPS["softplus"].fn(-800.0) == 0.0
    assert math.isclose(ops.OPS["softplus"].fn(0.0), math.log(2.0), rel_tol=1e-15)


@pytest.mark.parametrize(("name", "point"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_forward_mode_against_sympy(name, point):
    """Dual numbers, seeded along each argument in turn, give SymPy's partial derivatives."""
    from autodiff_cli.dual import Dual

    expr, _ = REFERENCE[name]
    symbols = (X, Y)[: len(point)]
    subs = dict(zip(symbols, point, strict=True))
    for i, symbol in enumerate(symbols):
        duals = [Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(point)]
        out = Dual.apply(name, *duals)
        assert math.isclose(out.data, float(expr.subs(subs)), rel_tol=1e-12, abs_tol=1e-15)
        reference = sp.diff(expr, symbol).subs(subs)
        if name in ("relu", "abs", "sign", "step", "max", "min"):
            reference = reference.rewrite(sp.Piecewise).subs(sp.DiracDelta(0), 0)
        assert math.isclose(out.tangent, float(reference), rel_tol=1e-12, abs_tol=1e-15), (name, i)


@pytest.mark.parametrize("name", list(ops.OPS))
def test_rule_names_are_the_names_the_generated_rule_reads(name):
    # rule_names reads the table's parsed trees (start-up); parsing the generated Python tells independently
    op = ops.OPS[name]
    for i in range(op.arity):
        source = op.rule_python(i, {n: n for n in ("x", "y", "out")}, lambda f: f"_f_{f}")
        read = {n.id for n in ast.walk(ast.parse(source, mode="eval")) if isinstance(n, ast.Name)}
        names = op.rule_names(i)
        assert {n for n in read if not n.startswith("_f_")} == {n for n in names if n in ("x", "y", "out")}
        assert {n[3:] for n in read if n.startswith("_f_")} == {n for n in names if n in ops.OPS}
        assert set(ops.float_namespace(names)) == {n for n in read if n.startswith("_f_")}
