"""docs/batch-input.md, beyond what tests/test_docs.py runs on every page: its jq recipe and its progress line."""

import re
import shutil
import subprocess

import pytest
from helpers import records, run
from markdown_examples import ROOT, blocks, console_examples

PAGE = ROOT / "docs" / "batch-input.md"
EXAMPLES = console_examples(PAGE)


def test_the_page_has_its_examples():
    assert len(EXAMPLES) == 5
    languages = set(re.findall(r"^```(\w*)\n", PAGE.read_text(encoding="utf-8"), flags=re.M)) - {""}
    assert languages <= {"console", "sh"}, languages


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_jq_recipe_on_the_page_works():
    ((_, block),) = blocks(PAGE, "sh")
    recipe, _, command = block.strip().partition(" | ")
    assert recipe == "jq -c '{x: .}' examples/batch/numbers.txt" and command == 'autodiff grad "x^2" --input -'
    made = subprocess.run(["jq", "-c", "{x: .}", "examples/batch/numbers.txt"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    result = run("grad", "x^2", "--input", "-", input=made)
    # (x^2)' = 2x at 1 and 2.5
    assert records(result.stdout) == [{"value": 1.0, "gradient": {"x": 2.0}}, {"value": 6.25, "gradient": {"x": 5.0}}]


def test_the_progress_line_on_the_page_has_the_labels_the_bar_prints():
    text = PAGE.read_text(encoding="utf-8")
    (line,) = [x for x in text.splitlines() if "rows/s" in x]
    assert re.search(r"\d+% \d+:\d\d:\d\d left \d+:\d\d:\d\d elapsed$", line.strip())
    shown = run("eval", "x", "--input", str(ROOT / "examples" / "batch" / "zeros.jsonl"), "--progress", "always")
    assert re.search(r"\d+% +\d+:\d\d:\d\d left +\d+:\d\d:\d\d elapsed", shown.stderr), shown.stderr
