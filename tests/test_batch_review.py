"""Batch mode: regressions for a reviewer's findings (each test fails without its fix)."""

import csv
import io
import json

import pytest
from helpers import records, run

from autodiff_cli import parse
from autodiff_cli.batch import run as run_batch


def test_a_lone_surrogate_is_an_error_record_and_no_row_is_lost():
    result = run("grad", "sqrt(x)", "--input", "-", input=b'{"x": 4}\n{"x": "\\ud800"}\n{"x": 1}\n')
    assert result.exit_code == 1
    out = records(result.stdout)
    assert len(out) == 3
    assert out[0] == {"value": 2.0, "gradient": {"x": 0.25}}  # sqrt(4), 1/(2*sqrt(4))
    assert out[1]["line"] == 2 and "must be a number" in out[1]["error"]["message"]
    assert out[2] == {"value": 1.0, "gradient": {"x": 0.5}}
    assert result.stderr.startswith("Error: 1 of 3 rows failed; line 2:")


def test_records_made_before_an_unexpected_failure_are_still_written():
    class Broken:
        def __iter__(self):
            yield b'{"x": 4}\n'
            yield b'{"x": 9}\n'
            raise OSError("the disk went away")

    written = []
    with pytest.raises(OSError):
        run_batch(parse("sqrt(x)"), Broken(), written.append, gradient=False)
    assert [json.loads(line) for line in "".join(written).splitlines()] == [{"value": 2.0}, {"value": 3.0}]


def csv_records(stdout):
    return list(csv.reader(io.StringIO(stdout)))


def test_keep_pads_the_kept_columns_of_a_row_that_cannot_be_copied():
    text = 'x,y,id\n1,2,a\n3,4\n5,6,c\n1,"2"x,d\n'
    result = run("eval", "x*y", "--input", "-", "--input-format", "csv", "--keep", "--output-format", "csv",
                 input=text)
    assert result.exit_code == 1
    rows = csv_records(result.stdout)
    assert rows[0] == ["x", "y", "id", "value", "error"]
    assert all(len(row) == 5 for row in rows)
    assert rows[1] == ["1", "2", "a", "2.0", ""]
    assert rows[2][:4] == ["", "", "", ""] and "2 fields where the header has 3" in rows[2][4]
    assert rows[3] == ["5", "6", "c", "30.0", ""]
    assert rows[4][:4] == ["", "", "", ""] and "not CSV" in rows[4][4]


def test_a_csv_error_row_names_the_input_line_it_came_from():
    text = 'x,note\n1,"two\nlines"\n\n-1,x\n'  # the bad row starts on line 5: a quoted cell spans 2 and 3
    result = run("eval", "log(x)", "--input", "-", "--input-format", "csv", "--output-format", "csv", input=text)
    rows = csv_records(result.stdout)
    assert rows == [["value", "error"], ["0.0", ""],
                    ["", "line 5: log(-1) is undefined: log needs a positive number"]]
    result = run("eval", "log(x)", "--input", "-", "--input-format", "csv", input=text)
    assert records(result.stdout)[1]["line"] == 5  # the same number JSON Lines out gives


@pytest.mark.parametrize("line, column", [
    ('{"x":\n', 6),  # the value is missing after the colon, at the end of the line
    ('{"x":\r\n', 6),
    ('{"x": 1,}\n', 9),
    ('{"x": 1} x\n', 10),
])
def test_a_json_error_at_the_end_of_a_line_names_its_column_on_that_line(line, column):
    result = run("eval", "x", "--input", "-", input=line)
    assert result.exit_code == 1
    message = records(result.stdout)[0]["error"]["message"]
    assert message.startswith("not JSON: ") and message.endswith(f"(column {column})")


@pytest.mark.parametrize("command", ["eval", "grad"])
def test_expr_and_rows_cannot_both_come_from_stdin(command):
    result = run(command, "-", "--input", "-", input='x\n{"x": 1}\n')
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("Error: EXPR - and --input - cannot both read stdin: give the expression on the "
                             "command line, or the rows in a file\n")


def test_messages_quote_at_most_a_few_names_and_shorten_long_numbers():
    names = [f"x{k}" for k in range(5000)]
    result = run("eval", "+".join(names), "--input", "-", input='{"x0": 1}\n{"y": -' + "9" * 400 + "}\n")
    out = records(result.stdout)
    first = out[0]["error"]["message"]
    assert first == ("no value for variables x1, x2, x3, x4, x5 and 4,994 more "
                     "(give one as --x1 1 or x1=1 x2=1 x3=1 x4=1 x5=1 ...)")
    assert out[1]["error"]["message"].startswith("no value for variables x0, x1, x2, x3, x4 and 4,995 more")
    assert len(result.stderr) < 200
    result = run("eval", "x", "--input", "-", input='{"x": -' + "9" * 400 + "}\n")
    message = records(result.stdout)[0]["error"]["message"]
    assert message == "the value of x must be a finite number, not -" + "9" * 18 + "..." + "9" * 18 + " (400 digits)"


def test_a_header_missing_many_columns_is_named_briefly():
    names = [f"x{k}" for k in range(100)]
    result = run("eval", "+".join(names), "--input", "-", "--input-format", "csv", input="a,b\n1,2\n")
    assert result.exit_code == 2
    assert result.stderr == ("Error: no column and no value for x0, x1, x2, x3, x4 and 95 more: the header has a, b "
                             "(give a constant as --x0 1)\n")


def csv_eval(text, *extra):
    return run("eval", "x*y", "--input", "-", "--input-format", "csv", "--output-format", "csv", *extra, input=text)


def test_csv_skips_blank_and_whitespace_lines_as_train_and_json_lines_do():
    result = csv_eval(b"\n\nx,y\n1,2\n   \n3,4\n")
    assert result.exit_code == 0, result.stderr
    assert csv_records(result.stdout) == [["value", "error"], ["2.0", ""], ["12.0", ""]]
    result = run("eval", "x*y", "--input", "-", input=b'{"x": 1, "y": 2}\n   \n{"x": 3, "y": 4}\n')
    assert records(result.stdout) == [{"value": 2.0}, {"value": 12.0}]


def test_csv_with_carriage_returns_only_reads_as_train_reads_it():
    text = b'x,y,note\r1,2,a\r3,4,"two\rlines"\r-1,0,c\r'
    result = csv_eval(text, "--keep")
    assert result.exit_code == 0, result.stderr
    assert csv_records(result.stdout.replace("\r", "\\r")) == [
        ["x", "y", "note", "value", "error"], ["1", "2", "a", "2.0", ""], ["3", "4", "two\\rlines", "12.0", ""],
        ["-1", "0", "c", "-0.0", ""]]
    result = run("eval", "log(x)", "--input", "-", "--input-format", "csv", "--output-format", "csv",
                 input=b"x\r2\r-1\r")
    assert csv_records(result.stdout)[2][1] == "line 3: log(-1) is undefined: log needs a positive number"


def test_invalid_utf8_in_csv_is_an_error_row_never_a_replacement_character():
    result = csv_eval(b"x,y\n1,2\n3,\xff4\n5,6\n", "--keep")
    assert result.exit_code == 1
    assert "\ufffd" not in result.stdout
    assert csv_records(result.stdout) == [["x", "y", "value", "error"], ["1", "2", "2.0", ""],
                                          ["", "", "", "line 3: not UTF-8 text (byte 3 of the line)"],
                                          ["5", "6", "30.0", ""]]
    result = csv_eval(b"x,\xffy\n1,2\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "Error: the CSV header is not UTF-8 text (byte 3 of its line)\n"


def test_a_csv_cell_must_be_a_plain_decimal_number():
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input="x\n1_000\n10\n\u0661\nnan\n-2.5e1\n")
    out = records(result.stdout)
    assert out[0]["error"]["message"] == 'the value of x must be a plain decimal number, not "1_000"'
    assert out[1] == {"value": 10.0}
    assert out[2]["error"]["message"] == 'the value of x must be a plain decimal number, not "\u0661"'
    assert out[3]["error"]["message"] == "the value of x must be a finite number, not 'nan'"
    assert out[4] == {"value": -25.0}
