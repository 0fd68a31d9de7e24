"""docs/numbers.md, beyond what tests/test_docs.py runs on every page: its stacked table as drawn at 60 columns."""

import io

from markdown_examples import ROOT, blocks, console_examples
from rich.console import Console

from autodiff_cli.cli import cli

PAGE = ROOT / "docs" / "numbers.md"
EXAMPLES = console_examples(PAGE)


def test_the_page_has_its_examples():
    assert len(EXAMPLES) >= 6
    assert len(blocks(PAGE, "text")) == 1


def test_the_stacked_jacobian_is_what_a_60_column_terminal_shows(monkeypatch):
    from click.testing import CliRunner

    import autodiff_cli.cli.derivatives as derivatives

    screen = io.StringIO()
    monkeypatch.setattr(derivatives, "is_terminal", lambda: True)
    monkeypatch.setattr(derivatives, "console", lambda wide=False: Console(file=screen, width=60, color_system=None))
    result = CliRunner().invoke(cli, ["jacobian", "exp(-x/1000)*y", "x*y*1e-9", "--x", "3", "--y", "2"])
    assert result.exit_code == 0
    (_, shown), = blocks(PAGE, "text")
    assert [line.rstrip() for line in screen.getvalue().splitlines()] == shown.rstrip("\n").splitlines()
