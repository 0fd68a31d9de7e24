"""A number on a terminal is never cut: every table, at 40, 60, 80 and 200 columns, shows each number whole.

Each command runs the way it does on a terminal (is_terminal() true, a rich Console of the given width), and
every number printed must read back to a value of the command's --json output: exactly, or as that value
rounded to the digits shown (so 1.815 for 1.8e-07, the exponent lost, fails).  rich marks a cut cell with
an ellipsis; there must be none.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from click.testing import CliRunner
from rich.console import Console

from autodiff_cli.cli import cli

WIDTHS = (40, 60, 80, 200)
NUMBER = re.compile(r"(?<![\w.#^])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.(])")


def on_a_terminal(monkeypatch, width: int, *args: str) -> str:
    """What the command shows on a terminal `width` columns wide (no colour: the text alone)."""
    import autodiff_cli.cli.calculus as calculus
    import autodiff_cli.cli.derivatives as derivatives
    import autodiff_cli.cli.training as training
    import autodiff_cli.cli.views as views

    screen = io.StringIO()
    for module in (calculus, derivatives, views, training):
        if hasattr(module, "is_terminal"):
            monkeypatch.setattr(module, "is_terminal", lambda: True)
        if hasattr(module, "console"):
            monkeypatch.setattr(module, "console",
                                lambda wide=False: Console(file=screen, width=width, color_system=None))
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout + screen.getvalue()


def json_of(*args: str) -> dict:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def numbers_in(document: object) -> list[float]:
    if isinstance(document, bool):
        return []
    if isinstance(document, (int, float)):
        return [float(document)]
    if isinstance(document, dict):
        return [x for v in document.values() for x in numbers_in(v)]
    if isinstance(document, list):
        return [x for v in document for x in numbers_in(v)]
    return []


def reads_back(token: str, values: list[float]) -> bool:
    """The token is one of the values, or one rounded to the significant digits the token shows."""
    shown = float(token)
    digits = len(token.lstrip("-").split("e")[0].replace(".", "").lstrip("0")) or 1
    return any(shown == v or float(f"{v:.{digits}g}") == shown for v in values)


def assert_whole(screen: str, values: list[float], cells: int, skip: list[str] = ()) -> None:
    """No cut cell, every number on screen reads back, and at least `cells` of them do."""
    assert "…" not in screen, screen
    for text in sorted(skip, key=len, reverse=True):  # expressions and rules hold numbers that are not results
        screen = screen.replace(text, " ")
    screen = re.sub(r"\(\d+ of \d+\)", " ", screen)
    tokens = NUMBER.findall(screen)
    wrong = [t for t in tokens if not reads_back(t, values)]
    assert not wrong, (wrong, screen)
    assert len(tokens) >= cells, screen


@pytest.mark.parametrize("width", WIDTHS)
def test_jacobian_shows_every_number_whole(monkeypatch, width):
    # found by issue 12: at 80 columns 6e-09 showed as 6.000000000000001…
    args = ("jacobian", "exp(-x/1000)*y", "x*y*1e-9", "--x", "3", "--y", "2")
    document = json_of(*args)
    screen = on_a_terminal(monkeypatch, width, *args)
    assert_whole(screen, numbers_in(document), 6, skip=document["expressions"])
    assert "6.000000000000001e-09" in screen and "3.0000000000000004e-09" in screen


@pytest.mark.parametrize("width", WIDTHS)
def test_hessian_shows_every_number_whole(monkeypatch, width):
    # found by issue 12: 8.17e-12 showed as 8.1717722739775…
    args = ("hessian", "1e-10*sin(x)*sin(y)*sin(z)*sin(w)", "--x", "1", "--y", "2", "--z", "3", "--w", "4")
    document = json_of(*args)
    screen = on_a_terminal(monkeypatch, width, *args)
    assert_whole(screen, numbers_in(document), 1 + 4 + 16, skip=[args[1]])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", [("explain",), ("grad", "--steps")])
def test_explain_shows_every_number_whole(monkeypatch, width, command):
    # found by issue 12: at 60 columns 1.8e-07 showed as 1.815… throughout the backward pass
    args = (*command, "tanh(w*x+b)*1e-3", "--x", "2", "--w", "-3", "--b", "1")
    document = json_of(*args)
    screen = on_a_terminal(monkeypatch, width, *args)
    skip = [e["rule"] for e in document["backward"]]
    cells = len(document["forward"]) + 4 * len(document["backward"]) + 4
    assert_whole(screen, numbers_in(document), cells, skip=skip)


@pytest.mark.parametrize("width", (60, 80))
def test_explain_rules_stay_on_one_line(monkeypatch, width):
    # found by issue 12: at 60 columns the rule sech(#2)^2 wrapped over three lines of a narrow column
    args = ("explain", "tanh(w*x+b)*1e-3", "--x", "2", "--w", "-3", "--b", "1")
    screen = on_a_terminal(monkeypatch, width, *args)
    for edge in json_of(*args)["backward"]:
        assert edge["rule"] in screen


def test_a_long_explanation_is_stacked_when_its_columns_do_not_fit(monkeypatch):
    # past TABLE_ROWS rows the explanation is drawn as aligned columns: too wide, it is stacked as well
    import autodiff_cli.explain_tables as explain_tables

    monkeypatch.setattr(explain_tables, "TABLE_ROWS", 2)
    args = ("explain", "tanh(w*x+b)*1e-3", "--x", "2", "--w", "-3", "--b", "1")
    document = json_of(*args)
    screen = on_a_terminal(monkeypatch, 40, *args)
    skip = [e["rule"] for e in document["backward"]]
    assert_whole(screen, numbers_in(document), len(document["forward"]) + 4 * len(document["backward"]), skip)
    titles = ("Forward pass", "Backward pass")  # a title is one line, which the terminal may wrap
    assert max(len(line) for line in screen.splitlines() if not line.startswith(titles)) <= 40


@pytest.mark.parametrize("width", WIDTHS)
def test_grad_and_check_show_every_number_whole(monkeypatch, width):
    args = ("grad", "1e-10*sin(x)*exp(y)", "x=1", "y=2")
    assert_whole(on_a_terminal(monkeypatch, width, *args), numbers_in(json_of(*args)), 3, skip=[args[1]])
    args = ("check", "1e-10*sin(x)*exp(y)", "x=1", "y=2")
    document = json_of(*args)
    screen = on_a_terminal(monkeypatch, width, *args)
    assert "passed" in screen
    screen = screen[: screen.index("passed")]  # the summary's "largest error" is shown rounded
    values = [v for row in document["checks"] for v in (row["analytic"], row["numeric"], row["error"])]
    assert_whole(screen, values, 6)


@pytest.mark.parametrize("width", WIDTHS)
def test_train_summary_fits(monkeypatch, width):
    # the loss curve was 60 columns whatever the terminal: at 40 its rows wrapped, its axis torn from its label
    args = ("train", "examples/moons.csv", "-t", "label", "--epochs", "100", "--hidden", "4", "-q")
    document = json_of(*args)
    screen = on_a_terminal(monkeypatch, width, *args)
    assert "…" not in screen
    assert max(len(line.rstrip()) for line in screen.splitlines()) <= width
    last = document["history"][-1]
    assert f"loss {last['loss']:.4g}" in screen
    drawn = [line for line in screen.splitlines() if any(block in line for block in "▁▂▃▄▅▆▇█")]
    assert all("┤" in line for line in drawn)  # no row of the curve wrapped onto a line of its own
    axis = [line for line in screen.splitlines() if "┤" in line]
    assert len(axis) == 8 and re.match(r"\s*\d[\d.e+-]* ┤", axis[0])  # eight rows, the top's value beside its axis


@pytest.mark.parametrize("width", WIDTHS)
def test_functions_table_cuts_nothing(monkeypatch, width):
    # at 40 columns pi's value showed as 3.14159… and 41 other cells were cut
    import math

    screen = on_a_terminal(monkeypatch, width, "functions")
    assert "…" not in screen
    assert repr(math.pi) in screen and repr(math.e) in screen
    assert "sech(x)^2" in screen.replace("\n", " ")


@pytest.mark.parametrize("width", WIDTHS)
def test_graph_tree_shows_every_number_whole(monkeypatch, width):
    # at 40 columns the tree went 8 levels deep whatever the width, leaving 8 columns for a label:
    # -3.21813e-07 was folded into -3.21813 / e-07
    text = "tanh(w*x+b)*1e-3+sin(cos(tan(exp(w*x*b*1e-7))))"
    args = ("graph", text, "--x", "2", "--w", "-3", "--b", "1")
    nodes = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).stdout)["nodes"]
    values = [v for node in nodes for v in (node["data"], node["grad"]) if v is not None]
    screen = on_a_terminal(monkeypatch, width, *args)
    screen = re.sub(r"#\d+", " ", screen.replace("… (not drawn", " "))  # where the drawing stops: no number
    assert_whole(screen, values, 10)
