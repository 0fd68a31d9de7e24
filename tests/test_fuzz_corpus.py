"""The fuzzers' corpora, replayed through the fuzz targets' own checks (fuzz/checks.py), without atheris.

Every file in fuzz/corpus/parser and fuzz/corpus/batch is an input the fuzzer
kept because it reached new code; a crash it found is kept there too, next to
its named regression test below.  The checks themselves are tested against
broken stand-ins, so that a check that cannot fail is caught here.
"""

import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"


def _load_checks():
    spec = importlib.util.spec_from_file_location("autodiff_fuzz_checks", FUZZ / "checks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


checks = _load_checks()


def _load_tensor_checks():
    spec = importlib.util.spec_from_file_location("autodiff_fuzz_checks_tensor", FUZZ / "checks_tensor.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tensor_checks = _load_tensor_checks()
CHECKS = {"parser": checks.check_parser, "batch": checks.check_batch, "tensor": tensor_checks.check_tensor}


def corpus(target):
    folder = FUZZ / "corpus" / target
    return sorted(folder.iterdir())


def test_the_corpora_are_there_and_small():
    for target in CHECKS:
        files = corpus(target)
        assert 50 <= len(files) <= 1000, target
    total = sum(f.stat().st_size for t in CHECKS for f in corpus(t))
    assert total < 1_000_000


@pytest.mark.parametrize("target", list(CHECKS))
def test_every_corpus_file_passes_its_check(target):
    check = CHECKS[target]
    failures = []
    for path in corpus(target):
        try:
            check(path.read_bytes())
        except Exception as error:  # collect them all: one report names every failing file
            failures.append(f"{path.name}: {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures)


# -- the checks can fail ------------------------------------------------------------


def test_the_parser_check_catches_a_printer_that_changes_the_function(monkeypatch):
    real = checks.symbolic.to_text
    monkeypatch.setattr(checks.symbolic, "to_text", lambda root, *a: real(root, *a) + " + 1")
    with pytest.raises(checks.FuzzFailure, match="printed form"):
        checks.check_parser(b"x*y")


def test_the_parser_check_catches_a_printer_whose_text_does_not_parse(monkeypatch):
    monkeypatch.setattr(checks.symbolic, "to_text", lambda root, *a: "x +")
    with pytest.raises(checks.FuzzFailure, match="does not parse"):
        checks.check_parser(b"x")


def test_the_parser_check_lets_other_exceptions_out(monkeypatch):
    def broken(text):
        raise IndexError("a bug")

    monkeypatch.setattr(checks, "parse", broken)
    with pytest.raises(IndexError):
        checks.check_parser(b"x")


def test_the_parser_check_takes_the_projects_errors():
    for text in [b"x +", b"sinn(x)", b"log(0)", b"x\x00", b"\xff", b"1e999"]:
        checks.check_parser(text)  # a parse error or a math error: no failure


def test_the_parser_check_catches_a_compiled_function_that_disagrees(monkeypatch):
    real = checks.compile_expression

    def off(expr, *args):
        compiled = real(expr, *args)
        return type(compiled)(compiled.source, compiled.variables, compiled.wrt,
                              lambda *v: tuple(g + 1e-3 for g in compiled.gradient(*v)),
                              lambda *v: compiled.value(*v) + 1e-3)

    monkeypatch.setattr(checks, "compile_expression", off)
    with pytest.raises(checks.FuzzFailure, match="compiled"):
        checks.check_parser(b"x*y + 1")


def _dropping_last_record(real):
    def run(expr, source, write, **options):
        out = io.StringIO()
        summary = real(expr, source, out.write, **options)
        write("".join(out.getvalue().splitlines(keepends=True)[:-1]))
        return summary

    return run


@pytest.mark.parametrize("flags", [0b0000, 0b0001, 0b0010, 0b0011])
def test_the_batch_check_catches_a_lost_record(monkeypatch, flags):
    body = b'{"x": 1, "y": 2}\n{"x": 2, "y": 3}\n' if not flags & 1 else b"x,y\n1,2\n2,3\n"
    checks.check_batch(bytes([flags]) + body)  # as it is: fine
    monkeypatch.setattr(checks, "run", _dropping_last_record(checks.run))
    with pytest.raises(checks.FuzzFailure, match="records"):
        checks.check_batch(bytes([flags]) + body)


def test_the_batch_check_counts_rows_independently(monkeypatch):
    real = checks.run

    def skipping_a_row_silently(expr, source, write, **options):
        lines = source.read().split(b"\n")
        return real(expr, io.BytesIO(b"\n".join(lines[:1] + lines[2:])), write, **options)

    monkeypatch.setattr(checks, "run", skipping_a_row_silently)
    with pytest.raises(checks.FuzzFailure, match="rows"):
        checks.check_batch(b'\x00{"x": 1, "y": 2}\n{"x": 2, "y": 3}\n')


def test_the_batch_check_catches_a_wrong_value(monkeypatch):
    real = checks.run

    def lying(expr, source, write, **options):
        out = io.StringIO()
        summary = real(expr, source, out.write, **options)
        for line in out.getvalue().splitlines():
            record = json.loads(line)
            record["value"] += 1.0
            write(json.dumps(record) + "\n")
        return summary

    monkeypatch.setattr(checks, "run", lying)
    with pytest.raises(checks.FuzzFailure, match="graph gives"):
        checks.check_batch(b'\x00{"x": 1, "y": 2}\n')


def test_the_first_byte_chooses_the_options():
    options, stream = checks.batch_case(bytes([0b1011111]) + b"rest")
    assert stream == b"rest"
    assert options == {"input_format": "csv", "output_format": "csv", "gradient": False, "keep": True,
                       "constants": {"y": 2.0}, "expression": checks.BATCH_EXPRESSIONS[1]}
    assert checks.batch_case(b"")[0]["input_format"] == "jsonl"


def test_the_checks_load_without_atheris(monkeypatch):
    monkeypatch.setitem(sys.modules, "atheris", None)  # import atheris now raises ImportError
    fresh = _load_checks()
    fresh.check_parser(b"x^2")
    fresh.check_batch(b'\x00{"x": 1, "y": 2}\n')


# -- what the fuzzers found: each input is in the corpus too -----------------------


def test_keep_copies_a_json_line_with_a_carriage_return_as_one_line():
    # found by fuzz_batch: a \r between JSON tokens is whitespace, but copied as it was by
    # --keep it split the record in two for every reader with universal newlines
    from autodiff_cli import parse
    from autodiff_cli.batch import run

    out = io.StringIO()
    run(parse("x*y"), io.BytesIO(b'{"x"\r: 3,\r"y": 2}\r\n{"x": 1, "y": 0.5}\n'), out.write, keep=True, gradient=False)
    lines = out.getvalue().splitlines()  # splits at \r too
    assert [json.loads(line) for line in lines] == [
        {"input": {"x": 3, "y": 2}, "value": 6.0},
        {"input": {"x": 1, "y": 0.5}, "value": 0.5},
    ]
    checks.check_batch(bytes([0b1100]) + b'{"x"\r: 3,\r"y": 2}\r\n{"x": 1, "y": 0.5}\n')


def test_a_bad_byte_in_a_csv_file_with_lone_carriage_returns_is_blamed_on_its_own_line():
    # found by fuzz_batch: lines ending in a lone \r (old Mac files) share one physical
    # line; a byte that is not UTF-8 on the third made the header (or a blank line) the error
    from autodiff_cli import parse
    from autodiff_cli.batch import run

    out = io.StringIO()
    summary = run(parse("x*y"), io.BytesIO(b"x,y\r1,2\r\r\xff,3\r4,0.5\r"), out.write,
                  input_format="csv", gradient=False)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"value": 2.0},
        {"line": 4, "error": {"message": "not UTF-8 text (byte 1 of the line)", "type": "InputError"}},
        {"value": 2.0},
    ]
    assert (summary.rows, summary.failed) == (3, 1)
    checks.check_batch(b"\x01x,y\r1,2\r\r\xff,3\r4,0.5\r")


@pytest.mark.parametrize("text", ["0*x^-0*y", "0*x^0", "x^0*0"])
def test_batch_agrees_with_grad_at_0_to_the_0_even_under_a_factor_of_zero(text):
    # found by fuzz_parser: the compiler dropped x^0's derivative because the adjoint
    # reaching it was the literal 0 of 0*..., so batch mode printed 0.0 where grad said
    # 0^0 has no derivative.  Since then d/dx x^0 is 0 at x = 0 too (x^0 is 1 for every x,
    # PyTorch's convention, in the op table): both give the same zeros, to the sign
    from autodiff_cli import parse
    from autodiff_cli.batch import run

    expr = parse(text)
    value, grads = expr.gradient({"x": 0.0, "y": 1.0})
    assert value == 0.0 and set(grads.values()) == {0.0}
    out = io.StringIO()
    run(expr, io.BytesIO(b'{"x": 0, "y": 1}\n{"x": 2, "y": 1}\n'), out.write)
    first, second = out.getvalue().splitlines()
    assert first == json.dumps({"value": value, "gradient": grads})
    assert json.loads(second)["value"] == 0.0 and set(json.loads(second)["gradient"].values()) == {0.0}
    checks.check_parser(text.encode())


def test_zero_to_a_power_tower_has_a_derivative_in_the_graph_as_in_the_compiled_code():
    # found by fuzz_parser (the integrator's 15-minute run, before pow's conventions landed): the graph
    # refused d/dx of 0.0^x^x^...^5 (the exponent's rule takes log(0)), while the compiled code, which
    # folds a constant base, gave 0.  0^y is 0 for every y > 0, so d/dy is 0: both now say so
    from autodiff_cli import parse

    text = "step(0.) + step(-0.-0.0^x^x^x^x^x^x^5)"
    value, grads = parse(text).gradient({"x": 0.75})
    assert value == 0.0 and grads == {"x": 0.0}
    value, grads = parse("0^x^x").gradient({"x": 0.75})  # the tower alone, by hand: 0^(x^x) = 0 near 0.75
    assert value == 0.0 and grads == {"x": 0.0}
    checks.check_parser(text.encode())


# -- the tensor check can fail ---------------------------------------------------------


def test_the_tensor_check_takes_the_projects_errors():
    for data in (b"A @ x\n[[1, 2]]\n[1, 2, 3]", b"sum(x, axis=5)", b"x\n[[1], [2, 3]]", b"x[", b"[[1], [2, 3]]"):
        tensor_checks.check_tensor(data)


def test_the_tensor_check_catches_a_wrong_value(monkeypatch):
    import autodiff_cli.tensor as T

    real = T.softmax
    monkeypatch.setattr(T, "softmax", lambda x, axis=-1: real(x, axis) * 1.5 if x.backend.name == "python" else
                        real(x, axis))
    if len(T.available()) > 1:
        with pytest.raises(tensor_checks.FuzzFailure, match="the backends disagree"):
            tensor_checks.check_tensor(b"softmax(x)\n[1, 2]")
    monkeypatch.setattr(T, "softmax", real)
    real_tanh = T.apply

    def wrong(name, *args):
        out = real_tanh(name, *args)
        return out * 2.0 if name == "tanh" else out

    monkeypatch.setattr(T, "apply", wrong)
    with pytest.raises(tensor_checks.FuzzFailure, match="the scalar engine"):
        tensor_checks.check_tensor(b"tanh(x)")


def test_the_tensor_check_catches_a_router_that_misses_tensor_syntax(monkeypatch):
    monkeypatch.setattr(tensor_checks, "wants_tensors", lambda text, values: False)
    with pytest.raises(tensor_checks.FuzzFailure, match="wants_tensors says no"):
        tensor_checks.check_tensor(b"x[0]")


def test_the_tensor_check_lets_other_exceptions_out(monkeypatch):
    def broken(text):
        raise KeyError("a bug")

    monkeypatch.setattr(tensor_checks, "parse", broken)
    with pytest.raises(KeyError):
        tensor_checks.check_tensor(b"x")
