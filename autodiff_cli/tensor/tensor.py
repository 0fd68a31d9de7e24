"""The Tensor: an n-dimensional array of doubles in a reverse-mode graph, as Value is for one number.

A Tensor holds an array (the backend's own: see backends/__init__.py), and, when it
was made by an operation that needs a gradient, its parents, the operation's name,
what the operation's backward step needs (`saved`) and that step itself
(`backward_fn`).  Every operation has the same shape, in the modules beside this one:

    def softmax(x, axis):                                  # forward: backend kernels on arrays
        ...
        return node("softmax", (x,), s, _softmax_backward, axis)

    def _softmax_backward(node, g):                        # vector-Jacobian product, by hand:
        s, axis, b = node.array, node.saved, node.backend  # J^T g = s * (g - sum(g * s))
        gs = b.sum(kernel(b, "mul", g, s), (axis,), True)
        return [kernel(b, "mul", s, kernel(b, "sub", g, gs))]

`backward()` walks the graph once, in reverse topological order (no recursion), gives each
parent its part of the gradient, and adds what reaches a leaf into the leaf's `.grad`.
Leaves track their gradient by default, as a Value does; inside `no_grad()`, or when no
parent needs a gradient, an operation builds no graph at all.

The operations are attached to Tensor as methods in tensor/__init__.py (they import this
module, so it cannot import them).  Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .. import ops
from ..errors import UsageError
from . import backends, nested
from .backends import Backend, Shape

__all__ = ["Tensor", "broadcast_shapes", "common", "constant", "is_grad_enabled", "kernel", "no_grad", "node",
           "resolve_backend", "sum_to_shape"]

Array = Any  # the backend's own array
# A backward step: (the node, the gradient of the output) -> one gradient per parent (None: not needed)
Backward = Callable[["Tensor", Array], Sequence[Array | None]]

_GRAD_ENABLED = [True]
# The version check (PyTorch's): a backward step must read the values its forward used.  One clock counts
# the in-place writes of all tensors (x.data = ..., x -= ... under no_grad).  A tensor keeps the clock's
# reading when it was made (`made`) and at its last write (`written`); a node's input was changed after
# the node was made exactly when its `written` is later than the node's `made`.  In a training loop the
# updates come before the forward: the clock has not moved since any node was made, nothing to look at.
_WRITES = [0]


@contextmanager
def no_grad() -> Iterator[None]:
    """Operations inside the block build no graph (an optimizer's update, an evaluation); nests; a decorator too."""
    before = _GRAD_ENABLED[0]
    _GRAD_ENABLED[0] = False
    try:
        yield
    finally:
        _GRAD_ENABLED[0] = before


def is_grad_enabled() -> bool:
    return _GRAD_ENABLED[0]


def resolve_backend(backend: str | Backend | None) -> Backend:
    """A backend by name, as given, or the one in force (backends.backend())."""
    if backend is None:
        return backends.backend()
    if isinstance(backend, str):
        return backends.get(backend)
    return backend


class Tensor:
    """An n-dimensional array of doubles with a gradient, its parents and the operation that made it.

    Tensor([[1, 2], [3, 4]]), Tensor(3.0) (shape ()), Tensor(other_tensor, backend="numpy");
    requires_grad=False makes a constant.  See tensor/__init__.py for the whole API.
    """

    __slots__ = ("__weakref__", "_grad", "_requires_grad", "array", "backend", "backward_fn", "made", "op", "parents",
                 "saved", "shape", "written")
    __array_ufunc__ = None  # numpy_scalar * tensor: NumPy hands over to Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = True, backend: str | Backend | None = None) -> None:
        b = resolve_backend(backend if backend is not None or not isinstance(data, Tensor) else data.backend)
        if isinstance(data, Tensor):  # the values, not the graph; arrays are never written: share when we can
            array = data.array if data.backend is b else b.from_flat(data.backend.to_flat(data.array), data.shape)
        else:
            if hasattr(data, "tolist") and not isinstance(data, (list, tuple)):
                data = data.tolist()  # a NumPy array or scalar
            flat, shape = nested.flatten(data)
            array = b.from_flat(flat, shape)
        _fill(self, array, b, "var", (), None, None, bool(requires_grad))

    # -- what it is ------------------------------------------------------------

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for k in self.shape:
            n *= k
        return n

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor: settable on leaves (False makes a constant)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.parents:
            raise UsageError(f"requires_grad can be set on leaves only; this tensor is the result of {self.op}: "
                             "use .detach() for a copy without the graph")
        self._requires_grad = bool(value)

    @property
    def is_leaf(self) -> bool:
        return not self.parents

    @property
    def grad(self) -> Tensor | None:
        """The gradient backward() added up (a leaf's only: inner nodes keep none), None before any."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise UsageError(f"grad must be a Tensor or None, not {type(value).__name__}")
            if value.shape != self.shape:
                raise UsageError(f"a gradient of shape {value.shape} for a tensor of shape {self.shape}")
            common((self, value))
        self._grad = value

    @property
    def data(self) -> Tensor:
        """The values without the graph (a constant sharing them); `x.data = t` replaces the values."""
        return self.detach()

    @data.setter
    def data(self, value: Any) -> None:
        t = value if isinstance(value, Tensor) else Tensor(value, backend=self.backend)
        common((self, t))
        self.array, self.shape = t.array, t.shape
        _WRITES[0] += 1  # graphs built from the old values can no longer be differentiated
        self.written = _WRITES[0]

    def detach(self) -> Tensor:
        """A constant holding the same values (shared: no copy), outside the graph."""
        return constant(self.array, self.backend)

    def tolist(self) -> Any:
        """The values as nested lists of floats (a float for shape ())."""
        return nested.nest(self.backend.to_flat(self.array), self.shape)

    def item(self) -> float:
        """The one value of a one-element tensor."""
        if self.size != 1:
            raise UsageError(f"item() needs a one-element tensor; this one has shape {self.shape}")
        return self.backend.to_flat(self.array)[0]

    def numpy(self) -> Any:
        """The values as a NumPy array (the numpy backend's own array, shared: do not write into it)."""
        if self.backend.name != "numpy":
            raise UsageError(f"numpy() needs the numpy backend; this tensor is on {self.backend.name}: "
                             "use .tolist(), or Tensor(x, backend='numpy')")
        return self.array

    def __float__(self) -> float:
        return self.item()

    def __bool__(self) -> bool:
        return self.item() != 0.0

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[k] for k in range(len(self)))

    def __repr__(self) -> str:
        values = nested.text(self.backend.to_flat(self.array), self.shape)
        if self.parents:
            return f"Tensor({values}, op={self.op})"
        return f"Tensor({values})" if self.requires_grad else f"Tensor({values}, requires_grad=False)"

    # -- backward ----------------------------------------------------------------

    def backward(self, gradient: Any = None) -> None:
        """Reverse mode: add d(self)/d(leaf) (times `gradient`, for a tensor of several elements) to each leaf's grad.

        Gradients accumulate across calls, as in PyTorch (set x.grad = None between steps).
        Nothing changes unless the whole pass succeeds.  No recursion: graphs may be deep.
        """
        if not self.requires_grad:
            raise UsageError("this tensor does not require grad: it was made from constants (requires_grad=False) "
                             "or inside no_grad()")
        b = self.backend
        if gradient is None:
            if self.size != 1:
                raise UsageError("grad can be implicitly created only for a one-element tensor; this one has "
                                 f"shape {self.shape}: call .sum() first or pass gradient=")
            seed = b.full(self.shape, 1.0)
        else:
            given = gradient if isinstance(gradient, Tensor) else Tensor(gradient, backend=b)
            common((self, given))
            if given.shape != self.shape:
                raise UsageError(f"gradient has shape {given.shape}, but the tensor has shape {self.shape}")
            seed = given.array
        # 1. every node that needs a gradient, each after all of its parents
        order = _graph_order(self)
        now = _WRITES[0]
        for t in order:
            if t.made != now:  # something was written in place since t was made: was it what t reads?
                _check_unchanged(t)
        # 2. the chain rule from the output down: a node's gradient is complete once every consumer
        #    (later in the order) has added its part; then its backward step shares it among its parents
        #    (Tensors are keys by identity: Tensor defines no __eq__, so its hash is the object's own)
        grads: dict[Tensor, Array] = {self: seed}
        reached: list[tuple[Tensor, Array]] = []
        for t in reversed(order):
            g = grads.pop(t, None)
            if g is None:
                continue
            if not t.parents:
                reached.append((t, g))
                continue
            for parent, pg in zip(t.parents, t.backward_fn(t, g), strict=True):
                if pg is not None and parent._requires_grad:
                    grads[parent] = kernel(b, "add", grads[parent], pg) if parent in grads else pg
        # 3. only now, every step done, into the leaves (accumulating, as Value's grads do)
        for leaf, g in reached:
            if leaf._grad is None:
                leaf._grad = constant(g, b)
            else:
                leaf._grad.array = kernel(b, "add", leaf._grad.array, g)


def _check_unchanged(t: Tensor) -> None:
    """A backward step reads its parents' values: they must be those the forward used (PyTorch's version check)."""
    if not t.parents:
        return  # a leaf's values may change between graphs: only what a backward step reads must not
    for p in (*t.parents, t):  # the node's own output too
        if p.written > t.made:
            raise UsageError(f"a tensor of shape {p.shape} that the {t.op} node used was changed in place after the "
                             "graph was built (x -= ..., x.data = ...): compute the forward again, then backward()")


def _graph_order(root: Tensor) -> list[Tensor]:
    """Every node reachable from root that requires grad, each after all of its parents (iterative DFS)."""
    order: list[Tensor] = []
    seen = {root}
    stack = [(root, iter(root.parents))]
    while stack:
        t, parents = stack[-1]
        for p in parents:
            if p._requires_grad and p not in seen:
                seen.add(p)
                stack.append((p, iter(p.parents)))
                break
        else:  # every parent is in the order: t may follow them
            order.append(t)
            stack.pop()
    return order


# -- making nodes ------------------------------------------------------------------


def _fill(t: Tensor, array: Array, b: Backend, op: str, parents: tuple, saved: Any, fn: Backward | None,
          requires_grad: bool) -> Tensor:
    t.array = array  # read it; new values go through .data, which keeps shape and version right
    t.shape = b.shape(array)  # a tuple of ints, read often: kept rather than asked of the backend
    t.backend = b
    t.op = op
    t.parents = parents
    t.saved = saved
    t.backward_fn = fn
    t._requires_grad = requires_grad
    t._grad = None
    t.made = _WRITES[0]  # the clock of in-place writes, now (see _WRITES)
    t.written = 0  # the clock at its last in-place write: none yet
    return t


def constant(array: Array, b: Backend) -> Tensor:
    """A leaf that needs no gradient, around a backend array."""
    return _fill(object.__new__(Tensor), array, b, "var", (), None, None, False)


def node(op: str, parents: tuple[Tensor, ...], array: Array, backward: Backward, saved: Any = None) -> Tensor:
    """The result of an operation: a graph node when a parent needs a gradient (and no_grad() is off), else a constant.

    `saved` is what the backward step reads besides the parents' and the output's arrays.
    """
    b = parents[0].backend
    if _GRAD_ENABLED[0]:
        for p in parents:
            if p._requires_grad:
                return _fill(object.__new__(Tensor), array, b, op, parents, saved, backward, True)
    return constant(array, b)


def common(values: Sequence[Any], backend: Backend | None = None) -> tuple[list[Tensor], Backend]:
    """The arguments of an operation as Tensors on one backend: numbers (and nested lists) become constants.

    Tensors on two backends are a UsageError naming both.
    """
    b = backend
    all_tensors = True
    for v in values:
        if isinstance(v, Tensor):
            if b is None:
                b = v.backend
            elif v.backend is not b:  # an error, unless a backend adopts the other's tensors (hessian's own)
                adopt = getattr(b, "adopt", None) or getattr(v.backend, "adopt", None)
                if adopt is None:
                    raise UsageError(f"tensors on two backends in one operation: {b.name} and {v.backend.name} "
                                     f"(move one: Tensor(x, backend={b.name!r}))")
                return adopt(values)
        else:
            all_tensors = False
    if b is None:
        b = backends.backend()
    if all_tensors:  # the usual case (x @ W + b): nothing to convert
        return list(values), b
    return [v if isinstance(v, Tensor) else _constant_from(v, b) for v in values], b


def _constant_from(value: Any, b: Backend) -> Tensor:
    """A number, nested lists or a NumPy array as a constant (the 1 of 1 - x: one full(), no flattening)."""
    data = value.tolist() if hasattr(value, "tolist") else value
    if not isinstance(data, (list, tuple)):
        return constant(b.full((), nested.number(data)), b)
    flat, shape = nested.flatten(data)
    return constant(b.from_flat(flat, shape), b)


def kernel(b: Backend, name: str, *arrays: Array) -> Array:
    """A table operation on backend arrays, no graph: kernel(b, "mul", x, y).  Backward steps are written with it."""
    return b.apply(ops.OPS[name], arrays)


# -- broadcasting, and its backward in one place ---------------------------------------


_BROADCAST: dict[tuple[Shape, ...], Shape] = {}  # shapes -> their broadcast shape, as found before


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy's rule: align at the right; each dimension equal, or 1 (which stretches), or missing.

    A training loop meets the same few combinations every step: each is worked out once (_broadcast_shapes)
    and then looked up.
    """
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return shapes[0]  # the usual case, and the quickest: equal shapes broadcast to themselves
    found = _BROADCAST.get(shapes)
    if found is None:
        found = _broadcast_shapes(shapes)  # a UsageError if they do not broadcast (not remembered)
        if len(_BROADCAST) < 1024:  # a bounded memory: a program that meets many shapes just works them out
            _BROADCAST[shapes] = found
    return found


def _broadcast_shapes(shapes: tuple[Shape, ...]) -> Shape:
    ndim = max(len(s) for s in shapes)
    out = []
    for k in range(-ndim, 0):
        sizes = {s[k] for s in shapes if len(s) >= -k} - {1}
        if len(sizes) > 1:
            raise UsageError(f"shapes {' and '.join(str(s) for s in shapes)} cannot be broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def sum_to_shape(b: Backend, g: Array, shape: Shape) -> Array:
    """The backward of broadcasting: g summed over the axes that were added or stretched, so it has `shape` again.

    An input of shape (3, 1) broadcast to (2, 3, 4) was used 2 * 4 times per element: its gradient
    is the sum of those uses, over axis 0 (added) and axis 2 (stretched from 1).
    """
    gshape = b.shape(g)
    if gshape == shape:
        return g
    added = len(gshape) - len(shape)
    if gshape[added:] == shape:  # only axes added in front (the bias of x @ W + b): summed away, nothing kept
        return b.sum(g, tuple(range(added)), False)
    axes = tuple(range(added)) + tuple(added + k for k, n in enumerate(shape) if n == 1 and gshape[added + k] != 1)
    return b.reshape(b.sum(g, axes, True), shape)
