"""The examples run as a user runs them (python examples/NAME.py) and do what they claim."""

import json
import math
import subprocess
import sys
from pathlib import Path

from helpers import run

from autodiff_cli.tensor import available

ROOT = Path(__file__).resolve().parent.parent


def run_example(name, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_mini_mlp_learns_its_two_targets():
    result = run_example("mini_mlp.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    first = float(lines[0].split()[-1])
    last = float(lines[-2].split()[-1])
    assert last < 0.01 * first
    assert "targets: [1.0, -1.0]" in lines[-1]


def test_moons_reaches_100_percent_training_accuracy_in_the_full_demo():
    # the whole demo: 100 points, 2-16-16-1, hinge loss, 100 steps of SGD (about 6 s)
    result = run_example("moons.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "training accuracy 100%"
    assert lines[0].startswith("step   0  loss")
    picture = [line for line in lines if set(line) <= set(".:ox")]
    assert len(picture) == 18 and all(len(line) == 48 for line in picture)
    assert sum(line.count("o") + line.count("x") for line in picture) > 50  # the points are drawn


def test_moons_writes_its_data_for_the_train_command(tmp_path):
    result = run_example("moons.py", "--csv", str(tmp_path / "moons.csv"))
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "moons.csv").read_text().splitlines()
    assert lines[0] == "x1,x2,label" and len(lines) == 101
    labels = [line.split(",")[2] for line in lines[1:]]
    assert labels.count("top") == 50 and labels.count("bottom") == 50


def test_the_moons_generator_draws_two_interleaving_half_circles():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from moons import make_moons
    finally:
        sys.path.pop(0)
    X, y = make_moons(100, noise=0.0, seed=0)
    for (a, b), label in zip(X, y, strict=True):
        if label < 0:  # top moon: unit circle around (0, 0), upper half
            assert abs(a * a + b * b - 1.0) < 1e-12 and b >= -1e-12
        else:  # bottom moon: unit circle around (1, 0.5), lower half
            assert abs((a - 1) ** 2 + (b - 0.5) ** 2 - 1.0) < 1e-12 and b <= 0.5 + 1e-12


def test_the_committed_moons_data_is_what_the_generator_writes(tmp_path):
    run_example("moons.py", "--csv", str(tmp_path / "moons.csv"))
    assert (tmp_path / "moons.csv").read_text() == (ROOT / "examples" / "moons.csv").read_text()


def test_the_committed_model_is_what_the_readme_command_trains(tmp_path, monkeypatch):
    """examples/moons-model.json comes from the README's train command with --save: training is repeatable,
    to the last bit on the backend that wrote the file (numpy), to a few ulps on the other one."""
    monkeypatch.chdir(ROOT)
    committed = (ROOT / "examples" / "moons-model.json").read_text()
    args = ["train", "examples/moons.csv", "--target", "label", "--epochs", "40", "--lr", "0.05", "--seed", "0"]
    for backend in available():
        result = run(*args, "--quiet", "--backend", backend, "--save", str(tmp_path / "m.json"))
        assert result.exit_code == 0, result.stderr
        if backend == json.loads(committed)["training"]["backend"]:
            assert (tmp_path / "m.json").read_text() == committed
        else:
            ours, theirs = json.loads((tmp_path / "m.json").read_text()), json.loads(committed)
            for layer, expected in zip(ours["layers"], theirs["layers"], strict=True):
                for key in ("weights", "biases"):
                    assert close(layer[key], expected[key]), key


def close(a, b, rel=1e-9):
    """Nested lists of floats equal to a relative 1e-9 (the backends add in different orders)."""
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, rel) for x, y in zip(a, b, strict=True))
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
