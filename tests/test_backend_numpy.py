"""The NumPy backend's kernels against NumPy's own semantics, hand values and the scalar engine.

Every op of the table, forward and derivative, is compared element by element with the scalar
engine (op.evaluate, rulecode.products / careful.times as engine.gradient_term multiplies) on
random points of its domain and on the tails; errors name the first bad element in row-major order.
"""

from __future__ import annotations

import math
import random

import pytest

np = pytest.importorskip("numpy")

from autodiff_cli import careful, ops, rulecode  # noqa: E402
from autodiff_cli.errors import MathError, UsageError  # noqa: E402
from autodiff_cli.tensor.backends import get  # noqa: E402

B = get("numpy")
OPS = ops.OPS


def arr(values, shape=None) -> np.ndarray:
    a = np.array(values, dtype=np.float64)
    return a if shape is None else a.reshape(shape)


def ulps(a: float, b: float) -> float:
    """How many units in the last place a and b differ by (0 for equal, signed zeros equal)."""
    if a == b:
        return 0.0
    return abs(a - b) / math.ulp(max(abs(a), abs(b)))


def scalar_term(op, i, args, out, g) -> float:
    """g * d out / d arg_i at one element as engine.gradient_term computes it."""
    try:
        d = rulecode.products(op)[i](*args, out, g)
        if math.isfinite(d):
            return d
    except (ArithmeticError, ValueError):
        pass
    return careful.times(args, out, i, op, g)


# -- making and reading arrays ---------------------------------------------------------------


def test_from_flat_to_flat_shape_full_nbytes():
    a = B.from_flat([1, 2, 3, 4, 5, 6], (2, 3))
    assert a.dtype == np.float64 and B.shape(a) == (2, 3)
    assert B.to_flat(a) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert all(type(v) is float for v in B.to_flat(a))
    assert B.to_flat(B.permute(a, (1, 0))) == [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]  # row-major of the view
    assert B.to_flat(B.full((2, 2), 7)) == [7.0] * 4
    assert B.nbytes(B.full((10, 10), 0.0)) == 800
    assert B.shape(B.from_flat([3.5], ())) == ()


# -- elementwise: hand values and errors ----------------------------------------------------------


def test_apply_broadcasts_as_numpy():
    a = arr([[1.0], [2.0], [3.0]])
    b = arr([10.0, 20.0, 30.0, 40.0])
    r = B.apply(OPS["add"], [a, b])
    assert r.shape == (3, 4) and r.tolist() == (a + b).tolist()


def test_broadcast_failure_names_both_shapes():
    with pytest.raises(UsageError, match=r"shapes \(3,\) and \(4,\) cannot be broadcast together"):
        B.apply(OPS["mul"], [arr([1, 2, 3]), arr([1, 2, 3, 4])])


def test_error_names_the_first_bad_element_in_row_major_order():
    x = arr([[1.0, 2.0], [3.0, 4.0], [-0.5, -2.0]])
    with pytest.raises(MathError) as info:
        B.apply(OPS["log"], [x])
    assert info.value.op == "log"
    assert info.value.message == "element [2, 0]: log(-0.5) is undefined: log needs a positive number"


def test_overflow_error_is_the_scalar_engines():
    with pytest.raises(MathError) as info:
        B.apply(OPS["exp"], [arr([1.0, 800.0])])
    assert info.value.message == "element [1]: overflow: exp(800) is too large for a double"


def test_derivative_without_a_value_names_the_element():
    x = arr([4.0, 0.0])
    with pytest.raises(MathError) as info:
        B.derivative(OPS["sqrt"], 0, [x], arr([2.0, 0.0]), arr([1.0, 1.0]))
    assert info.value.message == "element [1]: no derivative: sqrt(0) is not differentiable"


# -- structural kernels ----------------------------------------------------------------------


def test_reductions_match_numpy():
    a = np.arange(24.0).reshape(2, 3, 4) - 7.5
    for axes in [(0,), (1,), (2,), (0, 2), (0, 1, 2)]:
        for keep in (False, True):
            assert np.array_equal(B.sum(a, axes, keep), a.sum(axis=axes, keepdims=keep))
            assert np.array_equal(B.max(a, axes, keep), a.max(axis=axes, keepdims=keep))
            assert np.array_equal(B.min(a, axes, keep), a.min(axis=axes, keepdims=keep))
            assert np.array_equal(B.prod(a, axes, keep), a.prod(axis=axes, keepdims=keep))
    assert B.sum(arr([[1, 2], [3, 4]]), (0, 1), False).tolist() == 10.0


def test_prod_overflow_is_a_math_error():
    with pytest.raises(MathError) as info:
        B.prod(arr([1e200, 1e200, 2.0]), (0,), False)
    assert info.value.op == "prod"


def test_shapes_match_numpy():
    a = np.arange(6.0).reshape(2, 3)
    assert B.reshape(a, (3, 2)).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert B.permute(a, (1, 0)).tolist() == [[0, 3], [1, 4], [2, 5]]
    assert B.broadcast_to(arr([1, 2, 3]), (2, 3)).tolist() == [[1, 2, 3], [1, 2, 3]]
    with pytest.raises(UsageError, match=r"shapes \(3,\) and \(2, 4\) cannot be broadcast together"):
        B.broadcast_to(arr([1, 2, 3]), (2, 4))
    assert B.getitem(a, (1, slice(0, 3, 2))).tolist() == [3.0, 5.0]
    assert B.getitem(a, (0, 2)).tolist() == 2.0 and B.shape(B.getitem(a, (0, 2))) == ()
    z = B.index_add((2, 3), (slice(0, 2, 1), 1), arr([5.0, 7.0]))
    assert z.tolist() == [[0, 5, 0], [0, 7, 0]]
    c = B.concatenate([a, arr([[9, 9, 9]])], 0)
    assert c.tolist() == [[0, 1, 2], [3, 4, 5], [9, 9, 9]]


def test_compare_and_where():
    a, b = arr([1, 2, 3]), arr([2, 2, 2])
    assert B.compare("<", a, b).tolist() == [1.0, 0.0, 0.0]
    assert B.compare(">=", a, b).tolist() == [0.0, 1.0, 1.0]
    assert B.compare("==", a, b).tolist() == [0.0, 1.0, 0.0]
    assert B.where(arr([1, 0, 1]), a, b).tolist() == [1.0, 2.0, 3.0]


def test_matmul_matches_numpy_and_names_shapes():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    assert np.array_equal(B.matmul(a, b), a @ b)
    with pytest.raises(UsageError, match=r"shapes \(3, 2\) and \(3, 1\) cannot be multiplied \(matmul: 2 != 3\)"):
        B.matmul(arr(np.ones((3, 2))), arr(np.ones((3, 1))))
    with pytest.raises(MathError) as info:
        B.matmul(arr([[1e200, 1e200], [1.0, 1.0]]), arr([[1e200, 0.0], [1e200, 0.0]]))
    assert info.value.op == "matmul" and "element [0, 0]" in info.value.message


# -- every op of the table against the scalar engine ----------------------------------------------


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_agrees_with_the_scalar_engine(name):
    op = OPS[name]
    rnd = random.Random(name)
    rows = []
    while len(rows) < 40:
        args = [rnd.uniform(-3, 3) for _ in range(op.arity)]
        if op.name == "pow" and args[0] < 0:
            args[1] = float(round(args[1]))
        try:
            out = op.evaluate(*args)
            g = rnd.uniform(-2, 2)
            terms = [scalar_term(op, i, args, out, g) for i in range(op.arity)]
        except MathError:
            continue
        rows.append((args, out, g, terms))
    cols = [arr([r[0][k] for r in rows]) for k in range(op.arity)]
    got = B.apply(op, cols)
    outs = arr([r[1] for r in rows])
    gs = arr([r[2] for r in rows])
    for k, r in enumerate(rows):
        assert ulps(got[k], r[1]) <= 4, (name, r[0], got[k], r[1])
    for i in range(op.arity):
        d = B.derivative(op, i, cols, outs, gs)
        for k, r in enumerate(rows):
            assert ulps(d[k], r[3][i]) <= 4, (name, i, r[0], d[k], r[3][i])
