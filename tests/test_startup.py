"""Start-up: the generated parser tables match the grammar, and a one-shot command loads only what it needs."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_cli import grammar_tables, parser, tablegen
from autodiff_cli.cli import cli
from autodiff_cli.parser_build import Builder

ROOT = Path(__file__).resolve().parent.parent


def run_python(code, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT), env.get("PYTHONPATH", "")] if p)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_committed_tables_are_what_the_grammar_gives():
    """Regenerating from grammars/expression.lark gives the committed file, byte for byte
    (after a grammar change: python -m autodiff_cli.tablegen)."""
    assert grammar_tables.GRAMMAR == (ROOT / "grammars" / "expression.lark").read_text(encoding="utf-8")
    assert Path(tablegen.TABLES_PATH).read_text(encoding="utf-8") == tablegen.generate()
    assert tablegen.main(["--check"]) == 0


def test_the_tables_are_lark_s_own():
    """The same LALR table as lark's analysis, state for state, under the renumbering."""
    from lark import Lark

    lark = Lark(parser.grammar_text(), parser="lalr")
    table = lark.parser.parser.parser.parse_table
    tables = grammar_tables.TABLES
    assert len(tables["actions"]) == len(table.states)
    assert sorted(name for name, _ in tables["terminals"]) == sorted(t.name for t in lark.terminals)
    # walk both tables side by side from the start state: every action agrees
    seen = {table.start_states["start"]: tables["start"]}
    todo = [table.start_states["start"]]
    while todo:
        state = todo.pop()
        ours = tables["actions"][seen[state]]
        assert set(ours) == set(table.states[state])
        for symbol, (action, arg) in table.states[state].items():
            if action.name == "Shift":
                assert ours[symbol] >= 0
                if arg not in seen:
                    seen[arg] = ours[symbol]
                    todo.append(arg)
                assert seen[arg] == ours[symbol]
            else:
                size, origin, *_ = tables["rules"][~ours[symbol]]
                assert (size, origin) == (len(arg.expansion), arg.origin.name)
    assert seen[table.end_states["start"]] == tables["end"]


def test_the_check_fails_on_a_stale_file(tmp_path, monkeypatch):
    stale = tmp_path / "grammar_tables.py"
    stale.write_text(tablegen.generate().replace("'NAME'", "'NOM'", 1))
    monkeypatch.setattr(tablegen, "TABLES_PATH", str(stale))
    assert tablegen.main(["--check"]) == 1
    assert tablegen.main([]) == 0  # rewrites it
    assert stale.read_text() == tablegen.generate()


def test_a_changed_grammar_is_analysed_by_lark_instead(tmp_path, monkeypatch):
    """Tables made from another grammar are never used: lark analyses the grammar it finds."""
    monkeypatch.setattr(grammar_tables, "GRAMMAR", "// another grammar\n")
    monkeypatch.setattr(grammar_tables, "TABLES", {"broken": True})
    monkeypatch.setattr(parser, "_PARSER", None)
    monkeypatch.setattr(parser, "_LARK", None)
    expr = parser.parse("2*x^3 - sin(x)")
    assert expr.evaluate({"x": 2.0}) == 2 * 2.0**3 - __import__("math").sin(2.0)
    _builder, driver = parser._PARSER
    assert driver is not None and parser._LARK is not None


CODE = textwrap.dedent(
    """
    import sys
    from autodiff_cli.cli import main
    sys.argv = ["autodiff", ARGS]
    try:
        main()
    except SystemExit as exit:
        code = exit.code
    heavy = ("lark", "rich", "sympy", "autodiff_cli.compile", "autodiff_cli.symbolic",
             "autodiff_cli.batch", "autodiff_cli.training", "autodiff_cli.nn", "autodiff_cli.explain",
             "autodiff_cli.export", "autodiff_cli.cli.views", "autodiff_cli.cli.training",
             "autodiff_cli.cli.derivatives", "autodiff_cli.cli.check", "autodiff_cli.dual", "autodiff_cli.tablegen",
             "dataclasses", "copy", "autodiff_cli.render", "autodiff_cli.explain_tables", "autodiff_cli.notebook",
             "signal", "decimal", "autodiff_cli.careful", "autodiff_cli.tensor", "numpy",
             # the tensor path: only texpr.route (standard library, a few regular expressions) may load
             "autodiff_cli.texpr.program", "autodiff_cli.texpr.bindings", "autodiff_cli.cli.tensor_calculus",
             "autodiff_cli.cli.tensor_check",
             # click's gettext lookups (help and version options) and its suggestions for an unknown option
             "locale", "difflib")
    if "--json" not in sys.argv:
        heavy += ("json",)
    print(sorted(m for m in heavy if m in sys.modules), code, file=sys.stderr)
    """
)


@pytest.mark.parametrize("args", [
    ["eval", "x+1", "x=1"],
    ["grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1"],
    ["grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1", "--json"],
    ["--version"],
    ["grad", "x*y", "--x=2", "y=3", "--wrt", "x"],
])
def test_a_one_shot_command_loads_no_heavy_module(tmp_path, args):
    result = run_python(CODE.replace("ARGS", repr(args)[1:-1]), cwd=tmp_path)
    *_, last = result.stderr.strip().splitlines()
    assert last in ("[] None", "[] 0"), result.stderr
    assert result.stdout


def test_a_parse_error_still_comes_from_lark_with_its_caret():
    result = CliRunner().invoke(cli, ["eval", "x+*2", "x=1"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: unexpected '*' at column 3")
    assert "x+*2\n" in result.output and "  ^" in result.output


@pytest.mark.parametrize(("args", "suggestion"), [
    (["x^2"], "autodiff eval 'x^2'"),
    (["sin(x)", "x=1"], "autodiff eval 'sin(x)' x=1"),
    (["2*x", "--x", "3"], "autodiff eval '2*x' --x 3"),
    (["2"], "autodiff eval 2"),
    (["d/dx x^2"], "autodiff diff 'x^2'"),  # no expression, but the parser says what was meant (issue 12)
    (["d/dx(x^2+y)"], "autodiff diff 'x^2+y' --wrt x"),
])
def test_an_expression_in_place_of_a_command_gets_the_eval_it_meant(args, suggestion):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    first = result.output.splitlines()[0]
    assert first == f"Error: No such command '{args[0]}'; did you mean: {suggestion}?"
    # and the suggestion, run, works
    import shlex

    bound = "x" not in suggestion or "x=" in suggestion or "--x" in suggestion or " diff " in suggestion
    followed = CliRunner().invoke(cli, shlex.split(suggestion)[1:] + ([] if bound else ["x=3"]))
    assert followed.exit_code == 0, followed.output


@pytest.mark.parametrize("word", ["x", "x+", "2 x", "nonsense"])
def test_a_broken_expression_or_a_bare_name_gets_no_eval_hint(word):
    result = CliRunner().invoke(cli, [word])
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == f"Error: No such command '{word}'."


def test_a_misspelt_command_gets_the_command_in_a_new_process_too(tmp_path):
    """Click suggests among the commands it has loaded; the group lists all of them, loaded or not."""
    result = run_python("from autodiff_cli.cli import main; import sys; sys.argv = ['autodiff', 'gradd']; main()",
                        cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "Error: No such command 'gradd'. (Did you mean one of: 'grad', 'graph'?)"


def test_the_eval_hint_reaches_json_errors_too():
    import json

    result = CliRunner().invoke(cli, ["x^2", "--json"])
    assert result.exit_code == 2
    body = json.loads(result.output[result.output.index("{"):])
    assert body["error"]["message"] == "No such command 'x^2'; did you mean: autodiff eval 'x^2' --json?"


def test_is_name_reads_every_character_as_the_grammar_s_name_does():
    """is_name does without a regex (its classes of non-Latin-1 characters are slow to compile): over all
    of Unicode it agrees with the grammar's NAME terminal, as a first character and as a later one."""
    import re

    from autodiff_cli import notation

    grammar = re.compile(dict(grammar_tables.TABLES["terminals"])["NAME"])
    ours = notation.name_regex()
    for code in range(0x110000):
        ch = chr(code)
        first, later = grammar.fullmatch(ch) is not None, grammar.fullmatch("a" + ch) is not None
        assert notation.is_name(ch) == first == (ours.fullmatch(ch) is not None), hex(code)
        assert notation.is_name("a" + ch) == later == (ours.fullmatch("a" + ch) is not None), hex(code)
    for text in ("", "x", "x1", "x₁", "θ₀", "_", "1x", "x²", "²", "learning_rate", "x y", "x-1"):
        assert notation.is_name(text) == (grammar.fullmatch(text) is not None), text


def _tokens_at_every_position(regex, text):
    return [(m.lastgroup, m.end()) if (m := regex.match(text, i)) else None for i in range(len(text) + 1)]


def test_the_ascii_lexer_matches_the_grammar_s_terminals_on_every_short_ascii_text():
    """The lexer compiled for ASCII text (parser_driver.ASCII_FORMS) takes the same token as the grammar's
    own terminals at every position of every ASCII text of up to three characters from the characters
    that matter (letters, digits, _, the number's . e E + -, operators, brackets, space)."""
    import itertools

    from autodiff_cli import parser_driver

    driver = parser_driver.Driver(grammar_tables.TABLES, Builder())
    full, ascii_only = driver.regex(False), driver.regex(True)
    assert full.pattern != ascii_only.pattern  # the ASCII forms are in use: the grammar's patterns are their keys
    alphabet = "aZe_E09.+-*/^()|, \t\n#"
    for n in range(4):
        for chars in itertools.product(alphabet, repeat=n):
            text = "".join(chars)
            assert _tokens_at_every_position(ascii_only, text) == _tokens_at_every_position(full, text), text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=30))
def test_the_ascii_lexer_agrees_on_random_ascii_text(text):
    from autodiff_cli import parser_driver

    driver = parser_driver.Driver(grammar_tables.TABLES, Builder())
    assert _tokens_at_every_position(driver.regex(True), text) == _tokens_at_every_position(driver.regex(False), text)
