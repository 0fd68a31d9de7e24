"""Arrays as text: NumPy's layout for small arrays, their edges and shape for large ones, one-line JSON,
and the names of single elements (x[0], A[1,0]).

Plain Python in, text out: an array is given as its flat row-major values and its shape (what
`backend.to_flat(t.array)` and `t.shape` give), so this room needs no Tensor and loads nothing.

    >>> print(array_text([1.5, -2.0, 3.0, 4.0], (2, 2)))
    [[ 1.5 -2.0]
     [ 3.0  4.0]]

Every number is written in full precision (the shortest text that reads back as the same double),
as everywhere else in autodiff's output, and the numbers of one array are aligned on their decimal
point, as NumPy aligns them: a column of an array reads as a column.  An array of more than SMALL
numbers is summarised the way NumPy summarises one of more than 1,000: EDGE items at each end of
every axis, '...' between them, to SUMMARY_DIGITS significant digits, after a line that gives its
shape and says that --json has every number in full.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .columns import number, signed, width

__all__ = ["EDGE", "SMALL", "SUMMARY_DIGITS", "array_block", "array_text", "element_label", "element_labels",
           "is_small", "json_line", "labelled", "nested", "shape_text", "size_of"]

Shape = tuple[int, ...]

SMALL = 100  # numbers an array may have to be printed whole as text (a 10 x 10 matrix); --json prints any
EDGE = 3  # items kept at each end of an axis when an array is summarised (NumPy's edgeitems)
SUMMARY_DIGITS = 8  # significant digits of the numbers of a summary (NumPy prints 8 by default)


def size_of(shape: Sequence[int]) -> int:
    """How many numbers an array of this shape holds (1 for shape ())."""
    n = 1
    for k in shape:
        n *= k
    return n


def is_small(shape: Sequence[int]) -> bool:
    """Whether an array of this shape is printed whole as text."""
    return size_of(shape) <= SMALL


def shape_text(shape: Sequence[int]) -> str:
    """A shape as Python writes a tuple: (), (3,), (3, 2)."""
    return str(tuple(shape))


def nested(flat: Sequence[float], shape: Sequence[int]) -> Any:
    """Flat row-major values as nested lists of this shape: a float for shape (), [[], []] for (2, 0)."""
    if not shape:
        return float(flat[0])
    if 0 in shape:
        return _empty(tuple(shape))
    items: list[Any] = [float(x) for x in flat]
    for size in reversed(shape[1:]):  # the innermost axis first: group its rows
        items = [items[k : k + size] for k in range(0, len(items), size)]
    return items


def _empty(shape: Shape) -> Any:
    """Nested empty lists for a shape with a 0: [[], []] for (2, 0), [] for (0, 3)."""
    if not shape or shape[0] == 0:
        return []
    return [_empty(shape[1:]) for _ in range(shape[0])]


def json_line(flat: Sequence[float], shape: Sequence[int]) -> str:
    """The values as JSON on one line, [[1.0, 2.0], [3.0, 4.0]]: text that reads back as the same doubles
    (autodiff grad ... --x "$(autodiff eval ...)" binds them again).  A number alone for shape ()."""
    if not shape:
        return number(flat[0])
    return json.dumps(nested(flat, shape), allow_nan=False)


def element_label(name: str, index: Sequence[int]) -> str:
    """One element's name: x[0], A[1,0]; the name alone for a 0-d array (index ())."""
    if not index:
        return name
    return f"{name}[{','.join(str(k) for k in index)}]"


def element_labels(name: str, shape: Sequence[int]) -> list[str]:
    """Every element's name in row-major order (the last index moving fastest): A[0,0], A[0,1], A[1,0], ..."""
    labels = []
    for flat_index in range(size_of(shape)):
        index = []
        for size in reversed(shape):
            flat_index, k = divmod(flat_index, size)
            index.append(k)
        labels.append(element_label(name, index[::-1]))
    return labels


# -- NumPy's layout ---------------------------------------------------------------------------


def _split(text: str) -> tuple[str, str]:
    """A number's text around its decimal point (or its exponent): '-2.5' -> ('-2', '.5'), '1e-20' -> ('1', 'e-20')."""
    for mark in (".", "e"):
        at = text.find(mark)
        if at >= 0:
            return text[:at], text[at:]
    return text, ""


def _kept(n: int, summarise: bool, edge: int) -> list[int]:
    """The indices shown along an axis of n items: all, or the edges with -1 where '...' stands."""
    if not summarise or n <= 2 * edge:
        return list(range(n))
    return [*range(edge), -1, *range(n - edge, n)]


def array_text(flat: Sequence[float], shape: Sequence[int], summarise: bool | None = None, edge: int = EDGE,
               digits: int | None = None) -> str:
    """The array laid out as NumPy prints it, rows under rows and the numbers aligned on their decimal point.

    summarise: show only `edge` items at each end of each axis (default: when the array is not small).
    digits: significant digits of each number (default: all, the shortest text that reads back).
    A 0-d array is its number.
    """
    shape = tuple(shape)
    write = number if digits is None else (lambda x: _rounded(x, digits))
    if not shape:
        return write(flat[0])
    if summarise is None:
        summarise = not is_small(shape)
    strides = [1] * len(shape)
    for axis in range(len(shape) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * shape[axis + 1]
    # the numbers shown, and how wide each half of them is, so that every decimal point lines up
    shown = _shown_positions(shape, strides, summarise, edge)
    halves = [_split(write(flat[p])) for p in shown]
    left = max((width(a) for a, _ in halves), default=0)
    right = max((width(b) for _, b in halves), default=0)
    cells = {p: a.rjust(left) + b.ljust(right) for p, (a, b) in zip(shown, halves, strict=True)}

    def block(axis: int, offset: int) -> list[str]:
        """The lines of the sub-array at `offset` from this axis on, without the indentation NumPy adds."""
        if axis == len(shape) - 1:
            items = ["..." if k < 0 else cells[offset + k * strides[axis]]
                     for k in _kept(shape[axis], summarise, edge)]
            return ["[" + " ".join(items) + "]"]
        lines: list[str] = []
        kept = _kept(shape[axis], summarise, edge)
        blank = len(shape) - axis - 2  # blank lines between blocks: none between rows, one between matrices
        for i, k in enumerate(kept):
            if i:
                lines.extend([""] * blank)
            if k < 0:
                lines.append("...")
                continue
            lines.extend(block(axis + 1, offset + k * strides[axis]))
        if not lines:  # an axis of size 0
            return ["[]"]
        # '[' opens this axis before its first line; the lines after it move one column right, under it
        framed = ["[" + lines[0]] + [(" " + line) if line else "" for line in lines[1:]]
        framed[-1] += "]"
        return framed

    return "\n".join(line.rstrip() for line in block(0, 0))


def _rounded(x: float, digits: int) -> str:
    """x to this many significant digits, as Python writes a float: 0.12345679, 123.0, 1.2345679e-05."""
    return repr(float(f"{x:.{digits}g}"))


def _shown_positions(shape: Shape, strides: list[int], summarise: bool, edge: int) -> list[int]:
    """The flat positions of the numbers an array's text shows (all, or its edges), in order."""
    positions = [0]
    for axis, size in enumerate(shape):
        kept = [k for k in _kept(size, summarise, edge) if k >= 0]
        positions = [p + k * strides[axis] for p in positions for k in kept]
    return positions


def array_block(flat: Sequence[float], shape: Sequence[int]) -> str:
    """A value as a command prints it: a number (signed, so that it lines up with others), a small array
    whole, or a large one's shape and edges, saying where every value is."""
    shape = tuple(shape)
    if not shape:
        return signed(flat[0])
    if is_small(shape):
        return array_text(flat, shape)
    header = f"shape {shape_text(shape)}, {size_of(shape):,} numbers, the edges to {SUMMARY_DIGITS} digits " \
             "(--json prints every one in full):"
    return header + "\n" + array_text(flat, shape, summarise=True, digits=SUMMARY_DIGITS)


def labelled(rows: Sequence[tuple[str, str]], gap: str = "  ") -> str:
    """Labels in a column, each beside its text; a text of several lines keeps them under its first.

        value  14.0
        ∂/∂x   [[1.0 2.0]
                [3.0 4.0]]
    """
    pad = max((width(label) for label, _ in rows), default=0)
    lines = []
    for label, text in rows:
        first, *rest = text.split("\n") or [""]
        lines.append((label + " " * (pad - width(label)) + gap + first).rstrip())
        lines += [(" " * (pad + len(gap)) + line).rstrip() if line else "" for line in rest]
    return "\n".join(lines)
