"""Every function of the table in every command, and a throwaway op that proves a new entry needs nothing else.

References are mpmath at 40 digits (values and derivatives by its own numerical
differentiation of the exact function), hand derivations at the tails, and
PyTorch's conventions at kinks (floor'(x) = 0, elu'(0) = 1, leaky_relu'(0) = slope).
"""

from __future__ import annotations

import json
import math

import mpmath as mp
import pytest
from click.testing import CliRunner

from autodiff_cli import ops
from autodiff_cli.cli import cli
from autodiff_cli.engine import backward_source

mp.mp.dps = 40


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def _phi(x):
    return mp.erfc(-x / mp.sqrt(2)) / 2


# expression, point, the function as mpmath sees it (of the variables in order)
CASES = {
    "asinh": ("asinh(x)", {"x": 0.7}, lambda x: mp.asinh(x)),
    "acosh": ("acosh(x)", {"x": 1.7}, lambda x: mp.acosh(x)),
    "atanh": ("atanh(x)", {"x": -0.4}, lambda x: mp.atanh(x)),
    "atan2": ("atan2(x, y)", {"x": 0.6, "y": -1.3}, lambda x, y: mp.atan2(x, y)),
    "hypot": ("hypot(x, y)", {"x": 0.6, "y": -1.3}, lambda x, y: mp.sqrt(x * x + y * y)),
    "log1p": ("log1p(x)", {"x": 0.3}, lambda x: mp.log(1 + x)),
    "expm1": ("expm1(x)", {"x": -0.3}, lambda x: mp.exp(x) - 1),
    "erf": ("erf(x)", {"x": 0.8}, lambda x: mp.erf(x)),
    "erfc": ("erfc(x)", {"x": 0.8}, lambda x: mp.erfc(x)),
    "cbrt": ("cbrt(x)", {"x": -2.5}, lambda x: -mp.cbrt(-x)),
    "silu": ("silu(x)", {"x": -1.2}, lambda x: x / (1 + mp.exp(-x))),
    "gelu": ("gelu(x)", {"x": -1.2}, lambda x: x * _phi(x)),
    "softsign": ("softsign(x)", {"x": -1.2}, lambda x: x / (1 + abs(x))),
    "elu": ("elu(x)", {"x": -1.2}, lambda x: mp.exp(x) - 1),
    "leaky_relu": ("leaky_relu(x, y)", {"x": -1.2, "y": 0.2}, lambda x, y: y * x),
    "leaky_relu default": ("leaky_relu(x)", {"x": -1.2}, lambda x: mp.mpf("0.01") * x),
    "floor": ("floor(x) * x", {"x": 2.5}, lambda x: 2 * x),
    "ceil": ("ceil(x) * x", {"x": 2.5}, lambda x: 3 * x),
    "sec": ("sec(x)", {"x": 0.7}, lambda x: mp.sec(x)),
    "csc": ("csc(x)", {"x": 0.7}, lambda x: mp.csc(x)),
    "cot": ("cot(x)", {"x": 0.7}, lambda x: mp.cot(x)),
    # the tails: digits kept where the naive forms lose them
    "log1p tail": ("log1p(x)", {"x": 1e-20}, lambda x: mp.log(1 + x)),
    "erfc tail": ("erfc(x)", {"x": 10.0}, lambda x: mp.erfc(x)),
    "gelu tail": ("gelu(x)", {"x": -40.0}, lambda x: x * _phi(x)),
    "expm1 tail": ("expm1(x)", {"x": 1e-20}, lambda x: mp.exp(x) - 1),
}


def _reference(case):
    _, point, f = CASES[case]
    args = [mp.mpf(v) for v in point.values()]
    value = float(f(*args))
    grads = []
    for i in range(len(args)):
        def along(t, i=i):
            moved = list(args)
            moved[i] = t
            return f(*moved)
        grads.append(float(mp.diff(along, args[i])))
    return value, grads


def _bindings(point):
    return [f"{k}={v!r}" for k, v in point.items()]


def _close(a, b, rel=1e-12):
    return a == pytest.approx(b, rel=rel, abs=1e-300)


def test_every_new_function_has_a_case():
    added = {"asinh", "acosh", "atanh", "atan2", "hypot", "log1p", "expm1", "erf", "erfc", "cbrt", "silu", "gelu",
             "softsign", "elu", "leaky_relu", "floor", "ceil", "sec", "csc", "cot"}
    assert added <= set(ops.OPS)
    assert added <= {case.split()[0] for case in CASES}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad(case, mode):
    text, point, _ = CASES[case]
    value, grads = _reference(case)
    result = run("grad", text, *_bindings(point), "--json", "--mode", mode)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert _close(doc["value"], value)
    for got, want in zip(doc["gradient"].values(), grads, strict=True):
        assert _close(got, want, rel=1e-10)


@pytest.mark.parametrize("case", list(CASES))
def test_batch_and_compile(case, tmp_path):
    text, point, _ = CASES[case]
    value, grads = _reference(case)
    rows = tmp_path / "points.jsonl"
    rows.write_text(json.dumps(point) + "\n", encoding="utf-8")
    result = run("grad", text, "--input", str(rows), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert _close(doc["value"], value)
    assert all(_close(g, w, rel=1e-10) for g, w in zip(doc["gradient"].values(), grads, strict=True))
    result = run("compile", text)
    assert result.exit_code == 0, result.output
    module: dict = {}
    exec(result.output, module)  # the printed module runs on its own, importing math alone
    got_value, *got_grads = module["gradient"](*point.values())
    assert _close(got_value, value)
    assert all(_close(g, w, rel=1e-10) for g, w in zip(got_grads, grads, strict=True))


@pytest.mark.parametrize("case", list(CASES))
def test_diff_hessian_check_explain_graph(case):
    text, point, f = CASES[case]
    _, grads = _reference(case)
    first = next(iter(point))
    result = run("diff", text, "--wrt", first)
    assert result.exit_code == 0, result.output
    derivative = result.output.strip()
    result = run("eval", derivative, *_bindings(point))  # the printed derivative, read back and evaluated
    assert result.exit_code == 0, result.output
    assert _close(float(result.output), grads[0], rel=1e-10)
    result = run("hessian", text, *_bindings(point), "--json")
    assert result.exit_code == 0, result.output
    args = [mp.mpf(v) for v in point.values()]
    second = float(mp.diff(lambda t: f(t, *args[1:]), args[0], 2))
    assert json.loads(result.output)["hessian"][0][0] == pytest.approx(second, rel=1e-7, abs=1e-12)
    if "tail" not in case:  # check's central differences cannot see 1e-20 from 0
        assert run("check", text, *_bindings(point)).exit_code == 0
    name = case.split()[0]
    result = run("explain", text, *_bindings(point))
    assert result.exit_code == 0 and name in result.output
    result = run("graph", text, *_bindings(point), "--format", "json")
    assert result.exit_code == 0 and name in {n["op"] for n in json.loads(result.output)["nodes"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("floor(x)", 0.0), ("ceil(x)", 0.0), ("floor(x)", 0.0),  # PyTorch: floor and ceil have derivative 0
        ("elu(x)", 1.0),  # PyTorch: elu'(0) = alpha = 1
        ("leaky_relu(x)", 0.01), ("leaky_relu(x, 0.3)", 0.3),  # PyTorch: the slope at 0
    ],
)
@pytest.mark.parametrize("at", ["0", "0.0"])
def test_kinks_follow_pytorch(text, expected, at):
    for mode in ("reverse", "forward"):
        result = run("grad", text, f"x={at}", "--json", "--mode", mode)
        assert json.loads(result.output)["gradient"]["x"] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acosh(x) --x 0.5", "acosh(0.5) is undefined: acosh needs a number that is at least 1"),
        ("atanh(x) --x 1", "atanh(1) is undefined: atanh needs a number in (-1, 1)"),
        ("log1p(x) --x -1", "log1p(-1) is undefined: log1p needs a number above -1"),
        ("csc(x) --x 0", "csc(0) is undefined: csc needs sin(x) to be nonzero"),
        ("cot(x) --x 0", "cot(0) is undefined: cot needs tan(x) to be nonzero"),
    ],
)
def test_domains_name_themselves(text, message, tmp_path):
    expr, *bindings = text.split(" ", 1)
    result = run("grad", expr, *bindings[0].split())
    assert result.exit_code == 1
    assert message in result.output
    rows = tmp_path / "p.jsonl"
    name, value = bindings[0].split()
    rows.write_text(json.dumps({name[2:]: float(value)}) + "\n", encoding="utf-8")
    result = run("grad", expr, "--input", str(rows))  # batch mode: the compiled path, then the same message
    assert message in result.output


def test_aliases_call_the_same_operation():
    for alias, name in [("ln", "log"), ("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                        ("arsinh", "asinh"), ("arcosh", "acosh"), ("artanh", "atanh"), ("lg", "log10")]:
        a = json.loads(run("grad", f"{alias}(x)", "x=0.5" if name != "acosh" else "x=1.5", "--json").output)
        b = json.loads(run("grad", f"{name}(x)", "x=0.5" if name != "acosh" else "x=1.5", "--json").output)
        assert a["value"] == b["value"] and a["gradient"] == b["gradient"]
        assert alias in ops.OPS[name].aliases
    assert "lg" in ops.OPS["log10"].doc  # ISO 80000-2's name, said where users read it
    assert "call it as ln(...)" in run("grad", "ln*x", "ln=1", "x=2").output


# -- the generated pieces match the table ---------------------------------------------------------


def test_docs_functions_page_is_the_table():
    from pathlib import Path

    from autodiff_cli.render import functions_markdown

    page = Path(__file__).resolve().parent.parent / "docs" / "functions.md"
    assert page.read_text(encoding="utf-8") == functions_markdown(), "run: autodiff functions --markdown"
    assert run("functions", "--markdown").output == functions_markdown()


def test_fuzz_dictionary_is_the_table():
    import sys
    from pathlib import Path

    fuzz = Path(__file__).resolve().parent.parent / "fuzz"
    sys.path.insert(0, str(fuzz))
    try:
        from parser_dict import parser_dictionary
    finally:
        sys.path.remove(str(fuzz))
    words = (fuzz / "parser.dict").read_text(encoding="utf-8")
    assert words == parser_dictionary(), "run: python fuzz/parser_dict.py"
    assert all(f'"{alias}"' in words for op in ops.functions() for alias in (op.name, *op.aliases))


def test_the_rule_code_can_be_printed():
    # mul: d/dx = y, d/dy = x, times the node's gradient, added to the parents' (hand-derived)
    source = backward_source("mul")
    assert "d0 = g * (y)" in source and "d1 = g * (x)" in source
    assert "a0.grad += d0" in source and "a1.grad += d1" in source
    result = run("functions", "--code", "tanh")
    assert result.exit_code == 0 and "def backward(node):" in result.output and "math.tanh(x)" in result.output
    assert run("functions", "--code", "nope").exit_code == 2


# -- a throwaway op: one entry, and every command picks it up --------------------------------------

THROWAWAY = ops.Op(
    "wobble", 1,
    """
    t = tanh(x)
    return t * t + x
    """,  # statements that call another table function: the compiler copies them as they are
    ("2 * tanh(x) * sech(x) ** 2 + 1",), "tanh(x)^2 + x, an operation that exists only in this test",
    domain=(("x > 100", "{call} is undefined: wobble needs x <= 100"),),
)


def _wobble(x):
    return mp.tanh(x) ** 2 + x


def test_the_throwaway_op_never_touches_the_real_table():
    with ops.extended(THROWAWAY) as table:
        assert "wobble" in table and "wobble" in ops.OPS
    assert "wobble" not in ops.OPS and "wobble" not in ops.FUNCTIONS


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_throwaway_op_works_in_every_command(mode, tmp_path):
    x = mp.mpf("0.4")
    value = float(_wobble(x))
    slope = float(mp.diff(_wobble, x))
    second = float(mp.diff(_wobble, x, 2))
    with ops.extended(THROWAWAY):
        doc = json.loads(run("grad", "wobble(x)", "x=0.4", "--json", "--mode", mode).output)
        assert _close(doc["value"], value) and _close(doc["gradient"]["x"], slope)
        rows = tmp_path / "p.jsonl"
        rows.write_text('{"x": 0.4}\n{"x": 200}\n', encoding="utf-8")
        lines = run("grad", "wobble(x)", "--input", str(rows), "--json").output.splitlines()
        assert _close(json.loads(lines[0])["gradient"]["x"], slope)
        assert "wobble(200) is undefined: wobble needs x <= 100" in lines[1]
        module: dict = {}
        exec(run("compile", "wobble(x)").output, module)
        assert _close(module["gradient"](0.4)[1], slope)
        with pytest.raises(ValueError):
            module["value"](200.0)  # the domain is tested in generated code too
        derivative = run("diff", "wobble(x)").output.strip()
        assert _close(float(run("eval", derivative, "x=0.4").output), slope)
        hess = json.loads(run("hessian", "wobble(x)", "x=0.4", "--json").output)["hessian"][0][0]
        assert hess == pytest.approx(second, rel=1e-9)
        assert run("check", "wobble(x)", "x=0.4").exit_code == 0
        assert "wobble" in run("explain", "wobble(x)", "x=0.4").output
        assert "wobble" in run("graph", "wobble(x)", "x=0.4").output
        assert "wobble(x)" in run("functions").output
        result = run("grad", "wobble(x)", "x=200")
        assert result.exit_code == 1 and "wobble(200) is undefined: wobble needs x <= 100" in result.output
    assert run("grad", "wobble(x)", "x=0.4").exit_code == 2  # gone with the block: unknown function


def test_a_forward_that_reads_other_names_is_refused():
    bad = ops.Op("bad", 1, "os.getcwd()", ("0",), "reads a module the generated code cannot have")
    with pytest.raises(ValueError, match="only math"):
        bad.fn(1.0)
    assert math.isfinite(ops.OPS["gelu"].fn(-40.0))


def test_importing_the_package_parses_no_formula():
    # start-up: the table's forwards, rules and domains are parsed and compiled when first used, not on import
    import subprocess
    import sys

    code = (
        "import autodiff_cli.cli, autodiff_cli.compile, autodiff_cli.dual, autodiff_cli.symbolic\n"
        "from autodiff_cli import ops\n"
        "lazy = ('grad_trees', 'forward_tree', 'fn', '_domain_tests', '_convention_tests')\n"
        "assert not [op.name for op in ops.functions() if any(k in vars(op) for k in lazy)]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
