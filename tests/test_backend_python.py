"""The pure-Python backend's kernels against independent references.

Hand-computed small cases (the file tests something without NumPy), the scalar engine
element by element for every op of the table (bit for bit: the same rules, the same
rounding), and NumPy's own results on random shapes where NumPy is installed.
"""

from __future__ import annotations

import itertools
import math
import random
from decimal import Decimal

import pytest

from autodiff_cli import engine, ops
from autodiff_cli.errors import MathError, UsageError
from autodiff_cli.tensor.backends import get
from autodiff_cli.tensor.backends.python_backend import PythonBackend
from autodiff_cli.tensor.backends.python_storage import Storage

B = PythonBackend()


def arr(values: list[float], shape: tuple[int, ...]) -> Storage:
    return B.from_flat(values, shape)


def values(a: Storage) -> list[float]:
    return B.to_flat(a)


def bits(xs: list[float]) -> list[str]:
    """Floats compared bit for bit (a -0.0 is not a 0.0)."""
    return [float(x).hex() for x in xs]


def numpy_or_skip():
    return pytest.importorskip("numpy", reason="NumPy is the reference for random shapes; not installed here")


# -- making and reading arrays -------------------------------------------------------------


def test_the_backend_is_the_one_get_returns():
    assert get("python").name == "python"
    assert isinstance(get("python"), PythonBackend)


def test_from_flat_to_flat_shape_full():
    a = arr([1, 2, 3, 4, 5, 6], (2, 3))
    assert B.shape(a) == (2, 3)
    assert values(a) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert all(type(v) is float for v in values(a))
    assert values(B.full((2, 2), 7)) == [7.0] * 4
    assert B.shape(B.full((), 1.5)) == () and values(B.full((), 1.5)) == [1.5]
    with pytest.raises(UsageError, match="5 values cannot fill an array of shape"):
        arr([1, 2, 3, 4, 5], (2, 3))


def test_memory_is_eight_bytes_per_double():
    a = B.full((100, 30), 0.5)
    assert B.nbytes(a) == 8 * 3000
    assert B.nbytes(arr([1.0], ())) == 8


def test_views_share_the_buffer():
    a = arr(list(range(6)), (2, 3))
    t = B.permute(a, (1, 0))
    assert t.values is a.values and t.strides == (1, 3)
    assert values(t) == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    r = B.reshape(a, (3, 2))
    assert r.values is a.values and values(r) == values(a)
    wide = B.broadcast_to(arr([1, 2, 3], (3,)), (4, 3))
    assert wide.strides == (0, 1) and B.nbytes(wide) == 24  # 12 elements read from 3 stored doubles
    assert values(wide) == [1.0, 2.0, 3.0] * 4
    row = B.getitem(a, (1,))
    assert row.values is a.values and values(row) == [3.0, 4.0, 5.0]


def test_reshape_of_a_transpose_reads_the_transposed_order():
    a = arr(list(range(6)), (2, 3))
    r = B.reshape(B.permute(a, (1, 0)), (6,))
    assert values(r) == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    with pytest.raises(UsageError, match=r"shape \(2, 3\) \(6 elements\) into shape \(4,\)"):
        B.reshape(a, (4,))


def test_getitem_ints_slices_and_none():
    a = arr(list(range(12)), (3, 4))
    assert values(B.getitem(a, (slice(0, 3, 1), 1))) == [1.0, 5.0, 9.0]  # A[:, 1]
    assert values(B.getitem(a, (slice(1, 3, 1), slice(0, 4, 2)))) == [4.0, 6.0, 8.0, 10.0]  # A[1:3, ::2]
    assert B.shape(B.getitem(a, (0, -1))) == () and values(B.getitem(a, (0, -1))) == [3.0]
    assert B.shape(B.getitem(a, (None, 2))) == (1, 4)
    assert B.shape(B.getitem(a, (slice(2, 2, 1), 0))) == (0,)
    with pytest.raises(UsageError, match="index 5 is out of range for axis 0 with size 3"):
        B.getitem(a, (5,))


def test_index_add_puts_g_where_getitem_reads():
    g = arr([10, 20, 30], (3,))
    z = B.index_add((3, 4), (slice(0, 3, 1), 1), g)
    assert values(z) == [0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0]
    z = B.index_add((3,), (1,), arr([5], ()))
    assert values(z) == [0.0, 5.0, 0.0]


def test_concatenate_hand_cases():
    a, b = arr([1, 2, 3, 4], (2, 2)), arr([5, 6], (2, 1))
    joined = B.concatenate([a, b], 1)
    assert B.shape(joined) == (2, 3) and values(joined) == [1, 2, 5, 3, 4, 6]
    assert values(B.concatenate([a, B.permute(a, (1, 0))], 0)) == [1, 2, 3, 4, 1, 3, 2, 4]
    with pytest.raises(UsageError, match="cannot be concatenated"):
        B.concatenate([a, b], 0)


# -- broadcasting ---------------------------------------------------------------------------


def test_broadcast_add_by_hand():
    col, row = arr([1, 2, 3], (3, 1)), arr([10, 20, 30, 40], (4,))
    total = B.apply(ops.OPS["add"], [col, row])
    assert B.shape(total) == (3, 4)
    assert values(total) == [11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43]
    scaled = B.apply(ops.OPS["mul"], [arr([2], ()), arr([1, 2, 3, 4], (2, 2))])
    assert values(scaled) == [2, 4, 6, 8]


@pytest.mark.parametrize(("left", "right"), [((3,), (4,)), ((2, 3), (3, 2)), ((2, 1, 3), (4, 2))])
def test_broadcast_failures_name_both_shapes(left, right):
    a, b = B.full(left, 1.0), B.full(right, 1.0)
    with pytest.raises(UsageError, match=rf"shapes \({left[0]},.*\) and \({right[0]},.*\) cannot be broadcast"):
        B.apply(ops.OPS["add"], [a, b])


def test_broadcast_failure_message_exactly():
    with pytest.raises(UsageError) as info:
        B.apply(ops.OPS["add"], [B.full((3,), 1.0), B.full((4,), 1.0)])
    assert info.value.message == "shapes (3,) and (4,) cannot be broadcast together"


# -- the op table, element by element against the scalar engine -------------------------------

SAMPLES = [-2.5, -1.0, -0.3, 0.0, 0.5, 1.0, 2.0, 3.7]


def _defined_points(op: ops.Op) -> list[tuple[float, ...]]:
    points = []
    for xs in itertools.product(SAMPLES, repeat=op.arity):
        try:
            op.evaluate(*xs)
        except MathError:
            continue
        points.append(xs)
    return points


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_apply_is_the_scalar_forward_bit_for_bit(name):
    op = ops.OPS[name]
    points = _defined_points(op)
    assert points, name
    columns = [arr([p[k] for p in points], (len(points),)) for k in range(op.arity)]
    got = values(B.apply(op, columns))
    assert bits(got) == bits([engine.Value.apply(name, *p).data for p in points])


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_derivative_is_the_scalar_engine_s_gradient_term_bit_for_bit(name):
    op = ops.OPS[name]
    expected, kept = [], []
    for p in _defined_points(op):
        node = engine.Value.apply(name, *p)
        try:
            terms = [engine.gradient_term(node, i, 0.75) for i in range(op.arity)]
        except MathError:
            continue  # no derivative there (sqrt at 0): the error tests below
        if all(math.isfinite(t) for t in terms):
            expected.append(terms)
            kept.append(p)
    columns = [arr([p[k] for p in kept], (len(kept),)) for k in range(op.arity)]
    out = B.apply(op, columns)
    g = B.full((len(kept),), 0.75)
    for i in range(op.arity):
        got = values(B.derivative(op, i, columns, out, g))
        assert bits(got) == bits([terms[i] for terms in expected]), (name, i)


def _wide_values(rng: random.Random, n: int) -> list[float]:
    """Numbers from 1e-6 to 1e6 in size, either sign, and a few whole numbers and zeros (kinks, pow's cases)."""
    picks = [rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(-6, 6) for _ in range(n)]
    return [*picks, 0.0, -0.0, 1.0, 2.0, -3.0]


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_apply_and_derivative_match_the_engine_on_wide_random_values(name):
    op, rng = ops.OPS[name], random.Random(name)
    points = [xs for xs in zip(*(_wide_values(rng, 60) for _ in range(op.arity)), strict=True)
              if _defined(op, xs)]
    columns = [arr([p[k] for p in points], (len(points),)) for k in range(op.arity)]
    out = B.apply(op, columns)
    assert bits(values(out)) == bits([op.evaluate(*p) for p in points])
    gs = [rng.uniform(-2, 2) for _ in points]
    for i in range(op.arity):
        want = [_engine_term(name, p, i, g) for p, g in zip(points, gs, strict=True)]
        first_failure = next((k for k, w in enumerate(want) if w is None), None)
        if first_failure is not None:  # no derivative, or too large: the error names that element
            with pytest.raises(MathError, match=rf"^element \[{first_failure}\]: "):
                B.derivative(op, i, columns, out, arr(gs, (len(points),)))
            continue
        got = values(B.derivative(op, i, columns, out, arr(gs, (len(points),))))
        assert bits(got) == bits(want), (name, i)


def _engine_term(name: str, xs: tuple[float, ...], i: int, g: float) -> float | None:
    """The scalar engine's g * d/dx_i at xs, or None where it has none (an error, or too large for a double)."""
    try:
        term = engine.gradient_term(engine.Value.apply(name, *xs), i, g)
    except MathError:
        return None
    return term if math.isfinite(term) else None


def _defined(op: ops.Op, xs: tuple[float, ...]) -> bool:
    try:
        op.evaluate(*xs)
    except MathError:
        return False
    return True


def test_derivative_takes_the_careful_path_where_doubles_overflow_on_the_way():
    # d/dx x^y = y * x^(y-1): at x = 1e-310, y = -0.5 the power overflows, g * the derivative does not
    pw = ops.OPS["pow"]
    x, y = arr([2.0, 1e-310], (2,)), arr([-0.5], ())
    out = B.apply(pw, [x, y])
    g = B.full((2,), 1e-200)
    got = values(B.derivative(pw, 0, [x, y], out, g))
    node = engine.Value.apply("pow", 1e-310, -0.5)
    assert got[1] == engine.gradient_term(node, 0, 1e-200)
    exact = Decimal("-0.5") * Decimal(1e-200) * Decimal(1e-310) ** Decimal("-1.5")  # noqa: RUF032 (the doubles)
    assert got[1] == pytest.approx(float(exact), rel=1e-12)
    with pytest.raises(MathError, match=r"^element \[1\]: overflow: the gradient of 1e-310\^\(-0.5\)"):
        B.derivative(pw, 0, [x, y], out, B.full((2,), 1.0))


def test_a_formula_over_columns_is_the_formula_on_each_element():
    from array import array as doubles

    from autodiff_cli.tensor.backends.python_columns import column_formula

    xs, gs = doubles("d", [0.5, -2.0, 3.0]), doubles("d", [1.0, 2.0, -1.0])
    f = column_formula("g * (math.exp(-x) + sq(x) / 2.0)", {"sq": lambda v: v * v})
    assert list(f({"x": xs, "g": gs})) == [g * (math.exp(-x) + x * x / 2.0) for x, g in zip(xs, gs, strict=True)]
    assert column_formula("0.0 if y == 0.0 else x", {}) is None  # a condition: element by element instead
    assert column_formula("2.0 * 3.0", {}) is None  # no column: no length


def test_errors_name_the_first_element_in_row_major_order():
    with pytest.raises(MathError) as info:
        B.apply(ops.OPS["log"], [arr([1.0, 2.0, -0.5, -3.0], (2, 2))])
    assert info.value.op == "log"
    assert info.value.message == "element [1, 0]: log(-0.5) is undefined: log needs a positive number"
    with pytest.raises(MathError, match=r"^element \[0, 1\]: overflow: exp\(800\) is too large"):
        B.apply(ops.OPS["exp"], [arr([1.0, 800.0], (1, 2))])
    with pytest.raises(MathError, match=r"^element \[1, 2\]: division by zero"):
        B.apply(ops.OPS["div"], [arr([1.0], ()), arr([1, 2, 3, 4, 5, 0], (2, 3))])
    with pytest.raises(MathError, match=r"^element \[2\]: no derivative: sqrt\(0\) is not differentiable"):
        x = arr([4.0, 1.0, 0.0], (3,))
        B.derivative(ops.OPS["sqrt"], 0, [x], B.apply(ops.OPS["sqrt"], [x]), B.full((3,), 1.0))


def test_an_overflowing_sum_of_finite_values_is_not_an_error():
    big = arr([1e308, 1e308, -1e308], (3,))
    assert values(B.apply(ops.OPS["neg"], [big])) == [-1e308, -1e308, 1e308]


# -- comparisons and selection ----------------------------------------------------------------


def test_compare_every_relation():
    a, b = arr([1, 2, 3], (3,)), arr([2], ())
    expected = {"==": [0, 1, 0], "!=": [1, 0, 1], "<": [1, 0, 0], "<=": [1, 1, 0], ">": [0, 0, 1], ">=": [0, 1, 1]}
    for relation, want in expected.items():
        assert values(B.compare(relation, a, b)) == want, relation


def test_where_broadcasts_its_three_arguments():
    cond = arr([1, 0, 1], (3,))
    picked = B.where(cond, arr([1, 2, 3, 4, 5, 6], (2, 3)), arr([-1], ()))
    assert values(picked) == [1, -1, 3, 4, -1, 6]


# -- reductions -----------------------------------------------------------------------------------


def test_reductions_by_hand():
    a = arr([1, 5, 3, 4, 2, 6], (2, 3))
    assert values(B.sum(a, (0,), False)) == [5, 7, 9]
    assert B.shape(B.sum(a, (1,), True)) == (2, 1) and values(B.sum(a, (1,), True)) == [9, 12]
    assert B.shape(B.sum(a, (0, 1), False)) == () and values(B.sum(a, (0, 1), False)) == [21]
    assert values(B.max(a, (0,), False)) == [4, 5, 6]
    assert values(B.min(a, (1,), False)) == [1, 2]
    assert values(B.prod(a, (1,), False)) == [15, 48]
    assert values(B.sum(B.permute(a, (1, 0)), (1,), False)) == [5, 7, 9]


def test_sum_is_rounded_once_whatever_the_order():
    # left to right, 1e16 + 1.0 rounds back to 1e16 and the 1.0 is lost; the exact sum is 1.0
    assert values(B.sum(arr([1e16, 1.0, -1e16], (3,)), (0,), False)) == [1.0]
    assert values(B.sum(arr([0.1] * 10, (2, 5)), (0, 1), False)) == [1.0]  # 0.1 added ten times: 0.9999999999999999


def test_index_add_adds_to_zeros_as_numpy_does():
    z = B.index_add((2, 2), (1, slice(0, 2, 1)), arr([-0.0, 2.5], (2,)))
    assert bits(values(z)) == bits([0.0, 0.0, 0.0, 2.5])  # 0.0 + -0.0 is 0.0


def test_prod_and_sum_overflow_are_math_errors():
    with pytest.raises(MathError) as info:
        B.prod(arr([1e200, 1e200, 1.0, 2.0], (2, 2)), (1,), False)
    assert info.value.op == "prod"
    assert info.value.message == "element [0]: overflow: the product is too large for a double"
    with pytest.raises(MathError) as info:
        B.sum(arr([1e308, 1e308], (2,)), (0,), False)
    assert info.value.op == "sum" and "overflow" in info.value.message


# -- matmul -----------------------------------------------------------------------------------------


def test_matmul_by_hand():
    a = arr([1, 2, 3, 4, 5, 6], (2, 3))
    b = arr([7, 8, 9, 10, 11, 12], (3, 2))
    assert values(B.matmul(a, b)) == [58, 64, 139, 154]
    batch = B.matmul(B.reshape(arr(list(range(8)), (2, 2, 2)), (2, 2, 2)), arr([1, 0, 0, 1], (2, 2)))
    assert B.shape(batch) == (2, 2, 2) and values(batch) == list(range(8))


def test_matmul_errors():
    with pytest.raises(UsageError) as info:
        B.matmul(B.full((3, 2), 1.0), B.full((3, 1), 1.0))
    assert info.value.message == "shapes (3, 2) and (3, 1) cannot be multiplied (matmul: 2 != 3)"
    with pytest.raises(MathError) as info:
        B.matmul(arr([1, 1, 1, 1], (2, 2)), arr([1, 1e308, 1, 1e308], (2, 2)))  # 1e308 + 1e308 at [0, 1]
    assert info.value.op == "matmul" and info.value.message.startswith("element [0, 1]: overflow")


# -- NumPy on random shapes --------------------------------------------------------------------------


def _random_shapes(rng: random.Random) -> tuple[tuple[int, ...], tuple[int, ...]]:
    full = tuple(rng.randint(1, 4) for _ in range(rng.randint(0, 4)))
    other = tuple(1 if rng.random() < 0.3 else n for n in full)[rng.randint(0, len(full)):]
    return (full, other) if rng.random() < 0.5 else (other, full)


def _random(rng: random.Random, shape: tuple[int, ...]) -> list[float]:
    return [rng.uniform(-3, 3) for _ in range(math.prod(shape))]


@pytest.mark.parametrize("seed", range(30))
def test_broadcast_binary_ops_agree_with_numpy(seed):
    np = numpy_or_skip()
    rng = random.Random(seed)
    s, t = _random_shapes(rng)
    x, y = _random(rng, s), _random(rng, t)
    nx, ny = np.array(x).reshape(s), np.array(y).reshape(t)
    for name, f in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("div", np.divide)):
        got = B.apply(ops.OPS[name], [arr(x, s), arr(y, t)])
        want = f(nx, ny)
        assert B.shape(got) == want.shape
        assert values(got) == want.ravel().tolist()  # IEEE arithmetic: exactly NumPy's
    got = B.compare("<", arr(x, s), arr(y, t))
    assert values(got) == (nx < ny).astype(float).ravel().tolist()
    cond = [float(rng.random() < 0.5) for _ in range(math.prod(t))]
    got = B.where(arr(cond, t), arr(x, s), arr([0.0], ()))
    assert values(got) == np.where(np.array(cond).reshape(t) != 0, nx, 0.0).ravel().tolist()


def test_broadcast_views_read_by_hand():
    column = B.broadcast_to(arr([1, 2], (2, 1)), (2, 3))
    assert column.strides == (1, 0) and values(column) == [1, 1, 1, 2, 2, 2]
    middle = B.broadcast_to(arr([1, 2, 3, 4], (2, 1, 2)), (2, 2, 2))
    assert values(middle) == [1, 2, 1, 2, 3, 4, 3, 4]
    turned = B.broadcast_to(B.permute(arr([1, 2, 3, 4, 5, 6], (2, 3)), (1, 0)), (2, 3, 2))
    assert values(turned) == [1, 4, 2, 5, 3, 6] * 2


@pytest.mark.parametrize("seed", range(30))
def test_broadcast_views_of_strided_arrays_agree_with_numpy(seed):
    np = numpy_or_skip()
    rng = random.Random(seed)
    small, big = sorted(_random_shapes(rng), key=len)
    target = tuple(max(p, q) for p, q in zip((1,) * (len(big) - len(small)) + small, big, strict=True))
    x = _random(rng, small)
    axes = list(range(len(small)))
    rng.shuffle(axes)
    base = arr(x, tuple(small[k] for k in np.argsort(axes))) if small else arr(x, ())
    view, nview = B.permute(base, tuple(axes)), np.array(x).reshape(base.shape).transpose(axes)
    assert values(B.broadcast_to(view, target)) == np.broadcast_to(nview, target).ravel().tolist()


@pytest.mark.parametrize("seed", range(30))
def test_views_reductions_and_concatenate_agree_with_numpy(seed):
    np = numpy_or_skip()
    rng = random.Random(seed)
    shape = tuple(rng.randint(1, 4) for _ in range(rng.randint(1, 4)))
    x = _random(rng, shape)
    a, na = arr(x, shape), np.array(x).reshape(shape)
    axes = list(range(len(shape)))
    rng.shuffle(axes)
    a, na = B.permute(a, tuple(axes)), na.transpose(axes)  # reductions of a strided view
    chosen = tuple(sorted(rng.sample(range(len(shape)), rng.randint(1, len(shape)))))
    keep = rng.random() < 0.5
    for kernel, f in ((B.sum, np.sum), (B.max, np.max), (B.min, np.min), (B.prod, np.prod)):
        got, want = kernel(a, chosen, keep), f(na, axis=chosen, keepdims=keep)
        assert B.shape(got) == want.shape
        assert values(got) == pytest.approx(want.ravel().tolist(), rel=1e-12, abs=1e-12)
    index = tuple(rng.randrange(n) if rng.random() < 0.4 else slice(*slice(rng.randint(0, n), None,
                  rng.randint(1, 2)).indices(n)) for n in na.shape)
    assert values(B.getitem(a, index)) == na[index].ravel().tolist()
    expected_added = np.zeros(na.shape)
    expected_added[index] += na[index]
    assert values(B.index_add(na.shape, index, B.getitem(a, index))) == expected_added.ravel().tolist()
    axis = rng.randrange(len(shape))
    other = list(na.shape)
    other[axis] = rng.randint(1, 3)
    y = _random(rng, tuple(other))
    got = B.concatenate([a, arr(y, tuple(other))], axis)
    assert values(got) == np.concatenate([na, np.array(y).reshape(other)], axis=axis).ravel().tolist()
    assert values(B.reshape(a, (math.prod(shape),))) == na.ravel().tolist()


def test_matmul_edge_shapes_by_hand():
    outer = B.matmul(arr([1, 2, 3], (3, 1)), arr([4, 5], (1, 2)))  # k = 1: an outer product
    assert values(outer) == [4, 5, 8, 10, 12, 15]
    empty = B.matmul(B.full((2, 0), 1.0), B.full((0, 3), 1.0))  # k = 0: sums of nothing
    assert B.shape(empty) == (2, 3) and values(empty) == [0.0] * 6
    stacked = B.matmul(arr([1, 2, 3, 4], (2, 1, 2)), arr([1, 10, 100, 1000], (2, 2, 1)))  # batch of (1,2)@(2,1)
    assert values(stacked) == [21, 4300]


@pytest.mark.parametrize("seed", range(40))
def test_matmul_agrees_with_numpy(seed):
    np = numpy_or_skip()
    rng = random.Random(seed)
    m, k, n = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
    batch = tuple(rng.randint(1, 3) for _ in range(rng.randint(0, 2)))
    left = (*batch, m, k)
    right = (*tuple(1 if rng.random() < 0.5 else b for b in batch)[rng.randint(0, len(batch)):], k, n)
    x, y = _random(rng, left), _random(rng, right)
    got = B.matmul(arr(x, left), arr(y, right))
    want = np.array(x).reshape(left) @ np.array(y).reshape(right)
    assert B.shape(got) == want.shape
    assert values(got) == pytest.approx(want.ravel().tolist(), rel=1e-12, abs=1e-12)
    # strided operands: the transposes of (k, m) and (n, k) arrays
    z = _random(rng, (k, m))
    got = B.matmul(B.permute(arr(z, (k, m)), (1, 0)), B.permute(arr(y[: n * k], (n, k)), (1, 0)))
    want = np.array(z).reshape(k, m).T @ np.array(y[: n * k]).reshape(n, k).T
    assert values(got) == pytest.approx(want.ravel().tolist(), rel=1e-12, abs=1e-12)
