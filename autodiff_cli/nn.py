"""Neural networks built from nothing but Values: Module, Neuron, Layer, MLP.

Standard library and the engine only.  A model is a graph like any expression:
calling it on inputs builds Values, `backward()` fills the parameters' grads, and
an optimizer (`autodiff_cli.optim`) or a hand-written loop updates their `.data`.

    model = MLP(3, [4, 4, 1], seed=0)      # tanh everywhere, as in the original design
    out = model([2.0, 3.0, -1.0])[0]       # a model always returns a list
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from operator import mul

from .engine import Value

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

# Activation names are the op table's names (linear: none at all).
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


def _generator(seed: int | random.Random | None) -> random.Random:
    """A private generator: an int seeds a new one, a Random is shared, None seeds from the OS."""
    if isinstance(seed, random.Random):
        return seed
    return random.Random(seed)


class Module:
    """Something with parameters: a neuron, a layer, a network."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        """Set every parameter's grad to 0.0 (backward() adds to leaves' grads)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """activation(w · x + b): weights drawn uniformly from [-1, 1], bias 0.0, as in the original design."""

    def __init__(self, nin: int, activation: str = "tanh", seed: int | random.Random | None = None) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}")
        if nin < 1:
            raise ValueError(f"a neuron needs at least one input, not {nin}")
        rng = _generator(seed)
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        act = sum(map(mul, self.w, x), self.b)  # b + w0*x0 + w1*x1 + ..., in this order
        if self.activation == "linear":
            return act
        return getattr(act, self.activation)()

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons reading the same inputs; calling it always returns a list."""

    def __init__(self, nin: int, nout: int, activation: str = "tanh", seed: int | random.Random | None = None) -> None:
        if nout < 1:
            raise ValueError(f"a layer needs at least one neuron, not {nout}")
        rng = _generator(seed)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        # numbers become constant nodes once here, not once per neuron
        x = [xi if isinstance(xi, Value) else Value.constant(xi) for xi in x]
        return [n(x) for n in self.neurons]

    def __iter__(self) -> Iterator[Neuron]:
        return iter(self.neurons)

    def __len__(self) -> int:
        return len(self.neurons)

    def __getitem__(self, i: int) -> Neuron:
        return self.neurons[i]

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {len(self)}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: MLP(3, [4, 4, 1]) maps 3 inputs through layers of 4, 4 and 1 neurons.

    activation: of the hidden layers (tanh, the original design's choice, relu, sigmoid or linear).
    output_activation: of the last layer; by default the same as the hidden layers, as in the
    original design; "linear" gives raw scores, for regression, logits and the hinge loss.
    seed: an int (or a random.Random) makes the initial weights repeatable.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        seed: int | random.Random | None = None,
    ) -> None:
        if not nouts:
            raise ValueError("an MLP needs at least one layer")
        rng = _generator(seed)
        sizes = [nin, *nouts]
        last = activation if output_activation is None else output_activation
        self.layers = [
            Layer(sizes[i], sizes[i + 1], last if i == len(nouts) - 1 else activation, rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        out: Sequence[Value | float] = x
        for layer in self.layers:
            out = layer(out)
        return list(out)

    @property
    def sizes(self) -> list[int]:
        """Inputs, then each layer's width: [3, 4, 4, 1]."""
        return [self.layers[0].nin, *(len(layer) for layer in self.layers)]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP({', '.join(repr(layer) for layer in self.layers)})"
