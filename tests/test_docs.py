"""The README and every page of docs/ are executed, and their links lead somewhere.

Pages are found by globbing docs/*.md, so a page added tomorrow is covered without
touching this file: its `$ autodiff ...` examples run through CliRunner and are
compared with their output, its Python blocks run (doctest, or `# <number>`
comments), and its relative links must point at a file and heading that exist.
"""

import re
import unicodedata
from pathlib import Path

import pytest
from markdown_examples import (
    ROOT,
    blocks,
    check_command,
    check_doctests,
    check_plain_python,
    check_shell_command,
    console_examples,
    is_doctest,
    languages,
    shell_commands,
)

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
# Other documents whose links are checked (their examples are not commands).
LINKED = [ROOT / "benchmarks" / "README.md", ROOT / "SECURITY.md", ROOT / "fuzz" / "README.md"]

# Pages that other lanes add on their branches: links to them may dangle until those
# branches are merged.  THE INTEGRATOR EMPTIES THIS LIST once they are all in main.
PENDING: set[str] = set()

# Languages of fenced blocks and what the tests do with them.  console and python are
# executed; sh holds what cannot run whole inside a test (installing, the test suite itself,
# benchmarks, shell pipelines through other programs, the reader's own files), and its
# plain `autodiff ...` lines run and must succeed (test_documented_shell_command); mermaid
# is a command's output, compared by the page's own test (tests/test_tutorial.py).
EXECUTED = {"console", "python"}
# Compared by their page's own test: mermaid (tests/test_tutorial.py), text (a terminal's screen,
# tests/test_docs_numbers.py), python-entry (an op-table entry, tests/test_op_table_doc.py).
NOT_EXECUTED = {"sh", "mermaid", "text", "python-entry"}


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


COMMANDS = [(page, command, output) for page in PAGES for command, output in console_examples(page)]
SHELL = [(page, command) for page in PAGES for command in shell_commands(page)]
PLAIN_PYTHON = [
    (page, line, block) for page in PAGES for line, block in blocks(page, "python") if not is_doctest(block)
]


def test_the_pages_have_examples():
    assert len(PAGES) >= 8
    assert len(COMMANDS) >= 60
    assert len(PLAIN_PYTHON) >= 5


@pytest.mark.parametrize(
    ("page", "command", "expected"), COMMANDS, ids=[f"{name(p)}: {c}" for p, c, _ in COMMANDS]
)
def test_documented_command(page, command, expected, tmp_path, monkeypatch):
    check_command(command, expected, tmp_path, monkeypatch)


@pytest.mark.parametrize(("page", "command"), SHELL, ids=[f"{name(p)}: {c}" for p, c in SHELL])
def test_documented_shell_command(page, command, tmp_path, monkeypatch):
    check_shell_command(command, tmp_path, monkeypatch)


@pytest.mark.parametrize(("page", "line", "block"), PLAIN_PYTHON, ids=[f"{name(p)}:{n}" for p, n, _ in PLAIN_PYTHON])
def test_documented_python_block(page, line, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert check_plain_python(block) or "import" in block


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_documented_doctests(page):
    check_doctests(page)


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_block_is_of_a_kind_the_tests_know(page):
    """A block the tests neither run nor compare could silently go stale: only known languages appear."""
    if name(page) in PENDING:  # another lane's page: its own test says what it runs
        return
    found = languages(page)
    assert found <= EXECUTED | NOT_EXECUTED, f"{name(page)}: {found - EXECUTED - NOT_EXECUTED}"
    for _, block in blocks(page, "console"):
        lines = [x for x in block.splitlines() if x.startswith("$ ")]
        assert lines and all("autodiff " in x for x in lines), block


# -- links ---------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def prose(path: Path) -> str:
    """The text outside fenced blocks and inline code."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(path), flags=re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", prose(path)) if not re.match(r"[a-z]+:", t)]


def test_slugs_follow_githubs_rule():
    assert slug("Errors and exit codes") == "errors-and-exit-codes"
    assert slug("Zeros: their sign, and pow at 0") == "zeros-their-sign-and-pow-at-0"
    assert slug("`train` and `predict`") == "train-and-predict"
    assert slug("Many points: batch mode") == "many-points-batch-mode"


@pytest.mark.parametrize("page", PAGES + LINKED, ids=name)
def test_every_relative_link_points_at_a_file_and_heading_that_exist(page):
    broken = []
    for target in links(page):
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if not path.exists():
            if path.is_relative_to(ROOT) and name(path) in PENDING:
                continue
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(target)
    assert not broken, f"{name(page)}: {broken}"


def test_every_page_can_be_reached_from_the_readme():
    reached, todo = set(), [README]
    while todo:
        page = todo.pop()
        for target in links(page):
            path = (page.parent / target.partition("#")[0]).resolve()
            if path.suffix == ".md" and path.exists() and path not in reached and path.is_relative_to(ROOT / "docs"):
                reached.add(path)
                todo.append(path)
    assert not {p for p in PAGES[1:]} - reached
