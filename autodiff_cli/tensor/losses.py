"""Losses on tensors: mse, cross_entropy, bce_with_logits and hinge, each a mean and a 0-d Tensor.

Predictions are Tensors (the output of a model); targets are Tensors or nested lists of
numbers, on the predictions' backend.  Shapes must match as documented: a (N, 1) output
against (N,) targets would broadcast to (N, N) and quietly compute something else, so it
is an error here (write `.reshape(-1)`), where PyTorch only warns.

- mse(pred, target) = mean((pred - target)^2)
- cross_entropy(logits (N, C), target) = mean over N of -sum_c p_c log softmax(z)_c, target
  class indices (N,) (p the one-hot rows) or probabilities (N, C); also (C,) and one target.
- bce_with_logits(z, y) = mean(max(z, 0) - z y + log(1 + exp(-|z|))), labels y in [0, 1]
- hinge(s, y) = mean(relu(1 - y s)), labels -1 and +1 (micrograd's moons demo)

The two built on logs are single graph nodes with their gradients worked out by hand, both
simple and both exact where a chain of table operations is not:

    d cross_entropy / d z = (softmax(z) * sum_c p_c - p) / N      (softmax(z) - p for p summing to 1)
    d bce_with_logits / d z = (sigmoid(z) - y) / N

Nothing overflows: log softmax is z - logsumexp(z), with the row's maximum taken out first;
max(z, 0) + log(1 + exp(-|z|)) is log(1 + exp(z)) (the table's softplus) with no exp of a
large number.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import UsageError
from .reductions import mean
from .tensor import Array, Tensor, common, kernel, node

__all__ = ["bce_with_logits", "cross_entropy", "hinge", "mse"]


def _pair(name: str, pred: Any, target: Any) -> tuple[Tensor, Tensor]:
    """The prediction and the target as tensors on one backend, of one shape, not empty."""
    (p, t), _ = common([pred, target])
    if p.shape != t.shape:
        hint = " (reshape one: pred.reshape(-1))" if p.size == t.size else ""
        raise UsageError(f"{name}: the prediction has shape {p.shape} and the target {t.shape}; they must "
                         f"be equal{hint}")
    if p.size == 0:
        raise UsageError(f"{name} of no examples (shape {p.shape}) has no value")
    return p, t


def mse(pred: Any, target: Any) -> Tensor:
    """Mean squared error: mean((pred - target)^2), over every element."""
    p, t = _pair("mse", pred, target)
    d = p - t
    return mean(d * d)


def hinge(scores: Any, labels: Any) -> Tensor:
    """The max-margin loss: mean(relu(1 - y * s)), labels -1 and +1.  Zero once every y * s >= 1."""
    s, y = _pair("hinge", scores, labels)
    values = set(y.backend.to_flat(y.array))
    if not values <= {-1.0, 1.0}:
        raise UsageError(f"hinge labels are -1 and +1, not {min(values - {-1.0, 1.0})!r}")
    return mean((1.0 - y * s).relu())


# -- binary cross-entropy from logits ------------------------------------------------------


def _bce_backward(node: Tensor, g: Array) -> list[Array | None]:
    """dL/dz = (sigmoid(z) - y) / n,  dL/dy = -z / n (when the labels need a gradient too)."""
    z, y = node.parents
    b = node.backend
    scale = kernel(b, "div", g, b.full((), float(z.size)))  # the upstream gradient and the mean's 1/n
    gz = kernel(b, "mul", kernel(b, "sub", kernel(b, "sigmoid", z.array), y.array), scale) if z.requires_grad else None
    gy = kernel(b, "mul", kernel(b, "neg", z.array), scale) if y.requires_grad else None
    return [gz, gy]


def bce_with_logits(logits: Any, labels: Any) -> Tensor:
    """Binary cross-entropy of sigmoid(z) against labels y in [0, 1], from the logits z, as one node.

    -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] = log(1 + exp(z)) - y z
                                                    = max(z, 0) - y z + log(1 + exp(-|z|))
    and the last form never overflows and never takes the log of a sigmoid rounded to 0.
    """
    z, y = _pair("bce_with_logits", logits, labels)
    b = z.backend
    flat = b.to_flat(y.array)
    if not all(0.0 <= v <= 1.0 for v in flat):
        raise UsageError(f"bce_with_logits labels are in [0, 1], not {next(v for v in flat if not 0.0 <= v <= 1.0)!r}")
    terms = kernel(b, "sub", kernel(b, "softplus", z.array), kernel(b, "mul", y.array, z.array))
    out = kernel(b, "div", b.sum(terms, tuple(range(z.ndim)), False), b.full((), float(z.size)))
    return node("bce_with_logits", (z, y), out, _bce_backward)


# -- cross-entropy from logits ----------------------------------------------------------------


def _log_softmax_rows(b: Any, z: Array) -> Array:
    """z - logsumexp(z) along the last axis: the row's maximum m out first, so exp(z - m) <= 1."""
    m = b.max(z, (1,), True)
    shifted = kernel(b, "sub", z, m)
    return kernel(b, "sub", shifted, kernel(b, "log", b.sum(kernel(b, "exp", shifted), (1,), True)))


def _cross_entropy_backward(node: Tensor, g: Array) -> list[Array | None]:
    """With o = log_softmax(z) (saved) and L = -sum(p * o) / N:

        dL/dz = (softmax(z) * sum_c p_c - p) / N      (softmax = exp(o); softmax - p for rows of p summing to 1)
        dL/dp = -o / N                                 (when the target probabilities need a gradient)
    """
    o, p, rows, shape = node.saved
    b = node.backend
    scale = kernel(b, "div", g, b.full((), float(rows)))
    grads: list[Array | None] = [None] * len(node.parents)
    if node.parents[0].requires_grad:
        softmax = kernel(b, "exp", o)
        mass = b.sum(p, (1,), True)  # 1 for one-hot rows and proper distributions
        gz = kernel(b, "mul", kernel(b, "sub", kernel(b, "mul", softmax, mass), p), scale)
        grads[0] = b.reshape(gz, shape)
    if len(node.parents) == 2 and node.parents[1].requires_grad:
        grads[1] = b.reshape(kernel(b, "mul", kernel(b, "neg", o), scale), shape)
    return grads


def cross_entropy(logits: Any, target: Any) -> Tensor:
    """Softmax cross-entropy from logits, the mean over examples (PyTorch's F.cross_entropy).

    logits: (N, C), or (C,) for one example.  target: class indices, (N,) (a Tensor of whole
    numbers or a list of ints; one int for (C,) logits), or probabilities of logits' shape
    (each row a distribution over the C classes; a gradient flows to it if it requires one).
    loss = mean over n of -sum_c p[n, c] * log_softmax(z[n])_c, one node; see the module.
    """
    (z,), b = common([logits])
    if z.ndim not in (1, 2) or z.size == 0:
        raise UsageError(f"cross_entropy takes logits of shape (N, C) or (C,), not {z.shape}")
    classes = z.shape[-1]
    zr = z.array if z.ndim == 2 else b.reshape(z.array, (1, classes))
    rows = b.shape(zr)[0]
    (t,), _ = common([target], b) if not isinstance(target, Tensor) else ([target], b)
    if t.backend is not b:
        common([z, t])  # the error naming both backends
    if t.shape == z.shape:  # probabilities, a row per example
        p = t.array if z.ndim == 2 else b.reshape(t.array, (1, classes))
        parents: tuple[Tensor, ...] = (z, t)
    else:  # class indices: the one-hot rows, compared at once (class k == target n)
        p = _one_hot(b, t, z.shape, classes)
        parents = (z,)
    o = _log_softmax_rows(b, zr)
    out = kernel(b, "div", kernel(b, "neg", b.sum(kernel(b, "mul", p, o), (0, 1), False)), b.full((), float(rows)))
    return node("cross_entropy", parents, out, _cross_entropy_backward, (o, p, rows, z.shape))


def _one_hot(b: Any, target: Tensor, shape: tuple[int, ...], classes: int) -> Array:
    """(N, C) with 1.0 at [n, target[n]]: checked to be whole numbers in 0..C-1, one per example."""
    want = shape[:-1]
    if target.shape != want:
        also = f" or probabilities of shape {shape}"
        raise UsageError(f"cross_entropy: logits of shape {shape} take class indices of shape {want}{also}, "
                         f"not {target.shape}")
    values = b.to_flat(target.array)
    for k, v in enumerate(values):
        if not (v == math.floor(v) and 0 <= v < classes):
            where = f" at [{k}]" if target.shape else ""
            raise UsageError(f"cross_entropy: target {v:g}{where} is not a class index 0..{classes - 1}")
    column = b.reshape(target.array, (len(values), 1))
    row = b.from_flat([float(c) for c in range(classes)], (1, classes))
    return b.compare("==", column, row)  # 1.0 where the class is the target, else 0.0
