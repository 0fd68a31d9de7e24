"""det, inv, logdet and solve on tensors: values and gradients against hand-derived closed forms (2x2, 3x3),
central differences, NumPy's linalg and PyTorch where they are installed; the errors (a singular matrix, logdet
of det <= 0, a shape that is not square).  Every test runs on each backend that can load here."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff_cli.tensor as T
from autodiff_cli.errors import MathError, UsageError
from autodiff_cli.tensor import Tensor, backends


@pytest.fixture(params=backends.available(), autouse=True)
def backend(request):
    with T.use_backend(request.param) as b:
        yield b


def close(a, b, tol=1e-9):
    """Nested lists (or numbers) equal to within tol, relative to the larger size (at least 1)."""
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def numeric_gradient(f, values, shape, h=1e-6):
    """Central differences of the number f(Tensor) with respect to each element, as nested lists of `shape`."""
    flat = [v for row in values for v in row] if isinstance(values[0], list) else list(values)
    out = []
    for k in range(len(flat)):
        up, down = list(flat), list(flat)
        up[k] += h
        down[k] -= h
        out.append((f(Tensor(up).reshape(*shape)).item() - f(Tensor(down).reshape(*shape)).item()) / (2 * h))
    return Tensor(out).reshape(*shape).tolist()


def random_matrix(n, seed, batch=()):
    """A well-conditioned matrix: random entries in [-1, 1] plus n on the diagonal."""
    rng = random.Random(seed)
    count = math.prod(batch)
    values = [rng.uniform(-1, 1) + (n if (k % (n * n)) % (n + 1) == 0 else 0.0) for k in range(count * n * n)]
    return Tensor(Tensor(values).reshape(*batch, n, n).tolist())  # a leaf


# -- closed forms ------------------------------------------------------------------------------------------


def test_det_of_a_2x2_and_its_gradient_by_hand():
    a, b, c, d = 2.0, -1.0, 0.5, 3.0
    A = Tensor([[a, b], [c, d]])
    out = T.det(A)
    assert out.shape == ()
    assert out.item() == pytest.approx(a * d - b * c, rel=1e-15)
    out.backward()
    assert close(A.grad.tolist(), [[d, -c], [-b, a]], 1e-14)  # d(ad - bc)/da = d, /db = -c, ...


def test_inv_of_a_2x2_by_hand():
    a, b, c, d = 4.0, 7.0, 2.0, 6.0
    det = a * d - b * c
    assert close(T.inv(Tensor([[a, b], [c, d]])).tolist(), [[d / det, -b / det], [-c / det, a / det]], 1e-14)


def test_logdet_of_a_2x2_and_its_gradient_by_hand():
    a, b, c, d = 3.0, 1.0, 2.0, 4.0  # det 10
    A = Tensor([[a, b], [c, d]])
    out = T.logdet(A)
    assert out.item() == pytest.approx(math.log(10.0), rel=1e-15)
    out.backward()
    assert close(A.grad.tolist(), [[d / 10, -c / 10], [-b / 10, a / 10]], 1e-14)  # inv(A).T


def test_det_of_a_3x3_by_sarrus_and_its_gradient_the_cofactors():
    m = [[2.0, -1.0, 0.5], [1.0, 3.0, -2.0], [0.0, 4.0, 1.0]]
    (a, b, c), (d, e, f), (g, h, i) = m
    A = Tensor(m)
    out = A.det()
    assert out.item() == pytest.approx(a * e * i + b * f * g + c * d * h - c * e * g - b * d * i - a * f * h, rel=1e-14)
    out.backward()
    cofactors = [[e * i - f * h, -(d * i - f * g), d * h - e * g],
                 [-(b * i - c * h), a * i - c * g, -(a * h - b * g)],
                 [b * f - c * e, -(a * f - c * d), a * e - b * d]]
    assert close(A.grad.tolist(), cofactors, 1e-13)


def test_det_of_a_singular_matrix_is_0_and_its_gradient_the_cofactor_matrix():
    A = Tensor([[1.0, 2.0], [2.0, 4.0]])
    out = T.det(A)
    assert out.item() == 0.0
    out.backward()
    assert A.grad.tolist() == [[4.0, -2.0], [-2.0, 1.0]]  # [[d, -c], [-b, a]], which det * inv.T cannot give here
    B = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [5.0, 7.0, 9.0]])  # row 3 = row 1 + row 2: rank 2
    T.det(B).backward()
    assert close(B.grad.tolist(), numeric_gradient(T.det, B.tolist(), (3, 3)), 1e-7)
    assert any(abs(v) > 1 for row in B.grad.tolist() for v in row)  # not all zero: one cofactor is -3


def test_det_of_the_1x1_and_0x0_matrices():
    A = Tensor([[-2.5]])
    T.det(A).backward()
    assert T.det(A).item() == -2.5 and A.grad.tolist() == [[1.0]]
    assert T.det(T.zeros(0, 0)).item() == 1.0  # the empty product, as NumPy has it


def test_methods():
    A = Tensor([[3.0, 1.0], [2.0, 4.0]])
    assert A.det().item() == pytest.approx(10.0, rel=1e-15)
    assert A.logdet().item() == pytest.approx(math.log(10.0), rel=1e-15)
    assert close(A.inv().tolist(), [[0.4, -0.1], [-0.2, 0.3]], 1e-14)


# -- central differences --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 5])
def test_gradients_match_central_differences(n):
    A = random_matrix(n, seed=n)
    W = Tensor([[math.sin(i + 2 * j) for j in range(n)] for i in range(n)], requires_grad=False)
    programs = {
        "det": lambda X: T.det(X),
        "logdet": lambda X: T.logdet(X),
        "inv": lambda X: (T.inv(X) * W).sum(),  # every element of the inverse, weighted: G = W
        "inv @ inv": lambda X: T.tanh(T.inv(X) @ T.inv(X)).sum(),
        "det(A @ A.T)": lambda X: T.det(X @ X.T),
    }
    for name, f in programs.items():
        A.grad = None
        f(A).backward()
        assert close(A.grad.tolist(), numeric_gradient(f, A.tolist(), (n, n)), 1e-6), name


def test_inv_gradient_is_minus_inv_t_g_inv_t():
    A = random_matrix(3, seed=7)
    G = Tensor([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0], [2.0, 1.0, -1.0]], requires_grad=False)
    T.inv(A).backward(gradient=G)
    Ai = T.inv(A.detach())
    assert close(A.grad.tolist(), (-(Ai.T @ G @ Ai.T)).tolist(), 1e-12)


def test_solve_and_its_gradients():
    A = random_matrix(4, seed=3)
    b = Tensor([1.0, -2.0, 0.5, 3.0])
    x = T.solve(A, b)
    assert close((A @ x).tolist(), b.tolist(), 1e-12)
    assert close(x.tolist(), (T.inv(A) @ b).tolist(), 1e-12)
    w = Tensor([0.3, -1.0, 2.0, 0.7], requires_grad=False)
    (x * w).sum().backward()
    assert close(A.grad.tolist(), numeric_gradient(lambda X: (T.solve(X, b.detach()) * w).sum(), A.tolist(), (4, 4)),
                 1e-6)
    assert close(b.grad.tolist(), T.solve(A.detach().T, w).tolist(), 1e-12)  # grad b = A^-T w
    B = Tensor([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0], [2.0, 2.0]])
    X = T.solve(A, B)
    assert X.shape == (4, 2) and close((A @ X).tolist(), B.tolist(), 1e-12)


def test_batches_are_one_matrix_per_leading_index():
    A = random_matrix(3, seed=11, batch=(2, 2))
    d = T.det(A)
    assert d.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert d[i, j].item() == pytest.approx(T.det(A[i, j]).item(), rel=1e-13)
    assert T.inv(A).shape == (2, 2, 3, 3) and close(T.inv(A)[1, 0].tolist(), T.inv(A[1, 0]).tolist(), 1e-13)
    weights = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=False)
    (T.logdet(A) * weights).sum().backward()
    assert close(A.grad[1, 1].tolist(), (3.0 * T.inv(A[1, 1].detach()).T).tolist(), 1e-12)


# -- references ------------------------------------------------------------------------------------------------


def test_against_numpy():
    np = pytest.importorskip("numpy", reason="NumPy's linalg is the reference here")
    A = random_matrix(6, seed=5, batch=(3,))
    M = np.array(A.tolist())
    assert close(T.det(A).tolist(), np.linalg.det(M).tolist(), 1e-12)
    assert close(T.inv(A).tolist(), np.linalg.inv(M).tolist(), 1e-12)
    assert close(T.logdet(A).tolist(), np.linalg.slogdet(M)[1].tolist(), 1e-12)
    b = np.arange(18.0).reshape(3, 6, 1)
    assert close(T.solve(A, Tensor(b.tolist())).tolist(), np.linalg.solve(M, b).tolist(), 1e-12)


def test_against_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    A = random_matrix(4, seed=9)
    b = Tensor([1.0, 2.0, -1.0, 0.5])
    At = torch.tensor(A.tolist(), dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b.tolist(), dtype=torch.float64, requires_grad=True)
    ours = T.det(A) + T.logdet(A @ A.T) + T.tanh(T.inv(A)).sum() + (T.solve(A, b) ** 2).sum()
    theirs = (torch.linalg.det(At) + torch.logdet(At @ At.T) + torch.tanh(torch.linalg.inv(At)).sum()
              + (torch.linalg.solve(At, bt) ** 2).sum())
    ours.backward()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    assert close(A.grad.tolist(), At.grad.tolist(), 1e-10)
    assert close(b.grad.tolist(), bt.grad.tolist(), 1e-10)
    # Not compared: det's gradient at a singular matrix, where torch 2.13 gives zeros and the truth (central
    # differences, test_det_of_a_singular_matrix_is_0_...) is the cofactor matrix, which we give.


# -- errors ------------------------------------------------------------------------------------------------------


def test_inv_of_a_singular_matrix_is_a_math_error_naming_it():
    with pytest.raises(MathError, match=r"^inv: the matrix is singular \(its determinant is 0\): it has no inverse$"):
        T.inv(Tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(MathError, match=r"^solve: the matrix is singular .*A x = b has no unique solution$"):
        T.solve(Tensor([[0.0, 0.0], [1.0, 1.0]]), Tensor([1.0, 2.0]))
    with pytest.raises(MathError, match=r"^inv: matrix \[1\] of the batch: the matrix is singular"):
        T.inv(Tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]]))


def test_a_result_too_large_for_a_double_is_a_math_error():
    with pytest.raises(MathError, match=r"^inv: the matrix is too close to singular: its inverse is too large"):
        T.inv(Tensor([[1e-310, 0.0], [0.0, 1.0]]))
    with pytest.raises(MathError, match=r"^det: overflow: the determinant is too large for a double \(logdet gives"):
        T.det(Tensor([[1e200, 0.0], [0.0, 1e200]]))
    assert T.logdet(Tensor([[1e200, 0.0], [0.0, 1e200]])).item() == pytest.approx(400 * math.log(10), rel=1e-14)


def test_logdet_needs_a_positive_determinant():
    with pytest.raises(MathError, match=r"^logdet: the determinant is negative \(-2\): logdet is log\(det\), "
                                        r"defined for det > 0"):
        T.logdet(Tensor([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(MathError, match=r"^logdet: the matrix is singular: its determinant is 0"):
        T.logdet(Tensor([[1.0, 2.0], [2.0, 4.0]]))
    A = Tensor([[1.0, 2.0], [3.0, 4.0]])
    T.log(T.abs(T.det(A))).backward()  # what the message suggests: log |det|, whose gradient is inv(A).T too
    assert close(A.grad.tolist(), [[-2.0, 1.5], [1.0, -0.5]], 1e-14)


@pytest.mark.parametrize(("shape", "what"), [((2, 3), "not square"), ((3,), "a vector"), ((), "a number"),
                                             ((2, 2, 3), "not square")])
def test_a_shape_that_is_not_square_is_a_usage_error_naming_it(shape, what):
    x = T.ones(*shape)
    for f in (T.det, T.inv, T.logdet):
        with pytest.raises(UsageError, match=rf"needs a square matrix .*, not shape {re_shape(shape)} \({what}\)"):
            f(x)
    with pytest.raises(UsageError, match=r"^solve: A of shape \(2, 2\) needs b of shape \(2,\) or \(2, k\), "
                                         r"not \(3,\)"):
        T.solve(T.eye(2), T.ones(3))


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


# -- properties --------------------------------------------------------------------------------------------------

SQUARE = st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(st.floats(-1, 1), min_size=n * n, max_size=n * n), st.lists(st.floats(-1, 1), min_size=n * n,
                                                                          max_size=n * n), st.just(n)))


def dominant(values, n):
    """A matrix whose diagonal outweighs the rest of its row: never singular, well conditioned."""
    return Tensor([[values[i * n + j] + (n + 1.0) * (i == j) for j in range(n)] for i in range(n)])


@settings(max_examples=30, deadline=None)
@given(SQUARE)
def test_properties_of_det_inv_and_logdet(case):
    a, b, n = case
    A, B = dominant(a, n), dominant(b, n)
    assert close((T.inv(A) @ A).tolist(), T.eye(n).tolist(), 1e-12)
    assert T.det(A @ B).item() == pytest.approx(T.det(A).item() * T.det(B).item(), rel=1e-11)
    assert T.det(A.T).item() == pytest.approx(T.det(A).item(), rel=1e-12)
    assert T.logdet(A @ A.T).item() == pytest.approx(2 * math.log(abs(T.det(A).item())), rel=1e-11, abs=1e-12)
    assert close(T.inv(T.inv(A)).tolist(), A.tolist(), 1e-11)
