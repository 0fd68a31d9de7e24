"""The two backends run the same random programs and agree; each agrees with central differences.

Hypothesis draws shapes that broadcast, values inside each table function's domain, chains of
elementwise functions, reductions over random axes, matmuls of every rank NumPy accepts and shape
changes.  Each program runs on every installed backend: the values and the gradients of
sum(out * W) (W fixed weights) must match between backends to within a few ulps of their scale
(the NumPy backend sums in another order), and on each backend the gradients must match central
differences of the same program.  Without NumPy the cross-backend tests skip, saying so, and the
finite-difference tests run on the Python backend alone.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensor_programs import (
    BACKENDS,
    BINARY,
    HAS_NUMPY,
    SMOOTH,
    UNARY,
    broadcast_shapes,
    call,
    close,
    domain,
    finite_differences,
    off_kinks,
    run,
    shapes,
    size,
    values,
)

import autodiff_cli.tensor as T

QUICK = settings(max_examples=10, deadline=None)
MORE = settings(max_examples=30, deadline=None)
ULPS = 1e-12  # between backends: the same formulas, maybe summed in another order
FD = 1e-6  # against central differences with a step of 1e-6
needs_numpy = pytest.mark.skipif(not HAS_NUMPY, reason="NumPy is not installed: only the Python backend runs")


def check(program, inputs, seed=0):
    """Values and gradients agree across backends (if there are two) and with central differences on each."""
    results = {b: run(program, inputs, b, seed) for b in BACKENDS}
    first_values, first_grads = results[BACKENDS[0]]
    for b, (vals, grads) in results.items():
        assert close(vals, first_values, ULPS), (b, vals, first_values)
        for g, g0 in zip(grads, first_grads, strict=True):
            assert close(g, g0, ULPS), (b, g, g0)
    for b, (_, grads) in results.items():
        for g, fd in zip(grads, finite_differences(program, inputs, b, seed), strict=True):
            assert close(g, fd, FD, FD), (b, g, fd)


# -- the op table, elementwise, with broadcasting ---------------------------------------------


@pytest.mark.parametrize("name", UNARY)
@QUICK
@given(data=st.data())
def test_every_unary_table_function(name, data):
    shape = data.draw(shapes)
    flat = off_kinks(name, data.draw(values(*domain(name), size(shape))))
    check(lambda x: call(name, x), [(flat, shape)])


@pytest.mark.parametrize("name", BINARY)
@QUICK
@given(data=st.data())
def test_every_binary_table_function_with_broadcasting(name, data):
    sx, sy = data.draw(broadcast_shapes())
    x, y = data.draw(values(*domain(name, 0), size(sx))), data.draw(values(*domain(name, 1), size(sy)))
    if name in ("max", "min"):  # never a tie (finite differences see one winner; ties are tested against torch)
        x, y = [round(v * 4) / 4 + 0.125 for v in x], [round(v * 4) / 4 for v in y]
    x = off_kinks(name, x)
    check(lambda a, b: call(name, a, b), [(x, sx), (y, sy)])


@MORE
@given(data=st.data())
def test_random_chains_of_smooth_table_functions(data):
    """f3(into(f2(into(f1(into(x)))))): each function's input squashed into its domain by a sigmoid."""
    chain = data.draw(st.lists(st.sampled_from(SMOOTH), min_size=1, max_size=4))
    shape = data.draw(shapes)

    def program(x):
        for name in chain:
            lo, hi = domain(name)
            x = call(name, T.sigmoid(x) * (hi - lo) + lo)
        return x

    check(program, [(data.draw(values(-2.0, 2.0, size(shape))), shape)])


# -- reductions ------------------------------------------------------------------------------


def axes_for(data, ndim):
    kind = data.draw(st.sampled_from(["none", "int", "tuple"])) if ndim else "none"
    if kind == "none":
        return None
    if kind == "int":
        return data.draw(st.integers(-ndim, ndim - 1))
    return tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1))))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod"])
@QUICK
@given(data=st.data())
def test_reductions_over_random_axes(name, data):
    shape = data.draw(shapes)
    axis = axes_for(data, len(shape))
    keepdims = data.draw(st.booleans())
    n = size(shape)
    if name in ("max", "min"):  # distinct values: no ties, so finite differences see one winner
        flat = [(v - n / 2) * 0.1 for v in data.draw(st.permutations(range(n)))]
    elif name == "prod":
        flat = [v * s for v, s in zip(data.draw(values(0.5, 1.5, n)), data.draw(st.lists(
            st.sampled_from((-1, 1)), min_size=n, max_size=n)), strict=True)]
    else:
        flat = data.draw(values(-2.0, 2.0, n))
    check(lambda x: getattr(T, name)(x, axis=axis, keepdims=keepdims), [(flat, shape)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@QUICK
@given(data=st.data())
def test_softmax_family(name, data):
    shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    flat = data.draw(values(-3.0, 3.0, size(shape)))
    check(lambda x: getattr(T, name)(x, axis=axis), [(flat, shape)])


# -- matmul and linear algebra ---------------------------------------------------------------


@st.composite
def matmul_shapes(draw):
    """Operands NumPy's matmul accepts: 1-D or 2-D, or batched with broadcasting batch dimensions."""
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch_a, batch_b = draw(broadcast_shapes()) if draw(st.booleans()) else ((), ())
    a = (k,) if not batch_a and draw(st.booleans()) else (*batch_a, m, k)
    b = (k,) if not batch_b and draw(st.booleans()) else (*batch_b, k, n)
    return a, b


@MORE
@given(data=st.data())
def test_matmul_of_every_rank(data):
    sa, sb = data.draw(matmul_shapes())
    a, b = data.draw(values(-2.0, 2.0, size(sa))), data.draw(values(-2.0, 2.0, size(sb)))
    check(lambda x, y: x @ y, [(a, sa), (b, sb)])


@pytest.mark.parametrize("name", ["dot", "outer", "trace", "norm"])
@QUICK
@given(data=st.data())
def test_linear_algebra_helpers(name, data):
    n = data.draw(st.integers(1, 4))
    a, b = data.draw(values(-2.0, 2.0, n)), data.draw(values(-2.0, 2.0, n))
    if name == "trace":
        check(T.trace, [(data.draw(values(-2.0, 2.0, n * n)), (n, n))])
    elif name == "norm":
        a = [v if abs(v) > 0.1 else 0.5 for v in a]  # the norm has no derivative at 0
        check(T.norm, [(a, (n,))])
    else:
        check(getattr(T, name), [(a, (n,)), (b, (n,))])


# -- shapes, indexing, joining ---------------------------------------------------------------


@st.composite
def nonempty_slices(draw, n):
    start = draw(st.integers(0, n - 1))
    return slice(start, draw(st.integers(start + 1, n)), draw(st.integers(1, 2)))


@MORE
@given(data=st.data())
def test_reshape_transpose_and_index(data):
    shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    flat = data.draw(values(-2.0, 2.0, size(shape)))
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    index = tuple(data.draw(st.one_of(st.integers(-n, n - 1), nonempty_slices(n))) for n in shape)
    index = index[: data.draw(st.integers(1, len(index)))]
    target = tuple(reversed(shape))

    def program(x):
        y = x.permute(*order).reshape(target).reshape(shape) * 2.0  # a copy and back
        return y[index].unsqueeze(0).squeeze(0) + x.transpose().sum()

    check(program, [(flat, shape)])


@QUICK
@given(data=st.data())
def test_expand_concatenate_stack_where_clip(data):
    n = data.draw(st.integers(1, 3))
    a, b = data.draw(values(-2.0, 2.0, n)), data.draw(values(-2.0, 2.0, n))
    a = [v if abs(abs(v) - 1.0) > 1e-3 else v + 0.01 for v in a]  # clip's kinks at -1 and 1
    cond = data.draw(st.lists(st.sampled_from((0.0, 1.0)), min_size=n, max_size=n))

    def program(x, y):
        mask = T.Tensor(cond, requires_grad=False, backend=x.backend.name)
        parts = [T.broadcast_to(x, (2, n)), x.expand(1, n), T.stack([x, y], axis=0), T.where(mask, x, y).unsqueeze(0),
                 x.clip(-1.0, 1.0).unsqueeze(0)]
        return T.concatenate(parts, axis=0)

    check(program, [(a, (n,)), (b, (n,))])


# -- matrix-calculus identities, by hand ------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_gradient_of_a_quadratic_form_is_a_plus_a_transpose_times_x(backend):
    A = T.Tensor([[1.0, 2.0, 0.5], [-1.0, 3.0, 2.0], [0.0, 4.0, -2.0]], requires_grad=False, backend=backend)
    x = T.Tensor([0.5, -1.0, 2.0], backend=backend)
    (x @ A @ x).backward()
    # (A + A.T) @ x by hand: A + A.T = [[2, 1, 0.5], [1, 6, 6], [0.5, 6, -4]]
    assert x.grad.tolist() == [2 * 0.5 - 1 + 0.5 * 2, 0.5 - 6 + 12, 0.25 - 6 - 8]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_gradient_of_sum_of_a_matmul_is_ones_times_b_transpose(backend):
    A = T.Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], backend=backend)
    B = T.Tensor([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]], backend=backend)
    (A @ B).sum().backward()
    # ones(3, 3) @ B.T: every row holds B's row sums, [2, 1.5]; A.T @ ones(3, 3): every column A's column sums
    assert A.grad.tolist() == [[2.0, 1.5]] * 3
    assert B.grad.tolist() == [[9.0] * 3, [12.0] * 3]


@needs_numpy
def test_the_backends_agree_on_a_seeded_network():
    """The moons network's first layer on seeded random inputs: same rand, same values, same gradients."""
    results = []
    for b in ("python", "numpy"):
        X, W = T.rand(5, 2, seed=3, requires_grad=False, backend=b), T.randn(2, 4, seed=4, backend=b)
        loss = T.tanh(X @ W + 0.5).mean()
        loss.backward()
        results.append((loss.item(), W.grad.tolist()))
    assert close([results[0][0]], [results[1][0]], ULPS)
    assert all(close(r, s, ULPS) for r, s in zip(results[0][1], results[1][1], strict=True))
