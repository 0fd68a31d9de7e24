"""The README starts small and keeps its promises; its examples run in test_docs.py with every page's."""

import re

from markdown_examples import ROOT, blocks, console_examples

from autodiff_cli.cli import cli

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")


def test_the_readme_starts_small():
    assert len(TEXT.splitlines()) <= 250


def test_the_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == 'pip install -e ".[test]" && pytest'
    assert any(block.strip() == ci for _, block in blocks(README, "sh"))


def test_the_quick_start_prints_what_the_first_example_shows():
    install = 'pip install . && autodiff grad "tanh(w*x+b)" --x 2 --w -3 --b 1'
    assert any(block.strip() == install for _, block in blocks(README, "sh"))
    assert console_examples(README)[0][0] == install.removeprefix("pip install . && ")


def test_the_readme_shows_every_command():
    code = "\n".join(block for language in ("console", "sh") for _, block in blocks(README, language))
    shown = set(re.findall(r"\bautodiff (\w+)", code))
    assert set(cli.commands) <= shown, set(cli.commands) - shown

