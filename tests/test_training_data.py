"""The tables train and predict read: every cell a plain decimal number or an error naming its row and
column, blank lines and carriage returns as spreadsheets write them, the target's task, standardising."""

import math
import statistics
from pathlib import Path

import pytest
from helpers import run

from autodiff_cli.data import Scaling, prepare, read_table
from autodiff_cli.training import Settings, Trainer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# -- cells and lines ---------------------------------------------------------------------------------


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


def test_train_reads_blank_lines_before_the_header_and_carriage_returns_only():
    text = "\n\nx,y\r1,3\r2,5\r3,7\r"
    data = prepare(read_table(text, "cr.csv"), "y")
    assert data.X_raw == [[1.0], [2.0], [3.0]] and data.y_raw == [3.0, 5.0, 7.0]
    result = run("train", "-", "-t", "y", "--epochs", "1", "--quiet", input="\nx,x\n1,2\n")
    assert result.stderr == "Error: stdin, line 2: the column name 'x' appears twice\n"


def test_train_and_predict_take_plain_decimal_numbers_only(tmp_path):
    result = run("train", "-", "-t", "y", "--quiet", input="x,y\n1_000,1\n2,3\n")
    assert result.exit_code == 2
    assert result.stderr == ("Error: stdin, row 1 (line 2), column 'x': '1_000' is not a number "
                             "(a plain decimal number has no '_')\n")
    result = run("predict", str(EXAMPLES / "moons-model.json"), "-", input="x1,x2\n1,\u0662\n")
    assert result.exit_code == 2 and "'\u0662' is not a number" in result.stderr


def test_an_input_named_twice_is_a_usage_error_and_nothing_is_saved(tmp_path):
    model = tmp_path / "dup.json"
    result = run("train", str(EXAMPLES / "moons.csv"), "-t", "label", "--inputs", "x1,x1", "--save", model)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "Error: --inputs: the column 'x1' is given twice; name each input once\n"
    assert not model.exists()


# -- the target: regression or classification --------------------------------------------------------


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


# -- standardising -----------------------------------------------------------------------------------


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
