"""Batch mode as a command and as a library: usage errors before any output, the progress bar, streaming,
and `autodiff compile`, the code batch mode runs."""

import io
import json
import math
import re
import subprocess

import pytest
from helpers import records, run

from autodiff_cli import parse
from autodiff_cli.batch import run as run_batch
from autodiff_cli.errors import UsageError

# -- usage errors: exit 2 before any output ----------------------------------------------------------


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


@pytest.mark.parametrize("command", ["eval", "grad"])
def test_expr_and_rows_cannot_both_come_from_stdin(command):
    result = run(command, "-", "--input", "-", input='x\n{"x": 1}\n')
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("Error: EXPR - and --input - cannot both read stdin: give the expression on the "
                             "command line, or the rows in a file\n")


def test_forward_mode_is_for_one_point():
    result = run("grad", "x", "--mode", "forward", "--input", "-", input="{}\n")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--mode forward is for one point" in result.stderr


def test_unused_command_line_constant_warns():
    result = run("eval", "x", "--q", "1", "--input", "-", input='{"x": 1}\n')
    assert result.stderr == "Warning: q is not in the expression; its value is ignored\n"


# -- progress and streaming --------------------------------------------------------------------------


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


# -- autodiff compile --------------------------------------------------------------------------------


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
    import sys

    code = (
        "import sys, autodiff_cli.batch, autodiff_cli.compile; "
        "print(sorted({'click', 'lark', 'rich'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_row_whose_compiled_doubles_overflow_gets_the_engine_s_careful_derivative():
    """softsign(csc(x)) at x = 1.19e-237: csc(x)^2 overflows in the compiled doubles (a nan), the engine's careful
    path finds d/dx = -cos(x) (the 1/(1 + csc)^2 and the csc*cot cancel): the batch record is -1, by hand."""
    result = run("grad", "softsign(csc(x))", "--input", "-", input='{"x": 1.19e-237}\n')
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"value": 1.0, "gradient": {"x": -1.0}}
