"""Layers on tensors (autodiff_cli.tensor.nn): Linear against the formula and central differences, PyTorch's
initialisation (bounds, statistics, seeding), Module's names and state, Sequential and MLP, PyTorch itself where
installed, and a small network trained to a known accuracy on both backends.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
from pathlib import Path

import pytest

from autodiff_cli.errors import UsageError
from autodiff_cli.tensor import Tensor, available, losses, nn, optim

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from moons import make_moons

BACKENDS = ["python", pytest.param("numpy", marks=pytest.mark.skipif(
    "numpy" not in available(), reason="the numpy backend needs NumPy (pip install 'autodiff[numpy]')"))]

X = [[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]]
WEIGHT = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]
BIAS = [0.1, -0.2]


def layer(backend, bias=True):
    lin = nn.Linear(3, 2, bias=bias, seed=0, backend=backend)
    lin.weight.data = Tensor(WEIGHT, backend=backend)
    if bias:
        lin.bias.data = Tensor(BIAS, backend=backend)
    return lin


def by_hand(x, w, b):
    """y[j] = sum_k x[k] w[j][k] + b[j]."""
    return [sum(xk * wk for xk, wk in zip(x, row, strict=True)) + bj for row, bj in zip(w, b, strict=True)]


# -- Linear ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_is_x_times_w_transposed_plus_b(backend):
    lin = layer(backend)
    assert lin.weight.shape == (2, 3)
    assert lin.bias.shape == (2,)
    y = lin(Tensor(X, requires_grad=False, backend=backend))
    assert y.shape == (2, 2)
    assert y.tolist() == [by_hand(row, WEIGHT, BIAS) for row in X]
    single = lin(Tensor(X[0], requires_grad=False, backend=backend))  # one example: (nin,) -> (nout,)
    assert single.tolist() == by_hand(X[0], WEIGHT, BIAS)
    batched = lin(Tensor([X, X, X], requires_grad=False, backend=backend))  # leading axes kept
    assert batched.shape == (3, 2, 2)
    assert batched.tolist()[2] == y.tolist()
    assert layer(backend, bias=False)(Tensor(X[1], backend=backend)).tolist() == by_hand(X[1], WEIGHT, [0.0, 0.0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(2, 3), (3,), (2, 2, 3)])
def test_linear_gradients_against_central_differences(backend, shape):
    """L = sum(G * y) for a fixed G: the gradients of x, W and b against central differences of the hand formula."""
    rng = random.Random(7)
    n = math.prod(shape)
    xs = [rng.uniform(-2, 2) for _ in range(n)]
    gs = [rng.uniform(-1, 1) for _ in range(n // 3 * 2)]

    def loss(xv, wv, bv):
        rows = [xv[k:k + 3] for k in range(0, len(xv), 3)]
        w = [wv[0:3], wv[3:6]]
        ys = [v for row in rows for v in by_hand(row, w, bv)]
        return sum(g * v for g, v in zip(gs, ys, strict=True))

    def numeric(f, values, h=1e-6):
        out = []
        for k in range(len(values)):
            up, down = list(values), list(values)
            up[k] += h
            down[k] -= h
            out.append((f(up) - f(down)) / (2 * h))
        return out

    lin = layer(backend)
    x = Tensor(xs, backend=backend).reshape(*shape)
    x = Tensor(x.tolist(), backend=backend)  # a leaf of that shape
    y = lin(x)
    (y * Tensor(gs, requires_grad=False, backend=backend).reshape(*y.shape)).sum().backward()
    wflat, bflat = [v for row in WEIGHT for v in row], list(BIAS)
    expected = {
        "x": numeric(lambda v: loss(v, wflat, bflat), xs),
        "weight": numeric(lambda v: loss(xs, v, bflat), wflat),
        "bias": numeric(lambda v: loss(xs, wflat, v), bflat),
    }
    got = {"x": x.grad.reshape(-1).tolist(), "weight": lin.weight.grad.reshape(-1).tolist(),
           "bias": lin.bias.grad.tolist()}
    for name in expected:
        assert all(abs(a - b) < 1e-8 for a, b in zip(got[name], expected[name], strict=True)), name


@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_refuses_inputs_of_the_wrong_width(backend):
    with pytest.raises(UsageError, match=r"with 3 inputs takes tensors of shape \(N, 3\) or \(3,\), not \(4, 2\)"):
        layer(backend)(Tensor([[1.0, 2.0]] * 4, backend=backend))
    with pytest.raises(UsageError, match="at least one of its inputs"):
        nn.Linear(0, 3)
    with pytest.raises(UsageError, match=r"a weight of shape \(nout, nin\) and a bias of shape \(nout,\), not \(2, 3\) "
                                         r"and \(3,\)"):
        three = Tensor([1.0, 2.0, 3.0], backend=backend)
        nn.linear(three, layer(backend).weight, three)


# -- PyTorch's initialisation, seeded -----------------------------------------------------------


@pytest.mark.parametrize("nin", [1, 3, 64, 400])
def test_linear_init_stays_within_one_over_sqrt_fan_in(nin):
    lin = nn.Linear(nin, 50, seed=nin, backend="python")
    bound = 1.0 / math.sqrt(nin)
    values = lin.weight.reshape(-1).tolist() + lin.bias.tolist()
    assert all(-bound <= v <= bound for v in values)
    assert max(abs(v) for v in values) > 0.9 * bound  # the bound is reached, not a narrower range


def test_pytorchs_own_linear_draws_from_the_same_range():
    """The claim that kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(nin), 1/sqrt(nin)), checked on torch's own layer."""
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    torch.manual_seed(0)
    theirs = torch.nn.Linear(400, 50)
    ours = nn.Linear(400, 50, seed=0, backend="python")
    bound = 1.0 / math.sqrt(400)
    for t, p in ((theirs.weight, ours.weight), (theirs.bias, ours.bias)):
        values, mine = t.detach().reshape(-1).tolist(), p.reshape(-1).tolist()
        assert max(abs(v) for v in values) <= bound
        assert max(abs(v) for v in values) > 0.9 * bound
        if len(values) > 1000:  # both spread as U(-a, a): variance a^2 / 3, within 10%
            assert abs(statistics.pvariance(values) / statistics.pvariance(mine) - 1.0) < 0.1


def test_linear_init_has_the_statistics_of_a_uniform_distribution():
    """U(-a, a) has mean 0 and variance a^2 / 3; with a = 1/sqrt(100) and 20,000 draws, both within a few errors."""
    lin = nn.Linear(100, 200, seed=11, backend="python")
    w = lin.weight.reshape(-1).tolist()
    a2 = 1.0 / 100
    n = len(w)
    assert abs(statistics.fmean(w)) < 4 * math.sqrt(a2 / 3 / n)
    var = statistics.pvariance(w)
    assert abs(var - a2 / 3) < 4 * math.sqrt(a2 * a2 / 5 / n)  # the variance of x^2 for U(-a, a) is 4a^4/45


def test_seeding_repeats_and_differs():
    a, b, c = (nn.MLP(4, [8, 2], seed=s, backend="python") for s in (5, 5, 6))
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != c.state_dict()
    rng = random.Random(9)  # one generator shared by two layers: the second continues where the first stopped
    first, second = nn.Linear(2, 2, seed=rng), nn.Linear(2, 2, seed=rng)
    assert first.state_dict() != second.state_dict()


def test_the_weights_are_drawn_weight_first_row_by_row_then_bias():
    rng = random.Random(3)
    draws = [-0.5 + rng.random() for _ in range(6)]  # bound 1/sqrt(4) = 0.5: low + (high - low) * u
    lin = nn.Linear(4, 1, seed=3, backend="python")
    assert lin.weight.tolist() == [draws[:4]]
    assert lin.bias.tolist() == [draws[4]]


@pytest.mark.skipif("numpy" not in available(), reason="needs NumPy for the second backend")
def test_both_backends_draw_the_same_weights():
    assert nn.MLP(3, [4, 2], seed=1, backend="python").state_dict() == nn.MLP(3, [4, 2], seed=1,
                                                                              backend="numpy").state_dict()


# -- Module, Sequential, MLP -------------------------------------------------------------------


def test_named_parameters_follow_pytorchs_names():
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0, backend="python")
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [p.shape for p in model.parameters()] == [(16, 2), (16,), (16, 16), (16,), (1, 16), (1,)]
    assert model.sizes == [2, 16, 16, 1]
    assert model.activation == "relu"
    assert [layer.nout for layer in model.layers] == [16, 16, 1]
    assert len(model) == 5
    assert isinstance(model[1], nn.Activation)
    assert [type(m).__name__ for m in model] == ["Linear", "Activation", "Linear", "Activation", "Linear"]


def test_a_custom_module_finds_its_tensors_and_children():
    class Net(nn.Module):
        def __init__(self):
            self.scale = Tensor([2.0], backend="python")
            self.body = nn.Sequential(nn.Linear(2, 3, seed=1, backend="python"), nn.Tanh())
            self.head = nn.Linear(3, 1, bias=False, seed=2, backend="python")

        def forward(self, x):
            return self.head(self.body(x)) * self.scale

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "body.0.weight", "body.0.bias", "head.weight"]
    out = net(Tensor([[1.0, 2.0]], requires_grad=False, backend="python"))
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_mlp_last_layer_is_linear_and_the_others_use_the_activation():
    model = nn.MLP(1, [3, 2], activation="relu", seed=0, backend="python")
    with_relu = model(Tensor([[1.0], [-1.0]], requires_grad=False, backend="python"))
    lin0, lin1 = model.layers
    hidden = [[max(0.0, v) for v in by_hand(x, lin0.weight.tolist(), lin0.bias.tolist())] for x in ([1.0], [-1.0])]
    assert with_relu.tolist() == [by_hand(h, lin1.weight.tolist(), lin1.bias.tolist()) for h in hidden]


@pytest.mark.parametrize("name", ["tanh", "relu", "sigmoid", "gelu", "silu", "softplus", "leaky_relu", "elu"])
def test_activation_takes_any_one_argument_table_function(name):
    import autodiff_cli.tensor as T

    x = Tensor([-1.5, 0.25, 2.0], backend="python")
    assert nn.Activation(name)(x).tolist() == getattr(T, name)(x).tolist()


def test_activation_conveniences_and_identity():
    x = Tensor([-1.0, 0.5], backend="python")
    assert nn.ReLU()(x).tolist() == [0.0, 0.5]
    assert nn.Tanh()(x).tolist() == [math.tanh(-1.0), math.tanh(0.5)]
    assert nn.Sigmoid()(x).tolist() == [1 / (1 + math.exp(1.0)), 1 / (1 + math.exp(-0.5))]
    assert nn.Activation("linear")(x) is x


@pytest.mark.parametrize("name", ["tanhh", "atan2", "add", "max"])
def test_activation_refuses_what_is_not_a_one_argument_function(name):
    with pytest.raises(UsageError, match=f"unknown activation '{name}'"):
        nn.Activation(name)
    with pytest.raises(UsageError, match="unknown activation"):
        nn.MLP(2, [1], activation=name)


def test_state_dict_round_trip_and_checks():
    a, b = nn.MLP(2, [3, 1], seed=1, backend="python"), nn.MLP(2, [3, 1], seed=2, backend="python")
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    with pytest.raises(UsageError, match=r"missing \['2.bias'\], unexpected nothing"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if k != "2.bias"})
    bad = a.state_dict()
    bad["0.weight"] = [[1.0, 2.0]]
    before = b.state_dict()
    with pytest.raises(UsageError, match=r"0.weight: the state has shape \(1, 2\), the model \(3, 2\)"):
        b.load_state_dict(bad)
    assert b.state_dict() == before


def test_sequential_refuses_what_is_not_a_module():
    with pytest.raises(UsageError, match=r"argument 1 is a builtin_function_or_method, not a module \(a function "
                                         r"of the op table: nn.Activation"):
        nn.Sequential(nn.Tanh(), math.tanh)


# -- against PyTorch --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_mlp_matches_torch_sequential_with_the_same_state(backend):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    model = nn.MLP(3, [6, 4, 2], activation="tanh", seed=4, backend=backend)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)).double()
    tmodel.load_state_dict({k: torch.tensor(v, dtype=torch.float64) for k, v in model.state_dict().items()})
    xs = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-1.0, 1.0, 1.0]]
    out = model(Tensor(xs, requires_grad=False, backend=backend))
    tout = tmodel(torch.tensor(xs, dtype=torch.float64))
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert all(abs(a - b) < 1e-13 for a, b in zip(out.reshape(-1).tolist(), tout.reshape(-1).tolist(), strict=True))
    tparams = dict(tmodel.named_parameters())
    for name, p in model.named_parameters():
        assert all(abs(a - b) < 1e-12 for a, b in zip(p.grad.reshape(-1).tolist(),
                                                         tparams[name].grad.reshape(-1).tolist(), strict=True)), name


# -- training ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_small_network_learns_the_moons(backend):
    """2-16-16-1 relu, hinge loss, Adam, full batch: 100 moons points, at least 97% right after 150 steps.

    (Both backends compute the same numbers: the losses after training agree to 1e-9 across them.)
    """
    X, y = make_moons(100, noise=0.1, seed=1)
    Xt, yt = Tensor(X, requires_grad=False, backend=backend), Tensor(y, requires_grad=False, backend=backend)
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=1, backend=backend)
    opt = optim.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = losses.hinge(model(Xt).reshape(-1), yt)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    scores = model(Xt).reshape(-1).tolist()
    accuracy = sum((s > 0) == (label > 0) for s, label in zip(scores, y, strict=True)) / len(y)
    assert accuracy >= 0.97
    assert loss.item() < first / 10


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_classifier_with_cross_entropy_and_minibatches(backend):
    """Three Gaussian blobs, 2-8-3 tanh, cross-entropy, SGD with Nesterov momentum, batches of 16: 95% right."""
    rng = random.Random(0)
    centres = [(-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)]
    data = [([cx + rng.gauss(0, 0.6), cy + rng.gauss(0, 0.6)], k) for k, (cx, cy) in enumerate(centres)
            for _ in range(40)]
    rng.shuffle(data)
    model = nn.MLP(2, [8, 3], activation="tanh", seed=2, backend=backend)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(30):
        for start in range(0, len(data), 16):
            batch = data[start:start + 16]
            opt.zero_grad()
            logits = model(Tensor([x for x, _ in batch], requires_grad=False, backend=backend))
            losses.cross_entropy(logits, [k for _, k in batch]).backward()
            opt.step()
    logits = model(Tensor([x for x, _ in data], requires_grad=False, backend=backend)).tolist()
    right = sum(row.index(max(row)) == k for row, (_, k) in zip(logits, data, strict=True))
    assert right / len(data) >= 0.95


def test_the_submodules_are_reached_from_the_package():
    import autodiff_cli.tensor as T

    assert (T.nn, T.losses, T.optim) == (nn, losses, optim)
    assert {"nn", "losses", "optim"} <= set(dir(T))
