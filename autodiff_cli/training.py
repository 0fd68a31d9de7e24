"""Training an MLP on a table: what `autodiff train` runs, on tensors.

The data become tensors once: the training rows as one (N, inputs) matrix and their targets.
An epoch goes through them in mini-batches (--batch-size; by default the whole set when it is
small, batches of DEFAULT_BATCH rows when it is not), each batch one forward pass through the
tensor network (autodiff_cli.tensor.nn), one loss, one backward pass and one optimizer step
(autodiff_cli.tensor.optim).  With batches smaller than the set, the rows are shuffled every
epoch by the seeded generator, so every row is seen once per epoch and a run repeats exactly.

No click, no rich.  The last layer is linear: one output for regression and for two classes
(the logit of labels[1]), one per class (softmax logits) for three or more.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import limits, ops
from .data import Dataset, split
from .errors import DataError, MathError, UsageError
from .tensor import Tensor, losses, no_grad, optim
from .tensor.backends import Backend, backend, get
from .trained import ACTIVATIONS, Trained, network, rows_tensor

if TYPE_CHECKING:
    from . import nn as scalar_nn

FULL_BATCH_ROWS = 1000  # up to this many training rows, the default batch is all of them
DEFAULT_BATCH = 64  # above it, batches of this many rows


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


def forward_floats(model: scalar_nn.MLP, x: Sequence[float]) -> list[float]:
    """The scalar nn.MLP on floats, without building a graph: the same arithmetic in the same order.

    The scalar network is the reference the tensor path is checked against (tests/test_nn.py,
    tests/test_training_models.py).
    """
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


# -- the data as tensors ------------------------------------------------------------------


class Batches:
    """The training rows and targets as tensors, and each epoch's batches as slices of them.

    Full batch: the tensors are made once and every epoch is that one batch, in the file's order.
    Mini-batches: each epoch the rows are shuffled (the seeded generator), put in that order into
    one tensor, and cut into consecutive slices: every row once per epoch, the last batch shorter
    when the size does not divide the rows.
    """

    def __init__(self, X: Sequence[Sequence[float]], y: Sequence[Sequence[float]], rows: Sequence[int],
                 size: int, rng: random.Random, b: Backend) -> None:
        self.X, self.y, self.rows, self.size, self.rng, self.backend = X, y, list(rows), size, rng, b
        self.whole = (rows_tensor(X, self.rows, b), rows_tensor(y, self.rows, b)) if size >= len(self.rows) else None

    def epoch(self) -> Iterator[tuple[list[int], Tensor, Tensor]]:
        """(row indices, inputs, targets) for each batch of one epoch."""
        if self.whole is not None:
            yield self.rows, *self.whole
            return
        order = list(self.rows)
        self.rng.shuffle(order)
        X, y = rows_tensor(self.X, order, self.backend), rows_tensor(self.y, order, self.backend)
        for start in range(0, len(order), self.size):
            stop = min(start + self.size, len(order))
            yield order[start:stop], X[start:stop], y[start:stop]


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
    batch_size: int | None = None  # None: all the training rows up to FULL_BATCH_ROWS, else DEFAULT_BATCH
    val_split: float = 0.0
    seed: int = 0
    backend: str | None = None  # None: the tensor default (AUTODIFF_BACKEND, else numpy if installed)

    @property
    def learning_rate(self) -> float:
        if self.lr is not None:
            return self.lr
        return 0.01 if self.optimizer == "adam" else 0.1

    def batch_for(self, rows: int) -> int:
        """The rows per batch for this many training rows."""
        if self.batch_size is not None:
            return min(self.batch_size, rows)
        return rows if rows <= FULL_BATCH_ROWS else DEFAULT_BATCH


class Trainer:
    """Train an MLP on a Dataset; iterate over `run()` to get one Epoch at a time."""

    def __init__(self, data: Dataset, settings: Settings) -> None:
        if settings.activation not in ACTIVATIONS:
            raise UsageError(f"unknown activation {settings.activation!r}: choose one of {', '.join(ACTIVATIONS)}")
        if settings.epochs < 1:
            raise UsageError("--epochs must be at least 1")
        self.settings = settings
        self.backend = get(settings.backend) if settings.backend else backend()
        rng = random.Random(settings.seed)
        self.train_rows, self.val_rows = split(len(data.X), settings.val_split, rng)
        # the scaling is part of the model: fitted on the training rows only, never on the held-out ones
        self.data = data = data.standardised(self.train_rows) if self.val_rows and data.X_raw else data
        if data.task == "classification":
            present = {data.y[i] for i in self.train_rows}
            if len(present) < 2:
                raise DataError("the training rows hold only one class; use more data or a smaller --val-split")
        sizes = [len(data.inputs), *settings.hidden, data.outputs]
        limits.check_network(sizes)  # before a single weight is made
        self.activations = [settings.activation] * len(settings.hidden) + ["linear"]
        self.model = network(sizes, self.activations, seed=settings.seed, backend=self.backend.name)
        self.sizes = sizes
        self.parameters = self.model.parameters()
        self.optimizer = self._optimizer()
        # the targets as one column (N, 1): the scaled number, the label 0/1, or the class index (see loss)
        targets = [[v] for v in data.y]
        self.batch_size = settings.batch_for(len(self.train_rows))
        self.batches = Batches(data.X, targets, self.train_rows, self.batch_size, rng, self.backend)
        self.val = (rows_tensor(data.X, self.val_rows, self.backend),
                    rows_tensor(targets, self.val_rows, self.backend)) if self.val_rows else None
        self.history: list[Epoch] = []
        self._finished: list[Any] = []  # the weights after the last finished epoch (see rewind)

    @property
    def parameter_count(self) -> int:
        return sum(p.size for p in self.parameters)

    def _optimizer(self) -> optim.Optimizer:
        s = self.settings  # the optimizers check their numbers themselves (a UsageError naming the one)
        if s.optimizer == "adam":
            return optim.Adam(self.parameters, s.learning_rate, weight_decay=s.weight_decay)
        if s.optimizer == "sgd":
            return optim.SGD(self.parameters, s.learning_rate, momentum=s.momentum, weight_decay=s.weight_decay)
        raise UsageError(f"unknown optimizer {s.optimizer!r}: choose sgd or adam")

    def loss(self, out: Tensor, target: Tensor) -> Tensor:
        """The batch's mean loss: squared error, binary cross-entropy on the logit, or softmax cross-entropy."""
        if self.data.task == "regression":
            return losses.mse(out, target)
        if self.data.outputs == 1:
            return losses.bce_with_logits(out, target)
        return losses.cross_entropy(out, target.reshape(target.shape[0]))  # class indices, shape (N,)

    def _score(self, z: Sequence[float], y: float) -> float:
        """Per row: 1.0 if classified correctly (classification), the squared scaled error (regression)."""
        if self.data.task == "regression":
            return (z[0] - y) ** 2
        if len(z) == 1:
            return float((z[0] > 0.0) == (y == 1.0))
        return float(max(range(len(z)), key=z.__getitem__) == y)

    def _metric(self, correct_or_sse: float, n: int) -> float:
        if self.data.task == "classification":
            return correct_or_sse / n
        assert self.data.target_scaling is not None
        return math.sqrt(correct_or_sse / n) * self.data.target_scaling.std[0]

    def _scores(self, out: Tensor, rows: Sequence[int]) -> float:
        y = self.data.y
        return sum(self._score(z, y[i]) for z, i in zip(out.tolist(), rows, strict=True))

    def _epoch(self, k: int) -> Epoch:
        opt = self.optimizer
        total_loss = total_score = 0.0
        for rows, X, y in self.batches.epoch():
            out = self.model(X)
            loss = self.loss(out, y)
            opt.zero_grad()
            loss.backward()
            try:
                opt.step()
            except (MathError, UsageError):  # an update past the largest double (an lr near it): tensors refuse it
                raise MathError("step", "the weights are no longer finite numbers") from None
            total_loss += loss.item() * len(rows)
            total_score += self._scores(out, rows)
        n = len(self.train_rows)
        epoch = Epoch(k, total_loss / n, self._metric(total_score, n))
        if self.val_rows:
            epoch.val_loss, epoch.val_metric = self.evaluate()
        return epoch

    def evaluate(self) -> tuple[float, float]:
        """Loss and metric of the current model on the validation rows (no graph)."""
        assert self.val is not None
        X, y = self.val
        with no_grad():
            out = self.model(X)
            loss = self.loss(out, y).item()
        return loss, self._metric(self._scores(out, self.val_rows), len(self.val_rows))

    def _diverged(self, k: int, what: str) -> MathError:
        s = self.settings
        return MathError("train", f"training diverged at epoch {k}: {what}; try a smaller --lr "
                                  f"(it is {s.learning_rate:g})")

    def run(self) -> Iterator[Epoch]:
        """Train, yielding each epoch's figures."""
        for k in range(1, self.settings.epochs + 1):
            try:
                epoch = self._epoch(k)
            except MathError as error:  # an overflow in the forward or backward pass: the weights ran away
                raise self._diverged(k, error.message) from None
            weights = [p.tolist() for p in self.parameters]
            if not all(math.isfinite(v) for w in weights for v in _flat(w)):
                raise self._diverged(k, "the weights are no longer finite numbers")
            self._finished = weights
            self.history.append(epoch)
            yield epoch

    def rewind(self) -> None:
        """Put back the weights of the last finished epoch: training stopped in the middle of one (Ctrl-C) may
        have updated some weights of a batch and not the others."""
        with no_grad():
            for p, w in zip(self.parameters, self._finished, strict=True):
                p.data = w

    def result(self, interrupted: bool = False) -> Trained:
        """The model as it stands, with how it was trained; interrupted: it stopped before --epochs."""
        s = self.settings
        training = {
            "optimizer": s.optimizer,
            "lr": s.learning_rate,
            "epochs": len(self.history),
            "batch_size": self.batch_size,
            "seed": s.seed,
            "val_split": s.val_split,
            "rows": len(self.train_rows),
            "backend": self.backend.name,
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
        return Trained(self.model, list(self.activations), d.task, d.inputs, d.target, d.labels, d.scaling,
                       d.target_scaling, training)


def _flat(nested: Any) -> Iterator[float]:
    """The numbers of a nested list (a tensor's tolist())."""
    if isinstance(nested, list):
        for item in nested:
            yield from _flat(item)
    else:
        yield nested
