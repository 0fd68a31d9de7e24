"""Training an MLP on a table, and predicting with it: what `autodiff train` and `predict` run.

Standard library, the engine, nn, optim, losses and data; no click, no rich.
The network's last layer is linear: one output for regression and for two classes
(the logit of labels[1]), one per class (softmax logits) for three or more.
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import limits, ops
from .data import Dataset, Scaling, Table, split
from .engine import Value
from .errors import DataError, MathError, UsageError
from .losses import bce_with_logits, cross_entropy, mse
from .nn import ACTIVATIONS, MLP
from .optim import SGD, Adam, Optimizer

# -- the model and its predictions ------------------------------------------------


@dataclass
class Trained:
    """A model with everything needed to use it on new rows: inputs, scaling, labels."""

    model: MLP
    task: str
    inputs: list[str]
    target: str
    labels: list[str]
    scaling: Scaling
    target_scaling: Scaling | None
    training: dict[str, Any] = field(default_factory=dict)

    def scores(self, x_scaled: Sequence[float]) -> list[float]:
        return forward_floats(self.model, x_scaled)

    def predict(self, row: Sequence[float]) -> tuple[str | float, list[float]]:
        """One raw input row -> (prediction, class probabilities or [])."""
        z = self.scores(self.scaling.apply(row))
        if self.task == "regression":
            assert self.target_scaling is not None
            return self.target_scaling.mean[0] + self.target_scaling.std[0] * z[0], []
        probs = probabilities(z)
        best = max(range(len(probs)), key=probs.__getitem__)
        return self.labels[best], probs


def forward_floats(model: MLP, x: Sequence[float]) -> list[float]:
    """The model on floats, without building a graph: the same arithmetic in the same order."""
    out = list(x)
    for layer in model.layers:
        act = layer.activation
        f = None if act == "linear" else ops.FLOAT_FUNCTIONS[act]
        nxt = []
        for n in layer:
            s = n.b.data
            for w, xi in zip(n.w, out, strict=True):
                s = s + w.data * xi
            if s - s != 0.0:  # inf or nan: the graph would have stopped here too
                raise MathError("add", "overflow: a neuron's weighted sum is too large for a double")
            nxt.append(s if f is None else f(s))
        out = nxt
    return out


def probabilities(z: Sequence[float]) -> list[float]:
    """Class probabilities from the logits: sigmoid for one, softmax (max subtracted) for several."""
    if len(z) == 1:
        p1 = ops.FLOAT_FUNCTIONS["sigmoid"](z[0])
        return [ops.FLOAT_FUNCTIONS["sigmoid"](-z[0]), p1]
    m = max(z)
    e = [math.exp(v - m) for v in z]
    total = math.fsum(e)
    return [v / total for v in e]


def parse_hidden(text: str) -> list[int]:
    """'16,16' -> [16, 16]; '' or 'none' -> [] (a linear model)."""
    text = text.strip()
    if text.lower() in ("", "none", "0"):
        return []
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise UsageError(f"--hidden {text!r}: layer sizes are whole numbers >= 1, as in 16,16")
        sizes.append(int(part))
    return sizes


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
    rows = []
    for i, raw in enumerate(zip(*columns, strict=True)):
        try:
            prediction, probs = trained.predict(raw)
        except MathError as error:
            raise MathError(error.op, f"{table.where(i)}: {error.message}") from None
        if isinstance(prediction, float) and not math.isfinite(prediction):
            raise MathError("predict", f"{table.where(i)}: the prediction ({prediction}) is too large for a double")
        cells = [prediction if isinstance(prediction, str) else repr(prediction)]
        cells += [repr(p) for p in probs]
        rows.append([*table.rows[i], *cells])
    return [*table.columns, *extra], rows


def _unique(name: str, taken: set[str]) -> str:
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name}_{k}", k + 1
    taken.add(candidate)
    return candidate


# -- training ------------------------------------------------------------------------


@dataclass
class Epoch:
    """What one epoch measured: the mean training loss over its batches, and metrics."""

    epoch: int
    loss: float
    metric: float  # accuracy (0..1) for classification, RMSE in the target's units for regression
    val_loss: float | None = None
    val_metric: float | None = None

    def to_json(self, task: str) -> dict[str, Any]:
        name = "accuracy" if task == "classification" else "rmse"
        doc: dict[str, Any] = {"epoch": self.epoch, "loss": self.loss, name: self.metric}
        if self.val_loss is not None:
            doc["val_loss"], doc[f"val_{name}"] = self.val_loss, self.val_metric
        return doc


@dataclass
class Settings:
    hidden: list[int] = field(default_factory=lambda: [16, 16])
    activation: str = "tanh"
    epochs: int = 100
    optimizer: str = "adam"
    lr: float | None = None  # None: 0.01 for Adam, 0.1 for SGD
    momentum: float = 0.0
    weight_decay: float = 0.0
    batch_size: int | None = None  # None: the whole training set
    val_split: float = 0.0
    seed: int = 0

    @property
    def learning_rate(self) -> float:
        if self.lr is not None:
            return self.lr
        return 0.01 if self.optimizer == "adam" else 0.1


class Trainer:
    """Train an MLP on a Dataset; iterate over `run()` to get one Epoch at a time."""

    def __init__(self, data: Dataset, settings: Settings) -> None:
        if settings.activation not in ACTIVATIONS:
            raise UsageError(f"unknown activation {settings.activation!r}: choose one of {', '.join(ACTIVATIONS)}")
        if settings.epochs < 1:
            raise UsageError("--epochs must be at least 1")
        self.settings = settings
        rng = random.Random(settings.seed)
        self.train_rows, self.val_rows = split(len(data.X), settings.val_split, rng)
        # the scaling is part of the model: fitted on the training rows only, never on the held-out ones
        self.data = data = data.standardised(self.train_rows) if self.val_rows and data.X_raw else data
        if data.task == "classification":
            present = {data.y[i] for i in self.train_rows}
            if len(present) < 2:
                raise DataError("the training rows hold only one class; use more data or a smaller --val-split")
        self.rng = rng
        limits.check_network([len(data.inputs), *settings.hidden, data.outputs])  # before a single weight is made
        self.model = MLP(len(data.inputs), [*settings.hidden, data.outputs], settings.activation, "linear", rng)
        self.optimizer = self._optimizer()
        self.history: list[Epoch] = []
        self._finished: list[float] = []  # the weights after the last finished epoch (see rewind)

    def _optimizer(self) -> Optimizer:
        s = self.settings
        params = self.model.parameters()
        try:
            if s.optimizer == "adam":
                return Adam(params, s.learning_rate, weight_decay=s.weight_decay)
            if s.optimizer == "sgd":
                return SGD(params, s.learning_rate, momentum=s.momentum, weight_decay=s.weight_decay)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        raise UsageError(f"unknown optimizer {s.optimizer!r}: choose sgd or adam")

    def _loss(self, outputs: list[list[Value]], rows: Sequence[int]) -> Value:
        y = self.data.y
        if self.data.task == "regression":
            return mse([o[0] for o in outputs], [y[i] for i in rows])
        if self.data.outputs == 1:
            return bce_with_logits([o[0] for o in outputs], [y[i] for i in rows])
        return cross_entropy(outputs, [int(y[i]) for i in rows])

    def _metric(self, correct_or_sse: float, n: int) -> float:
        if self.data.task == "classification":
            return correct_or_sse / n
        assert self.data.target_scaling is not None
        return math.sqrt(correct_or_sse / n) * self.data.target_scaling.std[0]

    def _score(self, z: Sequence[float], i: int) -> float:
        """Per row: 1.0 if classified correctly (classification), the squared scaled error (regression)."""
        y = self.data.y[i]
        if self.data.task == "regression":
            return (z[0] - y) ** 2
        if len(z) == 1:
            return float((z[0] > 0.0) == (y == 1.0))
        return float(max(range(len(z)), key=z.__getitem__) == y)

    def _epoch(self, k: int) -> Epoch:
        rows = list(self.train_rows)
        size = self.settings.batch_size or len(rows)
        if size < len(rows):
            self.rng.shuffle(rows)
        X, model, opt = self.data.X, self.model, self.optimizer
        total_loss = total_score = 0.0
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            outputs = [model(X[i]) for i in batch]
            loss = self._loss(outputs, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if not all(math.isfinite(p.data) for p in opt.params):
                raise self._diverged(k, "the weights are no longer finite numbers")
            total_loss += loss.data * len(batch)
            total_score += sum(self._score([o.data for o in out], i) for out, i in zip(outputs, batch, strict=True))
            del outputs, loss  # free this batch's graph before the next is built
        epoch = Epoch(k, total_loss / len(rows), self._metric(total_score, len(rows)))
        if self.val_rows:
            epoch.val_loss, epoch.val_metric = self.evaluate(self.val_rows)
        return epoch

    def _diverged(self, k: int, what: str) -> MathError:
        s = self.settings
        return MathError("train", f"training diverged at epoch {k}: {what}; try a smaller --lr "
                                  f"(it is {s.learning_rate:g})")

    def evaluate(self, rows: Sequence[int]) -> tuple[float, float]:
        """Loss and metric of the current model on these rows, on floats (no graph)."""
        total_loss = total_score = 0.0
        for i in rows:
            z = forward_floats(self.model, self.data.X[i])
            total_loss += self._float_loss(z, self.data.y[i])
            total_score += self._score(z, i)
        return total_loss / len(rows), self._metric(total_score, len(rows))

    def _float_loss(self, z: Sequence[float], y: float) -> float:
        softplus = ops.FLOAT_FUNCTIONS["softplus"]
        if self.data.task == "regression":
            return (z[0] - y) ** 2
        if len(z) == 1:
            return softplus(-z[0]) if y == 1.0 else softplus(z[0])
        m = max(z)
        return m + math.log(math.fsum(math.exp(v - m) for v in z)) - z[int(y)]

    def run(self) -> Iterator[Epoch]:
        """Train, yielding each epoch's figures.

        The cyclic garbage collector is paused while a batch's graph is built and
        walked: Value graphs hold no reference cycles (nodes point only to their
        parents), so reference counting frees each graph, and the collector would
        otherwise rescan every live node again and again as the graph grows
        (about 3x the time of the training itself).
        """
        for k in range(1, self.settings.epochs + 1):
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                epoch = self._epoch(k)
            except MathError as error:  # an overflow in the forward or backward pass: the weights ran away
                if error.op == "train":
                    raise
                raise self._diverged(k, error.message) from None
            finally:
                if was_enabled:
                    gc.enable()
            self._finished = [p.data for p in self.model.parameters()]
            self.history.append(epoch)
            yield epoch

    def rewind(self) -> None:
        """Put back the weights of the last finished epoch: training stopped in the middle of one (Ctrl-C) may
        have updated some weights of a batch and not the others."""
        for p, w in zip(self.model.parameters(), self._finished, strict=True):
            p.data = w

    def result(self, interrupted: bool = False) -> Trained:
        """The model as it stands, with how it was trained; interrupted: it stopped before --epochs."""
        s = self.settings
        training = {
            "optimizer": s.optimizer,
            "lr": s.learning_rate,
            "epochs": len(self.history),
            "batch_size": s.batch_size,
            "seed": s.seed,
            "val_split": s.val_split,
            "rows": len(self.train_rows),
        }
        if s.optimizer == "sgd":
            training["momentum"] = s.momentum
        if s.weight_decay:
            training["weight_decay"] = s.weight_decay
        if self.history:
            training["final"] = self.history[-1].to_json(self.data.task)
        if interrupted:
            training["interrupted"] = f"after epoch {len(self.history)} of {s.epochs}"
        d = self.data
        return Trained(self.model, d.task, d.inputs, d.target, d.labels, d.scaling, d.target_scaling, training)
