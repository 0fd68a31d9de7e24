"""The compiler against the Value engine, finite differences and hand derivations; its code as text."""

import ast
import math
import random

import mpmath  # SymPy's own dependency (the test extra)
import pytest
from hypothesis import given
from test_properties import at_a_point, expressions, points, reliable_difference

from autodiff_cli import ops, parse
from autodiff_cli.compile import compile_expression, compile_graph
from autodiff_cli.engine import Value
from autodiff_cli.errors import MathError

BENCH = "sin(x)*exp(-y^2/2) + log(1+x^2*y^2) + sqrt(z^2+1)*tanh(x*y*z)"

# points where each operation is defined and differentiable, away from kinks
SAFE = {
    "log": (0.2, 3.0), "log2": (0.2, 3.0), "log10": (0.2, 3.0), "sqrt": (0.2, 3.0),
    "asin": (-0.9, 0.9), "acos": (-0.9, 0.9), "tan": (-1.2, 1.2), "pow": (0.3, 2.5),
    "log1p": (-0.9, 3.0), "acosh": (1.1, 3.0), "atanh": (-0.9, 0.9), "sec": (-1.2, 1.2), "csc": (0.2, 3.0),
    "cot": (0.2, 3.0), "cbrt": (0.2, 3.0),
}


def call_text(op, args=ops.ARG_NAMES):
    if op.symbol is None:
        return f"{op.name}({', '.join(args[: op.arity])})"
    return f"{op.symbol}{args[0]}" if op.arity == 1 else f"{args[0]} {op.symbol} {args[1]}"


def numeric_gradient(f, env):
    return {n: reliable_difference(f, env, n) for n in env}


@pytest.mark.parametrize("op", list(ops.functions()), ids=lambda op: op.name)
def test_every_operation_matches_the_engine_and_finite_differences(op):
    expr = parse(call_text(op))
    compiled = compile_expression(expr)
    lo, hi = SAFE.get(op.name, (-2.5, 2.5))
    rng = random.Random(op.name)
    for _ in range(25):
        env = {n: rng.uniform(lo, hi) for n in expr.variables}
        if op.name in ("floor", "ceil") and min(abs(v - round(v)) for v in env.values()) < 1e-3:
            continue  # a jump
        if op.name in ("max", "min", "relu", "abs", "sign", "step", "leaky_relu", "elu"):
            assume_apart = all(abs(v) > 1e-3 for v in env.values()) and abs(env["x"] - env.get("y", 1e9)) > 1e-3
            if not assume_apart:
                continue
        args = list(env.values())
        value, *grads = compiled.gradient(*args)
        reference, reference_grads = expr.gradient(env)
        assert value == reference  # the same float operations: bit for bit
        assert compiled.value(*args) == reference
        assert grads == pytest.approx(list(reference_grads.values()), rel=1e-13, abs=1e-300)
        f = lambda e: op.fn(*[e[n] for n in ops.ARG_NAMES[: op.arity]])  # noqa: E731
        numeric = numeric_gradient(f, env)
        for g, name in zip(grads, expr.variables, strict=True):
            assert g == pytest.approx(numeric[name], rel=1e-6, abs=1e-8), name


def test_the_benchmark_expressions_by_hand():
    x, y, z = 0.7, -1.3, 0.4
    value, dx, dy, dz = compile_expression(parse(BENCH)).gradient(x, y, z)
    e, s, u = math.exp(-y * y / 2), math.sqrt(z * z + 1), x * y * z
    sech2 = 1 / math.cosh(u) ** 2
    q = 1 + x * x * y * y
    assert value == pytest.approx(math.sin(x) * e + math.log(q) + s * math.tanh(u), rel=1e-15)
    assert dx == pytest.approx(math.cos(x) * e + 2 * x * y * y / q + s * sech2 * y * z, rel=1e-13)
    assert dy == pytest.approx(-y * math.sin(x) * e + 2 * x * x * y / q + s * sech2 * x * z, rel=1e-13)
    assert dz == pytest.approx(z / s * math.tanh(u) + s * sech2 * x * y, rel=1e-13)

    value, dw, dx, db = compile_expression(parse("tanh(w*x+b)")).gradient(-3.0, 2.0, 1.0)
    t = math.tanh(-5.0)
    assert (value, dw, dx, db) == pytest.approx((t, (1 - t * t) * 2, (1 - t * t) * -3, 1 - t * t), rel=1e-12)


@given(expressions, points)
def test_generated_expressions_match_the_engine(generated, env):
    expr, bindings, reference, reference_grads = at_a_point(generated, env)
    compiled = compile_expression(expr)
    value, *grads = compiled.gradient(*bindings.values())
    # x^2 is x*x here, correctly rounded, where the engine's C pow may be an ulp off
    assert value == pytest.approx(reference, rel=1e-13, abs=1e-13)
    scale = 1 + max([abs(g) for g in reference_grads.values()], default=0)
    assert grads == pytest.approx(list(reference_grads.values()), rel=1e-12, abs=1e-12 * scale)


def run_printed(source):
    """The printed module, exec'd on its own: nothing from autodiff in its namespace."""
    namespace = {}
    exec(compile(source, "<printed>", "exec"), namespace)  # the code under test
    return namespace


def test_printed_module_runs_on_its_own_and_agrees_with_finite_differences():
    expr = parse(BENCH)
    module = run_printed(compile_expression(expr).source)
    assert module["VARIABLES"] == ("x", "y", "z")
    assert module["EXPRESSION"] == BENCH
    tree = ast.parse(compile_expression(expr).source)
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [alias.name for node in imports for alias in node.names] == ["math"]
    env = {"x": 0.3, "y": 1.1, "z": -0.8}
    value, *grads = module["gradient"](*env.values())
    f = lambda e: module["value"](e["x"], e["y"], e["z"])  # noqa: E731
    numeric = numeric_gradient(f, env)
    assert value == expr.evaluate(env)
    assert grads == pytest.approx([numeric[n] for n in env], rel=1e-7)
    reference = expr.gradient(env)[1]
    assert grads == pytest.approx([reference[n] for n in env], rel=1e-14)


def test_every_helper_the_table_needs_can_be_printed():
    # each op at (0.3, 0.7), or (1.3, 0.7) where its domain needs it (acosh)
    text = " + ".join(call_text(op, ("a", "b") if op.domain_error(0.3, 0.7) is None else ("(a + 1)", "b"))
                      for op in ops.functions())
    expr = parse(text)
    module = run_printed(compile_expression(expr).source)
    value, *grads = module["gradient"](0.3, 0.7)
    reference, reference_grads = expr.gradient({"a": 0.3, "b": 0.7})
    assert value == reference
    assert grads == pytest.approx(list(reference_grads.values()), rel=1e-13)


# -- the code as text ---------------------------------------------------------------------------

ALLOWED = {"math", "s", "abs", "max", "min", "OverflowError", "float", "x", "y", "t"}


def names_in(source):
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}


def test_variable_names_are_data_never_code():
    nasty = ["__import__('os').system('echo hi')", '"""; raise SystemExit; """', "a\nimport os", "θ"]
    leaves = [Value(1.0 + i, name=n) for i, n in enumerate(nasty)]
    root = (leaves[0] * leaves[1] + leaves[2]).tanh() * leaves[3]
    compiled = compile_graph(root, leaves, names=nasty, text="whatever \"\"\" '''")
    tree = ast.parse(compiled.source)
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for name in nasty:
        assert name not in compiled.source.replace(repr(tuple(nasty)), "")
    assert tuple(nasty) == run_printed(compiled.source)["VARIABLES"]
    assert "whatever \"\"\" '''" in strings
    for name in names_in(compiled.source):
        assert name in ALLOWED or name.startswith(("_f_", "EXPRESSION", "VARIABLES", "WRT")) or (
            name[0] in "vtgh" and name.lstrip("gvth").isdigit()
        ), name


def test_shared_subexpressions_are_computed_once():
    source = compile_expression(parse("(w*x+b)*(w*x+b) + tanh(w*x+b)")).source
    forward = source.split("def gradient")[1]
    assert forward.count("v0 * v1") == 1
    assert forward.count("_f_tanh(") == 1
    value, dw, dx, db = compile_expression(parse("(w*x+b)*(w*x+b)")).gradient(2.0, 3.0, 1.0)
    assert (value, dw, dx, db) == (49.0, 2 * 7 * 3, 2 * 7 * 2, 2 * 7)


def test_constants_fold_and_a_constant_exponent_has_no_derivative():
    source = compile_expression(parse("x * (2 + 3) + log(x, 2)")).source
    assert "5.0" in source and "0.6931471805599453" in source
    assert "2.0 + 3.0" not in source
    cube = compile_expression(parse("x^3")).source
    assert "_f_log" not in cube
    assert compile_expression(parse("x^3")).gradient(-2.0) == (-8.0, 12.0)
    # only the gradients asked for: with respect to x, x^y needs no log of the base
    mixed = compile_expression(parse("x^y"), ["x"])
    assert "_f_log" not in mixed.source
    assert mixed.gradient(-2.0, 3.0) == (-8.0, 12.0)


@pytest.mark.parametrize(
    ("text", "args", "error"),
    [
        ("log(x)", (-1.0,), ValueError),
        ("1/x", (0.0,), ZeroDivisionError),
        ("exp(x)", (1000.0,), OverflowError),
        ("tanh(x*y)", (1e200, 1e200), OverflowError),  # inf in the middle, absorbed by tanh: still caught
        ("1/(x*y)", (1e200, 1e200), OverflowError),
        ("exp(-(x*y))", (1e200, 1e200), OverflowError),  # exp(-inf) is 0
        ("atan(log(x*y))", (1e200, 1e200), OverflowError),  # log keeps the inf, atan would hide it
        ("sqrt(x)", (0.0,), ZeroDivisionError),  # the value exists, the derivative does not
        ("x^y", (-8.0, 1 / 3), ValueError),
    ],
)
def test_math_errors_raise_where_the_engine_raises(text, args, error):
    expr = parse(text)
    with pytest.raises(error):
        compile_expression(expr).gradient(*args)
    with pytest.raises(MathError):
        expr.gradient(dict(zip(expr.variables, args, strict=True)))


@pytest.mark.parametrize(
    ("text", "args"), [("x*y - x*y", (1e200, 1e200)), ("x*y", (1e200, 1e200)), ("sqrt(log(x*y))", (1e200, 1e200))]
)
def test_a_result_that_overflows_comes_back_not_finite(text, args):
    value, *_ = compile_expression(parse(text)).gradient(*args)
    assert not math.isfinite(value)


def test_leaves_constants_and_empty_gradients():
    assert compile_expression(parse("x")).gradient(2.5) == (2.5, 1.0)
    assert compile_expression(parse("2*pi")).gradient() == (2 * math.pi,)
    assert compile_expression(parse("sign(x)")).gradient(3.0) == (1.0, 0.0)
    assert compile_expression(parse("x*y"), ["y", "x"]).gradient(2.0, 5.0) == (10.0, 2.0, 5.0)
    with pytest.raises(ValueError):
        compile_expression(parse("x"), ["q"])


def test_a_long_expression_compiles_without_recursion():
    text = "+".join(f"{k}*x" for k in range(1, 3001))
    value, dx = compile_expression(parse(text)).gradient(2.0)
    assert (value, dx) == (2.0 * 3000 * 3001 / 2, 3000 * 3001 / 2)
    # thousands of intermediates to check for a hidden overflow
    text = "+".join(f"tanh({k}*x+y)" for k in range(3000))
    compiled = compile_expression(parse(text))
    value, dx, dy = compiled.gradient(1e-3, 0.5)
    assert value == pytest.approx(sum(math.tanh(k * 1e-3 + 0.5) for k in range(3000)), rel=1e-13)
    assert dy == pytest.approx(sum(1 / math.cosh(k * 1e-3 + 0.5) ** 2 for k in range(3000)), rel=1e-12)
    with pytest.raises(OverflowError):
        compiled.gradient(1e305, 0.5)


KINKED = ["relu(x) + 2*x", "abs(x) + 2*x", "relu(x) - (1 + x)", "step(x)*x + sign(x) + relu(x)",
          "max(x, y) + x*y", "min(x, 2*y) - y", "abs(x*y) + relu(y) + x"]


@pytest.mark.parametrize("text", KINKED)
def test_kinked_functions_summed_with_other_terms_match_the_engine(text):
    # a kink's derivative is a conditional expression; added to another term it must stay whole
    expr = parse(text)
    compiled = compile_expression(expr)
    for x in (-1.5, -0.25, 0.5, 2.0):
        for y in (-0.75, 1.25):
            point = {"x": x, "y": y}
            args = [point[n] for n in compiled.variables]
            value, grads = expr.gradient({n: point[n] for n in expr.variables})
            got = compiled.gradient(*args)
            assert got[0] == value
            assert list(got[1:]) == [grads[n] for n in compiled.wrt], (text, point)


# -- faster code, same numbers ------------------------------------------------------------------


def ulps_from(got, true):
    """How many doubles apart got is from the exact value true (an mpmath number); subnormal spacing at the bottom."""
    return float(abs(mpmath.mpf(got) - true) / math.ulp(float(true)))


def tanh_points():
    rng = random.Random(20261126)
    spans = [(0.0, 1.0), (0.0, 30.0), (0.0, 800.0), (350.0, 380.0), (700.0, 760.0)]
    points = [rng.uniform(lo, hi) for lo, hi in spans for _ in range(400)]
    points += [math.ldexp(rng.random(), -rng.randint(1, 1070)) for _ in range(200)]  # down to subnormals
    points += [0.0, 1e-300, 0.5, 1.0, 19.0, 20.0, 355.0, 372.5, 373.0, 710.0, 710.4758600739439, 710.5, 745.2, 800.0]
    return [s * u for u in points for s in (1.0, -1.0)]


def test_tanh_derivative_is_within_a_few_ulps_of_the_true_value_for_every_u():
    # the rule "d tanh(u) = sech(u)^2 with sech(u) = 1/cosh(u), or 2 e^-|u| where cosh overflows",
    # against sech(u)^2 at 200 bits: 3.3 ulps at worst here, 3.9 on a wider sample (cosh's own error,
    # doubled by the square), as with the op table's exp(-|u|) form; 1 - tanh(u)^2 is 2^52 ulps off at u = 19
    mpmath.mp.prec = 200
    compiled = compile_expression(parse("tanh(u)"))
    worst = 0.0
    for u in tanh_points():
        value, derivative = compiled.gradient(u)
        assert value == math.tanh(u)
        worst = max(worst, ulps_from(derivative, mpmath.sech(mpmath.mpf(u)) ** 2))
    assert worst <= 4.5
    assert compiled.gradient(720.0) == (1.0, 0.0)  # cosh overflows; sech(720)^2 is below the smallest double
    assert math.isnan(compiled.gradient(math.nan)[1])


def test_tanh_derivative_through_a_graph_and_sech_read_from_the_forward_sweep():
    mpmath.mp.prec = 200
    compiled = compile_expression(parse("tanh(w*x+b)"))
    for w, x, b in [(-3.0, 2.0, 1.0), (1.0, 20.0, 0.0), (50.0, 7.5, -2.0), (-0.25, 0.5, 0.125)]:
        u = w * x + b
        _, dw, dx, db = compiled.gradient(w, x, b)
        assert ulps_from(db, mpmath.sech(mpmath.mpf(u)) ** 2) <= 4.5
        assert (dw, dx) == (db * x, db * w)
    both = compile_expression(parse("sech(x) + tanh(x)"))
    assert "_f_cosh" not in both.source  # the forward sweep has sech(x): the derivative reads it
    for x in (0.3, -2.0, 25.0):
        exact = -mpmath.sech(x) * mpmath.tanh(x) + mpmath.sech(x) ** 2
        assert both.gradient(x)[1] == pytest.approx(float(exact), rel=1e-14)


def test_values_stay_bit_identical_to_the_engine_with_temporaries_written_in_place():
    texts = [
        "(a*b + c*d - a/2) * (b - c) + tanh(a*b - d)",
        "sin(a)*exp(-b*b/2) + log(1+a*a*b*b) + sqrt(c*c+1)*tanh(a*b*c) - d",
        "-(a - b*c) * -(d + 1) + sigmoid(a*d) * relu(b - a) + max(a, b, c*d)",
    ]
    rng = random.Random(7)
    for text in texts:
        expr = parse(text)
        compiled = compile_expression(expr)
        for _ in range(200):
            env = {n: rng.uniform(-3.0, 3.0) for n in expr.variables}
            reference = expr.evaluate(env)
            assert compiled.value(*env.values()) == reference
            assert compiled.gradient(*env.values())[0] == reference
    source = compile_expression(parse(texts[0])).source
    assert "t2 + v2 * v3 - v0 / 2.0" in source  # c*d and a/2, read once, are written where they are read


def test_a_sum_of_large_finite_intermediates_is_not_an_overflow():
    # two checked intermediates near the largest double add up to inf: that alone is no error
    expr = parse("tanh(x*y) + tanh(x*z)")
    compiled = compile_expression(expr)
    env = {"x": 1e308, "y": 1.7, "z": 1.7}
    value, grads = expr.gradient(env)
    assert compiled.gradient(*env.values()) == (value, *grads.values()) == (2.0, 0.0, 0.0, 0.0)
    with pytest.raises(OverflowError):
        compiled.gradient(1e200, 1e200, 1.0)  # x*y is inf: tanh would hide it
    many = parse("+".join(f"tanh({k}*x+y)" for k in range(1, 20)))  # more checks than fit one sum
    assert compile_expression(many).gradient(9e306, 0.0) == (19.0, 0.0, 0.0)
    with pytest.raises(OverflowError):
        compile_expression(many).gradient(1e308, 0.0)


def test_derivative_products_are_rounded_once_and_not_recomputed():
    x, y = 2.7, -1.3
    value, dx, dy = compile_expression(parse("sqrt(x)*y")).gradient(x, y)
    assert dx == y / (2.0 * math.sqrt(x))  # y * (1 / (2 sqrt(x))) rounds twice
    source = compile_expression(parse("sin(x)*exp(y)")).source
    gradient = source.split("def gradient")[1]
    # sin(x)*exp(y) once for the value and reused as d/dy; cos(x)*exp(y) for d/dx
    assert gradient.count(" * ") == 2
    value, dx, dy = compile_expression(parse("sin(x)*exp(y)")).gradient(x, y)
    assert (value, dy) == (math.sin(x) * math.exp(y),) * 2
    assert dx == pytest.approx(math.cos(x) * math.exp(y), rel=1e-15)


def run_statements(statements, *args):
    namespace = {"log": math.log}
    exec("def f(x, y, z):\n" + "\n".join("    " + s.replace("\n", "\n    ") for s in statements), namespace)
    return namespace["f"](*args)


@pytest.mark.parametrize(
    ("statements", "kept", "gone"),
    [
        # x is assigned again between a and its use: a stays where it is; x's new value moves
        (["a = x * 2.0", "x += 1.0", "b = a + x", "return b"], ["a = x * 2.0"], ["x += 1.0", "b = "]),
        # a division by a name can raise, a call too: they stay; the sum moves into the return
        (["a = x / y", "c = log(z)", "b = a + c", "return b, a"], ["a = x / y", "c = log(z)"], ["b = "]),
        # a product moves past a call that may raise: it cannot raise itself
        (["a = x * y", "b = log(z)", "return a + b"], ["b = log(z)"], ["a = "]),
        # read twice: stays
        (["a = x - y", "return a * a"], ["a = x - y"], []),
        # x += ... chains join into one sum
        (["g = x * y", "g += y * z", "g -= z", "return g"], [], ["g = ", "g +=", "g -="]),
    ],
)
def test_single_use_temporaries_move_only_where_that_changes_nothing(statements, kept, gone):
    from autodiff_cli.peephole import inline_single_uses as _inline_single_uses

    out = _inline_single_uses(statements)
    for line in kept:
        assert line in out
    for start in gone:
        assert not any(line.startswith(start) for line in out), out
    for args in [(1.5, -2.25, 3.0), (1e308, 1e308, 0.5), (0.1, 0.7, 9.0)]:
        assert run_statements(out, *args) == run_statements(statements, *args)


@pytest.mark.parametrize("text", ["step(sqrt(x))", "step(sqrt(x))*x", "sign(asin(x))"])
def test_a_path_through_sign_or_step_still_fails_where_the_engine_has_no_derivative(text):
    """sign and step pass nothing back, but the engine still computes their argument's local derivatives
    (times 0) and finds none at x = 0 (or 1 for asin): the compiled gradient must fail there too, not
    answer 0 (the batch runner then reports the engine's error, as a single point does)."""
    expr = parse(text)
    at = 1.0 if "asin" in text else 0.0
    with pytest.raises(MathError, match="no derivative"):
        expr.gradient({"x": at})
    compiled = compile_expression(expr)
    try:
        result = compiled.gradient(at)
    except (ValueError, ZeroDivisionError, OverflowError):
        return
    assert not all(math.isfinite(r) for r in result), result
    # away from the point both agree: d/dx step(sqrt(x)) * x is step(sqrt(x)) = 1 at 2
    assert compile_expression(parse("step(sqrt(x))*x")).gradient(2.0) == (2.0, 1.0)


def test_a_function_that_overflows_without_raising_is_checked_before_it_is_absorbed():
    """math.hypot returns inf where the engine says overflow; 1/inf would be a silent 0 (found by the property run)."""
    big = "1.7976931348623157e+308"
    expr = parse(f"x / hypot({big}, {big})")
    with pytest.raises(MathError, match="overflow"):
        expr.gradient({"x": 1.0})
    compiled = compile_expression(expr)
    with pytest.raises(OverflowError):
        compiled.value(1.0)
    with pytest.raises(OverflowError):
        compiled.gradient(1.0)
