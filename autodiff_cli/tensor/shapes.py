"""Shape operations: the same numbers in another arrangement, and their backward (the arrangement undone).

reshape's backward reshapes the gradient back; permute's permutes it back with the
inverse permutation; broadcasting's sums it over the stretched axes; indexing's adds it
into zeros at the indexed places (backend.index_add); concatenate's cuts it into the
pieces; where's sends each element's gradient to the side that was chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import UsageError
from .tensor import Array, Tensor, broadcast_shapes, common, kernel, node, sum_to_shape

__all__ = ["axis_index", "broadcast_to", "clip", "concatenate", "expand", "getitem", "normalise_axes", "permute",
           "reshape", "shape_argument", "squeeze", "stack", "transpose", "unsqueeze", "where"]


def axis_index(axis: int, ndim: int) -> int:
    """A possibly negative axis as a position in 0 .. ndim - 1 (NumPy's rule), or a UsageError."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise UsageError(f"an axis is a whole number, not {axis!r}")
    if not -ndim <= axis < ndim:
        raise UsageError(f"axis {axis} is out of range for a tensor with {ndim} axes")
    return axis % ndim


def normalise_axes(axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """axis=None (all), an int or a tuple of ints, as sorted distinct non-negative axes (as the kernels take them)."""
    if axis is None:
        return tuple(range(ndim))
    listed = [axis] if isinstance(axis, int) else list(axis)
    axes = sorted(axis_index(a, ndim) for a in listed)
    if len(set(axes)) != len(axes):
        raise UsageError(f"axis {tuple(listed)} names an axis twice")
    return tuple(axes)


def shape_argument(shape: tuple) -> tuple[int, ...]:
    """reshape(2, 3) or reshape((2, 3)): the sizes as a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        raise UsageError(f"a shape is whole numbers, not {shape!r}")
    return tuple(shape)


# -- the same elements, another shape ------------------------------------------------------


def _reshape_backward(node: Tensor, g: Array) -> list[Array]:
    return [node.backend.reshape(g, node.parents[0].shape)]  # the gradient in the input's shape again


def _reshaped(op: str, x: Tensor, shape: tuple[int, ...]) -> Tensor:
    return node(op, (x,), x.backend.reshape(x.array, shape), _reshape_backward)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in row-major order, in another shape; one size may be -1 (inferred)."""
    given = shape_argument(shape)
    sizes = list(given)
    if sizes.count(-1) > 1 or any(n < -1 for n in sizes):
        raise UsageError(f"cannot reshape into {given}: sizes are >= 0, with at most one -1")
    if -1 in sizes:  # the size that makes the count right
        known = _count([n for n in sizes if n != -1])
        if known == 0 or x.size % known:
            raise UsageError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {given}")
        sizes[sizes.index(-1)] = x.size // known
    if _count(sizes) != x.size:
        raise UsageError(f"cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {given}")
    return _reshaped("reshape", x, tuple(sizes))


def _count(shape: Sequence[int]) -> int:
    n = 1
    for k in shape:
        n *= k
    return n


def squeeze(x: Tensor, axis: int | Sequence[int] | None = None) -> Tensor:
    """Without the axes of size 1 (all of them, or those named: each must have size 1)."""
    if axis is None:
        axes = tuple(k for k, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalise_axes(axis, x.ndim)
        for k in axes:
            if x.shape[k] != 1:
                raise UsageError(f"cannot squeeze axis {k} of shape {x.shape}: its size is {x.shape[k]}, not 1")
    return _reshaped("squeeze", x, tuple(n for k, n in enumerate(x.shape) if k not in axes))


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    """With a new axis of size 1 at `axis` (-1: at the end)."""
    k = axis_index(axis, x.ndim + 1)
    return _reshaped("unsqueeze", x, (*x.shape[:k], 1, *x.shape[k:]))


def _permute_backward(node: Tensor, g: Array) -> list[Array]:
    axes = node.saved
    inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))  # axis k went to position axes.index(k)
    return [node.backend.permute(g, inverse)]


def permute(x: Tensor, *axes: Any) -> Tensor:
    """The axes reordered: result.shape[k] == x.shape[axes[k]]."""
    order = tuple(axis_index(a, x.ndim) for a in shape_argument(axes))
    if sorted(order) != list(range(x.ndim)):
        raise UsageError(f"permute needs each of the {x.ndim} axes once, got {tuple(shape_argument(axes))}")
    return node("permute", (x,), x.backend.permute(x.array, order), _permute_backward, order)


def transpose(x: Tensor, *axes: Any) -> Tensor:
    """All axes reversed (x.T); transpose(a, b) swaps two axes (PyTorch), a full permutation reorders them (NumPy)."""
    if not axes:
        return permute(x, tuple(reversed(range(x.ndim))))
    given = shape_argument(axes)
    if len(given) == 2 and x.ndim != 2:
        a, b = (axis_index(k, x.ndim) for k in given)
        order = list(range(x.ndim))
        order[a], order[b] = order[b], order[a]
        return permute(x, tuple(order))
    return permute(x, given)


def _expand_backward(node: Tensor, g: Array) -> list[Array]:
    return [sum_to_shape(node.backend, g, node.parents[0].shape)]


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """x stretched to `shape` by NumPy's rules (no copy where the backend can); its gradient is summed back."""
    (x,), b = common([x])
    target = shape_argument((shape,))
    if any(n < 0 for n in target):
        raise UsageError(f"a shape has sizes >= 0, not {target} (expand's -1 keeps an existing size only)")
    try:
        fits = broadcast_shapes(x.shape, target) == target
    except UsageError:
        fits = False
    if not fits:
        raise UsageError(f"a tensor of shape {x.shape} cannot be broadcast to {target}")
    return node("expand", (x,), b.broadcast_to(x.array, target), _expand_backward)


def expand(x: Tensor, *shape: Any) -> Tensor:
    """PyTorch's expand: broadcast_to, where -1 keeps a size."""
    sizes = shape_argument(shape)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise UsageError(f"expand needs at least {x.ndim} sizes for shape {x.shape}, got {sizes}")
    return broadcast_to(x, tuple(x.shape[k - lead] if n == -1 and k >= lead else n for k, n in enumerate(sizes)))


# -- indexing ------------------------------------------------------------------------------


def _index(x: Tensor, key: Any) -> tuple[tuple, tuple[int, ...]]:
    """The key as the kernels take it (one int or normalised slice per axis) and where None adds axes."""
    key = key if isinstance(key, tuple) else (key,)
    if sum(k is Ellipsis for k in key) > 1:
        raise UsageError("an index can have only one ...")
    used = sum(1 for k in key if k is not None and k is not Ellipsis)
    if used > x.ndim:
        raise UsageError(f"too many indices for a tensor of shape {x.shape}: {used} given")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (x.ndim - used) + key[at + 1 :]
    index: list = []
    new_axes: list[int] = []  # positions in the result where None puts an axis of size 1
    axis = kept = 0  # the axis of x the next entry indexes; the result's axes so far
    for k in key:
        if k is None:
            new_axes.append(kept)
            kept += 1
            continue
        size = x.shape[axis]
        if isinstance(k, slice):
            start, stop, step = k.indices(size)
            if step < 0:
                raise UsageError("negative steps are not supported in a tensor index")
            index.append(slice(start, max(start, stop), step))
            kept += 1
        elif isinstance(k, int) and not isinstance(k, bool):
            if not -size <= k < size:
                raise UsageError(f"index {k} is out of range for axis {axis} with size {size}")
            index.append(k % size)
        else:
            raise UsageError(f"a tensor index is ints, slices, ... and None, not {type(k).__name__}")
        axis += 1
    index.extend(slice(0, n, 1) for n in x.shape[axis:])
    return tuple(index), tuple(new_axes)


def _getitem_backward(node: Tensor, g: Array) -> list[Array]:
    index, shape = node.saved
    b = node.backend
    return [b.index_add(node.parents[0].shape, index, b.reshape(g, shape))]


def getitem(x: Tensor, key: Any) -> Tensor:
    """x[0], x[:, 1], x[1:3], x[0, -1], x[..., 0], x[None]: a part of x (its gradient goes back to that part)."""
    index, new_axes = _index(x, key)
    b = x.backend
    out = b.getitem(x.array, index)
    shape = b.shape(out)
    if new_axes:
        full = list(shape)
        for k in new_axes:
            full.insert(k, 1)
        out = b.reshape(out, tuple(full))
    return node("getitem", (x,), out, _getitem_backward, (index, shape))


# -- joining ---------------------------------------------------------------------------


def _concatenate_backward(node: Tensor, g: Array) -> list[Array | None]:
    axis = node.saved
    b = node.backend
    shape, start, parts = b.shape(g), 0, []
    for p in node.parents:
        n = p.shape[axis]
        index = tuple(slice(start, start + n, 1) if k == axis else slice(0, size, 1) for k, size in enumerate(shape))
        parts.append(b.getitem(g, index) if p.requires_grad else None)
        start += n
    return parts


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along an existing axis; the other sizes must agree."""
    ts, b = common(list(tensors))
    if not ts:
        raise UsageError("concatenate needs at least one tensor")
    first = ts[0].shape
    if not first:
        raise UsageError("a 0-d tensor cannot be concatenated: stack it instead")
    k = axis_index(axis, len(first))
    for t in ts[1:]:
        if len(t.shape) != len(first) or t.shape[:k] + t.shape[k + 1 :] != first[:k] + first[k + 1 :]:
            raise UsageError(f"shapes {first} and {t.shape} cannot be concatenated along axis {axis}")
    return node("concatenate", tuple(ts), b.concatenate([t.array for t in ts], k), _concatenate_backward, k)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors (all of one shape) joined along a new axis: concatenate of each with that axis added."""
    ts, _ = common(list(tensors))
    if not ts:
        raise UsageError("stack needs at least one tensor")
    for t in ts[1:]:
        if t.shape != ts[0].shape:
            raise UsageError(f"stack needs tensors of one shape: {ts[0].shape} and {t.shape}")
    k = axis_index(axis, ts[0].ndim + 1)
    return concatenate([unsqueeze(t, k) for t in ts], k)


# -- choosing elements ---------------------------------------------------------------------


def _where_backward(node: Tensor, g: Array) -> list[Array | None]:
    cond, a, c = node.parents
    b = node.backend
    zero = b.full((), 0.0)
    ga = sum_to_shape(b, b.where(cond.array, g, zero), a.shape) if a.requires_grad else None
    gc = sum_to_shape(b, b.where(cond.array, zero, g), c.shape) if c.requires_grad else None
    return [None, ga, gc]  # the condition is a choice, not a number: no gradient


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """a where cond is nonzero (or True), else b, the three broadcast together; cond is never differentiated."""
    (c, x, y), bk = common([cond, a, b])
    shape = broadcast_shapes(c.shape, x.shape, y.shape)
    out = bk.where(c.array, x.array, y.array)
    if bk.shape(out) != shape:
        out = bk.broadcast_to(out, shape)
    if c.requires_grad:  # the condition takes part, but no gradient reaches it
        c = c.detach()
    return node("where", (c, x, y), out, _where_backward)


def _clip_backward(node: Tensor, g: Array) -> list[Array]:
    inside = node.saved  # 1.0 where lo <= x <= hi, as torch.clamp: the bounds themselves pass the gradient
    return [kernel(node.backend, "mul", g, inside)]


def clip(x: Tensor, lo: float | None = None, hi: float | None = None) -> Tensor:
    """x with every element held in [lo, hi] (either bound may be None); gradient 1 inside, 0 outside."""
    b = x.backend
    out, inside = x.array, b.full(x.shape, 1.0)
    if lo is not None and hi is not None and lo > hi:
        raise UsageError(f"clip: the lower bound {lo} is above the upper bound {hi}")
    for bound, relation in ((lo, ">="), (hi, "<=")):
        if bound is None:
            continue
        (limit,), _ = common([bound], b)
        keep = b.compare(relation, x.array, limit.array)
        out = b.where(keep, out, b.broadcast_to(limit.array, x.shape))
        inside = kernel(b, "mul", inside, keep)
    return node("clip", (x,), out, _clip_backward, inside)
