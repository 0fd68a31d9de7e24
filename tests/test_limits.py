"""The limits: each works at exactly its value, is refused one past it with a message naming it, and can be raised."""

import io
import json
import re
from pathlib import Path

import pytest
from helpers import run

from autodiff_cli import limits, parse
from autodiff_cli.batch import run as run_batch
from autodiff_cli.errors import LimitError, UsageError
from autodiff_cli.parser import nesting

LIMITS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def refused(result, limit, value=None):
    """Exit 2, one 'Error:' line naming the limit's value and its variable, no traceback."""
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr
    assert f"the limit is {value or limits.LIMITS[limit].default:,}" in result.stderr
    assert f"set {limits.LIMITS[limit].env} to raise it" in result.stderr
    return result.stderr


def a_sum(nodes):
    """x+x+...+x with exactly `nodes` nodes: nodes-1 additions over one variable."""
    return "+".join(["x"] * nodes)


# -- the table --------------------------------------------------------------------


def test_every_limit_has_a_positive_default_and_its_own_variable():
    envs = [limit.env for limit in limits.LIMITS.values()]
    assert len(set(envs)) == len(envs)
    for name, limit in limits.LIMITS.items():
        assert limit.name == name and limit.default > 0 and limit.env.startswith("AUTODIFF_MAX_")
        assert limits.get(name) == limit.default


def test_the_environment_raises_a_limit_and_a_bad_value_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("AUTODIFF_MAX_NODES", "123")
    assert limits.get("nodes") == 123
    for bad in ("abc", "0", "00", "-5", "1.5", "", " 5 ", "+5", "1_000", "\u0665", "\uff15"):
        monkeypatch.setenv("AUTODIFF_MAX_NODES", bad)
        with pytest.raises(UsageError, match=re.escape(f"AUTODIFF_MAX_NODES must be a positive whole number "
                                                       f"(digits 0-9 only), not {bad!r}")):
            limits.get("nodes")
    result = run("eval", "x", "--x", "1", env={"AUTODIFF_MAX_DEPTH": "many"})
    assert result.exit_code == 2
    assert result.stderr == ("Error: AUTODIFF_MAX_DEPTH must be a positive whole number (digits 0-9 only), "
                             "not 'many'\n")


def test_every_command_checks_every_limit_variable_at_start():
    result = run("eval", "1", env={"AUTODIFF_MAX_ORDER": "0"})  # eval never uses the order limit
    assert result.exit_code == 2
    assert "AUTODIFF_MAX_ORDER must be a positive whole number" in result.stderr
    result = run("functions", env={"AUTODIFF_MAX_NODE": "5"})  # a misspelt name
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: AUTODIFF_MAX_NODE is not a limit's variable: they are AUTODIFF_MAX_")
    assert run("eval", "1", env={"AUTODIFF_MAX_NODES": "7"}).stdout == "1.0\n"


def test_a_limit_of_one_has_a_singular_unit_and_a_program_limit_says_so():
    result = run("eval", "x", "--input", "-", input='{"x": 1}\n', env={"AUTODIFF_MAX_LINE": "1"})
    assert "the limit is 1 byte (set AUTODIFF_MAX_LINE" in result.stdout
    with limits.raised(nodes=2), pytest.raises(LimitError) as caught:
        parse("x+y")
    assert "the limit is 2 nodes (set to 2 by the program with limits.set or limits.raised)" in str(caught.value)
    assert "AUTODIFF_MAX_NODES" not in str(caught.value)


def test_a_program_sets_a_limit_over_the_environment_and_raised_restores_it(monkeypatch):
    monkeypatch.setenv("AUTODIFF_MAX_NODES", "7")
    with limits.raised(nodes=9):
        assert limits.get("nodes") == 9
        parse(a_sum(9))
        with pytest.raises(LimitError):
            parse(a_sum(10))
    assert limits.get("nodes") == 7
    limits.set("nodes", 11)
    try:
        assert limits.get("nodes") == 11
    finally:
        limits.set("nodes", None)
    assert limits.get("nodes") == 7
    with pytest.raises(ValueError, match="no limit named"):
        limits.set("speed", 3)
    with pytest.raises(ValueError, match="positive int"):
        limits.set("nodes", 0)


# -- expression length ------------------------------------------------------------


def test_length_at_the_limit_parses_and_one_more_is_refused():
    text = "(x" + " " * (limits.get("length") - 3) + ")"
    assert len(text) == limits.get("length")
    assert parse(text).evaluate({"x": 2.5}) == 2.5
    with pytest.raises(LimitError, match="the expression is 1,000,001 characters long; the limit is 1,000,000"):
        parse(text + " ")


def test_length_through_the_command_line_on_stdin():
    text = "(x" + " " * 6 + ")"  # 10 characters
    env = {"AUTODIFF_MAX_LENGTH": "10"}
    assert run("eval", "-", "--x", "3", input=text, env=env).stdout == "3.0\n"
    message = refused(run("eval", "-", "--x", "3", input=text[:-1] + " x)", env=env), "length", 10)
    assert message.startswith("Error: the expression is 11 characters long; the limit is 10 characters")


def test_stdin_is_read_with_a_bound():
    # far more than any expression of the limit could need in UTF-8: refused without reading it all
    env = {"AUTODIFF_MAX_LENGTH": "10"}
    message = refused(run("eval", "-", input="x" * 100_000, env=env), "length", 10)
    assert "the expression on stdin is more than 4,136 bytes long" in message


# -- nesting depth ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [("x", 0), ("(x)", 1), ("sin((x))", 2), ("(x)+(y)", 1), ("f(g(h(x)), (y))", 3), (")(", 0), ("((", 2)],
)
def test_nesting_counts_the_parentheses_open_at_once(text, depth):
    assert nesting(text) == depth


def test_depth_at_the_limit_parses_and_one_more_is_refused():
    depth = limits.get("depth")
    assert parse("(" * depth + "x" + ")" * depth).evaluate({"x": 1.5}) == 1.5
    assert parse("sin(" * depth + "x" + ")" * depth).root.op == "sin"
    with pytest.raises(LimitError, match="nests parentheses and calls 10,001 deep; the limit is 10,000 levels"):
        parse("(" * (depth + 1) + "x" + ")" * (depth + 1))


def test_many_parentheses_side_by_side_are_not_deep():
    with limits.raised(depth=3):
        assert parse("+".join(["((x))"] * 50)).evaluate({"x": 1.0}) == 50.0


def test_depth_through_the_command_line():
    env = {"AUTODIFF_MAX_DEPTH": "3"}
    assert run("grad", "sin(cos((x)))", "--x", "0", env=env).exit_code == 0
    message = refused(run("grad", "sin(cos(((x))))", "--x", "0", env=env), "depth", 3)
    assert message.startswith("Error: the expression nests parentheses and calls 4 deep; the limit is 3 levels")


# -- nodes ------------------------------------------------------------------------


def test_nodes_at_the_limit_parse_and_one_more_is_refused():
    nodes = limits.get("nodes")
    assert parse(a_sum(nodes)).evaluate({"x": 1.0}) == nodes
    with pytest.raises(LimitError, match="the expression has more than 20,000 nodes; the limit is 20,000 nodes"):
        parse(a_sum(nodes + 1))


@pytest.mark.parametrize(
    ("text", "nodes"),
    [
        ("x", 1), ("2", 1), ("pi", 1), ("-x", 2), ("x*y + x", 4), ("2*x + 2", 5), ("sin(x)^2", 4),
        ("max(x, y, 1)", 5), ("(((x)))", 1),
    ],
)
def test_nodes_are_counted_as_the_graph_has_them(text, nodes):
    with limits.raised(nodes=nodes):
        parse(text)
    if nodes > 1:  # a limit is at least 1
        with limits.raised(nodes=nodes - 1), pytest.raises(LimitError):
            parse(text)


def test_nodes_through_every_command():
    env = {"AUTODIFF_MAX_NODES": "5"}
    for args in (["eval", "x*y+x", "x=1", "y=2"], ["grad", "x*y+x", "x=1", "y=2"], ["diff", "x*y+x"],
                 ["explain", "x*y+x", "x=1", "y=2"], ["graph", "x*y+x"], ["compile", "x*y+x"]):
        assert run(*args, env=env).exit_code == 0, args
        message = refused(run(*[a.replace("x*y+x", "x*y+x*2") for a in args], env=env), "nodes", 5)
        assert message.startswith("Error: the expression has more than 5 nodes; the limit is 5 nodes")


def test_nodes_under_json_are_a_limit_error_document():
    result = run("eval", "x+x+x+x+x", "x=1", "--json", env={"AUTODIFF_MAX_NODES": "4"})
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["type"] == "LimitError"


# -- derivative order and printed length ------------------------------------------


def test_order_at_the_limit_works_and_one_more_is_refused():
    assert run("diff", "x^12", "--order", "10").stdout == "239500800*x^2\n"  # 12!/2! x^2, by hand
    message = refused(run("diff", "x^12", "--order", "11"), "order")
    assert message.startswith("Error: --order is 11; the limit is 10 (set AUTODIFF_MAX_ORDER to raise it)")
    assert run("diff", "x^12", "--order", "11", env={"AUTODIFF_MAX_ORDER": "11"}).stdout == "479001600*x\n"


def test_a_derivative_too_long_to_print_names_its_limit():
    env = {"AUTODIFF_MAX_OUTPUT": "20"}
    assert run("diff", "x^3*y", "--wrt", "x", env=env).stdout == "3*x^2*y\n"
    result = run("diff", "sin(x)*cos(x)*exp(x)", env=env)
    assert result.exit_code == 2
    assert "the limit is 20 characters (set AUTODIFF_MAX_OUTPUT to raise it)" in result.stderr


@pytest.mark.parametrize(("expression", "printed"), [
    ("x^3", "3*x^2"),                                   # d/dx x^3 = 3x^2, by hand: 5 characters
    ("x*y", "x: y\ny: x"),                              # every line counts, and the newline between them
    ("x^3*sin(x)", "x^3*cos(x) + 3*x^2*sin(x)"),
])
def test_the_output_limit_is_the_whole_printed_length_exactly(expression, printed):
    at = run("diff", expression, env={"AUTODIFF_MAX_OUTPUT": str(len(printed))})
    assert at.exit_code == 0 and at.stdout == printed + "\n"
    over = run("diff", expression, env={"AUTODIFF_MAX_OUTPUT": str(len(printed) - 1)})
    refused(over, "output", len(printed) - 1)
    assert f"diff would print {len(printed):,} characters" in over.stderr or "at least" in over.stderr


def test_the_output_estimate_is_a_lower_bound_of_the_text():
    from autodiff_cli.symbolic import partials, printed_lengths, to_text

    expr = parse("tanh(w*x + b)^2 / (1 + exp(-x*y)) - max(x, y, 2) * log(x, 3)")
    found = partials(expr.root, expr.variables, list(expr.variables), 2)
    for graph, least in zip(found.values(), printed_lengths(list(found.values())), strict=True):
        assert least <= len(to_text(graph))


def test_a_hopeless_output_is_refused_before_any_text_is_built():
    # the chain rule through ten sines: ten cosines of nested sines, far over 100 characters
    result = run("diff", "sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(x))))))))))", env={"AUTODIFF_MAX_OUTPUT": "100"})
    refused(result, "output", 100)
    assert "at least" in result.stderr


# -- batch lines ------------------------------------------------------------------


def jsonl_line(length):
    """A JSON Lines row {"x": 1} padded with blanks to exactly `length` bytes (its newline not counted)."""
    head = '{"x": 1'
    return head + " " * (length - len(head) - 1) + "}"


def test_a_jsonl_line_at_the_limit_is_a_row_and_one_byte_more_an_error_record():
    limit = limits.get("line")
    data = (jsonl_line(limit) + "\n" + jsonl_line(limit + 1) + "\n" + '{"x": 3}\n').encode()
    out = []
    summary = run_batch(parse("2*x"), io.BufferedReader(io.BytesIO(data)), out.append, gradient=False)
    records = [json.loads(line) for line in "".join(out).splitlines()]
    assert records[0] == {"value": 2.0}
    assert records[1]["line"] == 2
    assert records[1]["error"]["type"] == "LimitError"
    assert records[1]["error"]["message"] == (
        "the line is 1,048,577 bytes long; the limit is 1,048,576 bytes (set AUTODIFF_MAX_LINE to raise it)")
    assert records[2] == {"value": 6.0}
    assert (summary.rows, summary.failed) == (3, 1)


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_a_long_line_is_measured_without_its_ending(ending):
    env = {"AUTODIFF_MAX_LINE": "20"}
    data = jsonl_line(20) + "\n" + jsonl_line(21) + ending
    result = run("eval", "x", "--input", "-", input=data, env=env)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0] == {"value": 1.0}
    assert records[1]["error"]["message"].startswith("the line is 21 bytes long; the limit is 20 bytes")
    assert result.exit_code == 1


def test_a_long_first_line_and_fail_fast():
    env = {"AUTODIFF_MAX_LINE": "20"}
    data = "x" * 1000 + "\n" + '{"x": 2}\n'
    result = run("eval", "x", "--input", "-", input=data, env=env)
    assert [json.loads(line).get("value") for line in result.stdout.splitlines()] == [None, 2.0]
    result = run("eval", "x", "--input", "-", "--fail-fast", input=data, env=env)
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr.startswith("Error: stopped at the first failing row; line 1: the line is 1,000 bytes long")


def test_a_long_csv_line_is_an_error_record_with_every_column():
    env = {"AUTODIFF_MAX_LINE": "20"}
    data = "x,y\n1,2\n" + "3," + "4" * 30 + "\n5,6\n"
    result = run("grad", "x*y", "--input", "-", "--input-format", "csv", "--output-format", "csv", input=data, env=env)
    rows = result.stdout.splitlines()
    assert rows[0] == "value,d_x,d_y,error"
    assert rows[1] == "2.0,2.0,1.0,"
    assert rows[2].startswith(",,,line 3: the line is 32 bytes long; the limit is 20 bytes")
    assert rows[3] == "30.0,6.0,5.0,"
    assert result.exit_code == 1


def test_a_csv_header_over_the_line_limit_is_a_usage_error():
    result = run("eval", "x", "--input", "-", "--input-format", "csv", input="x" * 50 + "\n1\n",
                 env={"AUTODIFF_MAX_LINE": "20"})
    message = refused(result, "line", 20)
    assert message.startswith("Error: the CSV header's line is more than 20 bytes long; the limit is 20 bytes")


def test_a_csv_header_that_never_ends_is_refused_once_past_the_line_limit():
    class Endless(io.RawIOBase):  # like /dev/zero: bytes forever, no newline; counts what is read
        def __init__(self):
            self.given = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.given > 10**8:  # a safety stop for the test: reading the whole header would get here
                return 0
            buffer[:] = b"\0" * len(buffer)
            self.given += len(buffer)
            return len(buffer)

    source = Endless()
    with limits.raised(line=1000), pytest.raises(LimitError, match="more than 1,000 bytes long"):
        run_batch(parse("x"), io.BufferedReader(source), lambda text: None, input_format="csv")
    assert source.given < 100_000


@pytest.mark.parametrize("rows", ["x\n{}\n", 'x\n"{}"\n'])
def test_a_csv_field_under_the_line_limit_is_read_however_long(rows):
    value = "0." + "0" * 200_000 + "1"  # 1e-200001 is 0.0 in doubles; over the csv module's own field limit
    result = run("eval", "x+1", "--input", "-", "--input-format", "csv", input=rows.format(value))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["value"] == 1.0


# -- files of train and predict ---------------------------------------------------


def test_a_data_file_at_the_limit_is_read_and_one_byte_more_refused(tmp_path):
    data = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(20))
    path = tmp_path / "line.csv"
    path.write_text(data)
    env = {"AUTODIFF_MAX_FILE": str(len(data))}
    ok = run("train", str(path), "--target", "y", "--epochs", "1", "--quiet", "--save", str(tmp_path / "m.json"),
             env=env)
    assert ok.exit_code == 0, ok.stderr
    env = {"AUTODIFF_MAX_FILE": str(len(data) - 1)}
    result = run("train", str(path), "--target", "y", "--epochs", "1", "--quiet", env=env)
    message = refused(result, "file", len(data) - 1)
    assert message.startswith(f"Error: {path} is {len(data)} bytes; the limit is {len(data) - 1} bytes")
    result = run("train", "-", "--target", "y", "--epochs", "1", "--quiet", input=data, env=env)
    assert refused(result, "file", len(data) - 1).startswith(f"Error: stdin holds more than {len(data) - 1} bytes")
    model = tmp_path / "m.json"
    env = {"AUTODIFF_MAX_FILE": str(model.stat().st_size - 1)}
    result = run("predict", str(model), str(path), env=env)
    size = model.stat().st_size
    assert refused(result, "file", size - 1).startswith(f"Error: {model} is {size:,} bytes")


# -- neural networks ----------------------------------------------------------------


def test_a_network_at_the_parameter_limit_trains_and_one_more_is_refused(tmp_path):
    path = tmp_path / "line.csv"
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(10)))
    # one input, hidden layers of 3 and 2, one output: (1+1)*3 + (3+1)*2 + (2+1)*1 = 17 parameters, by hand
    args = ["train", str(path), "--target", "y", "--hidden", "3,2", "--epochs", "1", "--quiet"]
    ok = run(*args, "--save", str(tmp_path / "m.json"), env={"AUTODIFF_MAX_PARAMETERS": "17"})
    assert ok.exit_code == 0, ok.stderr
    message = refused(run(*args, env={"AUTODIFF_MAX_PARAMETERS": "16"}), "parameters", 16)
    assert message.startswith("Error: the network has 17 weights and biases; the limit is 16 parameters")
    result = run("predict", str(tmp_path / "m.json"), str(path), env={"AUTODIFF_MAX_PARAMETERS": "16"})
    assert refused(result, "parameters", 16).startswith("Error: the network has 17 weights and biases")
    assert run("predict", str(tmp_path / "m.json"), str(path), env={"AUTODIFF_MAX_PARAMETERS": "17"}).exit_code == 0


def test_a_huge_hidden_layer_is_refused_before_allocation(tmp_path):
    path = tmp_path / "line.csv"
    path.write_text("x,y\n" + "".join(f"{i},{3 * i}\n" for i in range(10)))
    result = run("train", str(path), "--target", "y", "--hidden", "100000,100000", "--quiet")
    assert refused(result, "parameters").startswith("Error: the network has 10,000,400,001 weights and biases")


# -- the table of docs/cli.md ----------------------------------------------------


def test_the_docs_list_every_limit_as_the_table_says():
    text = LIMITS_PAGE.read_text(encoding="utf-8")
    section = text[text.index("## Limits"):]
    section = section[: section.index("\n#", 1)]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    found = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        found[cells[0].strip("`")] = cells
    assert list(found) == list(limits.LIMITS)
    for name, limit in limits.LIMITS.items():
        cells = found[name]
        unit = f" {limit.unit}" if limit.unit else ""
        assert cells[1] == limit.description, name
        assert cells[2] == f"{limit.default:,}{unit}", name
        assert cells[3] == f"`{limit.env}`", name
        assert re.sub(r"\s+", " ", cells[4]), name


# -- work, cells and pictures: refused before the work is done ----------------------


def variables_sum(n):
    return "+".join(f"v{i}" for i in range(n)), [f"v{i}=1" for i in range(n)]


def test_forward_mode_counts_passes_times_nodes_before_the_first_pass():
    text, bindings = variables_sum(6)  # 6 variables, 11 nodes: 6 passes x 11 nodes x 10 steps = 660 steps
    env = {"AUTODIFF_MAX_WORK": "660"}
    at = run("grad", text, *bindings, "--mode", "forward", env=env)
    assert at.exit_code == 0 and "∂/∂v5" in at.stdout
    over = run("grad", text, *bindings, "--mode", "forward", env={"AUTODIFF_MAX_WORK": "659"})
    message = refused(over, "work", 659)
    assert "forward mode is 6 passes over 11 nodes (660 steps)" in message
    assert "reverse mode" in message
    assert run("grad", text, *bindings, env={"AUTODIFF_MAX_WORK": "659"}).exit_code == 0  # the way out


def test_check_counts_two_evaluations_per_variable():
    text, bindings = variables_sum(6)  # 12 evaluations x 11 nodes = 132 steps
    assert run("check", text, *bindings, env={"AUTODIFF_MAX_WORK": "132"}).exit_code == 0
    message = refused(run("check", text, *bindings, env={"AUTODIFF_MAX_WORK": "131"}), "work", 131)
    assert "checking is 12 passes over 11 nodes (132 steps)" in message
    assert run("check", text, *bindings, "--wrt", "v0", env={"AUTODIFF_MAX_WORK": "131"}).exit_code == 0


def test_a_printed_matrix_is_bounded_by_its_cells():
    text, bindings = variables_sum(5)
    at = run("hessian", text, *bindings, env={"AUTODIFF_MAX_CELLS": "25"})
    assert at.exit_code == 0
    message = refused(run("hessian", text, *bindings, env={"AUTODIFF_MAX_CELLS": "24"}), "cells", 24)
    assert "the Hessian is 5 x 5 (25 cells)" in message and "--wrt" in message
    # jacobian: 2 rows x (3 variables + the value)
    args = ["x*y", "y+z", "x=1", "y=2", "z=3"]
    assert run("jacobian", *args, env={"AUTODIFF_MAX_CELLS": "8"}).exit_code == 0
    assert "the Jacobian is 2 x 3 with the values (8 cells)" in refused(
        run("jacobian", *args, env={"AUTODIFF_MAX_CELLS": "7"}), "cells", 7)
    # check --order 2 over 2 variables: 2 + 3 rows of 5 cells
    assert run("check", "x*y", "x=1", "y=2", "--order", "2", env={"AUTODIFF_MAX_CELLS": "25"}).exit_code == 0
    refused(run("check", "x*y", "x=1", "y=2", "--order", "2", env={"AUTODIFF_MAX_CELLS": "24"}), "cells", 24)


def test_hessian_rows_count_against_the_work_limit(monkeypatch):
    monkeypatch.setattr(limits, "BUILD", 1)  # building the first derivatives costs next to nothing here
    text, bindings = variables_sum(100)
    text = f"sin({text})"  # every first derivative is cos(v0+...+v99): 100 rows over a graph of over 100 nodes
    result = run("hessian", text, *bindings, "--json", env={"AUTODIFF_MAX_WORK": "30000"})  # < 100 x 100 x 3
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert message.startswith("the Hessian is 100 passes over first derivatives of ")
    assert "the limit is 30,000 steps" in message


def test_symbolic_derivatives_stop_as_soon_as_they_outgrow_the_budget():
    from autodiff_cli.symbolic import partials

    expr = parse("sin(a*b*c*d)")
    with limits.raised(work=100 * limits.BUILD), pytest.raises(LimitError, match="grow past 100 nodes"):
        partials(expr.root, expr.variables, list(expr.variables), 3)
    result = run("diff", "sin(a*b*c*d)", "--order", "10")  # the reviewer's 5 seconds: now refused in about two
    message = refused(result, "work")
    assert "the derivatives grow past 50,000 nodes" in message and "lower --order" in message
    assert run("diff", "x^3*sin(x)", "--order", "10").exit_code == 0  # small derivatives of high order still work


def test_a_picture_is_bounded_by_its_nodes(tmp_path):
    text = "x*y+x"  # 5 nodes: x, y, x*y, the sum ... and x used twice is one node: 4
    nodes = len(parse(text).order)
    target = tmp_path / "g.svg"
    result = run("graph", text, "x=1", "y=2", "--output", str(target), env={"AUTODIFF_MAX_PICTURE": str(nodes - 1)})
    message = refused(result, "picture", nodes - 1)
    assert f"the graph has {nodes} nodes to draw" in message and "--format dot" in message
    assert not target.exists()
    assert run("graph", text, "x=1", "y=2", "--format", "dot", env={"AUTODIFF_MAX_PICTURE": "1"}).exit_code == 0


def test_the_notebook_picture_follows_the_picture_limit(monkeypatch):
    from autodiff_cli import export, render

    monkeypatch.setattr(export, "dot_program", lambda: "dot")
    root = parse("x*y+x").root
    with limits.raised(picture=4):
        assert render.notebook_svg_possible(root)
    with limits.raised(picture=3):
        assert not render.notebook_svg_possible(root)


def test_a_step_that_vanishes_is_a_usage_error():
    result = run("check", "x^2", "x=1", "--eps", "1e-320")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --eps is too small for x = 1.0")
    big = run("check", "x*2", "x=1e300", "--eps", "1e-17")  # h = 1e283 is a number, but x + h == x
    assert big.exit_code == 2 and "too small for x = 1e+300" in big.stderr


def test_jacobian_forward_mode_counts_its_passes():
    args = ["x*y", "y+z", "x=1", "y=2", "z=3"]  # 3 variables x (3 + 3 nodes) x 10 steps = 180
    assert run("jacobian", *args, "--mode", "forward", env={"AUTODIFF_MAX_WORK": "180"}).exit_code == 0
    message = refused(run("jacobian", *args, "--mode", "forward", env={"AUTODIFF_MAX_WORK": "179"}), "work", 179)
    assert "forward mode is 3 passes over 6 nodes (180 steps)" in message and "--mode reverse" in message


def test_the_expression_itself_is_not_counted_against_the_symbolic_budget():
    from autodiff_cli.symbolic import hessian, partials

    expr = parse(a_sum(1000))  # rebuilt, a sum of 1,000 terms makes thousands of nodes; its derivative is 1000
    with limits.raised(work=1000 * limits.BUILD):  # fewer new nodes than the rebuilt sum has
        (d,) = partials(expr.root, expr.variables, ["x"], 1).values()
        expr.variables["x"].data = 1.0
        assert d.data == 1000.0
        assert hessian(expr.root, expr.variables, ["x"]) == [[0.0]]


# -- a limit raised very far (found by the second review) ----------------------------------------


def test_a_limit_past_ten_to_the_fifteen_is_a_usage_error():
    result = run("eval", "x", "--input", "-", input='{"x": 1}\n', env={"AUTODIFF_MAX_LINE": "9223372036854775807"})
    assert result.exit_code == 2
    assert result.output == ("Error: AUTODIFF_MAX_LINE is at most 1,000,000,000,000,000 (10^15), "
                             "not 9223372036854775807\n")
    with pytest.raises(ValueError):
        limits.set("nodes", 10**15 + 1)


@pytest.mark.parametrize("env", [{"AUTODIFF_MAX_LENGTH": str(10**15)}, {"AUTODIFF_MAX_LINE": str(10**15)}])
def test_a_limit_raised_to_the_maximum_reads_small_input_without_a_large_allocation(env):
    # read(4 * 10^15 bytes) would ask for that much memory at once ("out of memory" for a 4-byte input);
    # reads are made a piece at a time
    args = ["eval", "-", "x=1"] if "AUTODIFF_MAX_LENGTH" in env else ["eval", "x+1", "--input", "-"]
    stdin = "x+1\n" if "AUTODIFF_MAX_LENGTH" in env else '{"x": 1}\n'
    result = run(*args, input=stdin, env=env)
    assert result.exit_code == 0, result.output
    assert result.output in ("2.0\n", '{"value": 2.0}\n')


def test_read_bounded_stops_at_the_bound_and_at_the_end():
    source = io.BytesIO(b"abcdefghij")
    assert limits.read_bounded(source.read, 4, piece=3) == b"abcd"
    assert limits.read_bounded(source.read, 100, piece=3) == b"efghij"


def test_the_node_limit_holds_for_jacobians_expressions_together():
    # found by the second review: 95 expressions of 10,000 nodes each took 6 s, each under the limit
    many = ["+".join(["x"] * 6) + f"+{i}" for i in range(4)]  # 8 nodes each: x once, 5 sums, the number, a sum
    result = run("jacobian", *many, "x=1", env={"AUTODIFF_MAX_NODES": "30"})
    assert result.exit_code == 2
    assert result.output.startswith("Error: the 4 expressions have 32 nodes in all; the limit is 30 nodes")
    assert "ask for fewer expressions at a time" in result.output
    result = run("jacobian", *many[:2], "x=1", env={"AUTODIFF_MAX_NODES": "30"})
    assert result.exit_code == 0, result.output
