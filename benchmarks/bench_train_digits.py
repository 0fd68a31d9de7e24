"""Benchmark the digits example from the shell: `autodiff train` and `predict`, whole commands, wall time.

Run it from the repository after `pip install -e ".[numpy,examples]"` (scikit-learn writes the data;
for the PyTorch peer also `pip install torch==2.13.0`, the CPU build; without it that row is skipped):

    python benchmarks/bench_train_digits.py                 # report on stdout, progress on stderr
    python benchmarks/bench_train_digits.py --rounds 1      # a quick run
    python benchmarks/bench_train_digits.py --json          # every figure as one JSON document

What is timed is issue 15's command, started from the shell as a user starts it (a new process:
Python's start-up, the imports, reading the CSV, 30 epochs, the report), with its output to a pipe:

    autodiff train digits.csv -t label --hidden 64 --epochs 30 --batch-size 64 --val-split 0.2

on the numpy backend (AUTODIFF_BACKEND=numpy) and on the pure-Python one (AUTODIFF_BACKEND=python),
then `autodiff predict` of the model on the 360 test rows, with the accuracies reached.  The peer is
PyTorch doing the same in a script started from the shell: the same rows, split and standardised the
same way (the validation rows are drawn by autodiff's own split), a 64-64-10 tanh MLP with PyTorch's
default initialisation, Adam with lr 0.01, batches of 64 reshuffled every epoch, 30 epochs, float64.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402  (benchmarks/machine.py, beside this script)

ARGS = ["-t", "label", "--hidden", "64", "--epochs", "30", "--batch-size", "64", "--val-split", "0.2"]

TORCH_SCRIPT = r"""
import csv, random, sys, time
import torch
from autodiff_cli.data import split
torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
if len(sys.argv) > 2:
    torch.set_num_threads(int(sys.argv[2]))
def read(path):
    rows = list(csv.reader(open(path)))[1:]
    return [[float(v) for v in r[:-1]] for r in rows], [int(r[-1][1:]) for r in rows]
X, y = read(sys.argv[1])
train, val = split(len(X), 0.2, random.Random(0))  # the rows autodiff trains and validates on
X, y = torch.tensor(X), torch.tensor(y)
mean, std = X[train].mean(0), X[train].std(0, unbiased=False)
std[std == 0] = 1.0
X = (X - mean) / std
Xt, yt, Xv, yv = X[train], y[train], X[val], y[val]
model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
t0 = time.perf_counter()
for epoch in range(30):
    order = torch.randperm(len(Xt))
    for start in range(0, len(Xt), 64):
        idx = order[start:start + 64]
        loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
seconds = time.perf_counter() - t0
with torch.no_grad():
    print((model(Xv).argmax(1) == yv).double().mean().item(), seconds)
"""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def autodiff_command() -> list[str]:
    script = Path(sys.executable).parent / "autodiff"
    return [str(script)] if script.exists() else [sys.executable, "-m", "autodiff_cli"]


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stderr}")
    return elapsed, result


def val_accuracy(summary: str) -> float:
    found = re.search(r"val_accuracy +([0-9.]+)%", summary)
    assert found, summary
    return float(found.group(1)) / 100


def test_accuracy(predictions: str) -> float:
    lines = predictions.splitlines()
    header = lines[0].split(",")
    label, prediction = header.index("label"), header.index("prediction")
    rows = [line.split(",") for line in lines[1:]]
    return sum(r[label] == r[prediction] for r in rows) / len(rows)


THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def environment(threads: int | None, **extra: str) -> dict[str, str]:
    """This process's environment, with the BLAS libraries held to `threads` threads when it is given."""
    env = dict(os.environ, **extra)
    if threads:
        env.update({name: str(threads) for name in THREADS})
    return env


def run_backend(name: str, folder: Path, rounds: int, threads: int | None) -> dict:
    env = environment(threads, AUTODIFF_BACKEND=name)
    times, accuracy, model = [], 0.0, folder / f"digits-{name}.json"
    for k in range(rounds):
        log(f"{name} backend, round {k + 1} of {rounds}")
        seconds, result = timed([*autodiff_command(), "train", str(folder / "digits.csv"), *ARGS,
                                 "--save", str(model)], env)
        times.append(seconds)
        accuracy = val_accuracy(result.stdout)
    seconds, predicted = timed([*autodiff_command(), "predict", str(model), str(folder / "digits-test.csv")], env)
    loops = run_loop(name, folder, rounds, threads)
    return {"train_seconds": times, "median": statistics.median(times), "best": min(times), "val_accuracy": accuracy,
            "predict_seconds": seconds, "test_accuracy": test_accuracy(predicted.stdout),
            "loop_seconds": loops, "loop_median": statistics.median(loops)}


LOOP_SCRIPT = r"""
import sys, time
from autodiff_cli.cli.training import read_file
from autodiff_cli.data import prepare, read_table
from autodiff_cli.training import Settings, Trainer
data = prepare(read_table(read_file(sys.argv[1]), "digits.csv"), "label")
trainer = Trainer(data, Settings(hidden=[64], epochs=30, batch_size=64, val_split=0.2, backend=sys.argv[2]))
t0 = time.perf_counter()
history = list(trainer.run())
print(history[-1].val_metric, time.perf_counter() - t0)
"""


def run_loop(name: str, folder: Path, rounds: int, threads: int | None) -> list[float]:
    """autodiff's 30 epochs alone, in process (Trainer.run, validation included), as PyTorch's loop is timed."""
    env = environment(threads, PYTHONPATH=str(ROOT))
    loops = []
    for k in range(rounds):
        log(f"{name} backend, training loop alone, round {k + 1} of {rounds}")
        _, result = timed([sys.executable, "-c", LOOP_SCRIPT, str(folder / "digits.csv"), name], env)
        loops.append(float(result.stdout.split()[1]))
    return loops


def run_torch(folder: Path, rounds: int, threads: int | None) -> dict | None:
    try:
        import torch  # noqa: F401
    except ImportError:
        log("PyTorch is not installed: its row is skipped (pip install torch==2.13.0)")
        return None
    env = environment(threads, PYTHONPATH=str(ROOT))
    times, loops, accuracy = [], [], 0.0
    for k in range(rounds):
        log(f"PyTorch, round {k + 1} of {rounds}")
        argv = [sys.executable, "-c", TORCH_SCRIPT, str(folder / "digits.csv"), *([str(threads)] if threads else [])]
        seconds, result = timed(argv, env)
        times.append(seconds)
        accuracy, loop = (float(v) for v in result.stdout.split())
        loops.append(loop)
    return {"train_seconds": times, "median": statistics.median(times), "best": min(times), "val_accuracy": accuracy,
            "loop_seconds": loops, "loop_median": statistics.median(loops)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of the numpy and PyTorch commands (default 5)")
    parser.add_argument("--python-rounds", type=int, default=1, help="runs on the python backend (default 1)")
    parser.add_argument("--threads", type=int, help="hold NumPy's BLAS and PyTorch to this many threads "
                        "(default: their own defaults, as users run them)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-digits-"))
    try:
        made = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--out", str(folder)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            raise SystemExit(made.stderr)
        report = {"machine": describe(("autodiff", "numpy", "torch", "scikit-learn")),
                  "command": "autodiff train digits.csv " + " ".join(ARGS),
                  "threads": args.threads,
                  "numpy": run_backend("numpy", folder, args.rounds, args.threads),
                  "python": run_backend("python", folder, args.python_rounds, args.threads)
                  if args.python_rounds else None,
                  "torch": run_torch(folder, args.rounds, args.threads)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"$ {report['command']}   (whole command, wall time, seconds; median of the rounds, best in brackets)")
    print("| run | train, s | val accuracy | predict, s | test accuracy |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, label in (("numpy", "autodiff, numpy backend"), ("python", "autodiff, python backend"),
                        ("torch", "PyTorch 2.13, float64, a script")):
        r = report[name]
        if r is None:
            continue
        predict = f"{r['predict_seconds']:.2f}" if "predict_seconds" in r else ""
        test = f"{r['test_accuracy']:.1%}" if "test_accuracy" in r else ""
        print(f"| {label} | {r['median']:.2f} ({r['best']:.2f}) | {r['val_accuracy']:.1%} | {predict} | {test} |")
    print("the 30 epochs alone (the training loop in process, validation included), median in seconds:")
    for name in ("numpy", "python", "torch"):
        if report[name] is not None:
            print(f"  {name}: {report[name]['loop_median']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
