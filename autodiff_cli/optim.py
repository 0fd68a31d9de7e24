"""Optimizers: SGD (with momentum) and Adam, following PyTorch's documented update rules.

Standard library and the engine only.  Each holds its parameters (Values) and a
little state per parameter; `step()` reads each `.grad` and updates `.data`.

    opt = Adam(model.parameters(), lr=0.01)
    for ...:
        opt.zero_grad(); loss = ...; loss.backward(); opt.step()
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .engine import Value

__all__ = ["SGD", "Adam", "Optimizer"]


class Optimizer:
    """Parameters and a learning rate; `lr` may be changed between steps (a schedule)."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(f"parameters are Values, not {type(p).__name__}")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("a parameter appears more than once")
        _check("lr", lr)
        self.lr = float(lr)
        self.steps = 0

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 (backward() adds to leaves' grads)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


def _check(name: str, value: float, upper: float | None = None) -> None:
    if not (math.isfinite(value) and value >= 0.0 and (upper is None or value < upper)):
        bound = f"in [0, {upper})" if upper is not None else "a finite number >= 0"
        raise ValueError(f"{name} must be {bound}, not {value!r}")


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD (dampening 0, no Nesterov):

        g = grad + weight_decay * p
        buf = g on the first step, then momentum * buf + g      (when momentum > 0)
        p = p - lr * buf                                        (p - lr * g without momentum)
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.buffers: list[float] | None = None  # momentum buffers, made on the first step

    def step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0.0:
            for p in self.params:
                p.data -= lr * (p.grad + wd * p.data if wd else p.grad)
        elif self.buffers is None:
            self.buffers = []
            for p in self.params:
                g = p.grad + wd * p.data if wd else p.grad
                self.buffers.append(g)
                p.data -= lr * g
        else:
            bufs = self.buffers
            for i, p in enumerate(self.params):
                g = p.grad + wd * p.data if wd else p.grad
                bufs[i] = buf = mu * bufs[i] + g
                p.data -= lr * buf
        self.steps += 1


class Adam(Optimizer):
    """Adam, as torch.optim.Adam (weight decay as L2: added to the gradient; no AMSGrad):

        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g            v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)                  v_hat = v / (1 - beta2^t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        _check("beta1", beta1, 1.0)
        _check("beta2", beta2, 1.0)
        _check("eps", eps)
        _check("weight_decay", weight_decay)
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        self.steps += 1
        t = self.steps
        (b1, b2), eps, wd = self.betas, self.eps, self.weight_decay
        # the bias corrections folded into a step size and a divisor, as PyTorch computes them
        step_size = self.lr / (1.0 - b1**t)
        root_c2 = math.sqrt(1.0 - b2**t)
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            m[i] = mi = b1 * m[i] + (1.0 - b1) * g
            v[i] = vi = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= step_size * mi / (math.sqrt(vi) / root_c2 + eps)
