"""The README's console examples are run and their output compared, so the README stays true."""

import re

import pytest
from markdown_examples import ROOT, console_examples, run

README = ROOT / "README.md"


def examples():
    return console_examples(README)


EXAMPLES = examples()


def test_there_are_examples():
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example(command, expected, monkeypatch):
    monkeypatch.chdir(README.parent)  # file names in the examples are relative to the repository
    assert run(command).rstrip("\n") == expected.rstrip("\n")


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def statements(block):
    """Top-level statements of a block: a line, with the indented lines that follow it (a loop's body)."""
    chunks = []
    for line in block.splitlines():
        if chunks and line[:1] in (" ", "\t") and line.strip():
            chunks[-1].append(line)
        elif line.strip():
            chunks.append([line])
    return chunks


@pytest.mark.parametrize("block", python_blocks())
def test_readme_python_block(block):
    """Each block runs; a line ending in `# <number>` must produce that number."""
    namespace: dict = {}
    checked = 0
    for chunk in statements(block):
        if len(chunk) > 1:
            exec("\n".join(chunk), namespace)  # the README's own code
            continue
        line = chunk[0]
        code, _, comment = line.partition("  #")
        expected = comment.strip().split(" ")[0].rstrip(",")
        try:
            number = float(expected)
        except ValueError:
            number = None
        statement = code.strip()
        if number is not None and statement:
            inner = statement[6:-1] if statement.startswith("print(") else statement
            assert eval(inner, namespace) == number, line  # the README's own code
            checked += 1
        elif statement:
            exec(statement, namespace)  # the README's own code
    assert checked or "import" in block
