"""Nested Python lists and flat row-major values: reading a tensor's data in, writing it out for repr.

`Tensor([[1, 2], [3, 4]])` reads its argument here: every row of a level must have as
many items as the first, every item must be a finite number (bool counts, as in
PyTorch: True is 1.0), and a mistake is named by where it is ("row [1] has 2 items,
row [0] has 3").  Iterative, so a deep list cannot exhaust the stack.  Standard library only.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from ..errors import UsageError

__all__ = ["flatten", "nest", "number", "text"]

Shape = tuple[int, ...]


def number(value: Any, where: str = "") -> float:
    """A Python number (int, float, bool, a NumPy scalar) as a finite double, or a UsageError saying why not."""
    at = f"element {where} " if where else ""
    if isinstance(value, (str, bytes)) or not isinstance(value, Real):
        raise UsageError(f"{at}is {value!r} ({type(value).__name__}): a tensor holds numbers")
    try:
        x = float(value)
    except OverflowError:
        raise UsageError(f"{at}is too large for a double: a tensor holds finite numbers") from None
    if not math.isfinite(x):
        raise UsageError(f"{at}is {x!r}: a tensor holds finite numbers")
    return x


def _label(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(k) for k in index) + "]"


def flatten(data: Any) -> tuple[list[float], Shape]:
    """Nested lists (or tuples) of numbers as (flat row-major values, shape); a number has shape ()."""
    if not isinstance(data, (list, tuple)):
        return [number(data)], ()
    # The shape is read along the first items; every other row is then checked against it.
    shape: list[int] = []
    probe: Any = data
    while isinstance(probe, (list, tuple)):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat: list[float] = []
    stack: list[tuple[Any, tuple[int, ...]]] = [(data, ())]
    while stack:
        item, index = stack.pop()
        depth = len(index)
        if depth == len(shape):
            if isinstance(item, (list, tuple)):
                raise UsageError(f"element {_label(index)} is a list where element {_label((0,) * depth)} "
                                 "is a number: every row needs the same depth")
            flat.append(number(item, _label(index)))
            continue
        if not isinstance(item, (list, tuple)):
            raise UsageError(f"element {_label(index)} is a number where element {_label((0,) * depth)} is a list: "
                             "every row needs the same depth")
        if len(item) != shape[depth]:
            first = _label((0,) * depth)
            count = f"{len(item)} item{'s' if len(item) != 1 else ''}"
            raise UsageError(f"row {_label(index)} has {count}, row {first} has {shape[depth]}")
        stack.extend((item[k], (*index, k)) for k in reversed(range(len(item))))
    return flat, tuple(shape)


def nest(flat: list[float], shape: Shape) -> Any:
    """Flat row-major values as nested lists of this shape (a float for shape ())."""
    if not shape:
        return flat[0]
    if 0 in shape:
        return _empty(shape)
    rows: list[Any] = list(flat)
    for size in reversed(shape[1:]):  # group the innermost axis first
        rows = [rows[k : k + size] for k in range(0, len(rows), size)]
    return rows


def _empty(shape: Shape) -> Any:
    """Nested lists for a shape with a 0 in it: [[], []] for (2, 0)."""
    if not shape or shape[0] == 0:
        return [] if shape else 0.0
    return [_empty(shape[1:]) for _ in range(shape[0])]


def text(flat: list[float], shape: Shape, edge: int = 3, limit: int = 1000) -> str:
    """The values as nested lists for repr; past `limit` elements only `edge` rows at each end of an axis."""
    if not shape:
        return repr(flat[0])
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    short = len(flat) > limit

    def part(axis: int, offset: int) -> str:  # recursion as deep as the tensor has axes
        n = shape[axis]
        keep = list(range(n)) if not short or n <= 2 * edge else [*range(edge), -1, *range(n - edge, n)]
        items = []
        for k in keep:
            if k < 0:
                items.append("...")
            elif axis == len(shape) - 1:
                items.append(repr(flat[offset + k]))
            else:
                items.append(part(axis + 1, offset + k * strides[axis]))
        sep = ", " if axis == len(shape) - 1 else ",\n" + " " * (axis + 8)
        return "[" + sep.join(items) + "]"

    return part(0, 0)
