"""train and predict: regressions for a reviewer's findings (each test fails without its fix)."""


import json
import math
import statistics
from pathlib import Path

import pytest
from helpers import run

from autodiff_cli.data import Scaling, prepare, read_table
from autodiff_cli.errors import MathError
from autodiff_cli.modelfile import to_json
from autodiff_cli.training import Settings, Trainer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_a_row_of_empty_cells_is_not_dropped(tmp_path):
    table = read_table("x1,x2\n1,2\n,\n\n  \n3,4\n", "e.csv")
    assert table.rows == [["1", "2"], ["", ""], ["3", "4"]] and table.lines == [2, 3, 6]
    data = tmp_path / "e.csv"
    data.write_text("x1,x2\n1,2\n,\n3,4\n")
    result = run("predict", str(EXAMPLES / "moons-model.json"), data)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "Error: " + f"{data}, row 2 (line 3), column 'x1': an empty cell is not a number\n"
    train = tmp_path / "t.csv"
    train.write_text("x,y\n1,2\n,\n3,4\n")
    result = run("train", train, "-t", "y", "--epochs", "1", "--quiet")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {train}, row 2 (line 3), column 'x': an empty cell is not a number\n"


def test_an_input_named_twice_is_a_usage_error_and_nothing_is_saved(tmp_path):
    model = tmp_path / "dup.json"
    result = run("train", str(EXAMPLES / "moons.csv"), "-t", "label", "--inputs", "x1,x1", "--save", model)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "Error: --inputs: the column 'x1' is given twice; name each input once\n"
    assert not model.exists()


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


def test_mean_and_std_of_values_near_the_largest_double():
    scaling = Scaling.fit([[1e300, -1e300], [1.5e308, 1.7e308, 1.6e308]])
    assert scaling.mean[0] == 0.0 and scaling.std[0] == pytest.approx(1e300, rel=1e-15)
    assert scaling.mean[1] == pytest.approx(1.6e308, rel=1e-15)
    assert scaling.std[1] == pytest.approx(math.sqrt(2 / 3) * 0.1e308, rel=1e-12)  # deviations -1, 1, 0 (x 1e307)
    data = prepare(read_table("x,y\n1e300,2\n-1e300,3\n", "stdin"), "y")
    assert data.X == [[1.0], [-1.0]]


def test_training_on_huge_inputs_works_or_names_the_column():
    result = run("train", "-", "-t", "y", "--epochs", "2", "--quiet", input="x,y\n1e300,2\n-1e300,3\n")
    assert result.exit_code == 0, result.stderr
    result = run("train", "-", "-t", "y", "--epochs", "2", "--quiet", input="x,y\n1.7e308,2\n-1.7e308,3\n1e308,4\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: stdin, column 'x': the values are too far apart to standardise")


def reg_csv(tmp_path):
    path = tmp_path / "reg.csv"
    path.write_text("x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(20)))
    return path


def test_training_that_diverges_stops_with_a_math_error_and_saves_nothing(tmp_path):
    model = tmp_path / "m.json"
    result = run("train", reg_csv(tmp_path), "-t", "y", "--epochs", "1", "--lr", "1e308", "--save", model)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.endswith("Error: training diverged at epoch 1: the weights are no longer finite numbers; "
                                  "try a smaller --lr (it is 1e+308)\n")
    assert not model.exists()


def test_a_model_with_infinite_weights_is_never_written(tmp_path):
    table = read_table(reg_csv(tmp_path).read_text(), "reg.csv")
    trained = Trainer(prepare(table, "y"), Settings(hidden=[2], epochs=1)).result()
    trained.model.layers[0][0].w[0].data = math.inf
    with pytest.raises(MathError, match="not finite"):
        to_json(trained)


def test_an_overflow_while_training_says_it_diverged_and_suggests_a_smaller_lr(tmp_path):
    result = run("train", reg_csv(tmp_path), "-t", "y", "--optimizer", "sgd", "--lr", "1e10", "--quiet")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: training diverged at epoch ")
    assert "too large for a double" in result.stderr
    assert result.stderr.endswith("; try a smaller --lr (it is 1e+10)\n")


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


def test_the_scaling_is_fitted_on_the_training_rows_only():
    xs = [float(i * i) for i in range(20)]
    text = "x,y\n" + "".join(f"{x},{3 * x + 1}\n" for x in xs)
    trainer = Trainer(prepare(read_table(text, "q.csv"), "y"), Settings(hidden=[2], epochs=1, val_split=0.25))
    assert len(trainer.val_rows) == 5
    train_x = [xs[i] for i in trainer.train_rows]
    train_y = [3 * x + 1 for x in train_x]
    trained = trainer.result()
    assert trained.scaling.mean == [pytest.approx(statistics.fmean(train_x), rel=1e-15)]
    assert trained.scaling.std == [pytest.approx(statistics.pstdev(train_x), rel=1e-15)]
    assert trained.target_scaling.mean == [pytest.approx(statistics.fmean(train_y), rel=1e-15)]
    assert trained.target_scaling.std == [pytest.approx(statistics.pstdev(train_y), rel=1e-15)]
    i = trainer.val_rows[0]  # a held-out row is standardised with the training rows' figures
    assert trainer.data.X[i] == [pytest.approx((xs[i] - statistics.fmean(train_x)) / statistics.pstdev(train_x))]


def test_train_reads_blank_lines_before_the_header_and_carriage_returns_only():
    text = "\n\nx,y\r1,3\r2,5\r3,7\r"
    data = prepare(read_table(text, "cr.csv"), "y")
    assert data.X_raw == [[1.0], [2.0], [3.0]] and data.y_raw == [3.0, 5.0, 7.0]
    result = run("train", "-", "-t", "y", "--epochs", "1", "--quiet", input="\nx,x\n1,2\n")
    assert result.stderr == "Error: stdin, line 2: the column name 'x' appears twice\n"


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


def test_train_and_predict_take_plain_decimal_numbers_only(tmp_path):
    result = run("train", "-", "-t", "y", "--quiet", input="x,y\n1_000,1\n2,3\n")
    assert result.exit_code == 2
    assert result.stderr == ("Error: stdin, row 1 (line 2), column 'x': '1_000' is not a number "
                             "(a plain decimal number has no '_')\n")
    result = run("predict", str(EXAMPLES / "moons-model.json"), "-", input="x1,x2\n1,\u0662\n")
    assert result.exit_code == 2 and "'\u0662' is not a number" in result.stderr


@pytest.mark.parametrize("bad, shown", [
    ("1.5x", "'1.5x'"), ("nan", "'nan'"), ("1e400", "'1e400'"), ("", "an empty cell"),
])
def test_a_few_non_numbers_in_a_numeric_target_stop_with_the_first_bad_cell(bad, shown):
    text = "x,y\n" + "".join(f"{i},{2 * i + 0.5}\n" for i in range(6)) + f"6,{bad}\n7,{bad}\n"
    result = run("train", "-", "-t", "y", "--quiet", input=text)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (f"Error: stdin, row 7 (line 8), column 'y': {shown} is not a number, but most of the "
                             "target column is numbers: fix it for regression, or add --task classification to "
                             "treat every value as a class\n")
    if bad:  # --task classification takes them as classes (an empty label stays an error)
        forced = prepare(read_table(text, "t.csv"), "y", task="classification")
        assert forced.task == "classification" and len(forced.labels) == 7


def test_labels_that_are_mostly_text_are_still_classification():
    data = prepare(read_table("x,y\n1,a\n2,b\n3,1\n", "t.csv"), "y")
    assert data.task == "classification" and data.labels == ["1", "a", "b"]
