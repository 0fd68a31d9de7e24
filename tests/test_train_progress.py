"""train: the live progress line (an ETA, the figures at a steady width, never cut), and Ctrl-C with --save."""

from __future__ import annotations

import io
import json
import re

import pytest
from click.testing import CliRunner
from rich.console import Console

from autodiff_cli.cli import cli
from autodiff_cli.cli.training import progress_bar, progress_text
from autodiff_cli.training import Epoch, Trainer

MOONS = "examples/moons.csv"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_the_figures_keep_their_width_whatever_the_loss():
    # found by issue 12: loss 0.31 then loss 0.3082 then loss 1.234e-05: the line jittered as the loss fell
    for task in ("classification", "regression"):
        texts = [progress_text(Epoch(1, loss, metric, *val), task)
                 for loss in (0.31, 0.3082, 1.234e-05, 12.5, 2.0)
                 for metric in (0.091, 1.0, 0.5)
                 for val in ((), )]
        assert len({len(t) for t in texts}) == 1, texts
    assert "loss    0.3100" in progress_text(Epoch(1, 0.31, 1.0), "classification")  # 4 digits, trailing zeros kept


def shown(width: int, epoch: Epoch, task: str = "classification", total: int = 1000) -> str:
    out = Console(file=io.StringIO(), width=width, color_system=None)
    figures = progress_text(epoch, task)
    progress = progress_bar(out, total, len(figures))
    bar = progress.add_task("train", total=total, metrics="")
    progress.update(bar, advance=epoch.epoch, metrics=figures)
    out.print(progress.make_tasks_table(progress.tasks))
    return out.file.getvalue()


@pytest.mark.parametrize("width", (40, 60, 80, 200))
@pytest.mark.parametrize("val", [(), (0.5, 0.25)])
def test_the_progress_line_never_cuts_a_figure(width, val):
    epoch = Epoch(37, 1.234e-05, 0.9, *val)
    screen = shown(width, epoch)
    assert "…" not in screen
    words = " ".join(screen.split())
    assert "1.234e-05" in words and "90.0%" in words and "37/1000" in words
    if val:
        assert "0.5000" in words and "25.0%" in words


@pytest.mark.parametrize("width", (80, 200))
def test_the_progress_line_has_an_eta(width):
    screen = shown(width, Epoch(37, 0.25, 0.9))
    assert re.search(r"ETA [-0-9]+:[-0-9]{2}:[-0-9]{2}", screen), screen


def interrupting(monkeypatch, at: int, half_way: bool) -> None:
    """Ctrl-C during epoch `at` (after it has changed the weights, if half_way)."""
    right = Trainer._epoch

    def epoch(self, k):
        if k == at:
            if half_way:
                for p in self.model.parameters()[::2]:  # half a batch's update
                    p.data += 1.0
            raise KeyboardInterrupt
        return right(self, k)

    monkeypatch.setattr(Trainer, "_epoch", epoch)


@pytest.mark.parametrize("half_way", [False, True])
def test_ctrl_c_during_train_save_keeps_the_model_of_the_last_finished_epoch(monkeypatch, tmp_path, half_way):
    args = (MOONS, "-t", "label", "--hidden", "4", "--epochs", "10", "-q")
    reference = tmp_path / "three.json"
    assert run("train", *args[:-3], "--epochs", "3", "-q", "--save", str(reference)).exit_code == 0
    interrupting(monkeypatch, 4, half_way)
    saved = tmp_path / "model.json"
    result = run("train", *args, "--save", str(saved))
    assert result.exit_code == 130 and "Error: interrupted" in result.stderr
    assert "interrupted after epoch 3 of 10" in result.stderr and str(saved) in result.stderr
    model, expected = json.loads(saved.read_text()), json.loads(reference.read_text())
    assert model["training"]["interrupted"] == "after epoch 3 of 10" and model["training"]["epochs"] == 3
    del model["training"], expected["training"]
    assert model == expected  # the weights after three epochs, to the last bit, as a run of three epochs
    predicted = run("predict", str(saved), MOONS)
    assert predicted.exit_code == 0 and predicted.stdout.count("\n") == 101


def test_ctrl_c_in_the_first_epoch_saves_nothing_and_says_so(monkeypatch, tmp_path):
    interrupting(monkeypatch, 1, half_way=False)
    saved = tmp_path / "model.json"
    result = run("train", MOONS, "-t", "label", "--hidden", "4", "-q", "--save", str(saved))
    assert result.exit_code == 130 and "nothing was saved" in result.stderr and not saved.exists()


def test_ctrl_c_without_save_is_an_interruption_as_before(monkeypatch):
    interrupting(monkeypatch, 2, half_way=False)
    result = run("train", MOONS, "-t", "label", "--hidden", "4", "-q")
    assert result.exit_code == 130 and result.stderr.strip() == "Error: interrupted"
