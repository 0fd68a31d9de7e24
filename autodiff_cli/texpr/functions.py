"""The tensor language's functions and what the text alone decides about a call, an index or a literal.

Two kinds of function: the op table's (sin, tanh, max(a, b), log(x, b), ...), elementwise
with broadcasting, and the tensor functions below (reductions, linear algebra, shape
functions).  max and min are both: with one tensor they reduce (max(x), max(A, axis=0)),
with more arguments they are the table's elementwise max.  Keyword arguments take
numbers written in the expression (axis=0, axis=-1, axis=[0, 1], keepdims=1), since an
axis is part of the program, not a value with a gradient.
"""

from __future__ import annotations

from typing import Any, Protocol

from .. import limits, notation, ops
from ..errors import ParseError, shortened
from .nodes import Keyword, Node, Slice


class TensorBuilder(Protocol):
    """What these checks need of the builder (builder.py): an error at an offset, a node's text."""

    def error(self, message: str, offset: int) -> ParseError: ...

    def describe(self, node: Node) -> str: ...


class Spec:
    """A tensor function: how many tensors it takes, its keywords and their defaults, a one-line doc."""

    __slots__ = ("doc", "keywords", "least", "most")

    def __init__(self, least: int, most: int | None, keywords: dict[str, Any], doc: str) -> None:
        self.least, self.most, self.keywords, self.doc = least, most, keywords, doc

    def arity_text(self) -> str:
        if self.most is None:
            return f"{self.least} or more tensors"
        if self.least == self.most:
            return f"{self.least} tensor{'s' * (self.least != 1)}"
        return f"{self.least} to {self.most} tensors"


_REDUCE = {"axis": None, "keepdims": False}
SPECS: dict[str, Spec] = {
    "sum": Spec(1, 1, _REDUCE, "the sum of the elements (over all, or along axis=)"),
    "mean": Spec(1, 1, _REDUCE, "the mean of the elements (over all, or along axis=)"),
    "prod": Spec(1, 1, _REDUCE, "the product of the elements (over all, or along axis=)"),
    "max": Spec(1, 1, _REDUCE, "max(x): the largest element (or along axis=); max(a, b): elementwise"),
    "min": Spec(1, 1, _REDUCE, "min(x): the smallest element (or along axis=); min(a, b): elementwise"),
    "norm": Spec(1, 1, _REDUCE, "the 2-norm (Frobenius for a matrix; along axis= for one per row or column)"),
    "logsumexp": Spec(1, 1, _REDUCE, "log(sum(exp(x))), computed without overflow (over all, or along axis=)"),
    "softmax": Spec(1, 1, {"axis": -1}, "exp(x) / sum(exp(x)) along an axis (the last by default)"),
    "log_softmax": Spec(1, 1, {"axis": -1}, "x - logsumexp(x) along an axis (the last by default)"),
    "dot": Spec(2, 2, {}, "the dot product of two vectors of one length"),
    "outer": Spec(2, 2, {}, "the outer product of two vectors: outer(a, b)[i, j] = a[i]*b[j]"),
    "trace": Spec(1, 1, {}, "the sum of a matrix's diagonal"),
    "det": Spec(1, 1, {}, "the determinant of a square matrix"),
    "inv": Spec(1, 1, {}, "the inverse of a square matrix"),
    "logdet": Spec(1, 1, {}, "log(det(A)) of a square matrix with a positive determinant"),
    "T": Spec(1, 1, {}, "the transpose (all axes reversed), as x.T"),
    "reshape": Spec(1, 1, {}, "the same elements in another shape: reshape(x, 2, 3), reshape(x, [2, -1])"),
    "concat": Spec(1, None, {"axis": 0}, "tensors joined along an existing axis (axis=0 by default)"),
    "stack": Spec(1, None, {"axis": 0}, "tensors of one shape stacked along a new axis (axis=0 by default)"),
    "where": Spec(3, 3, {}, "where(c, a, b): a where c is not 0, else b (no gradient reaches c)"),
}

# PyTorch's spellings, read as NumPy's
KEYWORD_ALIASES = {"dim": "axis", "keepdim": "keepdims"}


def check_call(builder: TensorBuilder, spelt: str, args: list[Node], keywords: dict[str, Keyword],
               at: int) -> tuple[str, dict[str, Any]]:
    """(the function's name, its keyword values) for a call, or a ParseError saying what is wrong with it.

    The name is a tensor function's, or "table:<op>" for the op table's elementwise functions.
    """
    table = notation.function_name(spelt)
    if spelt in ("max", "min") and (len(args) >= 2 and not keywords):
        table = spelt
    elif spelt in SPECS:
        table = None
    if table is not None:
        op = ops.OPS[table]
        if keywords:
            first = next(iter(keywords.values()))
            raise builder.error(f"{spelt} takes no keyword arguments ({first.name}=): it works element by element",
                                first.at)
        counts = {op.arity, *(n for n, _ in op.spellings)}
        if len(args) not in counts and not (op.variadic and len(args) >= op.arity):
            wanted = " or ".join(str(c) for c in sorted(counts)) + (" or more" if op.variadic else "")
            raise builder.error(f"{spelt} takes {wanted} argument{'s' * (max(counts) != 1)}, got {len(args)}", at)
        return f"table:{op.name}", {}
    spec = SPECS.get(spelt)
    if spec is None:
        raise builder.error(f"unknown function {shortened(spelt)}{notation.suggestion(spelt)}", at)
    options = dict(spec.keywords)
    for name, keyword in keywords.items():
        if name not in spec.keywords:
            takes = ", ".join(f"{k}=" for k in spec.keywords) or "none"
            raise builder.error(f"{spelt} has no keyword argument {shortened(keyword.name)}= (it takes: {takes})",
                                keyword.at)
        options[name] = _keyword_value(builder, spelt, name, keyword)
    if spelt == "reshape":
        return spelt, {"shape": _shape(builder, args[1:], at)} if len(args) >= 2 else \
            _refuse(builder, "reshape takes a tensor and the new shape: reshape(x, 2, 3) or reshape(x, [2, 3])", at)
    if len(args) < spec.least or (spec.most is not None and len(args) > spec.most):
        hint = ""
        if spelt in ("sum", "mean", "prod", "norm", "logsumexp", "max", "min", "softmax", "log_softmax") \
                and len(args) == 2 and _integer(args[1]) is not None:
            hint = f": write the axis as {spelt}(x, axis={_integer(args[1])})"
        raise builder.error(f"{spelt} takes {spec.arity_text()}, got {len(args)}{hint}", at)
    return spelt, options


def _refuse(builder: TensorBuilder, message: str, at: int) -> Any:
    raise builder.error(message, at)


def _keyword_value(builder: TensorBuilder, function: str, name: str, keyword: Keyword) -> Any:
    value = keyword.value
    if name == "keepdims":
        number = _integer(value)
        if number not in (0, 1):
            raise builder.error(f"keepdims= is 0 or 1, not {builder.describe(value)}", value.start)
        return bool(number)
    number = _integer(value)
    if number is not None:
        return number
    if value.op == "literal" and len(value.value[1]) == 1 and function not in ("softmax", "log_softmax",
                                                                                "concat", "stack"):
        axes = [int(v) for v in value.value[0] if v == int(v)]
        if len(axes) == len(value.value[0]):
            if len(set(axes)) != len(axes):
                raise builder.error(f"axis={builder.describe(value)} names an axis twice", value.start)
            return tuple(axes)
    several = "" if function in ("softmax", "log_softmax", "concat", "stack") else " (or a list of them: [0, 1])"
    raise builder.error(f"axis= is a whole number written in the expression, like 0 or -1{several}, "
                        f"not {builder.describe(value)}", value.start)


def _integer(node: Node) -> int | None:
    """The whole number a node writes (2, -1, +3), or None if it is anything else."""
    sign = 1
    while node.op == "table" and node.value == "neg":
        sign, node = -sign, node.args[0]
    if node.op == "number" and node.value == int(node.value) and abs(node.value) < 2**53:
        return sign * int(node.value)
    return None


def _shape(builder: TensorBuilder, args: list[Node], at: int) -> tuple[int, ...]:
    """reshape's shape: whole numbers (reshape(x, 2, 3)) or one list of them (reshape(x, [2, 3]))."""
    if len(args) == 1 and args[0].op == "literal" and len(args[0].value[1]) == 1:
        sizes = [int(v) if v == int(v) else None for v in args[0].value[0]]
    else:
        sizes = [_integer(a) for a in args]
    if any(s is None for s in sizes):
        raise builder.error("reshape's shape is whole numbers written in the expression: reshape(x, 2, 3) "
                            "or reshape(x, [2, -1])", args[0].start)
    return tuple(int(s) for s in sizes if s is not None)


def subscript(builder: TensorBuilder, item: Node | Slice) -> int | slice:
    """An index's entry: a whole number, or a slice of whole numbers with a positive step."""
    if isinstance(item, Slice):
        parts: list[int | None] = []
        for part in item.parts:
            if part is None:
                parts.append(None)
                continue
            number = _integer(part)
            if number is None:
                raise builder.error(f"a slice's bounds are whole numbers written in the expression, "
                                    f"not {builder.describe(part)}", part.start)
            parts.append(number)
        if len(parts) == 3 and parts[2] is not None and parts[2] <= 0:
            what = "a slice's step cannot be 0" if parts[2] == 0 else \
                "negative steps (x[::-1]) are not supported: a slice's step is 1 or more"
            raise builder.error(what, item.parts[2].start if item.parts[2] is not None else item.at)
        return slice(*parts)
    number = _integer(item)
    if number is None:
        raise builder.error(f"an index is a whole number written in the expression, like 0 or -1, "
                            f"not {builder.describe(item)}", item.start)
    return number


def literal(builder: TensorBuilder, items: list[Node], at: int) -> tuple[list[float], tuple[int, ...]] | None:
    """An array written with numbers only, as (flat values, shape); None if an element is an expression.

    A ragged literal ([[1, 2], [3]]) is a ParseError under the odd row; the size and the number of
    axes obey the limits of bindings (limits.py: elements, axes).
    """
    parts: list[tuple[list[float], tuple[int, ...]]] = []
    for item in items:
        number = _constant_number(item)
        if number is not None:
            parts.append(([number], ()))
        elif item.op == "literal":
            parts.append(item.value)
        else:
            return None
    if not parts:
        return [], (0,)
    first = parts[0][1]
    for i, (_, shape) in enumerate(parts):
        if shape != first:
            raise builder.error(f"[{i}] {_items(shape)}, [0] {_items(first)}: the rows of an array have one "
                                "shape", items[i].start)
    shape = (len(parts), *first)
    limits.check("axes", len(shape), "an array in the expression has {size} axes")
    size = len(parts) * len(parts[0][0])
    limits.check("elements", size, "an array in the expression has {size} elements")
    flat = parts[0][0] if len(parts) == 1 else [v for values, _ in parts for v in values]
    return flat, shape


def _constant_number(node: Node) -> float | None:
    sign = 1.0
    while node.op == "table" and node.value == "neg":
        sign, node = -sign, node.args[0]
    if node.op == "number":
        return sign * node.value
    if node.op == "constant":  # pi, e
        return sign * node.value[1]
    return None


def _items(shape: tuple[int, ...]) -> str:
    if not shape:
        return "is a number"
    if len(shape) == 1:
        return f"has {shape[0]} item{'s' * (shape[0] != 1)}"
    return f"has shape {shape}"
