"""jacobian, hessian and check of tensor expressions, against hand-derived matrix calculus and central
differences computed here (never against our own output)."""

import json
import math

import pytest
from helpers import run

import autodiff_cli.cli.tensor_calculus as tensor_calculus


def softmax(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    return [v / sum(e) for v in e]


def close(got, expected, rel=1e-12, abs=1e-15):
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(
            close(g, e, rel, abs) for g, e in zip(got, expected, strict=True))
    return got == pytest.approx(expected, rel=rel, abs=abs)


def ok_json(*args):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- jacobian -----------------------------------------------------------------------------------


def test_softmax_jacobian_is_diag_s_minus_s_s_transposed():
    s = softmax([1.0, 2.0, 3.0])
    expected = [[s[i] * (i == j) - s[i] * s[j] for j in range(3)] for i in range(3)]
    doc = ok_json("jacobian", "softmax(z)", "--z", "[1,2,3]")
    assert doc["variables"] == ["z"]
    assert close(doc["value"], s)
    assert close(doc["jacobian"]["z"], expected)


def test_a_jacobian_of_vectors_is_a_labelled_matrix():
    s = softmax([1.0, 2.0, 3.0])
    result = run("jacobian", "softmax(z)", "--z", "[1,2,3]")
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["value", "z[0]", "z[1]", "z[2]"]
    assert [r.split()[0] for r in rows] == ["softmax(z)[0]", "softmax(z)[1]", "softmax(z)[2]"]
    for i, row in enumerate(rows):
        numbers = [float(v) for v in row.split()[1:]]
        assert close(numbers, [s[i]] + [s[i] * (i == j) - s[i] * s[j] for j in range(3)])


def test_jacobian_shapes_are_the_output_s_then_each_input_s():
    w = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    x = [1.0, -1.0]
    doc = ok_json("jacobian", "W@x", "--W", json.dumps(w), "--x", json.dumps(x))
    # d(Wx)_i / dW_jk = delta_ij x_k: shape (3,) + (3, 2); d(Wx)/dx = W
    assert close(doc["jacobian"]["W"], [[[x[k] * (i == j) for k in range(2)] for j in range(3)] for i in range(3)])
    assert close(doc["jacobian"]["x"], w)
    text = run("jacobian", "W@x", "--W", json.dumps(w), "--x", json.dumps(x))
    assert "shape (3, 3, 2): the output's (3,), then W's (3, 2)" in text.stdout
    only = ok_json("jacobian", "W@x", "--W", json.dumps(w), "--x", json.dumps(x), "--wrt", "x")
    assert list(only["jacobian"]) == ["x"]


def test_a_long_expression_s_rows_are_out_i():
    result = run("jacobian", "softmax(z) * 2 - 1 + 0 * z", "--z", "[1,2]")
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["out[0]", "out[1]"]
    s = softmax([1.0, 2.0])
    # d/dz (2 s - 1) = 2 (diag(s) - s s^T)
    first = [float(v) for v in result.stdout.splitlines()[1].split()[1:]]
    assert close(first, [2 * s[0] - 1, 2 * (s[0] - s[0] * s[0]), -2 * s[0] * s[1]])


def test_the_jacobian_of_one_number_is_a_row():
    result = run("jacobian", "sum(x^2)", "--x", "[1,2]")
    assert result.stdout.splitlines() == ["           value   x[0]   x[1]", "sum(x^2)   5.0     2.0    4.0"]


def test_a_tensor_jacobian_takes_one_expression():
    result = run("jacobian", "softmax(z)", "z*2", "--z", "[1,2]")
    assert result.exit_code == 2 and "one expression" in result.stderr


def test_scalar_jacobian_refuses_wrt_and_is_otherwise_unchanged():
    assert run("jacobian", "x*y", "x+y", "x=1", "y=2", "--wrt", "x").exit_code == 2
    doc = ok_json("jacobian", "x*y", "x+y", "x=1", "y=2")
    assert doc == {"expressions": ["x*y", "x+y"], "variables": ["x", "y"], "values": [2.0, 3.0],
                   "jacobian": [[2.0, 1.0], [1.0, 1.0]]}


# -- hessian ------------------------------------------------------------------------------------


def test_hessian_of_a_quadratic_form_is_the_symmetric_part():
    a = [[2.0, 1.0], [0.5, 3.0]]  # not symmetric: the Hessian of 0.5 x^T A x is (A + A^T) / 2
    x = [1.0, 2.0]
    doc = ok_json("hessian", "0.5*x@A@x", "--x", json.dumps(x), "--A", json.dumps(a), "--wrt", "x")
    assert doc["elements"] == ["x[0]", "x[1]"]
    assert close(doc["hessian"], [[(a[i][j] + a[j][i]) / 2 for j in range(2)] for i in range(2)])
    assert close(doc["gradient"]["x"], [sum((a[i][j] + a[j][i]) / 2 * x[j] for j in range(2)) for i in range(2)])


def test_hessian_over_every_variable_flattens_them_in_order_row_major():
    a = [[2.0, 1.0], [1.0, 3.0]]
    x = [1.0, 2.0]
    doc = ok_json("hessian", "0.5*x@A@x", "--x", json.dumps(x), "--A", json.dumps(a))
    labels = ["x[0]", "x[1]", "A[0,0]", "A[0,1]", "A[1,0]", "A[1,1]"]
    assert doc["elements"] == labels
    # f = 0.5 sum_ij x_i A_ij x_j: d2f/dx_k dx_l = (A + A^T)_kl / 2, d2f/dx_k dA_ij = (delta_ki x_j + x_i delta_kj)/2,
    # d2f/dA dA = 0
    def second(p, q):
        (kind_p, *ip), (kind_q, *iq) = p, q
        if kind_p == kind_q == "x":
            return (a[ip[0]][iq[0]] + a[iq[0]][ip[0]]) / 2
        if kind_p == kind_q == "A":
            return 0.0
        (k,), (i, j) = (ip, iq) if kind_p == "x" else (iq, ip)
        return ((k == i) * x[j] + x[i] * (k == j)) / 2
    index = [("x", 0), ("x", 1), ("A", 0, 0), ("A", 0, 1), ("A", 1, 0), ("A", 1, 1)]
    assert close(doc["hessian"], [[second(p, q) for q in index] for p in index])


def test_hessian_text_labels_rows_and_columns_with_elements():
    result = run("hessian", "0.5*x@A@x", "--x", "[1,2]", "--A", "[[2,1],[1,3]]", "--wrt", "x")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["value", "9.0"]  # 0.5 * (1*2*1 + 2*1*2 + 1*1*2 + 2*3*2) = 9
    assert lines[1].split() == ["∂/∂x", "[4.0", "7.0]"]  # A x = (4, 7) for symmetric A
    assert lines[3].split() == ["hessian", "x[0]", "x[1]"]
    assert [float(v) for v in lines[4].split()[1:]] == pytest.approx([2.0, 1.0], rel=1e-12)
    assert [float(v) for v in lines[5].split()[1:]] == pytest.approx([1.0, 3.0], rel=1e-12)


def test_on_a_terminal_the_matrices_are_tables(monkeypatch):
    monkeypatch.setattr(tensor_calculus, "is_terminal", lambda: True)
    monkeypatch.setenv("NO_COLOR", "1")
    hessian = run("hessian", "0.5*x@A@x", "--x", "[1,2]", "--A", "[[2,1],[1,3]]", "--wrt", "x").stdout
    assert "Hessian" in hessian and "x[0]" in hessian and "\x1b" not in hessian
    row = next(line for line in hessian.splitlines() if line.strip("│ ").startswith("x[1]"))
    assert [float(v) for v in row.replace("│", " ").split()[1:]] == [1.0, 3.0]
    jacobian = run("jacobian", "softmax(z)", "--z", "[1,2]").stdout
    assert "Jacobian" in jacobian and "softmax(z)[1]" in jacobian


def test_hessian_needs_one_number():
    result = run("hessian", "x*2", "--x", "[1,2]")
    assert result.exit_code == 2 and "hessian needs an expression whose value is one number" in result.stderr


# -- check --------------------------------------------------------------------------------------


def central(f, values, h=1e-6):
    """Central differences of f at each element of a flat list of values."""
    out = []
    for k in range(len(values)):
        up, down = list(values), list(values)
        up[k] += h
        down[k] -= h
        out.append((f(up) - f(down)) / (2 * h))
    return out


def test_check_compares_every_element_of_every_gradient():
    w = [[0.1, 0.2], [0.3, 0.4]]
    x = [1.0, 2.0]

    def f(flat):  # sum(tanh(W@x)) with W's four numbers, then x's two
        ww, xx = [flat[0:2], flat[2:4]], flat[4:6]
        return sum(math.tanh(sum(a * b for a, b in zip(row, xx, strict=True))) for row in ww)

    numeric = central(f, [0.1, 0.2, 0.3, 0.4, 1.0, 2.0])
    doc = ok_json("check", "sum(tanh(W@x))", "--W", json.dumps(w), "--x", json.dumps(x))
    assert doc["ok"] is True
    assert [c["derivative"] for c in doc["checks"]] == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "x[0]", "x[1]"]
    assert [c["numeric"] for c in doc["checks"]] == pytest.approx(numeric, rel=1e-7)
    text = run("check", "sum(tanh(W@x))", "--W", json.dumps(w), "--x", json.dumps(x))
    assert text.exit_code == 0
    assert text.stdout.splitlines()[-1].startswith("passed: 6 derivatives within tolerance 1e-05")


def test_check_fails_on_a_wrong_gradient(monkeypatch):
    right = tensor_calculus.gradient

    def wrong(point, names, command="grad"):
        root, grads = right(point, names, command)
        grads = {n: [g * 1.01 for g in values] for n, values in grads.items()}
        return root, grads

    monkeypatch.setattr(tensor_calculus, "gradient", wrong)
    import autodiff_cli.cli.tensor_check as tensor_check
    monkeypatch.setattr(tensor_check, "gradient", wrong)
    result = run("check", "sum(x^3)", "--x", "[1,2]")
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "gradient check failed" in result.stderr


def test_check_order_2_checks_the_hessian_too():
    doc = ok_json("check", "sum(x^3)", "--x", "[1,2]", "--order", "2")
    # d2/dx_i dx_j sum(x^3) = 6 x_i delta_ij
    rows = {c["derivative"]: c for c in doc["checks"]}
    assert list(rows) == ["x[0]", "x[1]", "x[0],x[0]", "x[0],x[1]", "x[1],x[1]"]
    assert [rows[k]["analytic"] for k in ("x[0],x[0]", "x[0],x[1]", "x[1],x[1]")] == pytest.approx(
        [6.0, 0.0, 12.0], abs=1e-9)
    assert doc["ok"] is True


def test_check_with_wrt_and_eps_checks_those_elements_with_that_step():
    doc = ok_json("check", "sum(A@x)", "--A", "[[1,2],[3,4]]", "--x", "[0.5,-1]", "--wrt", "x", "--eps", "1e-4")
    # d/dx sum(A x) = column sums of A = (4, 6); a linear function: the difference is exact up to rounding
    assert [c["derivative"] for c in doc["checks"]] == ["x[0]", "x[1]"]
    assert [c["numeric"] for c in doc["checks"]] == pytest.approx([4.0, 6.0], rel=1e-9)
    assert doc["eps"] == 1e-4


def test_check_needs_one_number_and_variables():
    assert run("check", "x*2", "--x", "[1,2]").exit_code == 2
    assert run("check", "sum([1,2])").exit_code == 2
