"""docs/tutorial.md: its sections, its doctest form and its Mermaid block.

Its commands and its Python run in test_docs.py, with every other page's.
"""

import re

from markdown_examples import ROOT, blocks, console_examples, run

TUTORIAL = ROOT / "docs" / "tutorial.md"
EXAMPLES = console_examples(TUTORIAL)


def test_the_tutorial_has_its_sections_and_examples():
    text = TUTORIAL.read_text(encoding="utf-8")
    for topic in ("tanh(w*x+b)", "x*x", "topological order", "forward mode", "neuron", "MLP"):
        assert topic in text
    assert len(EXAMPLES) >= 8
    assert len(blocks(TUTORIAL, "python")) >= 8


def test_every_python_block_is_doctest():
    """The tutorial's blocks build on one another, as a session at the `>>>` prompt does."""
    text = TUTORIAL.read_text(encoding="utf-8")
    languages = set(re.findall(r"^```(\w*)\n", text, flags=re.M)) - {""}
    assert languages <= {"console", "python", "mermaid"}, languages
    for line, block in blocks(TUTORIAL, "python"):
        code = [x for x in block.splitlines() if x.strip()]
        assert code and code[0].startswith(">>> "), f"block at line {line} is not doctest"


def test_the_mermaid_block_is_the_commands_output():
    (mermaid,) = [block for _, block in blocks(TUTORIAL, "mermaid")]
    (command,) = [c for c, _ in EXAMPLES if "--format mermaid" in c]
    assert run(command) == mermaid
