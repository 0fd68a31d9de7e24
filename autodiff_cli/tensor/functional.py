"""Whole derivative matrices of a tensor function: jacobian (reverse mode, a row at a time) and the exact hessian.

jacobian(f, inputs): f's output has M elements; one backward pass per output element, with
the upstream gradient 1 at that element and 0 elsewhere, gives that element's gradient with
respect to every input: one row of the Jacobian.  J[i] has shape f(*inputs).shape +
inputs[i].shape, as torch.autograd.functional.jacobian gives it.

hessian(f, inputs): the second derivatives, exactly (no finite differences).  The Tensor's
backward pass computes on backend arrays of doubles, so it cannot be differentiated again;
but both passes are made of backend kernels, so they run on any backend, and this one runs
them on a backend whose arrays hold the scalar engine's Values (backends/value_backend.py):

1. each input element becomes a Value leaf, and f runs on those tensors: every kernel makes
   one Value node per scalar operation, so the tensor program is expanded into its scalar graph;
2. backward() on f's output runs the Tensor's own backward steps (matmul's G @ B^T, det's
   det(A) A^-T, the op table's rules, ...) on that backend: each element of each input's
   gradient is then a Value, a graph of the first derivative, built from the same rules;
3. each of those N first derivatives goes through the scalar engine's backward(): row i of
   the Hessian is d(grad_i)/d(every input element).  Reverse over reverse, like
   derivatives.hessian for a scalar expression, and the matrix is made exactly symmetric.

The cost is the expanded graph (the number of scalar operations of f and of its backward
pass) plus N passes over the part of it each first derivative reaches.  The N x N matrix is
checked against the `cells` limit first; the expansion counts its nodes against the `work`
limit (AUTODIFF_MAX_WORK) as it makes them; the passes are estimated from a few rows before
they start.  So a size too large stops early, with a LimitError that names the limit.
The cyclic garbage collector is paused meanwhile (the graphs have no cycles).

Why not PyTorch's way (create_graph: a backward pass made of Tensor operations, itself
differentiable)?  It would need every backward step written twice, once on arrays for speed
and once on Tensors; the Value backend reuses the one set of steps and the scalar engine's
second derivatives, at the price of the expansion (see docs/tensors.md for the sizes).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .. import limits
from ..engine import Value, walk
from ..errors import MathError, UsageError
from .backends import using
from .tensor import Tensor, common, constant, is_grad_enabled

__all__ = ["hessian", "jacobian"]

# work steps per scalar node the expansion makes: a Value made and computed, and its share of the backward (measured)
BUILD_STEPS = 10


def _checked_inputs(inputs: Sequence[Tensor], name: str) -> list[Tensor]:
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    found = list(inputs)
    for k, x in enumerate(found):
        if not isinstance(x, Tensor):
            raise UsageError(f"{name}: inputs[{k}] is a {type(x).__name__}, not a Tensor")
    if not found:
        raise UsageError(f"{name} needs at least one input tensor")
    return found


def _output(f: Callable[..., Tensor], leaves: list[Tensor], name: str) -> Tensor:
    if not is_grad_enabled():
        raise UsageError(f"{name} builds graphs to differentiate: call it outside no_grad()")
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise UsageError(f"{name}: f must return a Tensor, not {type(out).__name__}")
    return out


# -- jacobian -------------------------------------------------------------------------------------------


def jacobian(f: Callable[..., Tensor], inputs: Sequence[Tensor]) -> list[Tensor]:
    """d f(*inputs) / d inputs[i] for each i: J[i] of shape f(*inputs).shape + inputs[i].shape (a constant).

    Reverse mode, one backward pass per element of the output (row-major); the inputs' own .grad are not
    touched (f runs on fresh leaves holding the same values).  An input f does not use has zeros.
    """
    given = _checked_inputs(inputs, "jacobian")
    leaves = [Tensor(x, requires_grad=True) for x in given]  # the same values, a graph of their own
    out = _output(f, leaves, "jacobian")
    b = out.backend
    rows: list[list[list[float]]] = [[] for _ in leaves]  # per input: one gradient (flat) per output element
    for k in range(out.size):
        if out.requires_grad:
            seed = [0.0] * out.size
            seed[k] = 1.0
            out.backward(gradient=constant(b.from_flat(seed, out.shape), b))
        for i, leaf in enumerate(leaves):
            grad = leaf.grad
            rows[i].append(b.to_flat(grad.array) if grad is not None else [0.0] * leaf.size)
            leaf.grad = None
    return [constant(x.backend.from_flat([v for row in rows[i] for v in row], (*out.shape, *x.shape)), x.backend)
            for i, x in enumerate(given)]


# -- hessian ----------------------------------------------------------------------------------------------


def hessian(f: Callable[..., Tensor], inputs: Sequence[Tensor],
            names: Sequence[str] | None = None) -> list[list[float]]:
    """The exact second derivatives of the number f(*inputs), as an N x N matrix of floats.

    N counts every element of every input: the inputs in the given order, each flattened in row-major
    order (x[0], x[1], ..., then A[0, 0], A[0, 1], ...).  f must use Tensor operations only (it runs on a
    private backend of scalar Values: see the module's docstring) and return a tensor of one element.
    names: what to call the inputs in error messages (default x0, x1, ...).
    """
    given = _checked_inputs(inputs, "hessian")
    labels = list(names) if names is not None else [f"x{k}" for k in range(len(given))]
    n = sum(x.size for x in given)
    limits.check("cells", n * n, f"the Hessian over {n:,} elements is {n:,} x {n:,} = {{size}} numbers",
                 "differentiate with respect to fewer or smaller tensors")
    # The cyclic garbage collector is paused meanwhile: the graphs have no cycles, so it would free nothing,
    # but with hundreds of thousands of new nodes it runs again and again (the whole takes 2.5 times as long).
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = _first_derivatives(f, given)
        if found is None:
            return [[0.0] * n for _ in range(n)]  # f does not depend on its inputs
        firsts, scalars = found
        _check_passes(firsts, [sum(x.size for x in given[:k]) for k in range(len(given))])
        where = [f"{label}[{', '.join(map(str, index))}]" if x.shape else label
                 for label, x in zip(labels, given, strict=False) for index in _indices(x.shape)]
        return _second_derivatives(firsts, scalars, where)
    finally:
        if collecting:
            gc.enable()


def _first_derivatives(f: Callable[..., Tensor], given: list[Tensor]) -> tuple[list[Value], list[Value]] | None:
    """Steps 1 and 2: f and its backward pass on the Value backend.  The first derivatives as Value graphs
    (one per input element, in order) and the input elements' Value leaves; None if f ignores its inputs."""
    from .backends.value_backend import ValueBackend, values_of  # loaded by the first hessian only

    backend = ValueBackend(limits.get("work") // BUILD_STEPS)
    backend.adopt = lambda values: _adopt(backend, values)  # type: ignore[attr-defined]
    leaves: list[Tensor] = []
    scalars: list[Value] = []  # the N input elements, in the documented order
    for x in given:
        elements = [Value(v) for v in x.backend.to_flat(x.array)]
        leaf = constant(backend.from_flat(elements, x.shape), backend)
        leaf.requires_grad = True
        leaves.append(leaf)
        scalars.extend(elements)
    with using(backend):
        out = _output(f, leaves, "hessian")
        if out.size != 1:
            raise UsageError(f"hessian needs f to return one number, not a tensor of shape {out.shape}: "
                             "sum(...) it, or take the jacobian of its gradient")
        if out.backend is not backend:
            raise UsageError("hessian: f returned a tensor on another backend: it must compute with Tensor "
                             "operations on its arguments only")
        if not out.requires_grad:
            return None
        out.backward()
    firsts: list[Value] = []  # d f / d (element j), each a graph over the scalar leaves
    for leaf in leaves:
        firsts.extend(values_of(leaf.grad.array) if leaf.grad is not None else [Value.constant(0.0)] * leaf.size)
    return firsts, scalars


def _second_derivatives(firsts: list[Value], scalars: list[Value], where: list[str]) -> list[list[float]]:
    """Step 3: the scalar engine's backward() on each first derivative gives a row; the upper triangle is kept
    and mirrored, so that the matrix is exactly symmetric."""
    n = len(firsts)
    matrix = [[0.0] * n for _ in range(n)]
    for i, first in enumerate(firsts):
        for leaf in scalars:
            leaf.grad = 0.0
        try:
            first.backward()
        except MathError as error:
            raise MathError(error.op, f"no second derivative with respect to {where[i]}: {error.message}") from None
        for j in range(i, n):
            g = scalars[j].grad
            if not math.isfinite(g):
                raise MathError("backward", f"overflow: a second derivative ({where[i]}, {where[j]}) is too large")
            matrix[i][j] = matrix[j][i] = g + 0.0  # -0.0 is 0
    return matrix


def _adopt(backend: Any, values: Sequence[Any]) -> tuple[list[Tensor], Any]:
    """The arguments of an operation with a tensor of the caller's backend among them (one that f closes over, not
    an input): that tensor as constants on the Value backend, so f's program runs (common() calls this)."""
    moved = [constant(backend.from_flat(v.backend.to_flat(v.array), v.shape), backend)
             if isinstance(v, Tensor) and v.backend is not backend else v for v in values]
    return common(moved, backend)


def _indices(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Every index of an array of this shape, in row-major order."""
    index = [()]
    for size in shape:
        index = [(*i, k) for i in index for k in range(size)]
    return iter(index)


def _check_passes(firsts: list[Value], starts: list[int]) -> None:
    """LimitError before the N backward passes if they would be over the `work` limit.

    Each pass reaches only the part of the graph its first derivative depends on (for 0.5 x^T A x,
    row i's is about 9n nodes of the 5n^2): the work is estimated from the largest of a few rows
    (each input's first, the middle one, the last), which tensor programs make alike.
    """
    n = len(firsts)
    if not n:
        return
    sample = {n // 2, n - 1, *(k for k in starts if k < n)}
    reach = max(sum(1 for _ in walk(firsts[i])) for i in sample)
    limits.check_work(n * reach * limits.BACKWARD, f"the exact Hessian is {n:,} passes over about {reach:,} nodes",
                      "differentiate with respect to fewer or smaller tensors")
