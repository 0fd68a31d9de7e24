"""The sign of a zero derivative survives, as IEEE 754 and PyTorch have it.

References (independent of the code): IEEE 754 products, x * y with x = -0.0 and
y > 0 is -0.0, and -0.0 is the additive identity (-0.0 + t == t for every t, signs
included) while 0.0 + -0.0 == 0.0.  PyTorch assigns a leaf's first gradient instead
of adding it to a zero, so torch.tensor(-0.0) * y gives y.grad == -0.0.
"""

import json
import math

import pytest
from helpers import run

from autodiff_cli import Value
from autodiff_cli.dual import Dual, derivative
from autodiff_cli.parser import parse


def negative_zero(x: float) -> bool:
    return x == 0.0 and math.copysign(1.0, x) < 0


def positive_zero(x: float) -> bool:
    return x == 0.0 and math.copysign(1.0, x) > 0


def test_ieee_facts_the_fix_relies_on():
    assert negative_zero(-0.0 * 1.0) and positive_zero(0.0 + -0.0) and negative_zero(-0.0 + -0.0)


# (expression, bindings, variable, hand derivative, is it -0.0)
CASES = [
    ("x*y", {"x": -0.0, "y": 1.0}, "y", "x", True),  # d/dy x*y = x = -0.0
    ("x*y", {"x": -0.0, "y": 1.0}, "x", "y", False),  # = 1.0
    ("x^2", {"x": -0.0}, "x", "2*x", True),  # 2 * (-0.0)
    ("x/y", {"x": 5e-324, "y": 2.0}, "y", "-x/y^2", True),  # -5e-324/4 rounds to -0.0
    ("x*y", {"x": 0.0, "y": 1.0}, "y", "x", False),  # +0.0 stays +0.0
]


@pytest.mark.parametrize(("text", "point", "name", "hand", "negative"), CASES)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_library_gradient_keeps_the_sign(text, point, name, hand, negative, mode):
    g = parse(text).gradient(point, mode=mode)[1][name]
    expected = {"x": -0.0 * 1.0, "2*x": 2 * -0.0, "-x/y^2": -5e-324 / 4, "y": 1.0}[hand] if negative else None
    if negative:
        assert negative_zero(g) and negative_zero(expected)
    else:
        assert math.copysign(1.0, g) > 0


@pytest.mark.parametrize("extra", [[], ["--json"], ["--mode", "forward"], ["--mode", "forward", "--json"]])
def test_grad_command_agrees_with_batch_on_minus_zero(extra):
    single = run("grad", "x*y", "x=-0.0", "y=1", "--json", *[e for e in extra if e != "--json"])
    assert single.exit_code == 0, single.output
    assert json.loads(single.output)["gradient"] == {"x": 1.0, "y": -0.0}
    assert negative_zero(json.loads(single.output)["gradient"]["y"])
    batch = run("grad", "x*y", "--input", "-", input='{"x": -0.0, "y": 1}\n')
    assert negative_zero(json.loads(batch.output.splitlines()[0])["gradient"]["y"])
    if "--json" not in extra:
        text = run("grad", "x*y", "x=-0.0", "y=1", *extra)
        assert "∂/∂y   -0.0" in text.output


def test_grad_text_of_the_reviewers_cases():
    assert "∂/∂x   -0.0" in run("grad", "x^2", "x=-0.0").output
    assert "∂/∂y   -0.0" in run("grad", "x/y", "x=5e-324", "y=2").output


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_keeps_the_sign_and_structural_zeros_are_plus(mode):
    out = run("jacobian", "x*y", "-x", "x=-0.0", "y=1", "--json", "--mode", mode)
    matrix = json.loads(out.output)["jacobian"]
    assert matrix == [[1.0, 0.0], [-1.0, 0.0]]
    assert negative_zero(matrix[0][1])  # d(x*y)/dy = x = -0.0
    assert positive_zero(matrix[1][1])  # -x does not depend on y at all


def test_hessian_mixed_partial_is_minus_zero_and_unreached_entries_plus_zero():
    out = json.loads(run("hessian", "x*y*z", "x=-0.0", "y=1", "z=1", "--json").output)
    h = out["hessian"]
    assert negative_zero(h[1][2]) and negative_zero(h[2][1])  # d2/dydz xyz = x = -0.0
    assert all(positive_zero(h[i][i]) for i in range(3))  # d2/dx2 of xyz: no path, a plain 0
    assert h[0][1] == 1.0 and h[0][2] == 1.0


def test_explain_and_check_show_minus_zero():
    explained = json.loads(run("explain", "x*y", "x=-0.0", "y=1", "--json").output)
    assert negative_zero(explained["gradient"]["y"])
    checked = json.loads(run("check", "x*y", "x=-0.0", "y=1", "--json").output)
    analytic = {c["derivative"]: c["analytic"] for c in checked["checks"]}
    assert negative_zero(analytic["y"]) and checked["ok"]


def test_value_backward_assigns_the_first_gradient_as_pytorch_does():
    a, b = Value(-0.0), Value(1.0)
    assert positive_zero(a.grad) and positive_zero(b.grad)  # a fresh Value shows 0.0
    (a * b).backward()
    assert negative_zero(b.grad) and a.grad == 1.0
    # accumulation afterwards is ordinary addition: -0.0 + 2.0
    (b * 2.0).backward()
    assert b.grad == 2.0


def test_inner_nodes_do_not_lose_the_sign():
    x, y = Value(-0.0), Value(3.0)
    (x * (y + 0.0)).backward()  # y + 0.0 is an inner node whose one term is x = -0.0
    assert x.grad == 3.0
    assert negative_zero(y.grad)


def test_a_zero_rule_still_reaches_its_leaf_with_a_plain_zero():
    # d/dx sign(x) = 0 (PyTorch): the leaf gets +0.0, not a stray -0.0 from the start value
    x = Value(2.0)
    x.sign().backward()
    assert positive_zero(x.grad)
    assert positive_zero(parse("step(x)").gradient({"x": 1.0})[1]["x"])
    assert positive_zero(parse("sign(x)").gradient({"x": 1.0}, mode="forward")[1]["x"])


def test_dual_numbers_keep_the_sign_and_constants_carry_nothing():
    assert negative_zero(derivative(lambda t: t * -0.0, 1.0))
    assert negative_zero((Dual(-0.0) * Dual(1.0, 1.0)).tangent)
    c = Dual(2.0) * Dual(3.0)
    assert positive_zero(c.tangent) and not c.varies


@pytest.mark.parametrize("text", ["sign(x)*-1", "step(x)*-2", "x*y", "x^2*y"])
def test_batch_and_one_point_give_the_same_zeros_to_the_sign(text):
    # sign(x)*-1: d/dx = 0 (the rule) times -1 = -0.0 by IEEE's product rule of signs
    point = {"x": -0.0, "y": 1.0} if "y" in text else {"x": 1.0}
    single = json.loads(run("grad", text, *(f"{k}={v!r}" for k, v in point.items()), "--json").output)
    batch = run("grad", text, "--input", "-", input=json.dumps(point) + "\n")
    assert json.dumps(single["gradient"]) == json.dumps(json.loads(batch.output.splitlines()[0])["gradient"])
    if text == "sign(x)*-1":
        assert negative_zero(single["gradient"]["x"])
