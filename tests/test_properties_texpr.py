"""Properties of the tensor language (hypothesis): elementwise programs against the math-module references of
tests/generated.py, element by element; bindings that round-trip through JSON and CSV; indexing and slicing
against Python's own list slicing; @ and reductions against loops; and arbitrary text, as an expression or
as a binding, ending only in the project's errors."""

import json
import math

from generated import expressions, points
from hypothesis import assume, given
from hypothesis import strategies as st

import autodiff_cli.tensor as T
from autodiff_cli.errors import AutodiffError, BindingError, MathError, ShapeError
from autodiff_cli.parser import parse as parse_scalar
from autodiff_cli.tensor import Tensor
from autodiff_cli.texpr import parse, read_binding

FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def reference_value(reference, env):
    try:
        return reference(dict(env, _kinks=[]))
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


@given(expressions(), st.lists(points(), min_size=1, max_size=4), st.sampled_from(T.available()))
def test_an_elementwise_program_is_the_reference_at_every_element(generated, envs, backend):
    text, reference = generated
    expected = [reference_value(reference, env) for env in envs]
    assume(all(v is not None and math.isfinite(v) and abs(v) < 1e12 for v in expected))
    program = parse(text)
    with T.use_backend(backend):
        values = {n: Tensor([env[n] for env in envs]) for n in program.variables}
        try:
            built = program.build(values)
        except MathError:
            assume(False)  # the reference may round to a point the engine does not (tan near pi/2)
        got = built.root.tolist()
        if not program.variables:  # numbers only: a 0-d result, the same at every element
            got = [got] * len(envs)
        assert all(math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-9) for g, e in zip(got, expected, strict=True)), text


@given(expressions(wide=False), st.lists(points(moderate=True), min_size=1, max_size=3))
def test_the_gradient_of_a_sum_is_the_scalar_gradient_at_each_element(generated, envs):
    text, _ = generated
    scalar = parse_scalar(text)
    want = []
    for env in envs:
        try:
            want.append(scalar.gradient({n: env[n] for n in scalar.variables})[1])
        except MathError:
            assume(False)
    program = parse(f"sum({text})")
    assume(program.variables)  # a sum of numbers has no gradient to compare
    values = {n: Tensor([env[n] for env in envs]) for n in program.variables}
    try:
        built = program.build(values)
        built.root.backward()
    except MathError:
        assume(False)
    for name in program.variables:
        grad = built.leaves[name].grad
        got = grad.tolist() if grad is not None else [0.0] * len(envs)
        for g, w in zip(got, want, strict=True):
            assert math.isclose(g, w[name], rel_tol=1e-9, abs_tol=1e-9), (text, name)


# -- bindings ---------------------------------------------------------------------------------


def nested(shape, values):
    """The nested lists of a shape, filled row by row."""
    if not shape:
        return values.pop()
    return [nested(shape[1:], values) for _ in range(shape[0])]


arrays = st.lists(st.integers(0, 3), min_size=1, max_size=4).flatmap(
    lambda shape: st.lists(FINITE | st.floats(allow_nan=False, allow_infinity=False),
                           min_size=math.prod(shape), max_size=math.prod(shape)).map(
        lambda values: (tuple(shape), nested(shape, list(values)))))


@given(arrays)
def test_a_json_array_round_trips_exactly(array):
    shape, data = array
    assume(0 not in shape[:-1])  # [] is shape (0,): JSON has no way to write (0, 3)
    t = read_binding("A", json.dumps(data))
    assert t.shape == shape
    assert t.tolist() == data


@given(st.integers(2, 4), st.integers(1, 4), st.lists(st.integers(1, 3), max_size=2), st.data())
def test_a_ragged_array_is_a_binding_error(rows, width, inner, data):
    shape = (rows, width, *inner)
    values = nested(shape, [float(i) for i in range(math.prod(shape))])
    row = data.draw(st.integers(1, rows - 1))
    values[row] = values[row][:-1]  # one row shorter than the first
    try:
        read_binding("A", json.dumps(values))
    except BindingError as error:
        assert f"A[{row}] has {shape[1] - 1} item" in error.message and error.exit_code == 2
    else:
        raise AssertionError("a ragged array was read")


@given(st.lists(st.lists(FINITE, min_size=2, max_size=4), min_size=2, max_size=4), st.data())
def test_a_csv_matrix_round_trips(rows, data):
    width = len(rows[0])
    rows = [r[:width] + [0.0] * (width - len(r)) for r in rows]
    text = "\n".join(",".join(repr(v) for v in row) for row in rows) + data.draw(st.sampled_from(["", "\n", "\r\n"]))
    import io
    import sys

    real = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()))
    try:
        t = read_binding("A", "@-")
    finally:
        sys.stdin = real
    assert t.tolist() == rows


@given(st.text(max_size=60))
def test_any_binding_text_is_a_tensor_or_a_usage_error(text):
    try:
        t = read_binding("A", text)
    except AutodiffError as error:
        assert error.exit_code == 2 and error.message
    else:
        assert all(math.isfinite(v) for v in t.reshape(-1).tolist())


# -- indexing, matmul, reductions against plain Python ----------------------------------------


def list_index(data, key):
    """Python's own indexing of nested lists, one entry of the key per level."""
    if not key:
        return data
    k, rest = key[0], key[1:]
    if isinstance(k, int):
        return list_index(data[k], rest)
    return [list_index(d, rest) for d in data[k]]


def key_text(k):
    if isinstance(k, int):
        return str(k)
    parts = ["" if v is None else str(v) for v in (k.start, k.stop, k.step)]
    return ":".join(parts[:2]) + (f":{parts[2]}" if k.step is not None else "")


bounds = st.none() | st.integers(-5, 5)
entries = st.integers(-5, 5) | st.builds(slice, bounds, bounds, st.none() | st.integers(1, 3))


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.lists(entries, min_size=1, max_size=3))
def test_indexing_and_slicing_are_python_s(shape, key):
    assume(len(key) <= len(shape))
    data = nested(shape, [float(i) for i in range(math.prod(shape))][::-1])
    entries = [key_text(k) for k in key]
    text = f"A[{', '.join(entries)}]"
    program = parse(text)
    try:
        for axis, k in enumerate(key):  # NumPy checks an index against its axis even where a slice left nothing
            if isinstance(k, int) and not -shape[axis] <= k < shape[axis]:
                column = 3 + sum(len(e) + 2 for e in entries[:axis])  # the caret goes under that entry
                raise IndexError(k)
        want = list_index(data, key)
    except IndexError:
        try:
            program.build({"A": Tensor(data)})
        except ShapeError as error:
            assert "out of range" in error.message and error.column == column
            return
        raise AssertionError(f"{text} of shape {shape} did not fail") from None
    assert program.build({"A": Tensor(data)}).root.tolist() == want


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.booleans(), st.booleans(), st.data())
def test_matmul_is_the_sum_of_products(m, k, n, vector_left, vector_right, data):
    a = data.draw(st.lists(st.lists(st.integers(-9, 9).map(float), min_size=k, max_size=k), min_size=m, max_size=m))
    b = data.draw(st.lists(st.lists(st.integers(-9, 9).map(float), min_size=n, max_size=n), min_size=k, max_size=k))
    left = a[0] if vector_left else a
    right = [row[0] for row in b] if vector_right else b
    want = [[sum(a[i][p] * b[p][j] for p in range(k)) for j in range(n)] for i in range(m)]
    if vector_right:
        want = [row[0] for row in want]
    if vector_left:
        want = want[0]
    assert parse("a @ b").build({"a": Tensor(left), "b": Tensor(right)}).root.tolist() == want


@given(st.lists(st.lists(st.integers(-9, 9).map(float), min_size=3, max_size=3), min_size=1, max_size=4),
       st.sampled_from([0, 1, -1, -2]), st.booleans())
def test_sum_along_an_axis_is_the_loop(rows, axis, keep):
    columns = [sum(r[j] for r in rows) for j in range(3)]
    totals = [sum(r) for r in rows]
    want = columns if axis in (0, -2) else totals
    if keep:
        want = [want] if axis in (0, -2) else [[v] for v in want]
    got = parse(f"sum(A, axis={axis}, keepdims={int(keep)})").build({"A": Tensor(rows)}).root.tolist()
    assert got == want


@given(st.text(max_size=40))
def test_any_expression_text_parses_or_is_a_usage_error(text):
    try:
        program = parse(text)
    except AutodiffError as error:
        assert error.exit_code == 2 and error.message
        return
    values = {n: Tensor([[0.5, -1.0], [2.0, 0.25]]) for n in program.variables}
    try:
        program.build(values)
    except AutodiffError as error:
        assert error.message
