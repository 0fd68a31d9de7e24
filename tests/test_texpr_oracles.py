"""The tensor language against independent implementations: PyTorch (values and gradients, float64) and NumPy
(values), on random data, for the issue's expressions and every tensor function.  Each oracle is skipped,
with the reason, where it is not installed."""

import random

import pytest

import autodiff_cli.tensor as T
from autodiff_cli.tensor import Tensor
from autodiff_cli.texpr import parse


def data(seed: int) -> dict[str, list]:
    rng = random.Random(seed)

    def matrix(m, n):
        return [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(m)]

    a = matrix(3, 3)
    spd = [[sum(a[k][i] * a[k][j] for k in range(3)) + (3.0 if i == j else 0.0) for j in range(3)] for i in range(3)]
    def vector(n):
        return [rng.uniform(-1, 1) for _ in range(n)]

    return {"A": matrix(3, 3), "B": matrix(3, 3), "W": matrix(3, 2), "S": spd, "x": vector(3), "y": vector(3),
            "v": vector(2), "b": vector(3), "c": vector(3)}


# (expression, the same in PyTorch, the same in NumPy): each a function of the named tensors or arrays
CASES = [
    ("sum((A@x - b)^2)", lambda t, d: ((d["A"] @ d["x"] - d["b"]) ** 2).sum(),
     lambda n, d: ((d["A"] @ d["x"] - d["b"]) ** 2).sum()),
    ("logsumexp(W@v + c) - (W@v + c)[2]",
     lambda t, d: t.logsumexp(d["W"] @ d["v"] + d["c"], 0) - (d["W"] @ d["v"] + d["c"])[2],
     lambda n, d: n.log(n.exp(d["W"] @ d["v"] + d["c"]).sum()) - (d["W"] @ d["v"] + d["c"])[2]),
    ("0.5*x@S@x", lambda t, d: 0.5 * d["x"] @ d["S"] @ d["x"], lambda n, d: 0.5 * d["x"] @ d["S"] @ d["x"]),
    ("sum(tanh(W@v + b))", lambda t, d: t.tanh(d["W"] @ d["v"] + d["b"]).sum(),
     lambda n, d: n.tanh(d["W"] @ d["v"] + d["b"]).sum()),
    ("sum(softmax(A, axis=0) * B)", lambda t, d: (t.softmax(d["A"], 0) * d["B"]).sum(),
     lambda n, d: (n.exp(d["A"]) / n.exp(d["A"]).sum(axis=0) * d["B"]).sum()),
    ("sum(log_softmax(A)[:, 0])", lambda t, d: t.log_softmax(d["A"], 1)[:, 0].sum(),
     lambda n, d: (d["A"] - n.log(n.exp(d["A"]).sum(axis=1, keepdims=True)))[:, 0].sum()),
    ("norm(A)^2 + norm(x)", lambda t, d: t.linalg.norm(d["A"]) ** 2 + t.linalg.norm(d["x"]),
     lambda n, d: n.linalg.norm(d["A"]) ** 2 + n.linalg.norm(d["x"])),
    ("sum(norm(A, axis=1) * y)", lambda t, d: (t.linalg.norm(d["A"], dim=1) * d["y"]).sum(),
     lambda n, d: (n.linalg.norm(d["A"], axis=1) * d["y"]).sum()),
    ("trace(A.T @ B) + trace(A)", lambda t, d: t.trace(d["A"].T @ d["B"]) + t.trace(d["A"]),
     lambda n, d: n.trace(d["A"].T @ d["B"]) + n.trace(d["A"])),
    ("det(S) + sum(inv(S) * A) + logdet(S)",
     lambda t, d: t.det(d["S"]) + (t.inverse(d["S"]) * d["A"]).sum() + t.logdet(d["S"]),
     lambda n, d: n.linalg.det(d["S"]) + (n.linalg.inv(d["S"]) * d["A"]).sum() + n.linalg.slogdet(d["S"])[1]),
    ("mean(A, axis=0) @ x + mean(B)", lambda t, d: d["A"].mean(0) @ d["x"] + d["B"].mean(),
     lambda n, d: d["A"].mean(axis=0) @ d["x"] + d["B"].mean()),
    ("sum(max(A, axis=1) * y) + min(B)", lambda t, d: (t.amax(d["A"], 1) * d["y"]).sum() + t.amin(d["B"]),
     lambda n, d: (d["A"].max(axis=1) * d["y"]).sum() + d["B"].min()),
    ("sum(outer(x, y) * A) + dot(x, y)", lambda t, d: (t.outer(d["x"], d["y"]) * d["A"]).sum() + t.dot(d["x"], d["y"]),
     lambda n, d: (n.outer(d["x"], d["y"]) * d["A"]).sum() + n.dot(d["x"], d["y"])),
    ("prod(x) + sum(prod(A, axis=0))", lambda t, d: d["x"].prod() + d["A"].prod(0).sum(),
     lambda n, d: d["x"].prod() + d["A"].prod(axis=0).sum()),
    ("sum(reshape(A, [1, 9]) @ reshape(B, 9))", lambda t, d: (d["A"].reshape(1, 9) @ d["B"].reshape(9)).sum(),
     lambda n, d: (d["A"].reshape(1, 9) @ d["B"].reshape(9)).sum()),
    ("sum(concat(x, y) ^ 2) + sum(stack(x, y, axis=1) @ v)",
     lambda t, d: (t.cat([d["x"], d["y"]]) ** 2).sum() + (t.stack([d["x"], d["y"]], 1) @ d["v"]).sum(),
     lambda n, d: (n.concatenate([d["x"], d["y"]]) ** 2).sum() + (n.stack([d["x"], d["y"]], 1) @ d["v"]).sum()),
    ("sum(A[1:, ::2] * B[0:2, 0]) + A[-1, -1]",
     lambda t, d: (d["A"][1:, ::2] * d["B"][0:2, 0]).sum() + d["A"][-1, -1],
     lambda n, d: (d["A"][1:, ::2] * d["B"][0:2, 0]).sum() + d["A"][-1, -1]),
    ("sum(sigmoid(A @ A.T) * [1, 2, 3])", lambda t, d: (t.sigmoid(d["A"] @ d["A"].T) * t.tensor([1.0, 2.0, 3.0],
                                                                    dtype=t.float64)).sum(),
     lambda n, d: (1 / (1 + n.exp(-(d["A"] @ d["A"].T))) * n.array([1.0, 2.0, 3.0])).sum()),
    ("sum(x * A + b)", lambda t, d: (d["x"] * d["A"] + d["b"]).sum(), lambda n, d: (d["x"] * d["A"] + d["b"]).sum()),
]


def ours(text, values):
    program = parse(text)
    built = program.build({n: Tensor(values[n]) for n in program.variables})
    built.root.backward()
    return program, built.root.item(), {n: built.leaves[n].grad.tolist() for n in program.variables}


def close_lists(a, b, tol):
    if isinstance(a, list):
        return len(a) == len(b) and all(close_lists(x, y, tol) for x, y in zip(a, b, strict=True))
    return abs(a - b) <= tol * (1 + abs(b))


@pytest.mark.parametrize("backend", T.available())
@pytest.mark.parametrize(("text", "torch_f", "numpy_f"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_values_and_gradients_agree_with_pytorch(text, torch_f, numpy_f, seed, backend):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0 (the CPU build)")
    values = data(seed)
    with T.use_backend(backend):
        program, value, grads = ours(text, values)
    leaves = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in values.items()}
    out = torch_f(torch, leaves)
    out.backward()
    assert value == pytest.approx(out.item(), rel=1e-10, abs=1e-12)
    for name in program.variables:
        assert close_lists(grads[name], leaves[name].grad.tolist(), 1e-9), (text, name)


@pytest.mark.parametrize(("text", "torch_f", "numpy_f"), CASES, ids=[c[0] for c in CASES])
def test_values_agree_with_numpy(text, torch_f, numpy_f):
    np = pytest.importorskip("numpy", reason="NumPy is the oracle here: pip install numpy")
    values = data(7)
    _, value, _ = ours(text, values)
    assert value == pytest.approx(float(numpy_f(np, {n: np.array(v) for n, v in values.items()})), rel=1e-10,
                                  abs=1e-12)
