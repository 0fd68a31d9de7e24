"""pow's derivatives where its rules have no value but a limit gives one, as in PyTorch.

References: 0^y = 0 for every y > 0, so d/dy 0^y = 0 there (PyTorch's pow_backward_exponent
masks base == 0 and exponent >= 0 to zero); x^0 = 1 for every x, so d/dx x^0 = 0 (PyTorch's
pow_backward_self masks exponent == 0).  Where no limit exists the error stays: 0^0.5 has an
infinite slope in its base, (-2)^y is undefined for y near 0, 0^-1 is undefined.
"""

import json

import pytest
from helpers import run

from autodiff_cli import Value
from autodiff_cli.compile import compile_expression
from autodiff_cli.dual import Dual
from autodiff_cli.errors import MathError
from autodiff_cli.parser import parse

# (x, y) -> (value, d/dx, d/dy) by hand
POINTS = [
    ((0.0, 3.0), (0.0, 0.0, 0.0)),  # 3*0^2 = 0; d/dy by the limit
    ((0.0, 0.0), (1.0, 0.0, 0.0)),  # x^0 = 1: d/dx 0; d/dy as PyTorch (exponent >= 0)
    ((0.0, 1.0), (0.0, 1.0, 0.0)),  # d/dx x^1 = 1
    ((2.0, 0.0), (1.0, 0.0, 0.6931471805599453)),  # log(2): the ordinary rule
    ((2.0, 3.0), (8.0, 12.0, 8 * 0.6931471805599453)),
]


@pytest.mark.parametrize(("point", "expected"), POINTS)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_engine_and_forward_mode(point, expected, mode):
    value, grads = parse("x^y").gradient({"x": point[0], "y": point[1]}, mode=mode)
    assert (value, grads["x"], grads["y"]) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(("point", "expected"), POINTS)
def test_compiled_code_and_batch_agree(point, expected):
    assert compile_expression(parse("x^y")).gradient(*point) == pytest.approx(expected, rel=1e-15)
    line = json.dumps({"x": point[0], "y": point[1]}) + "\n"
    out = run("grad", "x^y", "--input", "-", input=line)
    row = json.loads(out.output.splitlines()[0])
    assert (row["value"], row["gradient"]["x"], row["gradient"]["y"]) == pytest.approx(expected, rel=1e-15)


def test_the_reviewers_command():
    out = run("grad", "x^y", "x=0", "y=3")
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == ["value   0.0", "∂/∂x    0.0", "∂/∂y    0.0"]
    assert run("grad", "x^n", "x=0", "n=0").exit_code == 0


def test_library_value_and_dual():
    x, y = Value(0.0), Value(3.0)
    (x**y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)
    assert Dual.apply("pow", Dual(0.0, 1.0), Dual(0.0)).tangent == 0.0  # d/dx x^0 at 0
    assert Dual.apply("pow", Dual(0.0), Dual(2.0, 1.0)).tangent == 0.0  # d/dy 0^y at 2


def test_explain_uses_the_same_convention():
    out = json.loads(run("explain", "x^y", "x=0", "y=3", "--json").output)
    assert out["gradient"] == {"x": 0.0, "y": 0.0}


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ((0.0, 0.5), "0^0.5 is not differentiable with respect to its base"),
        ((-2.0, 0.0), "(-2)^0 is not differentiable with respect to its exponent"),
        ((-2.0, 2.0), "(-2)^2 is not differentiable with respect to its exponent"),
    ],
)
def test_no_limit_no_derivative(point, message):
    with pytest.raises(MathError, match=message.replace("(", r"\(").replace(")", r"\)").replace("^", r"\^")):
        parse("x^y").gradient({"x": point[0], "y": point[1]})
    with pytest.raises(MathError, match="not differentiable"):
        parse("x^y").gradient({"x": point[0], "y": point[1]}, mode="forward")


def test_constant_exponent_zero_compiles_to_a_plain_zero():
    c = compile_expression(parse("x^0"))
    assert "** (0.0 - 1.0)" not in c.source
    assert c.gradient(0.0) == (1.0, 0.0)


def test_the_functions_listing_states_the_convention():
    out = run("functions").output
    assert "d/dy = 0 at x = 0 for y >= 0" in out and "d/dx = 0 for y = 0" in out
