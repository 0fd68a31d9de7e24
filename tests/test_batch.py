"""Batch mode: --input on eval and grad, JSON Lines and CSV, error records, and the library loop."""

import csv
import io
import json
import math
import re
import shutil
import subprocess

import pytest
from helpers import records, run

from autodiff_cli import parse
from autodiff_cli.batch import run as run_batch
from autodiff_cli.errors import UsageError


def tanh_wxb(x, w, b):
    """Value and hand-derived gradient of tanh(w*x+b)."""
    t = math.tanh(w * x + b)
    s = 1 - t * t
    return t, {"w": s * x, "x": s * w, "b": s}


# -- JSON Lines -------------------------------------------------------------------


def test_one_record_per_row_in_order_with_command_line_constants():
    xs = [0.5 * k - 3 for k in range(13)]
    lines = "".join(json.dumps({"x": x}) + "\n" for x in xs)
    result = run("grad", "tanh(w*x+b)", "--w", "-3", "--b", "1", "--input", "-", input=lines)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = records(result.stdout)
    assert len(out) == len(xs)
    for record, x in zip(out, xs, strict=True):
        t, grads = tanh_wxb(x, -3.0, 1.0)
        assert list(record) == ["value", "gradient"]
        assert list(record["gradient"]) == ["w", "x", "b"]
        assert record["value"] == pytest.approx(t, rel=1e-15)
        for name, g in grads.items():
            assert record["gradient"][name] == pytest.approx(g, rel=1e-9, abs=1e-15)


def test_values_are_bit_exact_json_of_the_engine_floats():
    expr = parse("sin(x)*exp(-y^2/2) + log(1+x^2*y^2)")
    rows = [{"x": 0.1 * k, "y": 1.7 - 0.3 * k} for k in range(20)]
    result = run("eval", expr.text, "--input", "-", input="".join(json.dumps(r) + "\n" for r in rows))
    assert result.exit_code == 0
    for line, row in zip(result.stdout.splitlines(), rows, strict=True):
        assert line == json.dumps({"value": expr.evaluate(row)})  # the text json.dumps prints, too


def test_a_row_value_wins_over_the_command_line_and_other_fields_pass():
    lines = '{"x": 2, "w": 5, "id": "a", "note": [1, 2]}\n{"x": 2}\n'
    result = run("eval", "w*x", "--w", "-3", "--input", "-", input=lines)
    assert records(result.stdout) == [{"value": 10.0}, {"value": -6.0}]
    assert result.exit_code == 0


def test_bad_rows_become_error_records_and_the_stream_goes_on():
    lines = [
        '{"x": 2}',  # 1 good
        "",  # 2 blank: skipped, still counted
        "not json",  # 3
        "[1, 2]",  # 4
        '{"y": 1}',  # 5 missing x
        '{"x": "2"}',  # 6 a string is not a number
        '{"x": true}',  # 7 neither is a boolean
        '{"x": NaN}',  # 8 not finite
        '{"x": -1}',  # 9 math error
        '{"x": 1e400}',  # 10 not finite (json reads inf)
        '{"x": 3}',  # 11 good, an int
        '{"x": 0}',  # 12 log(0)
        '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}",  # 13 nested too deeply for json
    ]
    result = run("grad", "log(x)", "--input", "-", input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    out = records(result.stdout)
    assert len(out) == len(lines) - 1  # the blank line is not a row
    assert out[0] == {"value": math.log(2), "gradient": {"x": 0.5}}
    assert out[-3] == {"value": math.log(3), "gradient": {"x": 1 / 3}}
    errors = {r["line"]: r["error"]["message"] for r in out if "error" in r}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10, 12, 13]
    assert errors[3].startswith("not JSON")
    assert "object" in errors[4]
    assert errors[5].startswith("no value for variable x")
    assert errors[6] == 'the value of x must be a number, not "2"'
    assert errors[7] == "the value of x must be a number, not true"
    assert "finite" in errors[8] and "finite" in errors[10]
    assert errors[9] == "log(-1) is undefined: log needs a positive number"
    error9 = next(r for r in out if r.get("line") == 9)["error"]
    assert error9["type"] == "MathError" and error9["op"] == "log"
    assert result.stderr.startswith("Error: 10 of 12 rows failed; line 3: not JSON")


def test_the_exact_path_names_a_missing_derivative():
    result = run("grad", "sqrt(x)", "--input", "-", input='{"x": 4}\n{"x": 0}\n')
    out = records(result.stdout)
    assert out[0] == {"value": 2.0, "gradient": {"x": 0.25}}
    assert out[1]["error"]["message"] == "no derivative: sqrt(0) is not differentiable"
    assert result.exit_code == 1


def test_an_overflow_absorbed_in_the_middle_is_still_an_error():
    result = run("eval", "tanh(x*y)", "--input", "-", input='{"x": 1e200, "y": 1e200}\n')
    assert records(result.stdout)[0]["error"]["message"].startswith("overflow")
    assert result.exit_code == 1


def test_a_result_that_overflows_is_an_error_record():
    lines = '{"x": 1e200, "y": 1e200}\n{"x": 1e200, "y": 1e-200}\n'
    result = run("grad", "x*y - x*y", "--input", "-", input=lines)
    out = records(result.stdout)
    assert out[0]["line"] == 1 and out[0]["error"]["message"].startswith("overflow: 1e+200 * 1e+200")
    assert out[1] == {"value": 0.0, "gradient": {"x": 0.0, "y": 0.0}}
    result = run("grad", "x*y", "--input", "-", input='{"x": 1e300, "y": 1e-300}\n{"x": 1e300, "y": 1e300}\n')
    out = records(result.stdout)
    assert out[1]["error"]["message"].startswith("overflow")
    assert result.exit_code == 1


def test_fail_fast_stops_at_the_first_bad_row():
    lines = '{"x": 1}\n{"x": -1}\n{"x": 2}\n'
    result = run("eval", "log(x)", "--input", "-", "--fail-fast", input=lines)
    assert result.exit_code == 1
    out = records(result.stdout)
    assert out == [{"value": 0.0}, {"line": 2, "error": out[1]["error"]}]
    assert "stopped at the first failing row; line 2" in result.stderr


def test_wrt_and_keep():
    lines = '{"x": 2, "y": 3, "id": "p%s"}\n'
    result = run("grad", "x*y", "--wrt", "y", "--keep", "--input", "-", input=lines)
    assert records(result.stdout) == [{"input": {"x": 2, "y": 3, "id": "p%s"}, "value": 6.0, "gradient": {"y": 2.0}}]


def test_empty_input_gives_nothing_and_success():
    for text in ("", "\n\n"):
        result = run("grad", "x", "--input", "-", input=text)
        assert (result.exit_code, result.stdout) == (0, "")


def test_eval_without_variables_still_counts_rows():
    result = run("eval", "2+2", "--input", "-", input="{}\n{}\n")
    assert records(result.stdout) == [{"value": 4.0}, {"value": 4.0}]


# -- CSV ------------------------------------------------------------------------------


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


def test_csv_from_a_spreadsheet_with_a_byte_order_mark_and_crlf():
    result = run("eval", "x*y", "--input", "-", "--input-format", "csv", input="\ufeffx,y\r\n2,3\r\n".encode())
    assert records(result.stdout) == [{"value": 6.0}]


def test_json_lines_with_a_byte_order_mark():
    result = run("eval", "x", "--input", "-", input="\ufeff{\"x\": 2}\n".encode())
    assert records(result.stdout) == [{"value": 2.0}]


def test_csv_header_only_and_ragged_rows():
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input="x,y\n")
    assert (result.exit_code, result.stdout) == (0, "")
    result = run("eval", "x", "--input", "-", "--input-format", "csv", "--output-format", "csv", input="x,y\n")
    assert (result.exit_code, result.stdout) == (0, "value,error\n")
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input="x,y\n1\n1,2,3\n4,5\n")
    out = records(result.stdout)
    assert [r.get("line") for r in out] == [2, 3, None]
    assert out[0]["error"]["message"] == "1 fields where the header has 2"


# -- usage errors: exit 2 before any output ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["grad", "x", "--input", "/nonexistent/points.jsonl"], None, "cannot read /nonexistent/points.jsonl"),
        (["grad", "x", "--input", "-", "--input-format", "xml"], "", "'xml' is not one of"),
        (["grad", "x", "--keep"], None, "--keep needs --input"),
        (["grad", "x", "--output-format", "csv"], None, "--output-format needs --input"),
        (["eval", "x*y", "--input", "-", "--input-format", "csv"], "x,z\n1,2\n", "no column and no value for y"),
        (["eval", "x", "--input", "-", "--input-format", "csv"], "x,x\n1,2\n", "two columns named 'x'"),
        (["eval", "x", "--input", "-", "--keep", "--output-format", "csv"], "{}\n", "--keep needs CSV in"),
        (["eval", "x", "--input", "-", "--input-format", "csv", "--keep", "--output-format", "csv"], "x,value\n",
         "already has a column named 'value'"),
        (["grad", "x", "--input", "-", "--wrt", "q"], "{}\n", "--wrt q"),
        (["grad", "x", "--input", "-", "--pi", "1"], "{}\n", "pi is a constant"),
    ],
)
def test_usage_errors_exit_2_before_any_output(args, stdin, message):
    result = run(*args, input=stdin)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_unused_command_line_constant_warns():
    result = run("eval", "x", "--q", "1", "--input", "-", input='{"x": 1}\n')
    assert result.stderr == "Warning: q is not in the expression; its value is ignored\n"


# -- progress and streaming ----------------------------------------------------------------------


def test_no_progress_bar_in_a_pipe_and_one_on_request(tmp_path):
    data = tmp_path / "rows.jsonl"
    data.write_text('{"x": 1}\n' * 10)
    quiet = run("eval", "x", "--input", str(data))
    assert quiet.stderr == ""
    shown = run("eval", "x", "--input", str(data), "--progress", "always")
    assert "10 rows" in shown.stderr
    assert len(records(shown.stdout)) == 10


def test_the_progress_bar_labels_its_two_times(tmp_path):
    data = tmp_path / "rows.jsonl"
    data.write_text('{"x": 1}\n' * 10)
    shown = run("eval", "x", "--input", str(data), "--progress", "always").stderr
    assert re.search(r"100% +\d+:\d\d:\d\d left +\d+:\d\d:\d\d elapsed", shown), shown
    piped = run("eval", "x", "--input", "-", "--progress", "always", input='{"x": 1}\n' * 10).stderr
    assert re.search(r"rows/s +\d+:\d\d:\d\d elapsed", piped) and "left" not in piped, piped  # no size, no time left


def test_the_loop_streams_output_before_the_input_ends():
    written = []

    def source():
        for k in range(20_000):
            if k == 10_000:
                assert written, "nothing was written after 10,000 rows: the loop is collecting"
            yield b'{"x": %d.5}\n' % k

    summary = run_batch(parse("x*2"), source(), written.append, gradient=False)
    assert summary.rows == 20_000 and summary.failed == 0
    text = "".join(written)
    assert text.count("\n") == 20_000
    assert text.splitlines()[-1] == '{"value": 39999.0}'


def test_the_library_loop_reports_and_raises():
    out = []
    summary = run_batch(parse("log(x)"), io.BytesIO(b'{"x": 1}\n{"x": -1}\n'), out.append)
    assert (summary.rows, summary.failed, summary.first_error[0]) == (2, 1, 2)
    with pytest.raises(UsageError):
        run_batch(parse("x"), io.BytesIO(b""), out.append, input_format="xml")


def test_forward_mode_is_for_one_point():
    result = run("grad", "x", "--mode", "forward", "--input", "-", input="{}\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--mode forward is for one point" in result.stderr


# -- autodiff compile -------------------------------------------------------------------------


def test_compile_prints_a_module_that_runs_on_its_own():
    text = "sin(x)*exp(-y^2/2) + log(1+x^2*y^2)"
    result = run("compile", text, "--wrt", "y,x")
    assert result.exit_code == 0 and result.stderr == ""
    namespace = {}
    exec(result.stdout, namespace)  # the command's output is the code under test
    assert namespace["VARIABLES"] == ("x", "y") and namespace["WRT"] == ("y", "x")
    x, y = 0.4, -0.9
    value, dy, dx = namespace["gradient"](x, y)
    e, q = math.exp(-y * y / 2), 1 + x * x * y * y
    assert value == pytest.approx(math.sin(x) * e + math.log(q), rel=1e-15)
    assert dx == pytest.approx(math.cos(x) * e + 2 * x * y * y / q, rel=1e-14)
    assert dy == pytest.approx(-y * math.sin(x) * e + 2 * x * x * y / q, rel=1e-14)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compile", "x*y", "x=1"], "compile takes no bindings"),
        (["compile", "x*y", "--wrt", "z"], "--wrt z"),
        (["compile", "x*"], "Error:"),
    ],
)
def test_compile_usage_errors(args, message):
    result = run(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr


def test_the_library_rooms_need_no_click_lark_or_rich():
    import subprocess
    import sys

    code = (
        "import sys, autodiff_cli.batch, autodiff_cli.compile; "
        "print(sorted({'click', 'lark', 'rich'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- signed zeros in the input ------------------------------------------------------------------


@pytest.mark.parametrize("zero", ["-0", "-0.0", "-0e0", "-0E+3"])
def test_a_json_lines_minus_zero_keeps_its_sign_as_on_the_command_line(zero):
    # d(x*y)/dy = x, so at x = -0 it is -0.0 (IEEE: the product of -0 and a positive number)
    line = f'{{"x": {zero}, "y": 1}}\n'
    out = records(run("grad", "x*y", "--input", "-", input=line).stdout)[0]
    assert math.copysign(1.0, out["gradient"]["y"]) == -1.0 and out["gradient"]["y"] == 0.0
    single = json.loads(run("grad", "x*y", f"x={zero}", "y=1", "--json").stdout)
    assert json.dumps(out["gradient"]) == json.dumps(single["gradient"]) == '{"x": 1.0, "y": -0.0}'
    assert run("eval", "x", "--input", "-", input=f'{{"x": {zero}}}\n').stdout == '{"value": -0.0}\n'


def test_a_csv_minus_zero_keeps_its_sign_too():
    result = run("grad", "x*y", "--input", "-", "--input-format", "csv", input="x,y\n-0,1\n0,1\n")
    assert [json.dumps(r["gradient"]) for r in records(result.stdout)] == [
        '{"x": 1.0, "y": -0.0}', '{"x": 1.0, "y": 0.0}']


def test_a_json_lines_zero_and_other_integers_are_unchanged():
    lines = '{"x": 0, "y": 1}\n{"x": 3, "y": -2}\n{"x": -7, "y": 10}\n'
    out = records(run("grad", "x*y", "--input", "-", "--keep", input=lines).stdout)
    assert [json.dumps(r["gradient"]) for r in out] == [
        '{"x": 1.0, "y": 0.0}', '{"x": -2.0, "y": 3.0}', '{"x": 10.0, "y": -7.0}']
    assert out[0]["input"] == {"x": 0, "y": 1}  # --keep copies the text as it was


# -- hints for input in the wrong shape ---------------------------------------------------------

CSV_HINT = ("Error: the input looks like CSV, not JSON Lines: its first line reads as a header (x, y); "
            "give --input-format csv\n")


@pytest.mark.parametrize("name", ["points.txt", "points", "points.CSV.bak"])
def test_a_csv_file_with_another_ending_gets_the_hint_once_and_no_records(tmp_path, name):
    data = tmp_path / name
    data.write_text("x,y\n3,4\n6,8\n")
    result = run("eval", "sqrt(x^2+y^2)", "--input", str(data))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", CSV_HINT)
    fixed = run("eval", "sqrt(x^2+y^2)", "--input", str(data), "--input-format", "csv")
    assert records(fixed.stdout) == [{"value": 5.0}, {"value": 10.0}]  # the hint works


def test_csv_on_stdin_gets_the_hint_after_blank_lines_and_a_byte_order_mark():
    result = run("eval", "x*y", "--input", "-", input="\ufeff\n\n x , y \n3,4\n".encode())
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", CSV_HINT)
    result = run("eval", "x", "--input", "-", "--output-format", "csv", input="x\n3\n")
    assert (result.exit_code, result.stdout) == (2, "")  # one column naming the variable: CSV too
    assert "its first line reads as a header (x)" in result.stderr


def test_json_lines_asked_for_by_name_or_broken_json_get_error_records_as_before():
    result = run("eval", "x*y", "--input", "-", "--input-format", "jsonl", input="x,y\n3,4\n")
    assert result.exit_code == 1
    assert [r["line"] for r in records(result.stdout)] == [1, 2]
    for first in ('{"x": 3, "y": 4\n', "hello\n", "x y\n", "1,2\n"):  # not a header of names (or not ours)
        result = run("eval", "x*y", "--input", "-", input=first + '{"x": 3, "y": 4}\n')
        assert result.exit_code == 1, first
        assert records(result.stdout)[1] == {"value": 12.0}


def test_a_stream_of_bare_numbers_for_one_variable_gets_the_jq_recipe():
    result = run("grad", "x^2", "--input", "-", input="1\n2.5\n")
    assert result.exit_code == 1
    message = "not a JSON object of bindings, but a number: to bind x to each number, pipe them through jq -c '{x: .}'"
    assert [r["error"]["message"] for r in records(result.stdout)] == [message, message]
    assert result.stderr == f"Error: 2 of 2 rows failed; line 1: {message}\n"


@pytest.mark.parametrize(("text", "recipe"), [("exp(θ)", """jq -c '{"θ": .}'"""), ("2*x + 1", "jq -c '{x: .}'")])
def test_the_recipe_names_the_variable(text, recipe):
    message = records(run("eval", text, "--input", "-", input="3\n").stdout)[0]["error"]["message"]
    assert message.endswith(f"pipe them through {recipe}")


def test_no_recipe_where_one_number_cannot_bind_every_variable():
    for text, line in (("x*y", "3\n"), ("x", '"3"\n'), ("x", "[3]\n")):
        message = records(run("eval", text, "--input", "-", input=line).stdout)[0]["error"]["message"]
        assert message.startswith("not a JSON object of bindings, but ") and "jq" not in message


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize("name", ["x", "θ"])
def test_the_recipe_does_what_it_says(name):
    message = records(run("eval", f"{name}^2", "--input", "-", input="3\n").stdout)[0]["error"]["message"]
    program = message.split("jq -c ")[1].strip("'")  # the program the message gives, as the shell passes it
    made = subprocess.run(["jq", "-c", program], input="1\n2.5\n", capture_output=True, text=True, check=True)
    result = run("grad", f"{name}^2", "--input", "-", input=made.stdout)
    assert records(result.stdout) == [{"value": 1.0, "gradient": {name: 2.0}},
                                      {"value": 6.25, "gradient": {name: 5.0}}]
