"""The tests' own assertions can fail: none is a constant, a tuple, or a value compared with itself.

A scan of every test file's syntax tree; each rule is shown catching its mistake on a
small example first, so that the scan itself is known to work.
"""

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def weak(test: ast.expr) -> str | None:
    """Why the condition of an assert cannot fail, or None."""
    if isinstance(test, ast.Constant):
        return "a constant"
    if isinstance(test, ast.Tuple):
        return "a tuple (always true: a message after a comma, in parentheses?)"
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        if any(isinstance(v, ast.Constant) and v.value for v in test.values):
            return "'or' a true constant"
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq | ast.Is | ast.LtE):
        left, right = ast.dump(test.left), test.comparators[0]
        if left == ast.dump(right):
            return "a value compared with itself"
        # out == [1, {"error": out[1]["error"]}]: that part of out meets itself (text == text.strip() is fine)
        literal = isinstance(right, ast.List | ast.Tuple | ast.Dict | ast.Set)
        if literal and not isinstance(test.left, ast.Constant) and any(ast.dump(n) == left for n in ast.walk(right)):
            return "a value compared with a literal holding part of itself"
    return None


def weak_assertions(source: str) -> list[tuple[int, str]]:
    return [(node.lineno, why) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Assert) and (why := weak(node.test))]


@pytest.mark.parametrize("source", [
    "assert True", "assert (x == 1, 'message')", "assert x == 2 or 1", "assert f(x) == f(x)", "assert out is out",
    "assert out == [1, {'error': out[1]['error']}]",
])
def test_the_scan_catches_each_kind(source):
    assert len(weak_assertions(source)) == 1


@pytest.mark.parametrize("source", [
    "assert x", "assert x == 1", "assert f(x) == f(y)", "assert out == [1, {'error': err}]", "assert x or y",
    "assert 0 == x * 0", "assert text == text.strip()",
])
def test_the_scan_passes_assertions_that_can_fail(source):
    assert weak_assertions(source) == []


def test_no_test_file_has_an_assertion_that_cannot_fail():
    found = [f"{path.name}:{line}: {why}" for path in sorted(TESTS.glob("*.py"))
             for line, why in weak_assertions(path.read_text(encoding="utf-8"))]
    assert found == []
