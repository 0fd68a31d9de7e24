"""Model files across the move to tensors: files written by the scalar network still load, and the tensor
path predicts what the scalar network (autodiff_cli.nn, the reference) predicts from the same weights.

tests/data/old-models/ holds files and predictions written by the scalar code (see its README.md).
"""

import csv
import io
import json
import math
from pathlib import Path

import pytest
from helpers import run

from autodiff_cli import nn
from autodiff_cli.modelfile import load_model, to_json
from autodiff_cli.tensor import available
from autodiff_cli.training import forward_floats

ROOT = Path(__file__).resolve().parent.parent
OLD = ROOT / "tests" / "data" / "old-models"
EXAMPLES = ROOT / "examples"
OLD_FILES = [  # (model, the data it predicted on)
    ("moons-model.json", EXAMPLES / "moons.csv"),
    ("three-classes-relu.json", OLD / "three.csv"),
    ("regression-sigmoid.json", OLD / "wave.csv"),
]


def scalar_network(doc):
    """The model file as the scalar network of Values: one Neuron per row of weights."""
    sizes = [len(doc["inputs"]), *(len(layer["biases"]) for layer in doc["layers"])]
    model = nn.MLP(sizes[0], sizes[1:], seed=0)
    for layer, saved in zip(model.layers, doc["layers"], strict=True):
        for neuron, row, bias in zip(layer, saved["weights"], saved["biases"], strict=True):
            neuron.activation = saved["activation"]
            for w, value in zip(neuron.w, row, strict=True):
                w.data = value
            neuron.b.data = bias
    return model


def scalar_predictions(doc, rows):
    """(prediction, probabilities) per raw row, by the scalar network and plain floats."""
    mean, std = doc["scaling"]["mean"], doc["scaling"]["std"]
    model = scalar_network(doc)
    found = []
    for row in rows:
        z = forward_floats(model, [(v - m) / s for v, m, s in zip(row, mean, std, strict=True)])
        if doc["task"] == "regression":
            found.append((doc["target_scaling"]["mean"] + doc["target_scaling"]["std"] * z[0], []))
            continue
        if len(z) == 1:
            probs = [1 / (1 + math.exp(z[0])), 1 / (1 + math.exp(-z[0]))]
        else:
            e = [math.exp(v - max(z)) for v in z]
            probs = [v / sum(e) for v in e]
        found.append((doc["labels"][probs.index(max(probs))], probs))
    return found


def table(text):
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("backend", available())
@pytest.mark.parametrize(("name", "data"), OLD_FILES)
def test_an_old_model_file_predicts_what_the_scalar_code_predicted(name, data, backend):
    result = run("predict", OLD / name, data, "--backend", backend)
    assert result.exit_code == 0, result.stderr
    ours = table(result.stdout)
    theirs = table((OLD / name.replace(".json", ".predictions.csv")).read_text())
    assert ours[0] == theirs[0]  # the same columns, in the same order
    assert len(ours) == len(theirs)
    for mine, old in zip(ours[1:], theirs[1:], strict=True):
        columns = len(data.read_text().splitlines()[0].split(","))
        assert mine[:columns] == old[:columns]  # the input's cells, as they were
        if old[columns].replace(".", "").replace("-", "").replace("e", "").isdigit():  # a regression
            assert float(mine[columns]) == pytest.approx(float(old[columns]), rel=1e-12)
        else:
            assert mine[columns] == old[columns]  # the same class
        for p, q in zip(mine[columns + 1 :], old[columns + 1 :], strict=True):
            assert float(p) == pytest.approx(float(q), rel=1e-11, abs=1e-15)


@pytest.mark.parametrize("backend", available())
@pytest.mark.parametrize("path", [OLD / name for name, _ in OLD_FILES] + [EXAMPLES / "moons-model.json"])
def test_every_model_file_predicts_as_the_scalar_network_of_its_weights(path, backend):
    doc = json.loads(path.read_text())
    trained = load_model(path.read_text(), path.name, backend=backend)
    rows = [[-1.5, 0.25], [0.0, 0.0], [2.0, -1.0], [0.5, 7.5], [100.0, -3.0]]
    ours = trained.predict_many(rows)
    for (prediction, probs), (expected, expected_probs) in zip(ours, scalar_predictions(doc, rows), strict=True):
        if isinstance(expected, str):
            assert prediction == expected
        else:
            assert prediction == pytest.approx(expected, rel=1e-12)
        assert probs == pytest.approx(expected_probs, rel=1e-11, abs=1e-15)


@pytest.mark.parametrize("name", [name for name, _ in OLD_FILES])
def test_an_old_file_read_and_written_again_keeps_every_number(name):
    doc = json.loads((OLD / name).read_text())
    again = to_json(load_model((OLD / name).read_text(), name))
    assert again["layers"] == doc["layers"]  # every weight to the last bit, with its layer's activation
    assert {k: v for k, v in again.items() if k != "layers"} == {k: v for k, v in doc.items() if k != "layers"}


def test_a_file_with_an_activation_per_layer_loads_as_layers_of_its_own(tmp_path):
    """train writes one activation for every hidden layer; a file may give each its own, or none ("linear")."""
    doc = json.loads((OLD / "three-classes-relu.json").read_text())
    doc["layers"][0]["activation"] = "sigmoid"
    doc["layers"][1]["activation"] = "linear"
    trained = load_model(json.dumps(doc), "mixed.json")
    assert trained.activations == ["sigmoid", "linear", "linear"] and trained.sizes == [2, 5, 4, 3]
    rows = [[0.5, -1.0], [3.0, 2.0], [-2.0, -2.0]]
    for (prediction, probs), (expected, expected_probs) in zip(trained.predict_many(rows),
                                                               scalar_predictions(doc, rows), strict=True):
        assert prediction == expected and probs == pytest.approx(expected_probs, rel=1e-11)
    assert to_json(trained)["layers"] == doc["layers"]


def test_predict_reads_the_model_on_either_backend_alike(tmp_path):
    if len(available()) < 2:
        pytest.skip("NumPy is not installed: one backend only")
    outputs = [run("predict", EXAMPLES / "moons-model.json", EXAMPLES / "moons.csv", "--backend", b).stdout
               for b in ("python", "numpy")]
    python, numpy = (table(text) for text in outputs)
    assert python[0] == numpy[0] == ["x1", "x2", "label", "prediction", "p(bottom)", "p(top)"]
    for a, b in zip(python[1:], numpy[1:], strict=True):
        assert a[:4] == b[:4]  # the inputs, the label and the predicted class
        assert [float(v) for v in a[4:]] == pytest.approx([float(v) for v in b[4:]], rel=1e-12)
    env = run("predict", EXAMPLES / "moons-model.json", EXAMPLES / "moons.csv", env={"AUTODIFF_BACKEND": "python"})
    assert env.stdout == outputs[0]  # the environment variable chooses as --backend does
