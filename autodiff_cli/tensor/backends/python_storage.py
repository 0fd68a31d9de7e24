"""How the pure-Python backend stores an n-dimensional array: a flat buffer, a shape and strides.

An array of shape (2, 3) holds its six doubles in one flat ``array('d')`` buffer (8 bytes
each, not a Python float object per element), row after row.  Where element [i, j] lives
is told by the *strides*, one per axis: how far to step in the buffer to move one place
along that axis.  For a fresh (2, 3) array they are (3, 1), and

    position of [i, j] = offset + i * strides[0] + j * strides[1]

That one formula makes most shape operations free, with no value copied (a *view*):

- transpose / permute reorders the strides: the transpose of a (2, 3) array with strides
  (3, 1) is a (3, 2) array with strides (1, 3) on the same buffer;
- broadcasting gives a stretched axis the stride 0: a row (3,) seen as (4, 3) has strides
  (0, 1), so every one of the 4 rows reads the same 3 numbers;
- a slice moves the offset and multiplies a stride (``a[1:, ::2]``), an integer index moves
  the offset and drops the axis;
- reshape of an array whose elements sit in row-major order only recomputes the strides.

Kernels that want the values in row-major order call ``flat()`` (``contiguous()`` for an
array): it gathers them with one slice per run of the last axis, ``buffer[start:stop:step]``,
never an index per element.  This is minitorch's design (tensor_data.py), in the standard library.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import chain, repeat

from ...errors import UsageError

__all__ = [
    "Storage", "broadcast_shape", "broadcast_to", "contiguous", "flat", "getitem", "operand", "permute",
    "reshape", "row_major_strides", "runs", "size_of",
]

Shape = tuple[int, ...]


class Storage:
    """An n-dimensional array of doubles: a flat buffer read through a shape, strides and an offset.

    Several Storages may share one buffer (views); none of the backend's kernels writes into a
    buffer once the array is made, so sharing is safe.
    """

    __slots__ = ("offset", "shape", "strides", "values")

    def __init__(self, values: array, shape: Shape, strides: Shape | None = None, offset: int = 0) -> None:
        self.values = values  # array('d'): the flat buffer, possibly shared with other views
        self.shape = shape
        self.strides = row_major_strides(shape) if strides is None else strides
        self.offset = offset

    @property
    def size(self) -> int:
        return size_of(self.shape)

    def __repr__(self) -> str:
        return f"Storage({flat(self).tolist()}, shape={self.shape}, strides={self.strides}, offset={self.offset})"


def size_of(shape: Sequence[int]) -> int:
    """The number of elements of a shape: the product of its sizes (1 for the shape () of a scalar)."""
    n = 1
    for k in shape:
        n *= k
    return n


def row_major_strides(shape: Sequence[int]) -> Shape:
    """The strides of a fresh array: the last axis steps by 1, each axis before by the size of all after it.

    (2, 3, 4) -> (12, 4, 1).
    """
    strides = []
    step = 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


# -- broadcasting ---------------------------------------------------------------------


def broadcast_shape(*shapes: Shape) -> Shape:
    """The shape arrays of these shapes broadcast to, by NumPy's rule.

    Align the shapes at the right; in each column the sizes must be equal or 1, and a 1
    stretches to the other size: (3, 1) and (4,) give (3, 4).  A missing axis counts as 1.
    """
    ndim = max(len(s) for s in shapes)
    result = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            named = " and ".join(str(s) for s in shapes)
            raise UsageError(f"shapes {named} cannot be broadcast together")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def broadcast_to(a: Storage, shape: Shape) -> Storage:
    """A view of `a` stretched to `shape`: each axis added on the left or stretched from 1 gets the stride 0.

    Nothing is copied: with stride 0, moving along that axis stays on the same numbers.
    """
    if a.shape == shape:
        return a
    extra = len(shape) - len(a.shape)
    if extra < 0 or broadcast_shape(a.shape, shape) != shape:
        raise UsageError(f"shapes {a.shape} and {shape} cannot be broadcast together")
    strides = [0] * extra
    for n, target, stride in zip(a.shape, shape[extra:], a.strides, strict=True):
        strides.append(stride if n == target else 0)
    return Storage(a.values, shape, tuple(strides), a.offset)


def operand(a: Storage, shape: Shape) -> array:
    """The values of `a` broadcast to `shape`, in row-major order, for a kernel to map over.

    The cheap cases first: the same shape is the array's own values; one number is that
    number repeated (one C call); anything else is gathered from a stride-0 view.
    """
    if a.shape == shape:
        return flat(a)
    if size_of(a.shape) == 1:
        return array("d", (a.values[a.offset],)) * size_of(shape)
    return flat(broadcast_to(a, shape))


# -- reading the values in row-major order --------------------------------------------


def axes_as_walked(a: Storage) -> list[tuple[int, int]]:
    """The array's axes as (size, stride), merged where they step through the buffer as one.

    Axes of size 1 are left out; an axis whose stride is exactly the span of the next one
    (a row-major block, or two broadcast axes of stride 0) joins it: a contiguous (2, 3)
    array is walked as one axis (6, 1), a scalar broadcast to (4, 5) as (20, 0).
    """
    merged: list[tuple[int, int]] = []
    for n, s in zip(a.shape, a.strides, strict=True):
        if n == 1:
            continue
        if merged and merged[-1][1] == s * n:  # the axis before steps over exactly this whole axis
            merged[-1] = (merged[-1][0] * n, s)
        else:
            merged.append((n, s))
    return merged


def runs(a: Storage) -> tuple[list[int], int, int]:
    """The array's elements as runs along its last (merged) axis: (starts, length, step).

    Run r holds buffer[starts[r] + k * step] for k < length; the runs in order are the
    elements in row-major order; a contiguous array is one run.
    """
    return _runs(a.offset, axes_as_walked(a))


def _runs(offset: int, axes: list[tuple[int, int]]) -> tuple[list[int], int, int]:
    if not axes:
        return [offset], 1, 1
    starts = [offset]
    for n, s in axes[:-1]:
        starts = [p + k * s for p in starts for k in range(n)]
    length, step = axes[-1]
    return starts, length, step


def flat(a: Storage) -> array:
    """The values in row-major order as an array('d'): the buffer itself when it already is that.

    The result may be the array's own buffer: callers read it and never write into it.
    """
    if a.size == 0:
        return array("d")
    axes = axes_as_walked(a)
    if len(axes) == 1 and axes[0][1] == 1 and a.offset == 0 and axes[0][0] == len(a.values):
        return a.values  # already row-major, the whole buffer
    return _gather(a.values, a.offset, axes)


def _gather(values: array, offset: int, axes: list[tuple[int, int]]) -> array:
    """The values the axes walk from offset, in row-major order, by slices of the buffer.

    Broadcasting repeats values, and array repetition does it in C: a first axis of
    stride 0 (a row stretched down a matrix) repeats the whole block below it, a last
    axis of stride 0 (a column stretched along the rows) repeats each value in turn.
    """
    if not axes:
        return values[offset : offset + 1]
    if axes[0][1] == 0:
        return _gather(values, offset, axes[1:]) * axes[0][0]
    if axes[-1][1] == 0:
        each, times = _gather(values, offset, axes[:-1]), axes[-1][0]
        return array("d", list(chain.from_iterable(map(repeat, each, repeat(times, len(each))))))
    starts, length, step = _runs(offset, axes)
    if len(starts) == 1:
        return values[offset : offset + (length - 1) * step + 1 : step]
    out = array("d")
    span = (length - 1) * step + 1
    for start in starts:
        out.extend(values[start : start + span : step])
    return out


def contiguous(a: Storage) -> Storage:
    """An array with the same values laid out row-major from offset 0 (`a` itself when it already is)."""
    values = flat(a)
    if values is a.values and a.strides == row_major_strides(a.shape):
        return a
    return Storage(values, a.shape)


# -- views -------------------------------------------------------------------------------


def reshape(a: Storage, shape: Shape) -> Storage:
    """The same values in a new shape: a view when they sit in row-major order, else a copy."""
    if size_of(shape) != a.size:
        raise UsageError(f"cannot reshape an array of shape {a.shape} ({a.size} elements) into shape {shape}")
    if a.size == 0:
        return Storage(array("d"), shape)
    starts, length, step = runs(a)
    if len(starts) == 1 and (step == 1 or length == 1):  # one block of the buffer: only the strides change
        return Storage(a.values, shape, row_major_strides(shape), starts[0])
    return Storage(flat(a), shape)


def permute(a: Storage, axes: Sequence[int]) -> Storage:
    """Axes reordered, result.shape[k] == a.shape[axes[k]]: the strides are reordered, nothing is copied."""
    if sorted(axes) != list(range(len(a.shape))):
        raise UsageError(f"axes {tuple(axes)} are not a permutation of the {len(a.shape)} axes of shape {a.shape}")
    return Storage(a.values, tuple(a.shape[k] for k in axes), tuple(a.strides[k] for k in axes), a.offset)


def getitem(a: Storage, index: Sequence[object]) -> Storage:
    """a[index], a view: an int moves the offset and drops its axis; slice(start, stop, step) moves the
    offset by start steps and multiplies the stride by step; None adds an axis of size 1."""
    offset = a.offset
    shape: list[int] = []
    strides: list[int] = []
    axis = 0
    for entry in index:
        if entry is None:
            shape.append(1)
            strides.append(0)
            continue
        if axis >= len(a.shape):
            raise UsageError(f"too many indices for an array of shape {a.shape}")
        n, s = a.shape[axis], a.strides[axis]
        if isinstance(entry, slice):
            start, stop, step = entry.indices(n)
            shape.append(len(range(start, stop, step)))
            strides.append(s * step)
            offset += start * s if shape[-1] else 0
        else:
            k = int(entry)  # type: ignore[call-overload]
            if not -n <= k < n:
                raise UsageError(f"index {k} is out of range for axis {axis} with size {n}")
            offset += (k % n) * s
        axis += 1
    shape.extend(a.shape[axis:])
    strides.extend(a.strides[axis:])
    return Storage(a.values, tuple(shape), tuple(strides), offset)
