"""Running a program: each Node's operation on Tensors, in the order the parse made them.

One function per kind of node, each a call into the Tensor layer (autodiff_cli.tensor),
so the graph a program builds is an ordinary Tensor graph: backward(), the views and the
Jacobian read it like any other.  The Tensor layer reports a bad shape as a UsageError;
here it becomes a ShapeError (exit 1: shapes come from the values bound) with the caret
under the operator or function that failed.  Before an operation that could make a much
larger tensor than its inputs (broadcasting, @, outer, where), the result's size is checked
against the `elements` limit: x + reshape(x, [-1, 1]) for a long x is refused, not attempted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import limits
from ..errors import ShapeError, UsageError
from ..tensor import Tensor
from ..tensor import tensor as core
from ..tensor.backends import Backend
from .nodes import Node, location

Run = Callable[[Node, list[Tensor], Backend], Tensor]

SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^", "matmul": "@"}


class Misplaced(UsageError):
    """A shape error whose caret belongs elsewhere than under the node's operator: under axis=, or under
    the entry of an index that is out of range."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def shape_error(node: Node, text: str, error: UsageError) -> ShapeError:
    offset = error.offset if isinstance(error, Misplaced) else node.at
    line, column = location(text, offset)
    op = node.value if node.op in ("table",) else node.value[0] if node.op == "call" else node.op
    return ShapeError(str(op), error.message, text, column, line)


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for k in shape:
        n *= k
    return n


def _check_size(shape: tuple[int, ...], what: str) -> None:
    limits.check("elements", _size(shape), f"{what} would have {{size}} elements (shape {shape})")


def _table(node: Node, args: list[Tensor], b: Backend) -> Tensor:
    import autodiff_cli.tensor as T

    name = node.value
    if len(args) >= 2:
        shape = args[0].shape
        for a in args[1:]:
            if a.shape != shape:
                try:
                    shape = core.broadcast_shapes(shape, a.shape)
                except UsageError:
                    symbol = SYMBOLS.get(name)
                    what = f"'{symbol}'" if symbol else f"{name}(...)"
                    raise UsageError(f"shapes {args[0].shape} and {a.shape} cannot be broadcast together: "
                                     f"{what} needs each pair of sizes, aligned at the right, equal or 1") from None
        _check_size(shape, f"the result of {SYMBOLS.get(name, name)}")
    return T.apply(name, *args)


def _matmul(node: Node, args: list[Tensor], b: Backend) -> Tensor:
    import autodiff_cli.tensor as T

    x, y = args
    if x.ndim == 0 or y.ndim == 0:
        raise UsageError(f"shapes {x.shape} and {y.shape} cannot be multiplied: @ needs tensors with at least "
                         "one axis (multiply by a number with *)")
    inner_x = x.shape[-1]
    inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if inner_x != inner_y:
        raise UsageError(f"shapes {x.shape} and {y.shape} cannot be multiplied: @ needs {inner_x} == {inner_y}")
    rows = x.shape[:-1]
    cols = () if y.ndim == 1 else y.shape[-1:]
    try:
        batch = core.broadcast_shapes(rows[:-1], y.shape[:-2]) if y.ndim > 2 or x.ndim > 2 else ()
    except UsageError:
        raise UsageError(f"shapes {x.shape} and {y.shape} cannot be multiplied: @ needs batch shapes that "
                         "broadcast together") from None
    _check_size((*batch, *rows[-1:], *cols), "the result of @")
    return T.matmul(x, y)


def _transpose(node: Node, args: list[Tensor], b: Backend) -> Tensor:
    return args[0].T


def _index(node: Node, args: list[Tensor], b: Backend) -> Tensor:
    x = args[0]
    key, places = node.value
    if len(key) > x.ndim:
        raise UsageError(f"too many indices for a tensor of shape {x.shape}: {len(key)} given")
    for axis, k in enumerate(key):
        if isinstance(k, int) and not -x.shape[axis] <= k < x.shape[axis]:
            raise Misplaced(f"index {k} is out of range for axis {axis} of shape {x.shape} "
                            f"(size {x.shape[axis]}: {-x.shape[axis]} to {x.shape[axis] - 1})", places[axis])
    return x[key]


def _array(node: Node, args: list[Tensor], b: Backend) -> Tensor:
    import autodiff_cli.tensor as T

    first = args[0].shape
    for i, a in enumerate(args):
        if a.shape != first:
            raise UsageError(f"the elements of an array have one shape: [{i}] has shape {a.shape}, "
                             f"[0] has shape {first}")
    shape = (len(args), *first)
    limits.check("axes", len(shape), "an array in the expression has {size} axes")
    _check_size(shape, "the array")
    return T.stack(args, axis=0)


def _axis(x: Tensor, axis: Any, at: int) -> None:
    """A ShapeError-to-be for an axis out of range, in the words of the expression's axis=, caret under it."""
    for k in axis if isinstance(axis, tuple) else (axis,):
        if k is not None and not -x.ndim <= k < x.ndim:
            if x.ndim == 0:
                raise Misplaced(f"axis={k} is out of range: the tensor is a single number (shape ())", at)
            raise Misplaced(f"axis={k} is out of range for shape {x.shape}: "
                            f"the axes are {-x.ndim} to {x.ndim - 1}", at)


def _call(node: Node, args: list[Tensor], b: Backend) -> Tensor:
    import autodiff_cli.tensor as T

    name, options, places = node.value
    if name.startswith("table:"):
        return _table(Node("table", node.args, node.start, node.end, node.at, name[6:]), args, b)
    at = places.get("axis", node.at)  # the default axis of softmax has no place of its own: the function's
    if "axis" in options and name not in ("concat", "stack"):
        _axis(args[0], options["axis"], at)
    if name in ("sum", "mean", "prod", "max", "min", "logsumexp", "norm"):
        return getattr(T, name)(args[0], axis=options["axis"], keepdims=options["keepdims"])
    if name in ("softmax", "log_softmax"):
        return getattr(T, name)(args[0], axis=options["axis"])
    if name in ("concat", "stack"):
        ndim = args[0].ndim + (name == "stack")
        if not -ndim <= options["axis"] < ndim:
            raise Misplaced(f"axis={options['axis']} is out of range for {name} of shape {args[0].shape}: "
                            f"the axes are {-ndim} to {ndim - 1}", at)
        return (T.concatenate if name == "concat" else T.stack)(args, axis=options["axis"])
    if name == "outer":
        if args[0].ndim == 1 and args[1].ndim == 1:
            _check_size((args[0].size, args[1].size), "outer")
        return T.outer(*args)
    if name == "where":
        _check_size(core.broadcast_shapes(*(a.shape for a in args)), "where")
    if name == "reshape":
        return T.reshape(args[0], *options["shape"])
    if name == "T":
        return args[0].T
    if name in ("det", "inv", "logdet"):
        return getattr(T, name)(args[0])  # square matrices (lane tlinalg's tensor/linalg)
    return getattr(T, name)(*args)  # dot, trace, where


RUNS: dict[str, Run] = {
    "table": _table, "matmul": _matmul, "transpose": _transpose, "index": _index, "array": _array, "call": _call,
}
