"""The pure-Python backend: every kernel of the Backend interface on flat array('d') buffers.

Standard library only: the one to read to see how broadcasting, reductions and matmul
work.  Arrays are Storages (python_storage.py: a buffer, a shape, strides, an offset), so
transpose, broadcast_to, reshape and slicing are views that copy nothing.

Every elementwise function comes from the op table: ``apply`` computes the table's float
forward on every element (``op.fn``, or the same formula over whole columns), and
``derivative`` computes g times the table's rule exactly as the scalar engine's backward
pass does (``rulecode.products``, or the same formula over columns: python_columns.py), so
a tensor and a graph of Values give the same numbers, bit for bit.  The loops are Python's
own ``map`` over flat buffers; where one fails or gives inf, an error path goes through the
elements one by one to name the first at fault, with the scalar engine's own message.
"""

from __future__ import annotations

import ast
import math
import operator
from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat

from ... import ops, rulecode
from ...errors import MathError, UsageError
from ...formulas import times_python
from ...ops import ARG_NAMES, RESULT_NAME, Op
from . import Backend, element_error
from .python_columns import Columns, column_formula
from .python_storage import (
    Storage,
    broadcast_shape,
    broadcast_to,
    flat,
    getitem,
    operand,
    permute,
    reshape,
    runs,
    size_of,
)
from .square import SquareKernels

__all__ = ["PythonBackend", "Storage"]

Shape = tuple[int, ...]

_ARITHMETIC_ERRORS = (ArithmeticError, ValueError)  # MathError, OverflowError, ZeroDivisionError, math domain

_FORWARDS: dict[Op, Columns | None] = {}  # by table entry, made on first use
_RULES: dict[tuple[Op, int], tuple[str, Columns | None]] = {}


def _table_functions(tree: ast.AST) -> dict[str, Callable[..., float]]:
    """The table's float functions a generated formula calls (as _f_<name>), as ops.float_namespace gives them."""
    return ops.float_namespace({n.id[3:] for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id.startswith("_f_")})


def _forward_columns(op: Op) -> Columns | None:
    """op's forward over columns (x + y: map(add, xs, ys)), or None: then apply maps op.fn itself.

    Only for forwards whose domain Python checks by itself: none at all, or division's y == 0, where
    truediv raises ZeroDivisionError and apply goes to its error path as op.fn would send it.
    """
    if op not in _FORWARDS:
        body = op.forward_tree.body
        returned = body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else None
        checked = not op.domain or (op.forward == "x / y" and [when for when, _ in op.domain] == ["y == 0"])
        usable = checked and returned is not None
        _FORWARDS[op] = column_formula(returned, _table_functions(returned)) if usable else None
    return _FORWARDS[op]


def _rule_columns(op: Op, i: int) -> tuple[str, Columns | None]:
    """g times op's derivative rule by argument i, as the engine's product function writes it (rulecode.products):
    its source ('g * (_f_sech(x) ** 2.0)') and the same formula over columns (None where it has a condition)."""
    if (op, i) not in _RULES:
        rule = op.rule_python(i, {n: n for n in (*ARG_NAMES, RESULT_NAME)}, lambda f: f"_f_{f}")
        source = times_python("g", rule)
        tree = ast.parse(source, mode="eval")
        _RULES[op, i] = source, column_formula(tree.body, _table_functions(tree))
    return _RULES[op, i]


_RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _finite(values: array) -> bool:
    """Whether every value is a finite double, checked cheaply: a sum of finite numbers is finite
    (or overflows, and then each value is looked at)."""
    total = sum(values)
    if total - total == 0.0:
        return True
    return all(v - v == 0.0 for v in values)  # inf - inf and nan - nan are nan, never 0.0


def _finite_or_none(values: Callable[[], Iterable[float]]) -> array | None:
    """The values as an array('d'), or None where computing them fails or gives inf or nan somewhere."""
    try:
        out = array("d", list(values()))  # from a list array() knows the length: twice as fast as from map
    except _ARITHMETIC_ERRORS:
        return None
    return out if _finite(out) else None


def _exact_sum(values: array) -> float:
    """The sum rounded once (math.fsum), so the order of the terms does not matter: another backend's
    pairwise sum is then within its own rounding of this one.  inf where it overflows (the caller's error)."""
    try:
        return math.fsum(values)
    except OverflowError:
        return math.inf


_sumprod: Callable[[list[float], list[float]], float] | None = getattr(math, "sumprod", None)  # Python 3.12+


def _rows_times(rows: list[list[float]], b_rows: list[list[float]], n: int) -> list[float]:
    """rows @ b by rows: output row i is the sum over j of rows[i][j] times row j of b (one map call per term)."""
    out: list[float] = []
    for row in rows:
        total = [0.0] * n
        for a, b_row in zip(row, b_rows, strict=True):
            total = list(map(operator.add, total, map(operator.mul, repeat(a), b_row)))
        out.extend(total)
    return out


class PythonBackend(SquareKernels, Backend):
    """The kernels in the standard library; arrays are python_storage.Storage objects.

    det, logdet, inv and solve are Gaussian elimination on floats (square.py, lu.py)."""

    name = "python"

    # -- making and reading arrays -------------------------------------------
    def from_flat(self, values: Sequence[float], shape: Shape) -> Storage:
        buffer = array("d", values)
        if len(buffer) != size_of(shape):
            raise UsageError(f"{len(buffer)} values cannot fill an array of shape {shape}")
        return Storage(buffer, tuple(shape))

    def to_flat(self, a: Storage) -> list[float]:
        return flat(a).tolist()

    def shape(self, a: Storage) -> Shape:
        return a.shape

    def full(self, shape: Shape, value: float) -> Storage:
        return Storage(array("d", (float(value),)) * size_of(shape), tuple(shape))

    def nbytes(self, a: Storage) -> int:
        """The bytes of the buffer the array reads (shared by its views): 8 per double stored."""
        return a.values.itemsize * len(a.values)

    # -- the op table, elementwise ---------------------------------------------
    def apply(self, op: Op, args: Sequence[Storage]) -> Storage:
        """op's forward on every element of the arguments broadcast together: op.fn mapped over
        their values, or the forward's formula over whole columns where it is plain arithmetic.

        A broadcast binary op walks both operands in the output's row-major order: each is
        read through a view with the output's shape (stride 0 along its stretched axes), so
        x[i, j] + b[j] pairs element [i, j] of x with element [0, j] of the stretched b.
        """
        shape = broadcast_shape(*(a.shape for a in args))
        columns = [operand(a, shape) for a in args]
        forward = _forward_columns(op)
        if forward is None:  # a forward with its own domain checks, or with a condition: op.fn on each element
            out = _finite_or_none(lambda: map(op.fn, *columns))
        else:
            out = _finite_or_none(lambda: forward(dict(zip(ARG_NAMES, columns, strict=False))))
        if out is None:
            raise self._first_forward_error(op, args, shape)
        return Storage(out, shape)

    def _first_forward_error(self, op: Op, args: Sequence[Storage], shape: Shape) -> MathError:
        """The error of the first element (row-major) where op is undefined or overflows: the scalar message."""
        columns = [flat(broadcast_to(a, shape)) for a in args]
        for k, xs in enumerate(zip(*columns, strict=True)):
            try:
                op.evaluate(*xs)
            except MathError as e:
                return element_error(e, k, shape)
        return MathError(op.name, "the result is not a finite double")  # unreachable: kept for safety

    def derivative(self, op: Op, i: int, args: Sequence[Storage], out: Storage, g: Storage) -> Storage:
        """g * d out / d arg_i per element: the scalar engine's own product, g * (rule), over the values.

        The product is computed over whole columns (python_columns.py: the same operations in the
        same order, so the same bits), or by the engine's compiled function per element where the
        rule has a condition; an element where that fails goes the engine's careful way.
        """
        shape = out.shape
        columns = [operand(a, shape) for a in args]
        gs = operand(g, shape)
        source, rule = _rule_columns(op, i)
        if source == "g * (1.0)":  # g * 1.0 is g: add, sub's x
            return g
        if rule is None:  # a rule map cannot say: the engine's own function, element by element
            result = _finite_or_none(lambda: map(rulecode.products(op)[i], *columns, flat(out), gs))
        else:
            env = {**dict(zip(ARG_NAMES, columns, strict=False)), RESULT_NAME: flat(out), "g": gs}
            result = _finite_or_none(lambda: rule(env))
        if result is None:  # somewhere the doubles failed: element by element, as the engine does
            result = self._careful_derivative(op, i, args, out, g)
        return Storage(result, shape)

    def _careful_derivative(self, op: Op, i: int, args: Sequence[Storage], out: Storage, g: Storage) -> array:
        """Element by element, as the engine's gradient_term: the fast product, else the careful rule (careful.py)."""
        from ... import careful  # decimal numbers, loaded only where a double failed

        shape = out.shape
        product = rulecode.products(op)[i]
        columns = [flat(broadcast_to(a, shape)) for a in args]
        outs, gs = flat(out), flat(broadcast_to(g, shape))
        result = array("d")
        for k, xs in enumerate(zip(*columns, strict=True)):
            try:
                d = product(*xs, outs[k], gs[k])
            except _ARITHMETIC_ERRORS:
                d = math.inf
            if d - d != 0.0:
                try:
                    d = careful.times(xs, outs[k], i, op, gs[k])
                except MathError as e:
                    raise element_error(e, k, shape) from None
                if d - d != 0.0:
                    where = f" with respect to its {op.role(i)}" if op.arity > 1 else ""
                    problem = f"overflow: the gradient of {op.call_text(*xs)}{where} is too large for a double"
                    raise element_error(MathError(op.name, problem), k, shape)
            result.append(d)
        return result

    # -- comparisons and selection ---------------------------------------------------
    def compare(self, relation: str, a: Storage, b: Storage) -> Storage:
        holds = _RELATIONS.get(relation)
        if holds is None:
            raise UsageError(f"unknown comparison {relation!r}: use one of {' '.join(_RELATIONS)}")
        shape = broadcast_shape(a.shape, b.shape)
        return Storage(array("d", list(map(float, map(holds, operand(a, shape), operand(b, shape))))), shape)

    def where(self, cond: Storage, a: Storage, b: Storage) -> Storage:
        shape = broadcast_shape(cond.shape, a.shape, b.shape)
        columns = operand(cond, shape), operand(a, shape), operand(b, shape)
        picked = [x if c else y for c, x, y in zip(*columns, strict=True)]
        return Storage(array("d", picked), shape)

    # -- reductions ------------------------------------------------------------------
    def _reduce(self, a: Storage, axes: Shape, keepdims: bool, fold: Callable[[array], float], name: str) -> Storage:
        """fold applied to each group of values that differ only along `axes`.

        The reduced axes are permuted to the end (a view), so that in row-major order each
        group is one consecutive slice of the gathered values: summing a (2, 3) array over
        axis 0 reads it as its (3, 2) transpose and sums the three rows of 2.
        """
        kept = [d for d in range(len(a.shape)) if d not in axes]
        values = flat(permute(a, (*kept, *axes)))
        group = size_of([a.shape[d] for d in axes])
        count = size_of([a.shape[d] for d in kept])
        shape = tuple(1 if d in axes else n for d, n in enumerate(a.shape)) if keepdims else tuple(
            a.shape[d] for d in kept)
        try:
            out = array("d", [fold(values[j * group : (j + 1) * group]) for j in range(count)])
        except ValueError:  # max() of an empty group
            raise UsageError(f"{name} over an axis of size 0 has no value (shape {a.shape})") from None
        if not _finite(out):
            k = next(j for j, v in enumerate(out) if v - v != 0.0)
            error = MathError(name, f"overflow: the {'product' if name == 'prod' else name} is too large for a double")
            raise element_error(error, k, shape) if shape else error
        return Storage(out, shape)

    def sum(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, _exact_sum, "sum")

    def max(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, max, "max")

    def min(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, min, "min")

    def prod(self, a: Storage, axes: Shape, keepdims: bool) -> Storage:
        return self._reduce(a, axes, keepdims, math.prod, "prod")

    # -- shapes -------------------------------------------------------------------------
    def reshape(self, a: Storage, shape: Shape) -> Storage:
        return reshape(a, tuple(shape))

    def permute(self, a: Storage, axes: Shape) -> Storage:
        return permute(a, axes)

    def broadcast_to(self, a: Storage, shape: Shape) -> Storage:
        return broadcast_to(a, tuple(shape))

    def getitem(self, a: Storage, index: tuple) -> Storage:
        return getitem(a, index)

    def index_add(self, shape: Shape, index: tuple, g: Storage) -> Storage:
        """Zeros with g written where a[index] reads (ints and slices never pick an element twice)."""
        zeros = self.full(shape, 0.0)
        target = getitem(zeros, index)  # a view of the zeros: the positions a[index] reads
        values = flat(broadcast_to(g, target.shape))
        if not values:
            return zeros
        starts, length, step = runs(target)
        span, buffer = (length - 1) * step + 1, zeros.values
        for r, start in enumerate(starts):  # one slice of the buffer per run of the view: z[run] += g[run]
            where = slice(start, start + span, step)
            buffer[where] = array("d", map(operator.add, buffer[where], values[r * length : (r + 1) * length]))
        return zeros

    def concatenate(self, arrays: Sequence[Storage], axis: int) -> Storage:
        """The arrays joined along axis: for each index before the axis, each array's block in turn."""
        first = arrays[0].shape
        for a in arrays:
            if len(a.shape) != len(first) or any(n != m for d, (n, m) in enumerate(zip(a.shape, first, strict=True))
                                                  if d != axis):
                raise UsageError(f"shapes {first} and {a.shape} cannot be concatenated along axis {axis}")
        outer = size_of(first[:axis])
        blocks = [(flat(a), size_of(a.shape[axis:])) for a in arrays]
        out = array("d")
        for j in range(outer):
            for values, inner in blocks:
                out.extend(values[j * inner : (j + 1) * inner])
        shape = (*first[:axis], sum(a.shape[axis] for a in arrays), *first[axis + 1 :])
        return Storage(out, shape)

    # -- linear algebra ---------------------------------------------------------------
    def matmul(self, a: Storage, b: Storage) -> Storage:
        """(..., m, k) @ (..., k, n): each output element is a row of a times a column of b, summed.

        b is read through its transpose (a view), so that its columns, like a's rows, are
        consecutive slices; the leading (batch) axes broadcast as in any binary op.
        """
        if len(a.shape) < 2 or len(b.shape) < 2:
            raise UsageError(f"matmul needs at least 2 axes here: shapes {a.shape} and {b.shape}")
        if a.shape[-1] != b.shape[-2]:
            inner = f"{a.shape[-1]} != {b.shape[-2]}"
            raise UsageError(f"shapes {a.shape} and {b.shape} cannot be multiplied (matmul: {inner})")
        (m, k), n = a.shape[-2:], b.shape[-1]
        try:
            batch = broadcast_shape(a.shape[:-2], b.shape[:-2])
        except UsageError:
            raise UsageError(f"shapes {a.shape} and {b.shape} cannot be multiplied (matmul: batch axes)") from None
        if len(b.shape) == 2:  # one matrix on the right: a's batch axes are just more rows
            blocks, rows_per_block = 1, size_of(a.shape[:-1])
            left, right = flat(a), b
        else:
            blocks, rows_per_block = size_of(batch), m
            left, right = flat(broadcast_to(a, (*batch, m, k))), broadcast_to(b, (*batch, k, n))
        if k <= 2:  # few terms per element: whole rows of b, scaled and added, cost fewer calls
            b_rows = flat(right)
        else:  # columns of b as consecutive values: its transpose (a view), gathered
            d = len(right.shape)
            b_cols = flat(permute(right, (*range(d - 2), d - 1, d - 2)))
        out = array("d")
        mul = operator.mul
        for t in range(blocks):
            first = t * rows_per_block
            rows = [left[(first + i) * k : (first + i + 1) * k].tolist() for i in range(rows_per_block)]
            if k <= 2:
                out.fromlist(_rows_times(rows, [b_rows[(t * k + j) * n : (t * k + j + 1) * n].tolist()
                                              for j in range(k)], n))
                continue
            cols = [b_cols[(t * n + j) * k : (t * n + j + 1) * k].tolist() for j in range(n)]
            if _sumprod is None:  # a dot product as two C loops: map multiplies, sum adds (about 25 ns a term)
                out.fromlist([sum(map(mul, row, col)) for row in rows for col in cols])
            else:
                out.fromlist([_sumprod(row, col) for row in rows for col in cols])
        shape = (*a.shape[:-2], m, n) if len(b.shape) == 2 else (*batch, m, n)
        if not _finite(out):
            flat_index = next(j for j, v in enumerate(out) if v - v != 0.0)
            error = MathError("matmul", "overflow: a row times a column is too large for a double")
            raise element_error(error, flat_index, shape)
        return Storage(out, shape)

