"""explain and graph on Tensor graphs: the VJP rules and their numbers, the drawings' shapes, summaries.

The numbers an explanation prints are checked against matrix calculus done here by hand in
plain Python (g x^T as an outer product of lists, W^T g as sums, 1 - tanh^2, softmax's
s * (g - s.g)), and their sums against the Tensor's own backward(), to the last bit.
The drawings are parsed back (DOT and Mermaid with regular expressions, JSON with json).
The command line (autodiff explain / graph on tensor expressions) is in test_tensor_views_cli.py.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff_cli.tensor as T
from autodiff_cli.errors import UsageError
from autodiff_cli.tensor import Tensor, use_backend
from autodiff_cli.tensor.backends import available
from autodiff_cli.tensor_explain import explain_tensors, nested
from autodiff_cli.tensor_explain_text import explanation_text, result_lines
from autodiff_cli.tensor_export import TensorView, dot_lines, graph_tree, json_lines, mermaid_lines

BACKENDS = [name for name in ("python", "numpy") if name in available()]


@pytest.fixture(params=BACKENDS)
def backend(request):
    with use_backend(request.param):
        yield request.param


def outer(u, v):
    return [[a * b for b in v] for a in u]


def transpose_times(m, g):
    """m^T g for a matrix m (a list of rows) and a vector g, by the definition: sum over the rows."""
    return [sum(m[i][j] * g[i] for i in range(len(m))) for j in range(len(m[0]))]


def close(a, b, tol=1e-12):
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def neuron(W, x, b):
    """sum(tanh(W@x + b)) built from leaves, with the source texts the expression language gives."""
    Wt, xt, bt = Tensor(W), Tensor(x), Tensor(b)
    m = Wt @ xt
    z = m + bt
    out = T.sum(T.tanh(z))
    texts = {id(m): "W@x", id(z): "W@x + b", id(out): "sum(tanh(W@x + b))"}
    return out, {"W": Wt, "x": xt, "b": bt}, texts


def edge(explanation, source, target):
    """The one edge from the node labelled `source` to the one labelled `target`."""
    labels = [s.label for s in explanation.forward]
    found = [e for e in explanation.backward if labels[e.node] == source and labels[e.input] == target]
    assert len(found) == 1, found
    return found[0]


# -- the rules and their numbers -----------------------------------------------------------


def test_matmul_edges_are_g_x_transposed_and_w_transposed_g(backend):
    W, x, b = [[1.0, 2.0], [3.0, 4.0]], [1.0, -2.0], [0.5, -0.5]
    out, leaves, texts = neuron(W, x, b)
    e = explain_tensors(out, leaves, texts)
    bk = e.backend
    # by hand: z = W x + b, and the gradient arriving at W@x is 1 - tanh(z)^2 (the sum's g is 1)
    z = [sum(W[i][j] * x[j] for j in range(2)) + b[i] for i in range(2)]
    g = [1 - math.tanh(zi) ** 2 for zi in z]
    to_w = edge(e, "#1", "W")
    assert to_w.rule == "g @ x.T"
    assert close(nested(to_w.upstream, bk), g)
    assert close(nested(to_w.sent, bk), outer(g, x))
    to_x = edge(e, "#1", "x")
    assert to_x.rule == "W.T @ g"
    assert close(nested(to_x.sent, bk), transpose_times(W, g))
    # the operands the rule names are shown with it: x for g @ x.T, W for W.T @ g
    assert [label for label, _ in to_w.operands] == ["x"]
    assert [label for label, _ in to_x.operands] == ["W"]


@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_matmul_edges_at_random_shapes_and_points(m, n, data):
    numbers = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)
    w = [[data.draw(numbers) for _ in range(n)] for _ in range(m)]
    x = [data.draw(numbers) for _ in range(n)]
    b = [data.draw(numbers) for _ in range(m)]
    out, leaves, texts = neuron(w, x, b)
    e = explain_tensors(out, leaves, texts)
    to_w, to_x = edge(e, "#1", "W"), edge(e, "#1", "x")
    g = nested(to_w.upstream, e.backend)
    assert close(g, [1 - math.tanh(sum(w[i][j] * x[j] for j in range(n)) + b[i]) ** 2 for i in range(m)], 1e-9)
    assert close(nested(to_w.sent, e.backend), outer(g, x), 1e-12)  # g x^T
    assert close(nested(to_x.sent, e.backend), transpose_times(w, g), 1e-9)  # W^T g
    mine = {name: nested(grad, e.backend) for name, grad in e.gradients.items()}
    out.backward()
    assert mine == {name: t.grad.tolist() for name, t in leaves.items()}  # backward's own sums, bit for bit


def test_elementwise_edges_use_the_op_tables_formula(backend):
    out, leaves, texts = neuron([[1.0, 2.0], [3.0, 4.0]], [1.0, -2.0], [0.5, -0.5])
    e = explain_tensors(out, leaves, texts)
    to_z = edge(e, "#3", "#2")
    assert to_z.rule == "g * sech(#2)^2"  # the table's tanh'(x) = sech(x)^2, over the node's label
    formula, local = to_z.local
    assert formula == "sech(#2)^2"
    z = [1 * 1.0 + 2 * -2.0 + 0.5, 3 * 1.0 + 4 * -2.0 - 0.5]
    assert close(nested(local, e.backend), [1 / math.cosh(v) ** 2 for v in z])
    assert edge(e, "#4", "#3").rule == "g broadcast to (2,)"
    assert edge(e, "#2", "b").rule == "g"


def test_the_sums_end_on_backwards_gradients_to_the_last_bit(backend):
    W = Tensor([[0.3, -1.2, 2.0], [1.5, 0.25, -0.75]])
    x = Tensor([0.1, 0.7, -0.4])
    out = T.sum(T.tanh(W @ x) * (W @ x) + T.exp(x[0]) * x[1])
    e = explain_tensors(out, {"W": W, "x": x})
    mine = {name: nested(g, e.backend) for name, g in e.gradients.items()}
    out.backward()
    assert mine == {"W": W.grad.tolist(), "x": x.grad.tolist()}
    # x receives several contributions: their running sums are numbered, the last one is the gradient
    to_x = [edge_ for edge_ in e.backward if e.forward[edge_.input].label == "x"]
    assert [edge_.part for edge_ in to_x] == list(range(1, len(to_x) + 1))
    assert {edge_.parts for edge_ in to_x} == {len(to_x)}
    assert nested(to_x[-1].total, e.backend) == x.grad.tolist()


def test_broadcasting_sums_back_and_says_over_which_axis(backend):
    A = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    c = Tensor([10.0, 20.0, 30.0])
    out = T.sum((A + c) ** 2)
    e = explain_tensors(out, {"A": A, "c": c})
    to_c = edge(e, "#1", "c")
    assert to_c.rule == "g, summed over axis 0 back to (3,)"
    # by hand: d/dc_j sum_i (A_ij + c_j)^2 = sum_i 2 (A_ij + c_j)
    rows = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    expected = [sum(2 * (rows[i][j] + [10.0, 20.0, 30.0][j]) for i in range(2)) for j in range(3)]
    assert close(nested(to_c.sent, e.backend), expected)
    assert edge(e, "#2", "#1").rule == "g * (2 * #1^(2 - 1))"


def test_a_batch_of_matrices_times_one_matrix_sums_the_batch_back(backend):
    A = Tensor([[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 0.5], [2.0, 1.0]]])  # two 2 x 2 matrices
    B = Tensor([[1.0, -1.0], [2.0, 0.5]])
    e = explain_tensors(T.sum(A @ B), {"A": A, "B": B})
    to_b = edge(e, "#1", "B")
    assert to_b.rule == "A.T @ g, summed over the broadcast batch axes back to (2, 2)"
    # by hand: sum over the batch of A_k^T 1 (each column of A_k summed, in every column of the result)
    rows = [[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 0.5], [2.0, 1.0]]]
    expected = [[sum(rows[k][i][r] for k in range(2) for i in range(2)) for _ in range(2)] for r in range(2)]
    assert close(nested(to_b.sent, e.backend), expected)


def test_a_number_used_everywhere_is_summed_over_every_element(backend):
    a, x = Tensor(2.0), Tensor([1.0, 2.0, 3.0])
    e = explain_tensors(T.sum(a * x), {"a": a, "x": x})
    to_a = edge(e, "#1", "a")
    assert to_a.rule == "g * x, summed over every element (a number used everywhere)"
    assert nested(to_a.sent, e.backend) == 6.0


def test_reductions_say_how_g_spreads(backend):
    A = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    e = explain_tensors(T.sum(T.mean(A, axis=1)), {"A": A})
    to_a = edge(e, "#1", "A")
    assert to_a.rule == "g / 3 broadcast over axis 1 to (2, 3)"
    assert close(nested(to_a.sent, e.backend), [[1 / 3] * 3] * 2)
    e = explain_tensors(T.max(A), {"A": A})
    assert edge(e, "#1", "A").rule.startswith("g where A == #1")


def test_softmax_sends_s_times_g_minus_s_dot_g(backend):
    zs, ws = [1.0, 2.0, 3.0], [1.0, 0.0, -1.0]
    z, w = Tensor(zs), Tensor(ws, requires_grad=False)
    e = explain_tensors(T.sum(T.softmax(z) * w), {"z": z})
    to_z = edge(e, "#1", "z")
    assert to_z.rule == "#1 * (g - sum(g * #1, axis=0))"
    total = sum(math.exp(v) for v in zs)
    s = [math.exp(v) / total for v in zs]
    sg = sum(si * gi for si, gi in zip(s, ws, strict=True))  # g arriving at softmax is w
    assert close(nested(to_z.sent, e.backend), [si * (gi - sg) for si, gi in zip(s, ws, strict=True)])


@pytest.mark.parametrize(("build", "rule"), [
    (lambda A: T.sum(A.T * A.T), "g.T"),
    (lambda A: T.sum(T.reshape(A, 3, 2) ** 2), "g reshaped to (2, 3)"),
    (lambda A: T.sum(A[1]), "g at the places A[1] came from, 0 elsewhere in (2, 3)"),
    (lambda A: T.sum(A[:, 0:2]), "g at the places A[:, :2] came from, 0 elsewhere in (2, 3)"),
    (lambda A: T.norm(A), "g * A / #1"),
    (lambda A: T.logsumexp(A), "g * exp(A - #1)  (that is g * softmax(A))"),
    (lambda A: T.sum(T.where(Tensor([1.0, 0.0, 1.0], requires_grad=False), Tensor(0.0, requires_grad=False), A)),
     "where([1, 0, 1], 0, g)"),
    (lambda A: T.sum(T.where(Tensor([[[1.0]], [[0.0]]], requires_grad=False), A, 0.0)),
     "where([[[1]], [[0]]], g, 0), summed over axis 0 back to (2, 3)"),
])
def test_shape_operations_and_the_rest_have_a_rule(backend, build, rule):
    A = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    e = explain_tensors(build(A), {"A": A})
    first = next(x for x in e.backward if e.forward[x.input].label == "A")
    assert first.rule == rule


def test_a_variable_called_g_renames_the_upstream_gradient(backend):
    g, x = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    e = explain_tensors(T.sum(g * x), {"g": g, "x": x})
    assert e.upstream_name == "G"
    assert edge(e, "#1", "g").rule == "G * x"


def test_a_tensor_output_is_refused_with_a_way_out():
    x = Tensor([1.0, 2.0])
    with pytest.raises(UsageError, match=r"shape \(2,\).*sum\(\.\.\.\)") as caught:
        explain_tensors(T.tanh(x), {"x": x})
    assert caught.value.exit_code == 2


# -- the text: numbers where small, shapes where large ----------------------------------------


NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def numbers_after(text, marker):
    """The numbers printed on the lines of the block that starts with `marker`, up to the next heading."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(marker))
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line)
    return block


def test_the_text_prints_g_x_and_the_product_for_a_2x2(backend):
    W, x, b = [[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0], [0.0, 1.0]
    Wt, xt, bt = Tensor(W), Tensor(x), Tensor(b)
    out = T.sum(Wt @ xt + bt)
    text = explanation_text(explain_tensors(out, {"W": Wt, "x": xt, "b": bt}))
    block = numbers_after(text, "#1 → W  grad of W = g @ x.T")
    rows = {line.split()[0]: line for line in block if line.split()}
    assert "[1, 1]" in rows["g"]
    assert "[1, 1]" in rows["x"]
    start = next(i for i, line in enumerate(block) if line.split()[0] == "sends")
    printed = [[float(v) for v in re.findall(NUMBER, line)] for line in block[start:]]
    assert printed == outer([1.0, 1.0], x)  # g x^T with g = 1 (sum's gradient), by hand
    assert "W.T @ g" in text
    # the forward pass: each node's shape and values
    assert re.search(r"^#1\s+matmul\s+W, x\s+\(2,\)\s+\[3, 7\]", text, re.M)
    assert re.search(r"^W\s+var\s+\(2, 2\)\s+\[\[1, 2\],\n\s+\[3, 4\]\]", text, re.M)


def test_large_tensors_are_summarised_by_shape(backend):
    n = 20
    W = Tensor([[float(i - j) for j in range(n)] for i in range(n)])
    x = Tensor([1.0] * n)
    out = T.sum(W @ x)
    e = explain_tensors(out, {"W": W, "x": x})
    text = explanation_text(e)
    assert re.search(r"^W\s+var\s+\(20, 20\)\s+400 numbers from -19 to 19$", text, re.M)  # the shape: its column
    assert "    W      shape (20, 20), 400 numbers from -19 to 19" in text  # an edge's operand
    assert "    g      shape (20,), 20 numbers, all 1" in text
    assert "[[" not in text  # no matrix printed: all are large
    result = "\n".join(result_lines(e, out.array))
    assert "∂/∂W   shape (20, 20), 400 numbers" in result and "--json prints every one" in result
    # --json keeps every value
    document = e.to_json()
    w_step = next(s for s in document["forward"] if s["label"] == "W")
    assert w_step["shape"] == [20, 20] and w_step["value"][3][5] == -2.0


def test_json_has_every_edge_with_its_numbers(backend):
    out, leaves, texts = neuron([[1.0, 2.0], [3.0, 4.0]], [1.0, -2.0], [0.5, -0.5])
    document = json.loads(json.dumps(explain_tensors(out, leaves, texts).to_json()))
    to_w = next(e for e in document["backward"] if e["edge"] == "#1 → W")
    assert to_w["rule"] == "grad of W = g @ x.T" and to_w["shape"] == [2, 2]
    assert close(to_w["product"], outer(to_w["upstream"], [1.0, -2.0]))
    steps = {s["label"]: s for s in document["forward"]}
    assert steps["#2"]["source"] == "W@x + b" and steps["#2"]["shape"] == [2]


# -- the drawings carry the shapes ---------------------------------------------------------------


def small_view():
    out, leaves, texts = neuron([[1.0, 2.0], [3.0, 4.0]], [1.0, -2.0], [0.5, -0.5])
    texts.update({id(t): name for name, t in leaves.items()})
    return out, leaves, TensorView.of(out, texts)


def test_dot_records_carry_label_shape_data_and_grad(backend):
    out, leaves, view = small_view()
    records = dict(re.findall(r'^  (n\d+) \[label="\{ (.*?) \}"', "\n".join(dot_lines(view)), re.M))
    fields = {r.split(" | ")[0]: r.split(" | ") for r in records.values()}
    assert fields["W"][1] == "(2, 2)" and fields["x"][1] == "(2,)" and fields["#4"][1] == "()"
    out.backward()
    assert fields["W"][2] == "data [[1, 2], [3, 4]]"
    assert fields["W"][3].startswith("grad ")
    assert close(json.loads(fields["W"][3][5:]), leaves["W"].grad.tolist(), tol=1e-5)  # six digits
    assert re.search(r'n\dop \[label="@"', "\n".join(dot_lines(view)))


def test_mermaid_and_json_carry_the_shapes(backend):
    out, leaves, view = small_view()
    mermaid = "\n".join(mermaid_lines(view))
    labels = dict(re.findall(r'^  (n\d+)\["(.*?)"\]', mermaid, re.M))
    shapes = [label.split("<br/>")[1] for label in labels.values()]
    assert shapes == ["(2, 2)", "(2,)", "(2,)", "(2,)", "(2,)", "(2,)", "()"]
    document = json.loads("\n".join(json_lines(view, "sum(tanh(W@x + b))")))
    by_label = {n["label"]: n for n in document["nodes"]}
    assert by_label["W"]["shape"] == [2, 2] and by_label["#4"]["shape"] == []
    out.backward()
    assert by_label["W"]["grad"] == leaves["W"].grad.tolist()
    assert by_label["#1"]["source"] == "W@x" and by_label["#1"]["op"] == "matmul"
    assert [(e["from"], e["to"]) for e in document["edges"]] == [(0, 2), (1, 2), (2, 4), (3, 4), (4, 5), (5, 6)]


def test_large_nodes_show_the_shape_alone_in_drawings(backend):
    W = T.ones(30, 30)
    x = T.ones(30)
    view = TensorView.of(T.sum(W @ x))
    dot = "\n".join(dot_lines(view))
    assert re.search(r'n0 \[label="\{ var#1 \| \(30, 30\) \}"\]', dot)
    document = json.loads("\n".join(json_lines(view)))
    assert len(document["nodes"][0]["data"]) == 30  # the JSON holds every value


def test_the_tree_shows_shapes_values_and_gradients(backend):
    from rich.console import Console

    _, _, view = small_view()
    console = Console(color_system=None, width=200)
    with console.capture() as captured:
        console.print(graph_tree(view))
    lines = captured.get().splitlines()
    assert lines[0].startswith("sum  ()  = ")
    assert any(re.search(r"matmul  \(2,\)  = \[-3, -5\]  grad \[", line) for line in lines)
    assert any(re.search(r"W  \(2, 2\)  = \[\[1, 2\], \[3, 4\]\]", line) for line in lines)


def test_on_a_terminal_the_same_lines_are_styled(backend):
    from rich.console import Console

    from autodiff_cli.tensor_explain_text import print_explanation

    out, leaves, texts = neuron([[1.0, 2.0], [3.0, 4.0]], [1.0, -2.0], [0.5, -0.5])
    named = {"W": leaves["W"], "x": leaves["x"], "[b]": leaves["b"]}  # a name like [b] is not markup
    e = explain_tensors(out, named, texts)
    plain = Console(color_system=None, width=100, record=True)
    with plain.capture() as captured:
        print_explanation(plain, e)
    assert captured.get() == explanation_text(e) + "\n"
    assert "[b]" in captured.get()
    styled = Console(color_system="truecolor", force_terminal=True, width=100)
    with styled.capture() as captured:
        print_explanation(styled, e)
    assert "\x1b[" in captured.get()


def test_unnamed_leaves_are_numbered_by_kind():
    from autodiff_cli.tensor_graph import forward_order, node_labels

    big, v = T.ones(5, 5, requires_grad=False), T.ones(5, 5)
    w, big2 = T.ones(20), T.ones(20, requires_grad=False)
    out = T.sum(big * v) + T.sum(w * big2)
    labels = node_labels(forward_order(out))
    assert [label for label in labels if not label.startswith("#")] == ["const#1", "var#1", "var#2", "const#2"]


def test_every_operation_of_the_tensor_layer_has_its_rule():
    """A node("name", ...) added to autodiff_cli/tensor/ without its line in tensor_rules.RULES fails here."""
    from pathlib import Path

    from autodiff_cli.tensor_rules import RULES

    package = Path(__file__).resolve().parent.parent / "autodiff_cli" / "tensor"
    made = set()
    for path in package.rglob("*.py"):
        made |= set(re.findall(r'(?:\bnode|_reduce|_reshaped|_extreme)\("([a-z_]+)"', path.read_text()))
    assert {"matmul", "sum", "softmax", "getitem", "reshape"} <= made  # the scan finds them
    assert sorted(made - set(RULES)) == []


OPERATIONS = {
    "broadcast_to": lambda A, v: T.sum(T.broadcast_to(v, (2, 3)) * A),
    "clip": lambda A, v: T.sum(T.clip(A, 1.5, 4.5) * A),
    "where": lambda A, v: T.sum(T.where(Tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], requires_grad=False), A, v)),
    "concatenate": lambda A, v: T.sum(T.concat([A, A * 2], axis=1) ** 2),
    "stack": lambda A, v: T.sum(T.stack([v, v * v]) * 3),
    "squeeze": lambda A, v: T.sum(T.squeeze(T.unsqueeze(v, 0)) * v),
    "permute": lambda A, v: T.sum(T.permute(T.reshape(A, 1, 2, 3), 2, 0, 1) ** 2),
    "softmax": lambda A, v: T.sum(T.softmax(A, axis=1) * A),
    "log_softmax": lambda A, v: T.sum(T.log_softmax(A, axis=0)),
    "prod": lambda A, v: T.prod(v),
    "min": lambda A, v: T.sum(T.min(A, axis=0)),
    "det": lambda A, v: T.det(A[:, 0:2] + T.eye(2)),
    "inv": lambda A, v: T.sum(T.inv(A[:, 1:3])),
    "logdet": lambda A, v: T.logdet(A[:, 0:2] @ A[:, 0:2].T),
    "solve": lambda A, v: T.sum(T.solve(A[:, 0:2], v[0:2])),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_operations_edges_add_up_to_backward(backend, name):
    A = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])
    v = Tensor([0.5, -1.0, 2.0])
    out = OPERATIONS[name](A, v)
    e = explain_tensors(out, {"A": A, "v": v})
    assert all("backward step applied" not in edge_.rule for edge_ in e.backward)
    assert any(e.forward[edge_.node].op == name or name in ("broadcast_to", "stack") for edge_ in e.backward)
    mine = {n: nested(g, e.backend) for n, g in e.gradients.items()}
    out.backward()
    assert mine == {"A": A.grad.tolist() if A.grad is not None else [[0.0] * 3] * 2,
                    "v": v.grad.tolist() if v.grad is not None else [0.0] * 3}


def test_sixteen_numbers_are_printed_seventeen_summarised(backend):
    x16, x17 = Tensor([float(k) for k in range(16)]), Tensor([float(k) for k in range(17)])
    text = explanation_text(explain_tensors(T.sum(x16) + T.sum(x17), {"a": x16, "b": x17}))
    assert re.search(r"^a\s+var\s+\(16,\)\s+\[0, 1, 2, .*, 15\]$", text, re.M)
    assert re.search(r"^b\s+var\s+\(17,\)\s+17 numbers from 0 to 16$", text, re.M)
