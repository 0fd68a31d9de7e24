"""docs/startup.md, beyond what tests/test_docs.py runs on every page: the regenerate command is there."""

from markdown_examples import ROOT, console_examples

PAGE = ROOT / "docs" / "startup.md"
EXAMPLES = console_examples(PAGE)


def test_the_page_has_its_examples_and_the_regenerate_command():
    text = PAGE.read_text(encoding="utf-8")
    assert len(EXAMPLES) >= 3
    assert "python -m autodiff_cli.tablegen" in text
