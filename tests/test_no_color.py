"""NO_COLOR: the docs promise no escape codes at all when it is set, on a terminal too (not only no colour).

rich alone drops the colours under NO_COLOR but keeps bold, dim and italic; the commands' consoles must
write plain text.  FORCE_COLOR makes rich treat CliRunner's stream as a terminal, so that the control
case (no NO_COLOR) shows the codes this test would catch.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from autodiff_cli.cli import cli

COMMANDS = [
    ("explain", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1"),
    ("hessian", "x^2*y", "x=1", "y=2"),
    ("jacobian", "x*y", "x+y", "x=1", "y=2"),
    ("graph", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1"),
    ("functions",),
    ("train", "examples/moons.csv", "-t", "label", "--epochs", "3", "--hidden", "4", "-q"),
]


def on_a_terminal(monkeypatch, args, env):
    import autodiff_cli.cli.derivatives as derivatives
    import autodiff_cli.cli.training as training
    import autodiff_cli.cli.views as views

    for module in (derivatives, views, training):
        monkeypatch.setattr(module, "is_terminal", lambda: True)
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_no_escape_code_with_no_color(monkeypatch, args):
    assert "\x1b[" in on_a_terminal(monkeypatch, args, {"FORCE_COLOR": "1", "NO_COLOR": None})  # the control
    assert "\x1b" not in on_a_terminal(monkeypatch, args, {"FORCE_COLOR": "1", "NO_COLOR": "1"})


def test_an_empty_no_color_is_not_set(monkeypatch):
    # no-color.org: "when present and not an empty string"
    assert "\x1b[" in on_a_terminal(monkeypatch, COMMANDS[0], {"FORCE_COLOR": "1", "NO_COLOR": ""})


def test_the_progress_console_has_no_colours_either(monkeypatch):
    from autodiff_cli.cli.common import console

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert console(stderr=True).color_system is None
    monkeypatch.delenv("NO_COLOR")
    assert console(stderr=True).color_system is not None


def test_the_batch_progress_bar_has_no_colour_or_style_with_no_color(tmp_path):
    """--progress always draws on stderr; under NO_COLOR without colour or style codes.  Redrawing a live bar
    still moves the cursor (ESC [2K clears the line): that is not colour."""
    import re

    style = re.compile("\x1b\\[[0-9;]*m")  # SGR: colours, bold, dim, italic
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n')
    args = ["eval", "2*x", "--input", str(rows), "--progress", "always"]
    shown = CliRunner().invoke(cli, args, env={"FORCE_COLOR": "1", "NO_COLOR": None}).stderr
    assert style.search(shown)  # the control: the bar is styled
    plain = CliRunner().invoke(cli, args, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.exit_code == 0 and "rows" in plain.stderr and not style.search(plain.stderr)
