"""docs/op-table.md, beyond what tests/test_docs.py runs on every page: the entry it shows is the table's."""

import re

from markdown_examples import ROOT, blocks, console_examples

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
