"""Forward mode (dual numbers) against reverse mode, hand derivations and finite differences."""

import math

import pytest

from autodiff_cli.dual import Dual, derivative, jvp
from autodiff_cli.errors import MathError
from autodiff_cli.parser import parse


def test_product_rule_by_hand():
    # d/dx x^3 sin(x) = 3x^2 sin(x) + x^3 cos(x)
    x = 2.0
    expected = 3 * x**2 * math.sin(x) + x**3 * math.cos(x)
    assert math.isclose(derivative(lambda d: d**3 * d.sin(), x), expected, rel_tol=1e-15)


def test_operators_and_reflected_forms():
    x = Dual(3.0, 1.0)
    y = 1 / x + 2 * x - 4 - x / 2 + 2**x
    assert y.data == pytest.approx(1 / 3 + 6 - 4 - 1.5 + 8)
    assert y.tangent == pytest.approx(-1 / 9 + 2 - 0.5 + 8 * math.log(2))
    assert (-x).tangent == -1.0 and (+x) is x


def test_constants_carry_no_tangent_and_the_exponent_log_is_skipped():
    # x^2 at a negative base: the exponent is a constant, so log(-3) is never needed
    assert derivative(lambda d: d**2, -3.0) == -6.0


def test_jvp_on_a_parsed_graph_matches_reverse_mode():
    expr = parse("tanh(w*x+b) * exp(-x) + max(x, w)")
    bindings = {"w": -3.0, "x": 2.0, "b": 1.0}
    value, reverse = expr.gradient(bindings)
    for name, leaf in expr.variables.items():
        duals = jvp(expr.order, {leaf: 1.0})
        assert duals[expr.root].data == value
        assert math.isclose(duals[expr.root].tangent, reverse[name], rel_tol=1e-14, abs_tol=1e-300)


def test_directional_derivative_is_gradient_dot_direction():
    expr = parse("x^2*y + sin(x*y)")
    bindings = {"x": 0.7, "y": -1.3}
    _, grad = expr.gradient(bindings)
    expr.evaluate(bindings)
    duals = jvp(expr.order, {expr.variables["x"]: 2.0, expr.variables["y"]: -0.5})
    assert math.isclose(duals[expr.root].tangent, 2.0 * grad["x"] - 0.5 * grad["y"], rel_tol=1e-14)


def test_forward_mode_gradient_names_the_failing_derivative():
    with pytest.raises(MathError, match=r"no derivative: sqrt\(0\) is not differentiable"):
        parse("sqrt(x)").gradient({"x": 0.0}, mode="forward")
    with pytest.raises(MathError, match="with respect to its exponent"):
        parse("x^y").gradient({"x": -2.0, "y": 2.0}, mode="forward")


def test_forward_mode_agrees_with_finite_differences():
    expr = parse("log(1 + x^2) / (2 + cos(y)) + sigmoid(x - y)")
    point = {"x": 0.4, "y": 1.9}
    _, grads = expr.gradient(point, mode="forward")
    for name in point:
        h = 1e-5
        up, down = dict(point), dict(point)
        up[name] += h
        down[name] -= h
        numeric = (expr.evaluate(up) - expr.evaluate(down)) / (2 * h)
        assert math.isclose(grads[name], numeric, rel_tol=1e-8)
