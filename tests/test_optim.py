"""SGD and Adam against their published update rules, worked out step by step with plain floats.

The rules are PyTorch's documented ones (torch.optim.SGD, torch.optim.Adam); when
torch is installed, the same steps are also checked against it.
"""

import math

import pytest

from autodiff_cli.engine import Value
from autodiff_cli.optim import SGD, Adam

# gradients to feed, step by step, to two parameters (as if backward() had produced them)
GRADS = [(0.5, -1.0), (0.25, 2.0), (-0.75, 0.5), (1.5, -0.125), (0.0, 3.0)]
START = (1.0, -2.0)


def run(opt_factory, grads=GRADS, start=START):
    params = [Value(x) for x in start]
    opt = opt_factory(params)
    history = []
    for g in grads:
        opt.zero_grad()
        for p, gi in zip(params, g, strict=True):
            p.grad += gi
        opt.step()
        history.append([p.data for p in params])
    return history


def test_sgd_plain_is_p_minus_lr_g():
    history = run(lambda ps: SGD(ps, lr=0.1))
    p = list(START)
    for step, g in enumerate(GRADS):
        p = [p[0] - 0.1 * g[0], p[1] - 0.1 * g[1]]
        assert history[step] == pytest.approx(p, rel=1e-15, abs=1e-15)
    # a number by hand: 1 - 0.1*(0.5 + 0.25 - 0.75 + 1.5 + 0) = 0.85
    assert history[-1][0] == pytest.approx(0.85, rel=1e-14)


def test_sgd_momentum_first_buffer_is_the_gradient_then_mu_buf_plus_g():
    history = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9))
    # parameter 0 by hand:
    # step 1: buf = 0.5;                      p = 1 - 0.05 = 0.95
    # step 2: buf = 0.9*0.5 + 0.25 = 0.7;     p = 0.95 - 0.07 = 0.88
    # step 3: buf = 0.63 - 0.75 = -0.12;      p = 0.88 + 0.012 = 0.892
    assert history[0][0] == pytest.approx(0.95, rel=1e-15)
    assert history[1][0] == pytest.approx(0.88, rel=1e-14)
    assert history[2][0] == pytest.approx(0.892, rel=1e-14)
    # and every step of both parameters from the rule
    p, buf = list(START), None
    for step, g in enumerate(GRADS):
        buf = list(g) if buf is None else [0.9 * b + gi for b, gi in zip(buf, g, strict=True)]
        p = [pi - 0.1 * b for pi, b in zip(p, buf, strict=True)]
        assert history[step] == pytest.approx(p, rel=1e-14)


def test_sgd_weight_decay_adds_wd_times_p_to_the_gradient():
    history = run(lambda ps: SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.01))
    # step 1, parameter 0: g = 0.5 + 0.01*1 = 0.51; buf = 0.51; p = 1 - 0.051 = 0.949
    assert history[0][0] == pytest.approx(0.949, rel=1e-15)
    p, buf = list(START), None
    for step, g in enumerate(GRADS):
        d = [gi + 0.01 * pi for gi, pi in zip(g, p, strict=True)]
        buf = d if buf is None else [0.5 * b + di for b, di in zip(buf, d, strict=True)]
        p = [pi - 0.1 * b for pi, b in zip(p, buf, strict=True)]
        assert history[step] == pytest.approx(p, rel=1e-14)


def adam_reference(grads, start, lr, b1, b2, eps, wd=0.0):
    """The rule as published: m, v, bias-corrected m_hat and v_hat, eps after the square root."""
    p = list(start)
    m = [0.0] * len(p)
    v = [0.0] * len(p)
    out = []
    for t, g in enumerate(grads, 1):
        for i in range(len(p)):
            gi = g[i] + wd * p[i]
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi**2
            m_hat = m[i] / (1 - b1**t)
            v_hat = v[i] / (1 - b2**t)
            p[i] = p[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(list(p))
    return out


def test_adam_first_step_moves_each_parameter_by_lr_against_the_sign_of_its_gradient():
    # with bias correction, step 1 is lr * g / (|g| + eps): almost exactly lr
    history = run(lambda ps: Adam(ps, lr=0.01), grads=GRADS[:1])
    assert history[0][0] == pytest.approx(1.0 - 0.01 * 0.5 / (0.5 + 1e-8), rel=1e-15)
    assert history[0][1] == pytest.approx(-2.0 + 0.01 * 1.0 / (1.0 + 1e-8), rel=1e-15)


def test_adam_second_step_by_hand():
    # parameter 0, gradients 0.5 then 0.25, lr 0.01, betas (0.9, 0.999), eps 1e-8
    m1, v1 = 0.05, 0.00025  # 0.1*0.5, 0.001*0.25
    m2, v2 = 0.9 * m1 + 0.025, 0.999 * v1 + 0.001 * 0.0625  # 0.07, 0.0003122...
    m_hat, v_hat = m2 / (1 - 0.81), v2 / (1 - 0.999**2)
    p1 = 1.0 - 0.01 * 0.5 / (0.5 + 1e-8)
    p2 = p1 - 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8)
    history = run(lambda ps: Adam(ps, lr=0.01), grads=GRADS[:2])
    assert history[1][0] == pytest.approx(p2, rel=1e-14)


@pytest.mark.parametrize(
    ("lr", "betas", "eps", "wd"),
    [(0.01, (0.9, 0.999), 1e-8, 0.0), (0.1, (0.5, 0.9), 1e-3, 0.0), (0.05, (0.8, 0.99), 1e-8, 0.1)],
)
def test_adam_matches_the_published_rule_for_every_step(lr, betas, eps, wd):
    history = run(lambda ps: Adam(ps, lr=lr, betas=betas, eps=eps, weight_decay=wd))
    expected = adam_reference(GRADS, START, lr, betas[0], betas[1], eps, wd)
    for got, want in zip(history, expected, strict=True):
        assert got == pytest.approx(want, rel=1e-12)


def test_a_zero_gradient_leaves_adam_moving_on_its_momentum():
    # step 5 of parameter 0 has g = 0: it still moves, by m_hat / sqrt(v_hat), as the rule says
    history = run(lambda ps: Adam(ps, lr=0.01))
    assert history[4][0] != history[3][0]


def test_zero_grad_and_lr_schedule():
    w = Value(1.0)
    opt = SGD([w], lr=0.5)
    w.grad = 2.0
    opt.zero_grad()
    assert w.grad == 0.0 and isinstance(w.grad, float)
    w.grad = 1.0
    opt.lr = 0.25  # a schedule changes lr between steps
    opt.step()
    assert w.data == 0.75


def test_optimizers_minimise_a_quadratic_through_backward():
    for make in (lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1)):
        x, y = Value(3.0), Value(-2.0)
        opt = make([x, y])
        for _ in range(300):
            opt.zero_grad()
            loss = (x - 1.0) ** 2 + 10.0 * (y + 0.5) ** 2
            loss.backward()
            opt.step()
        assert x.data == pytest.approx(1.0, abs=1e-3)
        assert y.data == pytest.approx(-0.5, abs=1e-3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SGD([], lr=0.1), "no parameters"),
        (lambda: SGD([Value(1.0)], lr=-1.0), "lr"),
        (lambda: SGD([Value(1.0)], lr=float("nan")), "lr"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=-0.5), "momentum"),
        (lambda: Adam([Value(1.0)], lr=0.1, betas=(1.0, 0.999)), "beta1"),
        (lambda: Adam([Value(1.0)], lr=0.1, eps=-1.0), "eps"),
        (lambda: SGD([1.0], lr=0.1), "Values"),
    ],
)
def test_bad_settings_are_refused(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_a_parameter_given_twice_is_refused():
    w = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        Adam([w, w], lr=0.1)



@pytest.mark.parametrize("kind", ["sgd", "sgd-momentum-wd", "adam", "adam-wd"])
def test_same_steps_as_pytorch_when_it_is_installed(kind):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    make_torch = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
        "sgd-momentum-wd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
        "adam-wd": lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
    }[kind]
    make_ours = {
        "sgd": lambda ps: SGD(ps, lr=0.1),
        "sgd-momentum-wd": lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
        "adam": lambda ps: Adam(ps, lr=0.01),
        "adam-wd": lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
    }[kind]
    opt = make_torch(params)
    ours = run(make_ours)
    for step, g in enumerate(GRADS):
        opt.zero_grad()
        for p, gi in zip(params, g, strict=True):
            p.grad = torch.tensor(gi, dtype=torch.float64)
        opt.step()
        assert [p.item() for p in params] == pytest.approx(ours[step], rel=1e-13)
