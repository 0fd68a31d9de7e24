"""Properties of the command line (hypothesis, through click's CliRunner in-process).

1. What `autodiff diff` prints evaluates (through `autodiff eval`) to `autodiff grad`'s numbers; the
   Hessian of `autodiff hessian` and of symbolic.hessian is exactly symmetric, agrees with central
   differences of the gradient and with `diff --order 2` evaluated.
2. Every command, fed arbitrary text and arbitrary bindings and options, ends with exit code 0, 1 or 2,
   never prints a traceback, and whenever the code is not 0 its stderr starts with 'Error:' (and, with
   --json, stdout is one JSON document {"error": {"message": ..., "type": ...}}).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile

import pytest
from click.testing import CliRunner
from generated import NAMES, expressions, points, run
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from autodiff_cli.cli import cli
from autodiff_cli.errors import AutodiffError
from autodiff_cli.parser import parse

COMMANDS = ("eval", "grad", "diff", "hessian", "jacobian", "check", "explain", "graph", "functions", "compile",
            "train", "predict")


def examples(n: int):
    """n examples in the default profile (each runs the command line, a few ms); the profile's own count under
    HYPOTHESIS_PROFILE=long."""
    if os.environ.get("HYPOTHESIS_PROFILE", "default") == "default":
        return settings(max_examples=n, suppress_health_check=[HealthCheck.too_slow])
    return settings(suppress_health_check=[HealthCheck.too_slow])


def invoke(args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)


def bound(text: str, env: dict) -> list[str]:
    """Bindings x=... for the variables of text (repr: every digit kept)."""
    return [f"{n}={env[n]!r}" for n in parse(text).variables]


def ok_json(result) -> object:
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.stderr)
    assume(result.exit_code == 0)
    return json.loads(result.stdout)


# -- 1. derivatives through the command line ----------------------------------------------------------

small = expressions(wide=False, max_leaves=6)


@examples(40)
@given(small, points())
def test_diff_output_evaluated_by_eval_gives_grads_numbers(generated, env):
    text, _ = generated
    assume(parse(text).variables)  # diff of a constant is a usage error
    grads = ok_json(invoke(["grad", text, *bound(text, env), "--json"]))["gradient"]
    printed = ok_json(invoke(["diff", text, "--json"]))
    assert list(printed) == list(parse(text).variables)
    scale = 1 + max((abs(g) for g in grads.values()), default=0.0)
    for name, derivative in printed.items():
        value = invoke(["eval", derivative, *bound(derivative, env), "--json"])
        assert value.exit_code in (0, 1), value.output
        assume(value.exit_code == 0)  # e.g. 0*log(x) simplified differently at an edge of a domain
        got = json.loads(value.stdout)["value"]
        assert math.isclose(got, grads[name], rel_tol=1e-9, abs_tol=1e-9 * scale), (name, text, derivative)


def gradient_at(expr, env):
    return expr.gradient({n: env[n] for n in expr.variables})[1]


@examples(40)
@given(small, points(moderate=True))
def test_hessian_is_symmetric_and_agrees_with_differences_and_with_diff_order_2(generated, env):
    text, reference = generated
    expr = parse(text)
    names = list(expr.variables)  # none: an empty matrix, and diff prints no second partials (no filtering:
    # assuming names away left hypothesis too few valid examples on a busy machine, a failed health check)
    document = ok_json(invoke(["hessian", text, *bound(text, env), "--json"]))
    matrix = document["hessian"]
    assert document["variables"] == names
    n = len(names)
    for i in range(n):
        for j in range(n):
            assert matrix[i][j] == matrix[j][i]  # exactly
    # central differences of the gradient, trusted only away from kinks and where two step sizes agree
    try:
        _, kinks = run(reference, env)
    except (ValueError, ZeroDivisionError, OverflowError):
        kinks = [0.0]
    smooth = not kinks or min(kinks) > 1e-2
    scale = 1 + max((abs(v) for row in matrix for v in row), default=0.0)
    for j, name in enumerate(names):
        def column(h, name=name):
            up, down = dict(env), dict(env)
            up[name] += h
            down[name] -= h
            g_up, g_down = gradient_at(expr, up), gradient_at(expr, down)
            return [(g_up[m] - g_down[m]) / (2 * h) for m in names]

        h = 1e-4 * (1 + abs(env[name]))
        try:
            coarse, fine = column(h), column(h / 2)
        except AutodiffError:
            continue  # a domain edge or a kink within the step
        for i in range(n):
            # (an absolute tolerance not scaled by the matrix: sin(y^exp(y)) at 3 turns 1e7 times a step, and
            # two differences of 1e14 and 1e14 said nothing about a true 1e22)
            if smooth and math.isclose(coarse[i], fine[i], rel_tol=1e-4, abs_tol=1e-6):
                assert math.isclose(matrix[i][j], fine[i], rel_tol=1e-3, abs_tol=1e-4 * scale), (text, i, j)
    # the printed second partials, evaluated, are the same matrix
    printed = ok_json(invoke(["diff", text, "--order", "2", "--json"]))
    for key, derivative in printed.items():
        i, j = (names.index(k) for k in key.split(","))
        got = invoke(["eval", derivative, *bound(derivative, env), "--json"])
        assume(got.exit_code == 0)
        value = json.loads(got.stdout)["value"]
        assert math.isclose(value, matrix[i][j], rel_tol=1e-9, abs_tol=1e-9 * scale), (text, key, derivative)


@given(small, points())
def test_symbolic_hessian_is_symmetric_and_matches_the_cli(generated, env):
    from autodiff_cli.symbolic import hessian

    text, _ = generated
    expr = parse(text)
    names = list(expr.variables)
    try:
        expr.evaluate({n: env[n] for n in names})
        matrix = hessian(expr.root, expr.variables, names)
    except AutodiffError:
        assume(False)
    assert all(matrix[i][j] == matrix[j][i] for i in range(len(names)) for j in range(len(names)))
    # the reverse order of the variables gives the same matrix, reversed (a different upper triangle)
    again = parse(text)
    again.evaluate({n: env[n] for n in names})
    backwards = hessian(again.root, again.variables, names[::-1])
    n = len(names)
    scale = 1 + max((abs(v) for row in matrix for v in row), default=0.0)
    for i in range(n):
        for j in range(n):
            assert math.isclose(backwards[n - 1 - i][n - 1 - j], matrix[i][j], rel_tol=1e-9, abs_tol=1e-12 * scale)


# -- 2. anything in, a clean ending out -----------------------------------------------------------------

# text a user might paste: anything click can hold (no NUL, which argv cannot carry), weighted toward the
# grammar's pieces so that commands get past the parser
PIECES = ["x", "y", "z", "w", "θ", "(", ")", "+", "-", "*", "/", "^", "**", ",", " ", "1", "0", "2.5", "1e308",
          "1e-320", ".5", "5.", "pi", "e", "inf", "nan", "sin", "log", "sqrt", "max", "min", "relu", "abs", "pow",
          "exp", "tanh", "sign", "step", "log(", "max(", "9^9^9", "-0.0", "_", "__import__", "\t", "\n"]
arbitrary_text = st.text(st.characters(exclude_characters="\x00"), max_size=40)
grammar_ish = st.lists(st.sampled_from(PIECES), max_size=20).map("".join)
long_tokens = st.sampled_from(["x" * 5000, "1" * 400, "9" * 5000 + ".5", "(" * 50 + "x" + ")" * 50, "-" * 200 + "x"])
expression_text = arbitrary_text | grammar_ish | grammar_ish | expressions(max_leaves=6).map(lambda g: g[0]) | (
    st.sampled_from(["-", "--", "-x", "--x", "-h", "--help", "--json", "--wrt", "-o", "--", "-2*tanh(x)"])
) | long_tokens

values = st.one_of(
    st.floats().map(repr), st.integers().map(str), st.sampled_from(["inf", "-inf", "nan", "", " ", "pi/2", "1e999",
                                                                      "x", "1_000", "0x10", "--", "-", "1/0"]),
    arbitrary_text,
)
names = st.sampled_from([*NAMES, "w", "json", "wrt", "order", "mode", "o", "h", "format", "x y", "1x", "θ"]) | (
    st.text(st.characters(exclude_characters="\x00"), min_size=0, max_size=8)
)
binding = st.one_of(
    st.tuples(names, values).map(lambda nv: [f"{nv[0]}={nv[1]}"]),
    st.tuples(names, values).map(lambda nv: [f"--{nv[0]}", nv[1]]),
    st.tuples(names, values).map(lambda nv: [f"--{nv[0]}={nv[1]}"]),
)


def options(tmp: str):
    return st.lists(
        st.one_of(
            st.just(["--json"]),
            st.sampled_from(NAMES).map(lambda n: ["--wrt", n]),
            st.sampled_from(["1", "2", "3", "0", "-1", "11", "x", ""]).map(lambda k: ["--order", k]),
            st.sampled_from(["reverse", "forward", "sideways"]).map(lambda m: ["--mode", m]),
            st.sampled_from(["text", "json", "dot", "svg", "mermaid", "csv", "jsonl", "python", "bogus"]).map(
                lambda f: ["--format", f]),
            st.sampled_from(["out.txt", "out.svg", "sub/out.py", "", "."]).map(lambda p: ["-o", os.path.join(tmp, p)]),
            st.sampled_from(["--steps", "--tol", "1e-6", "--input", "--target", "--save", "-h"]).map(lambda o: [o]),
        ),
        max_size=3,
    )


def _has_json(name: str) -> bool:
    import click

    command = cli.get_command(click.Context(cli), name)
    return any("--json" in getattr(p, "opts", ()) for p in command.params)


HAS_JSON = {name for name in COMMANDS if _has_json(name)}


def test_the_commands_with_json():
    assert HAS_JSON >= {"eval", "grad", "diff", "hessian", "jacobian", "explain", "functions"}


def json_requested(args) -> bool:
    """Whether click reads --json as the flag: before any '--', and not the value of an option."""
    import click

    if args[0] not in HAS_JSON:
        return False
    command = cli.get_command(click.Context(cli), args[0])
    takes_value = {o for p in command.params if isinstance(p, click.Option) and not p.is_flag for o in p.opts}
    for i, arg in enumerate(args[1:], start=1):
        if arg == "--":
            return False
        if arg == "--json" and args[i - 1] not in takes_value:
            return True
    return False


def check_ending(result, args) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, args, result.output, result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r} for {args!r}")
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr, args
    assert "internal error" not in result.stderr, (args, result.stderr)
    if result.exit_code != 0:
        # warnings and notes may come first (a value for a name the expression lacks, the task train chose)
        lines = [line for line in result.stderr.splitlines() if not line.startswith(("Warning: ", "Note: "))]
        assert lines and lines[0].startswith("Error:"), (args, result.exit_code, result.stderr[:500])
        failed_check = lines[0].startswith(("Error: gradient check failed", "Error: gradient check inconclusive"))
        if args[0] == "check" and result.exit_code == 1 and failed_check:
            # a failed check: the table (or, with --json, the report with "ok": false) says which disagrees
            if json_requested(args):
                assert json.loads(result.stdout)["ok"] is False, args
            return
        batch_rows = "--input" in args and result.exit_code == 1  # the records are the JSON (README, batch mode)
        if json_requested(args) and not batch_rows and not any(a in ("-h", "--help") for a in args):
            document = json.loads(result.stdout)
            assert set(document) == {"error"} and isinstance(document["error"]["message"], str), args


numeric_value = st.floats(allow_nan=False, allow_infinity=False).map(repr) | st.integers(-3, 3).map(str) | (
    st.floats(-3, 3).map(repr))
# a valid expression with a number for each of x, y, z and sensible options (half the time): the commands
# get past parsing and binding, into their own code
valid_call = st.tuples(
    expressions(max_leaves=6).map(lambda g: g[0]),
    st.tuples(*[st.tuples(st.just(n), numeric_value, st.sampled_from(["{}={}", "--{}={}"])) for n in NAMES]).map(
        lambda ts: [[f.format(n, v)] for n, v, f in ts]),
    st.lists(st.sampled_from([["--json"], ["--wrt=x"], ["--order=2"], ["--mode=forward"]]), max_size=1),
)


@examples(300)
@given(st.sampled_from(COMMANDS), expression_text, st.lists(binding, max_size=3), st.data())
def test_every_command_ends_cleanly_on_anything(command, text, bindings, data):
    with tempfile.TemporaryDirectory() as tmp:
        if data.draw(st.booleans()):
            text, bindings, chosen = data.draw(valid_call)
        else:
            chosen = data.draw(options(tmp))
        args = [command, text, *[a for b in bindings for a in b], *[a for o in chosen for a in o]]
        order = data.draw(st.permutations(range(1, len(args))))
        args = [args[0], *(args[i] for i in order)]
        stdin = data.draw(st.sampled_from(["", "x^2\n", "x,y\n1,2\n", '{"x": 1}\n']))
        result = CliRunner().invoke(cli, args, input=stdin)
    event(f"exit {result.exit_code}")
    check_ending(result, args)


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "x^2", "x=\udcff"],  # a surrogate, as Python decodes an invalid byte in argv
        ["grad", "\udcff\udcfe", "--json"],
        ["diff", "-" * 3 + "x", "--order", "2"],
        ["hessian", "x" * 100_000],
        ["explain", "sin(x)", "--x", "1e999"],
        ["graph", "x*y", "--format", "bogus", "--json"],
        ["compile", "x^2", "-o", "/nonexistent-dir/f.py"],
        ["functions", "--json", "extra"],
        ["train", "\x01\x02", "--json"],
        ["predict", "-", "--json"],
    ],
)
def test_subprocess_ends_with_a_documented_code_and_an_error_line(args):
    """The installed program, for the real exit path (argv bytes, signals' handlers, stdout buffers)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    run = subprocess.run([sys.executable, "-m", "autodiff_cli", *args], capture_output=True, env=env,
                         input=b"", timeout=60)
    assert run.returncode in (0, 1, 2), (args, run.returncode, run.stderr)
    stderr = run.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr
    if run.returncode:
        assert stderr.startswith("Error:"), (args, stderr[:300])
        if "--json" in args:
            assert set(json.loads(run.stdout)) == {"error"}


# -- files: batch input, training data and model files, arbitrary too --------------------------------------

cells = st.one_of(st.floats().map(repr), st.integers(-5, 5).map(str), st.sampled_from(["", "a", "b", "nan", "inf",
                  "1e999", '"1,5"', " 2 ", "-0.0", "5e-324", "x"]), st.text(max_size=5))
column_names = st.sampled_from(["x", "y", "z", "w", "label", "", "x", "θ", "a b", "__class__"]) | st.text(max_size=5)


@st.composite
def csv_text(draw) -> bytes:
    header = draw(st.lists(column_names, min_size=1, max_size=4))
    rows = draw(st.lists(st.lists(cells, min_size=len(header) - 1, max_size=len(header) + 1), max_size=6))
    return "\n".join(",".join(r) for r in [header, *rows]).encode("utf-8", "surrogatepass")


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
jsonl_text = st.lists(
    st.dictionaries(column_names, json_values, max_size=4).map(json.dumps) | st.text(max_size=20), max_size=5
).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass"))
file_content = csv_text() | jsonl_text | st.binary(max_size=200)

MODEL = {
    "format": "autodiff-mlp", "version": 1, "task": "regression", "inputs": ["x"], "target": "y",
    "scaling": {"mean": [2.0], "std": [0.8]}, "target_scaling": {"mean": 3.0, "std": 1.2},
    "layers": [
        {"activation": "tanh", "weights": [[0.6], [0.5]], "biases": [0.02, 0.02]},
        {"activation": "linear", "weights": [[0.3, -0.2]], "biases": [0.01]},
    ],
}


@st.composite
def model_text(draw) -> bytes:
    """A model file close to a real one, with one part replaced by anything, or anything at all."""
    model = json.loads(json.dumps(MODEL))
    if draw(st.booleans()):
        where = draw(st.sampled_from(["format", "version", "task", "inputs", "target", "scaling", "target_scaling",
                                      "layers"]))
        model[where] = draw(json_values)
    elif draw(st.booleans()):
        layer = model["layers"][draw(st.integers(0, 1))]
        layer[draw(st.sampled_from(["activation", "weights", "biases"]))] = draw(json_values)
    text = json.dumps(model)
    return draw(st.sampled_from([text.encode(), text.encode()[: draw(st.integers(0, len(text)))]])) if draw(
        st.booleans()) else draw(file_content)


@examples(150)
@given(st.data())
def test_commands_reading_files_end_cleanly_on_anything(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, data.draw(st.sampled_from(["in.csv", "in.jsonl", "in"])))
        with open(path, "wb") as f:
            f.write(data.draw(file_content))
        model = os.path.join(tmp, "model.json")
        with open(model, "wb") as f:
            f.write(data.draw(model_text()))
        extra = data.draw(st.lists(st.sampled_from(["--json", "--keep", "--fail-fast", "--input-format=csv",
                                                    "--input-format=jsonl", "--output-format=csv", "x=1", "--wrt=x"]),
                                   max_size=3, unique=True))
        command = data.draw(st.sampled_from(["batch", "train", "predict"]))
        if command == "batch":
            args = [data.draw(st.sampled_from(["eval", "grad"])), data.draw(expression_text | st.just("x*y + z")),
                    "--input", path, *extra]
        elif command == "train":
            args = ["train", path, "-t", data.draw(column_names), "--epochs", "2", "-q",
                    "--hidden", data.draw(st.sampled_from(["2", "none", "0", "x", "2,2"])), "--save",
                    os.path.join(tmp, "saved.json"), *[e for e in extra if e == "--json"]]
        else:
            args = ["predict", model, path]
        result = CliRunner().invoke(cli, args)
    check_ending(result, args)


def test_a_model_like_the_one_train_writes_predicts():
    """The model the file strategy mutates is a valid one (otherwise it would only test errors)."""
    with tempfile.TemporaryDirectory() as tmp:
        model, rows = os.path.join(tmp, "m.json"), os.path.join(tmp, "d.csv")
        with open(model, "w") as f:
            json.dump(MODEL, f)
        with open(rows, "w") as f:
            f.write("x\n2\n")
        result = CliRunner().invoke(cli, ["predict", model, rows])
    assert result.exit_code == 0, result.output
    hidden = [math.tanh(0.6 * 0 + 0.02), math.tanh(0.5 * 0 + 0.02)]  # x = 2 is the mean: standardised to 0
    expected = (0.3 * hidden[0] - 0.2 * hidden[1] + 0.01) * 1.2 + 3.0
    assert result.stdout.splitlines()[0] == "x,prediction"
    assert math.isclose(float(result.stdout.splitlines()[1].split(",")[1]), expected, rel_tol=1e-12)
