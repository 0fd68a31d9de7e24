"""Training an MLP on a CSV table, and the model file: what `autodiff train` and `predict` run.

Standard library, the engine and the nn, optim and losses modules; no click, no rich.
Data errors are DataError (exit 2) naming the file, row and column.

The model file (model.json) is one JSON object:

    {"format": "autodiff-mlp", "version": 1,
     "task": "classification" | "regression",
     "inputs": ["x1", "x2"], "target": "label",
     "labels": ["bottom", "top"],                       (classification; class i is labels[i])
     "scaling": {"mean": [...], "std": [...]},          (inputs are standardised: (x - mean) / std)
     "target_scaling": {"mean": m, "std": s},            (regression: prediction = m + s * output)
     "layers": [{"activation": "tanh", "weights": [[w, ...], ...], "biases": [b, ...]}, ...],
     "training": {...}}                                  (how it was trained; informational)

The last layer is linear: one output for regression and for two classes (the logit of
labels[1]), one per class (softmax logits) for three or more.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import ops
from .engine import Value
from .errors import DataError, MathError, UsageError
from .losses import bce_with_logits, cross_entropy, mse
from .nn import ACTIVATIONS, MLP
from .optim import SGD, Adam, Optimizer

FORMAT = "autodiff-mlp"
VERSION = 1
TASKS = ("regression", "classification")

# -- reading tables -------------------------------------------------------------


@dataclass
class Table:
    """A CSV file as text cells: a header and rows, with the file line each row starts on."""

    source: str
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    def where(self, i: int, column: str | None = None) -> str:
        """How messages name row i (0-based): 'data.csv, row 3 (line 4), column x'."""
        text = f"{self.source}, row {i + 1} (line {self.lines[i]})"
        return f"{text}, column {column!r}" if column is not None else text

    def column(self, name: str) -> list[str]:
        if name not in self.columns:
            raise DataError(f"{self.source} has no column {name!r} (its columns: {', '.join(self.columns)})")
        j = self.columns.index(name)
        return [row[j] for row in self.rows]

    def numbers(self, name: str) -> list[float]:
        """A column as floats; the first cell that is not a finite number is an error naming it."""
        out = []
        for i, cell in enumerate(self.column(name)):
            value = parse_cell(cell)
            if value is None:
                what = "an empty cell" if not cell.strip() else f"{cell!r}"
                raise DataError(f"{self.where(i, name)}: {what} is not a number")
            out.append(value)
        return out


def parse_cell(cell: str) -> float | None:
    """A cell as a finite float, or None."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_table(text: str, source: str) -> Table:
    """Parse CSV text (a header line, then rows); blank lines are skipped."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows, lines = [], []
    try:
        start = 1
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [c.strip() for c in record]
                _check_header(header, source)
                continue
            if len(record) != len(header):
                raise DataError(
                    f"{source}, row {len(rows) + 1} (line {line}): {len(record)} fields, "
                    f"but the header has {len(header)}"
                )
            rows.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise DataError(f"{source}, line {reader.line_num}: not valid CSV ({exc})") from None
    if header is None:
        raise DataError(f"{source} is empty: it needs a header line with the column names, then rows")
    if not rows:
        raise DataError(f"{source} has a header but no rows of data")
    return Table(source, header, rows, lines)


def _check_header(header: list[str], source: str) -> None:
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{source}, line 1: column {j + 1} has no name")
        if name in header[:j]:
            raise DataError(f"{source}, line 1: the column name {name!r} appears twice")


# -- the data set ---------------------------------------------------------------


@dataclass
class Scaling:
    """Standardisation: (x - mean) / std per column; a constant column keeps std 1."""

    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, columns: Sequence[Sequence[float]]) -> Scaling:
        means, stds = [], []
        for col in columns:
            m = math.fsum(col) / len(col)
            s = math.sqrt(math.fsum((v - m) ** 2 for v in col) / len(col))
            means.append(m)
            stds.append(s if s > 0.0 else 1.0)
        return cls(means, stds)

    def apply(self, row: Sequence[float]) -> list[float]:
        return [(v - m) / s for v, m, s in zip(row, self.mean, self.std, strict=True)]


@dataclass
class Dataset:
    """Inputs as standardised floats and targets (scaled numbers, or class indices)."""

    inputs: list[str]
    target: str
    task: str
    labels: list[str]  # classification: class i is labels[i]
    X: list[list[float]]  # standardised
    y: list[float]  # regression: standardised target; classification: class index
    scaling: Scaling
    target_scaling: Scaling | None
    notes: list[str] = field(default_factory=list)

    @property
    def outputs(self) -> int:
        return len(self.labels) if len(self.labels) > 2 else 1


def _label_order(labels: set[str]) -> list[str]:
    """Numbers in numeric order, other labels in text order."""
    if all(parse_cell(label) is not None for label in labels):
        return sorted(labels, key=lambda label: (float(label), label))
    return sorted(labels)


def prepare(table: Table, target: str, task: str = "auto", inputs: Sequence[str] | None = None) -> Dataset:
    """Choose the task, check every cell, and standardise the inputs (and a regression target)."""
    if target not in table.columns:
        raise DataError(f"{table.source} has no column {target!r} (its columns: {', '.join(table.columns)})")
    names = list(inputs) if inputs else [c for c in table.columns if c != target]
    if not names:
        raise DataError(f"{table.source} has no input columns besides the target {target!r}")
    if target in names:
        raise UsageError(f"the target {target!r} cannot also be an input")
    columns = [table.numbers(name) for name in names]
    cells = [cell.strip() for cell in table.column(target)]
    notes = []
    if task == "auto":
        task = "regression" if all(parse_cell(c) is not None for c in cells) else "classification"
        if task == "regression" and len(set(cells)) <= 2:
            notes.append(
                f"the target {target!r} is numbers, so this is regression; it has only "
                f"{len(set(cells))} distinct values: add --task classification to treat them as classes"
            )
    if task not in TASKS:
        raise UsageError(f"unknown task {task!r}: choose regression or classification")
    X_raw = [list(row) for row in zip(*columns, strict=True)]
    scaling = Scaling.fit(columns)
    X = [scaling.apply(row) for row in X_raw]
    if task == "regression":
        y_raw = table.numbers(target)
        target_scaling = Scaling.fit([y_raw])
        y = [(v - target_scaling.mean[0]) / target_scaling.std[0] for v in y_raw]
        return Dataset(names, target, task, [], X, y, scaling, target_scaling, notes)
    for i, cell in enumerate(cells):
        if not cell:
            raise DataError(f"{table.where(i, target)}: the label is empty")
    labels = _label_order(set(cells))
    if len(labels) < 2:
        raise DataError(
            f"{table.source}, column {target!r}: every row has the label {labels[0]!r}; "
            "classification needs at least two classes"
        )
    index = {label: k for k, label in enumerate(labels)}
    return Dataset(names, target, task, labels, X, [float(index[c]) for c in cells], scaling, None, notes)


def split(n: int, fraction: float, rng: random.Random) -> tuple[list[int], list[int]]:
    """Shuffled row indices for training and validation (at least one row in each)."""
    if not 0.0 <= fraction < 1.0:
        raise UsageError(f"--val-split must be in [0, 1), not {fraction}")
    if fraction == 0.0:
        return list(range(n)), []
    n_val = max(1, round(n * fraction))
    if n_val >= n:
        raise DataError(f"{n} rows are too few to hold out {fraction:.0%} for validation and still train")
    order = list(range(n))
    rng.shuffle(order)
    return sorted(order[n_val:]), sorted(order[:n_val])


# -- the model and its predictions ---------------------------------------------------


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

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "task": self.task,
            "inputs": self.inputs,
            "target": self.target,
        }
        if self.task == "classification":
            doc["labels"] = self.labels
        doc["scaling"] = {"mean": self.scaling.mean, "std": self.scaling.std}
        if self.target_scaling is not None:
            doc["target_scaling"] = {"mean": self.target_scaling.mean[0], "std": self.target_scaling.std[0]}
        doc["layers"] = [
            {
                "activation": layer.activation,
                "weights": [[w.data for w in n.w] for n in layer],
                "biases": [n.b.data for n in layer],
            }
            for layer in self.model.layers
        ]
        doc["training"] = self.training
        return doc


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
            nxt.append(s if f is None else f(s))
        out = nxt
    for v in out:
        if not math.isfinite(v):
            raise MathError("add", "overflow: the model's output is too large for a double")
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
        self.data = data
        self.settings = settings
        rng = random.Random(settings.seed)
        self.train_rows, self.val_rows = split(len(data.X), settings.val_split, rng)
        if data.task == "classification":
            present = {data.y[i] for i in self.train_rows}
            if len(present) < 2:
                raise DataError("the training rows hold only one class; use more data or a smaller --val-split")
        self.rng = rng
        self.model = MLP(len(data.inputs), [*settings.hidden, data.outputs], settings.activation, "linear", rng)
        self.optimizer = self._optimizer()
        self.history: list[Epoch] = []

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
            total_loss += loss.data * len(batch)
            total_score += sum(self._score([o.data for o in out], i) for out, i in zip(outputs, batch, strict=True))
            del outputs, loss  # free this batch's graph before the next is built
        epoch = Epoch(k, total_loss / len(rows), self._metric(total_score, len(rows)))
        if self.val_rows:
            epoch.val_loss, epoch.val_metric = self.evaluate(self.val_rows)
        return epoch

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
            finally:
                if was_enabled:
                    gc.enable()
            self.history.append(epoch)
            yield epoch

    def result(self) -> Trained:
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
        d = self.data
        return Trained(self.model, d.task, d.inputs, d.target, d.labels, d.scaling, d.target_scaling, training)


# -- the model file ----------------------------------------------------------------


def load_model(text: str, source: str) -> Trained:
    """Read and check a model file; anything that is not a model of a consistent shape is a DataError."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{source} is not a model file: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f'{source} is not an autodiff model file (it has no "format": "{FORMAT}")')
    if doc.get("version") != VERSION:
        raise DataError(f"{source} is a model file of version {doc.get('version')!r}; this autodiff reads version 1")
    check = _Checker(source)
    task = check.choice(doc, "task", TASKS)
    inputs = check.names(doc, "inputs")
    target = check.text(doc, "target")
    labels = check.names(doc, "labels") if task == "classification" else []
    if task == "classification" and len(labels) < 2:
        raise DataError(f"{source}: a classifier needs at least two labels")
    scaling = Scaling(check.numbers(doc, "scaling", "mean"), check.numbers(doc, "scaling", "std"))
    if not len(scaling.mean) == len(scaling.std) == len(inputs):
        raise DataError(f"{source}: the scaling has {len(scaling.mean)} means and {len(scaling.std)} stds "
                        f"for {len(inputs)} inputs")
    if any(s <= 0.0 for s in scaling.std):
        raise DataError(f"{source}: the scaling's std must be positive")
    target_scaling = None
    if task == "regression":
        ts = check.section(doc, "target_scaling")
        mean, std = check.number(ts, "mean", "target_scaling"), check.number(ts, "std", "target_scaling")
        target_scaling = Scaling([mean], [std])
        if target_scaling.std[0] <= 0.0:
            raise DataError(f"{source}: the target scaling's std must be positive")
    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        raise DataError(f'{source}: "layers" must be a non-empty list')
    sizes = [len(inputs)]
    acts = []
    weights = []
    for k, layer in enumerate(layers, 1):
        where = f"layer {k}"
        if not isinstance(layer, dict):
            raise DataError(f"{source}: {where} is not an object")
        acts.append(check.choice(layer, "activation", ACTIVATIONS, where))
        w = layer.get("weights")
        b = check.numbers(layer, "biases", where=where)
        if not isinstance(w, list) or not w or len(w) != len(b):
            raise DataError(f"{source}: {where} needs as many rows of weights as biases")
        for j, row in enumerate(w, 1):
            row = check.numbers({"w": row}, "w", where=f"{where}, neuron {j}, weights")
            if len(row) != sizes[-1]:
                raise DataError(
                    f"{source}: {where}, neuron {j} has {len(row)} weights, but "
                    f"{'the model has' if k == 1 else f'layer {k - 1} has'} {sizes[-1]} "
                    f"{'inputs' if k == 1 else 'outputs'}"
                )
        weights.append((w, b))
        sizes.append(len(b))
    expected = len(labels) if len(labels) > 2 else 1
    if sizes[-1] != expected:
        what = f"a classifier of {len(labels)} classes" if task == "classification" else "a regression model"
        raise DataError(f"{source}: the last layer has {sizes[-1]} outputs, but {what} needs {expected}")
    model = MLP(sizes[0], sizes[1:], seed=0)
    for layer, act, (w, b) in zip(model.layers, acts, weights, strict=True):
        for n, row, bias in zip(layer, w, b, strict=True):
            n.activation = act
            for p, value in zip(n.w, row, strict=True):
                p.data = float(value)
            n.b.data = float(bias)
    training = doc.get("training") if isinstance(doc.get("training"), dict) else {}
    return Trained(model, task, inputs, target, labels, scaling, target_scaling, training)


class _Checker:
    """Typed reads from a model document, with messages naming the file and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _fail(self, key: str, what: str, where: str | None) -> DataError:
        place = f"{where}: " if where else ""
        return DataError(f'{self.source}: {place}"{key}" must be {what}')

    def section(self, doc: dict, key: str) -> dict:
        value = doc.get(key)
        if not isinstance(value, dict):
            raise self._fail(key, "an object", None)
        return value

    def text(self, doc: dict, key: str) -> str:
        value = doc.get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string", None)
        return value

    def choice(self, doc: dict, key: str, choices: Sequence[str], where: str | None = None) -> str:
        value = doc.get(key)
        if value not in choices:
            raise self._fail(key, f"one of {', '.join(choices)}", where)
        return value

    def names(self, doc: dict, key: str) -> list[str]:
        value = doc.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, "a non-empty list of strings", None)
        if len(set(value)) != len(value):
            raise self._fail(key, "a list without repeats", None)
        return value

    def number(self, doc: dict, key: str, where: str | None = None) -> float:
        value = doc.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self._fail(key, "a finite number", where)
        return float(value)

    def numbers(self, doc: dict, key: str, sub: str | None = None, where: str | None = None) -> list[float]:
        value = doc.get(key)
        if sub is not None:
            if not isinstance(value, dict):
                raise self._fail(key, "an object", where)
            value, key = value.get(sub), f"{key}.{sub}"
        ok = isinstance(value, list) and value and all(
            not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) for v in value
        )
        if not ok:
            raise self._fail(key, "a non-empty list of finite numbers", where)
        return [float(v) for v in value]


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
        prediction, probs = trained.predict(raw)
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
