"""Optimizers on tensors (autodiff_cli.tensor.optim) replayed by hand from the published update rules, and vs torch.

A tiny parameter p (three numbers) and the loss L(p) = sum(w * p^2 / 2 + c * p), whose gradient
w * p + c is known in closed form: each test takes a few steps with the optimizer (backward() giving
the gradient) and the same steps in plain floats, written here from torch.optim's documentation
(SGD, Adam, AdamW), and compares.  Where PyTorch is installed, the same steps on a small network
against torch.optim itself.  Both backends.
"""

from __future__ import annotations

import json
import math

import pytest

from autodiff_cli.errors import UsageError
from autodiff_cli.tensor import Tensor, available, nn, optim

BACKENDS = ["python", pytest.param("numpy", marks=pytest.mark.skipif(
    "numpy" not in available(), reason="the numpy backend needs NumPy (pip install 'autodiff[numpy]')"))]

START = [1.0, -2.0, 0.5]
W = [0.5, 2.0, 1.5]
C = [0.3, -0.1, 0.0]


def gradient(p):
    return [w * x + c for w, x, c in zip(W, p, C, strict=True)]


def run(make, backend, steps):
    """The optimizer's parameter after each step (L's gradient by backward())."""
    p = Tensor(START, backend=backend)
    w, c = Tensor(W, requires_grad=False, backend=backend), Tensor(C, requires_grad=False, backend=backend)
    opt = make([p])
    seen = []
    for _ in range(steps):
        opt.zero_grad()
        (w * p * p / 2 + c * p).sum().backward()
        opt.step()
        seen.append(p.tolist())
    return seen


def near(a, b, rel=1e-13):
    return all(abs(x - y) <= rel * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


# -- hand replays of the published rules -----------------------------------------------------


def sgd_by_hand(steps, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, seen = list(START), None, []
    for _ in range(steps):
        g = gradient(p)
        g = [gi + weight_decay * pi for gi, pi in zip(g, p, strict=True)]
        if momentum:
            if buf is None:
                buf = list(g)
            else:
                buf = [momentum * bi + (1 - dampening) * gi for bi, gi in zip(buf, g, strict=True)]
            g = [gi + momentum * bi for gi, bi in zip(g, buf, strict=True)] if nesterov else buf
        p = [pi - lr * gi for pi, gi in zip(p, g, strict=True)]
        seen.append(p)
    return seen


def adam_by_hand(steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    p, m, v, seen = list(START), [0.0] * 3, [0.0] * 3, []
    b1, b2 = betas
    for t in range(1, steps + 1):
        g = gradient(p)
        if decoupled:  # AdamW: p <- p - lr * wd * p, before the step
            p = [pi - lr * weight_decay * pi for pi in p]
        else:  # Adam: L2 in the gradient
            g = [gi + weight_decay * pi for gi, pi in zip(g, p, strict=True)]
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g, strict=True)]
        m_hat = [mi / (1 - b1**t) for mi in m]
        v_hat = [vi / (1 - b2**t) for vi in v]
        p = [pi - lr * mh / (math.sqrt(vh) + eps) for pi, mh, vh in zip(p, m_hat, v_hat, strict=True)]
        seen.append(p)
    return seen


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.05},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.02},
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda kw: ",".join(kw))
def test_sgd_replayed_by_hand(backend, kw):
    ours = run(lambda ps: optim.SGD(ps, **kw), backend, 5)
    for step, (a, b) in enumerate(zip(ours, sgd_by_hand(5, **kw), strict=True)):
        assert near(a, b), (step, a, b)


def test_sgd_first_steps_worked_out_on_paper():
    """p = 1, w = 0.5, c = 0.3: g = 0.8, p1 = 1 - 0.1 * 0.8 = 0.92; then g = 0.76, buf = 0.9 * 0.8 + 0.76 = 1.48,
    p2 = 0.92 - 0.148 = 0.772."""
    first = run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), "python", 2)
    assert abs(first[0][0] - 0.92) < 1e-15
    assert abs(first[1][0] - 0.772) < 1e-15


ADAM_CASES = [
    {"lr": 0.1},
    {"lr": 0.01, "betas": (0.8, 0.99)},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "eps": 1e-3},
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kw", ADAM_CASES, ids=lambda kw: ",".join(kw))
def test_adam_replayed_by_hand(backend, kw):
    ours = run(lambda ps: optim.Adam(ps, **kw), backend, 5)
    for step, (a, b) in enumerate(zip(ours, adam_by_hand(5, **kw), strict=True)):
        assert near(a, b, 1e-12), (step, a, b)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kw", [{"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.3}, {"lr": 0.01, "weight_decay": 0.0}],
                         ids=lambda kw: ",".join(kw))
def test_adamw_replayed_by_hand(backend, kw):
    ours = run(lambda ps: optim.AdamW(ps, **kw), backend, 5)
    hand = adam_by_hand(5, weight_decay=kw.get("weight_decay", 1e-2), decoupled=True, lr=kw["lr"])
    for step, (a, b) in enumerate(zip(ours, hand, strict=True)):
        assert near(a, b, 1e-12), (step, a, b)


def test_adam_first_step_moves_every_weight_by_lr():
    """After one step m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps): lr against the gradient's sign."""
    (p1,) = run(lambda ps: optim.Adam(ps, lr=0.1), "python", 1)
    g = gradient(START)
    assert near(p1, [x - 0.1 * gi / (abs(gi) + 1e-8) for x, gi in zip(START, g, strict=True)], 1e-15)
    assert all(abs(abs(a - b) - 0.1) < 1e-8 for a, b in zip(p1, START, strict=True))


def test_adamw_and_adam_differ_by_where_the_decay_goes():
    adam = run(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5), "python", 3)
    adamw = run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5), "python", 3)
    assert not near(adam[-1], adamw[-1], 1e-6)


# -- behaviour ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_parameter_without_gradient_is_left_alone(backend):
    a, b = Tensor([1.0, 2.0], backend=backend), Tensor([3.0], backend=backend)
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.tolist() == [3.0]
    assert opt.state_dict()["state"][1] == {}
    assert a.tolist() != [1.0, 2.0]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.01),
    lambda ps: optim.AdamW(ps, lr=0.1),
], ids=["sgd", "adam", "adamw"])
def test_state_dict_rewinds_a_run(backend, make):
    p = Tensor(START, backend=backend)
    w = Tensor(W, requires_grad=False, backend=backend)
    opt = make([p])

    def step():
        opt.zero_grad()
        (w * p * p).sum().backward()
        opt.step()

    for _ in range(3):
        step()
    saved_p, saved = p.tolist(), json.loads(json.dumps(opt.state_dict()))  # plain data: JSON holds it
    for _ in range(2):
        step()
    after = p.tolist()
    p.data = Tensor(saved_p, backend=backend)
    fresh = make([p])
    fresh.load_state_dict(saved)
    opt = fresh
    for _ in range(2):
        step()
    assert p.tolist() == after


def test_load_state_dict_checks_before_changing_anything():
    p = Tensor(START, backend="python")
    opt = optim.Adam([p], lr=0.1)
    good = opt.state_dict()
    with pytest.raises(UsageError, match="for 2 parameters, this optimizer has 1"):
        opt.load_state_dict({"hyperparameters": good["hyperparameters"], "state": [{}, {}]})
    with pytest.raises(UsageError, match=r"exp_avg of parameter 0 has shape \(2,\), the parameter \(3,\)"):
        opt.load_state_dict({"hyperparameters": {"lr": 0.5}, "state": [{"step": 1, "exp_avg": [0.0, 0.0],
                                                                         "exp_avg_sq": [0.0, 0.0, 0.0]}]})
    assert opt.lr == 0.1


@pytest.mark.parametrize(("make", "message"), [
    (lambda ps: optim.SGD(ps, lr=-0.1), "lr must be a finite number >= 0, not -0.1"),
    (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum needs momentum > 0 and dampening 0"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening 0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, 1.0)), r"beta2 must be in \[0, 1.0\), not 1.0"),
    (lambda ps: optim.Adam(ps, eps=float("nan")), "eps must be"),
    (lambda ps: optim.AdamW(ps + ps), "appears more than once"),
    (lambda ps: optim.Adam([]), "no parameters"),
    (lambda ps: optim.Adam([ps[0] * 2]), "not a leaf that requires grad"),
    (lambda ps: optim.Adam([1.0]), "parameters are Tensors, not float"),
])
def test_bad_settings_are_refused(make, message):
    with pytest.raises(UsageError, match=message):
        make([Tensor(START, backend="python")])


# -- against torch.optim ----------------------------------------------------------------------


TORCH_CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.25, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.7, "nesterov": True, "weight_decay": 0.02}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.03, "betas": (0.85, 0.99), "weight_decay": 0.2}),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "kw"), TORCH_CASES, ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_five_steps_match_torch_optim(backend, name, kw):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    from autodiff_cli.tensor import losses

    X = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 1.0, 1.0], [0.0, -2.0, 0.5]]
    y = [0, 2, 1, 2]
    model = nn.MLP(3, [5, 3], activation="tanh", seed=3, backend=backend)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    tmodel.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in model.state_dict().items()})
    opt = getattr(optim, name)(model.parameters(), **kw)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kw)
    Xt, yt = Tensor(X, requires_grad=False, backend=backend), torch.tensor(X, dtype=torch.float64)
    for _ in range(5):
        opt.zero_grad()
        losses.cross_entropy(model(Xt), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(yt), torch.tensor(y)).backward()
        topt.step()
    theirs = tmodel.state_dict()
    for key, value in model.state_dict().items():
        a = [v for row in value for v in row] if isinstance(value[0], list) else value
        b = theirs[key].reshape(-1).tolist()
        assert near(a, b, 1e-12), key


def test_an_optimizer_says_what_it_is():
    p = Tensor(START, backend="python")
    assert repr(optim.AdamW([p], lr=0.01)) == (
        "AdamW(1 parameters, lr=0.01, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01)")
    assert repr(optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)) == (
        "SGD(1 parameters, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True)")
