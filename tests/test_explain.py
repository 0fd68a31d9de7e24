"""The step-by-step explanation: its numbers are the engine's, its rules the op table's, its order the engine's."""

import json
import math

import pytest
from helpers import run
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from autodiff_cli import ops, parse
from autodiff_cli.engine import Value
from autodiff_cli.explain import explain
from autodiff_cli.render import explanation_tables, explanation_text

EXPRESSIONS = [
    ("tanh(w*x+b)", {"x": 2, "w": -3, "b": 1}),
    ("x*x + x", {"x": 3}),
    ("x*y*x + sin(x*y) - y/x", {"x": 0.7, "y": -1.3}),
    ("max(x, y, 2) - x^2/y + exp(-x*x) * log(y)", {"x": 3, "y": 2}),
    ("sigmoid(a*b + a) * softplus(a - b) + sqrt(a*a + b*b)", {"a": 0.4, "b": -2.5}),
    ("(x+1)*(x+1) + x^y + 2^x", {"x": 1.5, "y": 0.5}),
]


def contributions(explanation):
    """Each input's gradient summed from the edges' products, from zero, in the listed order."""
    sums = {}
    for edge in explanation.backward:
        sums[edge.input] = sums.get(edge.input, 0.0) + edge.product
    return sums


@pytest.mark.parametrize(("text", "bindings"), EXPRESSIONS, ids=[t for t, _ in EXPRESSIONS])
def test_summed_contributions_are_the_engines_gradients(text, bindings):
    expr = parse(text)
    expr.gradient(bindings)  # the engine's backward()
    order = expr.order
    explanation = explain(expr.root)
    sums = contributions(explanation)
    for i, node in enumerate(order):
        if node.is_constant:
            assert i not in sums  # nothing asks a constant for its gradient
        elif node is expr.root:
            assert node.grad == 1.0
        else:
            # bit for bit: the explanation adds in the engine's order
            assert sums[i] == node.grad, (explanation.forward[i].label, sums[i], node.grad)
    # the running sum shown on the last contribution is that total
    for edge in explanation.backward:
        if edge.part == edge.parts:
            assert edge.total == order[edge.input].grad


@given(st.floats(-3, 3), st.floats(0.1, 3), st.floats(-3, 3))
def test_contributions_sum_to_the_gradient_at_random_points(x, y, z):
    expr = parse("tanh(x*y + z) * x + log(y) * x*z - cos(z*z*x) / y")
    expr.gradient({"x": x, "y": y, "z": z})
    sums = contributions(explain(expr.root))
    for i, node in enumerate(expr.order):
        if not node.is_constant and node is not expr.root:
            assert sums[i] == node.grad


def test_tanh_neuron_numbers_by_hand():
    expr = parse("tanh(w*x+b)")
    expr.gradient({"x": 2, "w": -3, "b": 1})
    explanation = explain(expr.root)
    labels = [s.label for s in explanation.forward]
    assert labels == ["w", "x", "#1", "b", "#2", "#3"]
    assert [s.op for s in explanation.forward] == ["var", "var", "mul", "var", "add", "tanh"]
    assert [s.value for s in explanation.forward] == [-3.0, 2.0, -6.0, 1.0, -5.0, math.tanh(-5.0)]
    edges = [(labels[e.node], labels[e.input]) for e in explanation.backward]
    assert edges == [("#3", "#2"), ("#2", "#1"), ("#2", "b"), ("#1", "w"), ("#1", "x")]
    first = explanation.backward[0]
    assert first.rule == "∂tanh(#2)/∂#2 = sech(#2)^2"
    assert first.local == pytest.approx(1 - math.tanh(-5.0) ** 2, rel=1e-12)
    assert first.upstream == 1.0
    dw = explanation.backward[3]
    assert dw.rule == "∂(w * x)/∂w = x" and dw.local == 2.0
    assert dw.product == pytest.approx(2.0 * (1 - math.tanh(-5.0) ** 2), rel=1e-12)


def test_a_node_used_twice_gets_a_running_sum():
    # d/dx (x*x + x) = 2x + 1 = 7 at x = 3, in three contributions: 1, then 3, then 3
    expr = parse("x*x + x")
    expr.gradient({"x": 3})
    into_x = [e for e in explain(expr.root).backward if e.input == 0]
    assert [(e.product, e.total, e.part, e.parts) for e in into_x] == [(1.0, 1.0, 1, 3), (3.0, 4.0, 2, 3),
                                                                       (3.0, 7.0, 3, 3)]
    assert [e.rule for e in into_x] == ["∂(#1 + x)/∂x = 1", "∂(x * x)/∂x (as x) = x", "∂(x * x)/∂x (as y) = x"]


def test_every_node_passes_its_gradient_on_only_when_it_is_complete():
    expr = parse("a*b + a*(a+b) + exp(a*b)")
    expr.gradient({"a": 0.5, "b": 2})
    explanation = explain(expr.root)
    received = {}
    for edge in explanation.backward:
        # when a node sends, everything it will receive has arrived
        assert received.get(edge.node, 0) == sum(1 for e in explanation.backward if e.input == edge.node)
        received[edge.input] = received.get(edge.input, 0) + 1


def _point(op):
    """A point where the operation and its derivatives are smooth."""
    point = {1: (0.3,), 2: (1.7, 0.6)}[op.arity] if op.name not in ("relu", "abs", "sign", "step") else (0.8,)
    return point if op.domain_error(*point) is None else (1.7,)  # acosh needs x >= 1


@pytest.mark.parametrize("op", list(ops.functions()), ids=lambda op: op.name)
def test_every_local_derivative_matches_a_finite_difference(op):
    args = [Value(a, name=n) for a, n in zip(_point(op), "xy", strict=False)]
    node = Value.apply(op.name, *args)
    explanation = explain(node)
    assert len(explanation.backward) == op.arity
    for edge in explanation.backward:
        h = 1e-6
        up = [a.data for a in args]
        down = [a.data for a in args]
        up[edge.arg] += h
        down[edge.arg] -= h
        numeric = (op.fn(*up) - op.fn(*down)) / (2 * h)
        assert edge.local == pytest.approx(numeric, rel=1e-6, abs=1e-8), edge.rule
        assert edge.rule.startswith("∂")


def test_constants_and_leaves():
    assert explain(Value(2.0, name="x")).backward == ()
    expr = parse("2*x + pi")
    expr.gradient({"x": 1})
    explanation = explain(expr.root)
    assert [s.label for s in explanation.forward] == ["2", "x", "#1", "pi", "#2"]
    assert all(explanation.forward[e.input].op != "const" for e in explanation.backward)


def test_unnamed_values_are_numbered():
    a, b = Value(2.0), Value(3.0)
    y = a * b + a
    labels = [s.label for s in explain(y).forward]
    assert labels == ["var#1", "var#2", "#1", "#2"]  # variables without a name, then computed nodes


# -- the command line ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["x*0", "-x*0", "0*x + 0*x"])
def test_zero_is_never_shown_as_minus_zero(text):
    # x = -1: x*0 is -0.0 in IEEE arithmetic (and -x*0 sends -0.0 upstream), the result prints 0.0 or -0.0
    result = run("explain", text, "x=-1")
    assert result.exit_code == 0
    steps = result.stdout.partition("Result, at full precision")[0]
    cells = [cell for line in steps.splitlines() for cell in line.split()]
    assert "-0" not in cells and "0" in cells
    document = json.loads(run("explain", text, "x=-1", "--json").stdout)
    assert math.copysign(1, document["forward"][-1]["value"]) == math.copysign(1, eval(text.replace("x", "(-1.0)")))


def test_graph_drawings_show_zero_unsigned():
    tree = run("graph", "-x*0", "x=1").stdout  # -x*0 at x = 1 is -0.0, and so is the gradient reaching x
    assert tree.splitlines()[0] == "mul  = 0  grad 1" and "x  = 1  grad 0" in tree and "-0" not in tree
    for fmt in ("dot", "mermaid"):
        out = run("graph", "-x*0", "x=1", "--format", fmt).stdout
        assert "data 0.0000" in out and "grad 0.0000" in out and "-0.0000" not in out, fmt
    nodes = json.loads(run("graph", "-x*0", "x=1", "--format", "json").stdout)["nodes"]
    assert math.copysign(1, nodes[-1]["data"]) == -1  # JSON keeps the value as it is

X_TIMES_X = """\
Forward pass, inputs first (topological order)
node  op   inputs  value
x     var           3
#1    mul  x, x     9

Backward pass, output first: each edge sends upstream × local to its input
edge    local derivative        local  upstream  product  input's grad
#1 → x  ∂(x * x)/∂x (as x) = x   3      1         3        3 (1 of 2)
#1 → x  ∂(x * x)/∂x (as y) = x   3      1         3        6 (2 of 2)

Result, at full precision
value   9.0
∂/∂x    6.0
"""


def test_explain_plain_text():
    result = run("explain", "x*x", "x=3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == X_TIMES_X
    assert "\x1b" not in result.stdout


def test_grad_steps_is_explain():
    assert run("grad", "x*x", "x=3", "--steps").stdout == X_TIMES_X
    a = json.loads(run("grad", "tanh(w*x+b)", "x=2", "w=-3", "b=1", "--steps", "--json").stdout)
    b = json.loads(run("explain", "tanh(w*x+b)", "x=2", "w=-3", "b=1", "--json").stdout)
    assert a == b


def test_explain_json():
    result = run("explain", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1", "--json")
    doc = json.loads(result.stdout)
    assert list(doc) == ["expression", "value", "gradient", "forward", "backward"]
    assert doc["forward"][2] == {"id": 2, "label": "#1", "op": "mul", "inputs": [0, 1], "value": -6.0}
    edge = doc["backward"][0]
    assert edge["edge"] == "#3 → #2" and edge["from"] == 5 and edge["to"] == 4
    assert edge["rule"] == "∂tanh(#2)/∂#2 = sech(#2)^2"
    s = 1 - math.tanh(-5) ** 2
    assert edge["local"] == pytest.approx(s, rel=1e-12)
    assert doc["gradient"]["x"] == pytest.approx(-3 * s, rel=1e-12)
    last = {e["to"]: e["sum"] for e in doc["backward"]}
    assert last[1] == doc["gradient"]["x"]  # x's final running sum is the printed gradient


def test_explain_errors():
    result = run("explain", "tanh(w*x)", "x=1")
    assert result.exit_code == 2 and "no value for variable w" in result.stderr
    result = run("explain", "sqrt(x)", "x=0")
    assert result.exit_code == 1 and "no derivative" in result.stderr
    result = run("explain", "sqrt(x)", "x=0", "--json")
    assert json.loads(result.stdout)["error"]["op"] == "sqrt"


def test_explanation_tables_on_a_terminal():
    expr = parse("x*x + x")
    expr.gradient({"x": 3})
    console = Console(color_system=None, width=140)
    with console.capture() as captured:
        explanation_tables(console, explain(expr.root))
    text = captured.get()
    assert "Forward pass" in text and "Backward pass" in text
    assert "∂(x * x)/∂x (as y) = x" in text and "7 (3 of 3)" in text


def test_markup_in_names_is_not_interpreted():
    x = Value(2.0, name="[bold]x")
    y = x * x
    console = Console(color_system=None, width=140)
    with console.capture() as captured:
        explanation_tables(console, explain(y))
    assert "[bold]x" in captured.get()
    assert "[bold]x" in explanation_text(explain(y))


def test_long_explanations_are_drawn_as_aligned_columns():
    # past TABLE_ROWS rows, styled columns replace rich's Table (which measures every cell)
    x = Value(0.5, name="[b]x")
    y = x
    for _ in range(200):
        y = (y * x).tanh()
    y.backward()
    console = Console(color_system=None, width=200)  # wide enough: narrower, they are stacked
    with console.capture() as captured:
        explanation_tables(console, explain(y))
    lines = captured.get().splitlines()
    assert lines[0] == "Forward pass, inputs first (topological order)"
    assert lines[1].split() == ["node", "op", "inputs", "value"]
    assert lines[2].split() == ["[b]x", "var", "0.5"]
    backward = lines.index("Backward pass, output first: each edge sends upstream × local to its input")
    assert len(lines) == backward + 2 + 600  # a tanh and a product per step: 3 edges
    assert lines[-1].split()[:2] == ["#1", "→"] and lines[-1].endswith(f"{x.grad:.6g} (201 of 201)")


def test_a_graph_of_constants_has_no_backward_edges():
    result = run("explain", "2*3")
    assert result.exit_code == 0
    assert "(no edges: every input is a constant, and constants need no gradient)" in result.stdout
    assert result.stdout.endswith("Result, at full precision\nvalue   6.0\n")
