"""eval and grad of tensor expressions on the command line, against matrix calculus derived by hand.

References are computed here with plain Python loops from the formulas (never from our own output):
the gradient of sum((A@x - b)^2) is 2 A^T (Ax - b) in x, 2 (Ax - b) x^T in A and -2 (Ax - b) in b;
the gradient of logsumexp(z) is softmax(z).  test_tensor_cli_torch.py compares with PyTorch.
"""

import json
import math

import pytest
from helpers import run

A = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
X = [1.0, -1.0]
B = [0.0, 1.0, 2.0]


def matvec(m, v):
    return [sum(a * b for a, b in zip(row, v, strict=True)) for row in m]


def least_squares_reference(a, x, b):
    """value and gradients of sum((A@x - b)^2), by the formulas."""
    r = [ax - bi for ax, bi in zip(matvec(a, x), b, strict=True)]
    value = sum(ri * ri for ri in r)
    grad_x = [2 * sum(a[i][j] * r[i] for i in range(len(a))) for j in range(len(x))]
    grad_a = [[2 * r[i] * x[j] for j in range(len(x))] for i in range(len(a))]
    grad_b = [-2 * ri for ri in r]
    return value, grad_a, grad_x, grad_b


def softmax(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    return [v / sum(e) for v in e]


def close(got, expected, rel=1e-15, abs=0.0):
    """Nested lists equal within a relative tolerance, shape included."""
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(
            close(g, e, rel, abs) for g, e in zip(got, expected, strict=True))
    return got == pytest.approx(expected, rel=rel, abs=abs)


def grad_json(*args, **kwargs):
    result = run("grad", *args, "--json", **kwargs)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- grad ---------------------------------------------------------------------------------------


def test_least_squares_gradient_is_the_hand_derived_one():
    value, grad_a, grad_x, grad_b = least_squares_reference(A, X, B)
    doc = grad_json("sum((A@x - b)^2)", "--A", json.dumps(A), "--x", json.dumps(X), "--b", json.dumps(B))
    assert doc["expression"] == "sum((A@x - b)^2)"
    assert doc["value"] == pytest.approx(value, rel=1e-15)
    assert list(doc["gradient"]) == ["A", "x", "b"]
    assert close(doc["gradient"]["A"], grad_a)
    assert doc["gradient"]["x"] == pytest.approx(grad_x, rel=1e-15)
    assert doc["gradient"]["b"] == pytest.approx(grad_b, rel=1e-15)


def test_least_squares_text_output_is_aligned_like_numpy():
    # by hand: r = Ax - b = (-1, -2, -3), value 14; 2 r x^T, 2 A^T r = (-44, -56), -2 r = (2, 4, 6)
    result = run("grad", "sum((A@x - b)^2)", "--A", "[[1,2],[3,4],[5,6]]", "--x", "[1,-1]", "--b", "[0,1,2]")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "value   14.0\n"
        "∂/∂A   [[-2.0  2.0]\n"
        "        [-4.0  4.0]\n"
        "        [-6.0  6.0]]\n"
        "∂/∂x   [-44.0 -56.0]\n"
        "∂/∂b   [2.0 4.0 6.0]\n")


def test_bindings_from_files_and_equals_signs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "A.json").write_text(json.dumps(A))
    value, _, grad_x, _ = least_squares_reference(A, X, B)
    (tmp_path / "b.json").write_text(json.dumps(B))
    doc = grad_json("sum((A@x - b)^2)", "A=@A.json", "x=[1,-1]", "b=@b.json")
    assert doc["value"] == pytest.approx(value) and doc["gradient"]["x"] == pytest.approx(grad_x)
    # the command: b from a CSV column, which is a vector (as numpy.loadtxt reads it)
    (tmp_path / "b.csv").write_text("0\n1\n2\n")
    doc = grad_json("sum((A@x - b)^2)", "A=@A.json", "x=[1,-1]", "b=@b.csv")
    assert doc["gradient"]["x"] == pytest.approx(grad_x) and doc["gradient"]["b"] == pytest.approx(
        least_squares_reference(A, X, B)[3])


def test_a_csv_matrix_binding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "A.csv").write_text("1,2\n3,4\n5,6\n")
    value, grad_a, _, _ = least_squares_reference(A, X, B)
    doc = grad_json("sum((A@x - b)^2)", "--A", "@A.csv", "--x", "[1,-1]", "--b", "[0,1,2]")
    assert doc["value"] == pytest.approx(value)
    assert close(doc["gradient"]["A"], grad_a)


def test_a_binding_from_stdin():
    value, _, grad_x, _ = least_squares_reference(A, X, B)
    doc = grad_json("sum((A@x - b)^2)", "--A", json.dumps(A), "x=@-", "--b", json.dumps(B), input="[1, -1]\n")
    assert doc["value"] == pytest.approx(value) and doc["gradient"]["x"] == pytest.approx(grad_x)


def test_a_csv_binding_from_stdin():
    # stdin that does not start with '[' is CSV: one column, a vector
    doc = grad_json("sum(x^2)", "x=@-", input="1\n-2\n3\n")
    assert doc["gradient"]["x"] == [2.0, -4.0, 6.0]


def test_an_array_bound_to_a_scalar_expression_makes_it_a_tensor_expression():
    # x^2 of a vector is a vector: grad says what to do instead; eval gives it
    assert run("grad", "x^2", "--x", "[1,2]").exit_code == 2
    assert json.loads(run("eval", "x^2", "--x", "[1,2]").stdout) == [1.0, 4.0]


def test_logsumexp_minus_a_logit_has_softmax_minus_one_hot_as_gradient():
    w = [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]
    x = [0.5, -1.0]
    c = [0.0, 0.1, -0.2]
    z = [zi + ci for zi, ci in zip(matvec(w, x), c, strict=True)]
    s = softmax(z)
    g = [si - (i == 2) for i, si in enumerate(s)]  # d/dz [logsumexp(z) - z[2]]
    value = math.log(sum(math.exp(v) for v in z)) - z[2]
    doc = grad_json("logsumexp(W@x + c) - (W@x + c)[2]", "--W", json.dumps(w), "--x", json.dumps(x),
                    "--c", json.dumps(c))
    assert doc["value"] == pytest.approx(value, rel=1e-14)
    assert doc["gradient"]["c"] == pytest.approx(g, rel=1e-12, abs=1e-15)
    assert doc["gradient"]["x"] == pytest.approx([sum(w[i][j] * g[i] for i in range(3)) for j in range(2)],
                                                 rel=1e-12, abs=1e-15)
    assert close(doc["gradient"]["W"], [[g[i] * x[j] for j in range(2)] for i in range(3)], rel=1e-12, abs=1e-15)


def test_wrt_selects_variables_in_its_order():
    _, grad_a, grad_x, _ = least_squares_reference(A, X, B)
    doc = grad_json("sum((A@x - b)^2)", "--A", json.dumps(A), "--x", json.dumps(X), "--b", json.dumps(B),
                    "--wrt", "x,A")
    assert list(doc["gradient"]) == ["x", "A"]
    assert doc["gradient"]["x"] == pytest.approx(grad_x) and close(doc["gradient"]["A"], grad_a)


def test_a_variable_no_gradient_reaches_has_zeros():
    # where(c, x, 0) sends no gradient to its condition: d/dc is 0 everywhere, d/dx is c != 0
    doc = grad_json("sum(where(c, x, 0))", "--c", "[1,0]", "--x", "[2,3]", "--wrt", "c")
    assert doc == {"expression": "sum(where(c, x, 0))", "value": 2.0, "gradient": {"c": [0.0, 0.0]}}
    assert grad_json("sum(where(c, x, 0))", "--c", "[1,0]", "--x", "[2,3]")["gradient"]["x"] == [1.0, 0.0]


def test_a_number_binding_beside_arrays_has_a_number_as_gradient():
    # d/dk sum(k * x^2) = sum(x^2) = 5, d/dx = 2 k x
    doc = grad_json("sum(k * x^2)", "--k", "3", "--x", "[1,-2]")
    assert doc["gradient"]["k"] == 5.0
    assert doc["gradient"]["x"] == [6.0, -12.0]


def test_a_large_gradient_is_summarised_in_text_and_whole_in_json():
    n = 12
    a = [[float(i == j) for j in range(n)] for i in range(n)]
    x = [float(j) for j in range(n)]
    args = ("sum((A@x)^2)", "--A", json.dumps(a), "--x", json.dumps(x))
    text = run("grad", *args)
    assert text.exit_code == 0
    assert "shape (12, 12), 144 numbers, the edges to 8 digits (--json prints every one in full):" in text.stdout
    assert "..." in text.stdout
    doc = grad_json(*args)
    # d/dA sum((Ax)^2) = 2 (Ax) x^T with A = I: 2 x x^T
    assert doc["gradient"]["A"] == [[2 * x[i] * x[j] for j in range(n)] for i in range(n)]


# -- eval -----------------------------------------------------------------------------------------


def test_eval_of_softmax_prints_one_line_of_json():
    result = run("eval", "softmax(z)", "--z", "[1,2,3]")
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == pytest.approx(softmax([1.0, 2.0, 3.0]), rel=1e-15)


def test_eval_of_a_tensor_can_be_bound_again():
    z = run("eval", "softmax(z)", "--z", "[1,2,3]").stdout.strip()
    again = run("eval", "sum(s)", "--s", z)
    assert again.exit_code == 0
    assert float(again.stdout) == pytest.approx(1.0, rel=1e-15)
    # the text reads back as the very same doubles
    assert json.loads(z) == json.loads(run("eval", "s", "--s", z).stdout)


def test_eval_of_a_0d_result_prints_the_number_as_the_scalar_path_does():
    tensor = run("eval", "sum(v)", "--v", "[0.1, 0.2]")
    scalar = run("eval", "x + y", "x=0.1", "y=0.2")
    assert tensor.exit_code == scalar.exit_code == 0
    assert tensor.stdout == scalar.stdout == "0.30000000000000004\n"


def test_eval_json_has_nested_lists():
    result = run("eval", "A.T", "--A", "[[1,2],[3,4]]", "--json")
    assert json.loads(result.stdout) == {"expression": "A.T", "value": [[1.0, 3.0], [2.0, 4.0]]}


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "code", "words"), [
    (["grad", "softmax(z)", "--z", "[1,2,3]"], 2, "jacobian"),
    (["grad", "sum(x)", "--x", "[1,2]", "--mode", "forward"], 2, "--mode forward"),
    (["grad", "sum(x)", "--x", "[1,2]", "--steps"], 2, "explain"),
    (["grad", "sum(x)", "--x", "[1,2]", "--wrt", "y"], 2, "no variable y"),
    (["grad", "sum(x)", "--x", "[1,2]", "--wrt", "pi"], 2, "constant"),
    (["grad", "sum(x)", "--pi", "[1,2]", "--x", "[1]"], 2, "constant"),
    (["eval", "sum(x)", "x=@-", "y=@-"], 2, "stdin"),
    (["eval", "-", "x=@-"], 2, "stdin"),
    (["grad", "sum(x)", "--x", "[1,2]", "--x", "[3]"], 2, "twice"),
    (["grad", "sum(x)"], 2, "x"),
    (["diff", "sum(x)"], 2, "out of scope"),
    (["diff", "x^2", "--x", "[1,2]"], 2, "out of scope"),
])
def test_errors_say_what_to_do_with_their_exit_code(args, code, words):
    result = run(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_json_errors_are_json():
    result = run("grad", "softmax(z)", "--z", "[1,2,3]", "--json")
    assert result.exit_code == 2
    assert "jacobian" in json.loads(result.stdout)["error"]["message"]


def test_an_unused_binding_is_a_warning():
    result = run("grad", "sum(x)", "--x", "[1,2]", "--y", "[3]")
    assert result.exit_code == 0
    assert "Warning: y is not in the expression; its value is ignored" in result.stderr


def test_a_failing_command_says_only_why():
    # as on the scalar path: the unused value's warning comes with a result, not before an error
    result = run("grad", "sum(log(x))", "--x", "[1,-1]", "--y", "[3]")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "Warning" not in result.stderr


def test_a_shape_error_is_a_math_error_with_a_caret():
    result = run("grad", "sum(A@x)", "--A", "[[1,2],[3,4],[5,6]]", "--x", "[1,2,3]")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "(3, 2)" in result.stderr and "(3,)" in result.stderr


def test_a_scalar_expression_with_number_bindings_stays_on_the_scalar_path():
    result = run("grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1")
    assert result.exit_code == 0
    # d/dx tanh(wx + b) = w (1 - tanh^2), at wx + b = -5
    t = math.tanh(-5.0)
    lines = dict(line.split() for line in result.stdout.splitlines())
    assert lines["value"] == repr(t)
    assert float(lines["∂/∂x"]) == pytest.approx(-3 * (1 - t * t), rel=1e-15)


def test_when_the_router_says_scalar_every_value_must_be_a_number(monkeypatch):
    # read_calls leaves arrays unread for the tensor path; should the router send such a call to the scalar
    # path anyway, the value is read as a number there, with the scalar path's own message
    import autodiff_cli.texpr.route as route

    monkeypatch.setattr(route, "wants_tensors", lambda text, values: False)
    result = run("eval", "x+1", "--x", "[1,2]")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the value of x must be a number")
