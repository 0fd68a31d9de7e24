"""The grammar and parser: precedence, numbers, names, errors, depth and speed."""

import math

import pytest

from autodiff_cli import limits, ops
from autodiff_cli.errors import ParseError
from autodiff_cli.parser import _parse, grammar_path, parse


def value(text, **bindings):
    return parse(text).evaluate(bindings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2^2", -4.0),  # power binds tighter than unary minus
        ("2^-1", 0.5),
        ("2^3^2", 512.0),  # right-associative
        ("2**3**2", 512.0),
        ("(2^3)^2", 64.0),
        ("1 - 2 - 3", -4.0),  # left-associative
        ("8 / 4 / 2", 1.0),
        ("2 + 3 * 4", 14.0),
        ("-(2 + 3)", -5.0),
        ("--2", 2.0),
        ("+2", 2.0),
        ("2 * -3", -6.0),
        ("(-8)^(1/3)^0", -8.0),
        ("pow(2, 10)", 1024.0),
        ("max(1, 5, 3)", 5.0),
        ("min(4, -1, 3, 0)", -1.0),
        ("log(8, 2)", 3.0),
        ("log(e)", 1.0),
        ("cos(pi)", -1.0),
        ("1e3 + .5 + 2.5 + 5. + 1E-3", 1008.001),
    ],
)
def test_arithmetic(text, expected):
    assert value(text) == pytest.approx(expected, rel=1e-15)


def test_unary_minus_of_a_power_of_a_variable():
    assert value("-x^2", x=3.0) == -9.0


def test_numbers_are_doubles():
    assert value("0.1 + 0.2") == 0.1 + 0.2
    assert value("5e-324") == 5e-324


def test_number_too_large():
    with pytest.raises(ParseError, match="too large") as info:
        parse("1 + 1e999")
    assert info.value.column == 5


def test_unicode_names_and_first_appearance_order():
    expr = parse("θ*x + b + x*θ")
    assert list(expr.variables) == ["θ", "x", "b"]
    assert expr.evaluate({"θ": 2.0, "x": 3.0, "b": 1.0}) == 13.0


def test_same_name_is_the_same_leaf():
    expr = parse("x*x + x")
    leaves = [n for n in expr.order if n.is_leaf]
    assert len(leaves) == 1
    value_, grads = expr.gradient({"x": 3.0})
    assert (value_, grads) == (12.0, {"x": 7.0})


def test_every_function_of_the_table_parses_by_name():
    for name, op in ops.FUNCTIONS.items():
        args = ", ".join(["0.5"] * op.arity)
        expr = parse(f"{name}({args})")
        assert expr.root.op == name


@pytest.mark.parametrize(
    ("text", "words", "column"),
    [
        ("x +", "end of expression", 4),
        ("(x + 1", "'(' not closed", 7),
        ("x + 1)", "no '(' to close", 6),
        ("x y", "missing operator", 3),
        ("x $ y", "unexpected character '$'", 3),
        ("sinn(x)", "did you mean sin?", 1),
        ("tanh(x, y)", "tanh takes 1 argument, got 2", 1),
        ("log(x, 2, 3)", "log takes 1 or 2 arguments, got 3", 1),
        ("max(x)", "max takes 2 or more arguments, got 1", 1),
        ("x + sin", "sin is a function", 5),
        ("", "empty expression", None),
        ("x\x00", "NUL", 2),
    ],
)
def test_errors_say_what_and_where(text, words, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert words in info.value.message
    assert info.value.column == column


def test_caret_points_at_the_column():
    with pytest.raises(ParseError) as info:
        parse("tanh(w*x + $b)")
    lines = info.value.caret().splitlines()
    assert lines[0] == "  tanh(w*x + $b)"
    assert lines[1].index("^") == lines[0].index("$")


def test_errors_on_a_second_line():
    with pytest.raises(ParseError) as info:
        parse("x +\n  y)")
    assert (info.value.line, info.value.column) == (2, 4)


def test_deep_nesting_parses_without_recursion():
    expr = parse("(" * 10_000 + "x" + ")" * 10_000)
    assert expr.evaluate({"x": 2.0}) == 2.0
    expr = parse("-" * 10_000 + "x")
    assert expr.evaluate({"x": 2.0}) == 2.0
    expr = parse("sin(" * 5_000 + "x" + ")" * 5_000)
    assert math.isfinite(expr.gradient({"x": 0.5})[1]["x"])


def test_a_sum_of_100000_terms_with_the_limits_raised():
    with limits.raised(length=2_000_000, nodes=400_000):
        expr = parse(" + ".join(f"x{i % 10}*{i}" for i in range(100_000)))
    value_, grads = expr.gradient({f"x{i}": 1.0 for i in range(10)})
    assert value_ == sum(range(100_000))
    assert grads["x3"] == sum(range(3, 100_000, 10))


@pytest.mark.parametrize(
    "text",
    ["tanh(w*x+b)", "-x^2^-y", "max(a, b, c) - min(a, 1)", "log(x, 2) / ---y", "sin(cos(x)) * (1 + x) ^ 2",
     "((x))", "pi * e / θ", "pow(x, y) + 2**x", "sqrt(x^2 + y^2)", "f1 + g_2 * 3.5e-2"],
)
def test_fast_driver_builds_the_same_graph_as_lark(text):
    assert _shape(_parse(text, fast=True)) == _shape(_parse(text, fast=False))


def _shape(expr):
    """The graph as a list: op, leaf name or constant value, parents by position."""
    index = {id(n): i for i, n in enumerate(expr.order)}
    return [(n.op, n.name, n.data if n.is_constant else None, [index[id(p)] for p in n.parents]) for n in expr.order]


def test_grammar_file_is_found():
    assert grammar_path().endswith("expression.lark")
