"""Losses against hand-computed values, their gradients against central differences, and stability."""

import math

import pytest

from autodiff_cli.engine import Value
from autodiff_cli.losses import bce_with_logits, cross_entropy, hinge, l2, log_softmax, mse, softmax


def numeric_grad(f, xs, h=1e-6):
    """Central differences of f (a function of a list of floats) at xs."""
    out = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += h
        down[i] -= h
        out.append((f(up) - f(down)) / (2 * h))
    return out


def check_gradient(loss_of_values, xs, rel=1e-6, abs=1e-8):
    vals = [Value(x) for x in xs]
    loss = loss_of_values(vals)
    loss.backward()
    expected = numeric_grad(lambda fs: loss_of_values([Value(f) for f in fs]).data, xs)
    assert [v.grad for v in vals] == pytest.approx(expected, rel=rel, abs=abs)
    return loss.data


def test_mse_by_hand():
    loss = mse([Value(1.0), Value(3.0)], [0.0, 1.0])
    assert loss.data == 2.5  # (1 + 4) / 2
    check_gradient(lambda v: mse(v, [0.5, -1.0, 2.0]), [1.0, 3.0, -0.5])


def test_hinge_by_hand():
    # relu(1 - 1*0.5) = 0.5, relu(1 - (-1)*(-2)) = 0, relu(1 - 1*(-1)) = 2: mean 2.5/3
    loss = hinge([Value(0.5), Value(-2.0), Value(-1.0)], [1, -1, 1])
    assert loss.data == pytest.approx(2.5 / 3, rel=1e-15)
    check_gradient(lambda v: hinge(v, [1, -1, 1]), [0.5, -2.0, -1.0])


def test_hinge_needs_labels_of_plus_or_minus_one():
    with pytest.raises(ValueError, match="-1 and \\+1"):
        hinge([Value(0.5)], [0])


def test_bce_with_logits_equals_the_textbook_formula():
    zs, ys = [0.3, -1.2, 2.0, 0.0], [1.0, 0.0, 0.25, 1.0]

    def textbook(z, y):
        p = 1 / (1 + math.exp(-z))
        return -(y * math.log(p) + (1 - y) * math.log(1 - p))

    expected = sum(textbook(z, y) for z, y in zip(zs, ys, strict=True)) / len(zs)
    loss = bce_with_logits([Value(z) for z in zs], ys)
    assert loss.data == pytest.approx(expected, rel=1e-14)
    check_gradient(lambda v: bce_with_logits(v, ys), zs)
    # the gradient of the mean is (sigmoid(z) - y) / n
    vals = [Value(z) for z in zs]
    bce_with_logits(vals, ys).backward()
    assert [v.grad for v in vals] == pytest.approx(
        [(1 / (1 + math.exp(-z)) - y) / 4 for z, y in zip(zs, ys, strict=True)], rel=1e-12
    )


def test_bce_stays_finite_and_accurate_for_huge_logits():
    # a sure, correct prediction costs about e^-z; a sure, wrong one costs about z
    assert bce_with_logits([Value(800.0)], [1.0]).data == 0.0
    assert bce_with_logits([Value(40.0)], [1.0]).data == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert bce_with_logits([Value(800.0)], [0.0]).data == pytest.approx(800.0, rel=1e-15)
    z = Value(-800.0)
    loss = bce_with_logits([z], [1.0])
    loss.backward()
    assert loss.data == pytest.approx(800.0) and z.grad == pytest.approx(-1.0)


def test_softmax_and_log_softmax_by_hand():
    z = [Value(1.0), Value(2.0), Value(3.0)]
    total = math.exp(1) + math.exp(2) + math.exp(3)
    assert [p.data for p in softmax(z)] == pytest.approx([math.exp(k) / total for k in (1, 2, 3)], rel=1e-14)
    assert [p.data for p in log_softmax(z)] == pytest.approx([k - math.log(total) for k in (1, 2, 3)], rel=1e-14)


def test_cross_entropy_by_hand_and_its_gradient_is_softmax_minus_one_hot():
    logits = [[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]]
    classes = [2, 0]

    def by_hand(z, c):
        return math.log(sum(math.exp(v) for v in z)) - z[c]

    expected = (by_hand(logits[0], 2) + by_hand(logits[1], 0)) / 2
    vals = [[Value(v) for v in row] for row in logits]
    loss = cross_entropy(vals, classes)
    assert loss.data == pytest.approx(expected, rel=1e-14)
    loss.backward()
    for row, z, c in zip(vals, logits, classes, strict=True):
        total = sum(math.exp(v) for v in z)
        want = [(math.exp(v) / total - (k == c)) / 2 for k, v in enumerate(z)]
        assert [v.grad for v in row] == pytest.approx(want, rel=1e-12, abs=1e-15)
    flat = [v for row in logits for v in row]
    check_gradient(lambda v: cross_entropy([v[:3], v[3:]], classes), flat)


def test_cross_entropy_with_huge_logits_does_not_overflow():
    # exp(1000) overflows a double; subtracting the max first keeps every exp <= 1
    loss = cross_entropy([[Value(1000.0), Value(0.0), Value(-1000.0)]], [1])
    assert loss.data == pytest.approx(1000.0, rel=1e-15)
    assert cross_entropy([[Value(1000.0), Value(0.0)]], [0]).data == 0.0
    assert sum(p.data for p in softmax([Value(1000.0), Value(999.0)])) == pytest.approx(1.0)


def test_cross_entropy_checks_the_class_index():
    with pytest.raises(ValueError, match="not an index"):
        cross_entropy([[Value(0.0), Value(1.0)]], [2])


def test_l2_by_hand_and_gradient():
    ps = [Value(1.0), Value(-2.0), Value(0.5)]
    reg = l2(ps, 0.1)
    assert reg.data == pytest.approx(0.1 * (1 + 4 + 0.25), rel=1e-15)
    reg.backward()
    assert [p.grad for p in ps] == pytest.approx([0.2, -0.4, 0.1], rel=1e-15)


def test_losses_check_lengths_and_emptiness():
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        mse([Value(1.0), Value(2.0)], [1.0])
    with pytest.raises(ValueError, match="at least one"):
        mse([], [])
