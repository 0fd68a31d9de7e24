"""Properties over expressions using every operation of the op table (hypothesis).

The expressions come from tests/generated.py with an independent math-module reference; they
include kinks, division, powers with variable exponents, logarithms, unary minus chains, pi and e,
and literals with 17 digits, subnormal or huge.  Compared here: printing and parsing again, the
engine against the reference, reverse against forward mode, the compiled module against the engine,
and central finite differences wherever the function is smooth.
"""

from __future__ import annotations

import math

from generated import NAMES, REFERENCE, expressions, points, run
from hypothesis import assume, given
from hypothesis import strategies as st
from test_properties import at_a_point

from autodiff_cli import ops
from autodiff_cli.compile import compile_expression
from autodiff_cli.errors import AutodiffError, MathError
from autodiff_cli.parser import parse
from autodiff_cli.symbolic import to_text

COMPILED_ERRORS = (ValueError, ZeroDivisionError, OverflowError, MathError)

wide_points = st.fixed_dictionaries(
    {n: st.floats(-1e3, 1e3, allow_nan=False) | st.floats(allow_nan=False, allow_infinity=False) for n in NAMES}
)


def test_every_table_operation_has_a_reference():
    assert set(REFERENCE) == set(ops.OPS)


def engine_value(expr, env):
    try:
        return expr.evaluate({n: env[n] for n in expr.variables})
    except MathError:
        return "error"


def reference_value(reference, env):
    try:
        value, _ = run(reference, env)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value


@given(expressions(), st.lists(points() | wide_points, min_size=1, max_size=3))
def test_printed_graph_parses_back_to_the_same_function(generated, envs):
    text, _ = generated
    try:
        expr = parse(text)
    except AutodiffError:
        assume(False)  # e.g. a literal over the largest double
    printed = to_text(expr.root)
    again = parse(printed)
    assert set(again.variables) <= set(expr.variables)
    for env in envs:
        first, second = engine_value(expr, env), engine_value(again, env)
        # the same operations on the same doubles: the same number, or an error in both
        assert first == second or (first != first and second != second), (text, printed, env)
    assert to_text(again.root) == printed  # and the printed text is a fixed point


@given(expressions(), points())
def test_engine_value_agrees_with_the_reference(generated, env):
    text, reference = generated
    expr = parse(text)
    expected = reference_value(reference, env)
    assume(expected is not None and math.isfinite(expected) and abs(expected) < 1e12)
    got = engine_value(expr, env)
    assume(got != "error")  # the reference may round to a point the engine does not (tan near pi/2)
    assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), (text, env)


def smooth_difference(reference, env, name):
    """A five-point central difference, or None where the reference is undefined, crosses a kink
    within the steps, or two step sizes disagree (the reference turns too fast to be trusted)."""
    h = 1e-3 * (1.0 + abs(env[name]))

    def at(delta):
        moved = dict(env)
        moved[name] += delta
        value, kinks = run(reference, moved)
        if kinks and min(kinks) < 1e-2:
            raise ValueError("near a kink")
        return value

    def difference(h):
        return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)

    try:
        coarse, fine = difference(h), difference(h / 2)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return fine if math.isclose(coarse, fine, rel_tol=1e-6, abs_tol=1e-9) else None


@given(expressions(wide=False), points(moderate=True))
def test_reverse_forward_compiled_and_differences_agree_where_smooth(generated, env):
    text, reference = generated
    expr = parse(text)
    bindings = {n: env[n] for n in expr.variables}
    try:
        value, kinks = run(reference, env)
        numeric = {n: smooth_difference(reference, env, n) for n in expr.variables}
    except (ValueError, ZeroDivisionError, OverflowError):
        assume(False)
    assume(not kinks or min(kinks) > 1e-2)
    assume(all(d is not None and abs(d) < 1e6 for d in numeric.values()) and abs(value) < 1e6)
    try:
        engine_val, reverse = expr.gradient(bindings)
    except MathError:
        assume(False)  # rounding put a point the reference allows just outside a domain
    _, forward = expr.gradient(bindings, mode="forward")
    compiled = compile_expression(expr)
    compiled_value, *compiled_grads = compiled.gradient(*(bindings[n] for n in compiled.variables))
    assert math.isclose(engine_val, value, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(compiled_value, engine_val, rel_tol=1e-12, abs_tol=1e-300)
    scale = 1e-6 * (1 + abs(value))
    ulps = 1e-12 * (1 + abs(value) + max((abs(g) for g in reverse.values()), default=0.0))  # cancelling terms
    for name, g in zip(compiled.wrt, compiled_grads, strict=True):
        assert math.isclose(reverse[name], numeric[name], rel_tol=1e-5, abs_tol=scale), (name, text)
        assert math.isclose(forward[name], reverse[name], rel_tol=1e-12, abs_tol=ulps), (name, text)
        assert math.isclose(g, reverse[name], rel_tol=1e-12, abs_tol=ulps), (name, text)


@given(expressions(), points() | wide_points)
def test_forward_mode_agrees_with_reverse_mode_everywhere(generated, env):
    """Kinks included: both modes follow the op table's conventions (relu'(0) = 0, a tie of max splits)."""
    text, _ = generated
    expr, bindings, value, reverse = at_a_point(generated, env)
    try:
        forward_value, forward = expr.gradient(bindings, mode="forward")
    except MathError as error:
        # a tangent may overflow where no adjoint does: x*(1e308*3^x) at x = 0 has the derivative 1e308, but the
        # tangent of 1e308*3^x is 1e308*log(3), over the largest double.  Only an overflow, never a domain error
        assert error.message.startswith("overflow"), (text, env, error.message)
        return
    assert forward_value == value
    if not all(v == 0 or 1e-3 <= abs(v) <= 1e3 for v in bindings.values()):
        return  # sums that cancel: x + log(x, x) at 1e-38 is 1 + 1e36 - 1e36 in reverse (0), (1e36 - 1e36) + 1 forward
    ulps = 1e-12 * (1 + abs(value) + largest_term(expr))
    for name in reverse:
        assert math.isclose(forward[name], reverse[name], rel_tol=1e-12, abs_tol=ulps), (name, text, env)


def largest_term(expr) -> float:
    """The largest term either mode adds up: |adjoint| x |local derivative| over every edge.  Terms that
    cancel (f - f, with f's derivative 2e4) leave rounding of their size in a zero derivative, which the two
    modes, adding in different orders, need not share: sin(-z + sinh(z)) - sin(-z + sinh(z)) at z = 12
    is -1.5e-12 in reverse mode and 0.0 in forward mode, both right to the ulps of 2e4."""
    from autodiff_cli.engine import local_derivative

    size = {id(expr.root): 1.0}
    largest = 0.0
    for node in reversed(expr.order):  # children before parents: a node's size is complete when it is reached
        for i, parent in enumerate(node.parents):
            try:
                term = size.get(id(node), 0.0) * abs(local_derivative(node, i))
            except MathError:
                continue
            largest = max(largest, term)
            size[id(parent)] = size.get(id(parent), 0.0) + term
    return largest


def finite(values) -> bool:
    return all(math.isfinite(v) for v in values)


@given(expressions(), points() | wide_points)
def test_compiled_module_matches_the_engine_and_fails_where_it_fails(generated, env):
    """compile.py's contract: the engine's value bit for bit, its gradient within a few ulps, and where the
    engine raises MathError the compiled code raises ValueError, ZeroDivisionError or OverflowError or gives
    inf or nan (the batch runner then asks the engine for the message)."""
    text, _ = generated
    expr = parse(text)
    compiled = compile_expression(expr)
    args = [env[n] for n in compiled.variables]
    try:
        engine = expr.gradient({n: env[n] for n in expr.variables})
    except MathError as error:
        engine = None
        overflow_in_backward = error.op == "backward"
    try:
        got = compiled.gradient(*args)
    except COMPILED_ERRORS:
        got = None
    try:
        got_value = compiled.value(*args)
    except COMPILED_ERRORS:
        got_value = None
    if engine is None:
        # One exception: a derivative that overflows in the engine's backward pass may not in the compiled one,
        # which merges equal subtrees: log(x, x) at x = 2e-313 adds 1/x twice (inf - inf) in the engine, where
        # the compiled code adds the two adjoints of its one log(x) first (0) and divides by x once: 0, right.
        assert got is None or not finite(got) or overflow_in_backward, (text, env, got)
        return
    value, grads = engine
    moderate = all(v == 0 or 1e-3 <= abs(v) <= 1e3 for v in args)
    if not moderate and (got is None or not finite(got)):
        # Far out, an intermediate of the compiled doubles may overflow where the engine's careful path (decimal
        # numbers) still finds the derivative: softsign(csc(x)) at x = 1.19e-237 is -1, through csc(x)^2 = inf
        # in doubles.  The batch runner takes such a row again through the engine (batch.py), so the user gets -1.
        return
    assert got is not None and finite(got), (text, env, engine)
    assert got[0] == value or (got[0] == 0 and value == 0), (text, env)
    if got_value is not None and math.isfinite(got_value):
        assert got_value == value, (text, env)
    if not moderate:
        return  # near 0 or far out, a derivative that cancels (x/x at 1e-260: 1e260 - 1e260) is all rounding
    # a few ulps of the terms that are added up, which are about as large as the value or the derivatives
    # (sinh(tanh(y)/tanh(y)): 0 in the engine, -1.9e-16 compiled, from terms of about 1)
    scale = 1e-12 * (1 + abs(value) + max((abs(g) for g in grads.values()), default=0.0))
    for name, g in zip(compiled.wrt, got[1:], strict=True):
        assert math.isclose(g, grads[name], rel_tol=1e-12, abs_tol=scale), (name, text, env, g, grads[name])


@given(expressions(), points() | wide_points)
def test_compiled_value_fails_exactly_where_evaluation_fails(generated, env):
    text, _ = generated
    expr = parse(text)
    compiled = compile_expression(expr, wrt=[])
    args = [env[n] for n in compiled.variables]
    engine = engine_value(expr, env)
    try:
        got = compiled.value(*args)
    except COMPILED_ERRORS:
        got = None
    if engine == "error":
        assert got is None or not math.isfinite(got), (text, env, got)
    else:
        assert got == engine, (text, env, got, engine)
