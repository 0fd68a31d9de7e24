"""Neural networks on tensors: Module, Linear, activations, Sequential and MLP, PyTorch's way.

The scalar autodiff_cli.nn builds one Value per weight and per product; here a layer is one
node: y = x @ W.T + b for the whole batch at once.  The pieces are PyTorch's, with its names:

    from autodiff_cli.tensor import nn
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)   # Linear, ReLU, Linear, ReLU, Linear
    scores = model(X)                       # X: (N, 2) -> (N, 1)
    [name for name, _ in model.named_parameters()]
    # ['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']

- Module: what has parameters (leaf Tensors held as attributes, and sub-modules): parameters(),
  named_parameters() with PyTorch's dotted names, zero_grad(), state_dict() / load_state_dict().
- Linear(nin, nout): weight (nout, nin) and bias (nout,), PyTorch's default initialisation
  (see Linear), drawn from a seeded random.Random so that runs repeat on either backend.
- Activation(name): any one-argument function of the op table, applied elementwise; Tanh(),
  ReLU(), Sigmoid() are the usual three by name.
- Sequential(*modules): each module's output is the next one's input.
- MLP(nin, sizes): a Sequential of Linear layers with an activation between them, the last
  layer linear (logits or a regression output).  Its parameter names are those of PyTorch's
  nn.Sequential(nn.Linear(...), nn.Tanh(), nn.Linear(...)), so weights can move between the two.

`linear(x, weight, bias)` is the layer's one graph node, with its backward written beside it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .. import ops
from ..errors import UsageError
from .backends import Backend
from .creation import uniform
from .elementwise import apply
from .tensor import Array, Tensor, common, node, resolve_backend

__all__ = ["MLP", "Activation", "Linear", "Module", "ReLU", "Sequential", "Sigmoid", "Tanh", "linear"]


# -- the layer's node: y = x @ W.T + b, forward and backward ---------------------------------


def _linear_backward(node: Tensor, g: Array) -> list[Array | None]:
    """The three gradients of y = x @ W.T + b, for g = dL/dy of shape (N, nout):

        dL/dx = g @ W            (N, nout) @ (nout, nin)  -> (N, nin)
        dL/dW = g.T @ x          (nout, N) @ (N, nin)     -> (nout, nin)
        dL/db = sum of g over N  (each b[j] was added to every row)
    """
    x, w = node.parents[0], node.parents[1]
    b = node.backend
    rows, shape = node.saved  # x as the matrix (N, nin) the product used, and the shape x came in
    g = b.reshape(g, (b.shape(rows)[0], w.shape[0]))  # (N, nout), whatever leading axes x had
    gx = b.reshape(b.matmul(g, w.array), shape) if x.requires_grad else None
    gw = b.matmul(b.permute(g, (1, 0)), rows) if w.requires_grad else None
    grads = [gx, gw]
    if len(node.parents) == 3:
        grads.append(b.sum(g, (0,), False) if node.parents[2].requires_grad else None)
    return grads


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias in one node (PyTorch's torch.nn.functional.linear).

    x: (nin,), (N, nin) or (..., nin); weight: (nout, nin); bias: (nout,) or None.  The result
    has x's leading axes and nout last.  One node instead of three (a transpose, a matmul and a
    broadcast add) is a third of the bookkeeping per layer, forward and backward: a moons epoch
    on the numpy backend takes a fifth less time than with `x @ weight.T + bias`.
    """
    parents, b = common([x, weight] if bias is None else [x, weight, bias])
    t, w = parents[0], parents[1]
    if w.ndim != 2 or (bias is not None and parents[2].shape != w.shape[:1]):
        raise UsageError(f"linear takes a weight of shape (nout, nin) and a bias of shape (nout,), not {w.shape} "
                         f"and {parents[2].shape if bias is not None else None}")
    nout, nin = w.shape
    if not t.shape or t.shape[-1] != nin:
        raise UsageError(f"a linear layer with {nin} inputs takes tensors of shape (N, {nin}) or ({nin},), "
                         f"not {t.shape}")
    lead = t.shape[:-1]
    rows = t.array if len(t.shape) == 2 else b.reshape(t.array, (math.prod(lead), nin))
    out = b.matmul(rows, b.permute(w.array, (1, 0)))
    if bias is not None:
        out = b.apply(_ADD, (out, parents[2].array))  # (N, nout) + (nout,): the bias broadcast over the rows
    if len(lead) != 1:
        out = b.reshape(out, (*lead, nout))
    return node("linear", tuple(parents), out, _linear_backward, (rows, t.shape))


_ADD = ops.OPS["add"]


# -- modules ------------------------------------------------------------------------------


class Module:
    """Something with parameters: a layer, an activation (none), a network.

    A module's parameters are the Tensors it holds as attributes, and those of the modules it
    holds, found in the order they were assigned (as PyTorch registers them), named with dots:
    "0.weight" is the weight of the first module of a Sequential.
    """

    def __call__(self, x: Any) -> Tensor:
        return self.forward(x)

    def forward(self, x: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The sub-modules held as attributes, in the order they were set."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(dotted name, tensor) for every parameter: this module's own first, then each child's."""
        found = [(name, value) for name, value in vars(self).items() if isinstance(value, Tensor)]
        for prefix, child in self.named_children():
            found.extend((f"{prefix}.{name}", p) for name, p in child.named_parameters())
        return found

    def parameters(self) -> list[Tensor]:
        """The parameters, for an optimizer: optim.Adam(model.parameters())."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (grad = None: backward() adds to what is there)."""
        for p in self.parameters():
            p.grad = None

    def state_dict(self) -> dict[str, Any]:
        """The parameters' values as nested lists of floats, by dotted name (plain data: JSON can hold it)."""
        return {name: p.tolist() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Put values from state_dict() (or PyTorch's, as lists) back: every name present, every shape equal."""
        params = dict(self.named_parameters())
        missing, unknown = sorted(params.keys() - state.keys()), sorted(state.keys() - params.keys())
        if missing or unknown:
            raise UsageError(f"the state does not fit this model: missing {missing or 'nothing'}, "
                             f"unexpected {unknown or 'nothing'}")
        new = {}
        for name, p in params.items():
            t = Tensor(state[name], requires_grad=False, backend=p.backend)
            if t.shape != p.shape:
                raise UsageError(f"{name}: the state has shape {t.shape}, the model {p.shape}")
            new[name] = t
        for name, p in params.items():  # all checked first: a bad state changes nothing
            p.data = new[name]


class Linear(Module):
    """y = x @ weight.T + bias: weight (nout, nin), bias (nout,); x (N, nin) or (nin,).

    PyTorch's default initialisation: every weight and bias drawn uniformly from
    U(-1/sqrt(nin), 1/sqrt(nin)).  PyTorch writes it as kaiming_uniform_(weight, a=sqrt(5)):
    Kaiming's bound is gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + a^2)), and with
    a^2 = 5 that is sqrt(2/6) * sqrt(3 / fan_in) = sqrt(1 / fan_in), fan_in = nin.  The bias
    takes the same bound.  U(-a, a) has variance a^2 / 3 = 1 / (3 nin), so for inputs of variance 1
    an output, a sum of nin such products, has variance about 1/3, whatever nin is.

    seed: an int (runs repeat), a random.Random (shared: an MLP passes its own to each layer),
    or None (seeded by the system).  The weight is drawn first, row by row, then the bias.
    """

    def __init__(self, nin: int, nout: int, bias: bool = True, seed: int | random.Random | None = None,
                 backend: str | Backend | None = None) -> None:
        for what, n in (("inputs", nin), ("outputs", nout)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise UsageError(f"a linear layer needs at least one of its {what}, not {n!r}")
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        bound = 1.0 / math.sqrt(nin)
        b = resolve_backend(backend)
        self.nin, self.nout = nin, nout
        self.weight = uniform((nout, nin), -bound, bound, seed=rng, backend=b)
        self.bias = uniform((nout,), -bound, bound, seed=rng, backend=b) if bias else None

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        return [("weight", self.weight)] if self.bias is None else [("weight", self.weight), ("bias", self.bias)]

    def forward(self, x: Any) -> Tensor:
        return linear(x, self.weight, self.bias)

    def __repr__(self) -> str:
        return f"Linear(in_features={self.nin}, out_features={self.nout}, bias={self.bias is not None})"


_IDENTITY = ("linear", "identity")  # no function at all: the output as it is


class Activation(Module):
    """A function of the op table applied to every element: Activation("tanh"), Activation("gelu").

    Any function of one argument: tanh, relu, sigmoid, gelu, silu, elu, softplus, leaky_relu
    (its default slope), ...  "linear" (or "identity") passes the input through unchanged.
    """

    def __init__(self, name: str) -> None:
        if name not in _IDENTITY:
            op = ops.lookup(name)
            if op is None or op.symbol is not None or (op.arity != 1 and op.spelling(1) is None):
                raise UsageError(f"unknown activation {name!r}: use a function of one argument of the op table "
                                 "(tanh, relu, sigmoid, gelu, silu, ...) or 'linear'")
        self.name = name

    def forward(self, x: Any) -> Tensor:
        if self.name in _IDENTITY:
            return x if isinstance(x, Tensor) else common([x])[0][0]
        return apply(self.name, x)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


class Tanh(Activation):
    """tanh(x), elementwise."""

    def __init__(self) -> None:
        super().__init__("tanh")

    def __repr__(self) -> str:
        return "Tanh()"


class ReLU(Activation):
    """max(x, 0), elementwise (its derivative at 0 is 0, as PyTorch's)."""

    def __init__(self) -> None:
        super().__init__("relu")

    def __repr__(self) -> str:
        return "ReLU()"


class Sigmoid(Activation):
    """1 / (1 + exp(-x)), elementwise."""

    def __init__(self) -> None:
        super().__init__("sigmoid")

    def __repr__(self) -> str:
        return "Sigmoid()"


class Sequential(Module):
    """Modules applied one after the other: Sequential(Linear(2, 8), Tanh(), Linear(8, 1)).

    Indexable (model[0] is the first module, model[-1] the last), len(), iterable; a child's
    parameters are named by its position: "0.weight", "2.bias".
    """

    def __init__(self, *modules: Module) -> None:
        for k, m in enumerate(modules):
            if not isinstance(m, Module):
                raise UsageError(f"Sequential takes modules; argument {k} is a {type(m).__name__}, not a module "
                                 "(a function of the op table: nn.Activation('tanh'))")
        self.modules = list(modules)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return ((str(k), m) for k, m in enumerate(self.modules))

    def forward(self, x: Any) -> Tensor:
        for m in self.modules:
            x = m(x)
        return x

    def __getitem__(self, k: int) -> Module:
        return self.modules[k]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({k}): {m!r}" for k, m in enumerate(self.modules))
        return f"{type(self).__name__}({inner}\n)"


class MLP(Sequential):
    """A multi-layer perceptron: MLP(64, [128, 10]) is Linear(64, 128), Tanh(), Linear(128, 10).

    sizes: each layer's width, the last one the output's.  The activation (a function of one
    argument of the op table) follows every layer but the last: the output is linear, logits
    for cross_entropy or bce_with_logits, scores for hinge, values for mse.
    seed: one random.Random draws every layer's weights, first layer first.
    """

    def __init__(self, nin: int, sizes: Sequence[int], activation: str = "tanh",
                 seed: int | random.Random | None = None, backend: str | Backend | None = None) -> None:
        sizes = list(sizes)
        if not sizes:
            raise UsageError("an MLP needs at least one layer")
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        widths = [nin, *sizes]
        modules: list[Module] = []
        for k in range(len(sizes)):
            modules.append(Linear(widths[k], widths[k + 1], seed=rng, backend=backend))
            if k < len(sizes) - 1:
                modules.append(Activation(activation))
        Activation(activation)  # the name is checked even for a single layer
        super().__init__(*modules)
        self.activation = activation

    @property
    def sizes(self) -> list[int]:
        """Inputs, then each layer's width: [64, 128, 10]."""
        return [self.layers[0].nin, *(layer.nout for layer in self.layers)]

    @property
    def layers(self) -> list[Linear]:
        """The Linear layers, first to last (the activations between them are not in it)."""
        return [m for m in self.modules if isinstance(m, Linear)]

    def __repr__(self) -> str:
        return f"MLP({', '.join(str(n) for n in self.sizes)}, activation={self.activation!r})"
