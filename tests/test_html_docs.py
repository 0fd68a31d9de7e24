"""docs/html.md, beyond what tests/test_docs.py runs on every page: the pages its commands write, and the
picture it shows is there."""

import json
import re

import pytest
from markdown_examples import ROOT, blocks, console_examples, run

PAGE = ROOT / "docs" / "html.md"
EXAMPLES = console_examples(PAGE)


def test_the_page_has_its_examples():
    text = PAGE.read_text(encoding="utf-8")
    assert len(EXAMPLES) >= 1 and len(blocks(PAGE, "python")) >= 1
    for topic in ("--html", "-o FILE.html", "(2 of 3)", "central-difference", "dark mode"):
        assert topic in text
    languages = set(re.findall(r"^```(\w*)\n", text, flags=re.M)) - {""}
    assert languages <= {"console", "python"}, languages


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_docs_command(command, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(command).rstrip("\n") == expected.rstrip("\n")
    (written,) = tmp_path.iterdir()
    page = written.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="explanation">(.*?)</script>', page).group(1))
    assert data["file"] == written.name and data["backward"]


def test_the_picture_it_shows_is_there():
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", PAGE.read_text(encoding="utf-8")):
        assert (PAGE.parent / target).is_file(), target
