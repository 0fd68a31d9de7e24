"""Model files: what predict refuses with a clear error, and the predictions it will not make."""

import json
from pathlib import Path

import pytest
from helpers import run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def moons_model():
    return json.loads(open(str(EXAMPLES / "moons-model.json")).read())


def test_a_weight_too_large_for_a_double_is_a_clean_model_error(tmp_path):
    doc = moons_model()
    doc["layers"][0]["weights"][0][0] = 10**400
    bad = tmp_path / "big.json"
    bad.write_text(json.dumps(doc))
    result = run("predict", bad, str(EXAMPLES / "new-points.csv"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {bad}: layer 1, neuron 1, weights:")
    assert "finite numbers" in result.stderr


def test_a_deeply_nested_json_is_not_a_model_file(tmp_path):
    bad = tmp_path / "deep.json"
    bad.write_text("[" * 100_000 + "]" * 100_000)
    result = run("predict", bad, str(EXAMPLES / "new-points.csv"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {bad} is not a model file: its JSON is nested too deeply\n"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(version=True), "is a model file of version True; this autodiff reads version 1"),
    (lambda d: d.update(version=1.0), "is a model file of version 1.0; this autodiff reads version 1"),
    (lambda d: d["layers"][-1].update(activation="tanh"), "the last layer must be linear"),
])
def test_predict_rejects_a_boolean_version_and_a_last_layer_that_is_not_linear(tmp_path, change, message):
    doc = moons_model()
    change(doc)
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps(doc))
    result = run("predict", bad, str(EXAMPLES / "new-points.csv"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {bad}") and message in result.stderr


def test_a_prediction_past_the_largest_double_is_an_error_naming_the_row(tmp_path):
    doc = {"format": "autodiff-mlp", "version": 1, "task": "regression", "inputs": ["x"], "target": "y",
           "scaling": {"mean": [0.0], "std": [1.0]}, "target_scaling": {"mean": 0.0, "std": 1e308},
           "layers": [{"activation": "linear", "weights": [[1.0]], "biases": [0.0]}]}
    model = tmp_path / "m.json"
    model.write_text(json.dumps(doc))
    # the model is y = 1e308 * x: x = 1 predicts 1e308, x = 2 overflows
    result = run("predict", model, "-", input="x\n1\n2\n")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == "Error: stdin, row 2 (line 3): the prediction (inf) is too large for a double\n"
    result = run("predict", model, "-", input="x\n1\n")
    assert result.exit_code == 0 and result.stdout == "x,prediction\n1,1e+308\n"
