"""Optimizers on tensors: SGD (momentum, dampening, Nesterov, weight decay), Adam and AdamW.

Each step is torch.optim's documented algorithm, in its order of operations, on whole
arrays: an optimizer holds the parameters (leaf Tensors) and a little state per parameter
(a momentum buffer, Adam's two moving averages), and step() reads each .grad and replaces
the parameter's values, under no_grad() (an update is not part of any graph).

    opt = optim.Adam(model.parameters(), lr=1e-3)
    for X, y in batches:
        opt.zero_grad()
        loss = losses.cross_entropy(model(X), y)
        loss.backward()
        opt.step()

A parameter whose .grad is None (nothing reached it) is skipped and its state left alone,
as PyTorch does.  state_dict() gives the hyperparameters and the state as plain numbers and
nested lists (JSON can hold it); load_state_dict() puts it back, so a run can rewind.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from .. import ops
from ..errors import UsageError
from .tensor import Array, Tensor, constant, no_grad

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]

_ADD, _SUB, _MUL, _DIV, _SQRT = (ops.OPS[name] for name in ("add", "sub", "mul", "div", "sqrt"))


class Optimizer:
    """The parameters, the hyperparameters (`lr` may change between steps: a schedule) and per-parameter state."""

    # the names of the per-parameter state arrays (each of the parameter's shape), in state_dict()'s order
    buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise UsageError("the optimizer got no parameters")
        for k, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise UsageError(f"parameters are Tensors, not {type(p).__name__} (parameter {k})")
            if not p.is_leaf or not p.requires_grad:
                raise UsageError(f"parameter {k} (shape {p.shape}) is not a leaf that requires grad: "
                                 "an optimizer updates leaves (model.parameters())")
        if len({id(p) for p in self.params}) != len(self.params):
            raise UsageError("a parameter appears more than once")
        self.lr = _number("lr", lr)
        # per parameter: the number of steps it took (PyTorch counts per parameter) and its buffers
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (grad = None, PyTorch's default): backward() adds to what is there."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        with no_grad():
            for p, state in zip(self.params, self.state, strict=True):
                if p.grad is not None:
                    new = self.update(p.backend, p.array, p.grad.array, state)
                    p.data = constant(new, p.backend)

    def update(self, b: Any, p: Array, g: Array, state: dict[str, Any]) -> Array:
        """The parameter's new values from its values p and gradient g (backend arrays); updates `state`."""
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        values = self.hyperparameters().items()
        settings = ", ".join(f"{k}={tuple(v) if isinstance(v, list) else v!r}" for k, v in values)
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"

    # -- rewinding ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """{"hyperparameters": {...}, "state": [per parameter: {"step": n, buffer: nested lists}]}, a copy."""
        state = []
        for p, s in zip(self.params, self.state, strict=True):
            entry: dict[str, Any] = {}
            for key, value in s.items():
                entry[key] = value if key == "step" else constant(value, p.backend).tolist()
            state.append(entry)
        return {"hyperparameters": self.hyperparameters(), "state": state}

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        """Put back what state_dict() gave (for the same parameters): checked whole before anything changes."""
        try:
            hyper, entries = dict(d["hyperparameters"]), list(d["state"])
        except (KeyError, TypeError):
            raise UsageError("an optimizer state has 'hyperparameters' and 'state'") from None
        if len(entries) != len(self.params):
            raise UsageError(f"the state is for {len(entries)} parameters, this optimizer has {len(self.params)}")
        new = []
        for k, (p, entry) in enumerate(zip(self.params, entries, strict=True)):
            s: dict[str, Any] = {}
            for key, value in dict(entry).items():
                if key == "step":
                    s[key] = int(value)
                elif key in self.buffers:
                    t = Tensor(value, requires_grad=False, backend=p.backend)
                    if t.shape != p.shape:
                        raise UsageError(f"{key} of parameter {k} has shape {t.shape}, the parameter {p.shape}")
                    s[key] = t.array
                else:
                    raise UsageError(f"unknown state {key!r} for {type(self).__name__}")
            new.append(s)
        fresh = type(self)(self.params, **hyper)  # the hyperparameters checked as the constructor checks them
        vars(self).update({k: v for k, v in vars(fresh).items() if k not in ("params", "state")})
        self.state = new


def _number(name: str, value: float, upper: float | None = None) -> float:
    """A hyperparameter: a finite number >= 0 (and below `upper` where there is one)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number, not {value!r}") from None
    if not (math.isfinite(x) and x >= 0.0 and (upper is None or x < upper)):
        bound = f"in [0, {upper})" if upper is not None else "a finite number >= 0"
        raise UsageError(f"{name} must be {bound}, not {value!r}")
    return x


def _k(b: Any, x: float) -> Array:
    """A number as a 0-d backend array, to broadcast against a parameter."""
    return b.full((), x)


class SGD(Optimizer):
    """Stochastic gradient descent, torch.optim.SGD's algorithm (t counts this parameter's steps):

        g = grad + weight_decay * p                          (when weight_decay != 0)
        buf = g                                  at t = 1    (when momentum != 0)
        buf = momentum * buf + (1 - dampening) * g   after
        g = g + momentum * buf   with nesterov, else   g = buf
        p = p - lr * g

    Nesterov needs momentum > 0 and dampening 0, as in PyTorch.
    """

    buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        self.momentum = _number("momentum", momentum)
        self.dampening = _number("dampening", dampening)
        self.weight_decay = _number("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise UsageError("Nesterov momentum needs momentum > 0 and dampening 0")

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}

    def update(self, b: Any, p: Array, g: Array, state: dict[str, Any]) -> Array:
        mu = self.momentum
        if self.weight_decay != 0.0:
            g = b.apply(_ADD, (g, b.apply(_MUL, (_k(b, self.weight_decay), p))))
        state["step"] = state.get("step", 0) + 1
        if mu != 0.0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = g
            else:
                buf = b.apply(_ADD, (b.apply(_MUL, (_k(b, mu), buf)), b.apply(_MUL, (_k(b, 1.0 - self.dampening), g))))
            state["momentum_buffer"] = buf
            g = b.apply(_ADD, (g, b.apply(_MUL, (_k(b, mu), buf)))) if self.nesterov else buf
        return b.apply(_SUB, (p, b.apply(_MUL, (_k(b, self.lr), g))))


class Adam(Optimizer):
    """Adam (Kingma and Ba), torch.optim.Adam's algorithm; t counts this parameter's steps:

        g = grad + weight_decay * p                          (L2 in the gradient; AdamW decouples it)
        m = beta1 * m + (1 - beta1) * g                      (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)                            (the bias corrections: early m, v are
        v_hat = v / (1 - beta2^t)                             too small, pulled towards their 0 start)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    computed as PyTorch computes it: step_size = lr / (1 - beta1^t) and
    denominator = sqrt(v) / sqrt(1 - beta2^t) + eps, then p - step_size * m / denominator.
    """

    buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise UsageError(f"betas is a pair (beta1, beta2), not {betas!r}") from None
        self.betas = (_number("beta1", beta1, 1.0), _number("beta2", beta2, 1.0))
        self.eps = _number("eps", eps)
        self.weight_decay = _number("weight_decay", weight_decay)

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps, "weight_decay": self.weight_decay}

    def update(self, b: Any, p: Array, g: Array, state: dict[str, Any]) -> Array:
        if self.weight_decay != 0.0:
            g = b.apply(_ADD, (g, b.apply(_MUL, (_k(b, self.weight_decay), p))))
        return self._adam(b, p, g, state)

    def _adam(self, b: Any, p: Array, g: Array, state: dict[str, Any]) -> Array:
        beta1, beta2 = self.betas
        t = state["step"] = state.get("step", 0) + 1
        m, v = state.get("exp_avg"), state.get("exp_avg_sq")
        if m is None:  # both start at zero
            m = v = b.full(b.shape(p), 0.0)
        m = b.apply(_ADD, (b.apply(_MUL, (_k(b, beta1), m)), b.apply(_MUL, (_k(b, 1.0 - beta1), g))))
        v = b.apply(_ADD, (b.apply(_MUL, (_k(b, beta2), v)),
                           b.apply(_MUL, (_k(b, 1.0 - beta2), b.apply(_MUL, (g, g))))))
        state["exp_avg"], state["exp_avg_sq"] = m, v
        step_size = self.lr / (1.0 - beta1**t)
        root_c2 = math.sqrt(1.0 - beta2**t)
        denominator = b.apply(_ADD, (b.apply(_DIV, (b.apply(_SQRT, (v,)), _k(b, root_c2))), _k(b, self.eps)))
        return b.apply(_SUB, (p, b.apply(_MUL, (_k(b, step_size), b.apply(_DIV, (m, denominator))))))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), torch.optim.AdamW's algorithm:

        p = p - lr * weight_decay * p       (computed as PyTorch does: p * (1 - lr * weight_decay))
        then Adam's step on the plain gradient (no weight decay in g, m or v)

    The decay shrinks every weight by the same factor whatever its gradient's history; in Adam
    the L2 term passes through m / sqrt(v) and is scaled down where gradients are large.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def update(self, b: Any, p: Array, g: Array, state: dict[str, Any]) -> Array:
        if self.weight_decay != 0.0:
            p = b.apply(_MUL, (p, _k(b, 1.0 - self.lr * self.weight_decay)))
        return self._adam(b, p, g, state)
