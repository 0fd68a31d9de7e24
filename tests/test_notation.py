"""Issue 12's notation findings: superscripts, subscripted names, implicit products, Unicode signs, aliases,
suggestions that never name a different function, messages for input that is not an expression, tiny
literals, and diff's --wrt / --partial.  References: hand values, math, SymPy."""

import json
import math

import pytest
import sympy as sp
from click.testing import CliRunner

from autodiff_cli import limits, ops
from autodiff_cli.cli import cli
from autodiff_cli.errors import LimitError, ParseError
from autodiff_cli.notation import aliases, is_name, suggestion
from autodiff_cli.parser import _parse, parse


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def value(text, **bindings):
    return parse(text).evaluate(bindings)


# -- §2 superscripts are powers, subscripts are part of a name -----------------------------------


@pytest.mark.parametrize(
    ("text", "x", "expected"),
    [("x²", 3.0, 9.0), ("x³", 2.0, 8.0), ("x⁻¹", 4.0, 0.25), ("x¹⁰", 2.0, 1024.0), ("2²", 0.0, 4.0),
     ("e^x²", 1.5, math.exp(2.25)), ("-x²", 3.0, -9.0), ("(x+1)²", 2.0, 9.0), ("x²^3", 2.0, 64.0),
     ("sin(x)²", 0.5, math.sin(0.5) ** 2), ("x⁺²", 3.0, 9.0)],
)
def test_superscript_digits_are_powers(text, x, expected):
    assert value(text, x=x) == pytest.approx(expected, rel=1e-15)


def test_diff_of_x_squared_is_2x_not_1():
    result = run("diff", "x²")
    assert result.exit_code == 0 and result.stdout.strip() == "2*x"
    result = run("diff", "e^x²")  # d/dx e^(x^2) = 2x e^(x^2)
    printed = parse(result.stdout.strip())
    X = sp.Symbol("x")
    assert printed.evaluate({"x": 0.8}) == pytest.approx(float(sp.diff(sp.exp(X**2), X).subs(X, 0.8)), rel=1e-14)


def test_grad_of_x_squared_asks_for_x_and_binds_it():
    result = run("grad", "x²", "--x", "3", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gradient"] == {"x": 6.0}


@pytest.mark.parametrize("args", [["x₁=3", "θ₀=2"], ["--x₁", "3", "--θ₀", "2"], ["--x₁=3", "--θ₀=2"]])
def test_subscripted_names_are_variables_that_can_be_bound(args):
    result = run("grad", "x₁*θ₀ + x₁", *args, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["value"] == 9.0 and doc["gradient"] == {"x₁": 3.0, "θ₀": 3.0}


@pytest.mark.parametrize("text", ["x₁ + y", "θ₀*θ₁", "w_1 + xⁿ", "a₁₂ - b"])
def test_every_name_the_parser_takes_can_be_bound(text):
    names = list(parse(text).variables)
    assert names and all(is_name(n) for n in names)
    result = run("eval", text, *(f"{n}=2" for n in names))
    assert result.exit_code == 0, result.stderr


def test_a_name_never_holds_a_superscript_digit():
    assert not is_name("x²") and not is_name("²") and is_name("x₁") and not is_name("₁x")


# -- the notation people type ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "explicit"),
    [("2x", "2*x"), ("2(x+1)", "2*(x+1)"), ("2pi", "2*pi"), ("3sin(x)", "3*sin(x)"), ("2x^2", "2*(x^2)"),
     ("-2x", "-(2*x)"), ("2x²", "2*x^2"), ("2√x", "2*sqrt(x)"), ("1.5e3x", "1500*x"), ("2.5x*3", "2.5*x*3"),
     ("x/2*3y", "x/2*(3*y)"), ("2x/3", "(2*x)/3"), ("π", "pi"), ("2π", "2*pi"), ("√x", "sqrt(x)"),
     ("√(x+1)", "sqrt(x+1)"), ("√x*y", "sqrt(x)*y"), ("|x|", "abs(x)"), ("||x|-3|", "abs(abs(x)-3)"),
     ("|x|*|y|", "abs(x)*abs(y)"), ("x − 1", "x - 1"), ("2 × x", "2 * x"), ("2 · x", "2 * x"),
     ("2 ⋅ x", "2 * x"), ("x ÷ 2", "x / 2"), ("−x", "-x"), ("ln(x)", "log(x)"), ("lg(x)", "log10(x)"),
     ("arcsin(y/9)", "asin(y/9)"), ("arccos(y/9)", "acos(y/9)"), ("arctan(x)", "atan(x)"),
     ("ln(x, 2)", "log(x, 2)")],
)
def test_accepted_forms_compute_what_they_mean(written, explicit):
    mine, reference = parse(written), parse(explicit)
    for x, y in [(0.7, 1.3), (2.5, -4.0)]:
        at = {"x": x, "y": y}
        at = {n: at[n] for n in reference.variables}
        assert mine.evaluate(at) == reference.evaluate(at)
        if at:
            assert mine.gradient(at)[1] == reference.gradient(at)[1]


def test_numbers_keep_their_meaning_next_to_the_new_forms():
    assert value("2e3") == 2000.0 and value("2e+3") == 2000.0 and value("2E-3") == 0.002
    assert value("2.") == 2.0 and value(".5") == 0.5 and value("1e3 + .5") == 1000.5
    assert value("2e3x", x=2.0) == 4000.0  # the whole number, then the name


@pytest.mark.parametrize(
    ("text", "words", "column"),
    [("x y", "write x*y", 3), ("2 x", "write 2*x, or 2x without the space", 3), ("1/2x", "ambiguous", 3),
     ("e^2x", "ambiguous", 3), ("2^-3x", "ambiguous", 4), ("2e", "write 2*e", 1), ("2e-x", "write 2*e", 1),
     ("sin²(x)", "sin is a function", 1), ("|x", "end of expression", 3), ("x⁻", "unexpected character '⁻'", 2),
     ("√-x", "unexpected", 2), ("ln + 1", "ln is a function", 1), ("2_000", "write 2000", 2)],
)
def test_forms_that_stay_errors_say_what_and_where(text, words, column):
    with pytest.raises(ParseError) as info:
        parse(text)
    assert words in info.value.message
    assert info.value.column == column
    caret = info.value.caret().splitlines()
    assert caret[1].index("^") - 2 == column - 1


@pytest.mark.parametrize(
    "text", ["2x + 3(y-1)", "x² + y⁻¹", "√x*|y|", "2π − x ÷ 2", "ln(x)·lg(y)", "x₁ + 2θ₀", "3sin(x)^2"]
)
def test_fast_driver_builds_the_same_graph_as_lark(text):
    assert _shape(_parse(text, fast=True)) == _shape(_parse(text, fast=False))


def _shape(expr):
    index = {id(n): i for i, n in enumerate(expr.order)}
    return [(n.op, n.name, n.data if n.is_constant else None, [index[id(p)] for p in n.parents]) for n in expr.order]


def test_absolute_value_bars_count_toward_the_depth_limit():
    with limits.raised(depth=50):
        parse("|" * 40 + "x" + "|" * 40)
        with pytest.raises(LimitError, match="60 deep"):
            parse("|" * 60 + "x" + "|" * 60)


def test_pi_is_a_constant_and_cannot_be_bound():
    result = run("eval", "π*r^2", "π=3", "r=1")
    assert result.exit_code == 2 and "π is the constant pi" in result.stderr


def test_PI_stays_a_variable_and_its_message_names_the_constant():
    result = run("eval", "2*PI")
    assert result.exit_code == 2 and "for the constant write pi" in result.stderr
    assert run("eval", "2*PI", "PI=1").stdout.strip() == "2.0"


# -- §4 aliases and "did you mean" ---------------------------------------------------------------


def test_the_aliases_come_from_the_op_table():
    assert aliases() == {"ln": "log", "lg": "log10", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
                         **{a: op.name for op in ops.OPS.values() for a in op.aliases}}
    for alias, name in aliases().items():
        op = ops.OPS[name]
        expr = parse(f"{alias}({', '.join(['0.5'] * op.arity)})")
        assert expr.root.op == name


def test_lg_is_log10_as_iso_80000_2_has_it():
    assert value("lg(1000)") == 3.0 and value("ln(e)") == 1.0


@pytest.mark.parametrize("name", ["sec", "csc", "cot", "asinh", "arsinh", "acosh", "atanh", "coth",
                                  "csch", "elu", "gelu", "selu", "sqr", "sinc", "exp2", "atan2", "log1p", "erf"])
def test_no_suggestion_names_a_different_function(name):
    if (op := ops.lookup(name)) is not None:  # in the table now: that very function, no suggestion needed
        assert parse(f"{name}({', '.join(['0.5'] * op.arity)})").root.op == op.name
        return
    with pytest.raises(ParseError) as info:
        parse(f"{name}(0.5)")
    message = info.value.message
    assert "did you mean" not in message and "functions lists" in message


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("sinn", "sin"), ("coss", "cos"), ("tnah", "tanh"), ("sqrtt", "sqrt"), ("sigmoud", "sigmoid"), ("expp", "exp"),
     ("Sin", "sin"), ("LN", "ln"), ("sgn", "sign"), ("fabs", "abs"), ("logistic", "sigmoid"),
     ("arcsinh", "asinh")],
)
def test_suggestions_are_the_same_function(typed, meant):
    if ops.lookup(meant) is None:
        pytest.skip(f"{meant} is not in the op table")
    assert f"did you mean {meant}?" in suggestion(typed)


def test_a_base_in_the_name_of_log_points_to_its_second_argument():
    assert "log(x, 3)" in suggestion("log3")


# -- messages for what is not an expression ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [(["eval", "sin x", "x=1"], "write sin(x)"),
     (["eval", "y = x^2", "x=3"], "an expression has no '='; give the right-hand side: x^2"),
     (["eval", "y = x^2"], "an expression has no '='; give the right-hand side: x^2"),
     (["eval", "f(x) = x^2", "x=3"], "an expression has no '='; give the right-hand side: x^2"),
     (["eval", "d/dx x^2"], "use autodiff diff 'x^2'"),
     (["eval", "d/dx(x^2*y)"], "use autodiff diff 'x^2*y' --wrt x"),
     (["eval", "x^2", "--X", "2"], "X was given, and names are case-sensitive (write --x 2)"),
     (["grad", "x*y", "--X", "2", "--y", "1"], "X was given, and names are case-sensitive")],
)
def test_messages_say_what_to_write(args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# -- §9 tiny literals and signed zeros on the command line ----------------------------------------


@pytest.mark.parametrize(("text", "column"), [("1e-400", 1), ("log(1e-400)", 5), ("x + 2.5e-999", 5)])
def test_a_literal_that_underflows_is_refused_like_one_that_overflows(text, column):
    with pytest.raises(ParseError, match="too small for a double") as info:
        parse(text)
    assert info.value.column == column


def test_small_literals_a_double_holds_are_read_as_themselves():
    assert value("5e-324") == 5e-324 and value("1e-310") == 1e-310 and value("0e-400") == 0.0
    assert value("0.000e5") == 0.0


def test_a_binding_that_underflows_is_refused():
    for binding in ("x=1e-400", "x=-1e-400"):
        result = run("eval", "log(x)", binding)
        assert result.exit_code == 2 and "too small for a double" in result.stderr
    assert run("eval", "x", "x=1e-320").stdout.strip() == "1e-320"


@pytest.mark.parametrize("args", [["x=-0", "y=1"], ["--x", "-0", "--y", "1"], ["x=-0.0", "y=1"], ["x=−0", "y=1"]])
def test_a_negative_zero_on_the_command_line_keeps_its_sign(args):
    result = run("grad", "x*y", *args, "--json")
    doc = json.loads(result.stdout)
    assert math.copysign(1.0, doc["value"]) < 0 and math.copysign(1.0, doc["gradient"]["y"]) < 0  # d/dy = x = -0


# -- §5 --wrt x,x and --partial; the derivative of what does not depend on the variable ------------


@pytest.mark.parametrize(
    ("args", "advice"),
    [(["diff", "x^3", "--wrt", "x,x"], "--partial x,x"), (["diff", "x^3", "--wrt", "x", "--wrt", "x"], "--wrt x"),
     (["hessian", "x^3*y", "x=1", "y=2", "--wrt", "x,x"], "--wrt x"),
     (["grad", "x^3", "x=1", "--wrt", "x,x"], "write --wrt x"), (["check", "x^3", "x=1", "--wrt", "x,x"], "--wrt x")],
)
def test_a_name_given_twice_is_an_error_that_says_what_to_write(args, advice):
    result = run(*args)
    assert result.exit_code == 2 and "names x twice" in result.stderr and advice in result.stderr


X, Y, Z = sp.symbols("x y z")


@pytest.mark.parametrize(
    ("text", "f", "partial"),
    [("x^2*y^3", X**2 * Y**3, "x,y"), ("x^2*y^3", X**2 * Y**3, "y,x"), ("x^5", X**5, "x,x,x"),
     ("sin(x*y)*exp(z)", sp.sin(X * Y) * sp.exp(Z), "x,y,z"), ("tanh(x)", sp.tanh(X), "x,x,x,x"),
     ("x^2*y^3", X**2 * Y**3, "x,x,y,y,y")],
)
def test_partial_gives_that_derivative(text, f, partial):
    result = run("diff", text, "--partial", partial)
    assert result.exit_code == 0, result.stderr
    printed = parse(result.stdout.strip())
    want = sp.diff(f, *[sp.Symbol(n) for n in partial.split(",")])
    point = {"x": 0.7, "y": -1.3, "z": 0.4}
    at = {n: point[n] for n in printed.variables}
    assert printed.evaluate(at) == pytest.approx(float(want.subs({X: 0.7, Y: -1.3, Z: 0.4})), rel=1e-13)


def test_partial_in_json_is_labelled_in_the_order_given():
    doc = json.loads(run("diff", "x^2*y^3", "--partial", "y,x", "--json").stdout)
    assert list(doc) == ["y,x"] and parse(doc["y,x"]).evaluate({"x": 2.0, "y": 3.0}) == 6 * 2 * 9


def test_partial_with_wrt_or_order_is_a_usage_error():
    assert run("diff", "x*y", "--partial", "x,y", "--wrt", "x").exit_code == 2
    assert run("diff", "x*y", "--partial", "x,y", "--order", "2").exit_code == 2


@pytest.mark.parametrize("args", [["5"], ["2 + 3"], ["pi*e"], ["5", "--order", "3"]])
def test_the_derivative_of_a_constant_is_0(args):
    result = run("diff", *args)
    assert result.exit_code == 0 and result.stdout == "0\n" and result.stderr == ""


def test_the_derivative_by_a_variable_that_does_not_occur_is_0_with_a_warning():
    result = run("diff", "x", "--wrt", "y")
    assert result.exit_code == 0 and result.stdout == "0\n"
    assert "y does not occur" in result.stderr
    result = run("diff", "x^2*y", "--wrt", "x,z", "--json")
    assert json.loads(result.stdout) == {"x": "2*x*y", "z": "0"}
    result = run("diff", "x^2*y^3", "--partial", "x,z")
    assert result.stdout == "0\n" and "z does not occur" in result.stderr


def test_a_constant_is_still_no_variable_to_differentiate_by():
    result = run("diff", "e^x", "--wrt", "e")
    assert result.exit_code == 2 and "constant" in result.stderr
