"""The model file: a trained MLP with its inputs, scaling and labels, as one JSON document.

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
labels[1]), one per class (softmax logits) for three or more.  A layer's "weights" are its
rows, one per output: the tensor Linear layer's weight matrix (outputs x inputs), as the
scalar network's neurons were written before the tensor path: files from either load alike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from . import limits
from .data import TASKS, Scaling
from .errors import DataError, MathError, json_value_problem, shortened, visible
from .tensor import no_grad
from .trained import ACTIVATIONS, Trained, linear_layers, network

FORMAT = "autodiff-mlp"
VERSION = 1


def to_json(trained: Trained) -> dict[str, Any]:
    """The model file's document for a trained model."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "task": trained.task,
        "inputs": trained.inputs,
        "target": trained.target,
    }
    if trained.task == "classification":
        doc["labels"] = trained.labels
    doc["scaling"] = {"mean": trained.scaling.mean, "std": trained.scaling.std}
    if trained.target_scaling is not None:
        doc["target_scaling"] = {"mean": trained.target_scaling.mean[0], "std": trained.target_scaling.std[0]}
    doc["layers"] = [
        {"activation": act, "weights": layer.weight.tolist(), "biases": layer.bias.tolist()}
        for layer, act in zip(linear_layers(trained.model), trained.activations, strict=True)
    ]
    doc["training"] = trained.training
    numbers = [*trained.scaling.mean, *trained.scaling.std]
    numbers += [v for layer in doc["layers"] for row in [*layer["weights"], layer["biases"]] for v in row]
    if not all(math.isfinite(v) for v in numbers):
        raise MathError("train", "the model has weights that are not finite numbers (inf or nan); it is not saved")
    return doc


class _RepeatedKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (json's own rule is: the last one wins)."""
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(shortened(visible(key)))
            seen.add(key)
    return doc


def load_model(text: str, source: str, backend: str | None = None) -> Trained:
    """Read and check a model file; anything that is not a model of a consistent shape is a DataError.

    backend: the tensor backend of the network (default: the tensor default).
    """
    try:
        doc = json.loads(text, object_pairs_hook=_object_without_repeats)
    except _RepeatedKey as repeated:
        raise DataError(f'{source} is not a valid model file: the key "{repeated.key}" appears twice in one '
                        f"object (which value is meant?)") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{source} is not a model file: not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise DataError(f"{source} is not a model file: its JSON is nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise DataError(f"{source} is not a valid model file: {json_value_problem(exc)}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f'{source} is not an autodiff model file (it has no "format": "{FORMAT}")')
    if type(doc.get("version")) is not int or doc["version"] != VERSION:  # true == 1 in Python, not in JSON
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
    if acts[-1] != "linear":
        raise DataError(f'{source}: the last layer must be linear (its "activation" is {acts[-1]!r}): '
                        "its outputs are the prediction or the class scores")
    expected = len(labels) if len(labels) > 2 else 1
    if sizes[-1] != expected:
        what = f"a classifier of {len(labels)} classes" if task == "classification" else "a regression model"
        raise DataError(f"{source}: the last layer has {sizes[-1]} outputs, but {what} needs {expected}")
    limits.check_network(sizes)  # the shapes are consistent: now their size, before the network is built
    model = network(sizes, acts, backend=backend)
    with no_grad():
        for layer, (w, b) in zip(linear_layers(model), weights, strict=True):
            layer.weight.data = [[float(v) for v in row] for row in w]
            layer.bias.data = [float(v) for v in b]
    training = doc.get("training") if isinstance(doc.get("training"), dict) else {}
    return Trained(model, acts, task, inputs, target, labels, scaling, target_scaling, training)


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
        if not _finite(value):
            raise self._fail(key, "a finite number", where)
        return float(value)

    def numbers(self, doc: dict, key: str, sub: str | None = None, where: str | None = None) -> list[float]:
        value = doc.get(key)
        if sub is not None:
            if not isinstance(value, dict):
                raise self._fail(key, "an object", where)
            value, key = value.get(sub), f"{key}.{sub}"
        ok = isinstance(value, list) and value and all(_finite(v) for v in value)
        if not ok:
            raise self._fail(key, "a non-empty list of finite numbers", where)
        return [float(v) for v in value]


def _finite(value: object) -> bool:
    """A JSON number that is a finite double (an integer too large for one is not; a boolean is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int past the largest double
        return False
