"""Plain aligned text: columns line up by the width characters take on a terminal, not by their count."""

import pytest
from helpers import run

from autodiff_cli.render import aligned, width


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("x", 1), ("∂/∂x", 4), ("θ", 1),  # narrow and ambiguous (Greek) characters take one column
        ("ｘ", 2), ("变量", 4), ("ﾊ", 1),  # full-width and wide take two; half-width katakana one
        ("e\u0301", 1), ("a\u200db", 2),  # a combining accent and a zero-width joiner take none
        ("", 0),
    ],
)
def test_display_width(text, columns):
    assert width(text) == columns


def test_aligned_pads_by_display_width():
    assert aligned([["ｘ", "1"], ["ab", "2"], ["变量", "3"]]) == "ｘ    1\nab    2\n变量  3"
    assert aligned([["e\u0301", "1"], ["ab", "2"]]) == "e\u0301   1\nab  2"


def test_grad_table_with_wide_names_lines_up():
    result = run("grad", "变量^2 + y*ｘ", "变量=1", "y=2", "ｘ=3")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines == ["value     7.0", "∂/∂变量   2.0", "∂/∂y      3.0", "∂/∂ｘ     2.0"]
    starts = {width(line[: line.index(number)]) for line, number in zip(lines, ["7", "2", "3", "2"], strict=True)}
    assert starts == {10}  # every number starts in the same terminal column
