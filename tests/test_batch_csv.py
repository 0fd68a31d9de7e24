"""Batch mode with CSV in: a header of names, cells of plain decimal numbers, line numbers of the file, --keep."""

import csv
import io
import json
import math

import pytest
from helpers import records, run


def csv_records(stdout):
    return list(csv.reader(io.StringIO(stdout)))


def csv_eval(text, *extra):
    return run("eval", "x*y", "--input", "-", "--input-format", "csv", "--output-format", "csv", *extra, input=text)


# -- records -----------------------------------------------------------------------------------------


def test_csv_in_csv_out_with_line_numbers_counting_the_header(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text('t,a,k,comment\n0,2,0.5,"first, with a comma"\n1,2,0.5,x\n2,,0.5,no a\n3,2,zero,bad k\n')
    result = run("grad", "a*exp(-k*t)", "--input", str(data), "--output-format", "csv")
    assert result.exit_code == 1
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["value", "d_a", "d_k", "d_t", "error"]
    assert len(rows) == 5
    value, da, dk, dt, error = rows[2]
    assert float(value) == pytest.approx(2 * math.exp(-0.5), rel=1e-15)
    assert float(da) == pytest.approx(math.exp(-0.5), rel=1e-15)
    assert float(dk) == pytest.approx(-2 * math.exp(-0.5), rel=1e-15)
    assert float(dt) == pytest.approx(-2 * 0.5 * math.exp(-0.5), rel=1e-15)
    assert error == ""
    assert rows[3][:4] == ["", "", "", ""] and rows[3][4].startswith("line 4: no value for variable a")
    assert rows[4][4] == "line 5: the value of k must be a number, not \"zero\""
    assert "line 4:" in result.stderr  # the header is line 1


def test_csv_by_its_ending_to_json_lines(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("x,y\n3,4\n")
    result = run("eval", "sqrt(x^2+y^2)", "--input", str(data))
    assert records(result.stdout) == [{"value": 5.0}]
    result = run("eval", "sqrt(x^2+y^2)", "--input", "-", "--input-format", "csv", input="x,y\n3,4\n")
    assert records(result.stdout) == [{"value": 5.0}]


def test_csv_empty_cell_takes_the_command_line_constant_and_quoted_newlines_keep_the_count(tmp_path):
    text = 'x,note,y\n1,"two\nlines",\n2,plain,5\n-1,x,1\n'
    result = run("eval", "log(x)*y", "--y", "10", "--input", "-", "--input-format", "csv", input=text)
    out = records(result.stdout)
    assert out[0] == {"value": 0.0}
    assert out[1] == {"value": math.log(2) * 5}
    assert out[2]["line"] == 5  # header 1, a record over lines 2-3, then 4, then 5
    assert result.exit_code == 1


def test_csv_keep_copies_the_row_verbatim():
    text = "id,x,__import__('os').system('echo hi')\n\"a,1\",2,\"q\"\"uote\"\n"
    result = run("eval", "x^2", "--input", "-", "--input-format", "csv", "--output-format", "csv", "--keep",
                 input=text)
    assert result.exit_code == 0
    assert result.stdout == "id,x,__import__('os').system('echo hi'),value,error\n\"a,1\",2,\"q\"\"uote\",4.0,\n"
    result = run("eval", "x^2", "--input", "-", "--input-format", "csv", "--keep", input=text)
    assert records(result.stdout) == [
        {"input": {"id": "a,1", "x": "2", "__import__('os').system('echo hi')": 'q"uote'}, "value": 4.0}
    ]


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


def test_a_csv_minus_zero_keeps_its_sign_too():
    result = run("grad", "x*y", "--input", "-", "--input-format", "csv", input="x,y\n-0,1\n0,1\n")
    assert [json.dumps(r["gradient"]) for r in records(result.stdout)] == [
        '{"x": 1.0, "y": -0.0}', '{"x": 1.0, "y": 0.0}']


# -- lines as spreadsheets and train write them ------------------------------------------------------


def test_csv_from_a_spreadsheet_with_a_byte_order_mark_and_crlf():
    result = run("eval", "x*y", "--input", "-", "--input-format", "csv", input="\ufeffx,y\r\n2,3\r\n".encode())
    assert records(result.stdout) == [{"value": 6.0}]


def test_csv_header_only_and_ragged_rows():
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input="x,y\n")
    assert (result.exit_code, result.stdout) == (0, "")
    result = run("eval", "x", "--input", "-", "--input-format", "csv", "--output-format", "csv", input="x,y\n")
    assert (result.exit_code, result.stdout) == (0, "value,error\n")
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input="x,y\n1\n1,2,3\n4,5\n")
    out = records(result.stdout)
    assert [r.get("line") for r in out] == [2, 3, None]
    assert out[0]["error"]["message"] == "1 fields where the header has 2"


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


def test_a_csv_error_row_names_the_input_line_it_came_from():
    text = 'x,note\n1,"two\nlines"\n\n-1,x\n'  # the bad row starts on line 5: a quoted cell spans 2 and 3
    result = run("eval", "log(x)", "--input", "-", "--input-format", "csv", "--output-format", "csv", input=text)
    rows = csv_records(result.stdout)
    assert rows == [["value", "error"], ["0.0", ""],
                    ["", "line 5: log(-1) is undefined: log needs a positive number"]]
    result = run("eval", "log(x)", "--input", "-", "--input-format", "csv", input=text)
    assert records(result.stdout)[1]["line"] == 5  # the same number JSON Lines out gives


# -- cells and headers -------------------------------------------------------------------------------


def test_a_csv_cell_must_be_a_plain_decimal_number():
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input="x\n1_000\n10\n\u0661\nnan\n-2.5e1\n")
    out = records(result.stdout)
    assert out[0]["error"]["message"] == 'the value of x must be a plain decimal number, not "1_000"'
    assert out[1] == {"value": 10.0}
    assert out[2]["error"]["message"] == 'the value of x must be a plain decimal number, not "\u0661"'
    assert out[3]["error"]["message"] == "the value of x must be a finite number, not 'nan'"
    assert out[4] == {"value": -25.0}


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


def test_a_header_missing_many_columns_is_named_briefly():
    names = [f"x{k}" for k in range(100)]
    result = run("eval", "+".join(names), "--input", "-", "--input-format", "csv", input="a,b\n1,2\n")
    assert result.exit_code == 2
    assert result.stderr == ("Error: no column and no value for x0, x1, x2, x3, x4 and 95 more: the header has a, b "
                             "(give a constant as --x0 1)\n")
