"""Examples in Markdown documents, run as tests: `$ autodiff ...` console lines and ```python blocks.

Shared by test_docs.py (the README and every page of docs/), test_tutorial.py and
the tests other pages bring, so that a document fails the test suite the day it
stops being true.

- A ```console block holds `$ autodiff ...` lines, each followed by its exact
  output (stdout, then stderr).  `NAME=value` before `autodiff` sets the
  environment, `echo TEXT |` or `printf TEXT |` before it feeds stdin, and
  `| jq .a.b[0]` (or `jq -c`) after it picks a value out of the JSON on stdout.
- In a ```sh block, a line that starts with `autodiff ` and pipes into no other
  program runs too and must succeed (`> FILE` writes its output there), unless it
  reads a file of the reader's own (`data.csv`) or draws a picture without Graphviz.
- A ```python block is doctest (its first line starts with `>>> `) or plain code,
  in which a line ending in `# <number>` must produce that number.
"""

import doctest
import importlib.util
import itertools
import json
import math
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from autodiff_cli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PICTURE = re.compile(r"--output \S+\.(svg|png|pdf)\b")


def blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """(line number, text) of every fenced block in the given language."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M):
        found.append((text.count("\n", 0, match.start(1)) + 1, match.group(1)))
    return found


def languages(path: Path) -> set[str]:
    """The language of every fenced block that opens in the document ('' for none)."""
    text = path.read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^```([\w-]*)\n.*?^```", text, flags=re.S | re.M)}


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


def jq(document: str, arguments: str) -> str:
    """`jq [-c] PATH` for the simple paths the documents use: `.a.b`, `.a[0].b`."""
    compact = arguments.startswith("-c ")
    value = json.loads(document)
    for key, index in re.findall(r"\.(\w+)|\[(\d+)\]", arguments.removeprefix("-c ").strip()):
        value = value[key] if key else value[int(index)]
    return json.dumps(value, ensure_ascii=False, indent=None if compact else 2) + "\n"


def run(command: str) -> str:
    """Run one documented command line through CliRunner: its stdout, then its stderr."""
    command, _, path = command.partition(" | jq ")
    stdin = None
    if command.startswith(("echo ", "printf ")):  # echo TEXT | autodiff ...: TEXT is stdin
        feed, _, command = command.partition(" | ")
        words = shlex.split(feed)
        stdin = words[1].encode().decode("unicode_escape") if words[0] == "printf" else " ".join(words[1:]) + "\n"
    argv = shlex.split(command)
    env = {}
    while argv and argv[0] != "autodiff" and "=" in argv[0]:  # NAME=value before the command: its environment
        name, _, value = argv.pop(0).partition("=")
        env[name] = value
    assert argv[0] == "autodiff", command
    result = CliRunner().invoke(cli, argv[1:], env=env, input=stdin, prog_name="autodiff")
    if path:
        return jq(result.stdout, path)
    return result.stdout + result.stderr


_NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _numbers_close(got: str, expected: str) -> bool:
    """The same text but for numbers with a decimal point, which agree to 1e-7 (relative) or 1e-9."""
    if _NUMBER.sub("#", got).split() != _NUMBER.sub("#", expected).split():
        return False
    pairs = zip(_NUMBER.findall(got), _NUMBER.findall(expected), strict=True)
    return all(math.isclose(float(a), float(b), rel_tol=1e-7, abs_tol=1e-9) for a, b in pairs)


def check_command(command: str, expected: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a documented command in `folder` (with examples/ reachable) and compare its output.

    Files the command writes land in `folder`; a picture (`--output x.svg`) needs
    Graphviz, so the example is skipped where `dot` is missing.
    """
    picture = PICTURE.search(command)
    if picture and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    if not (folder / "examples").exists():
        (folder / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(folder)
    got = run(command).rstrip("\n")
    if got != expected.rstrip("\n") and importlib.util.find_spec("numpy") is None:
        # The pages' figures are printed by the NumPy backend, the default where NumPy is installed.
        # The pure-Python backend rounds some sums and functions (tanh) differently in the last bits,
        # and a central difference divides that by 2h: there the numbers are compared to 1e-7.
        assert _numbers_close(got, expected.rstrip("\n")), got
    else:
        assert got == expected.rstrip("\n")
    if picture:
        written = folder / command[picture.start():picture.end()].split()[1]
        assert written.suffix == f".{picture.group(1)}" and written.stat().st_size > 0


def shell_commands(path: Path) -> list[str]:
    """The `autodiff ...` lines of the sh blocks that need no other program (comments dropped)."""
    found = []
    for _, block in blocks(path, "sh"):
        for line in block.splitlines():
            command = line.partition("  #")[0].strip()
            if command.startswith("autodiff ") and " | " not in command:
                found.append(command)
    return found


OWN_FILE = re.compile(r"\.(csv|jsonl|json)$")
WRITES = ("--save", "--output", "-o", ">")


def check_shell_command(command: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run an `autodiff` line of a sh block in `folder`: it must exit 0 and write what it redirects to."""
    if re.search(r"--format (svg|png|pdf)\b|--output \S+\.(svg|png|pdf)\b", command) and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    if not (folder / "examples").exists():
        (folder / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(folder)
    command, _, target = command.partition(" > ")
    argv = shlex.split(command)
    reads = [w for before, w in itertools.pairwise(argv) if OWN_FILE.search(w) and before not in WRITES]
    if missing := [w for w in reads if not Path(w).exists()]:
        pytest.skip(f"reads the reader's own files: {', '.join(missing)}")
    result = CliRunner().invoke(cli, argv[1:])
    assert result.exit_code == 0, result.output
    if target:
        Path(target.strip()).write_bytes(result.stdout_bytes)
        assert result.stdout_bytes


def statements(block: str) -> list[list[str]]:
    """Top-level statements of a block: a line, with the indented lines that follow it (a loop's body)."""
    chunks: list[list[str]] = []
    for line in block.splitlines():
        if chunks and line[:1] in (" ", "\t") and line.strip():
            chunks[-1].append(line)
        elif line.strip():
            chunks.append([line])
    return chunks


def is_doctest(block: str) -> bool:
    return block.lstrip().startswith(">>> ")


def check_plain_python(block: str) -> int:
    """Run a block of plain code; each line ending in `# <number>` must give that number.  Returns the count."""
    namespace: dict = {}
    checked = 0
    for chunk in statements(block):
        if len(chunk) > 1:
            exec("\n".join(chunk), namespace)  # the document's own code
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
            assert eval(inner, namespace) == number, line  # the document's own code
            checked += 1
        elif statement:
            exec(statement, namespace)  # the document's own code
    return checked


def check_doctests(path: Path) -> int:
    """Every doctest block of a document, in order, in one namespace (later blocks build on earlier ones).

    Returns the number of examples run; fails with doctest's report.
    """
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs: dict = {}
    report: list[str] = []
    for line, block in blocks(path, "python"):
        if not is_doctest(block):
            continue
        test = parser.get_doctest(block, globs, f"{path.name}:{line}", str(path), line)
        runner.run(test, out=report.append, clear_globs=False)
        globs = test.globs  # DocTest works on a copy: carry the names on to the next block
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)
    return results.attempted
