"""The NumPy backend's structural kernels (making arrays, reductions, shapes, indexing, matmul) against NumPy's
own results and hand values; errors in the user's terms.  The op table's kernels: test_backend_numpy.py."""

from __future__ import annotations

import itertools

import pytest

np = pytest.importorskip("numpy")

from autodiff_cli.errors import MathError, UsageError  # noqa: E402
from autodiff_cli.tensor.backends import get  # noqa: E402

B = get("numpy")


def arr(values, shape=None) -> np.ndarray:
    a = np.array(values, dtype=np.float64)
    return a if shape is None else a.reshape(shape)


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




def test_every_axis_combination_matches_numpy():
    a = np.random.default_rng(3).standard_normal((2, 3, 4))
    for k in range(4):
        for axes in itertools.combinations(range(3), k):
            for keep in (False, True):
                got = B.sum(a, axes, keep)
                assert isinstance(got, np.ndarray) and got.shape == a.sum(axis=axes, keepdims=keep).shape
                assert np.allclose(got, a.sum(axis=axes, keepdims=keep), rtol=1e-15, atol=0)
                assert np.array_equal(B.max(a, axes, keep), a.max(axis=axes, keepdims=keep))
                assert np.array_equal(B.min(a, axes, keep), a.min(axis=axes, keepdims=keep))


def test_reductions_of_a_0d_array_and_of_a_view():
    s = arr(2.5)
    assert B.sum(s, (), False).tolist() == 2.5 and B.shape(B.sum(s, (), True)) == ()
    t = B.permute(np.arange(6.0).reshape(2, 3), (1, 0))  # (3, 2), not contiguous
    assert B.sum(t, (0,), False).tolist() == [3.0, 12.0]
    assert B.prod(t + 1, (1,), True).tolist() == [[4.0], [10.0], [18.0]]


def test_sum_and_prod_overflow_name_the_element_never_inf():
    with pytest.raises(MathError) as info:
        B.sum(arr([[1.0, 2.0], [1e308, 1e308]]), (1,), False)
    assert info.value.op == "sum"
    assert info.value.message == "element [1]: overflow: the sum is too large for a double"
    with pytest.raises(MathError) as info:
        B.prod(arr([1e200, 1e200]), (0,), False)
    assert (info.value.op, info.value.message) == ("prod", "overflow: the product is too large for a double")


def test_max_of_an_empty_axis_is_a_usage_error():
    with pytest.raises(UsageError, match=r"max over an axis of size 0 has no value \(shape \(0, 3\)\)"):
        B.max(np.zeros((0, 3)), (0,), False)


def test_broadcast_to_is_numpys_and_index_add_is_getitems_backward():
    a = np.arange(12.0).reshape(3, 4)
    index = (slice(0, 3, 2), 1)  # a[0:3:2, 1]
    assert B.getitem(a, index).tolist() == a[0:3:2, 1].tolist()
    g = arr([10.0, 20.0])
    z = B.index_add((3, 4), index, g)
    want = np.zeros((3, 4))
    want[0:3:2, 1] += g
    assert np.array_equal(z, want)
    assert B.broadcast_to(arr([[1.0], [2.0]]), (2, 3)).tolist() == [[1, 1, 1], [2, 2, 2]]
    assert B.getitem(a, (None, 1, slice(1, 3, 1))).shape == (1, 2)  # None: a new axis, as NumPy's


def test_concatenate_and_its_error():
    a, b = np.ones((2, 3)), np.zeros((2, 1))
    assert np.array_equal(B.concatenate([a, b], 1), np.concatenate([a, b], axis=1))
    with pytest.raises(UsageError, match=r"shapes \(2, 3\) and \(2, 1\) cannot be concatenated along axis 0"):
        B.concatenate([a, b], 0)


def test_compare_every_relation_broadcast():
    a, b = arr([[1.0], [2.0], [3.0]]), arr([2.0, 3.0])
    for relation, f in [("==", np.equal), ("!=", np.not_equal), ("<", np.less), ("<=", np.less_equal),
                        (">", np.greater), (">=", np.greater_equal)]:
        got = B.compare(relation, a, b)
        assert got.dtype == np.float64 and np.array_equal(got, f(a, b).astype(float))
    with pytest.raises(UsageError, match=r"shapes \(3,\) and \(4,\) cannot be broadcast together"):
        B.compare("<", arr([1, 2, 3]), arr([1, 2, 3, 4]))


def test_where_broadcasts_the_three():
    got = B.where(arr([[1.0], [0.0]]), arr([1.0, 2.0, 3.0]), arr(-1.0))
    assert got.tolist() == [[1.0, 2.0, 3.0], [-1.0, -1.0, -1.0]]
    with pytest.raises(UsageError, match="cannot be broadcast together"):
        B.where(arr([1.0, 0.0]), arr([1.0, 2.0, 3.0]), arr(0.0))


def test_batched_matmul_broadcasts_the_batch_and_names_it():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 1, 2, 4)), rng.standard_normal((5, 4, 2))
    assert np.array_equal(B.matmul(a, b), a @ b)
    with pytest.raises(UsageError, match=r"cannot be multiplied \(matmul: batch axes\)"):
        B.matmul(np.ones((2, 2, 2)), np.ones((3, 2, 2)))


def test_a_gpu_backend_would_change_one_name():
    assert B.xp is np  # the array module every kernel goes through: CuPy mirrors it


def test_shape_mistakes_are_usage_errors_in_the_python_backends_words():
    a = np.arange(6.0).reshape(2, 3)
    with pytest.raises(UsageError, match=r"5 values cannot fill an array of shape \(2, 3\)"):
        B.from_flat([1.0] * 5, (2, 3))
    with pytest.raises(UsageError, match=r"cannot reshape an array of shape \(2, 3\) \(6 elements\) into shape \(4,\)"):
        B.reshape(a, (4,))
    with pytest.raises(UsageError, match=r"axes \(0, 0\) are not a permutation of the 2 axes of shape \(2, 3\)"):
        B.permute(a, (0, 0))
    with pytest.raises(UsageError, match="index 5 is out of range for axis 1 with size 3"):
        B.getitem(a, (0, 5))
    with pytest.raises(UsageError, match=r"matmul needs at least 2 axes here: shapes \(3,\) and \(3, 1\)"):
        B.matmul(arr([1.0, 2.0, 3.0]), np.ones((3, 1)))
    with pytest.raises(UsageError, match="unknown comparison '=<'"):
        B.compare("=<", a, a)
