"""Benchmark one-shot start-up: `autodiff` as a shell script calls it, next to Python itself and qalc.

Run it from the repository, in the venv where autodiff is installed:

    python benchmarks/bench_startup.py               # readable report (progress goes to stderr)
    python benchmarks/bench_startup.py --runs 40     # more rounds (default 30)
    python benchmarks/bench_startup.py --json        # every figure as one JSON document
    python benchmarks/bench_startup.py --baseline /other/venv/bin/autodiff   # an older install, same rounds

Each round runs every command once, in a new order each round (the order rotates), so
that a busy moment of the machine falls on all of them alike; the report gives the
median wall time and the median CPU time (user + system, of the child process, from
os.wait4) over the rounds, and each command's ratio to qalc and to `python -c "import click"`.

The commands: bare `python -c pass`; `python -c "import click"` (the floor for a Click
program); `autodiff --version`; `autodiff eval "x+1" x=1`; `autodiff grad "tanh(w*x+b)"
--x 2 --w -3 --b 1`; `autodiff diff "x^3*sin(x)"`; and, when qalc (libqalculate's command
line, Debian's `qalc` package) is on PATH, qalc computing the same two derivatives
symbolically (tanh's with y and z for w and b: qalc reads w as watt and b as barn).  When
qalc is not installed the report says so and leaves its ratios out.

autodiff runs as the installed console script (the `autodiff` beside this Python), as a
shell user runs it.  Before timing, the package's bytecode is compiled (compileall), as
pip does when it installs a wheel: an editable install under PYTHONDONTWRITEBYTECODE=1
would otherwise compile every module from source on every run, which no installed copy
does (--no-compile leaves that to the environment).  Nothing runs on import.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import describe  # benchmarks/machine.py, beside this script


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def commands(autodiff: str, qalc: str | None, baseline: str | None = None) -> dict[str, list[str]]:
    """Name -> argv, in the order of the report."""
    py = sys.executable
    cases = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import click'": [py, "-c", "import click"],
        "autodiff --version": [autodiff, "--version"],
        "autodiff eval": [autodiff, "eval", "x+1", "x=1"],
        "autodiff grad": [autodiff, "grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1"],
        "autodiff diff": [autodiff, "diff", "x^3*sin(x)"],
    }
    if baseline:  # another install (an older version, say), timed in the same rounds
        cases["baseline eval"] = [baseline, "eval", "x+1", "x=1"]
        cases["baseline grad"] = [baseline, "grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1"]
        cases["baseline diff"] = [baseline, "diff", "x^3*sin(x)"]
    if qalc:
        # -t: terse, the answer only; -defaults: no user configuration read or saved.  qalc reads w as
        # watt and b as barn (and then answers 0), so its variables y and z stand in for them.
        cases["qalc diff(tanh(y*x+z), x)"] = [qalc, "-defaults", "-t", "diff(tanh(y*x+z), x)"]
        cases["qalc diff(x^3*sin(x), x)"] = [qalc, "-defaults", "-t", "diff(x^3*sin(x), x)"]
    return cases


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one process, from fork to exit."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {err.decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(cases: dict[str, list[str]], runs: int, warmup: int = 2) -> dict[str, dict[str, list[float]]]:
    """Every case once per round, the order rotating from round to round."""
    names = list(cases)
    for _ in range(warmup):  # page cache, .pyc files, lark's and qalc's own caches
        for name in names:
            run_once(cases[name])
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in names}
    for r in range(runs):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            wall, cpu = run_once(cases[name])
            times[name]["wall"].append(wall)
            times[name]["cpu"].append(cpu)
        if (r + 1) % 10 == 0:
            log(f"{r + 1}/{runs} rounds")
    return times


def summary(times: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    out = {}
    for name, t in times.items():
        out[name] = {
            "wall_median_ms": 1000 * statistics.median(t["wall"]),
            "wall_min_ms": 1000 * min(t["wall"]),
            "cpu_median_ms": 1000 * statistics.median(t["cpu"]),
        }
    return out


def ratios(stats: dict[str, dict[str, float]], qalc: bool) -> dict[str, dict[str, float]]:
    """Each autodiff command's median wall time over its peers' (and the same for CPU)."""
    peers = {"import click": "python -c 'import click'"}
    if qalc:
        peers["qalc"] = "qalc diff(tanh(y*x+z), x)"
    out: dict[str, dict[str, float]] = {}
    for name in stats:
        if not name.startswith(("autodiff", "baseline")):
            continue
        out[name] = {}
        for label, peer in peers.items():
            for kind in ("wall", "cpu"):
                out[name][f"{kind} / {label}"] = stats[name][f"{kind}_median_ms"] / stats[peer][f"{kind}_median_ms"]
        if qalc and name.endswith(" diff"):  # diff against qalc on the same derivative
            peer = "qalc diff(x^3*sin(x), x)"
            for kind in ("wall", "cpu"):
                out[name][f"{kind} / qalc same"] = stats[name][f"{kind}_median_ms"] / stats[peer][f"{kind}_median_ms"]
    return out


def report(stats: dict[str, dict[str, float]], rat: dict[str, dict[str, float]], runs: int, qalc: str | None) -> str:
    lines = [f"{runs} rounds, every command once a round, in turn; medians (ms)", ""]
    lines.append(f"| {'command':<28} | wall | wall min | CPU |")
    lines.append(f"| {'-' * 28} | ---: | ---: | ---: |")
    for name, s in stats.items():
        lines.append(f"| {name:<28} | {s['wall_median_ms']:.1f} | {s['wall_min_ms']:.1f} | {s['cpu_median_ms']:.1f} |")
    lines.append("")
    if not qalc:
        lines.append("qalc is not installed (apt-get install qalc): no ratios to qalc in this run.")
        lines.append("")
    keys = sorted({k for r in rat.values() for k in r}, key=lambda k: (k.split(" / ")[1], k))
    lines.append("| ratio | " + " | ".join(keys) + " |")
    lines.append("| --- |" + " ---: |" * len(keys))
    for name, r in rat.items():
        lines.append(f"| {name} | " + " | ".join(f"{r[k]:.2f}" if k in r else "" for k in keys) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="rounds (every command once a round)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--cli", help="the autodiff program (default: the one beside this Python, else on PATH)")
    parser.add_argument("--no-qalc", action="store_true", help="leave qalc out even when it is installed")
    parser.add_argument("--baseline", metavar="CLI",
                        help="another autodiff program (an install of an older version) to time in the same rounds")
    parser.add_argument("--no-compile", action="store_true", help="do not compile the package's bytecode first")
    options = parser.parse_args()
    spec = importlib.util.find_spec("autodiff_cli")
    if not options.no_compile and spec and spec.origin:
        package = Path(spec.origin).parent
        compileall.compile_dir(package, quiet=1)
        log(f"bytecode compiled for {package}")
    beside = Path(sys.executable).with_name("autodiff")
    autodiff = options.cli or (str(beside) if beside.exists() else shutil.which("autodiff"))
    if autodiff is None:
        raise SystemExit("no autodiff program: pip install -e . first, or give --cli")
    qalc = None if options.no_qalc else shutil.which("qalc")
    cases = commands(autodiff, qalc, options.baseline)
    log(f"{len(cases)} commands, {options.runs} rounds; qalc: {qalc or 'not installed'}")
    times = measure(cases, options.runs)
    stats = summary(times)
    rat = ratios(stats, qalc is not None)
    if options.json:
        doc = {"machine": describe(), "autodiff": autodiff, "baseline": options.baseline, "qalc": qalc,
               "runs": options.runs,
               "median_ms": stats, "ratios": rat, "raw_s": times}
        print(json.dumps(doc, indent=2))
    else:
        print(report(stats, rat, options.runs, qalc))


if __name__ == "__main__":
    main()
