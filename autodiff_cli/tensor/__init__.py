"""Tensors: n-dimensional arrays of doubles in the same reverse-mode graph idea as Value.

    from autodiff_cli.tensor import Tensor, randn, no_grad
    import autodiff_cli.tensor as T

    W = randn(3, 2, seed=0)                  # a leaf: it tracks its gradient
    x = Tensor([1.0, -2.0], requires_grad=False)
    loss = T.tanh(W @ x).sum()               # every function of the op table: T.exp, T.relu, x.tanh(), ...
    loss.backward()                          # W.grad is a Tensor of W's shape
    with no_grad():
        W -= 0.1 * W.grad

The rooms: tensor.py (the node and backward()), elementwise.py (the op table lifted),
reductions.py, shapes.py, linalg.py, softmax.py, creation.py, nested.py (lists in, text out),
and backends/ (the kernels, pure Python or NumPy).  This module gathers the public names and
attaches the operations to Tensor as methods (the operation modules import tensor.py, so
tensor.py cannot import them).  T.<name> for a function of the op table is made on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from . import elementwise, reductions, shapes
from .backends import available, set_backend, use_backend
from .backends import backend as current_backend
from .creation import arange, eye, full, ones, rand, randn, uniform, zeros
from .elementwise import apply
from .functional import hessian, jacobian  # whole Jacobians, exact Hessians (functional.py)
from .linalg import dot, matmul, norm, outer, trace
from .linsolve import det, inv, logdet, solve  # square matrices by Gaussian elimination (linsolve.py)
from .reductions import max, maximum, mean, min, minimum, prod, sum
from .shapes import (
    broadcast_to,
    clip,
    concatenate,
    expand,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    where,
)
from .softmax import log_softmax, logsumexp, softmax
from .tensor import Tensor, is_grad_enabled, no_grad

__all__ = [
    "Tensor", "apply", "arange", "available", "broadcast_to", "clip", "concat", "concatenate", "current_backend",
    "det", "dot", "expand", "eye", "full", "hessian", "inv", "is_grad_enabled", "jacobian",
    "log_softmax", "logdet", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "no_grad", "norm",
    "ones", "outer", "permute", "prod", "rand", "randn",
    "reshape", "set_backend", "softmax", "solve", "squeeze", "stack", "sum", "trace", "transpose", "uniform",
    "unsqueeze", "use_backend", "where", "zeros",
]

concat = concatenate  # PyTorch's other name


def __getattr__(name: str) -> Callable[..., Tensor]:
    """T.exp, T.atan2, T.ln, ...: every function (and alias) of the op table, elementwise (PEP 562)."""
    found = None if name.startswith("__") else elementwise.function(name)
    if found is None:
        raise AttributeError(f"module 'autodiff_cli.tensor' has no attribute {name!r}")
    return found


def __dir__() -> list[str]:
    from .. import ops

    return sorted({*globals(), *ops.OPS, *(a for op in ops.OPS.values() for a in op.aliases)})


# -- Tensor's methods ---------------------------------------------------------------------


def _in_place(name: str) -> Callable[[Tensor, Any], Tensor]:
    """x += y and the like: new values for x itself, allowed where no graph can be changed under its feet."""

    def method(self: Tensor, other: Any) -> Tensor:
        if not elementwise.is_operand(other):
            return NotImplemented
        if self.parents:
            raise UsageError(f"in-place {name} changes leaves only; this tensor is the result of {self.op}: "
                             "write x = x ... instead")
        if self.requires_grad and is_grad_enabled():
            raise UsageError(f"in-place {name} on a tensor that requires grad: do it inside `with no_grad():` "
                             "(an optimizer step), or write x = x ... to build the graph")
        with no_grad():
            new = elementwise.apply(name, self, other)
        if new.shape != self.shape:
            raise UsageError(f"in-place {name}: the result has shape {new.shape}, not the tensor's {self.shape}")
        self.data = new  # new values (tensors sharing the old ones keep them); graphs that read them are stale
        return self

    return method


def _table_method(self: Tensor, name: str) -> Callable[..., Tensor]:
    """x.tanh(), x.exp(), x.log(2), x.atan2(y): every function of the op table as a method."""
    return elementwise.method(self, name)


_METHODS: dict[str, Any] = {
    **elementwise.OPERATORS,
    "__matmul__": lambda self, other: matmul(self, other) if isinstance(other, Tensor) else NotImplemented,
    "__rmatmul__": lambda self, other: matmul(other, self) if isinstance(other, Tensor) else NotImplemented,
    "__getitem__": shapes.getitem,
    "__iadd__": _in_place("add"), "__isub__": _in_place("sub"), "__imul__": _in_place("mul"),
    "__itruediv__": _in_place("div"),
    "__getattr__": _table_method,
    "T": property(lambda self: transpose(self), doc="All axes reversed (the matrix transpose of a 2-D tensor)."),
    "sum": reductions.sum, "mean": reductions.mean, "max": reductions.max, "min": reductions.min,
    "prod": reductions.prod,
    "reshape": reshape, "view": reshape, "transpose": transpose, "permute": permute, "squeeze": squeeze,
    "unsqueeze": unsqueeze, "expand": expand, "broadcast_to": broadcast_to, "clip": clip, "clamp": clip,
    "matmul": matmul, "dot": dot, "norm": norm, "det": det, "inv": inv, "logdet": logdet,
    "softmax": softmax, "log_softmax": log_softmax, "logsumexp": logsumexp,
}
for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
del _name, _method
