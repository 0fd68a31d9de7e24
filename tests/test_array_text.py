"""array_text: NumPy's layout of small arrays, summaries of large ones, JSON lines and element names."""

import json

import pytest

from autodiff_cli.array_text import (
    array_block,
    array_text,
    element_label,
    element_labels,
    json_line,
    labelled,
    nested,
    shape_text,
)


def test_a_matrix_is_laid_out_as_numpy_prints_it_with_full_precision():
    # numpy: str(np.array([[1.5, -2], [3, 4]])) is '[[ 1.5 -2. ]\n [ 3.   4. ]]': the same frame and alignment
    assert array_text([1.5, -2.0, 3.0, 4.0], (2, 2)) == "[[ 1.5 -2.0]\n [ 3.0  4.0]]"


def test_numbers_line_up_on_their_decimal_point():
    lines = array_text([0.1, 22.25, -333.0, 4.0], (2, 2)).splitlines()
    points = [i for i, c in enumerate(lines[0]) if c == "."]
    assert points == [i for i, c in enumerate(lines[1]) if c == "."]


def test_three_axes_separate_their_matrices_by_a_blank_line():
    assert array_text([float(i) for i in range(8)], (2, 2, 2)) == (
        "[[[0.0 1.0]\n  [2.0 3.0]]\n\n [[4.0 5.0]\n  [6.0 7.0]]]")


def test_a_large_array_shows_its_shape_and_edges():
    text = array_block([float(i) for i in range(2000)], (40, 50))
    first, *rows = text.splitlines()
    assert first == "shape (40, 50), 2,000 numbers, the edges to 8 digits (--json prints every one in full):"
    assert len(rows) == 7 and rows[3] == " ..."
    assert rows[0] == "[[   0.0    1.0    2.0 ...   47.0   48.0   49.0]"
    assert "1999.0]]" in rows[-1] and "..." in rows[-1]


def test_a_summary_rounds_to_eight_digits_as_numpy_does():
    # numpy: np.array([1/3] * 200) prints 0.33333333 (precision 8)
    text = array_block([1 / 3] * 200, (200,))
    assert text.splitlines()[1] == "[0.33333333 0.33333333 0.33333333 ... 0.33333333 0.33333333 0.33333333]"


def test_the_full_text_reads_back_every_double():
    values = [0.1 + 0.2, 1 / 3, -2.0 ** -30, 1e300]
    printed = array_text(values, (4,)).strip("[]").split()
    assert [float(x) for x in printed] == values


def test_json_line_is_one_line_that_reads_back():
    values = [0.1, -0.0, 1e-300, 2.5, 3.0, 4.0]
    line = json_line(values, (2, 3))
    assert "\n" not in line
    assert json.loads(line) == [[0.1, -0.0, 1e-300], [2.5, 3.0, 4.0]]
    assert json_line([2.5], ()) == "2.5"


@pytest.mark.parametrize(("shape", "expected"), [((), 7.0), ((0,), []), ((2, 0), [[], []]),
                                                  ((1, 1), [[7.0]])])
def test_nested_lists_of_any_shape(shape, expected):
    assert nested([7.0] * (1 if 0 not in shape else 0), shape) == expected


def test_element_names_are_row_major():
    assert element_labels("A", (2, 3)) == ["A[0,0]", "A[0,1]", "A[0,2]", "A[1,0]", "A[1,1]", "A[1,2]"]
    assert element_labels("x", ()) == ["x"]
    assert element_label("z", (4,)) == "z[4]"
    assert shape_text((3,)) == "(3,)" and shape_text(()) == "()"


def test_labelled_keeps_the_lines_of_a_block_under_its_first():
    text = labelled([("value", array_block([14.0], ())), ("∂/∂A", array_block([-2.0, 2.0, -4.0, 4.0], (2, 2)))])
    assert text == "value   14.0\n∂/∂A   [[-2.0  2.0]\n        [-4.0  4.0]]"
