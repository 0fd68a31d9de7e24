"""train and predict: regressions for a reviewer's findings (each test fails without its fix)."""


from click.testing import CliRunner

from autodiff_cli.cli import cli
from autodiff_cli.data import read_table


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


def test_a_row_of_empty_cells_is_not_dropped(tmp_path):
    table = read_table("x1,x2\n1,2\n,\n\n  \n3,4\n", "e.csv")
    assert table.rows == [["1", "2"], ["", ""], ["3", "4"]] and table.lines == [2, 3, 6]
    data = tmp_path / "e.csv"
    data.write_text("x1,x2\n1,2\n,\n3,4\n")
    result = run("predict", "examples/moons-model.json", data)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "Error: " + f"{data}, row 2 (line 3), column 'x1': an empty cell is not a number\n"
    train = tmp_path / "t.csv"
    train.write_text("x,y\n1,2\n,\n3,4\n")
    result = run("train", train, "-t", "y", "--epochs", "1", "--quiet")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {train}, row 2 (line 3), column 'x': an empty cell is not a number\n"


def test_an_input_named_twice_is_a_usage_error_and_nothing_is_saved(tmp_path):
    model = tmp_path / "dup.json"
    result = run("train", "examples/moons.csv", "-t", "label", "--inputs", "x1,x1", "--save", model)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "Error: --inputs: the column 'x1' is given twice; name each input once\n"
    assert not model.exists()
