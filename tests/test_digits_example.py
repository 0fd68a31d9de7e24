"""examples/digits.py: scikit-learn's handwritten digits as CSV, trained and predicted from the command line
to at least 95% validation and test accuracy (issue 15).  Needs scikit-learn (the `examples` extra) and
NumPy (the numpy backend: the issue's figure is on it); skips without them."""

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from helpers import run

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ["--hidden", "64", "--epochs", "30", "--batch-size", "64", "--val-split", "0.2"]


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    pytest.importorskip("sklearn", reason="scikit-learn is not installed: pip install 'autodiff[examples]'")
    pytest.importorskip("numpy", reason="NumPy is not installed: the digits figures are on the numpy backend")
    folder = tmp_path_factory.mktemp("digits")
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--out", str(folder)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return folder


def rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_the_example_writes_a_fixed_stratified_split_of_all_1797_images(digits, tmp_path):
    from sklearn.datasets import load_digits

    train, test = rows(digits / "digits.csv"), rows(digits / "digits-test.csv")
    assert train[0] == test[0] == [*(f"p{r}_{c}" for r in range(8) for c in range(8)), "label"]
    assert (len(train) - 1, len(test) - 1) == (1437, 360)
    # every image of scikit-learn's set once, in one file or the other, with its label
    data = load_digits()
    theirs = Counter((tuple(int(v) for v in image), f"d{label}") for image, label in zip(data.data, data.target,
                                                                                          strict=True))
    ours = Counter((tuple(int(v) for v in row[:-1]), row[-1]) for row in train[1:] + test[1:])
    assert ours == theirs
    # stratified: each digit is about a fifth in the test file (the set has 174 to 183 of each)
    counts = Counter(row[-1] for row in test[1:])
    assert sorted(counts) == [f"d{k}" for k in range(10)] and all(35 <= n <= 37 for n in counts.values())
    again = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--out", str(tmp_path)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and (tmp_path / "digits.csv").read_text() == (digits / "digits.csv").read_text()


def test_the_issue_s_command_reaches_95_percent_on_validation_and_test_rows(digits):
    model = digits / "digits.json"
    result = run("train", digits / "digits.csv", "-t", "label", *COMMAND, "--backend", "numpy", "--json",
                 "--save", model)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["model"] == [64, 64, 10] and doc["training"]["rows"] == 1150
    assert doc["history"][-1]["val_accuracy"] >= 0.95
    predicted = run("predict", model, digits / "digits-test.csv")
    assert predicted.exit_code == 0, predicted.stderr
    table = list(csv.DictReader(predicted.stdout.splitlines()))
    right = sum(row["prediction"] == row["label"] for row in table)
    assert len(table) == 360 and right / len(table) >= 0.95
    (digits / "predictions.csv").write_text(predicted.stdout)
    score = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--score",
                            str(digits / "predictions.csv")], capture_output=True, text=True, timeout=60)
    assert score.stdout == f"test accuracy {right / 360:.1%} ({right} of 360)\n"


def test_the_commands_of_docs_training_md_print_what_the_page_shows(digits, monkeypatch):
    """The page's digits section: its sh block run line by line, its text blocks the output (numpy backend)."""
    from markdown_examples import blocks

    page = ROOT / "docs" / "training.md"
    text = page.read_text(encoding="utf-8")
    start = text.index("## Handwritten digits")
    end = text.index("\n## ", start)
    inside = [(line, block) for line, block in blocks(page, "sh") + blocks(page, "text")
              if start < len("".join(text.splitlines(keepends=True)[:line])) < end]
    shell = [block for _, block in inside if block.lstrip().startswith("pip install")]
    shown = [block for _, block in sorted(inside) if not block.lstrip().startswith("pip install")]
    assert len(shell) == 1 and len(shown) == 2
    monkeypatch.chdir(digits)
    printed = []
    for line in shell[0].splitlines():
        command = line.partition("  #")[0].strip()
        if command.startswith("pip "):
            continue
        if command.startswith("python examples/"):
            argv = command.split()[1:]
            result = subprocess.run([sys.executable, str(ROOT / argv[0]), *argv[1:]], capture_output=True, text=True,
                                    timeout=120, cwd=digits)
            assert result.returncode == 0, result.stderr
            printed.append(result.stdout)
            continue
        command, _, target = command.partition(" > ")
        result = run(*command.split()[1:], env={"AUTODIFF_BACKEND": "numpy"})
        assert result.exit_code == 0, result.stderr
        if target:
            (digits / target.strip()).write_text(result.stdout)
        else:
            printed.append(result.stdout + result.stderr)
    # printed: the example's note, train's report, the score
    assert printed[0] == "wrote digits.csv (1437 rows) and digits-test.csv (360 rows)\n"
    assert printed[1] == shown[0]
    assert printed[2] == shown[1]
