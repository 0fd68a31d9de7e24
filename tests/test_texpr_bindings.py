"""A tensor expression's bindings: numbers, JSON arrays, .json/.csv/.npy files and stdin, and every way one can
be wrong (a usage error, exit 2, saying where), the limits measured before anything is allocated."""

import io
import json
import math
import sys

import pytest

import autodiff_cli.tensor as T
from autodiff_cli import limits
from autodiff_cli.errors import BindingError, LimitError
from autodiff_cli.texpr import parse, read_binding


@pytest.fixture(params=T.available(), autouse=True)
def backend(request):
    with T.use_backend(request.param) as b:
        yield b


def refused(text, name="A", error=BindingError):
    with pytest.raises(error) as caught:
        read_binding(name, text)
    assert caught.value.exit_code == 2
    return caught.value.message


# -- what a binding can be --------------------------------------------------------------------


def test_a_number_is_a_0_d_leaf_that_wants_its_gradient():
    t = read_binding("x", "2.5")
    assert t.shape == () and t.item() == 2.5 and t.requires_grad and t.is_leaf
    assert read_binding("x", " -1e-3 ").item() == -0.001
    assert read_binding("x", "pi/2").item() == math.pi / 2  # numbers written as an expression, as scalar bindings


def test_a_json_array_keeps_its_shape_and_values_as_doubles():
    t = read_binding("A", "[[1, 2], [3, 4.5]]")
    assert t.shape == (2, 2) and t.tolist() == [[1.0, 2.0], [3.0, 4.5]] and t.requires_grad
    assert read_binding("v", "[1e-3, -2, 3E2]").tolist() == [0.001, -2.0, 300.0]
    assert read_binding("v", "[]").shape == (0,)
    assert read_binding("v", "[[[1]], [[2]]]").shape == (2, 1, 1)
    big = "1" + "0" * 5000  # an integer longer than Python's int <-> str limit: still a double
    assert read_binding("v", f"[{big}e-4990]").tolist() == [1e10]


def test_the_values_feed_a_program_and_its_gradient():
    values = {"A": read_binding("A", "[[1,2],[3,4],[5,6]]"), "x": read_binding("x", "[1,-1]"),
              "b": read_binding("b", "[0,1,2]")}
    built = parse("sum((A@x - b)^2)").build(values)
    built.root.backward()
    # residual A@x - b = [-1, -2, -3]; the gradient of x is 2 A^T r = 2 [1*-1 + 3*-2 + 5*-3, 2*-1 + 4*-2 + 6*-3]
    assert built.root.item() == 14.0
    assert values["x"].grad.tolist() == [-44.0, -56.0]


# -- what a binding cannot be -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("[[1, 2, 3], [4, 5]]", "A[1] has 2 items, A[0] has 3 items: the rows of an array have one length"),
    ("[[1], [2], []]", "A[2] has 0 items, A[0] has 1 item"),
    ("[[[1, 2], [3, 4]], [[5, 6], [7]]]", "A[1, 1] has 1 item, A[0, 0] has 2 items"),
    ("[[1, 2], 3]", "A[1] is a number (3.0) where A[0] is a list: the rows of an array have one shape"),
    ("[1, [2]]", "A[1] is a list where the others are numbers"),
    ('[1, "2"]', 'A[1] is "2" (a string): a tensor holds numbers'),
    ("[[1, 2], [true, 4]]", "A[1, 0] is true (a boolean): a tensor holds numbers"),
    ("[null]", "A[0] is null: a tensor holds numbers"),
    ('[{"a": 1}]', "A[0] is an object: a tensor holds numbers"),
    ("[1, NaN]", "the value of A holds NaN: a tensor holds finite numbers"),
    ("[Infinity]", "the value of A holds Infinity"),
    ("[-Infinity]", "the value of A holds -Infinity"),
    ("[[1, 1e999]]", "A[0, 1] is too large for a double: a tensor holds finite numbers"),
    ("[1, 2,]", "the value of A is not valid JSON: Expecting value at line 1, column 7"),
    ("[1 2]", "the value of A is not valid JSON: Expecting ',' delimiter at line 1, column 4"),
    ("1,2", "the value of A must be a number (or numbers like pi/2), a JSON array like [1, 2] or @FILE, not '1,2'"),
    ("{}", "the value of A must be a number"),
    ("x + 1", "the value of A must be a number"),
    ("nan", "the value of A must be a finite number, not 'nan'"),
    ("-inf", "the value of A must be a finite number, not '-inf'"),
    ("1e-400", "the value of A is too small for a double: 1e-400 would be 0"),
])
def test_bad_values_are_usage_errors_that_say_where(text, message):
    assert refused(text).startswith(message)


def test_a_constant_cannot_be_bound():
    assert refused("[1]", name="pi") == "pi is the constant pi (3.141592653589793) and cannot be bound"
    assert refused("2", name="π").startswith("π is the constant pi")


def test_the_size_is_refused_before_anything_is_allocated(monkeypatch):
    monkeypatch.setenv("AUTODIFF_MAX_ELEMENTS", "5")
    assert refused("[1, 2, 3, 4, 5, 6]", error=LimitError) == (
        "the value of A has 6 elements; the limit is 5 elements (set AUTODIFF_MAX_ELEMENTS to raise it)")
    assert read_binding("A", "[[1, 2], [3, 4]]").size == 4
    monkeypatch.delenv("AUTODIFF_MAX_ELEMENTS")
    # a 10^8-element array is measured by its commas, not read: refused at once at the default limit
    # (benchmarks/bench_texpr.py times it: a count, not a parse, which would take minutes and gigabytes)
    text = "[" + "0," * (10**8) + "0]"
    assert refused(text, error=LimitError).startswith("the value of A has 100,000,001 elements; the limit is "
                                                      "10,000,000 elements")


def test_nesting_is_refused_before_json_reads_it():
    deep = "[" * 100_000 + "]" * 100_000
    assert refused(deep, error=LimitError) == ("the value of A nests arrays more than 32 deep; "
                                               "the limit is 32 axes (set AUTODIFF_MAX_AXES to raise it)")
    with limits.raised(axes=3):
        assert refused("[[[[1]]]]", error=LimitError).startswith("the value of A nests arrays more than 3 deep")
        assert read_binding("A", "[[[1]]]").shape == (1, 1, 1)
        assert read_binding("A", "[[[1]], [[2]], [[3]], [[4]]]").shape == (4, 1, 1)  # many '[', none deep


# -- files ----------------------------------------------------------------------------------


def test_a_json_file(tmp_path):
    path = tmp_path / "A.json"
    path.write_text(json.dumps([[1, 2], [3, 4]]), encoding="utf-8")
    assert read_binding("A", f"@{path}").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    path.write_text("3.5\n", encoding="utf-8")
    assert read_binding("A", f"@{path}").shape == ()
    path.write_text("[[1, 2], [3]]", encoding="utf-8")
    assert refused(f"@{path}") == f"A[1] has 1 item, A[0] has 2 items (in {path}): the rows of an array have one length"


@pytest.mark.parametrize(("content", "shape", "values"), [
    ("1,2,3\n4,5,6\n", (2, 3), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    ("1, 2, 3\r\n4 ,5,6\r\n\r\n", (2, 3), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
    ("0\n1\n2\n", (3,), [0.0, 1.0, 2.0]),  # one column: a vector, as numpy.loadtxt
    ("0,1,2\n", (3,), [0.0, 1.0, 2.0]),  # one row: a vector
    ("7\n", (), 7.0),  # one number
    ("\ufeff1,2\n3,4", (2, 2), [[1.0, 2.0], [3.0, 4.0]]),  # a byte-order mark, as spreadsheets write
])
def test_a_csv_file_is_read_as_numpy_loadtxt_reads_it(tmp_path, content, shape, values):
    path = tmp_path / "b.csv"
    path.write_text(content, encoding="utf-8")
    t = read_binding("b", f"@{path}")
    assert t.shape == shape and t.tolist() == values


@pytest.mark.parametrize(("content", "message"), [
    ("x,y\n1,2\n", "line 1, column 1 of the value of b (in {path}) is 'x', not a number (a .csv file has no header "
                   "line)"),
    ("1,2\n3\n", "line 2 of the value of b has 1 number, line 1 has 2 (in {path}): the rows of a matrix have one "
                 "length"),
    ("1,2\n\n3,4\n", "line 2 of the value of b is empty (in {path}): a .csv file is rows of numbers"),
    ("1,nan\n", "line 1, column 2 of the value of b (in {path}) is nan: a tensor holds finite numbers"),
    ("1,\n", "line 1, column 2 of the value of b (in {path}) is '', not a number"),
    ("", "the value of b is empty (in {path}): give rows of numbers"),
])
def test_a_bad_csv_file_says_where(tmp_path, content, message):
    path = tmp_path / "b.csv"
    path.write_text(content, encoding="utf-8")
    assert refused(f"@{path}", name="b") == message.format(path=path)


def test_file_errors(tmp_path):
    assert refused(f"@{tmp_path / 'nope.json'}") == (f"the value of A: no file {tmp_path / 'nope.json'} "
                                                    "(@FILE reads a .json, .csv or .npy file)")
    (tmp_path / "A.txt").write_text("[1]", encoding="utf-8")
    assert refused(f"@{tmp_path / 'A.txt'}").endswith("is not a .json, .csv or .npy file (the name says which it is)")
    (tmp_path / "dir.json").mkdir()
    assert refused(f"@{tmp_path / 'dir.json'}") == f"the value of A: {tmp_path / 'dir.json'} is not a file"
    (tmp_path / "latin.csv").write_bytes(b"1,2\n3,\xe9\n")
    latin = tmp_path / "latin.csv"
    assert refused(f"@{latin}") == f"the value of A (in {latin}) is not UTF-8 text (byte 7)"
    assert refused("@") == "the value of A: '@' needs a file name (@A.json) or - for stdin"
    (tmp_path / "big.json").write_text("[" + "1," * 100 + "1]", encoding="utf-8")
    with limits.raised(file=100):
        assert refused(f"@{tmp_path / 'big.json'}", error=LimitError).startswith(
            f"the file {tmp_path / 'big.json'} for A is 203 bytes; the limit is 100 bytes")


def test_stdin_is_json_or_csv_by_its_content(monkeypatch):
    def stdin(text):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))

    stdin("[[1, 2], [3, 4]]\n")
    assert read_binding("A", "@-").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    stdin("1,2\n3,4\n")
    assert read_binding("A", "@-").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    stdin("[1, 2\n")
    assert refused("@-") == "the value of A is not valid JSON (in stdin): Expecting ',' delimiter at line 2, column 1"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    sys.stdin.close()
    assert refused("@-") == "the value of A: @- cannot read stdin (I/O operation on closed file.)"
    stdin("1,2,3\n")
    with limits.raised(file=4):
        assert refused("@-", error=LimitError).startswith("stdin holds more than 4 bytes; the limit is 4 bytes")


# -- .npy ----------------------------------------------------------------------------------


def test_a_npy_file(tmp_path):
    np = pytest.importorskip("numpy", reason="a .npy binding needs NumPy")
    path = tmp_path / "A.npy"
    np.save(path, np.array([[1, 2], [3, 4]], dtype=np.int32))
    t = read_binding("A", f"@{path}")
    assert t.shape == (2, 2) and t.tolist() == [[1.0, 2.0], [3.0, 4.0]] and t.requires_grad
    np.save(path, np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    assert read_binding("A", f"@{path}").tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    np.save(path, np.array([[1.0, 2.0], [np.inf, 4.0]]))
    assert refused(f"@{path}") == f"A[1, 0] is inf (in {path}): a tensor holds finite numbers"
    np.save(path, np.array([True, False]))
    assert refused(f"@{path}").endswith("holds bool values, not numbers (a tensor holds integers or floats, read as "
                                        "doubles)")
    path.write_bytes(b"not a npy file at all")
    assert refused(f"@{path}").startswith(f"the value of A: {path} is not a .npy file NumPy can read")


def test_a_npy_file_too_large_is_refused_from_its_header(tmp_path):
    np = pytest.importorskip("numpy", reason="a .npy binding needs NumPy")
    path = tmp_path / "huge.npy"
    # a header that claims 10^9 doubles, followed by none: refused before NumPy would allocate 8 GB
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    assert refused(f"@{path}", error=LimitError).startswith("the value of A has 1,000,000,000 elements (in ")


def test_a_npy_file_that_is_cut_short_or_holds_objects(tmp_path):
    np = pytest.importorskip("numpy", reason="a .npy binding needs NumPy")
    path = tmp_path / "short.npy"
    with open(path, "wb") as f:  # a header for ten doubles, and only two of them
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (10,)})
        f.write(np.zeros(2).tobytes())
    assert refused(f"@{path}").startswith(f"the value of A: {path} cannot be read (")
    np.save(path, np.array([1, "a"], dtype=object), allow_pickle=True)
    assert refused(f"@{path}") == (f"the value of A: {path} holds object values, not numbers (a tensor holds "
                                   "integers or floats, read as doubles)")


def test_a_csv_file_is_measured_before_it_is_split(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("1,2,3\n" * 10, encoding="utf-8")
    monkeypatch.setenv("AUTODIFF_MAX_ELEMENTS", "20")
    assert refused(f"@{path}", error=LimitError).startswith(f"the value of A has 31 elements (in {path}); the limit "
                                                            "is 20 elements")


def test_without_numpy_a_npy_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy now fails
    (tmp_path / "A.npy").write_bytes(b"")
    assert refused(f"@{tmp_path / 'A.npy'}") == ("the value of A: reading a .npy file needs NumPy (pip install "
                                                 "'autodiff[numpy]'); a .json or .csv file needs nothing")


# -- through the command line: exit codes, carets, JSON errors ---------------------------------


@pytest.mark.parametrize(("args", "code", "stderr"), [
    (["grad", "sum(x)", "--x", "[[1,2],[3]]"], 2,
     "Error: x[1] has 1 item, x[0] has 2 items: the rows of an array have one length\n"),
    (["grad", "sum(x)", "--x", "[1, NaN]"], 2, "Error: the value of x holds NaN: a tensor holds finite numbers\n"),
    (["grad", "sum(x)", "x=[1, \"a\"]"], 2, "Error: x[1] is \"a\" (a string): a tensor holds numbers\n"),
    (["eval", "sum(x)", "--x", "@nope.json"], 2,
     "Error: the value of x: no file nope.json (@FILE reads a .json, .csv or .npy file)\n"),
    (["eval", "sum(x, axis=y)", "--x", "[1]"], 2,
     "Error: axis= is a whole number written in the expression, like 0 or -1 (or a list of them: [0, 1]), not y\n"
     "  sum(x, axis=y)\n              ^\n"),
    (["eval", "sum(A@x)", "--A", "[[1,2],[3,4]]", "--x", "[1,2,3]"], 1,
     "Error: shapes (2, 2) and (3,) cannot be multiplied: @ needs 2 == 3\n  sum(A@x)\n       ^\n"),
    (["eval", "x[3]", "--x", "[1,2,3]"], 1,
     "Error: index 3 is out of range for axis 0 of shape (3,) (size 3: -3 to 2)\n  x[3]\n    ^\n"),
    (["grad", "sum(x, axis=1)", "--x", "[1,2,3]"], 1,
     "Error: axis=1 is out of range for shape (3,): the axes are -1 to 0\n  sum(x, axis=1)\n         ^\n"),
])
def test_the_command_line_gives_each_error_its_exit_code(args, code, stderr):
    from helpers import run

    result = run(*args)
    assert result.exit_code == code
    assert result.stderr == stderr
    assert result.stdout == ""


def test_a_shape_error_in_json_has_its_place(tmp_path):
    from helpers import run

    result = run("grad", "sum(A@x)", "--A", "[[1,2],[3,4]]", "--x", "[1,2,3]", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": {
        "message": "shapes (2, 2) and (3,) cannot be multiplied: @ needs 2 == 3", "type": "ShapeError",
        "op": "matmul", "line": 1, "column": 6}}


def test_the_size_limit_through_the_command_line(monkeypatch):
    from helpers import run

    result = run("eval", "sum(x)", "--x", "[" + "1," * 20 + "1]", env={"AUTODIFF_MAX_ELEMENTS": "10"})
    assert result.exit_code == 2
    assert result.stderr == ("Error: the value of x has 21 elements; the limit is 10 elements "
                             "(set AUTODIFF_MAX_ELEMENTS to raise it)\n")
