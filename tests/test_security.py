"""The security promises of SECURITY.md, each checked.

- No user text reaches eval, exec, compile or a shell: the package's only calls of exec and
  compile are in the four code generators (the op table's forwards too), and what they run does not depend on any name
  or text the user chose (the generated code is the same, string constants aside, whatever
  the variables are called).
- Programs are started without a shell, and only Graphviz's dot.
- Nothing is unpickled but lark's grammar cache, and that only from a folder that no other
  user can write.
- Model files are JSON, read as data.
- Messages never carry the user's control characters to the terminal.
"""

import ast
import csv
import io
import json
import os
import re
import stat
from pathlib import Path

import pytest
from helpers import run

from autodiff_cli import compile as compiler
from autodiff_cli import parse, parser
from autodiff_cli.engine import Value

PACKAGE = Path(__file__).resolve().parent.parent / "autodiff_cli"

# Names a user may give a variable (the grammar's NAME: letters, digits, underscore, Unicode letters
# included) that mean something to Python or to the generated module.
HOSTILE_NAMES = [
    "lambda", "import", "exec", "eval", "__import__", "__builtins__", "__class__", "print", "open", "os",
    "sys", "math", "value", "gradient", "EXPRESSION", "VARIABLES", "WRT", "v0", "v1", "t0", "t1", "g0", "g1",
    "h0", "_f_exp", "None", "True", "self",
    # look-alikes: Cyrillic a, fullwidth x, the ligature fi (Python's identifiers fold it to "fi"),
    # mathematical italic x, Kelvin sign K
    "\u0430", "\uff58", "\ufb01", "fi", "\U0001d465", "\u212a", "K",
]


def _calls(path: Path) -> list[tuple[str, int]]:
    """(dotted callee, line) of every call in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            found.append((ast.unparse(node.func), node.lineno))
    return found


def test_exec_and_compile_are_called_only_by_the_three_code_generators():
    sites = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for callee, _line in _calls(path):
            if callee in ("exec", "eval", "compile", "__import__", "builtins.exec", "builtins.eval", "execfile"):
                sites.setdefault(str(path.relative_to(PACKAGE)), set()).add(callee)
    # rulecode compiles the engine's backward steps and forward mode's products; ops the forwards;
    # numpy_rules the table's forwards and rules translated into NumPy (the tensor backend)
    generators = ("rulecode.py", "compile.py", "ops.py", "tensor/backends/numpy_rules.py")
    assert sites == {name: {"exec", "compile"} for name in generators}


def test_nothing_is_deserialised_by_pickle_marshal_or_shelve():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for module in modules:
                    assert module.split(".")[0] not in ("pickle", "marshal", "shelve", "dill", "yaml"), path.name


def test_programs_start_without_a_shell_and_only_graphviz():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = ast.unparse(node.func)
            assert not callee.startswith(("os.system", "os.popen", "os.exec", "os.spawn", "pty.")), path.name
            if callee.startswith("subprocess."):
                assert path.name in ("export.py", "notebook.py"), f"{path.name} starts a program"
                assert all(k.arg != "shell" for k in node.keywords), f"{path.name}:{node.lineno} uses a shell"
                argv = node.args[0]
                assert isinstance(argv, ast.List), f"{path.name}:{node.lineno}: argv is not a list"
                assert ast.unparse(argv.elts[0]) == "program"  # export.dot_program(): the dot on PATH


def _code_without_strings(source: str) -> str:
    """The module's code, every string constant (docstrings, EXPRESSION, VARIABLES) blanked."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


def _sources(monkeypatch) -> list[str]:
    """Every source the compiler hands to Python's compile() from now on."""
    seen: list[str] = []
    real = compile

    def recording(source, *args, **kwargs):
        seen.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(compiler, "compile", recording, raising=False)
    return seen


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_variable_name_never_changes_the_generated_code(name, monkeypatch):
    """The same expression with an innocent name and with a hostile one compiles to the same code;
    the hostile name is only ever a string, and the compiled function gives the engine's numbers."""
    text = "tanh({n}*x + b)^2 + {n}/(1 + x^2) + exp(-{n}*b)"
    seen = _sources(monkeypatch)
    compiler.compile_expression(parse(text.format(n="w")))
    hostile_expr = parse(text.format(n=name))
    hostile = compiler.compile_expression(hostile_expr)
    assert len(seen) == 2  # what was compiled is exactly what we compare
    assert _code_without_strings(seen[0]) == _code_without_strings(seen[1])
    assert hostile.variables == (name, "x", "b")
    point = {name: 0.7, "x": -1.3, "b": 0.25}
    value, grads = hostile_expr.gradient(point)
    assert hostile.gradient(0.7, -1.3, 0.25) == pytest.approx([value, *grads.values()], rel=1e-13)


def test_the_cli_compiles_hostile_names_to_code_that_runs_alone_and_agrees(tmp_path):
    names = ["lambda", "__import__", "math", "v1", "\u0430", "\ufb01", "fi"]
    text = " + ".join(f"{n}*sin({n})" for n in names)
    result = run("compile", text)
    assert result.exit_code == 0, result.output
    namespace: dict = {}
    exec(compile(result.output, "<printed>", "exec"), namespace)  # the user's own step: run what was printed
    assert namespace["VARIABLES"] == tuple(names)
    args = [0.1 * (i + 1) for i in range(len(names))]
    value, grads = parse(text).gradient(dict(zip(names, args, strict=True)))
    assert namespace["gradient"](*args) == pytest.approx([value, *grads.values()], rel=1e-13)
    assert not list(tmp_path.iterdir())


INJECTIONS = [
    "__import__('os').system('touch PWNED')",
    '"); import os; os.system("touch PWNED"); ("',
    "x\nimport os",
    "lambda",
    "def",
    "x,y",
    "\u0445",  # Cyrillic ha, looks like x
    "=cmd|' /C calc'!A0",  # a spreadsheet formula
]


def test_hostile_csv_column_names_and_json_keys_are_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["x", *INJECTIONS, "y"])
    writer.writerow(["2", *["1"] * len(INJECTIONS), "3"])
    result = run("grad", "x*y", "--input", "-", "--input-format", "csv", "--output-format",
                 "csv", "--keep", input=buffer.getvalue())
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0][: len(INJECTIONS) + 2] == ["x", *INJECTIONS, "y"]
    assert rows[1][-4:-1] == ["6.0", "3.0", "2.0"]

    record = {name: 1 for name in INJECTIONS} | {"x": 2, "y": 3}
    result = run("grad", "x*y", "--input", "-", "--keep", input=json.dumps(record) + "\n")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["value"] == 6.0 and out["gradient"] == {"x": 3.0, "y": 2.0}
    assert out["input"] == record  # kept as it came, keys and all
    assert not (tmp_path / "PWNED").exists()


def test_a_pickle_is_not_a_model(tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch PWNED",))

    model = tmp_path / "model.json"
    model.write_bytes(pickle.dumps(Boom()))
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    result = run("predict", str(model), str(data))
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_the_grammar_cache_is_used_only_from_a_private_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = parser._cache_path()
    assert path and Path(path).parent == tmp_path / "autodiff"
    folder = tmp_path / "autodiff"
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0  # made private

    folder.chmod(0o777)  # anyone could plant a pickle here
    assert parser._cache_path() is False
    folder.chmod(0o700)

    Path(path).write_bytes(b"planted")
    Path(path).chmod(0o666)
    assert parser._cache_path() is False
    Path(path).unlink()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"planted")
    Path(path).symlink_to(elsewhere)
    assert parser._cache_path() is False
    Path(path).unlink()

    folder.rmdir()
    (tmp_path / "shared").mkdir(mode=0o777)
    (tmp_path / "shared").chmod(0o777)
    folder.symlink_to(tmp_path / "shared")  # a link to a folder is not the private folder
    assert parser._cache_path() is False


CONTROLS = ["\x1b[2J", "\x07", "\r", "\x1b]0;title\x07", "\x9b31m", "\u202e", "\x00"]


@pytest.mark.parametrize("args", [
    *(["eval", f"x+{c}y", "x=1", "y=2"] for c in CONTROLS),
    *(["grad", "x*y", "x=1", "y=2", "--wrt", f"y{c}"] for c in CONTROLS),
    *(["diff", "x*y", "--wrt", f"{c}"] for c in CONTROLS),
    *(["eval", "x", f"x{c}=1"] for c in CONTROLS),
    *(["eval", "x", f"x=1{c}"] for c in CONTROLS),
    ["graph", "x", "--format", "\x1b[2J"],
    ["eval", "x", "x=1", "--input", "\x1b[2Jmissing"],
], ids=repr)
def test_control_characters_never_reach_the_terminal(args):
    result = run(*args)
    shown = result.output
    if "\r" in "".join(args):  # white space, like a tab: may be accepted
        assert result.exit_code in (0, 2)
    else:
        assert result.exit_code == 2
        assert shown.startswith("Error: ")
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in shown), shown


def test_library_names_reach_the_dot_source_escaped():
    """A library user may name a Value anything; the DOT it becomes keeps it inside one quoted label."""
    from autodiff_cli.export import dot_lines

    name = 'a"]; n9 [image="/etc/passwd"]; "'
    for line in dot_lines(Value(1.0, name=name) * 2):
        unescaped = re.sub(r"\\.", "", line)  # an escaped character is part of its string
        assert unescaped.count('"') % 2 == 0, line
        outside_strings = re.sub(r'"[^"]*"', "", unescaped)
        assert "image" not in outside_strings and "n9" not in outside_strings, line


def test_a_relative_cache_home_is_ignored(tmp_path, monkeypatch):
    """A repository could ship relcache/autodiff/grammar-...lark-cache; a relative XDG_CACHE_HOME must not read it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relcache")
    path = parser._cache_path()
    assert path and Path(path).parent == tmp_path / "home" / ".cache" / "autodiff"
    assert not (tmp_path / "relcache").exists()


def test_an_output_file_keeps_its_permissions(tmp_path):
    private = tmp_path / "private.dot"
    private.write_text("secret\n")
    private.chmod(0o600)
    result = run("graph", "x*y", "x=1", "y=2", "--format", "dot", "-o", str(private))
    assert result.exit_code == 0, result.output
    assert private.read_text().startswith("digraph")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600  # not widened to 0644


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write any file")
def test_a_read_only_output_file_is_not_replaced(tmp_path):
    kept = tmp_path / "kept.dot"
    kept.write_text("keep me\n")
    kept.chmod(0o444)
    result = run("graph", "x", "x=1", "--format", "dot", "-o", str(kept))
    assert result.exit_code != 0 and result.output.startswith("Error: cannot write")
    assert kept.read_text() == "keep me\n"


def test_a_file_name_cannot_forge_a_line_of_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    forged = "evil\nError: everything is fine\x1b[2J.csv"
    result = run("train", forged, "--target", "y")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "\\n" in result.output and "\x1b" not in result.output


@pytest.mark.parametrize(("text", "shown"), [
    ("e\u0301", "U+0301 (combining acute accent) at column 2: a combining mark"),
    ("x\u200by", "U+200B (zero width space) at column 2"),
    ("x\x07", "U+0007 (a control character) at column 2"),
    ("x+\u3164", "U+3164 (hangul filler), a letter that shows as nothing"),
    ("x\uffa0*2", "U+FFA0 (halfwidth hangul filler), a letter that shows as nothing"),
])
def test_characters_that_cannot_be_seen_are_named_in_messages(text, shown):
    result = run("eval", text, "x=1")
    assert result.exit_code == 2
    assert shown in result.output.splitlines()[0]


def test_small_messages_read_right():
    result = run("eval", "x", "x=1", "-o", "f")
    assert result.output.startswith("Error: unexpected argument '-o':")  # no stray space
    result = run("graph", "x", "x=1", "-o", "")
    assert result.exit_code == 2 and "needs a file name" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["eval", "x", "x=\udcff"], "Error: the value of x is not UTF-8 text (byte 1)"),
    (["eval", "x", "\udcff=1"], "Error: a binding's name is not UTF-8 text (byte 1)"),
    (["eval", "x", "--x", "1\udcff"], "Error: the value of x is not UTF-8 text (byte 2)"),
])
def test_a_binding_that_is_not_utf8_says_so(args, message):
    """Bytes that are not UTF-8 reach Python as lone surrogates (\\udcff for the byte 0xff)."""
    result = run(*args)
    assert result.exit_code == 2 and result.output.splitlines()[0] == message


def test_the_caret_stays_under_a_combining_mark():
    result = run("eval", "xe\u0301", "x=1")
    assert result.output.splitlines()[1:] == ["  xe?", "    ^"]  # one column per character shown


def test_a_huge_binding_is_quoted_short():
    result = run("eval", "x", "x=" + "9" * 5000)
    assert result.exit_code == 2
    quoted = "'999999999999999999...999999999999999999 (5,000 characters)'"
    assert result.output == f"Error: the value of x must be a finite number, not {quoted}\n"


def test_a_huge_name_is_quoted_short():
    result = run("eval", "b" * 100_000)
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert first.startswith("Error: no value for variable bbbbbbbbbbbbbbbbbb...bbbbbbbbbbbbbbbbbb (100,000 characters)")
    assert len(first) < 300
    result = run("eval", "a" * 100_000 + "(x)", "x=1")
    assert result.output.startswith("Error: unknown function aaaaaaaaaaaaaaaaaa...") and len(result.output) < 500


def test_check_says_when_the_step_overflows_not_that_the_value_is_infinite():
    result = run("check", "x", "x=1e308", "--eps", "1")
    assert result.exit_code == 2
    assert result.output.startswith("Error: --eps is too large for x = 1e+308: x + h overflows")
