"""What a user installs: a pure core, and a wheel that carries its grammar."""

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

BLOCK_IMPORTS = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"click", "lark", "rich"}:
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, Block())
    """
)


def run_python(code, cwd, extra_path=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(extra_path or ROOT), env.get("PYTHONPATH", "")] if p)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_engine_needs_only_the_standard_library(tmp_path):
    code = BLOCK_IMPORTS + textwrap.dedent(
        """
        import autodiff_cli
        from autodiff_cli.engine import Value
        x, w, b = Value(2.0), Value(-3.0), Value(1.0)
        y = (w * x + b).tanh()
        y.backward()
        assert autodiff_cli.Value is Value
        print(x.grad)
        """
    )
    result = run_python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) != 0.0


def test_importing_the_package_loads_no_click_lark_or_rich(tmp_path):
    code = "import sys, autodiff_cli.engine; print(sorted(m for m in ('click', 'lark', 'rich') if m in sys.modules))"
    result = run_python(code, cwd=tmp_path)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    builder = pytest.importorskip("hatchling.builders.wheel")
    out = tmp_path_factory.mktemp("dist")
    path = next(builder.WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"]))
    return Path(path)


def test_the_wheel_contains_the_grammar(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "autodiff_cli/grammars/expression.lark" in names
    grammar = zipfile.ZipFile(wheel).read("autodiff_cli/grammars/expression.lark").decode()
    assert grammar == (ROOT / "grammars" / "expression.lark").read_text()
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "autodiff = autodiff_cli.cli:main" in entry_points


def test_the_unpacked_wheel_finds_its_own_grammar_from_elsewhere(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = textwrap.dedent(
        """
        from autodiff_cli.parser import grammar_path, parse
        print(grammar_path())
        print(parse("sqrt(x^2+y^2)").evaluate({"x": 3, "y": 4}))
        """
    )
    result = run_python(code, cwd=elsewhere, extra_path=site)
    assert result.returncode == 0, result.stderr
    path, value = result.stdout.split()
    assert Path(path).resolve() == (site / "autodiff_cli" / "grammars" / "expression.lark").resolve()
    assert value == "5.0"


def test_the_source_tree_finds_the_top_level_grammar(tmp_path):
    result = run_python("from autodiff_cli.parser import grammar_path; print(grammar_path())", cwd=tmp_path)
    assert Path(result.stdout.strip()).resolve() == (ROOT / "grammars" / "expression.lark").resolve()


def test_python_dash_m_runs_the_command(tmp_path):
    code = (
        "import runpy, sys\n"
        "sys.argv = ['autodiff', 'eval', '2^10']\n"
        "runpy.run_module('autodiff_cli', run_name='__main__')"
    )
    result = run_python(code, cwd=tmp_path)
    assert result.stdout == "1024.0\n", result.stderr
