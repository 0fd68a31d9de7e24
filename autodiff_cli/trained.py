"""A trained model and its predictions: the tensor network with its inputs, scaling and labels.

What `autodiff predict` runs, and what `autodiff train` hands to the model file and to the
picture of the decision regions.  The network is a stack of tensor Linear layers
(autodiff_cli.tensor.nn), each followed by its activation; the last layer is linear: one
output for regression and for two classes (the logit of labels[1]), one per class (softmax
logits) for three or more.  Rows go through it many at a time: a table of N rows is one
(N, inputs) matrix, one matrix product per layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import ops
from .data import Scaling, Table
from .errors import DataError, MathError
from .tensor import Tensor, nn, no_grad
from .tensor.backends import Backend
from .tensor.tensor import constant

# Activation names are the op table's names; "linear" is none at all.
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
CHUNK = 4096  # rows per forward pass when predicting: bounds the memory a large table takes


def network(sizes: Sequence[int], activations: Sequence[str], seed: int = 0,
            backend: str | None = None) -> nn.Module:
    """Linear layers sizes[0] -> sizes[1] -> ..., each followed by its activation ('linear': none).

    With one activation for every hidden layer (what `train` makes) it is the tensor nn.MLP;
    a model file may give each layer its own, which makes an nn.Sequential of the same layers.
    """
    hidden = list(activations[:-1])
    if len(set(hidden)) <= 1 and "linear" not in hidden:
        return nn.MLP(sizes[0], list(sizes[1:]), activation=hidden[0] if hidden else "tanh", seed=seed,
                      backend=backend)
    modules: list[nn.Module] = []
    for k, act in enumerate(activations):
        modules.append(nn.Linear(sizes[k], sizes[k + 1], seed=seed + k, backend=backend))
        if act != "linear":
            modules.append(nn.Activation(act))
    return nn.Sequential(*modules)


def rows_tensor(rows: Sequence[Sequence[float]], order: Sequence[int], b: Backend) -> Tensor:
    """The rows `order` picks, in that order, as one (len(order), width) constant tensor (made from one flat list)."""
    width = len(rows[0])
    flat = [v for i in order for v in rows[i]]
    return constant(b.from_flat(flat, (len(order), width)), b)


def linear_layers(model: nn.Module) -> list[Any]:
    """The model's Linear layers, first to last."""
    layers = getattr(model, "layers", None)  # nn.MLP lists them
    if layers is None:
        layers = [m for m in model if isinstance(m, nn.Linear)]  # type: ignore[attr-defined]
    return list(layers)


@dataclass
class Trained:
    """A model with everything needed to use it on new rows: inputs, scaling, labels."""

    model: nn.Module
    activations: list[str]  # one per Linear layer; the last is "linear"
    task: str
    inputs: list[str]
    target: str
    labels: list[str]
    scaling: Scaling
    target_scaling: Scaling | None
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        """Inputs, then each layer's width: [2, 16, 16, 1]."""
        layers = linear_layers(self.model)
        return [layers[0].weight.shape[1], *(layer.weight.shape[0] for layer in layers)]

    def scores_many(self, x_scaled: Sequence[Sequence[float]]) -> list[list[float]]:
        """The network's outputs for many standardised rows (no graph is built)."""
        out: list[list[float]] = []
        b = linear_layers(self.model)[0].weight.backend
        with no_grad():
            for start in range(0, len(x_scaled), CHUNK):
                x = rows_tensor(x_scaled, range(start, min(start + CHUNK, len(x_scaled))), b)
                out += self.model(x).tolist()
        return out

    def scores(self, x_scaled: Sequence[float]) -> list[float]:
        return self.scores_many([x_scaled])[0]

    def predict_many(self, rows: Sequence[Sequence[float]]) -> list[tuple[str | float, list[float]]]:
        """Raw input rows -> (prediction, class probabilities or []) for each."""
        scaled = [self.scaling.apply(row) for row in rows]
        for row in scaled:
            for name, v in zip(self.inputs, row, strict=True):
                if not math.isfinite(v):
                    raise MathError("predict", f"overflow: the input {name!r}, standardised, is too large for a double")
        z_rows = self.scores_many(scaled)
        if self.task == "regression":
            assert self.target_scaling is not None
            m, s = self.target_scaling.mean[0], self.target_scaling.std[0]
            return [(m + s * z[0], []) for z in z_rows]
        found: list[tuple[str | float, list[float]]] = []
        for z in z_rows:
            probs = probabilities(z)
            best = max(range(len(probs)), key=probs.__getitem__)
            found.append((self.labels[best], probs))
        return found

    def predict(self, row: Sequence[float]) -> tuple[str | float, list[float]]:
        """One raw input row -> (prediction, class probabilities or [])."""
        return self.predict_many([row])[0]


def probabilities(z: Sequence[float]) -> list[float]:
    """Class probabilities from the logits: sigmoid for one, softmax (max subtracted) for several."""
    if len(z) == 1:
        p1 = ops.FLOAT_FUNCTIONS["sigmoid"](z[0])
        return [ops.FLOAT_FUNCTIONS["sigmoid"](-z[0]), p1]
    m = max(z)
    e = [math.exp(v - m) for v in z]
    total = math.fsum(e)
    return [v / total for v in e]


def predict_table(trained: Trained, table: Table) -> tuple[list[str], list[list[str]]]:
    """The table's columns and cells, unchanged, with the prediction (and probabilities) added."""
    missing = [c for c in trained.inputs if c not in table.columns]
    if missing:
        raise DataError(
            f"{table.source} has no column {missing[0]!r}, which the model needs "
            f"(the model's inputs: {', '.join(trained.inputs)})"
        )
    columns = [table.numbers(c) for c in trained.inputs]
    extra = ["prediction"]
    if trained.task == "classification":
        extra += [f"p({label})" for label in trained.labels]
    taken = set(table.columns)
    extra = [_unique(name, taken) for name in extra]
    raw = [list(row) for row in zip(*columns, strict=True)]
    try:
        predictions = trained.predict_many(raw)
    except MathError:
        predictions = [_one_row(trained, table, i, row) for i, row in enumerate(raw)]  # find the row, name it
    rows = []
    for i, (prediction, probs) in enumerate(predictions):
        if isinstance(prediction, float) and not math.isfinite(prediction):
            raise MathError("predict", f"{table.where(i)}: the prediction ({prediction}) is too large for a double")
        cells = [prediction if isinstance(prediction, str) else repr(prediction)]
        cells += [repr(p) for p in probs]
        rows.append([*table.rows[i], *cells])
    return [*table.columns, *extra], rows


def _one_row(trained: Trained, table: Table, i: int, row: list[float]) -> tuple[str | float, list[float]]:
    """Predict one row alone; an error names the row (the tensor's message names an element of the batch)."""
    try:
        return trained.predict(row)
    except MathError as error:
        message = error.message.split(": ", 1)[1] if error.message.startswith("element [") else error.message
        raise MathError(error.op, f"{table.where(i)}: {message}") from None


def _unique(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    taken.add(candidate)
    return candidate
