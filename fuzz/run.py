"""Run the fuzz targets for a bounded time, minimise their corpora, and print what happened.

    python fuzz/run.py --minutes 15                 # the three targets, 5 minutes each
    python fuzz/run.py --minutes 30 --target parser
    python fuzz/run.py --replay                     # just replay the corpora (no atheris needed)

One target runs at a time (each in its own process, under `nice`).  New inputs
go to a scratch folder; afterwards libFuzzer's -merge=1 keeps, from the corpus
and the new inputs, the smallest set with the same coverage, and that set
replaces fuzz/corpus/<target>/.  Crashes, hangs (over --timeout seconds) and
wrong answers are written to fuzz/crashes/<target>/ (not part of the corpus).
The summary gives, per target: executions, coverage (libFuzzer's cov and ft),
corpus files and bytes before and after, time, and crashes found.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = ("parser", "batch", "tensor")


def corpus_size(folder: str) -> tuple[int, int]:
    """Files and bytes in a folder."""
    names = os.listdir(folder) if os.path.isdir(folder) else []
    return len(names), sum(os.path.getsize(os.path.join(folder, n)) for n in names)


def _last(pattern: str, text: str) -> str:
    found = re.findall(pattern, text)
    return found[-1] if found else "?"


def fuzz(target: str, seconds: int, timeout: int, max_len: int, jobs_nice: int) -> dict:
    """Fuzz one target for `seconds`, then merge its corpus; return the figures."""
    corpus = os.path.join(HERE, "corpus", target)
    crashes = os.path.join(HERE, "crashes", target)
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    script = os.path.join(HERE, f"fuzz_{target}.py")
    before = corpus_size(corpus)
    crashes_before = set(os.listdir(crashes))
    nice = ["nice", "-n", str(jobs_nice)] if shutil.which("nice") else []
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as scratch:
        found = os.path.join(scratch, "found")
        os.makedirs(found)
        command = [
            *nice, sys.executable, script, found, corpus,
            f"-max_total_time={seconds}", f"-timeout={timeout}", f"-max_len={max_len}", "-rss_limit_mb=2048",
            f"-artifact_prefix={crashes}{os.sep}", "-print_final_stats=1",
        ]
        dictionary = os.path.join(HERE, f"{target}.dict")
        if os.path.exists(dictionary):
            command.append(f"-dict={dictionary}")
        print("$", " ".join(command), flush=True)
        start = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, errors="replace")
        elapsed = time.monotonic() - start
        log = result.stderr + result.stdout
        with open(os.path.join(crashes, "last-run.log"), "w") as f:
            f.write(log)
        merged = os.path.join(scratch, "merged")
        os.makedirs(merged)
        merge = [*nice, sys.executable, script, merged, corpus, found, "-merge=1",
                 f"-timeout={timeout}", f"-max_len={max_len}", "-rss_limit_mb=2048",
                 f"-artifact_prefix={crashes}{os.sep}"]
        merge_result = subprocess.run(merge, capture_output=True, text=True, errors="replace")
        if merge_result.returncode == 0 and os.listdir(merged):
            shutil.rmtree(corpus)
            shutil.copytree(merged, corpus)
        else:
            print(f"merge failed (exit {merge_result.returncode}); the corpus is left as it was", flush=True)
            print(merge_result.stderr[-2000:], flush=True)
    new_crashes = sorted(set(os.listdir(crashes)) - crashes_before - {"last-run.log"})
    return {
        "target": target,
        "exit": result.returncode,
        "executions": _last(r"stat::number_of_executed_units:\s*(\d+)", log),
        "exec/s": _last(r"stat::average_exec_per_sec:\s*(\d+)", log),
        "slowest": _last(r"stat::slowest_unit_time_sec:\s*(\d+)", log),
        "cov": _last(r"\bcov: (\d+)", log),
        "ft": _last(r"\bft: (\d+)", log),
        "seconds": round(elapsed),
        "corpus before": before,
        "corpus after": corpus_size(corpus),
        "crashes": [os.path.join(crashes, c) for c in new_crashes],
        "log": os.path.join(crashes, "last-run.log"),
    }


def replay() -> int:
    """Every corpus file through its check, without atheris (as the test suite does)."""
    sys.path.insert(0, HERE)
    from checks import check_batch, check_parser
    from checks_tensor import check_tensor

    failures = 0
    for target, check in (("parser", check_parser), ("batch", check_batch), ("tensor", check_tensor)):
        folder = os.path.join(HERE, "corpus", target)
        start = time.monotonic()
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as f:
                data = f.read()
            try:
                check(data)
            except Exception as error:  # report every failing file, not just the first
                failures += 1
                print(f"FAIL {target}/{name}: {type(error).__name__}: {error}")
        files, size = corpus_size(folder)
        print(f"{target}: {files} files, {size:,} bytes, replayed in {time.monotonic() - start:.2f} s")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="total fuzzing time, shared by the targets")
    parser.add_argument("--target", choices=[*TARGETS, "all", "both"], default="all",
                        help="one target, or all of them ('both', its old name, means all too)")
    parser.add_argument("--timeout", type=int, default=5, help="seconds one input may take before it is a hang")
    parser.add_argument("--max-len", type=int, default=4096, help="longest input libFuzzer makes, in bytes")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the fuzzing process")
    parser.add_argument("--replay", action="store_true", help="only replay the corpora through the checks")
    args = parser.parse_args()
    if args.replay:
        return replay()
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: pip install -e '.[fuzz]' (or run with --replay)", file=sys.stderr)
        return 2
    targets = TARGETS if args.target in ("all", "both") else (args.target,)
    seconds = max(1, round(args.minutes * 60 / len(targets)))
    results = [fuzz(t, seconds, args.timeout, args.max_len, args.nice) for t in targets]
    print()
    print("target  executions  exec/s  slowest  cov   ft     time   corpus before -> after (files, bytes)  crashes")
    for r in results:
        (fb, bb), (fa, ba) = r["corpus before"], r["corpus after"]
        print(f"{r['target']:<7} {r['executions']:>10}  {r['exec/s']:>6}  {r['slowest']:>6}s  "
              f"{r['cov']:<5} {r['ft']:<6} {r['seconds']:>5}s  {fb} ({bb:,} B) -> {fa} ({ba:,} B)  {len(r['crashes'])}")
    crashed = [c for r in results for c in r["crashes"]]
    for r in results:
        if r["exit"] not in (0,) and not r["crashes"]:
            print(f"{r['target']}: libFuzzer exited with {r['exit']}; see {r['log']}")
    for c in crashed:
        print(f"crash: {c}  (replay: python {os.path.join(HERE, 'fuzz_' + c.split(os.sep)[-2] + '.py')} {c})")
    return 1 if crashed or any(r["exit"] != 0 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
