"""User JSON with numbers Python will not read as int, and model files with a key given twice.

References: Python refuses int() of more than 4,300 digits (sys.int_info.default_max_str_digits,
CPython 3.11's answer to CVE-2020-10735); RFC 8259 section 4 leaves repeated names' meaning
undefined ("the names within an object SHOULD be unique"), and Python's json keeps the last.
"""

import json
import sys
from pathlib import Path

import pytest
from helpers import run

from autodiff_cli.errors import DataError
from autodiff_cli.modelfile import load_model

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MODEL = (EXAMPLES / "moons-model.json").read_text(encoding="utf-8")
BIG = "1" + "0" * 4999  # 5,000 digits


def test_python_itself_refuses_such_an_integer():
    assert sys.int_info.default_max_str_digits == 4300
    with pytest.raises(ValueError, match="integer string conversion"):
        json.loads(BIG)


def with_big_weight(text: str) -> str:
    doc = json.loads(text)
    doc["layers"][0]["weights"][0][0] = 0.125
    return json.dumps(doc).replace("0.125", BIG, 1)


def test_predict_with_a_5000_digit_weight_is_a_data_error(tmp_path):
    (tmp_path / "bigint.json").write_text(with_big_weight(MODEL), encoding="utf-8")
    (tmp_path / "d.csv").write_text("x1,x2\n1,2\n", encoding="utf-8")
    out = run("predict", str(tmp_path / "bigint.json"), str(tmp_path / "d.csv"))
    assert out.exit_code == 2, out.output
    assert "not a valid model file: a number with 5,000 digits, too long to be a double" in out.output
    assert "internal error" not in out.output and "set_int_max_str_digits" not in out.output


def test_batch_row_with_a_5000_digit_number_is_a_plain_error_record():
    out = run("grad", "x*y", "--input", "-", input=f'{{"x": {BIG}, "y": 1}}\n{{"x": 2, "y": 3}}\n')
    first, second = (json.loads(line) for line in out.output.splitlines() if line.startswith("{"))
    assert first["line"] == 1
    assert first["error"]["message"] == (
        "not a usable JSON object of bindings: a number with 5,000 digits, too long to be a double"
    )
    assert "set_int_max_str_digits" not in out.output
    assert second == {"value": 6.0, "gradient": {"x": 3.0, "y": 2.0}}  # the next row goes on


def test_a_400_digit_integer_is_still_an_overflow_not_this_error():
    out = run("grad", "x*y", "--input", "-", input=f'{{"x": 1{"0" * 399}, "y": 1}}\n')
    assert "too long to be a double" not in out.output and '"error"' in out.output


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda t: t.replace('"version": 1,', '"version": 99, "version": 1,', 1), "version"),
        (lambda t: t.replace('"activation": "tanh",', '"activation": "relu", "activation": "tanh",', 1),
         "activation"),
    ],
)
def test_a_key_given_twice_in_a_model_file_is_refused(change, key):
    text = change(MODEL)
    assert text != MODEL
    json.loads(text)  # valid JSON, last one wins in Python: the model would load silently
    with pytest.raises(DataError, match=f'the key "{key}" appears twice'):
        load_model(text, "m.json")


def test_predict_names_the_repeated_key(tmp_path):
    (tmp_path / "m.json").write_text(MODEL.replace('"version": 1,', '"version": 99, "version": 1,', 1))
    (tmp_path / "d.csv").write_text("x1,x2\n1,2\n", encoding="utf-8")
    out = run("predict", str(tmp_path / "m.json"), str(tmp_path / "d.csv"))
    assert out.exit_code == 2
    assert 'not a valid model file: the key "version" appears twice' in out.output


def test_the_example_model_still_loads():
    doc = json.loads(MODEL)
    trained = load_model(MODEL, "moons-model.json")
    assert trained.sizes == [2, 16, 16, 1]
    # every weight and bias of the file, layer after layer: the weight matrix (a row per output), then the biases
    numbers = [layer[key] for layer in doc["layers"] for key in ("weights", "biases")]
    assert [p.tolist() for p in trained.model.parameters()] == numbers
