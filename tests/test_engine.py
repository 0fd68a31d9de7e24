"""The engine against hand-derived derivatives and PyTorch's documented behaviour."""

import math

import pytest

import autodiff_cli
from autodiff_cli.engine import Value, topological_order
from autodiff_cli.errors import MathError


def test_seed_readme_example():
    # ../shared/seed/mini_autograd-README.md, "Example Usage", written as it is there
    from autodiff_cli.engine import Value

    x = Value(2.0)
    w = Value(-3.0)
    b = Value(1.0)

    y = w * x + b
    y.backward()

    # y = w*x + b: dy/dx = w, dy/dw = x, dy/db = 1
    assert y.data == -5.0
    assert x.grad == -3.0
    assert w.grad == 2.0
    assert b.grad == 1.0


def test_value_is_exported_at_the_top():
    assert autodiff_cli.Value is Value


def test_design_doc_graph_building():
    a, b = Value(2.0), Value(-0.5)
    c = a * b
    d = c + 3
    out = d.tanh()
    out.backward()
    # d tanh(ab + 3) / da = (1 - tanh^2) * b
    t = math.tanh(2.0 * -0.5 + 3)
    assert out.data == pytest.approx(t, rel=1e-15)
    assert a.grad == pytest.approx((1 - t * t) * -0.5, rel=1e-12)
    assert b.grad == pytest.approx((1 - t * t) * 2.0, rel=1e-12)


def test_accumulation_matches_pytorch_not_micrograd():
    # y = (x*x)*2 at x = 3: dy/dx = 4x = 12; a second backward adds 12 again (PyTorch)
    x = Value(3.0)
    y = (x * x) * 2
    y.backward()
    assert x.grad == 12.0
    y.backward()
    assert x.grad == 24.0  # micrograd gets 36: it piles up the inner node's grad too (its issue #102)
    x.grad = 0.0
    y.backward()
    assert x.grad == 12.0


def test_inner_grads_are_recomputed_each_call():
    x = Value(3.0)
    inner = x * x
    y = inner * 2
    y.backward()
    y.backward()
    assert inner.grad == 2.0  # dy/d(inner), not 4


def test_node_used_twice_keeps_both_edges():
    x = Value(5.0)
    y = x * x
    assert y.parents == (x, x)
    y.backward()
    assert x.grad == 10.0


def test_same_leaf_through_several_paths():
    x = Value(2.0)
    y = x * x + x  # 2x + 1
    y.backward()
    assert x.grad == 5.0


def test_leaf_as_output():
    x = Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_floats_everywhere():
    x = Value(2)
    assert isinstance(x.data, float) and isinstance(x.grad, float)
    y = x * 3 + 1
    y.backward()
    assert isinstance(y.data, float) and isinstance(x.grad, float)


def test_reflected_operators():
    x = Value(2.0)
    cases = [
        (lambda: 2 * x, 4.0, 2.0),
        (lambda: 1 - x, -1.0, -1.0),
        (lambda: 1 / x, 0.5, -0.25),
        (lambda: 2**x, 4.0, 4.0 * math.log(2)),
        (lambda: 3 + x, 5.0, 1.0),
        (lambda: -x, -2.0, -1.0),
        (lambda: x**3, 8.0, 12.0),
        (lambda: x / 4, 0.5, 0.25),
        (lambda: x - 5, -3.0, 1.0),
    ]
    for make, value, grad in cases:
        x.grad = 0.0
        y = make()
        y.backward()
        assert y.data == pytest.approx(value, rel=1e-15)
        assert x.grad == pytest.approx(grad, rel=1e-15)


def test_python_sum_works():
    xs = [Value(float(i)) for i in range(1, 5)]
    total = sum(xs)
    total.backward()
    assert total.data == 10.0
    assert [v.grad for v in xs] == [1.0] * 4


def test_value_power_value():
    x, y = Value(2.0), Value(3.0)
    z = x**y
    z.backward()
    assert z.data == 8.0
    assert x.grad == 12.0  # y x^(y-1)
    assert y.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)  # x^y log x


def test_negative_base_whole_exponent_constant():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == -8.0
    assert x.grad == 12.0


def test_a_method_for_every_function():
    from autodiff_cli import ops

    for name, op in ops.FUNCTIONS.items():
        a = 0.5 if op.domain_error(0.5, 0.25) is None else 1.5  # acosh needs x >= 1
        args = [Value(0.25)] * (op.arity - 1)
        out = getattr(Value(a), name)(*args)
        assert out.op == name
        assert out.data == pytest.approx(op.fn(a, *[0.25] * (op.arity - 1)), rel=1e-15)


def test_log_with_base_method():
    x = Value(8.0)
    y = x.log(2)
    y.backward()
    assert y.data == pytest.approx(3.0, rel=1e-15)
    assert x.grad == pytest.approx(1 / (8 * math.log(2)), rel=1e-14)


def test_variadic_max():
    a, b, c = Value(1.0), Value(5.0), Value(3.0)
    m = a.max(b, c)
    m.backward()
    assert m.data == 5.0
    assert (a.grad, b.grad, c.grad) == (0.0, 1.0, 0.0)


# -- saturation and kinks ----------------------------------------------------


def test_tanh_derivative_keeps_its_digits_when_saturated():
    x = Value(20.0)
    x.tanh().backward()
    # sech(20)^2 = 4 / (e^20 + e^-20)^2
    expected = 4.0 / (math.exp(20) + math.exp(-20)) ** 2
    assert expected == pytest.approx(1.7e-17, rel=0.01)
    assert x.grad == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("at", [40.0, -40.0])
def test_sigmoid_derivative_at_both_tails(at):
    x = Value(at)
    x.sigmoid().backward()
    expected = math.exp(-40.0) / (1 + math.exp(-40.0)) ** 2
    assert x.grad == pytest.approx(expected, rel=1e-13)
    assert x.grad > 0


def test_kinks_follow_pytorch():
    for method, expected in [("relu", 0.0), ("abs", 0.0), ("sign", 0.0), ("step", 0.0)]:
        x = Value(0.0)
        getattr(x, method)().backward()
        assert x.grad == expected, method
    a, b = Value(2.0), Value(2.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)  # torch.maximum splits ties evenly


def test_relu_and_abs_away_from_zero():
    for at, relu_grad, abs_grad in [(-1.5, 0.0, -1.0), (2.5, 1.0, 1.0)]:
        x = Value(at)
        x.relu().backward()
        assert x.grad == relu_grad
        x = Value(at)
        x.abs().backward()
        assert x.grad == abs_grad


# -- errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "op", "words"),
    [
        (lambda: Value(-1.0).log(), "log", "positive"),
        (lambda: Value(0.0).log(), "log", "positive"),
        (lambda: Value(1.0) / Value(0.0), "div", "division by zero"),
        (lambda: Value(-4.0).sqrt(), "sqrt", "negative"),
        (lambda: Value(-8.0) ** (1 / 3), "pow", "whole exponent"),
        (lambda: Value(0.0) ** -1, "pow", "negative power"),
        (lambda: Value(1000.0).exp(), "exp", "overflow"),
        (lambda: Value(1e308) * 10, "mul", "overflow"),
        (lambda: Value(1e308) + 1e308, "add", "overflow"),
        (lambda: Value(2.0).asin(), "asin", "[-1, 1]"),
    ],
)
def test_math_errors_name_the_operation(make, op, words):
    with pytest.raises(MathError) as info:
        make()
    assert info.value.op == op
    assert words in info.value.message


def test_power_tower_overflows_at_once():
    # 9^9^9 = 9^(9^9): floats make it an overflow error, not a giant integer
    nine = Value(9.0)
    with pytest.raises(MathError, match="overflow"):
        nine ** (nine**nine)


def test_missing_derivative_is_an_error_and_leaves_the_graph_usable():
    x = Value(0.0)
    y = x.sqrt() * 2
    with pytest.raises(MathError) as info:
        y.backward()
    assert info.value.op == "sqrt"
    # the interrupted pass left no stale counts behind: another graph on the same leaf works
    z = x * 3
    z.backward()
    assert x.grad == 3.0


def test_value_refuses_text():
    with pytest.raises(TypeError):
        Value("3")
    with pytest.raises(TypeError):
        Value(1.0) + "x"


# -- depth and order -------------------------------------------------------------


def test_million_deep_chain_has_no_recursion_error():
    x = Value(1.0)
    v = x
    for _ in range(1_000_000):
        v = v + 1e-6
    v.backward()
    assert x.grad == 1.0
    assert v.data == pytest.approx(2.0, rel=1e-9)


def test_topological_order_is_deterministic_and_parents_first():
    x, y = Value(1.0, name="x"), Value(2.0, name="y")
    out = (x * y + x).tanh()
    order = topological_order(out)
    assert order[-1] is out
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for p in node.parents:
            assert position[id(p)] < position[id(node)]
    assert [n.op for n in order] == [n.op for n in topological_order(out)]
    assert [n.name for n in order if n.is_leaf] == ["x", "y"]


def test_repr():
    assert repr(Value(2.0, name="x")) == "Value(name='x', data=2.0, grad=0.0)"


def test_parts_made_of_constants_need_no_derivative():
    # z^-1 is pow(z, neg(1)): the exponent's rule takes log(z), undefined at z < 0, but no
    # variable depends on neg(1), so it is never needed.  d/dz z^-1 = -z^-2.
    from autodiff_cli.parser import parse

    assert parse("z^-1").gradient({"z": -2.0}) == (-0.5, {"z": -0.25})
    assert parse("sqrt(0)*z").gradient({"z": 1.0}) == (0.0, {"z": 0.0})
    _, grads = parse("acos(-1)*x").gradient({"x": 2.0})
    assert grads["x"] == math.pi


def test_wrt_treats_the_other_variables_as_numbers():
    from autodiff_cli.parser import parse

    # d/dx x^y = y x^(y-1) = 12 at x = -2, y = 3; d/dy needs log(-2)
    assert parse("x^y").gradient({"x": -2.0, "y": 3.0}, ["x"]) == (-8.0, {"x": 12.0})
    with pytest.raises(MathError, match="with respect to its exponent"):
        parse("x^y").gradient({"x": -2.0, "y": 3.0})


def test_a_failing_rule_changes_no_gradient_and_the_graph_stays_usable():
    x, y = Value(-2.0), Value(3.0)
    a = x * y  # mul's rule runs first and would add to x.grad and y.grad
    out = a ** y  # the exponent's rule fails: log(-6)
    with pytest.raises(MathError):
        out.backward()
    assert x.grad == 0.0 and y.grad == 0.0
    ok = (x * y) * y
    ok.backward()
    assert (x.grad, y.grad) == (9.0, -12.0)
