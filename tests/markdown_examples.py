"""Examples in Markdown documents, run as tests: `$ autodiff ...` console lines and ```python blocks.

Shared by test_readme.py and test_tutorial.py, so that the README and docs/tutorial.md
fail the test suite the day they stop being true.
"""

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from autodiff_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """(line number, text) of every fenced block in the given language."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M):
        found.append((text.count("\n", 0, match.start(1)) + 1, match.group(1)))
    return found


def console_examples(path: Path) -> list[tuple[str, str]]:
    """(command, expected output) for every `$ autodiff ...` line of the console blocks."""
    found = []
    for _, block in blocks(path, "console"):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    found.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command:
            found.append((command, "\n".join(output)))
    return found


def run(command: str) -> str:
    """Run one documented command line through CliRunner; `| jq .a.b` is applied by hand."""
    command, _, jq = command.partition(" | jq ")
    argv = shlex.split(command)
    env = {}
    while argv and argv[0] != "autodiff" and "=" in argv[0]:  # NAME=value before the command: its environment
        name, _, value = argv.pop(0).partition("=")
        env[name] = value
    assert argv[0] == "autodiff"
    result = CliRunner().invoke(cli, argv[1:], env=env)
    text = result.stdout + result.stderr
    if jq:
        value = json.loads(result.stdout)
        for key in jq.strip().strip(".").split("."):
            value = value[key]
        text = json.dumps(value) + "\n"
    return text
