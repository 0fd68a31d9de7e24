"""The code stays ruff-clean: the test command checks it, so CI does too."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_check_passes():
    pytest.importorskip("ruff")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_never_calls_eval():
    """exec runs only code generated from the op table (engine, dual, compile); eval runs nothing."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "autodiff_cli"
    calls = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "eval":
                calls.append(f"{path.name}:{node.lineno}")
    assert calls == []
