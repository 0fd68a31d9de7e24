"""The tensor commands against PyTorch (float64) on random values: grad, jacobian, hessian.

Skipped where torch is not installed (pip install torch==2.13.0 for the oracle; never a dependency).
"""

import json
import random

import pytest
from helpers import run

torch = pytest.importorskip("torch", reason="PyTorch is the oracle here; pip install torch==2.13.0 to run these")


def values(rng, *shape):
    if not shape:
        return rng.uniform(-2, 2)
    return [values(rng, *shape[1:]) for _ in range(shape[0])]


def t(v, grad=True):
    return torch.tensor(v, dtype=torch.float64, requires_grad=grad)


def close(got, expected, rel=1e-12, abs=1e-14):
    return torch.allclose(torch.tensor(got, dtype=torch.float64), expected.detach(), rtol=rel, atol=abs)


def ok_json(*args):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("seed", range(3))
def test_least_squares_gradient_matches_torch(seed):
    rng = random.Random(seed)
    a, x, b = values(rng, 5, 4), values(rng, 4), values(rng, 5)
    ta, tx, tb = t(a), t(x), t(b)
    loss = ((ta @ tx - tb) ** 2).sum()
    loss.backward()
    doc = ok_json("grad", "sum((A@x - b)^2)", "--A", json.dumps(a), "--x", json.dumps(x), "--b", json.dumps(b))
    assert doc["value"] == pytest.approx(loss.item(), rel=1e-13)
    assert close(doc["gradient"]["A"], ta.grad)
    assert close(doc["gradient"]["x"], tx.grad)
    assert close(doc["gradient"]["b"], tb.grad)


@pytest.mark.parametrize("seed", range(3))
def test_logistic_and_logsumexp_gradients_match_torch(seed):
    rng = random.Random(seed)
    w, x, c = values(rng, 3, 2), values(rng, 2), values(rng, 3)
    tw, tx, tc = t(w), t(x), t(c)
    z = tw @ tx + tc
    (torch.logsumexp(z, 0) - z[2]).backward()
    doc = ok_json("grad", "logsumexp(W@x + c) - (W@x + c)[2]", "--W", json.dumps(w), "--x", json.dumps(x),
                  "--c", json.dumps(c))
    assert close(doc["gradient"]["W"], tw.grad) and close(doc["gradient"]["x"], tx.grad)
    assert close(doc["gradient"]["c"], tc.grad)


def test_jacobian_matches_torch():
    rng = random.Random(7)
    w, x = values(rng, 3, 4), values(rng, 4)
    expected = torch.autograd.functional.jacobian(lambda w_, x_: torch.tanh(w_ @ x_), (t(w), t(x)))
    doc = ok_json("jacobian", "tanh(W@x)", "--W", json.dumps(w), "--x", json.dumps(x))
    assert close(doc["jacobian"]["W"], expected[0]) and close(doc["jacobian"]["x"], expected[1])


def test_hessian_matches_torch():
    rng = random.Random(11)
    w, x = values(rng, 2, 3), values(rng, 3)

    def f(flat):
        return torch.log(torch.exp(flat[6:] @ flat[:6].reshape(2, 3).T).sum())

    flat = t([v for row in w for v in row] + x)
    expected = torch.autograd.functional.hessian(f, flat)
    doc = ok_json("hessian", "logsumexp(W@x)", "--W", json.dumps(w), "--x", json.dumps(x))
    assert doc["elements"] == ["W[0,0]", "W[0,1]", "W[0,2]", "W[1,0]", "W[1,1]", "W[1,2]", "x[0]", "x[1]", "x[2]"]
    assert close(doc["hessian"], expected, rel=1e-10, abs=1e-12)
