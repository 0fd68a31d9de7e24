"""docs/startup.md is executed: its `$ autodiff` lines through CliRunner, with their output."""

import pytest
from markdown_examples import ROOT, console_examples, run

PAGE = ROOT / "docs" / "startup.md"
EXAMPLES = console_examples(PAGE)


def test_the_page_has_its_examples_and_the_regenerate_command():
    text = PAGE.read_text(encoding="utf-8")
    assert len(EXAMPLES) >= 3
    assert "python -m autodiff_cli.tablegen" in text


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_startup_page_command(command, expected):
    shown = run(command).replace("Try 'cli --help'", "Try 'autodiff --help'")  # CliRunner's program name
    assert shown.rstrip("\n") == expected.rstrip("\n")
