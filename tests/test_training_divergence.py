"""Training that diverges stops with a math error that suggests a smaller --lr, and saves nothing."""

import math

import pytest
from helpers import run

from autodiff_cli.data import prepare, read_table
from autodiff_cli.errors import MathError, UsageError
from autodiff_cli.modelfile import to_json
from autodiff_cli.training import Settings, Trainer


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


def test_an_overflow_while_training_says_it_diverged_and_suggests_a_smaller_lr(tmp_path):
    result = run("train", reg_csv(tmp_path), "-t", "y", "--optimizer", "sgd", "--lr", "1e10", "--quiet")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: training diverged at epoch ")
    assert "too large for a double" in result.stderr
    assert result.stderr.endswith("; try a smaller --lr (it is 1e+10)\n")


def test_a_model_with_infinite_numbers_is_never_written(tmp_path):
    table = read_table(reg_csv(tmp_path).read_text(), "reg.csv")
    trained = Trainer(prepare(table, "y"), Settings(hidden=[2], epochs=1)).result()
    weight = trained.model.parameters()[0]
    with pytest.raises(UsageError, match="finite"):  # a tensor holds finite numbers only: no weight can be inf
        weight.data = [[math.inf]] * 2
    trained.scaling.mean[0] = math.inf  # the scaling is plain floats: the file's writer checks them
    with pytest.raises(MathError, match="not finite"):
        to_json(trained)
