"""autodiff explain and autodiff graph on tensor expressions, from the command line.

The numbers are checked against matrix calculus done here by hand (g x^T, W^T g, 1 - tanh^2),
the drawings parsed back for their shapes, and every mistake for its message and exit code.
The library side (the rules, the sums, the layouts) is in test_tensor_views.py.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from helpers import run

W, X, B = [[1.0, 2.0], [3.0, 4.0]], [1.0, -1.0], [0.0, 1.0]
BINDINGS = ("--W", json.dumps(W), "--x", json.dumps(X), "--b", json.dumps(B))
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def outer(u, v):
    return [[a * b for b in v] for a in u]


def close(a, b, tol=1e-12):
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def by_hand():
    """sum(tanh(W@x + b)) by hand: z = W x + b, g = 1 - tanh(z)^2 arrives at W@x; dW = g x^T, dx = W^T g."""
    z = [sum(W[i][j] * X[j] for j in range(2)) + B[i] for i in range(2)]
    g = [1 - math.tanh(v) ** 2 for v in z]
    return z, g, outer(g, X), [sum(W[i][j] * g[i] for i in range(2)) for j in range(2)]


# -- explain --------------------------------------------------------------------------------


def test_explain_prints_each_edges_rule_and_numbers():
    result = run("explain", "sum(W@x + b)", "--W", "[[1,2],[3,4]]", "--x", "[1,1]", "--b", "[0,1]")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    at = lines.index("#1 → W  grad of W = g @ x.T")
    block = lines[at + 1 : at + 5]
    assert re.fullmatch(r"\s+g\s+\[1, 1\]", block[0]) and re.fullmatch(r"\s+x\s+\[1, 1\]", block[1])
    sent = [[float(v) for v in re.findall(NUMBER, line)] for line in block[2:4]]
    assert sent == outer([1.0, 1.0], [1.0, 1.0])  # g x^T, with g = 1 from sum
    assert "#1 → x  grad of x = W.T @ g" in lines
    assert "#3 → #2  grad of #2 = g broadcast to (2,)" in lines
    # the forward pass has each node's shape; the result is grad's, at full precision
    assert re.search(r"^#1\s+matmul\s+W, x\s+\(2,\)\s+\[3, 7\]\s+W@x$", result.stdout, re.M)
    assert result.stdout.endswith("Result, at full precision\nvalue   11.0\n∂/∂W   [[1.0 1.0]\n        [1.0 1.0]]\n"
                                  "∂/∂x   [4.0 6.0]\n∂/∂b   [1.0 1.0]\n")


def test_explain_json_has_the_numbers_of_every_edge():
    result = run("explain", "sum(tanh(W@x + b))", *BINDINGS, "--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    z, g, dw, dx = by_hand()
    assert close(document["value"], sum(math.tanh(v) for v in z))
    assert close(document["gradient"]["W"], dw) and close(document["gradient"]["x"], dx)
    assert close(document["gradient"]["b"], g)
    edges = {e["edge"]: e for e in document["backward"]}
    assert edges["#1 → W"]["rule"] == "grad of W = g @ x.T"
    assert close(edges["#1 → W"]["upstream"], g) and close(edges["#1 → W"]["product"], dw)
    assert edges["#3 → #2"]["local"]["formula"] == "sech(#2)^2"
    assert close(edges["#3 → #2"]["local"]["value"], g)
    shapes = {s["label"]: s["shape"] for s in document["forward"]}
    assert shapes == {"W": [2, 2], "x": [2], "#1": [2], "b": [2], "#2": [2], "#3": [2], "#4": []}


def test_explain_summarises_large_tensors(tmp_path):
    n = 12
    matrix = [[float((i * n + j) % 7 - 3) for j in range(n)] for i in range(n)]
    (tmp_path / "A.json").write_text(json.dumps(matrix))
    result = run("explain", "sum(A@v)", "--A", f"@{tmp_path / 'A.json'}", "--v", json.dumps([1.0] * n))
    assert result.exit_code == 0, result.stderr
    assert "    A      shape (12, 12), 144 numbers from -3 to 3" in result.stdout
    # v^T: each column sum of A, by hand
    column_sums = [sum(matrix[i][j] for i in range(n)) for j in range(n)]
    line = next(line for line in result.stdout.splitlines() if line.startswith("∂/∂v"))
    assert [float(v) for v in re.findall(NUMBER, line)] == column_sums


def test_explain_of_a_tensor_output_says_what_to_do():
    result = run("explain", "W@x", "--W", "[[1,2],[3,4]]", "--x", "[1,1]", "--json")
    assert result.exit_code == 2
    assert "shape (2,)" in result.stderr and "sum(...)" in result.stderr
    assert json.loads(result.stdout)["error"]["type"] == "UsageError"


@pytest.mark.parametrize("page", [("--html", "steps.html"), ("--output", "steps.html"), ("--html", "-")])
def test_explain_has_no_web_page_for_tensors(tmp_path, page):
    option, name = page
    target = name if name == "-" else str(tmp_path / name)
    result = run("explain", "sum(W@x)", "--W", "[[1,2],[3,4]]", "--x", "[1,1]", option, target)
    assert result.exit_code == 2
    assert "for a tensor expression, explain prints the passes" in result.stderr
    assert not (tmp_path / "steps.html").exists() and result.stdout == ""


def test_explain_shape_errors_are_math_errors():
    result = run("explain", "sum(W@x)", "--W", "[[1,2],[3,4]]", "--x", "[1,1,1]")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: shapes (2, 2) and (3,) cannot be multiplied")


def test_explain_needs_every_value():
    result = run("explain", "sum(W@x)", "--W", "[[1,2],[3,4]]")
    assert result.exit_code == 2
    assert "x" in result.stderr.splitlines()[0]


# -- graph ------------------------------------------------------------------------------------


def test_graph_tree_shows_shapes_values_and_gradients():
    result = run("graph", "sum(tanh(W@x + b))", *BINDINGS)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    dw = by_hand()[2]
    assert re.match(r"sum  \(\)  = -?\d", lines[0])
    w_line = next(line for line in lines if "W  (2, 2)" in line)
    printed = json.loads(w_line.split("grad ")[1])
    assert close(printed, dw, tol=1e-5)  # six significant digits


def test_graph_dot_mermaid_and_json_carry_the_shapes(tmp_path):
    dot = run("graph", "sum(tanh(W@x + b))", *BINDINGS, "--format", "dot").stdout
    records = re.findall(r'^  n\d+ \[label="\{ (.*?) \}"', dot, re.M)
    assert [r.split(" | ")[1] for r in records] == ["(2, 2)", "(2,)", "(2,)", "(2,)", "(2,)", "(2,)", "()"]
    mermaid = run("graph", "sum(tanh(W@x + b))", *BINDINGS, "--format", "mermaid").stdout
    assert [m.split("<br/>")[1] for m in re.findall(r'^  n\d+\["(.*?)"\]', mermaid, re.M)] == \
        ["(2, 2)", "(2,)", "(2,)", "(2,)", "(2,)", "(2,)", "()"]
    out = tmp_path / "graph.json"
    assert run("graph", "sum(tanh(W@x + b))", *BINDINGS, "-o", out).exit_code == 0
    document = json.loads(out.read_text())
    nodes = {n["label"]: n for n in document["nodes"]}
    _, g, dw, dx = by_hand()
    assert nodes["W"]["shape"] == [2, 2] and close(nodes["W"]["grad"], dw)
    assert close(nodes["x"]["grad"], dx) and close(nodes["#1"]["grad"], g)
    assert nodes["#1"]["op"] == "matmul" and nodes["#1"]["source"] == "W@x"
    assert document["expression"] == "sum(tanh(W@x + b))"


def test_graph_of_a_tensor_output_draws_values_without_gradients():
    result = run("graph", "W@x", "--W", "[[1,2],[3,4]]", "--x", "[1,1]", "--format", "json")
    assert result.exit_code == 0
    assert "Warning: the output has shape (2,)" in result.stderr
    nodes = json.loads(result.stdout)["nodes"]
    assert [n["grad"] for n in nodes] == [None, None, None]
    assert nodes[2]["data"] == [3.0, 7.0]


def test_graph_needs_every_value():
    result = run("graph", "sum(W@x)", "--W", "[[1,2],[3,4]]")
    assert result.exit_code == 2
    assert "no value for x" in result.stderr


def test_graph_of_a_bad_binding_is_a_usage_error():
    result = run("graph", "sum(W@x)", "--W", "[[1,2],[3]]", "--x", "[1,1]", "--format", "dot")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "W[1] has 1 item" in result.stderr
    assert result.stdout == ""


def test_explain_json_keeps_each_array_on_a_line():
    result = run("explain", "sum(W@x + b)", "--W", "[[1,2],[3,4]]", "--x", "[1,1]", "--b", "[0,1]", "--json")
    assert '      "value": [3.0, 7.0]\n' in result.stdout  # a record's array: one line, not a number a line
    assert '      "shape": [2, 2],\n' in result.stdout


def matmul2(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)] for i in range(2)]


def test_det_and_inv_edges_by_hand():
    a, b, c, d = 2.0, 1.0, 1.0, 3.0
    matrix = json.dumps([[a, b], [c, d]])
    document = json.loads(run("explain", "det(A)", "--A", matrix, "--json").stdout)
    (to_a,) = document["backward"]
    assert to_a["rule"] == "grad of A = g * #1 * inv(A).T"
    assert close(to_a["product"], [[d, -c], [-b, a]])  # the cofactors of a 2 x 2 matrix
    document = json.loads(run("explain", "sum(inv(A))", "--A", matrix, "--json").stdout)
    to_a = next(e for e in document["backward"] if e["edge"] == "#1 → A")
    assert to_a["rule"] == "grad of A = -#1.T @ g @ #1.T"
    det = a * d - b * c
    inverse_t = [[d / det, -c / det], [-b / det, a / det]]  # inv(A).T by the adjugate
    minus = matmul2(matmul2(inverse_t, [[1.0, 1.0], [1.0, 1.0]]), inverse_t)
    assert close(to_a["product"], [[-v for v in row] for row in minus])


@pytest.mark.parametrize("command", ["explain", "graph"])
def test_a_derivative_without_a_value_is_a_math_error(command):
    result = run(command, "norm(x)", "--x", "[0,0]", *(["--json"] if command == "explain" else []))
    assert result.exit_code == 1
    assert "all-zero tensor is not differentiable" in result.stderr
    if command == "explain":
        assert json.loads(result.stdout)["error"]["type"] == "MathError"
    else:
        assert result.stdout == ""


def test_every_nodes_gradient_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    w, x, b, c = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], [1.0, 2.0, -1.0], [0.1, -0.2], [3.0, -2.0]
    text = "sum(softmax(W@x + b) * c) + norm(W)"
    args = ("--W", json.dumps(w), "--x", json.dumps(x), "--b", json.dumps(b), "--c", json.dumps(c))
    document = json.loads(run("explain", text, *args, "--json").stdout)
    # PyTorch, with every intermediate's gradient kept
    tw, tx, tb, tc = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (w, x, b, c))
    m = tw @ tx
    z = m + tb
    s = torch.softmax(z, dim=0)
    p = s * tc
    for t in (m, z, s, p):
        t.retain_grad()
    (p.sum() + torch.linalg.norm(tw)).backward()
    expected = {"W@x": m.grad, "W@x + b": z.grad, "softmax(W@x + b)": s.grad, "softmax(W@x + b) * c": p.grad}
    source = {step["id"]: step["source"] for step in document["forward"]}
    upstream = {source[e["from"]]: e["upstream"] for e in document["backward"]}  # g arriving at each node
    for name, grad in expected.items():
        assert close(upstream[name], grad.tolist(), tol=1e-12), name
    for name, leaf in {"W": tw, "x": tx, "b": tb, "c": tc}.items():
        assert close(document["gradient"][name], leaf.grad.tolist(), tol=1e-12), name
