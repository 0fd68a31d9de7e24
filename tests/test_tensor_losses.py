"""Losses on tensors (autodiff_cli.tensor.losses) against hand-written formulas, central differences and PyTorch.

Each value is worked out in the test with `math` on plain floats, independently of the Tensor code;
gradients are checked against central differences of those same hand formulas, and against the
closed forms (softmax - one-hot, sigmoid - y).  Both backends; the NumPy one skips without NumPy.
"""

from __future__ import annotations

import math

import pytest

from autodiff_cli.errors import UsageError
from autodiff_cli.tensor import Tensor, available, losses

BACKENDS = ["python", pytest.param("numpy", marks=pytest.mark.skipif(
    "numpy" not in available(), reason="the numpy backend needs NumPy (pip install 'autodiff[numpy]')"))]

LOGITS = [[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [1.5, 1.5, -0.5], [-3.0, 0.25, 4.0]]
CLASSES = [0, 1, 2, 2]


def leaf(values, backend):
    return Tensor(values, backend=backend)


def const(values, backend):
    return Tensor(values, requires_grad=False, backend=backend)


def flat(nested):
    return [v for row in nested for v in row] if isinstance(nested[0], list) else list(nested)


def close(a, b, rel=1e-12, absolute=1e-12):
    return len(a) == len(b) and all(abs(x - y) <= absolute + rel * abs(y) for x, y in zip(a, b, strict=True))


def central(f, values, h=1e-6):
    """d f / d values[k] for each k, by central differences of a function of a flat list."""
    grads = []
    for k in range(len(values)):
        up, down = list(values), list(values)
        up[k] += h
        down[k] -= h
        grads.append((f(up) - f(down)) / (2 * h))
    return grads


def hand_log_softmax(row):
    m = max(row)
    lse = m + math.log(sum(math.exp(v - m) for v in row))
    return [v - lse for v in row]


def hand_cross_entropy(rows, targets):
    """mean over rows of -sum_c p_c log softmax(z)_c; targets: ints or probability rows."""
    total = 0.0
    for z, t in zip(rows, targets, strict=True):
        p = [1.0 if c == t else 0.0 for c in range(len(z))] if isinstance(t, int) else t
        total -= sum(pc * oc for pc, oc in zip(p, hand_log_softmax(z), strict=True))
    return total / len(rows)


def reshaped(values, cols):
    return [values[k:k + cols] for k in range(0, len(values), cols)]


# -- mse ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_mse_is_the_mean_of_squares_and_its_gradient_2_d_over_n(backend):
    pred = leaf([[1.0, 2.0], [3.0, 4.0]], backend)
    loss = losses.mse(pred, [[0.0, 2.0], [5.0, 1.0]])  # differences 1, 0, -2, 3: squares 1, 0, 4, 9
    assert loss.shape == ()
    assert loss.item() == 3.5
    loss.backward()
    assert pred.grad.tolist() == [[0.5, 0.0], [-1.0, 1.5]]  # 2 * d / 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_mse_refuses_shapes_that_would_broadcast(backend):
    with pytest.raises(UsageError, match=r"shape \(3, 1\) and the target \(3,\).*reshape"):
        losses.mse(leaf([[1.0], [2.0], [3.0]], backend), const([1.0, 2.0, 3.0], backend))


# -- cross_entropy ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_cross_entropy_with_class_indices(backend, as_tensor):
    z = leaf(LOGITS, backend)
    target = const(CLASSES, backend) if as_tensor else CLASSES
    loss = losses.cross_entropy(z, target)
    assert loss.shape == ()
    assert abs(loss.item() - hand_cross_entropy(LOGITS, CLASSES)) < 1e-14
    loss.backward()
    # softmax(z) - onehot, over N; and the same from central differences of the hand formula
    n = len(LOGITS)
    closed = []
    for row, c in zip(LOGITS, CLASSES, strict=True):
        s = [math.exp(o) for o in hand_log_softmax(row)]
        closed.extend((s[k] - (k == c)) / n for k in range(len(row)))
    numeric = central(lambda v: hand_cross_entropy(reshaped(v, 3), CLASSES), flat(LOGITS))
    assert close(flat(z.grad.tolist()), closed, 1e-12, 1e-15)
    assert close(flat(z.grad.tolist()), numeric, 1e-7, 1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_with_probabilities_and_their_gradient(backend):
    probs = [[0.2, 0.5, 0.3], [0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.1, 0.1, 0.8]]
    z, p = leaf(LOGITS, backend), leaf(probs, backend)
    loss = losses.cross_entropy(z, p)
    assert abs(loss.item() - hand_cross_entropy(LOGITS, probs)) < 1e-14
    loss.backward()
    dz = central(lambda v: hand_cross_entropy(reshaped(v, 3), probs), flat(LOGITS))
    dp = central(lambda v: hand_cross_entropy(LOGITS, reshaped(v, 3)), flat(probs))
    assert close(flat(z.grad.tolist()), dz, 1e-7, 1e-9)
    assert close(flat(p.grad.tolist()), dp, 1e-7, 1e-9)  # -log_softmax(z) / N


@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_of_targets_not_summing_to_one(backend):
    """PyTorch accepts any non-negative weights per class; the gradient is softmax * sum(p) - p, not softmax - p."""
    weights = [[2.0, 0.0, 1.0], [0.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.3, 0.0, 0.0]]
    z = leaf(LOGITS, backend)
    losses.cross_entropy(z, const(weights, backend)).backward()
    numeric = central(lambda v: hand_cross_entropy(reshaped(v, 3), weights), flat(LOGITS))
    assert close(flat(z.grad.tolist()), numeric, 1e-7, 1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_of_one_example(backend):
    z = leaf([1.0, 2.0, 3.0], backend)
    loss = losses.cross_entropy(z, 2)
    assert abs(loss.item() - (-hand_log_softmax([1.0, 2.0, 3.0])[2])) < 1e-15
    loss.backward()
    assert z.grad.shape == (3,)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_is_stable_for_huge_logits(backend):
    z = leaf([[1000.0, 0.0], [0.0, -1000.0], [500.0, 500.0]], backend)
    loss = losses.cross_entropy(z, [1, 0, 0])
    # by hand: 1000 (log(1 + e^-1000) is nothing), about 0 (e^-1000), log 2; gradient (softmax - one-hot) / 3
    assert abs(loss.item() - (1000.0 + 0.0 + math.log(2.0)) / 3) < 1e-12
    loss.backward()
    assert close(flat(z.grad.tolist()), [1 / 3, -1 / 3, 0.0, 0.0, -0.5 / 3, 0.5 / 3], 1e-12, 1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("target", "message"), [
    ([0, 1, 3, 0], r"target 3 at \[2\] is not a class index 0..2"),
    ([0, 1, 1.5, 0], r"target 1.5 at \[2\]"),
    ([0, -1, 0, 0], r"target -1 at \[1\]"),
    ([0, 1], r"class indices of shape \(4,\) or probabilities of shape \(4, 3\), not \(2,\)"),
])
def test_cross_entropy_names_a_bad_target(backend, target, message):
    with pytest.raises(UsageError, match=message):
        losses.cross_entropy(leaf(LOGITS, backend), target)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_refuses_other_shapes_of_logits(backend):
    with pytest.raises(UsageError, match=r"logits of shape \(N, C\) or \(C,\), not \(2, 2, 2\)"):
        losses.cross_entropy(leaf([[[1.0, 2.0], [3.0, 4.0]]] * 2, backend), [0, 1])


# -- bce_with_logits ----------------------------------------------------------------------


def hand_bce(zs, ys):
    """The textbook form, -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], fine for moderate z."""
    total = 0.0
    for z, y in zip(zs, ys, strict=True):
        s = 1.0 / (1.0 + math.exp(-z))
        total -= y * math.log(s) + (1.0 - y) * math.log(1.0 - s)
    return total / len(zs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bce_with_logits_against_the_textbook_formula(backend):
    zs, ys = [-2.0, -0.5, 0.0, 0.75, 3.0, 1.0], [0.0, 1.0, 1.0, 0.0, 1.0, 0.25]
    z, y = leaf(zs, backend), leaf(ys, backend)
    loss = losses.bce_with_logits(z, y)
    assert loss.shape == ()
    assert abs(loss.item() - hand_bce(zs, ys)) < 1e-14
    loss.backward()
    closed = [(1.0 / (1.0 + math.exp(-zi)) - yi) / len(zs) for zi, yi in zip(zs, ys, strict=True)]
    assert close(z.grad.tolist(), closed, 1e-12, 1e-15)
    assert close(z.grad.tolist(), central(lambda v: hand_bce(v, ys), zs), 1e-7, 1e-9)
    assert close(y.grad.tolist(), central(lambda v: hand_bce(zs, v), ys), 1e-7, 1e-9)  # -z / n


@pytest.mark.parametrize("backend", BACKENDS)
def test_bce_with_logits_at_zero_has_the_true_gradient(backend):
    """max(z, 0) and |z| have kinks at 0 whose conventions (relu'(0) = 0) would give 0 there; the node gives 1/2 - y."""
    z = leaf([0.0, 0.0], backend)
    losses.bce_with_logits(z, [1.0, 0.0]).backward()
    assert z.grad.tolist() == [-0.25, 0.25]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bce_with_logits_is_stable_for_huge_logits(backend):
    z = leaf([1000.0, -1000.0, 800.0, -800.0], backend)
    loss = losses.bce_with_logits(z, [1.0, 0.0, 0.0, 1.0])  # right twice (about 0), wrong by 800 twice
    assert loss.item() == 400.0
    loss.backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.25, -0.25]


@pytest.mark.parametrize("backend", BACKENDS)
def test_bce_with_logits_refuses_labels_outside_0_1(backend):
    with pytest.raises(UsageError, match=r"labels are in \[0, 1\], not -1.0"):
        losses.bce_with_logits(leaf([0.5, 1.0], backend), [1.0, -1.0])


# -- hinge --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_hinge_is_the_mean_of_relu_of_one_minus_margin(backend):
    s = leaf([2.0, 0.5, -0.25, -3.0], backend)
    loss = losses.hinge(s, [1.0, 1.0, 1.0, 1.0])  # relu(1 - s): 0, 0.5, 1.25, 4
    assert loss.item() == (0.0 + 0.5 + 1.25 + 4.0) / 4
    loss.backward()
    assert s.grad.tolist() == [0.0, -0.25, -0.25, -0.25]
    s2 = leaf([2.0, 0.5, -0.25, -3.0], backend)
    losses.hinge(s2, [-1.0, -1.0, 1.0, -1.0]).backward()  # margins -2, -0.5, -0.25, 3: relu 3, 1.5, 1.25, 0
    assert s2.grad.tolist() == [0.25, 0.25, -0.25, 0.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_hinge_refuses_labels_other_than_plus_minus_one(backend):
    with pytest.raises(UsageError, match=r"hinge labels are -1 and \+1, not 0.0"):
        losses.hinge(leaf([1.0, 2.0], backend), [1.0, 0.0])


# -- against PyTorch ----------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_loss_matches_pytorch(backend):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    F = torch.nn.functional
    f64 = torch.float64
    probs = [[0.2, 0.5, 0.3], [0.0, 1.0, 0.0], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]
    zs, ys = [-2.0, -0.5, 0.0, 0.75, 30.0, -40.0], [0.0, 1.0, 1.0, 0.0, 1.0, 0.25]
    signs = [1.0, -1.0, -1.0, 1.0, 1.0, -1.0]
    cases = [
        (lambda z: losses.cross_entropy(z, CLASSES), lambda z: F.cross_entropy(z, torch.tensor(CLASSES)), LOGITS),
        (lambda z: losses.cross_entropy(z, const(probs, backend)),
         lambda z: F.cross_entropy(z, torch.tensor(probs, dtype=f64)), LOGITS),
        (lambda z: losses.bce_with_logits(z, ys),
         lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(ys, dtype=f64)), zs),
        (lambda z: losses.mse(z, ys), lambda z: F.mse_loss(z, torch.tensor(ys, dtype=f64)), zs),
        (lambda z: losses.hinge(z, signs), lambda z: torch.relu(1 - torch.tensor(signs, dtype=f64) * z).mean(), zs),
    ]
    for ours, theirs, values in cases:
        z, tz = leaf(values, backend), torch.tensor(values, dtype=f64, requires_grad=True)
        loss, tloss = ours(z), theirs(tz)
        loss.backward()
        tloss.backward()
        assert abs(loss.item() - tloss.item()) <= 1e-13 * max(1.0, abs(tloss.item()))
        assert close(flat(z.grad.tolist()), flat(tz.grad.tolist()), 1e-12, 1e-15)
