"""Properties of the tensor commands on random shapes and values (hypothesis).

References are formulas written here and central differences computed here with plain floats.
"""

import json
import math

import pytest
from helpers import run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 6))


@st.composite
def least_squares(draw):
    m = draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    a = [[draw(finite) for _ in range(n)] for _ in range(m)]
    return a, [draw(finite) for _ in range(n)], [draw(finite) for _ in range(m)]


def ok_json(*args, input=None):
    result = run(*args, "--json", input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def near(got, expected, rel=1e-12, abs=1e-12):
    return got == pytest.approx(expected, rel=rel, abs=abs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(least_squares())
def test_least_squares_gradients_are_the_normal_equations(case):
    a, x, b = case
    r = [sum(a[i][j] * x[j] for j in range(len(x))) - b[i] for i in range(len(b))]
    doc = ok_json("grad", "sum((A@x - b)^2)", "--A", json.dumps(a), "--x", json.dumps(x), "--b", json.dumps(b))
    scale = 1 + max(map(abs, r)) * (1 + max(abs(v) for row in a for v in row) + max(map(abs, x)))
    assert near(doc["value"], sum(v * v for v in r), abs=1e-12 * scale * scale)
    assert all(near(g, 2 * sum(a[i][j] * r[i] for i in range(len(b))), abs=1e-12 * scale)
               for j, g in enumerate(doc["gradient"]["x"]))
    assert all(near(doc["gradient"]["A"][i][j], 2 * r[i] * x[j], abs=1e-12 * scale)
               for i in range(len(b)) for j in range(len(x)))
    assert all(near(g, -2 * r[i], abs=1e-12 * scale) for i, g in enumerate(doc["gradient"]["b"]))


FUNCTIONS = {  # f and f' by hand
    "tanh": (math.tanh, lambda v: 1 - math.tanh(v) ** 2),
    "sin": (math.sin, math.cos),
    "exp": (math.exp, math.exp),
    "sigmoid": (lambda v: 1 / (1 + math.exp(-v)), lambda v: math.exp(-v) / (1 + math.exp(-v)) ** 2),
}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(FUNCTIONS)), st.lists(finite, min_size=1, max_size=6))
def test_the_gradient_of_a_sum_of_an_elementwise_function_is_its_derivative(name, x):
    f, df = FUNCTIONS[name]
    doc = ok_json("grad", f"sum({name}(x))", "--x", json.dumps(x))
    assert near(doc["value"], sum(f(v) for v in x), rel=1e-13)
    assert all(near(g, df(v), rel=1e-12, abs=1e-15) for g, v in zip(doc["gradient"]["x"], x, strict=True))


@settings(max_examples=25, deadline=None)
@given(st.lists(finite, min_size=1, max_size=5))
def test_the_jacobian_of_softmax_and_the_gradient_of_logsumexp(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = [v / sum(e) for v in e]
    doc = ok_json("jacobian", "softmax(z)", "--z", json.dumps(z))
    n = len(z)
    assert all(near(doc["jacobian"]["z"][i][j], s[i] * (i == j) - s[i] * s[j], abs=1e-15)
               for i in range(n) for j in range(n))
    grad = ok_json("grad", "logsumexp(z)", "--z", json.dumps(z))
    assert all(near(g, si, abs=1e-15) for g, si in zip(grad["gradient"]["z"], s, strict=True))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(
    st.lists(st.lists(finite, min_size=n, max_size=n), min_size=n, max_size=n),
    st.lists(finite, min_size=n, max_size=n))))
def test_the_hessian_of_a_quadratic_form_is_its_symmetric_part(case):
    a, x = case
    n = len(x)
    doc = ok_json("hessian", "0.5*x@A@x", "--x", json.dumps(x), "--A", json.dumps(a), "--wrt", "x")
    assert all(near(doc["hessian"][i][j], (a[i][j] + a[j][i]) / 2) for i in range(n) for j in range(n))


@settings(max_examples=25, deadline=None)
@given(st.lists(finite, min_size=1, max_size=6))
def test_eval_prints_json_that_binds_back_to_the_same_doubles(x):
    result = run("eval", "x*1.5 - 0.25", "--x", json.dumps(x))
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == [v * 1.5 - 0.25 for v in x]
    again = run("eval", "y", "--y", result.stdout.strip())
    assert json.loads(again.stdout) == printed


EXPRESSIONS = ["sum(x)", "x", "x@x", "A@x", "sum(A@x)", "softmax(x)", "logsumexp(A)", "det(A)", "inv(A)",
               "logdet(A)", "sum(inv(A))", "A.T@A", "x[0]", "A[1,:]", "sum(A, axis=0)", "norm(x)", "trace(A)",
               "max(x)", "x/0", "sum(log(x))", "sum(sqrt(x))", "reshape(A, 4)", "concat(x, x)", "dot(x, x)",
               "outer(x, x)", "mean(A)", "prod(x)", "sum(x^x)", "[x[0], 1]", "sum([1,2])", "x[5]", "A@A@x"]
VALUES = {"x": ["[1,2]", "[0,0]", "[-1,2]", "[1e300,1e300]", "3", "[]", "[[1,2]]", "[1,[2]]", "[1e-320, 0]",
                "[NaN]", "[1,2", "@nofile.json"],
          "A": ["[[1,2],[3,4]]", "[[1,2],[2,4]]", "[[0,0],[0,0]]", "[[1,2,3]]", "[[1e200,1],[1,1e200]]", "5"]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["grad", "eval", "jacobian", "hessian", "check", "diff"]), st.sampled_from(EXPRESSIONS),
       st.sampled_from(VALUES["x"]), st.sampled_from(VALUES["A"]), st.booleans())
def test_every_tensor_command_answers_or_refuses_clearly(command, expression, x, a, json_):
    args = [command, expression, "--x", x, "--A", a] + (["--json"] if json_ else [])
    result = run(*args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2)
    assert "internal error" not in result.stderr and "Traceback" not in result.output
    if result.exit_code:  # an Error: line (check's report may come first, and its warnings)
        assert any(line.startswith("Error: ") for line in result.stderr.splitlines()), result.stderr
    if json_:
        document = json.loads(result.stdout)  # one strict JSON document, errors too
        if result.exit_code == 0:
            assert "error" not in document
        elif "ok" not in document:  # (a failed check's report is its document, with "ok": false)
            assert "message" in document["error"]
