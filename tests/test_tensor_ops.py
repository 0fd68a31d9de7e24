"""Every tensor operation's backward against central finite differences, matrix-calculus identities worked out by
hand, NumPy's broadcasting and matmul rules, PyTorch's conventions (ties of max, clamp's bounds, prod at zeros),
and the errors of shapes, axes and indices.  Each test runs on every backend that can load here."""

import math
import random

import pytest

import autodiff_cli.tensor as T
from autodiff_cli.errors import MathError, UsageError
from autodiff_cli.tensor import Tensor, backends


@pytest.fixture(params=backends.available(), autouse=True)
def backend(request):
    with T.use_backend(request.param) as b:
        yield b


def values(shape, seed, low=-2.0, high=2.0):
    """Nested lists of random numbers in [low, high) (spread apart: no ties, nothing near a kink by accident)."""
    r = random.Random(seed)
    n = math.prod(shape)
    flat = [low + (high - low) * (k + r.random() * 0.8 + 0.1) / n for k in range(n)]
    r.shuffle(flat)
    return Tensor(flat, requires_grad=False).reshape(shape).tolist() if shape else flat[0]


def flat(t):
    x = t.tolist()
    out, stack = [], [x]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def check_gradients(f, *inputs, eps=1e-6, tol=1e-6):
    """The gradient of sum(f(inputs) * W), W random, by backward() and by central differences, for every input."""
    tensors = [Tensor(x) for x in inputs]
    out = f(*tensors)
    weights = Tensor(values(out.shape, 99, 0.5, 1.5), requires_grad=False)
    (out * weights).sum().backward()

    def loss(k, i, delta):
        moved = [Tensor(x, requires_grad=False) for x in inputs]
        data = flat(moved[k])
        data[i] += delta
        moved[k] = Tensor(data, requires_grad=False).reshape(moved[k].shape)
        return (f(*moved) * weights).sum().item()

    for k, t in enumerate(tensors):
        analytic = flat(t.grad)
        numeric = [(loss(k, i, eps) - loss(k, i, -eps)) / (2 * eps) for i in range(t.size)]
        assert analytic == pytest.approx(numeric, rel=tol, abs=tol), (k, analytic, numeric)


CASES = {
    # broadcasting's backward: each input's gradient summed back to its own shape
    "add (3,1)+(4,)": (lambda a, b: a + b, [(3, 1), (4,)]),
    "sub (2,3)-(3,)": (lambda a, b: a - b, [(2, 3), (3,)]),
    "mul (2,1,3)*(4,1)": (lambda a, b: a * b, [(2, 1, 3), (4, 1)]),
    "div by scalar tensor": (lambda a, b: a / (b * b + 1), [(2, 3), ()]),
    "pow both": (lambda a, b: (a * a + 0.5) ** b, [(2, 2), (2,)]),
    "neg and numbers": (lambda a: 3 - (-a) * 2 + 1 / (a * a + 1), [(3,)]),
    "sum all": (lambda a: a.sum(), [(2, 3)]),
    "sum axis 0": (lambda a: a.sum(axis=0), [(2, 3)]),
    "sum axes keepdims": (lambda a: T.sum(a, axis=(0, 2), keepdims=True), [(2, 3, 2)]),
    "mean axis -1": (lambda a: a.mean(axis=-1), [(3, 4)]),
    "mean all": (lambda a: T.mean(a), [(3, 4)]),
    "max axis 1": (lambda a: a.max(axis=1), [(3, 4)]),
    "max all": (lambda a: T.max(a), [(3, 4)]),
    "min axis 0 keepdims": (lambda a: a.min(0, True), [(3, 4)]),
    "prod axis 0": (lambda a: a.prod(axis=0), [(3, 2)]),
    "prod all": (lambda a: T.prod(a), [(2, 3)]),
    "reshape": (lambda a: a.reshape(3, -1) * T.arange(6).reshape(3, 2), [(2, 3)]),
    "transpose": (lambda a: a.transpose() @ a, [(2, 3)]),
    "T": (lambda a: a.T, [(2, 3)]),
    "transpose two axes of 3": (lambda a: a.transpose(0, 2), [(2, 3, 4)]),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 4)]),
    "squeeze": (lambda a: a.squeeze(), [(1, 3, 1)]),
    "squeeze axis": (lambda a: a.squeeze(0), [(1, 3, 1)]),
    "unsqueeze": (lambda a: a.unsqueeze(1), [(2, 3)]),
    "expand": (lambda a: a.expand(2, -1, 3), [(4, 1)]),
    "broadcast_to": (lambda a: T.broadcast_to(a, (3, 2)), [(2,)]),
    "getitem int": (lambda a: a[1], [(3, 2)]),
    "getitem column": (lambda a: a[:, 1], [(3, 2)]),
    "getitem slice": (lambda a: a[1:3], [(4, 2)]),
    "getitem negative": (lambda a: a[0, -1], [(3, 2)]),
    "getitem step": (lambda a: a[::2, 1:], [(5, 3)]),
    "getitem ellipsis none": (lambda a: a[..., None, 0], [(2, 3)]),
    "getitem twice": (lambda a: a[0] * a[1], [(2, 3)]),
    "concatenate": (lambda a, b: T.concatenate([a, b], axis=1), [(2, 3), (2, 1)]),
    "concat axis 0": (lambda a, b: T.concat([a, b, a]), [(1, 2), (3, 2)]),
    "stack": (lambda a, b: T.stack([a, b]), [(2, 3), (2, 3)]),
    "stack last": (lambda a, b: T.stack([a, b], axis=-1), [(3,), (3,)]),
    "where": (lambda a, b: T.where([[1, 0, 1]], a, b), [(2, 3), (2, 1)]),
    "clip": (lambda a: a.clip(-0.7, 0.9), [(4, 3)]),
    "clip one side": (lambda a: T.clip(a, None, 0.1), [(4, 3)]),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    "matmul vector right": (lambda a, b: a @ b, [(2, 3), (3,)]),
    "matmul vector left": (lambda a, b: a @ b, [(3,), (3, 4)]),
    "matmul vectors": (lambda a, b: T.matmul(a, b), [(3,), (3,)]),
    "matmul batched": (lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    "matmul broadcast batch": (lambda a, b: a @ b, [(2, 1, 3, 2), (4, 2, 3)]),
    "matmul batch vector": (lambda a, b: a @ b, [(3,), (2, 3, 2)]),
    "dot": (lambda a, b: T.dot(a, b), [(4,), (4,)]),
    "outer": (lambda a, b: T.outer(a, b), [(3,), (2,)]),
    "trace": (lambda a: T.trace(a), [(3, 3)]),
    "trace wide": (lambda a: T.trace(a), [(2, 4)]),
    "norm": (lambda a: T.norm(a), [(2, 3)]),
    "norm axis": (lambda a: a.norm(axis=1, keepdims=True), [(2, 3)]),
    "softmax": (lambda a: T.softmax(a), [(2, 4)]),
    "softmax axis 0": (lambda a: a.softmax(axis=0), [(3, 2)]),
    "log_softmax": (lambda a: T.log_softmax(a, axis=-1), [(2, 4)]),
    "logsumexp": (lambda a: T.logsumexp(a), [(2, 3)]),
    "logsumexp axis keepdims": (lambda a: T.logsumexp(a, axis=1, keepdims=True), [(2, 3)]),
    "table functions": (lambda a, b: T.tanh(a) * a.exp() + T.atan2(a, b) - b.sigmoid(), [(2, 2), (2,)]),
    "log base": (lambda a: T.log(a * a + 1, 3), [(3,)]),
    "leaky_relu default slope": (lambda a: a.leaky_relu(), [(5,)]),
    "variadic max": (lambda a, b, c: T.max(a, b, c), [(3,), (3,), (3,)]),
    "maximum": (lambda a, b: T.maximum(a, b) + T.minimum(a, b) * 2, [(3,), (2, 1)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_backward_matches_central_differences(name):
    f, shapes = CASES[name]
    check_gradients(f, *(values(s, seed) for seed, s in enumerate(shapes)))


# -- identities of matrix calculus ------------------------------------------------------------


def column(t):
    return flat(t)


def test_gradient_of_a_quadratic_form_is_a_plus_a_transpose_times_x():
    A = Tensor(values((3, 3), 1), requires_grad=False)
    x = Tensor(values((3,), 2))
    (x @ A @ x).backward()
    assert column(x.grad) == pytest.approx(column((A + A.T) @ x))


def test_gradient_of_sum_of_a_product_is_ones_times_b_transpose():
    A, B = Tensor(values((2, 3), 3)), Tensor(values((3, 4), 4))
    (A @ B).sum().backward()
    assert flat(A.grad) == pytest.approx(flat(T.ones(2, 4) @ B.T))
    assert flat(B.grad) == pytest.approx(flat(A.T @ T.ones(2, 4)))


def test_gradient_of_the_trace_of_a_product_is_b_transpose():
    A, B = Tensor(values((3, 2), 5)), Tensor(values((2, 3), 6))
    T.trace(A @ B).backward()
    assert flat(A.grad) == pytest.approx(flat(B.T))


def test_the_softmax_jacobian_is_diag_s_minus_s_s_transpose():
    x = Tensor(values((4,), 7))
    s = flat(T.softmax(x))
    for i in range(4):  # row i of the Jacobian: the gradient of s_i
        x.grad = None
        T.softmax(x)[i].backward()
        expected = [(s[i] if i == j else 0.0) - s[i] * s[j] for j in range(4)]
        assert flat(x.grad) == pytest.approx(expected, abs=1e-15)


def test_the_gradient_of_logsumexp_is_softmax():
    x = Tensor(values((2, 5), 8))
    T.logsumexp(x).backward()
    flat_x = flat(x)
    total = sum(math.exp(v) for v in flat_x)
    assert flat(x.grad) == pytest.approx([math.exp(v) / total for v in flat_x])
    assert flat(T.softmax(x.reshape(10))) == pytest.approx(flat(x.grad))


def test_the_gradient_of_the_norm_is_x_over_the_norm():
    x = Tensor([3.0, -4.0])
    n = T.norm(x)
    assert n.item() == 5.0
    n.backward()
    assert x.grad.tolist() == pytest.approx([0.6, -0.8])


def test_softmax_and_logsumexp_are_stable_for_large_inputs():
    x = Tensor([1000.0, 1000.0, 990.0])
    s = flat(T.softmax(x))
    e = math.exp(-10)
    assert s == pytest.approx([1 / (2 + e), 1 / (2 + e), e / (2 + e)])
    assert T.logsumexp(x).item() == pytest.approx(1000 + math.log(2 + e))
    assert flat(T.log_softmax(x)) == pytest.approx([-math.log(2 + e), -math.log(2 + e), -10 - math.log(2 + e)])
    assert T.norm(Tensor([3e200, 4e200])).item() == pytest.approx(5e200)


# -- conventions ----------------------------------------------------------------------------


def test_broadcast_gradients_sum_back_to_each_shape():
    a, b = Tensor([[1.0], [2.0], [3.0]]), Tensor([10.0, 20.0, 30.0, 40.0])
    y = a * b
    assert y.shape == (3, 4)
    y.sum().backward()
    assert a.grad.tolist() == [[100.0], [100.0], [100.0]]  # each a_i met every b_j
    assert b.grad.tolist() == [6.0, 6.0, 6.0, 6.0]


def test_ties_of_max_and_min_share_the_gradient_evenly():
    x = Tensor([1.0, 3.0, 3.0, 2.0])
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]
    y = Tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 0.0]])
    y.min(axis=1).sum().backward()
    assert y.grad.tolist() == [[1 / 3, 1 / 3, 1 / 3], [0.5, 0.0, 0.5]]
    a, b = Tensor([2.0]), Tensor([2.0])
    T.max(a, b).backward()  # the table's elementwise max splits a tie of two
    assert (a.grad.item(), b.grad.item()) == (0.5, 0.5)


@pytest.mark.parametrize(("data", "grad"), [
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),  # one zero: it gets the product of the others
    ([0.0, 2.0, 0.0], [0.0, 0.0, 0.0]),  # two zeros: every partial product has a zero
])
def test_prod_is_right_at_zeros(data, grad):
    x = Tensor(data)
    x.prod().backward()
    assert x.grad.tolist() == grad


def test_clip_passes_the_gradient_at_its_bounds_as_torch_clamp():
    x = Tensor([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = x.clip(-1.0, 1.0)
    assert y.tolist() == [-1.0, -1.0, 0.0, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_where_never_differentiates_its_condition():
    c, a, b = Tensor([1.0, 0.0]), Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    y = T.where(c, a, b)
    assert y.tolist() == [1.0, 4.0]
    y.sum().backward()
    assert c.grad is None and a.grad.tolist() == [1.0, 0.0] and b.grad.tolist() == [0.0, 1.0]
    assert T.where([True, False], 1.0, 0.0).tolist() == [1.0, 0.0]


def test_matmul_follows_numpy_shapes():
    assert (T.ones(3) @ T.ones(3)).shape == ()
    assert (T.ones(2, 3) @ T.ones(3)).shape == (2,)
    assert (T.ones(3) @ T.ones(3, 4)).shape == (4,)
    assert (T.ones(5, 1, 2, 3) @ T.ones(4, 3, 2)).shape == (5, 4, 2, 2)
    assert (T.ones(2, 3) @ T.ones(3, 4)).tolist() == [[3.0] * 4] * 2


def test_shape_operations_rearrange_as_numpy_does():
    x = T.arange(6).reshape(2, 3)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x.T.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert x[1].tolist() == [3.0, 4.0, 5.0] and x[:, 1].tolist() == [1.0, 4.0] and x[0, -1].item() == 2.0
    assert x[:, ::2].tolist() == [[0.0, 2.0], [3.0, 5.0]]
    assert x[None].shape == (1, 2, 3) and x[:, None].shape == (2, 1, 3) and x[..., None].shape == (2, 3, 1)
    assert x.reshape((3, 2)).tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert x.unsqueeze(-1).shape == (2, 3, 1) and x.unsqueeze(0).squeeze().shape == (2, 3)
    assert T.stack([x, x], axis=1).shape == (2, 2, 3)
    assert T.concatenate([x, x], axis=-1).tolist() == [[0.0, 1.0, 2.0, 0.0, 1.0, 2.0], [3.0, 4.0, 5.0, 3.0, 4.0, 5.0]]
    assert T.arange(24).reshape(2, 3, 4).permute(2, 0, 1).shape == (4, 2, 3)
    assert x.sum(axis=1).tolist() == [3.0, 12.0] and x.mean(axis=0).tolist() == [1.5, 2.5, 3.5]
    assert x.max(axis=1).tolist() == [2.0, 5.0] and x.min().item() == 0.0 and (x + 1).prod().item() == 720.0
    assert x.sum(axis=0, keepdims=True).shape == (1, 3)
    assert T.ones(0, 3).max(axis=1).shape == (0,)  # nothing to reduce over is an error; nothing to reduce is not


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "message"), [
    (lambda: T.ones(3, 2) @ T.ones(3), r"shapes (3, 2) and (3,) cannot be multiplied (matmul: 2 != 3)"),
    (lambda: T.ones(2, 2, 3) @ T.ones(3, 3, 1), "batch shapes (2,) and (3,) cannot be broadcast together"),
    (lambda: T.ones(3) + T.ones(4), "shapes (3,) and (4,) cannot be broadcast together"),
    (lambda: T.ones(3)[5], "index 5 is out of range for axis 0 with size 3"),
    (lambda: T.ones(2, 3)[0, -4], "index -4 is out of range for axis 1 with size 3"),
    (lambda: T.ones(3)[0, 0], "too many indices for a tensor of shape (3,): 2 given"),
    (lambda: T.ones(3)[::-1], "negative steps are not supported"),
    (lambda: T.ones(3).sum(axis=1), "axis 1 is out of range for a tensor with 1 axes"),
    (lambda: T.ones(2, 3).reshape(4), "cannot reshape a tensor of shape (2, 3) (6 elements) into (4,)"),
    (lambda: T.ones(2, 3).squeeze(0), "cannot squeeze axis 0 of shape (2, 3): its size is 2, not 1"),
    (lambda: T.concatenate([T.ones(2, 3), T.ones(3, 2)]), "shapes (2, 3) and (3, 2) cannot be concatenated"),
    (lambda: T.stack([T.ones(2), T.ones(3)]), "stack needs tensors of one shape"),
    (lambda: T.ones(2, 3).permute(0, 0), "permute needs each of the 2 axes once"),
    (lambda: T.dot(T.ones(2, 2), T.ones(2)), "dot needs two 1-D tensors"),
    (lambda: T.trace(T.ones(3)), "trace needs a matrix"),
    (lambda: T.broadcast_to(T.ones(3), (2, 2)), "a tensor of shape (3,) cannot be broadcast to (2, 2)"),
    (lambda: T.ones(0).max(), "max over an axis of size 0 has no value (shape (0,))"),
    (lambda: T.ones(0, 3).min(axis=0), "min over an axis of size 0 has no value (shape (0, 3))"),
    (lambda: T.ones(3, 1).expand(-1, 3, 2), "expand's -1 keeps an existing size only"),
    (lambda: T.hypot(T.ones(1), T.ones(1), T.ones(1)), "hypot takes 2 arguments, got 3"),
])
def test_shape_mistakes_are_errors_in_the_user_s_terms(make, message):
    with pytest.raises((UsageError, TypeError)) as e:
        make()
    assert message in str(e.value)


def test_the_norm_of_a_zero_tensor_has_no_derivative():
    x = T.zeros(3)
    n = T.norm(x)
    assert n.item() == 0.0
    with pytest.raises(MathError, match="no derivative") as e:
        n.backward()
    assert e.value.op == "norm"
    y = Tensor([[1.0, 2.0], [0.0, 0.0]])
    with pytest.raises(MathError, match=r"element \[1\]"):
        y.norm(axis=1).sum().backward()
