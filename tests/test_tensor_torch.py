"""PyTorch as an oracle: the same programs on torch float64 tensors give the same values and gradients.

Only where torch is installed (`pip install torch==2.13.0`, the CPU build; never a dependency).
Every elementwise table function torch has (under its torch name), at kinks too (relu'(0) = 0 as
in torch); reductions with ties (max and min split the gradient evenly, as torch.amax does); prod
with zeros; softmax, log_softmax and logsumexp; matmul of 1-D and batched operands; clip at its
bounds; indexing; concatenate and stack; where.  Each program runs on every installed backend.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0 (the CPU build)")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from tensor_programs import (  # noqa: E402
    BACKENDS,
    BINARY,
    UNARY,
    broadcast_shapes,
    call,
    close,
    domain,
    flatten,
    nest,
    run,
    shapes,
    size,
    values,
    weights_for,
)

import autodiff_cli.tensor as T  # noqa: E402

F = torch.nn.functional
QUICK = settings(max_examples=10, deadline=None)
VALUES = 1e-12  # the same double, to a few ulps of the scale
GRADS = 1e-10  # the same derivative, maybe written another way (tanh' = sech^2 here, 1 - tanh^2 in torch)

# The table's names that torch spells otherwise (it has no cbrt, sec, csc, cot, sech; step is torch.heaviside,
# which has no derivative in torch).
TORCH = {
    "max": torch.maximum, "min": torch.minimum, "softplus": F.softplus, "elu": F.elu, "silu": F.silu,
    "gelu": F.gelu, "softsign": F.softsign, "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
}
MISSING = {"cbrt", "sec", "csc", "cot", "sech", "step", "leaky_relu"}  # leaky_relu: its own test (a float slope)
KINK_POINTS = {"relu": [0.0], "abs": [0.0], "sign": [0.0], "floor": [1.0, 0.0], "ceil": [1.0, -1.0],
               "elu": [0.0], "softsign": [0.0], "max": [0.5], "min": [0.5]}


def torch_fn(name):
    return TORCH.get(name) or getattr(torch, name)


def torch_run(program, inputs, seed=0):
    leaves = [torch.tensor(nest(v, s), dtype=torch.float64, requires_grad=True) for v, s in inputs]
    out = program(*leaves)
    W = torch.tensor(nest(weights_for(out.numel(), seed), tuple(out.shape)), dtype=torch.float64)
    (out * W).sum().backward()
    grads = [flatten(leaf.grad.tolist()) if leaf.grad is not None else [0.0] * leaf.numel() for leaf in leaves]
    return flatten(out.tolist()), grads


def check(ours, theirs, inputs, values_tol=VALUES, grads_tol=GRADS):
    expected_values, expected_grads = torch_run(theirs, inputs)
    for backend in BACKENDS:
        got_values, got_grads = run(ours, inputs, backend)
        assert close(got_values, expected_values, values_tol), (backend, got_values, expected_values)
        for got, want in zip(got_grads, expected_grads, strict=True):
            assert close(got, want, grads_tol), (backend, got, want)


def drawn(data, name, arg, n):
    """n values in the function's domain, its kinks among them."""
    lo, hi = domain(name, arg)
    kinks = [k for k in KINK_POINTS.get(name, []) if lo < k < hi]
    one = st.one_of(st.floats(lo, hi, exclude_min=True, exclude_max=True), *([st.sampled_from(kinks)] if kinks else []))
    return data.draw(st.lists(one, min_size=n, max_size=n))


# -- elementwise ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in UNARY if n not in MISSING])
@QUICK
@given(data=st.data())
def test_unary_table_functions_against_torch(name, data):
    shape = data.draw(shapes)
    check(lambda x: call(name, x), torch_fn(name), [(drawn(data, name, 0, size(shape)), shape)])


@pytest.mark.parametrize("name", [n for n in BINARY if n not in MISSING])
@QUICK
@given(data=st.data())
def test_binary_table_functions_against_torch_with_broadcasting_and_ties(name, data):
    sx, sy = data.draw(broadcast_shapes())
    x, y = drawn(data, name, 0, size(sx)), drawn(data, name, 1, size(sy))
    check(lambda a, b: call(name, a, b), torch_fn(name), [(x, sx), (y, sy)])


def test_pow_at_zero_follows_torch():
    """d/dy of 0^y is 0 for y >= 0 and d/dx of x^0 is 0, as in torch (no log(0), no 0 * inf)."""
    x = [0.0, 0.0, 0.0, 0.0, 0.5, 2.0, 1.5, 0.0]
    y = [0.0, 1.0, 2.0, 3.0, 0.0, 0.0, 2.0, 1.0]
    check(lambda a, b: a ** b, torch.pow, [(x, (8,)), (y, (8,))])


def test_leaky_relu_with_a_number_as_its_slope():
    x = [-2.0, -0.5, 0.0, 0.5, 2.0]
    check(lambda a: T.leaky_relu(a, 0.2), lambda a: F.leaky_relu(a, 0.2), [(x, (5,))])


# -- reductions ----------------------------------------------------------------------------


def axes(data, ndim):
    if not ndim or data.draw(st.booleans()):
        return None
    return tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1))))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@QUICK
@given(data=st.data())
def test_reductions_with_ties_against_torch(name, data):
    """Values from {-1, 0, 1, 2}: ties everywhere; max and min split the gradient evenly among them."""
    shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    axis, keepdims = axes(data, len(shape)), data.draw(st.booleans())
    flat = data.draw(st.lists(st.sampled_from((-1.0, 0.0, 1.0, 2.0)), min_size=size(shape), max_size=size(shape)))
    dims = axis if axis is not None else tuple(range(len(shape)))
    theirs = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}[name]
    check(lambda x: getattr(T, name)(x, axis=axis, keepdims=keepdims), lambda x: theirs(x, dims, keepdim=keepdims),
          [(flat, shape)])


def test_max_splits_ties_evenly_by_hand():
    x = T.Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    T.max(x, axis=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]


@QUICK
@given(data=st.data())
def test_prod_with_zeros_against_torch(data):
    """One zero: its gradient is the product of the others; two: every gradient is 0."""
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple))
    flat = data.draw(st.lists(st.sampled_from((0.0, 0.5, -1.5, 2.0)), min_size=size(shape), max_size=size(shape)))
    axis = data.draw(st.one_of(st.none(), st.integers(0, len(shape) - 1)))
    theirs = (lambda x: torch.prod(x)) if axis is None else (lambda x: torch.prod(x, axis))
    check(lambda x: T.prod(x, axis=axis), theirs, [(flat, shape)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
@QUICK
@given(data=st.data())
def test_softmax_family_against_torch(name, data):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    axis = data.draw(st.integers(0, len(shape) - 1))
    flat = data.draw(values(-30.0, 30.0, size(shape)))
    theirs = getattr(torch, name)
    check(lambda x: getattr(T, name)(x, axis=axis), lambda x: theirs(x, axis), [(flat, shape)])


def test_softmax_is_stable_where_exp_would_overflow():
    x = [1000.0, 1001.0, 999.0]
    check(lambda a: T.log_softmax(a, axis=0), lambda a: torch.log_softmax(a, 0), [(x, (3,))])
    check(lambda a: T.logsumexp(a), lambda a: torch.logsumexp(a, 0), [(x, (3,))])


# -- matmul, clip, indexing, joining, where ------------------------------------------------------


@pytest.mark.parametrize(("sa", "sb"), [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 1)),
    ((2, 1, 2, 3), (4, 3, 2)), ((3,), (4, 3, 2)), ((4, 2, 3), (3,)),
])
def test_matmul_of_1d_and_batched_operands_against_torch(sa, sb):
    a = T.rand(*sa, seed=1, backend="python").tolist()
    b = T.randn(*sb, seed=2, backend="python").tolist()
    check(lambda x, y: x @ y, torch.matmul, [(flatten(a), sa), (flatten(b), sb)])


def test_clip_at_its_bounds_passes_the_gradient_as_torch_clamp_does():
    x = [-2.0, -1.0, -0.5, 0.0, 1.0, 1.5]
    check(lambda a: a.clip(-1.0, 1.0), lambda a: torch.clamp(a, -1.0, 1.0), [(x, (6,))])


@pytest.mark.parametrize("index", [
    (0,), (-1,), (slice(1, 3),), (slice(None), 1), (0, -1), (slice(None, None, 2), slice(1, None)), (1, slice(0, 2)),
])
def test_indexing_against_torch(index):
    flat = [float(v) for v in range(12)]
    check(lambda a: a[index] * a[index], lambda a: a[index] * a[index], [(flat, (3, 4))])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack_against_torch(axis):
    a, b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [-1.0, 0.5, 2.5, 7.0, 8.0, 9.0]
    check(lambda x, y: T.concatenate([x, y * y], axis=axis), lambda x, y: torch.cat([x, y * y], axis),
          [(a, (2, 3)), (b, (2, 3))])
    check(lambda x, y: T.stack([x, y * x], axis=axis), lambda x, y: torch.stack([x, y * x], axis),
          [(a, (2, 3)), (b, (2, 3))])


def test_where_against_torch():
    cond = [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    mask = torch.tensor(cond, dtype=torch.bool)
    a, b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [-1.0, -2.0, -3.0]
    check(lambda x, y: T.where(T.Tensor(cond, requires_grad=False, backend=x.backend.name), x, y),
          lambda x, y: torch.where(mask, x, y), [(a, (2, 3)), (b, (3,))])


@pytest.mark.parametrize("name", ["dot", "outer", "trace", "norm"])
def test_linear_algebra_helpers_against_torch(name):
    a, b = [1.0, -2.0, 3.0], [0.5, 4.0, -1.0]
    if name == "trace":
        check(T.trace, torch.trace, [([*a, *b, 2.0, 7.0, -3.0], (3, 3))])
    elif name == "norm":
        check(T.norm, torch.linalg.norm, [([*a, *b], (2, 3))])
    else:
        check(getattr(T, name), getattr(torch, name), [(a, (3,)), (b, (3,))])
