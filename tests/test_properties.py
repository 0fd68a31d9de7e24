"""Properties over generated expressions (hypothesis).

Each generated expression comes with an independent Python function built from
the math module, so that reverse mode is compared with finite differences of a
function the engine never touched.
"""

import math

from hypothesis import assume, given
from hypothesis import strategies as st

from autodiff_cli.errors import MathError
from autodiff_cli.parser import _parse, parse

NAMES = ("x", "y", "z")

UNARY = {
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "atan": math.atan,
    "exp": math.exp,
    "sigmoid": lambda u: 0.5 * (1.0 + math.tanh(0.5 * u)),  # another formula for the same function
    "softplus": lambda u: math.log1p(math.exp(u)),
    "sech": lambda u: 1.0 / math.cosh(u),
}


def leaves():
    variables = st.sampled_from(NAMES).map(lambda n: (n, lambda env, n=n: env[n]))
    numbers = st.integers(-9, 9).map(lambda k: k / 4).map(lambda c: (f"({c!r})", lambda env, c=c: c))
    return variables | numbers


def extend(children):
    def unary(name):
        f = UNARY[name]
        return children.map(lambda a: (f"{name}({a[0]})", lambda env, a=a: f(a[1](env))))

    def binary(symbol, py):
        return st.tuples(children, children).map(
            lambda ab: (f"({ab[0][0]} {symbol} {ab[1][0]})", lambda env, ab=ab: py(ab[0][1](env), ab[1][1](env)))
        )

    return st.one_of(
        *[unary(n) for n in UNARY],
        binary("+", lambda a, b: a + b),
        binary("-", lambda a, b: a - b),
        binary("*", lambda a, b: a * b),
        # denominators kept away from zero
        st.tuples(children, children).map(
            lambda ab: (
                f"({ab[0][0]}) / (1 + ({ab[1][0]})^2)",
                lambda env, ab=ab: ab[0][1](env) / (1 + ab[1][1](env) ** 2),
            )
        ),
        st.tuples(children, st.sampled_from([2, 3])).map(
            lambda an: (f"({an[0][0]})^{an[1]}", lambda env, an=an: an[0][1](env) ** an[1])
        ),
        children.map(lambda a: (f"sqrt(1 + ({a[0]})^2)", lambda env, a=a: math.sqrt(1 + a[1](env) ** 2))),
        children.map(lambda a: (f"log(1 + ({a[0]})^2)", lambda env, a=a: math.log(1 + a[1](env) ** 2))),
        children.map(lambda a: (f"-{a[0]}", lambda env, a=a: -a[1](env))),
    )


expressions = st.recursive(leaves(), extend, max_leaves=10)
points = st.fixed_dictionaries({n: st.floats(-2.0, 2.0, allow_nan=False) for n in NAMES})


def derivative_by_differences(f, env, name, h):
    """Five-point central difference (error of order h^4)."""

    def at(delta):
        moved = dict(env)
        moved[name] += delta
        return f(moved)

    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


def reliable_difference(f, env, name):
    """The difference quotient, or None where two step sizes disagree (the function
    turns faster than the steps can follow, and the reference cannot be trusted)."""
    h = 1e-3 * (1.0 + abs(env[name]))
    coarse = derivative_by_differences(f, env, name, h)
    fine = derivative_by_differences(f, env, name, h / 2)
    return fine if math.isclose(coarse, fine, rel_tol=1e-6, abs_tol=1e-9) else None


def at_a_point(generated, env):
    """The parsed expression, its bindings at env, and its value and gradient there (skipping points
    where the expression or its derivative is undefined)."""
    expr = parse(generated[0])
    bindings = {n: env[n] for n in expr.variables}
    try:
        value, grads = expr.gradient(bindings)
    except MathError:
        assume(False)
    return expr, bindings, value, grads


@given(expressions, points)
def test_reverse_mode_agrees_with_finite_differences(generated, env):
    text, f = generated
    expr = parse(text)
    bindings = {n: env[n] for n in expr.variables}
    try:
        reference = f(env)
        numeric = {n: reliable_difference(f, env, n) for n in expr.variables}
    except (OverflowError, ValueError, ZeroDivisionError):
        assume(False)
    assume(all(d is not None for d in numeric.values()))
    assume(abs(reference) < 1e6 and all(abs(d) < 1e6 for d in numeric.values()))
    try:
        value, grads = expr.gradient(bindings)
    except MathError:
        assume(False)
    assert math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-12)
    for name, g in grads.items():
        assert math.isclose(g, numeric[name], rel_tol=1e-5, abs_tol=1e-6 * (1 + abs(reference))), (name, text)


@given(expressions)
def test_fast_parse_and_lark_parse_build_the_same_graph(generated):
    text, _ = generated
    fast, slow = _parse(text, fast=True), _parse(text, fast=False)
    shape = lambda e: [(n.op, n.name, n.data if n.is_constant else None, len(n.parents)) for n in e.order]  # noqa: E731
    assert shape(fast) == shape(slow)
    assert list(fast.variables) == list(slow.variables)


@given(expressions, points)
def test_gradient_accumulates_linearly(generated, env):
    """Two backward passes without zeroing give twice the gradient (PyTorch's rule), to rounding:
    a leaf reached by several paths sums c1 + c2 + c1 + c2, not 2 * (c1 + c2)."""
    text, _ = generated
    expr = parse(text)
    bindings = {n: env[n] for n in expr.variables}
    try:
        _, first = expr.gradient(bindings)
    except MathError:
        assume(False)
    expr.root.backward()
    for name, leaf in expr.variables.items():
        assert math.isclose(leaf.grad, 2 * first[name], rel_tol=1e-14, abs_tol=1e-300)


@given(expressions, points)
def test_forward_mode_agrees_with_reverse_mode(generated, env):
    text, _ = generated
    expr, bindings, value, reverse = at_a_point(generated, env)
    forward_value, forward = expr.gradient(bindings, mode="forward")
    assert forward_value == value
    for name in reverse:
        assert math.isclose(forward[name], reverse[name], rel_tol=1e-12, abs_tol=1e-12), (name, text)


@given(expressions, points)
def test_printed_derivatives_evaluate_to_the_gradient(generated, env):
    from autodiff_cli.symbolic import partials, to_text

    text, _ = generated
    expr, bindings, _, grads = at_a_point(generated, env)
    scale = 1 + max((abs(g) for g in grads.values()), default=0.0)
    for (name,), graph in partials(expr.root, expr.variables, list(expr.variables)).items():
        printed = to_text(graph)
        again = parse(printed)
        assert to_text(again.root) == printed  # the printer's text is a fixed point
        try:
            got = again.evaluate({n: bindings[n] for n in again.variables})
        except MathError:
            assume(False)  # e.g. 0*log(x) simplified differently at an edge of the domain
        assert math.isclose(got, grads[name], rel_tol=1e-9, abs_tol=1e-9 * scale), (name, text, printed)


@given(expressions, points)
def test_simplified_expression_is_the_same_function(generated, env):
    from autodiff_cli.symbolic import simplify, to_text

    text, _ = generated
    expr, bindings, value, _ = at_a_point(generated, env)
    printed = to_text(simplify(expr.root))
    again = parse(printed)
    got = again.evaluate({n: bindings[n] for n in again.variables})
    assert math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9 * (1 + abs(value))), (text, printed)
