"""The hostile inputs of issue 7, through the command line: a clear error, or the right number, never a traceback.

Speed is not asserted here (benchmarks/bench_hostile.py measures it); each of these
ends quickly because it is refused by a limit before the slow part could start.
"""

import json
import math
import subprocess
import sys

import pytest
from helpers import run


def fails(result, code, start):
    assert result.exit_code == code, result.stdout + result.stderr
    assert result.stderr.startswith(f"Error: {start}"), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return result.stderr


# -- numbers: the right answer, or a clear overflow --------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9^9^9", "overflow: 9^387420489 is too large for a double"),
        ("exp(exp(exp(10)))", "overflow: exp(22026.465794806718) is too large for a double"),
        ("10^400", "overflow: 10^400 is too large for a double"),
        ("1e308*10", "overflow: 1e+308 * 10 is too large for a double"),
        ("1e400", "number too large for a double: 1e400"),
    ],
)
def test_overflows_are_math_errors_naming_the_operation(text, message):
    code = 2 if text == "1e400" else 1  # a literal that is no double is a parse error
    assert fails(run("eval", text), code, message).splitlines()[0] == f"Error: {message}"
    result = run("eval", text, "--json")
    assert json.loads(result.stdout)["error"]["message"] == message


def test_negative_zero_keeps_its_sign_in_text_and_json():
    assert run("eval", "-0.0").stdout == "-0.0\n"
    value = json.loads(run("eval", "-0.0", "--json").stdout)["value"]
    assert value == 0.0 and math.copysign(1.0, value) == -1.0
    value = json.loads(run("eval", "x", "--x", "-0.0", "--json").stdout)["value"]
    assert math.copysign(1.0, value) == -1.0
    assert run("eval", "x*1", "--input", "-", input='{"x": -0.0}\n').stdout == '{"value": -0.0}\n'


def test_subnormals_are_numbers():
    assert run("eval", "5e-324").stdout == "5e-324\n"
    assert json.loads(run("eval", "5e-324", "--json").stdout)["value"] == 5e-324
    # d(x*x)/dx = 2x, by hand: 2e-310 is a subnormal double too; x*x underflows to 0
    doc = json.loads(run("grad", "x*x", "--x", "1e-310", "--json").stdout)
    assert doc["value"] == 0.0
    assert doc["gradient"]["x"] == 2e-310
    assert run("grad", "x*x", "--x", "1e-310").stdout == "value   0.0\n∂/∂x    2e-310\n"


# -- huge texts ---------------------------------------------------------------------


def test_a_megabyte_of_nested_parentheses_is_refused_by_its_depth():
    text = "(" * 499_999 + "x" + ")" * 499_999  # 999,999 characters: under the length limit
    message = fails(run("eval", "-", "--x", "1", input=text), 2, "the expression nests parentheses and calls 499,999")
    assert "AUTODIFF_MAX_DEPTH" in message


def test_a_megabyte_sum_is_refused_by_its_nodes():
    text = "+".join(["x"] * 500_000)
    for command in ("eval", "explain", "hessian", "graph"):
        message = fails(run(command, "-", "--x", "1", input=text), 2, "the expression has more than 20,000 nodes")
        assert "AUTODIFF_MAX_NODES" in message


def test_a_million_minus_signs_are_refused():
    fails(run("eval", "-", "--x", "1", input="-" * 999_999 + "x"), 2, "the expression has more than 20,000 nodes")
    fails(run("explain", "-", "--x", "1", input="-" * 1_000_000 + "x"), 2, "the expression is 1,000,001 characters")


def test_a_hundred_megabyte_line_on_stdin_is_refused_without_reading_it_all():
    text = "x+" * 2_100_000 + "x"  # 4.2 MB: past what a 1,000,000-character expression can need
    fails(run("eval", "-", "--x", "1", input=text), 2, "the expression on stdin is more than 4,004,096 bytes long")


def test_a_long_batch_line_on_stdin_is_one_error_record():
    line = "x" * 5_000_000  # past the line limit set below, as a 100 MB line is past the default
    data = '{"x": 1}\n' + line + "\n" + '{"x": 2}\n'
    result = run("eval", "x", "--input", "-", input=data, env={"AUTODIFF_MAX_LINE": "1000000"})
    records = [json.loads(r) for r in result.stdout.splitlines()]
    assert records[0] == {"value": 1.0} and records[2] == {"value": 2.0}
    assert records[1]["line"] == 2 and records[1]["error"]["type"] == "LimitError"
    fails(result, 1, "1 of 3 rows failed; line 2: the line is 5,000,000 bytes long")


# -- binary, invalid UTF-8 and NUL bytes, on every path -----------------------------

BINARY = bytes(range(256)) * 4 + b"\x00\xff\xfe\n\x89PNG\r\n\x1a\n"


def test_a_binary_file_as_the_expression_on_stdin():
    fails(run("eval", "-", input=BINARY), 2, "stdin is not UTF-8 text (byte 129)")


def test_nul_in_the_expression_is_a_parse_error_with_its_column():
    message = fails(run("eval", "-", "--x", "1", input=b"x\x00+1"), 2, "the expression contains a NUL character")
    assert "\x00" not in message


def test_invalid_utf8_in_an_expression_argument():
    # through a real process: only then do the argument's bytes reach Python undecoded
    result = subprocess.run([sys.executable, "-m", "autodiff_cli", "eval", b"x\xff+1", "--x", "1"],
                            capture_output=True)
    assert result.returncode == 2
    assert result.stderr == b"Error: the expression is not UTF-8 text (byte 2)\n"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_binary_file_as_batch_input_gives_error_records(tmp_path, fmt):
    path = tmp_path / f"data.{fmt}"
    first, last = (b"x\n1\n", b"2\n") if fmt == "csv" else (b'{"x": 1}\n', b'{"x": 2}\n')
    path.write_bytes(first + BINARY + b"\n" + last)
    result = run("eval", "x", "--input", str(path), "--input-format", fmt)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    records = [json.loads(r) for r in result.stdout.splitlines()]
    assert records[0] == {"value": 1.0} and records[-1] == {"value": 2.0}
    assert all("error" in r for r in records[1:-1]) and len(records) > 2
    assert any("not UTF-8 text" in r["error"]["message"] for r in records[1:-1])
    assert result.stderr.startswith("Error: ")


def test_a_binary_file_as_batch_input_on_stdin():
    result = run("eval", "x", "--input", "-", input=b'{"x": 3}\n' + BINARY)
    assert result.exit_code == 1
    assert json.loads(result.stdout.splitlines()[0]) == {"value": 3.0}
    assert result.stderr.startswith("Error: ")


def test_nul_in_a_batch_row_is_an_error_record():
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input=b"x\n1\x00\n4\n")
    records = [json.loads(r) for r in result.stdout.splitlines()]
    assert "error" in records[0] and records[1] == {"value": 4.0}


@pytest.mark.parametrize("command", ["train", "predict"])
def test_a_binary_file_for_train_and_predict(tmp_path, command):
    path = tmp_path / "data.csv"
    path.write_bytes(BINARY)
    args = ["train", str(path), "--target", "y"] if command == "train" else ["predict", str(path), str(path)]
    fails(run(*args), 2, f"{path} is not UTF-8 text (byte 129)")
    args = ["train", "-", "--target", "y"] if command == "train" else ["predict", "-", str(path)]
    fails(run(*args, input=BINARY), 2, "stdin is not UTF-8 text (byte 129)")


# -- the command line's own corners ------------------------------------------------


def test_the_argument_after_double_dash_is_the_expression():
    assert run("eval", "--", "--x", "x=2").stdout == "2.0\n"
    assert run("eval", "--", "-x", "--x", "2").stdout == "-2.0\n"
    fails(run("eval", "--", "--x"), 2, "no value for variable x")


def test_a_binary_file_as_csv_on_stdin_is_refused_at_its_header():
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input=BINARY)
    fails(result, 2, "the CSV header holds a control character (character 1 of its line): is the input a binary file?")
