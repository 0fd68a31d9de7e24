"""autodiff train / predict: data checks, the model file, output in a pipe and as JSON."""

import json
import math
import random

import pytest
from helpers import run

from autodiff_cli.data import prepare, read_table
from autodiff_cli.errors import DataError
from autodiff_cli.modelfile import load_model, to_json
from autodiff_cli.training import Settings, Trainer


def blobs(n=40, seed=0, classes=("a", "b")):
    """Two (or more) well separated clusters in two inputs, as CSV text."""
    rng = random.Random(seed)
    lines = ["x1,x2,label"]
    for i in range(n):
        k = i % len(classes)
        cx, cy = 3.0 * math.cos(2 * math.pi * k / len(classes)), 3.0 * math.sin(2 * math.pi * k / len(classes))
        lines.append(f"{cx + rng.gauss(0, 0.5)!r},{cy + rng.gauss(0, 0.5)!r},{classes[k]}")
    return "\n".join(lines) + "\n"


def line_data(n=30):
    """y = 2*x1 - x2 + 5 exactly."""
    rng = random.Random(1)
    lines = ["x1,x2,y"]
    for _ in range(n):
        a, b = rng.uniform(-2, 2), rng.uniform(-2, 2)
        lines.append(f"{a!r},{b!r},{2 * a - b + 5!r}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "blobs.csv").write_text(blobs(), encoding="utf-8")
    (tmp_path / "three.csv").write_text(blobs(60, classes=("cat", "dog", "eel")), encoding="utf-8")
    (tmp_path / "line.csv").write_text(line_data(), encoding="utf-8")
    return tmp_path


# -- training -------------------------------------------------------------------------


def test_train_two_classes_learns_and_draws_in_a_pipe(files):
    result = run("train", files / "blobs.csv", "--target", "label", "--epochs", "30", "--hidden", "8")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("classification of label (2 classes: a, b) from x1, x2\n")
    assert "model 2-8-1 (tanh), 33 parameters; adam, lr 0.01; 30 epochs, full batch, seed 0" in out
    assert "accuracy 100.0%" in out
    assert "training loss" in out and "decision regions over x1 (across) and x2 (up)" in out
    assert "o a (region .)   x b (region :)" in out
    assert "\x1b[" not in out + result.stderr  # no escape codes in a pipe
    # progress: plain lines on stderr, the first epoch, every tenth and the last
    epochs = [int(line.split()[1].split("/")[0]) for line in result.stderr.splitlines()]
    assert epochs == [1, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]


def test_training_is_repeatable_with_a_seed(files, tmp_path):
    args = ["train", files / "blobs.csv", "-t", "label", "--epochs", "5", "--hidden", "4", "-q"]
    run(*args, "--save", tmp_path / "m1.json")
    run(*args, "--save", tmp_path / "m2.json")
    run(*args, "--seed", "1", "--save", tmp_path / "m3.json")
    m1, m2, m3 = (json.loads((tmp_path / f"m{k}.json").read_text()) for k in (1, 2, 3))
    assert m1 == m2
    assert m1["layers"] != m3["layers"]


def test_regression_learns_a_line_and_reports_rmse_in_the_targets_units(files):
    result = run("train", files / "line.csv", "-t", "y", "--hidden", "none", "--epochs", "200", "--optimizer", "sgd",
                 "--lr", "0.1", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["task"] == "regression" and doc["model"] == [2, 1]
    assert doc["history"][-1]["rmse"] < 1e-6  # a linear model fits a line exactly
    assert doc["history"][0]["rmse"] > 0.5


def test_the_saved_regression_model_predicts_in_the_targets_units(files, tmp_path):
    model = tmp_path / "line.json"
    run("train", files / "line.csv", "-t", "y", "--hidden", "none", "--epochs", "200", "--optimizer", "sgd",
        "--lr", "0.1", "-q", "--save", model)
    (tmp_path / "new.csv").write_text("id,x2,x1\n7,1.0,0.5\n8,-1,3\n", encoding="utf-8")
    result = run("predict", model, tmp_path / "new.csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "id,x2,x1,prediction"  # every column kept, in the file's order
    assert lines[1].startswith("7,1.0,0.5,")
    assert float(lines[1].split(",")[-1]) == pytest.approx(2 * 0.5 - 1.0 + 5, abs=1e-5)
    assert float(lines[2].split(",")[-1]) == pytest.approx(2 * 3 + 1 + 5, abs=1e-5)


def test_three_classes_use_softmax_and_predict_probabilities(files, tmp_path):
    model = tmp_path / "three.json"
    result = run("train", files / "three.csv", "-t", "label", "--epochs", "40", "--hidden", "8", "-q",
                 "--save", model)
    assert result.exit_code == 0, result.stderr
    assert "3 classes: cat, dog, eel" in result.stdout and "accuracy 100.0%" in result.stdout
    doc = json.loads(model.read_text())
    assert doc["labels"] == ["cat", "dog", "eel"] and len(doc["layers"][-1]["biases"]) == 3
    result = run("predict", model, files / "three.csv")
    lines = result.stdout.splitlines()
    assert lines[0] == "x1,x2,label,prediction,p(cat),p(dog),p(eel)"
    for line in lines[1:]:
        cells = line.split(",")
        assert cells[3] == cells[2]
        probs = [float(c) for c in cells[4:]]
        assert sum(probs) == pytest.approx(1.0) and max(probs) == probs[["cat", "dog", "eel"].index(cells[3])]


def test_validation_split_reports_validation_metrics(files):
    result = run("train", files / "blobs.csv", "-t", "label", "--epochs", "3", "--hidden", "4",
                 "--val-split", "0.25", "--batch-size", "10", "--json")
    doc = json.loads(result.stdout)
    assert doc["training"]["rows"] == 30
    assert set(doc["history"][-1]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    result = run("train", files / "blobs.csv", "-t", "label", "--epochs", "3", "--val-split", "0.25")
    assert "30 training rows, 10 validation rows" in result.stdout
    assert "val_accuracy" in result.stderr


def test_validation_metrics_are_the_models_loss_and_accuracy_on_the_held_out_rows(files):
    data = prepare(read_table(blobs(), "blobs.csv"), "label")
    trainer = Trainer(data, Settings(hidden=[4], epochs=2, val_split=0.25, seed=3))
    epochs = list(trainer.run())
    # recompute by hand on the held-out rows, in plain floats: mean softplus loss and accuracy
    (w1, b1), (w2, b2) = [(layer["weights"], layer["biases"]) for layer in to_json(trainer.result())["layers"]]
    total, correct = 0.0, 0
    for i in trainer.val_rows:
        x = trainer.data.X[i]  # standardised with the training rows' mean and std
        hidden = [math.tanh(b + sum(w * v for w, v in zip(row, x, strict=True))) for row, b in zip(w1, b1, strict=True)]
        z = b2[0] + sum(w * h for w, h in zip(w2[0], hidden, strict=True))
        y = trainer.data.y[i]
        total += math.log1p(math.exp(-z)) if y == 1.0 else math.log1p(math.exp(z))
        correct += (z > 0) == (y == 1.0)
    assert epochs[-1].val_loss == pytest.approx(total / len(trainer.val_rows), rel=1e-12)
    assert epochs[-1].val_metric == correct / len(trainer.val_rows)


def test_a_numeric_target_is_regression_with_a_hint_when_it_looks_like_classes(files, tmp_path):
    (tmp_path / "bin.csv").write_text("x,y\n1,0\n2,1\n3,0\n4,1\n", encoding="utf-8")
    result = run("train", tmp_path / "bin.csv", "-t", "y", "--epochs", "2", "-q")
    assert result.stdout.startswith("regression of y")
    assert "add --task classification" in result.stderr
    result = run("train", tmp_path / "bin.csv", "-t", "y", "--epochs", "2", "-q", "--task", "classification")
    assert result.stdout.startswith("classification of y (2 classes: 0, 1)")


def test_numeric_labels_sort_as_numbers():
    table = read_table("x,y\n1,10\n2,9\n3,10\n4,2\n", "t.csv")
    assert prepare(table, "y", "classification").labels == ["2", "9", "10"]


def test_inputs_are_standardised():
    data = prepare(read_table("a,b,y\n1,10,0\n3,10,1\n5,10,2\n", "t.csv"), "y")
    assert data.scaling.mean == [3.0, 10.0]
    assert data.scaling.std == pytest.approx([math.sqrt(8 / 3), 1.0])  # a constant column keeps std 1
    assert [row[0] for row in data.X] == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)])


# -- bad data: a clear error naming row and column, exit 2 --------------------------------


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("x1,x2,y\n1,2,3\n4,abc,6\n", ["-t", "y"], "row 2 (line 3), column 'x2': 'abc' is not a number"),
        ("x1,x2,y\n1,2,3\n4,,6\n", ["-t", "y"], "row 2 (line 3), column 'x2': an empty cell is not a number"),
        ("x1,x2,y\n1,2,3\n4,nan,6\n", ["-t", "y"], "column 'x2': 'nan' is not a number"),
        ("", ["-t", "y"], "is empty: it needs a header line"),
        ("\n\n", ["-t", "y"], "is empty"),
        ("x1,x2,y\n", ["-t", "y"], "has a header but no rows of data"),
        ("x1,x2,y\n1,2,3\n", ["-t", "z"], "has no column 'z' (its columns: x1, x2, y)"),
        ("x1,x2,y\n1,2,a\n3,4,a\n", ["-t", "y"], "column 'y': every row has the label 'a'; classification needs"),
        ("x1,x2,y\n1,2,3\n4,5\n", ["-t", "y"], "row 2 (line 3): 2 fields, but the header has 3"),
        ("x1,x1,y\n1,2,3\n", ["-t", "y"], "the column name 'x1' appears twice"),
        ("x1,x2,y\n1,2,a\n3,4,\n", ["-t", "y", "--task", "classification"], "row 2 (line 3), column 'y': the label"),
        ("x1,x2,y\n1,2,a\n3,4,b\n", ["-t", "y", "--task", "regression"], "row 1 (line 2), column 'y': 'a' is not"),
        ("y\n1\n2\n", ["-t", "y"], "no input columns"),
        ("x,y\n1,a\n2,b\n", ["-t", "y", "--val-split", "0.5"], "only one class"),
    ],
)
def test_bad_data_is_a_clear_error_with_exit_2(tmp_path, text, args, message):
    (tmp_path / "data.csv").write_text(text, encoding="utf-8")
    result = run("train", tmp_path / "data.csv", *args, "--epochs", "1", "-q")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_and_stdin(files):
    result = run("train", files / "nope.csv", "-t", "y")
    assert result.exit_code == 2 and "cannot read" in result.stderr and "No such file" in result.stderr
    result = run("train", "-", "-t", "label", "--epochs", "2", "-q", input=blobs())
    assert result.exit_code == 0 and "classification of label" in result.stdout


def test_usage_errors(files):
    result = run("train", files / "blobs.csv", "-t", "label", "--hidden", "16,x")
    assert result.exit_code == 2 and "layer sizes are whole numbers" in result.stderr
    result = run("train", files / "blobs.csv", "-t", "label", "--momentum", "0.9")
    assert result.exit_code == 2 and "--momentum is for --optimizer sgd" in result.stderr
    result = run("train", files / "blobs.csv", "-t", "label", "--inputs", "x1,label")
    assert result.exit_code == 2 and "cannot also be an input" in result.stderr
    result = run("train", files / "blobs.csv", "-t", "label", "--lr", "0")
    assert result.exit_code == 2
    result = run("train", files / "blobs.csv", "-t", "label", "--backend", "gpu")
    assert result.exit_code == 2 and "'gpu' is not one of 'numpy', 'python'" in result.stderr
    result = run("predict", files / "m.json", files / "blobs.csv", env={"AUTODIFF_BACKEND": "cupy"})
    assert result.exit_code == 2 and "'cupy' is not one of 'numpy', 'python'" in result.stderr


def test_save_to_a_directory_that_does_not_exist(files):
    result = run("train", files / "blobs.csv", "-t", "label", "--epochs", "1", "-q", "--save", files / "no/m.json")
    assert result.exit_code == 2 and "cannot write" in result.stderr


# -- the model file ---------------------------------------------------------------------


@pytest.fixture
def model_doc(files, tmp_path):
    path = tmp_path / "m.json"
    run("train", files / "blobs.csv", "-t", "label", "--epochs", "2", "--hidden", "3", "-q", "--save", path)
    return json.loads(path.read_text())


def test_the_model_file_is_documented_json(model_doc):
    assert model_doc["format"] == "autodiff-mlp" and model_doc["version"] == 1
    assert model_doc["task"] == "classification" and model_doc["labels"] == ["a", "b"]
    assert model_doc["inputs"] == ["x1", "x2"] and model_doc["target"] == "label"
    assert [layer["activation"] for layer in model_doc["layers"]] == ["tanh", "linear"]
    assert [len(layer["weights"][0]) for layer in model_doc["layers"]] == [2, 3]
    assert len(model_doc["scaling"]["mean"]) == 2


def test_a_loaded_model_predicts_exactly_as_the_trained_one(files):
    data = prepare(read_table(blobs(), "b.csv"), "label")
    trainer = Trainer(data, Settings(hidden=[5], epochs=3))
    list(trainer.run())
    trained = trainer.result()
    loaded = load_model(json.dumps(to_json(trained)), "m.json", backend=trainer.backend.name)
    assert loaded.scores_many(data.X) == trained.scores_many(data.X)  # to the last bit, on the same backend
    assert loaded.sizes == trained.sizes == [2, 5, 1] and loaded.activations == ["tanh", "linear"]


def mutate(doc, path, value):
    doc = json.loads(json.dumps(doc))
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: [1, 2, 3], "is not an autodiff model file"),
        (lambda d: mutate(d, ["format"], "onnx"), "is not an autodiff model file"),
        (lambda d: mutate(d, ["version"], 2), "version 2; this autodiff reads version 1"),
        (lambda d: mutate(d, ["layers", 1, "weights", 0], [1.0, 2.0]), "layer 2, neuron 1 has 2 weights, but layer 1"),
        (lambda d: mutate(d, ["layers", 0, "weights", 0], [1.0]), "layer 1, neuron 1 has 1 weights, but the model"),
        (lambda d: mutate(d, ["layers", 0, "biases"], [0.0]), "as many rows of weights as biases"),
        (lambda d: mutate(d, ["layers", 0, "activation"], "gelu"), '"activation" must be one of'),
        (
            lambda d: mutate(d, ["layers", 1], {"activation": "linear", "weights": [[0.0] * 3] * 2, "biases": [0, 0]}),
            "the last layer has 2 outputs, but a classifier of 2 classes needs 1",
        ),
        (lambda d: mutate(d, ["scaling", "std"], [1.0]), "the scaling has 2 means and 1 stds for 2 inputs"),
        (lambda d: mutate(d, ["labels"], ["a"]), "at least two labels"),
        (lambda d: mutate(d, ["inputs"], KeyError), '"inputs" must be a non-empty list'),
        (lambda d: mutate(d, ["layers", 0, "biases", 0], "0.5"), '"biases" must be a non-empty list of finite'),
        (lambda d: mutate(d, ["task"], "clustering"), '"task" must be one of regression, classification'),
    ],
)
def test_predict_rejects_what_is_not_a_consistent_model(model_doc, files, tmp_path, change, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(change(model_doc)), encoding="utf-8")
    result = run("predict", path, files / "blobs.csv")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr


def test_predict_rejects_text_that_is_not_json_and_data_missing_a_column(model_doc, files, tmp_path):
    (tmp_path / "x.json").write_text("x1,x2\n1,2\n", encoding="utf-8")
    result = run("predict", tmp_path / "x.json", files / "blobs.csv")
    assert result.exit_code == 2 and "is not a model file: not JSON" in result.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps(model_doc), encoding="utf-8")
    (tmp_path / "new.csv").write_text("x1,x3\n1,2\n", encoding="utf-8")
    result = run("predict", good, tmp_path / "new.csv")
    assert result.exit_code == 2
    assert "has no column 'x2', which the model needs (the model's inputs: x1, x2)" in result.stderr
    (tmp_path / "new.csv").write_text("x1,x2\n1,2\n3,oops\n", encoding="utf-8")
    result = run("predict", good, tmp_path / "new.csv")
    assert result.exit_code == 2 and "row 2 (line 3), column 'x2': 'oops' is not a number" in result.stderr


def test_data_error_is_a_usage_error():
    assert DataError("x").exit_code == 2


def test_every_new_command_has_help():
    for name in ("train", "predict"):
        result = run(name, "--help")
        assert result.exit_code == 0 and "Examples:" in result.stdout


def test_the_terminal_drawing_is_the_plain_text_in_colour(files, monkeypatch):
    import io
    import re

    from rich.console import Console

    import autodiff_cli.cli.training as command

    args = ("train", files / "blobs.csv", "-t", "label", "--epochs", "3", "--hidden", "4", "-q")
    plain = run(*args).stdout
    screen = io.StringIO()
    monkeypatch.setattr(command, "is_terminal", lambda: True)
    monkeypatch.setattr(
        command, "console", lambda wide=False: Console(file=screen, force_terminal=True, color_system="standard",
                                                       width=120)
    )
    result = run(*args)
    assert result.exit_code == 0 and result.stdout == ""
    coloured = screen.getvalue()
    assert "\x1b[1;31mx" in coloured or "\x1b[1;34mo" in coloured  # the points in bold colour
    stripped = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert [line.rstrip() for line in stripped.splitlines() if line.strip()] == [
        line.rstrip() for line in plain.splitlines() if line.strip()
    ]


def test_predicting_on_numbers_too_large_for_the_model_is_a_math_error(files, tmp_path):
    model = tmp_path / "m.json"
    run("train", files / "blobs.csv", "-t", "label", "--epochs", "1", "--hidden", "3", "-q", "--save", model)
    (tmp_path / "huge.csv").write_text("x1,x2\n1e308,-1e308\n", encoding="utf-8")
    result = run("predict", model, tmp_path / "huge.csv")
    assert result.exit_code == 1 and "too large for a double" in result.stderr and result.stdout == ""


def test_the_json_document_keeps_its_shape(files, tmp_path):
    """The keys --json printed before the tensor path, each of the same type; `training` gains the backend."""
    result = run("train", files / "three.csv", "-t", "label", "--epochs", "3", "--hidden", "4", "--val-split", "0.2",
                 "--batch-size", "16", "--json", "--save", tmp_path / "m.json")
    doc = json.loads(result.stdout)
    assert list(doc) == ["task", "target", "inputs", "labels", "model", "parameters", "training", "history", "saved"]
    assert doc["task"] == "classification" and doc["target"] == "label" and doc["inputs"] == ["x1", "x2"]
    assert doc["labels"] == ["cat", "dog", "eel"] and doc["model"] == [2, 4, 3]
    assert doc["parameters"] == (2 * 4 + 4) + (4 * 3 + 3)  # weights and biases, counted one by one
    assert list(doc["training"]) == ["optimizer", "lr", "epochs", "batch_size", "seed", "val_split", "rows", "backend",
                                     "final"]
    assert doc["training"]["batch_size"] == 16 and doc["training"]["rows"] == 48 and doc["saved"].endswith("m.json")
    assert [list(e) for e in doc["history"]] == [["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]] * 3
    assert all(isinstance(e["loss"], float) and 0.0 <= e["val_accuracy"] <= 1.0 for e in doc["history"])
    assert doc["training"]["final"] == doc["history"][-1]
