"""The tensor language: parsing (precedence, literals, indexing, keywords), running programs against values
worked out by hand, gradients against hand-derived matrix calculus and central differences, and every error
with its caret.  Each test runs on every backend that loads here."""

import math

import pytest

import autodiff_cli.tensor as T
from autodiff_cli import limits
from autodiff_cli.errors import BindingError, LimitError, MathError, ParseError, ShapeError
from autodiff_cli.parser import parse as scalar_parse
from autodiff_cli.tensor import Tensor
from autodiff_cli.texpr import parse, wants_tensors


@pytest.fixture(params=T.available(), autouse=True)
def backend(request):
    with T.use_backend(request.param) as b:
        yield b


def run(text, **values):
    """The value of a tensor expression, as nested lists (values: nested lists or numbers)."""
    program = parse(text)
    leaves = {n: Tensor(v) for n, v in values.items()}
    return program.build(leaves).root.tolist()


def close(a, b, tol=1e-12):
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


A = [[1.0, 2.0], [3.0, 4.0]]
B = [[0.0, 1.0], [-1.0, 2.0]]
x = [1.0, -1.0]


# -- the grammar -------------------------------------------------------------------------------


def test_matmul_binds_like_a_product_and_is_left_associative():
    # 2 * A @ x: (2A) @ x = [2*(1-2), 2*(3-4)] = [-2, -2]; A @ x * 3 = (A@x)*3 = [-3, -3]
    assert run("2 * A @ x", A=A, x=x) == [-2.0, -2.0]
    assert run("A @ x * 3", A=A, x=x) == [-3.0, -3.0]
    # A @ B @ x = (A@B)@x: A@B = [[-2, 5], [-4, 11]], times x = [-7, -15]
    assert run("A @ B @ x", A=A, B=B, x=x) == [-7.0, -15.0]
    # + binds looser: A @ x + x = [-1+1, -1-1]
    assert run("A @ x + x", A=A, x=x) == [0.0, -2.0]


def test_transpose_binds_tighter_than_power_and_minus():
    assert run("A.T", A=A) == [[1.0, 3.0], [2.0, 4.0]]
    assert run("-A.T", A=A) == [[-1.0, -3.0], [-2.0, -4.0]]
    assert run("A.T^2", A=A) == [[1.0, 9.0], [4.0, 16.0]]
    assert run("(A + B).T", A=A, B=B) == [[1.0, 2.0], [3.0, 6.0]]
    assert run("T(A)", A=A) == run("A.T", A=A)
    assert run("A.T.T", A=A) == A
    assert run("x.T", x=x) == x  # a vector's transpose is itself, as in NumPy


def test_indexing_and_slicing():
    M = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    assert run("M[1, :]", M=M) == [4.0, 5.0, 6.0]
    assert run("M[:, 0:2]", M=M) == [[1.0, 2.0], [4.0, 5.0], [7.0, 8.0]]
    assert run("M[-1]", M=M) == [7.0, 8.0, 9.0]
    assert run("M[-1, -2]", M=M) == 8.0
    assert run("M[::2, 1]", M=M) == [2.0, 8.0]
    assert run("M[1:, ::2]", M=M) == [[4.0, 6.0], [7.0, 9.0]]
    assert run("M[:1]", M=M) == [[1.0, 2.0, 3.0]]
    assert run("M[0][2]", M=M) == 3.0
    assert run("(M @ M)[0, 0]", M=M) == 30.0  # 1 + 8 + 21
    assert run("sum(M, axis=0)[2]", M=M) == 18.0
    assert run("M.T[0]", M=M) == [1.0, 4.0, 7.0]
    assert run("[10, 20, 30][1]") == 20.0


def test_array_literals_numbers_and_expressions():
    assert run("[1, 2, 3]") == [1.0, 2.0, 3.0]
    assert run("[[1, 2], [3, -4]]") == [[1.0, 2.0], [3.0, -4.0]]
    assert run("[[1, 2], [3, 4]] @ x", x=x) == [-1.0, -1.0]
    assert run("[pi, -e]") == [math.pi, -math.e]
    # elements may be expressions: stacked
    assert run("[x[0], 2*x[1], 3]", x=x) == [1.0, -2.0, 3.0]
    assert run("[x, 2*x]", x=x) == [[1.0, -1.0], [2.0, -2.0]]
    assert run("[[]]") == [[]]


def test_a_literal_with_variables_has_a_gradient_through_each_element():
    program = parse("sum([a*a, 3*a, b])")
    built = program.build({"a": 2.0, "b": 5.0})
    built.root.backward()
    assert built.root.item() == 4 + 6 + 5
    assert built.leaves["a"].grad.item() == 2 * 2 + 3  # d(a^2 + 3a)/da
    assert built.leaves["b"].grad.item() == 1.0


def test_keyword_arguments():
    M = [[1.0, 5.0], [3.0, 2.0]]
    assert run("sum(M, axis=0)", M=M) == [4.0, 7.0]
    assert run("sum(M, axis=-1)", M=M) == [6.0, 5.0]
    assert run("sum(M, axis=1, keepdims=1)", M=M) == [[6.0], [5.0]]
    assert run("sum(M, dim=1, keepdim=1)", M=M) == [[6.0], [5.0]]  # PyTorch's spellings
    assert run("sum(M, axis=[0, 1])", M=M) == 11.0
    assert run("max(M, axis=0)", M=M) == [3.0, 5.0]
    assert run("min(M, axis=1)", M=M) == [1.0, 2.0]
    assert run("mean(M, axis=0)", M=M) == [2.0, 3.5]
    assert run("prod(M, axis=1)", M=M) == [5.0, 6.0]


def test_max_of_one_tensor_reduces_of_several_is_elementwise():
    assert run("max(x)", x=[1.0, 7.0, -2.0]) == 7.0
    assert run("max(x, 0)", x=[1.0, 7.0, -2.0]) == [1.0, 7.0, 0.0]  # relu
    assert run("min(x, y, 0)", x=[1.0, -7.0], y=[3.0, -9.0]) == [0.0, -9.0]


def test_variables_in_order_of_first_appearance_without_constants():
    assert parse("sum(W@x + b) * pi + e").variables == ["W", "x", "b"]
    assert parse("x@x + x").variables == ["x"]
    assert parse("sum(x, axis=0)").variables == ["x"]  # the axis is not a variable


def test_the_scalar_notation_works_on_tensors_elementwise():
    v = [1.0, 2.0]
    assert run("2x", x=v) == [2.0, 4.0]
    assert run("x²", x=v) == [1.0, 4.0]
    assert run("|x - 2|", x=v) == [1.0, 0.0]
    assert run("√x", x=[4.0, 9.0]) == [2.0, 3.0]
    assert run("log(x, 2)", x=[8.0, 2.0]) == [3.0, 1.0]
    assert run("x^-1", x=[4.0, 2.0]) == [0.25, 0.5]


def test_a_scalar_expression_gives_the_scalar_parser_s_value():
    for text in ["tanh(w*x+b)", "2^3^2", "-x^2", "1/2*x", "log(x, 3) + sin(x)^2", "max(x, 1, 2.5)", "√x + |x|"]:
        values = {"w": 0.3, "x": 1.7, "b": -0.2}
        expected = scalar_parse(text)
        want = expected.evaluate({n: values[n] for n in expected.variables})
        program = parse(text)
        got = program.build({n: values[n] for n in program.variables}).root.item()
        assert got == pytest.approx(want, rel=1e-15), text


def test_build_runs_again_with_other_values():
    program = parse("sum(x * x)")
    assert program.build({"x": Tensor([1.0, 2.0])}).root.item() == 5.0
    assert program.build({"x": Tensor([3.0])}).root.item() == 9.0
    assert program.build({"x": 2.0}).root.item() == 4.0  # a number is a 0-d leaf


def test_labels_name_each_tensor_by_its_text():
    built = parse("sum(W@x + b)").build({"W": Tensor(A), "x": Tensor(x), "b": Tensor([0.0, 1.0])})
    labels = set(built.labels.values())
    assert {"W", "x", "b", "W@x", "W@x + b", "sum(W@x + b)"} <= labels
    assert built.labels[id(built.root)] == "sum(W@x + b)"
    assert built.labels[id(built.leaves["W"])] == "W"


def test_deep_nesting_parses_and_runs_without_recursion():
    depth = 3000
    text = "(" * depth + "x" + ")" * depth + " + " + "[" * 20 + "1" + "]" * 20
    assert run(text, x=2.0) == [[[[[[[[[[[[[[[[[[[[3.0]]]]]]]]]]]]]]]]]]]]
    long = " + ".join(["x"] * 5000)
    assert run(long, x=[1.0]) == [5000.0]


# -- functions, against values worked out by hand ---------------------------------------------


def test_reductions_and_linear_algebra():
    assert run("norm(x)", x=[3.0, 4.0]) == 5.0
    assert run("norm(M)", M=[[1.0, 2.0], [2.0, 4.0]]) == 5.0  # Frobenius: sqrt(1 + 4 + 4 + 16)
    assert run("trace(M)", M=A) == 5.0
    assert run("dot(x, y)", x=[1.0, 2.0], y=[3.0, 4.0]) == 11.0
    assert run("outer(x, y)", x=[1.0, 2.0], y=[3.0, 4.0]) == [[3.0, 4.0], [6.0, 8.0]]
    assert run("x @ y", x=[1.0, 2.0], y=[3.0, 4.0]) == 11.0
    assert run("x @ M", x=[1.0, 2.0], M=A) == [7.0, 10.0]
    assert run("reshape(M, 4)", M=A) == [1.0, 2.0, 3.0, 4.0]
    assert run("reshape(x, [2, -1])", x=[1.0, 2.0, 3.0, 4.0]) == A
    assert run("concat(x, y)", x=[1.0], y=[2.0, 3.0]) == [1.0, 2.0, 3.0]
    assert run("concat(M, M, axis=1)", M=A) == [[1.0, 2.0, 1.0, 2.0], [3.0, 4.0, 3.0, 4.0]]
    assert run("stack(x, y)", x=[1.0, 2.0], y=[3.0, 4.0]) == A
    assert run("stack(x, y, axis=1)", x=[1.0, 2.0], y=[3.0, 4.0]) == [[1.0, 3.0], [2.0, 4.0]]
    assert run("where(c, x, y)", c=[1.0, 0.0], x=[1.0, 2.0], y=[3.0, 4.0]) == [1.0, 4.0]


def test_softmax_family():
    z = [1.0, 2.0, 3.0]
    total = math.exp(1) + math.exp(2) + math.exp(3)
    assert close(run("softmax(z)", z=z), [math.exp(k) / total for k in (1, 2, 3)])
    assert close(run("log_softmax(z)", z=z), [k - math.log(total) for k in (1, 2, 3)])
    assert close(run("logsumexp(z)", z=z), math.log(total))
    M = [[1.0, 2.0], [1.0, 1.0]]
    assert close(run("softmax(M, axis=0)", M=M), [[0.5, math.e / (1 + math.e)], [0.5, 1 / (1 + math.e)]])
    assert close(run("logsumexp(M, axis=1)", M=M), [math.log(math.e + math.e**2), math.log(2 * math.e)])


# -- gradients: hand-derived matrix calculus and central differences ---------------------------


def test_least_squares_gradient_is_2_A_transpose_residual():
    Am, xv, bv = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [1.0, -1.0], [0.0, 1.0, 2.0]
    built = parse("sum((A@x - b)^2)").build({"A": Tensor(Am), "x": Tensor(xv), "b": Tensor(bv)})
    built.root.backward()
    r = [sum(Am[i][j] * xv[j] for j in range(2)) - bv[i] for i in range(3)]  # [-1, -2, -3]
    assert built.root.item() == sum(v * v for v in r)
    assert built.leaves["x"].grad.tolist() == [2 * sum(Am[i][j] * r[i] for i in range(3)) for j in range(2)]
    assert built.leaves["A"].grad.tolist() == [[2 * r[i] * xv[j] for j in range(2)] for i in range(3)]
    assert built.leaves["b"].grad.tolist() == [-2 * v for v in r]


def test_quadratic_form_gradient_is_half_A_plus_A_transpose_x():
    Am, xv = [[2.0, 1.0], [0.0, 3.0]], [1.0, 2.0]
    built = parse("0.5*x@A@x").build({"A": Tensor(Am), "x": Tensor(xv)})
    built.root.backward()
    assert built.root.item() == 0.5 * (2 * 1 + 1 * 2 + 0 + 3 * 4)
    assert built.leaves["x"].grad.tolist() == [0.5 * (2 * 1 + 2 * 1 + 1 * 2 + 0), 0.5 * (1 * 1 + 0 + 2 * 3 * 2)]
    assert built.leaves["A"].grad.tolist() == [[0.5 * xv[i] * xv[j] for j in range(2)] for i in range(2)]


@pytest.mark.parametrize("text", [
    "sum(tanh(W@x))", "logsumexp(W@x + c) - (W@x + c)[2]", "sum(log_softmax(W@x)[0:2])", "norm(W)^2 + norm(x)",
    "trace(W.T @ W) * mean(x)", "sum(softmax(W@x) * [1, 2, 3])", "prod(x) + max(W@x) - min(W, axis=0)[1]",
    "sum(outer(x, x) * W[0:2, :])", "dot(x, x) / sum(|W|)", "sum(concat(x, W[1]) ^ 3)", "sum(stack(x, x) @ x)",
    "sum(reshape(W, [2, 3]) @ [1, 2, 3])", "sum(where([1, 0, 1], W@x, 0))",
    "det(W[0:2, :]) * sum(inv(W[1:3, :]))", "logdet(W.T @ W + [[1, 0], [0, 1]]) + x @ inv(W[1:, :]) @ x",
])
def test_gradients_agree_with_central_differences(text):
    values = {"W": [[0.3, -0.5], [0.8, 0.1], [-0.4, 0.6]], "x": [0.7, -1.2], "c": [0.1, 0.0, -0.2]}
    program = parse(text)
    leaves = {n: Tensor(values[n]) for n in program.variables}
    built = program.build(leaves)
    built.root.backward()
    h = 1e-6
    for name in program.variables:
        flat = [v for row in values[name] for v in (row if isinstance(row, list) else [row])]
        shape = Tensor(values[name]).shape
        grad = built.leaves[name].grad.reshape(-1).tolist()
        for k in range(len(flat)):
            def at(delta, k=k, flat=flat, shape=shape, name=name):
                moved = list(flat)
                moved[k] += delta
                given = dict(leaves)
                given[name] = Tensor(moved, requires_grad=False).reshape(*shape) if shape else Tensor(moved[0])
                return program.build(given).root.item()
            numeric = (at(h) - at(-h)) / (2 * h)
            assert grad[k] == pytest.approx(numeric, rel=1e-5, abs=1e-6), (text, name, k)


def test_det_inv_logdet_and_their_gradients_by_hand():
    M = [[2.0, 1.0], [1.0, 3.0]]
    built = parse("det(M)").build({"M": Tensor(M)})
    built.root.backward()
    assert built.root.item() == pytest.approx(5.0, rel=1e-15)
    # d det(M) / dM = det(M) inv(M).T = the cofactor matrix [[3, -1], [-1, 2]]
    assert close(built.leaves["M"].grad.tolist(), [[3.0, -1.0], [-1.0, 2.0]])
    assert close(run("inv(M)", M=M), [[0.6, -0.2], [-0.2, 0.4]])
    assert close(run("logdet(M)", M=M), math.log(5.0))
    assert close(run("inv(M) @ M", M=M), [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(MathError, match="singular"):
        parse("inv(M)").build({"M": Tensor([[1.0, 2.0], [2.0, 4.0]])})
    with pytest.raises(ShapeError, match=r"det needs a square matrix") as caught:
        parse("1 + det(x)").build({"x": Tensor([1.0, 2.0])})
    assert caught.value.column == 5


# -- the scalar parser refuses tensor syntax -------------------------------------------------


@pytest.mark.parametrize(("text", "what", "column"), [
    ("x @ y", "'@' (the matrix product)", 3),
    ("x.T", "'.T' (the transpose)", 2),
    ("x[0]", "indexing x[...]", 2),
    ("[1, 2]", "an array [...]", 1),
    ("sum(x, axis=0)", "a keyword argument (axis=...)", 8),
    ("x[1:2]", "a slice (:)", 4),
])
def test_the_scalar_parser_refuses_tensor_syntax_with_a_caret(text, what, column):
    with pytest.raises(ParseError) as caught:
        scalar_parse(text)
    assert caught.value.message == (f"{what} is tensor syntax, which a scalar expression does not have: "
                                    "parse it with autodiff_cli.texpr.parse")
    assert caught.value.column == column


def test_an_equation_is_still_refused_as_one_and_a_keyword_is_not_an_equation():
    with pytest.raises(ParseError, match=r"an expression has no '='; give the right-hand side: x\^2"):
        parse("y = x^2")
    with pytest.raises(ParseError, match="an expression has no '='"):
        scalar_parse("f(x) = x^2")
    with pytest.raises(ParseError, match="keyword argument"):
        scalar_parse("sin(x=1)")


# -- parse errors: what the text alone decides ----------------------------------------------


@pytest.mark.parametrize(("text", "message", "column"), [
    ("sum(x, 0)", "sum takes 1 tensor, got 2: write the axis as sum(x, axis=0)", 1),
    ("sum(x, axis=y)", "axis= is a whole number written in the expression, like 0 or -1 (or a list of them: "
                       "[0, 1]), not y", 13),
    ("softmax(x, axis=0.5)", "axis= is a whole number written in the expression, like 0 or -1, not 0.5", 17),
    ("sum(x, keepdims=2)", "keepdims= is 0 or 1, not 2", 17),
    ("sum(x, axiss=1)", "sum has no keyword argument axiss= (it takes: axis=, keepdims=)", 8),
    ("dot(x, y, axis=0)", "dot has no keyword argument axis= (it takes: none)", 11),
    ("sum(x, axis=0, dim=1)", "axis= is given twice", 16),
    ("sum(x, axis=[0, 0])", "axis=[0, 0] names an axis twice", 13),
    ("sin(x, axis=0)", "sin takes no keyword arguments (axis=): it works element by element", 8),
    ("atan2(x)", "atan2 takes 2 arguments, got 1", 1),
    ("foo(x)", "unknown function foo", 1),
    ("sum()", "sum takes 1 tensor, got 0", 1),
    ("where(x, y)", "where takes 3 tensors, got 2", 1),
    ("reshape(x)", "reshape takes a tensor and the new shape", 1),
    ("reshape(x, y)", "reshape's shape is whole numbers written in the expression", 12),
    ("x[y]", "an index is a whole number written in the expression, like 0 or -1, not y", 3),
    ("x[0.5]", "an index is a whole number written in the expression, like 0 or -1, not 0.5", 3),
    ("x[a:2]", "a slice's bounds are whole numbers written in the expression, not a", 3),
    ("x[::-1]", "negative steps (x[::-1]) are not supported: a slice's step is 1 or more", 5),
    ("x[::0]", "a slice's step cannot be 0", 5),
    ("[[1, 2], [3]]", "[1] has 1 item, [0] has 2 items: the rows of an array have one shape", 10),
    ("[[1, 2], 3]", "[1] is a number, [0] has 2 items: the rows of an array have one shape", 10),
    ("[x=1]", "x= inside an array: an array holds numbers and expressions", 2),
    ("x[", "unexpected end of expression", 3),
    ("A @", "unexpected end of expression: an operand is missing", 4),
    ("x.y", "unexpected character '.' at column 2", 2),
    ("1/2x", "a product without '*' after '/' is ambiguous", 3),
    ("1e999", "number too large for a double: 1e999", 1),
])
def test_parse_errors_say_what_and_where(text, message, column):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.message.startswith(message)
    if column is not None:
        assert caught.value.column == column, caught.value.caret()
    assert caught.value.exit_code == 2


def test_a_name_of_a_tensor_function_is_a_variable_where_it_is_not_called():
    assert run("T * sum", T=2.0, sum=3.0) == 6.0


def test_a_parse_error_on_a_later_line_has_its_line_and_column():
    with pytest.raises(ParseError) as caught:
        parse("sum(x,\n  axis=y)")
    assert (caught.value.line, caught.value.column) == (2, 8)


def test_limits_hold_for_literals_and_nesting():
    with limits.raised(elements=5), pytest.raises(LimitError, match="the expression holds 6 items between commas"):
        parse("[[1, 2, 3], [4, 5, 6]]")
    with limits.raised(elements=5), pytest.raises(LimitError, match=r"the array would have 6 elements \(shape"):
        parse("[x, x, x]").build({"x": Tensor([1.0, 2.0])})  # an array of expressions: measured when it runs
    with limits.raised(axes=3), pytest.raises(LimitError, match="has 4 axes; the limit is 3 axes"):
        parse("[[[[1]]]]")
    with limits.raised(depth=10), pytest.raises(LimitError, match="nests parentheses, calls and"):
        parse("[" * 11 + "1" + "]" * 11)
    with limits.raised(nodes=5), pytest.raises(LimitError, match="more than 5 nodes"):
        parse("x + x + x + x + x + x + x")
    assert len(parse("[" + ", ".join(["1"] * 30_000) + "]").nodes) == 1  # one literal, one node
    with limits.raised(elements=1000, length=10**8), pytest.raises(LimitError, match=(
            "the expression holds 1,000,001 items between commas: an array in it would have as many elements")):
        parse("[" + "0," * 10**6 + "0]")  # measured before any of its numbers is read


# -- errors when the program runs: shapes, with the caret under the operator -----------------


@pytest.mark.parametrize(("text", "message", "column"), [
    ("A @ x", "shapes (2, 2) and (3,) cannot be multiplied: @ needs 2 == 3", 3),
    ("x @ A", "shapes (3,) and (2, 2) cannot be multiplied: @ needs 3 == 2", 3),
    ("A @ 2", "shapes (2, 2) and () cannot be multiplied: @ needs tensors with at least one axis", 3),
    ("sum(A) + (x + A)", "shapes (3,) and (2, 2) cannot be broadcast together: '+' needs each pair of sizes", 13),
    ("atan2(x, A)", "shapes (3,) and (2, 2) cannot be broadcast together: atan2(...) needs", 1),
    ("sum(A, axis=2)", "axis=2 is out of range for shape (2, 2): the axes are -2 to 1", 8),
    ("softmax(x, axis=-2)", "axis=-2 is out of range for shape (3,): the axes are -1 to 0", 12),
    ("softmax(s)", "axis=-1 is out of range: the tensor is a single number (shape ())", 1),
    ("sum(s, dim=0)", "axis=0 is out of range: the tensor is a single number (shape ())", 8),
    ("x[3]", "index 3 is out of range for axis 0 of shape (3,) (size 3: -3 to 2)", 3),
    ("A[0, -3]", "index -3 is out of range for axis 1 of shape (2, 2) (size 2: -2 to 1)", 6),
    ("A[5:, 2]", "index 2 is out of range for axis 1 of shape (2, 2) (size 2: -2 to 1)", 7),
    ("A[0, 0, 0]", "too many indices for a tensor of shape (2, 2): 3 given", 2),
    ("dot(A, x)", "dot needs two 1-D tensors of one length, not shapes (2, 2) and (3,)", 1),
    ("[x, A]", "the elements of an array have one shape: [1] has shape (2, 2), [0] has shape (3,)", 1),
    ("concat(x, A)", "shapes (3,) and (2, 2) cannot be concatenated along axis 0", 1),
    ("stack(x, x, axis=2)", "axis=2 is out of range for stack of shape (3,): the axes are -2 to 1", 13),
    ("trace(x)", "trace needs a matrix (2 axes), not shape (3,)", 1),
    ("reshape(A, 3)", "cannot reshape a tensor of shape (2, 2) (4 elements) into (3,)", 1),
    ("1 + outer(x, A)", "outer needs two 1-D tensors", 5),
])
def test_shape_errors_have_a_caret_under_the_operator(text, message, column):
    values = {"A": Tensor(A), "x": Tensor([1.0, 2.0, 3.0]), "s": Tensor(2.0)}
    program = parse(text)
    with pytest.raises(ShapeError) as caught:
        program.build({n: values[n] for n in program.variables})
    error = caught.value
    assert error.message.startswith(message)
    assert error.column == column and error.line == 1
    assert isinstance(error, MathError) and error.exit_code == 1
    assert error.caret() == f"  {text}\n  {' ' * (column - 1)}^"
    assert error.to_json()["column"] == column and error.to_json()["type"] == "ShapeError"


def test_a_missing_variable_is_a_binding_error():
    with pytest.raises(BindingError, match=r"no value for variables b, c"):
        parse("a + b * c").build({"a": 1.0})


def test_a_value_with_no_result_is_a_math_error_naming_the_element():
    with pytest.raises(MathError, match=r"element \[1\]: log\(-1\) is undefined"):
        parse("log(x)").build({"x": Tensor([1.0, -1.0])})


def test_a_result_past_the_elements_limit_is_refused_before_it_is_computed():
    x = Tensor([1.0] * 100)
    with limits.raised(elements=1000), pytest.raises(LimitError, match=r"the result of \+ would have 10,000"):
        parse("x + reshape(x, [100, 1])").build({"x": x})
    with limits.raised(elements=1000), pytest.raises(LimitError, match="outer would have 10,000 elements"):
        parse("outer(x, x)").build({"x": x})
    with limits.raised(elements=1000), pytest.raises(LimitError, match="where would have 10,000 elements"):
        parse("where(x, reshape(x, [100, 1]), 0)").build({"x": x})
    with limits.raised(elements=1000), pytest.raises(LimitError, match="the result of @ would have 10,000"):
        parse("reshape(x, [100, 1]) @ reshape(x, [1, 100])").build({"x": x})


def test_report_prints_the_caret_of_a_shape_error(capsys):
    from autodiff_cli.cli.common import report

    program = parse("A @ x")
    with pytest.raises(ShapeError) as caught:
        program.build({"A": Tensor(A), "x": Tensor([1.0, 2.0, 3.0])})
    report(caught.value, json_mode=False)
    assert capsys.readouterr().err == ("Error: shapes (2, 2) and (3,) cannot be multiplied: @ needs 2 == 3\n"
                                       "  A @ x\n    ^\n")


# -- which parser: route.wants_tensors ------------------------------------------------------


@pytest.mark.parametrize(("text", "values", "wanted"), [
    ("tanh(w*x+b)", {"w": "1", "x": "2", "b": "3"}, False),
    ("x^2", {"x": "pi/2"}, False),
    ("y = x^2", {}, False),
    ("f(x) = x^2", {}, False),
    ("2.T", {}, False),  # 2 times T
    ("2.T + 12.T", {}, False),
    ("(7 .T)", {}, True),  # found by the fuzzer: the number 7, then its transpose
    ("2.5.T", {}, True),
    ("1e5.T", {}, True),
    ("x1.T", {}, True),
    ("θ2.T", {}, True),
    ("2.T + x.T", {}, True),
    ("summary(x)", {}, False),
    ("x^2", {"x": "[1, 2]"}, True),
    ("x^2", {"x": " @x.json"}, True),
    ("x^2", {"x": "@-"}, True),
    ("x[0]", {}, True),
    ("[1, 2]", {}, True),
    ("A @ x", {}, True),
    ("x.T", {}, True),
    ("(x + y).T", {}, True),
    ("max(x, axis=0)", {}, True),
    ("sum(x)", {}, True),
    ("log_softmax (z)", {}, True),
    ("T(x)", {}, True),
    ("det(A)", {}, True),
])
def test_route_sends_tensor_syntax_and_array_bindings_to_the_tensor_language(text, values, wanted):
    assert wants_tensors(text, values) is wanted


@pytest.mark.parametrize("text", ["(7 .T)", "2.5.T", "1e5.T", "x1.T", "2..T", ".5.T"])
def test_the_scalar_parser_reads_as_a_transpose_what_route_sends_to_tensors(text):
    with pytest.raises(ParseError, match=r"'.T' \(the transpose\) is tensor syntax"):
        scalar_parse(text)
    assert wants_tensors(text, {})


def test_route_knows_every_tensor_function():
    import re

    from autodiff_cli.texpr import functions, route

    assert set(functions.SPECS) - {"max", "min"} == route.TENSOR_FUNCTIONS
    for name in route.TENSOR_FUNCTIONS:
        assert re.search(route._CALL, f"1 + {name}(x)"), name
