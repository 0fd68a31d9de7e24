"""jacobian and hessian of tensor functions: against closed forms (softmax's diag(s) - s s^T, a quadratic form's
(A + A^T) / 2, the Hessian of logsumexp and of the 2-norm), central differences of the ordinary gradient, and
torch.autograd.functional where PyTorch is installed; the order of the elements, several inputs, a tensor the
function closes over, and the errors and limits.  Every test runs with each backend that can load here."""

import math
import random

import pytest
from tensor_programs import KINKS, STEPS, call, domain

import autodiff_cli.tensor as T
from autodiff_cli import limits
from autodiff_cli.errors import LimitError, MathError, UsageError
from autodiff_cli.ops import TABLE
from autodiff_cli.tensor import Tensor, backends, no_grad


@pytest.fixture(params=backends.available(), autouse=True)
def backend(request):
    with T.use_backend(request.param) as b:
        yield b


TABLE_BY_NAME = {op.name: op for op in TABLE}


def close(a, b, tol=1e-9):
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def leaf(values):
    return Tensor(values)


def gradient_flat(f, inputs):
    """The ordinary (float) gradient of the number f(*inputs), every input's elements flattened in order."""
    fresh = [Tensor(x.tolist()) for x in inputs]
    f(*fresh).backward()
    return [v for x in fresh for v in Tensor(x.grad).reshape(-1).tolist()]


def hessian_by_differences(f, inputs, h=1e-5):
    """Column j of the Hessian as central differences of the gradient: (grad(p + h e_j) - grad(p - h e_j)) / 2h."""
    flat = [v for x in inputs for v in Tensor(x).reshape(-1).tolist()]
    shapes = [x.shape for x in inputs]

    def at(values):
        out, k = [], 0
        for shape in shapes:
            size = math.prod(shape)
            out.append(Tensor(Tensor(values[k : k + size]).reshape(*shape).tolist()))
            k += size
        return out

    columns = []
    for j in range(len(flat)):
        up, down = list(flat), list(flat)
        up[j] += h
        down[j] -= h
        columns.append([(a - b) / (2 * h) for a, b in zip(gradient_flat(f, at(up)), gradient_flat(f, at(down)),
                                                         strict=True)])
    return [list(row) for row in zip(*columns, strict=True)]


# -- jacobian -----------------------------------------------------------------------------------------------


def test_jacobian_of_softmax_is_diag_s_minus_s_st():
    z = leaf([1.0, 2.0, 3.0])
    (J,) = T.jacobian(T.softmax, [z])
    s = [math.exp(v) / sum(math.exp(w) for w in (1.0, 2.0, 3.0)) for v in (1.0, 2.0, 3.0)]
    assert J.shape == (3, 3)
    assert close(J.tolist(), [[s[i] * ((i == j) - s[j]) for j in range(3)] for i in range(3)], 1e-14)
    assert not J.requires_grad and z.grad is None  # the input's own gradient untouched


def test_jacobian_shapes_are_the_output_then_each_input():
    W = leaf([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])
    x = leaf([1.0, -1.0, 2.0])
    JW, Jx = T.jacobian(lambda W, x: W @ x, [W, x])
    assert JW.shape == (2, 2, 3) and Jx.shape == (2, 3)
    assert Jx.tolist() == W.tolist()  # d(Wx)/dx = W
    # d(Wx)_i / dW[k, j] = [i == k] x_j
    assert JW.tolist() == [[[1.0, -1.0, 2.0], [0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0], [1.0, -1.0, 2.0]]]
    (Js,) = T.jacobian(lambda x: (x * x).sum(), [x])  # a 0-d output: the gradient, shape (3,)
    assert Js.shape == (3,) and Js.tolist() == [2.0, -2.0, 4.0]


def test_jacobian_matches_central_differences_with_several_inputs_and_an_unused_one():
    A = leaf([[0.5, -1.0], [2.0, 0.3], [1.0, 1.0]])
    b = leaf([0.1, -0.2])
    unused = leaf([7.0])

    def f(A, b, unused):
        return T.tanh(A @ b).reshape(3, 1) * T.exp(b)  # shape (3, 2)

    JA, Jb, Ju = T.jacobian(f, [A, b, unused])
    assert JA.shape == (3, 2, 3, 2) and Jb.shape == (3, 2, 2) and Ju.tolist() == [[[0.0]] * 2] * 3
    h = 1e-6
    flat_b = b.tolist()
    for j in range(2):
        up, down = list(flat_b), list(flat_b)
        up[j] += h
        down[j] -= h
        column = ((f(A.detach(), Tensor(up), unused) - f(A.detach(), Tensor(down), unused)) / (2 * h)).tolist()
        assert close([[Jb.tolist()[i][k][j] for k in range(2)] for i in range(3)], column, 1e-7)


def test_jacobian_against_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    W = leaf([[0.2, -0.4, 1.0], [0.7, 0.1, -0.3]])
    x = leaf([1.0, 2.0, -0.5])
    ours = T.jacobian(lambda W, x: T.log_softmax(W @ x) * T.sigmoid(x[0:2]), [W, x])
    theirs = torch.autograd.functional.jacobian(
        lambda W, x: torch.log_softmax(W @ x, 0) * torch.sigmoid(x[0:2]),
        (torch.tensor(W.tolist(), dtype=torch.float64), torch.tensor(x.tolist(), dtype=torch.float64)))
    for a, b in zip(ours, theirs, strict=True):
        assert close(a.tolist(), b.tolist(), 1e-12)


def test_jacobian_and_hessian_refuse_no_grad_and_non_tensors():
    x = leaf([1.0, 2.0])
    with no_grad(), pytest.raises(UsageError, match="outside no_grad"):
        T.jacobian(T.exp, [x])
    with pytest.raises(UsageError, match="f must return a Tensor, not float"):
        T.jacobian(lambda x: 1.0, [x])
    with pytest.raises(UsageError, match=r"inputs\[1\] is a list, not a Tensor"):
        T.hessian(lambda x, y: x.sum(), [x, [1.0]])


# -- hessian --------------------------------------------------------------------------------------------------


def test_hessian_of_a_quadratic_form_is_the_symmetric_part():
    x = leaf([1.0, 2.0, -1.0])
    A = Tensor([[2.0, 1.0, 0.0], [3.0, 4.0, 1.0], [0.0, -2.0, 5.0]], requires_grad=False)
    H = T.hessian(lambda x: 0.5 * x @ A @ x, [x])
    assert H == [[2.0, 2.0, 0.0], [2.0, 4.0, -0.5], [0.0, -0.5, 5.0]]  # (A + A^T) / 2: exact here


def test_hessian_over_several_inputs_in_order_x_then_a_row_major():
    x = leaf([1.0, 2.0])
    A = leaf([[2.0, 1.0], [1.0, 3.0]])
    H = T.hessian(lambda x, A: 0.5 * x @ A @ x, [x, A])
    # f = 0.5 sum_jk x_j A_jk x_k: d2f/dx_i dx_j = (A_ij + A_ji) / 2;
    # d2f/dx_i dA_jk = ([i == j] x_k + x_j [i == k]) / 2; d2f/dA dA = 0.
    # Elements in order: x[0], x[1], A[0, 0], A[0, 1], A[1, 0], A[1, 1]
    xs = [1.0, 2.0]
    mixed = [[0.5 * ((i == j) * xs[k] + xs[j] * (i == k)) for j in range(2) for k in range(2)] for i in range(2)]
    expected = [[2.0, 1.0, *mixed[0]], [1.0, 3.0, *mixed[1]]]
    expected += [[mixed[0][r], mixed[1][r], 0.0, 0.0, 0.0, 0.0] for r in range(4)]
    assert H == expected


def test_hessian_of_sum_tanh_wx_by_hand():
    W = Tensor([[0.5, -1.0], [2.0, 0.3], [0.1, 0.4]], requires_grad=False)
    x = leaf([0.7, -0.2])
    H = T.hessian(lambda x: T.tanh(W @ x).sum(), [x])
    # d2/dx_j dx_k sum_i tanh(z_i) = sum_i -2 tanh(z_i) sech^2(z_i) W_ij W_ik, z = W x
    w = W.tolist()
    z = [sum(w[i][j] * v for j, v in enumerate([0.7, -0.2])) for i in range(3)]
    second = [-2 * math.tanh(zi) / math.cosh(zi) ** 2 for zi in z]
    assert close(H, [[sum(second[i] * w[i][j] * w[i][k] for i in range(3)) for k in range(2)] for j in range(2)],
                 1e-14)


def test_hessian_of_logsumexp_and_of_the_norm_by_hand():
    z = leaf([0.5, -1.0, 2.0])
    s = [v / sum(math.exp(w) for w in (0.5, -1.0, 2.0)) for v in (math.exp(0.5), math.exp(-1.0), math.exp(2.0))]
    assert close(T.hessian(T.logsumexp, [z]), [[s[i] * (i == j) - s[i] * s[j] for j in range(3)] for i in range(3)],
                 1e-14)  # diag(s) - s s^T
    x = leaf([3.0, 4.0])
    r = 5.0  # d2 |x| = (I - u u^T) / |x| with u = x / |x|
    u = [0.6, 0.8]
    assert close(T.hessian(T.norm, [x]), [[((i == j) - u[i] * u[j]) / r for j in range(2)] for i in range(2)], 1e-14)


def test_hessian_of_det_and_logdet_by_hand():
    A = leaf([[2.0, 1.0], [0.5, 3.0]])
    # det = a d - b c: the only second partials are d2/da dd = 1 and d2/db dc = -1 (elements a, b, c, d)
    assert close(T.hessian(T.det, [A]), [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, -1.0, 0.0], [0.0, -1.0, 0.0, 0.0],
                                         [1.0, 0.0, 0.0, 0.0]], 1e-15)
    # d2 logdet / dA_ij dA_kq = -(A^-1)_qi (A^-1)_jk
    Ai = T.inv(A.detach()).tolist()
    expected = [[-Ai[q][i] * Ai[j][k] for k in range(2) for q in range(2)] for i in range(2) for j in range(2)]
    assert close(T.hessian(T.logdet, [A]), expected, 1e-14)


PROGRAMS = {
    "reductions and shapes": lambda x, A: (T.concatenate([x[0:2] * 2.0, T.reshape(A, 9)]).prod()
                                          + T.mean(A.T * x, axis=0).sum() + T.max(A * A)
                                          + T.where(T.step(x - 0.5), x, -x).sum()),
    "softmax and matmul": lambda x, A: (T.log_softmax(A @ x) * T.sigmoid(x)).sum() + T.trace(A @ A),
    "inv and solve": lambda x, A: (T.inv(A) @ x).sum() + (T.solve(A, x) ** 2).sum() + T.logdet(A @ A.T),
    "powers and broadcasting": lambda x, A: ((A + x) ** 3).sum() / (1.0 + x @ x) + T.norm(A - x.reshape(3, 1)),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_hessian_matches_central_differences_of_the_gradient(name):
    rng = random.Random(name)
    x = leaf([rng.uniform(0.2, 1.0) for _ in range(3)])
    A = leaf([[rng.uniform(-1, 1) + 3.0 * (i == j) for j in range(3)] for i in range(3)])
    H = T.hessian(PROGRAMS[name], [x, A])
    assert len(H) == 12 and all(len(row) == 12 for row in H)
    assert all(H[i][j] == H[j][i] for i in range(12) for j in range(12))
    assert close(H, hessian_by_differences(PROGRAMS[name], [x, A]), 2e-6)


def test_hessian_against_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    x = leaf([0.3, -0.8, 1.1])
    A = leaf([[2.0, 0.4, -0.3], [0.1, 1.5, 0.6], [-0.2, 0.3, 2.5]])
    ours = T.hessian(lambda x, A: T.det(A) * T.tanh(A @ x).sum() + T.inv(A)[0] @ x, [x, A])
    xt = torch.tensor(x.tolist(), dtype=torch.float64)
    At = torch.tensor(A.tolist(), dtype=torch.float64)
    blocks = torch.autograd.functional.hessian(
        lambda x, A: torch.linalg.det(A) * torch.tanh(A @ x).sum() + torch.linalg.inv(A)[0] @ x, (xt, At))
    theirs = torch.cat([torch.cat([blocks[i][j].reshape(blocks[i][j].shape[: (1 if i == 0 else 2)].numel(), -1)
                                   for j in range(2)], dim=1) for i in range(2)])
    assert close(ours, theirs.tolist(), 1e-12)


def test_hessian_with_a_tensor_the_function_closes_over():
    A = Tensor([[1.0, 2.0], [0.0, 3.0]])  # on the caller's backend, captured: a constant for the hessian
    x = leaf([1.0, 1.0])
    assert T.hessian(lambda x: (A @ x) @ (A @ x), [x]) == [[2.0, 4.0], [4.0, 26.0]]  # 2 A^T A


def test_hessian_of_a_function_that_ignores_its_input_is_zero():
    assert T.hessian(lambda x: Tensor(3.0, requires_grad=False), [leaf([1.0, 2.0])]) == [[0.0, 0.0], [0.0, 0.0]]


def test_hessian_errors():
    x = leaf([1.0, 0.0])
    with pytest.raises(UsageError, match=r"hessian needs f to return one number, not a tensor of shape \(2,\)"):
        T.hessian(T.exp, [x])
    with pytest.raises(MathError, match=r"element \[1\]"):  # sqrt's derivative 1 / (2 sqrt x) has no value at 0
        T.hessian(lambda x: T.sqrt(x).sum(), [x])
    with limits.raised(cells=10), pytest.raises(LimitError, match=r"is 4 x 4 = 16 numbers; the limit is 10 cells"):
        T.hessian(lambda x: (x * x).sum(), [leaf([1.0, 2.0, 3.0, 4.0])])
    big = leaf([[0.01 * (i + j) for j in range(20)] for i in range(20)])
    with limits.raised(work=100_000), pytest.raises(LimitError, match="the exact Hessian expands the tensors into "
                                                                      "more than 10,000 scalar nodes"):
        T.hessian(lambda A: T.tanh(A @ A).sum(), [big])
    with limits.raised(work=500_000), pytest.raises(LimitError, match=r"the exact Hessian is 400 passes over about"):
        T.hessian(lambda A: (A * A).sum() * A.sum(), [big])


@pytest.mark.parametrize("name", [op.name for op in TABLE])
def test_hessian_of_every_table_function_matches_central_differences(name):
    """The private backend's derivative kernel (the table's rules evaluated on Values), for every function."""
    op = TABLE_BY_NAME[name]
    rng = random.Random(name)
    inputs = []
    for arg in range(op.arity):
        lo, hi = domain(name, arg)
        inputs.append(leaf([rng.uniform(lo, hi) for _ in range(2)]))
    if name in KINKS:  # away from the kink, where central differences would straddle it
        inputs[0] = leaf([v if abs(v - KINKS[name]) > 0.1 else v + 0.3 for v in inputs[0].tolist()])
    if name in STEPS:
        inputs[0] = leaf([math.floor(v) + 0.5 for v in inputs[0].tolist()])

    def f(*xs):
        return (call(name, *xs) * Tensor([1.5, -0.7], requires_grad=False)).sum()

    assert close(T.hessian(f, inputs), hessian_by_differences(f, inputs), 1e-5)


SHAPE_PROGRAMS = {  # every kernel of the Value backend, through the operations a program may use
    "matmul of every rank": ((2, 3, 4), (4,), lambda a, b: ((a @ b) * (a[1] @ b)).sum() + (b[:3] @ a[1] @ b)
                             + (a.permute(0, 2, 1) @ a[0]).sum()),
    "reductions over axes": ((2, 3, 4), (4,), lambda a, b: (T.sum(a * b, axis=(0, 2)) ** 2).sum()
                             + T.mean(a, axis=1, keepdims=True).max() + T.min(a, axis=-1).prod()),
    "views and copies": ((2, 3, 4), (4,), lambda a, b: (T.stack([a[1, 1:3], a[0, ::2]]).sum(axis=0) ** 2).sum()
                         + (T.expand(b.unsqueeze(0), 3, 4) * a[0]).sum() + T.squeeze(a[:, :1, :1]).sum()),
    "softmax, clip, where": ((2, 3, 4), (4,), lambda a, b: (T.softmax(a, axis=-1) * T.clip(b, -0.2, 0.3)).sum()
                             + T.logsumexp(T.where(T.step(a), a, b), axis=0).sum() + T.norm(a, axis=2).sum()),
}


@pytest.mark.parametrize("name", list(SHAPE_PROGRAMS))
def test_hessian_through_every_kernel_of_the_value_backend_matches_central_differences(name):
    shape_a, shape_b, program = SHAPE_PROGRAMS[name]
    rng = random.Random(name)
    a = Tensor(Tensor([rng.uniform(-1, 1) for _ in range(math.prod(shape_a))]).reshape(*shape_a).tolist())
    b = leaf([rng.uniform(-1, 1) for _ in range(math.prod(shape_b))])
    H = T.hessian(program, [a, b])
    assert close(H, hessian_by_differences(program, [a, b]), 2e-6)
