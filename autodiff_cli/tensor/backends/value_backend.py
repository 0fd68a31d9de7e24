"""A private backend whose arrays hold the scalar engine's Values: a tensor program expanded into its scalar graph.

Used by tensor/functional.py's hessian, never chosen by name.  Each kernel does what the Python
backend does, element by element, but on Values (engine.py): tanh of a (2, 3) array makes six
tanh nodes, a (2, 3) @ (3, 4) product makes 12 sums of 3 products.  So a Tensor program run on
this backend computes its usual numbers and also leaves behind the graph of every scalar
operation it made, and the Tensor's backward pass, whose steps are made of the same kernels,
builds the gradient as Values too: a graph that the scalar engine can differentiate again.

The layout is the Python backend's (python_storage.Storage: shape, strides, offset), with a list
of Values for the buffer; every array is kept row-major (a view is gathered at once: there is
no float loop to save here).  The derivative rules are the op table's formulas evaluated on
Values, as derivatives.gradients does.  Each kernel counts the nodes it makes against a budget
(from the `work` limit), so that a program too large to expand stops with a LimitError, early.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from ... import limits, ops
from ...engine import Value
from ...errors import MathError, UsageError
from ...formulas import formula_to_python
from . import Backend, Shape, element_error
from .python_columns import Columns, column_formula
from .python_storage import Storage, broadcast_shape, broadcast_to, getitem, permute, size_of
from .square import SquareKernels

__all__ = ["ValueBackend", "values_of"]

_OPERATORS: dict[str, Callable[..., Value]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv, "pow": operator.pow,
    "neg": operator.neg,
}
_RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_ZERO, _ONE = Value.constant(0.0), Value.constant(1.0)
_RULES: dict[tuple[ops.Op, int], Columns] = {}


def _rule(op: ops.Op, i: int) -> Columns:
    """g times op's derivative by argument i over columns of Values (x, y, out, g by name): the table's formula made
    into maps once (python_columns.py), each table function called through Value.apply, so that the result is
    a graph, differentiable again."""
    if (op, i) not in _RULES:
        body = formula_to_python(op.grad_trees[i], {n: n for n in (*ops.ARG_NAMES, ops.RESULT_NAME)},
                                 lambda f: f"_v_{f}")
        functions = {f"_v_{f}": (lambda name: lambda *a: Value.apply(name, *a))(f) for f in ops.FUNCTIONS
                     if f"_v_{f}(" in body}
        rule = column_formula(f"g * ({body})", functions)
        if rule is None:  # the table's rules are plain formulas (conditions are conventions, kept apart)
            raise NotImplementedError(f"{op.name}'s rule by argument {i} is not a plain formula")
        _RULES[op, i] = rule
    return _RULES[op, i]


def _wrap(v: Any) -> Value:
    return v if isinstance(v, Value) else Value.constant(float(v))


def values_of(a: Storage) -> list[Value]:
    """The Values in row-major order (the array's own list: arrays here are always laid out row-major)."""
    return a.values


def _gathered(view: Storage) -> Storage:
    """A view (permuted, broadcast, sliced) as a fresh row-major array: each position worked out from the strides."""
    positions = [view.offset]
    for n, s in zip(view.shape, view.strides, strict=True):
        positions = [p + k * s for p in positions for k in range(n)]
    values = view.values
    return Storage([values[p] for p in positions], view.shape)


def _operand(a: Storage, shape: Shape) -> list[Value]:
    return a.values if a.shape == shape else _gathered(broadcast_to(a, shape)).values


class ValueBackend(SquareKernels, Backend):
    """Backend kernels on lists of Values; `budget` is how many nodes the kernels may make in all."""

    name = "values"

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.built = 0

    def _spend(self, nodes: int) -> None:
        self.built += nodes
        if self.built > self.budget:
            raise limits.error("work", f"the exact Hessian expands the tensors into more than {self.budget:,} scalar "
                               "nodes", advice="differentiate with respect to fewer or smaller tensors")

    # -- making and reading arrays -------------------------------------------
    def from_flat(self, values: Sequence[Any], shape: Shape) -> Storage:
        if len(values) != size_of(shape):
            raise UsageError(f"{len(values)} values cannot fill an array of shape {tuple(shape)}")
        self._spend(len(values))
        return Storage([_wrap(v) for v in values], tuple(shape))

    def to_flat(self, a: Storage) -> list[float]:
        return [v.data for v in a.values]

    def shape(self, a: Storage) -> Shape:
        return a.shape

    def full(self, shape: Shape, value: float) -> Storage:
        return Storage([Value.constant(float(value))] * size_of(shape), tuple(shape))  # one node, shared

    def nbytes(self, a: Storage) -> int:
        return 0  # not a store of doubles: nothing to report

    # -- the op table, elementwise ---------------------------------------------
    def apply(self, op: ops.Op, args: Sequence[Storage]) -> Storage:
        shape = broadcast_shape(*(a.shape for a in args))
        self._spend(size_of(shape))
        f = _OPERATORS.get(op.name) or (lambda *xs: Value.apply(op.name, *xs))
        out: list[Value] = []
        try:
            for xs in zip(*(_operand(a, shape) for a in args), strict=True):
                out.append(f(*xs))
        except MathError as e:  # the scalar engine's message, moved to the element
            raise element_error(e, len(out), shape) from None
        return Storage(out, shape)

    def derivative(self, op: ops.Op, i: int, args: Sequence[Storage], out: Storage, g: Storage) -> Storage:
        shape = out.shape
        self._spend(4 * size_of(shape))  # a rule is a few nodes
        rule = _rule(op, i)
        columns = dict(zip(ops.ARG_NAMES, (_operand(a, shape) for a in args), strict=False))
        columns[ops.RESULT_NAME], columns["g"] = out.values, _operand(g, shape)
        if not op.conventions:
            try:
                return Storage(list(rule(columns)), shape)
            except MathError:
                pass  # some element has no derivative: found below, one at a time
        result: list[Value] = []
        for k in range(size_of(shape)):
            one = {name: column[k : k + 1] for name, column in columns.items()}
            data = [one[name][0].data for name in ops.ARG_NAMES[: op.arity]]
            convention = op.convention(data, i)  # pow's exponent at a zero base, ...: the engine's number
            try:
                result.append(one["g"][0] * convention if convention is not None else next(iter(rule(one))))
            except MathError:
                raise element_error(op.no_derivative(data, i), k, shape) from None
        return Storage(result, shape)

    # -- comparisons and selection -----------------------------------------------------
    def compare(self, relation: str, a: Storage, b: Storage) -> Storage:
        holds = _RELATIONS.get(relation)
        if holds is None:
            raise UsageError(f"unknown comparison {relation!r}: use one of {' '.join(_RELATIONS)}")
        shape = broadcast_shape(a.shape, b.shape)
        pairs = zip(_operand(a, shape), _operand(b, shape), strict=True)
        return Storage([_ONE if holds(x.data, y.data) else _ZERO for x, y in pairs], shape)

    def where(self, cond: Storage, a: Storage, b: Storage) -> Storage:
        shape = broadcast_shape(cond.shape, a.shape, b.shape)
        columns = _operand(cond, shape), _operand(a, shape), _operand(b, shape)
        return Storage([x if c.data else y for c, x, y in zip(*columns, strict=True)], shape)

    # -- reductions ------------------------------------------------------------------
    def _reduce(self, a: Storage, axes: Shape, keepdims: bool, fold: Callable[[list[Value]], Value],
                name: str) -> Storage:
        """fold applied to each group of values that differ only along `axes` (the reduced axes moved last)."""
        kept = [d for d in range(len(a.shape)) if d not in axes]
        values = _gathered(permute(a, (*kept, *axes))).values
        group = size_of([a.shape[d] for d in axes])
        count = size_of([a.shape[d] for d in kept])
        shape = tuple(1 if d in axes else n for d, n in enumerate(a.shape)) if keepdims else tuple(
            a.shape[d] for d in kept)
        if group == 0 and name in ("max", "min"):
            raise UsageError(f"{name} over an axis of size 0 has no value (shape {a.shape})")
        self._spend(len(values))
        out = []
        try:
            for j in range(count):
                out.append(fold(values[j * group : (j + 1) * group]))
        except MathError as e:
            raise element_error(MathError(name, e.message), len(out), shape) if shape else e from None
        return Storage(out, shape)

    def sum(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, _total, "sum")

    def max(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, lambda vs: max(vs, key=_data), "max")  # the element itself

    def min(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, lambda vs: min(vs, key=_data), "min")

    def prod(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, _product, "prod")

    # -- shapes -------------------------------------------------------------------------
    def reshape(self, a: Storage, shape: Shape) -> Storage:
        if size_of(shape) != size_of(a.shape):
            raise UsageError(f"cannot reshape an array of shape {a.shape} ({size_of(a.shape)} elements) "
                             f"into shape {tuple(shape)}")
        return Storage(a.values, tuple(shape))  # row-major already: the same list, read another way

    def permute(self, a: Storage, axes: Shape) -> Storage:
        return _gathered(permute(a, axes))

    def broadcast_to(self, a: Storage, shape: Shape) -> Storage:
        return a if a.shape == tuple(shape) else _gathered(broadcast_to(a, tuple(shape)))

    def getitem(self, a: Storage, index: tuple) -> Storage:
        return _gathered(getitem(a, index))

    def index_add(self, shape: Shape, index: tuple, g: Storage) -> Storage:
        """Zeros with g placed where a[index] reads (ints and slices never pick an element twice: no sums)."""
        out = [_ZERO] * size_of(shape)
        target = getitem(Storage(list(range(len(out))), tuple(shape)), index)  # the positions a[index] reads
        positions = _gathered(target).values
        for p, v in zip(positions, _operand(g, target.shape), strict=True):
            out[p] = v
        return Storage(out, tuple(shape))

    def concatenate(self, arrays: Sequence[Storage], axis: int) -> Storage:
        first = arrays[0].shape
        for a in arrays:
            if len(a.shape) != len(first) or any(n != m for d, (n, m) in enumerate(zip(a.shape, first, strict=True))
                                                  if d != axis):
                raise UsageError(f"shapes {first} and {a.shape} cannot be concatenated along axis {axis}")
        outer = size_of(first[:axis])
        blocks = [(a.values, size_of(a.shape[axis:])) for a in arrays]
        out: list[Value] = []
        for j in range(outer):
            for values, inner in blocks:
                out.extend(values[j * inner : (j + 1) * inner])
        return Storage(out, (*first[:axis], sum(a.shape[axis] for a in arrays), *first[axis + 1 :]))

    # -- linear algebra ---------------------------------------------------------------
    def matmul(self, a: Storage, b: Storage) -> Storage:
        """(..., m, k) @ (..., k, n): each output element a sum of k products of Values."""
        if len(a.shape) < 2 or len(b.shape) < 2 or a.shape[-1] != b.shape[-2]:
            raise UsageError(f"shapes {a.shape} and {b.shape} cannot be multiplied (matmul)")
        (m, k), n = a.shape[-2:], b.shape[-1]
        batch = broadcast_shape(a.shape[:-2], b.shape[:-2])
        left = _operand(a, (*batch, m, k))
        right = _gathered(permute(broadcast_to(b, (*batch, k, n)),
                                  (*range(len(batch)), len(batch) + 1, len(batch)))).values  # columns of b
        self._spend(2 * size_of(batch) * m * n * k)
        out = []
        for t in range(size_of(batch)):
            rows = [left[(t * m + i) * k : (t * m + i + 1) * k] for i in range(m)]
            cols = [right[(t * n + j) * k : (t * n + j + 1) * k] for j in range(n)]
            out.extend(_total(list(map(operator.mul, row, col))) for row in rows for col in cols)
        return Storage(out, (*batch, m, n))

    # -- square matrices: square.py's Gaussian elimination, on Values -----------------------
    def _numbers(self, a: Storage) -> list[Value]:
        n = a.shape[-1] if a.shape else 0
        self._spend(size_of(a.shape) * max(n, 1))  # about n^3 nodes per n x n matrix
        return a.values

    def _array(self, values: list[Any], shape: Shape) -> Storage:
        return Storage([_wrap(v) for v in values], tuple(shape))

    def _size(self, x: Any) -> float:
        return abs(_data(x))

    def _log_size(self, x: Value) -> Value:
        return Value.apply("log", -x if x.data < 0.0 else x)

    def _total(self, xs: list[Value]) -> Value:
        return _total(xs)

    def _float(self, x: Any) -> float:
        return _data(x)


def _data(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _total(values: list[Value]) -> Value:
    """A sum of Values, left to right (0 for none)."""
    if not values:
        return _ZERO
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def _product(values: list[Value]) -> Value:
    if not values:
        return _ONE
    total = values[0]
    for v in values[1:]:
        total = total * v
    return total
