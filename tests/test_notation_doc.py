"""docs/notation.md is executed: each "you write / we read" row computes the same; its commands print what it says."""

import math
import re

import pytest
from markdown_examples import ROOT, console_examples, run

from autodiff_cli.parser import parse

NOTATION = ROOT / "docs" / "notation.md"
EXAMPLES = console_examples(NOTATION)


def table_rows() -> list[tuple[str, str]]:
    """(you write, we read) of every row of the table, with Markdown's \\| unescaped."""
    rows = []
    for line in NOTATION.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 3 and cells[0].startswith("`") and cells[1].startswith("`"):
            rows.append((cells[0].strip("`").replace("\\|", "|"), cells[1].strip("`").replace("\\|", "|")))
    return rows


ROWS = table_rows()
POINTS = [{"x": 0.7, "x₁": 1.5, "θ₀": -0.25}, {"x": 0.3, "x₁": -3.0, "θ₀": 4.0}]


def test_the_table_is_there_and_near_the_top():
    text = NOTATION.read_text(encoding="utf-8")
    assert len(ROWS) >= 20
    assert text.index("| you write | we read |") < 1000
    written = {w for w, _ in ROWS}
    for form in ("π", "√x", "√(x+1)", "|x|", "ln(x)", "2x", "2(x+1)", "2pi", "3sin(x)", "x − 1", "2 × x",
                 "2 · x", "x ÷ 2", "x²", "x⁻¹"):
        assert form in written, form


@pytest.mark.parametrize(("written", "read"), ROWS, ids=[w for w, _ in ROWS])
def test_what_you_write_computes_what_we_read(written, read):
    mine, reference = parse(written), parse(read)
    assert list(mine.variables) == list(reference.variables)
    for point in POINTS:
        at = {n: point[n] for n in reference.variables}
        assert math.isclose(mine.evaluate(at), reference.evaluate(at), rel_tol=0, abs_tol=0)
        if at:
            assert mine.gradient(at)[1] == reference.gradient(at)[1]


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_notation_command(command, expected):
    assert run(command).rstrip("\n") == expected.rstrip("\n")
