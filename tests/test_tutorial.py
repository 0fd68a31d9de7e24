"""docs/tutorial.md is executed: its commands through CliRunner with their output, its Python by doctest."""

import doctest
import re
import shutil

import pytest
from markdown_examples import ROOT, blocks, console_examples, run

TUTORIAL = ROOT / "docs" / "tutorial.md"
EXAMPLES = console_examples(TUTORIAL)
PICTURE = re.compile(r"--output \S+\.(svg|png|pdf)\b")


def test_the_tutorial_has_its_sections_and_examples():
    text = TUTORIAL.read_text(encoding="utf-8")
    for topic in ("tanh(w*x+b)", "x*x", "topological order", "forward mode", "neuron", "MLP"):
        assert topic in text
    assert len(EXAMPLES) >= 8
    assert len(blocks(TUTORIAL, "python")) >= 8


def test_every_code_block_is_executed():
    """Only languages the tests run (console, python) or check (mermaid) appear; Python is all doctest."""
    text = TUTORIAL.read_text(encoding="utf-8")
    languages = set(re.findall(r"^```(\w*)\n", text, flags=re.M)) - {""}
    assert languages <= {"console", "python", "mermaid"}, languages
    for line, block in blocks(TUTORIAL, "python"):
        code = [x for x in block.splitlines() if x.strip()]
        assert code and code[0].startswith(">>> "), f"block at line {line} is not doctest"
    for _, block in blocks(TUTORIAL, "console"):
        assert all(not x.startswith("$ ") or x.startswith("$ autodiff ") for x in block.splitlines())


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_tutorial_command(command, expected, tmp_path, monkeypatch):
    if PICTURE.search(command) and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    monkeypatch.chdir(tmp_path)  # files the tutorial writes land here
    assert run(command).rstrip("\n") == expected.rstrip("\n")
    if match := PICTURE.search(command):
        written = list(tmp_path.iterdir())
        assert len(written) == 1 and written[0].suffix == f".{match.group(1)}" and written[0].stat().st_size > 0


def test_the_mermaid_block_is_the_commands_output():
    (mermaid,) = [block for _, block in blocks(TUTORIAL, "mermaid")]
    (command,) = [c for c, _ in EXAMPLES if "--format mermaid" in c]
    assert run(command) == mermaid


def test_tutorial_python_blocks():
    """All ```python blocks, in order, in one namespace (the tutorial builds on earlier blocks)."""
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict = {}
    report = []
    for line, block in blocks(TUTORIAL, "python"):
        test = parser.get_doctest(block, globs, f"tutorial.md:{line}", str(TUTORIAL), line)
        runner.run(test, out=report.append, clear_globs=False)
        globs = test.globs  # DocTest works on a copy: carry the names on to the next block
    failures = runner.summarize(verbose=False)
    assert failures.failed == 0, "".join(report)
    assert failures.attempted >= 40
