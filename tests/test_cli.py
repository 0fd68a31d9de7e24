"""The command line through click's CliRunner: output, JSON, bindings, and every error."""

import json
import math

import pytest
from helpers import run

from autodiff_cli.cli import cli


def tanh_wxb(x, w, b):
    """Value and hand-derived gradient of tanh(w*x+b)."""
    t = math.tanh(w * x + b)
    s = 1 - t * t
    return t, {"w": s * x, "x": s * w, "b": s}


# -- grad ------------------------------------------------------------------------


def test_grad_text_is_an_aligned_table_in_order_of_appearance():
    result = run("grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["value", "∂/∂w", "∂/∂x", "∂/∂b"]
    t, grads = tanh_wxb(2.0, -3.0, 1.0)
    assert float(lines[0].split()[1]) == pytest.approx(t, rel=1e-15)
    for line in lines[1:]:
        name, number = line.split()
        assert float(number) == pytest.approx(grads[name[3:]], rel=1e-12)
    # the numbers start in one column (a space stands where a minus would)
    starts = {line.index(line.split()[1]) - (not line.split()[1].startswith("-")) for line in lines}
    assert len(starts) == 1
    assert result.stderr == ""


def test_grad_json_is_strict_and_complete():
    result = run("grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    t, grads = tanh_wxb(2.0, -3.0, 1.0)
    assert doc["expression"] == "tanh(w*x+b)"
    assert doc["value"] == pytest.approx(t, rel=1e-15)
    assert list(doc["gradient"]) == ["w", "x", "b"]
    for name, g in grads.items():
        assert doc["gradient"][name] == pytest.approx(g, rel=1e-12)


def test_grad_wrt_selects_and_orders():
    for args in (["--wrt", "b,x"], ["--wrt", "b", "--wrt", "x"]):
        result = run("grad", "tanh(w*x+b)", "x=2", "w=-3", "b=1", "--json", *args)
        assert list(json.loads(result.stdout)["gradient"]) == ["b", "x"]


def test_grad_of_a_constant_expression():
    doc = json.loads(run("grad", "2^10", "--json").stdout)
    assert doc == {"expression": "2^10", "value": 1024.0, "gradient": {}}


# -- eval and bindings -----------------------------------------------------------


def test_eval_prints_the_number_and_nothing_else():
    result = run("eval", "sqrt(x^2+y^2)", "x=3", "y=4")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "5.0\n", "")


def test_eval_prints_the_shortest_round_tripping_text():
    result = run("eval", "0.1 + 0.2")
    assert result.stdout == "0.30000000000000004\n"
    assert float(result.stdout) == 0.1 + 0.2


@pytest.mark.parametrize(
    "bindings",
    [["--x", "2", "--w", "-3"], ["--x=2", "--w=-3"], ["x=2", "w=-3"], ["--w", "-3e0", "x=0.2e1"], ["x=2", "--w", "-3"]],
)
def test_binding_forms(bindings):
    result = run("eval", "w*x", *bindings)
    assert result.stdout == "-6.0\n"


def test_bindings_may_come_before_the_expression():
    assert run("eval", "--x", "2", "x^3").stdout == "8.0\n"


def test_binding_values_may_be_numeric_expressions():
    assert float(run("eval", "sin(x)", "--x", "pi/2").stdout) == 1.0
    assert run("eval", "x", "x=-2^2").stdout == "-4.0\n"


def test_a_variable_named_like_an_option_binds_as_name_value():
    result = run("grad", "json * wrt", "json=3", "wrt=2", "--json")
    doc = json.loads(result.stdout)
    assert doc["value"] == 6.0 and doc["gradient"] == {"json": 2.0, "wrt": 3.0}


def test_unused_binding_warns_on_stderr():
    result = run("eval", "x + 1", "x=1", "y=5")
    assert result.exit_code == 0
    assert result.stdout == "2.0\n"
    assert result.stderr.startswith("Warning: y is not in the expression")


def test_expression_from_stdin():
    result = run("eval", "-", "--x", "8", input="log(x,\n 2)\n")
    assert result.stdout == "3.0\n"


def test_expression_starting_with_minus_after_double_dash():
    assert run("eval", "--", "-x^2", "x=3").stdout == "-9.0\n"


def test_unicode_variable():
    assert run("eval", "2*θ", "θ=1.5").stdout == "3.0\n"


# -- graph -------------------------------------------------------------------------


def test_graph_shows_op_value_and_grad_of_every_node():
    result = run("graph", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tanh  = -0.999909  grad 1")
    text = result.stdout
    for fragment in ["add  = -5", "mul  = -6", "w  = -3", "x  = 2", "b  = 1", "grad 0.000181583"]:
        assert fragment in text
    assert "\x1b[" not in text  # no colour codes in a pipe


def test_graph_draws_a_shared_node_once():
    from rich.console import Console

    from autodiff_cli.engine import Value
    from autodiff_cli.render import graph_tree

    x = Value(1.0, name="x")
    s = x.sin()
    out = s * s + s
    out.backward()
    console = Console(color_system=None, width=80, record=True)
    console.print(graph_tree(out, with_values=True))
    assert console.export_text() == (
        "add  = 1.54954  grad 1\n"
        "├── mul  = 0.708073  grad 1\n"
        "│   ├── sin #1  = 0.841471  grad 2.68294\n"
        "│   │   └── x  = 1  grad 1.4496\n"
        "│   └── sin #1 (above)\n"
        "└── sin #1 (above)\n"
    )
    # d/dx (sin^2 + sin) = (2 sin + 1) cos at 1
    assert x.grad == pytest.approx((2 * math.sin(1) + 1) * math.cos(1), rel=1e-15)


def test_graph_separate_subexpressions_are_separate_nodes():
    result = run("graph", "(x+1)*(x+1)", "x=2")
    assert result.stdout.count("add") == 2 and "#" not in result.stdout


def test_graph_without_bindings_draws_structure():
    result = run("graph", "tanh(w*x+b)")
    assert result.exit_code == 0
    assert "=" not in result.stdout
    assert result.stdout.splitlines()[0] == "tanh"


def test_graph_with_some_values_missing_draws_the_structure_and_says_what_is_missing():
    structure = run("graph", "x*y")
    assert structure.stdout == "mul\n├── x\n└── y\n" and structure.stderr == ""
    result = run("graph", "x*y", "z=1")  # no value for x nor y; z is not in the expression
    assert result.exit_code == 0 and result.stdout == structure.stdout
    assert result.stderr.splitlines() == [
        "Warning: z is not in the expression; its value is ignored",
        "Warning: no value for x, y: the structure is drawn without values",
    ]
    partial = run("graph", "x*y", "x=2", "--format", "json")
    assert partial.exit_code == 0
    assert [n["data"] for n in json.loads(partial.stdout)["nodes"]] == [None, None, None]
    assert partial.stderr == "Warning: no value for y: the structure is drawn without values\n"
    full = run("graph", "x*y", "x=2", "y=3")
    assert full.stderr == "" and full.stdout.splitlines()[0] == "mul  = 6  grad 1"


def test_graph_still_rejects_another_commands_option():
    result = run("graph", "x*y", "--order", "2")
    assert result.exit_code == 2 and "--order is not an option of autodiff graph" in result.stderr


def test_graph_of_a_deep_expression_is_cut_with_a_note():
    result = run("graph", "(" * 200 + "x" + "+1)" * 200, "x=1")
    assert result.exit_code == 0
    assert "not drawn" in result.stdout


# -- functions -------------------------------------------------------------------


def test_functions_lists_the_table_with_rules_and_conventions():
    from autodiff_cli import ops

    result = run("functions")
    assert result.exit_code == 0
    for op in ops.functions():
        assert op.signature() in result.stdout
    assert "sech(x)^2" in result.stdout
    assert "relu'(0) = 0" in result.stdout
    assert "abs'(0) = 0" in result.stdout


def test_functions_json():
    doc = json.loads(run("functions", "--json").stdout)
    tanh = next(item for item in doc if item["name"] == "tanh")
    assert tanh["derivatives"] == ["sech(x)^2"]
    assert {item["name"] for item in doc} >= {"exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid",
                                              "relu", "abs", "pow", "max", "min"}


# -- errors ------------------------------------------------------------------------

ERRORS = [
    # usage and parse errors: exit 2
    (["eval", "x +* 2", "x=1"], 2, "unexpected '*' at column 4"),
    (["eval", "sinn(x)", "x=1"], 2, "unknown function sinn (did you mean sin?)"),
    (["eval", "tanh(x, 1)", "x=1"], 2, "tanh takes 1 argument, got 2"),
    (["eval", "x*y", "x=1"], 2, "no value for variable y"),
    (["grad", "x*y"], 2, "no value for variables x, y"),
    (["eval", "x", "x=inf"], 2, "must be a finite number"),
    (["eval", "x", "x=nan"], 2, "must be a finite number"),
    (["eval", "x", "x=abc"], 2, "must be a number"),
    (["eval", "x", "--x"], 2, "--x needs a value"),
    (["eval", "x", "--2"], 2, "'2' is not a variable name"),  # not "--2 needs a value, as in ... 2=2"
    (["eval", "x", "--x", "log(0)"], 2, "the value of x cannot be computed: log(0) is undefined"),
    (["eval", "x*pi", "x=1", "pi=3"], 2, "pi is a constant"),
    (["eval", "x", "x=1", "x=2"], 2, "x is given twice"),
    (["eval", "x", "y"], 2, "unexpected argument 'y'"),
    (["eval"], 2, "missing EXPR"),
    (["eval", "1e999"], 2, "number too large"),
    (["grad", "x", "x=1", "--wrt", "y"], 2, "no variable y"),
    (["graph", "x", "--max-nodes", "0"], 2, "Invalid value for '--max-nodes'"),
    (["nonsense"], 2, "No such command 'nonsense'"),
    # math errors: exit 1
    (["eval", "log(x)", "x=-1"], 1, "log(-1) is undefined"),
    (["eval", "log(x)", "x=0"], 1, "log(0) is undefined"),
    (["eval", "1/x", "x=0"], 1, "division by zero"),
    (["eval", "exp(x)", "x=1000"], 1, "overflow: exp(1000)"),
    (["eval", "1e308*10"], 1, "overflow"),
    (["eval", "9^9^9"], 1, "overflow"),
    (["eval", "sqrt(x)", "x=-4"], 1, "sqrt(-4) is undefined"),
    (["eval", "x^0.5", "x=-4"], 1, "negative base needs a whole exponent"),
    (["grad", "sqrt(x)", "x=0"], 1, "no derivative: sqrt(0) is not differentiable"),
    (["grad", "x^y", "x=-2", "y=2"], 1, "(-2)^2 is not differentiable with respect to its exponent"),
    (["grad", "x^0.5", "x=0"], 1, "0^0.5 is not differentiable with respect to its base"),
    (["grad", "asin(x)", "x=1"], 1, "asin(1) is not differentiable"),
]


@pytest.mark.parametrize(("args", "code", "words"), ERRORS, ids=[" ".join(a) for a, _, _ in ERRORS])
def test_errors(args, code, words):
    result = run(*args)
    assert result.exit_code == code
    assert result.stderr.startswith("Error: "), result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_syntax_error_shows_the_expression_and_a_caret():
    result = run("eval", "tanh(w*x + $b)", "w=1", "x=1", "b=1")
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: unexpected character '$' at column 12"
    assert lines[1] == "  tanh(w*x + $b)"
    assert lines[2] == "  " + " " * 11 + "^"


def test_errors_with_json_also_go_to_stdout_as_json():
    result = run("grad", "log(x)", "x=-1", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["error"]["op"] == "log"
    assert "log(-1)" in doc["error"]["message"]
    assert result.stderr.startswith("Error: ")
    result = run("eval", "x +", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["column"] == 4


def test_invalid_utf8_on_stdin():
    result = run("eval", "-", input=b"x\xff")
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


# -- help and version --------------------------------------------------------------


def test_every_command_has_help_with_an_example():
    from autodiff_cli.cli import FAMILIES

    assert len(FAMILIES) >= 12
    for name in FAMILIES:
        command = cli.get_command(None, name)
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.stdout, name
        assert command.help and command.help.strip(), name
    assert run("-h").exit_code == 0


def test_no_arguments_prints_the_help():
    result = run()
    assert result.exit_code == 0
    assert "Commands:" in result.stdout and "grad" in result.stdout


def test_version():
    from autodiff_cli import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_a_closed_output_pipe_ends_quietly_with_success(tmp_path):
    import subprocess
    import sys

    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(f'{{"x": {i}}}\n' for i in range(200_000)))
    script = ("import sys; from autodiff_cli.cli import main; "
              f"sys.argv = ['autodiff', 'grad', 'x^2', '--input', {str(rows)!r}]; main()")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b'{"value": 0.0')
    proc.stdout.close()  # as head does after its first line
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in err and b"Error" not in err


def test_a_command_loads_only_its_own_family():
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from autodiff_cli.cli import cli; "
            "CliRunner().invoke(cli, ['grad', 'x^2', 'x=1']); "
            "print(sorted(m for m in sys.modules if m.startswith('autodiff_cli.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("compile", "batch'", "readers", "training", "symbolic", "nn", "export", "files"):
        assert f"autodiff_cli.{heavy}" not in loaded, heavy


def test_the_batch_formats_offered_are_the_library_s():
    from autodiff_cli import batch
    from autodiff_cli.cli import batch as batch_cli

    assert batch_cli.FORMATS == batch.FORMATS


def test_an_expression_starting_with_minus_is_never_an_option():
    # click would read -x*h as the short options -x -* -h and print the help
    for args, expected in [(["eval", "-x*h", "x=2", "h=1"], "-2.0"),
                           (["eval", "-2*sech(x)^2*cosh(x)", "x=0"], "-2.0"),
                           (["eval", "-h*x", "--x", "-3", "h=2"], "6.0")]:
        result = run(*args)
        assert result.exit_code == 0 and "Usage" not in result.stdout, args
        assert result.stdout.strip() == expected
    assert "Usage" in run("eval", "-h").stdout  # alone, -h is still the help
    assert run("graph", "x*y", "-o", "-").exit_code == 0


def test_a_parse_error_in_an_expression_starting_with_minus_points_at_the_right_column():
    result = run("eval", "-x*", "x=1", "--json")
    assert json.loads(result.stdout)["error"]["column"] == 4


@pytest.mark.parametrize("text, value", [("--(x)", "3.0"), ("--x^2", "9.0"), ("--2", "2.0"), ("---x", "-3.0")])
def test_an_expression_starting_with_two_minus_signs_is_not_a_binding(text, value):
    """--x binds x, but --(x) and --x^2 cannot be bindings: before the expression they are the expression."""
    result = run("eval", text, "x=3") if "x" in text else run("eval", text)
    assert result.exit_code == 0, result.output
    assert result.stdout == value + "\n"


def test_a_lone_surrogate_that_is_no_escaped_byte_is_a_usage_error():
    """argv's invalid bytes arrive as \udc80-\udcff; a Python caller can pass any surrogate (found by
    tests/test_properties_cli.py: eval '\ud800' was an internal error)."""
    result = run("eval", "\ud800")
    assert result.exit_code == 2
    assert result.stderr == "Error: the expression is not valid text (a lone surrogate at character 1)\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "\udd00", "x=0"], "Error: cannot read \\udd00: not a file name this system can encode\n"),
        (["train", "\udd00", "--target", "y"], "Error: cannot read \\udd00: not a file name this system can encode\n"),
        (["eval", "x", "--input", "\udd00"], "Error: argument 4 is not valid text (a lone surrogate at character 1)\n"),
        (["graph", "x", "x=1", "-o", "g\ud800.svg"],
         "Error: argument 5 is not valid text (a lone surrogate at character 2)\n"),
    ],
)
def test_a_file_name_no_system_can_hold_is_a_usage_error(args, message, tmp_path, monkeypatch):
    """A Python caller can pass a lone surrogate as a file name (found by the CLI property run:
    predict '\\udd00' was an internal error); refused before any work, nothing written."""
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert (result.exit_code, result.stderr) == (2, message)
    assert list(tmp_path.iterdir()) == []
