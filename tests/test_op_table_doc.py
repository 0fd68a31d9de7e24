"""docs/op-table.md is executed: its commands through CliRunner with their output, its Python by doctest."""

import doctest
import re

import pytest
from markdown_examples import ROOT, blocks, console_examples, run

PAGE = ROOT / "docs" / "op-table.md"
EXAMPLES = console_examples(PAGE)


def test_every_code_block_is_executed_or_checked():
    text = PAGE.read_text(encoding="utf-8")
    assert set(re.findall(r"^```([\w-]*)\n", text, flags=re.M)) - {""} == {"console", "python", "python-entry"}
    assert len(EXAMPLES) >= 5


def test_the_entry_shown_is_the_tables():
    table = (ROOT / "autodiff_cli" / "table.py").read_text(encoding="utf-8")
    ((_, entry),) = blocks(PAGE, "python-entry")
    assert "\n".join("    " + line for line in entry.splitlines()) in table


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_page_command(command, expected):
    assert run(command).rstrip("\n") == expected.rstrip("\n")


def test_page_python_blocks():
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict = {}
    for line, block in blocks(PAGE, "python"):
        test = parser.get_doctest(block, globs, f"op-table.md:{line}", str(PAGE), line)
        runner.run(test, clear_globs=False)
        globs = test.globs
    result = runner.summarize(verbose=False)
    assert result.failed == 0 and result.attempted >= 6
