"""Every function of the op table is a tensor function: on each element its value is op.evaluate's and its
gradient is what rulecode.products gives the scalar engine (within a few ulps), on every backend; a function
added to the table (ops.extended) is a tensor function and a method at once; aliases and spellings work."""

import math

import pytest

import autodiff_cli.tensor as T
from autodiff_cli import ops, rulecode
from autodiff_cli.errors import AutodiffError
from autodiff_cli.tensor import Tensor, backends

CANDIDATES = [-3.7, -2.5, -1.3, -0.7, -0.2, 0.15, 0.3, 0.6, 0.9, 1.5, 2.2, 3.7]
SEEDS = [0.5, -1.25, 0.75, 2.0, -0.375, 1.125]  # upstream gradients, cycled


@pytest.fixture(params=backends.available(), autouse=True)
def backend(request):
    with T.use_backend(request.param) as b:
        yield b


def close(a, b, ulps=4):
    """Within a few ulps on the Python backend (the same float functions as the engine); NumPy's vectorised
    functions (np.tanh for math.tanh) may differ in the last bits, which a cancellation (tanh(x)^2 + x near
    x = -0.4) turns into more ulps of the result: there, 1e-13 relative."""
    if T.current_backend().name != "python":
        return a == pytest.approx(b, rel=1e-13, abs=1e-300)
    return a == b or abs(a - b) <= ulps * math.ulp(max(abs(a), abs(b)))


def points(op):
    """Arguments where the table defines the op and every derivative (chosen by the table, not a second list)."""
    grids = [(x,) for x in CANDIDATES] if op.arity == 1 else \
        [(x, y) for x in CANDIDATES for y in CANDIDATES[::3]]
    found = []
    for args in grids:
        try:
            out = op.evaluate(*args)
            for d in rulecode.products(op):
                if not math.isfinite(d(*args, out, 1.0)):
                    raise ArithmeticError
        except (AutodiffError, ArithmeticError, ValueError):
            continue
        found.append(args)
    return found


def check_op(name, call):
    op = ops.OPS[name]
    args = points(op)
    assert args, name
    columns = [Tensor([a[i] for a in args]) for i in range(op.arity)]
    out = call(*columns)
    assert out.op == op.name
    expected = [op.evaluate(*a) for a in args]
    assert all(close(v, e) for v, e in zip(out.tolist(), expected, strict=True)), (name, out.tolist(), expected)
    g = [SEEDS[k % len(SEEDS)] for k in range(len(args))]
    out.backward(gradient=Tensor(g, requires_grad=False))
    for i, column in enumerate(columns):
        product = rulecode.products(op)[i]
        want = [product(*a, e, gk) for a, e, gk in zip(args, expected, g, strict=True)]
        got = column.grad.tolist()
        assert all(close(v, w) for v, w in zip(got, want, strict=True)), (name, i, got, want)


@pytest.mark.parametrize("name", list(ops.OPS))
def test_every_table_function_on_tensors_is_the_table_s_own(name):
    check_op(name, getattr(T, name))


@pytest.mark.parametrize("name", [op.name for op in ops.functions() if op.symbol is None])
def test_every_table_function_is_a_method_too(name):
    check_op(name, lambda x, *rest: getattr(x, name)(*rest))


@pytest.mark.parametrize(("operator", "name"), [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a**b, "pow"), (lambda a: -a, "neg"),
])
def test_operators_are_the_table_s_arithmetic(operator, name):
    check_op(name, operator)


def test_aliases_and_spellings():
    x = Tensor([0.5, 2.0, 8.0])
    assert T.ln is not None and T.ln(x).tolist() == T.log(x).tolist()
    assert T.arcsin(Tensor([0.5])).tolist() == [math.asin(0.5)]
    assert T.log(x, 2).tolist() == [ops.OPS["log"].evaluate(v) / math.log(2) for v in (0.5, 2.0, 8.0)]
    assert x.log(2).op == "div"  # log(x, b) is spelt log(x) / log(b) in the table
    y = Tensor([-2.0, 3.0])
    assert y.leaky_relu().tolist() == [-0.02, 3.0] and T.leaky_relu(y, 0.2).tolist() == [-0.4, 3.0]
    assert T.max(Tensor([1.0, 5.0]), Tensor([4.0, 2.0]), Tensor([3.0, 3.0])).tolist() == [4.0, 5.0]
    with pytest.raises(TypeError, match="takes 2 arguments, got 3"):
        T.atan2(x, x, x)


WOBBLE = ops.Op(
    "wobble", 1,
    """
    t = tanh(x)
    return t * t + x
    """,
    ("2 * tanh(x) * sech(x) ** 2 + 1",), "tanh(x)^2 + x, an operation that exists only in this test",
    domain=(("x > 100", "{call} is undefined: wobble needs x <= 100"),),
)


def test_a_function_added_to_the_table_is_a_tensor_function():
    with ops.extended(WOBBLE):
        check_op("wobble", T.wobble)
        check_op("wobble", lambda x: x.wobble())
        with pytest.raises(AutodiffError, match=r"element \[1\]: wobble\(200\) is undefined"):
            T.wobble(Tensor([1.0, 200.0]))
    with pytest.raises(AttributeError):
        T.wobble  # noqa: B018
