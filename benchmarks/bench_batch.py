"""Benchmark batch mode: the compiled gradient against its peers, all in one run.

Run it from the repository after `pip install ".[test,bench]"` (SymPy comes with the test extra):

    python benchmarks/bench_batch.py               # the report (progress on stderr); about three minutes
    python benchmarks/bench_batch.py --json        # every figure as one JSON document
    python benchmarks/bench_batch.py --core-rows 20000 --rows 50000 --memory-rows 200000   # a quick run

What it measures, for tanh(w*x+b) and for
sin(x)*exp(-y^2/2) + log(1+x^2*y^2) + sqrt(z^2+1)*tanh(x*y*z):

1. the compute core: rows already parsed into floats, value and gradient as floats, per row
   - the compiled function (autodiff_cli.compile)
   - building the Value graph and calling backward() for every row
   - Expression.gradient on the parsed graph (forward and backward on the same graph)
   - the same arithmetic written out by hand in Python, with the formulas the compiler writes
     (tanh' = sech^2, sech as 1/cosh, 2 exp(-|u|) where cosh overflows), and with the textbook
     1 - tanh^2
   - SymPy's lambdify of [value, *gradient] with cse=True (math module)
2. end to end, JSON Lines in and out, one process: batch.run on a file against a hand-written
   loop of json.loads, the hand-written arithmetic and json.dumps per row; the `autodiff grad
   --input` command as users run it (process start included); and two processes sharing the
   file in chunks (a prototype of --jobs, order kept), to see whether it pays here
3. memory: `autodiff grad --input -` reading rows generated on the fly through a pipe, its
   resident memory (VmRSS) sampled while it runs

With --against OLD_BATCH_PY it measures only batch.run against an older batch.py (say
`git show v1:autodiff_cli/batch.py > /tmp/old_batch.py`) on the same inputs, in one process:
JSON Lines of floats and of integers, CSV, and CSV to CSV with --keep; the two take turns,
each timed in CPU seconds, best of --ab-repeat, and their outputs must be identical.  On a
shared machine this is the figure to trust: one wall-clock run each moves by 2x with the load.

Nothing runs on import.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from machine import describe  # benchmarks/machine.py, beside this script

from autodiff_cli import batch, parse
from autodiff_cli.compile import compile_expression
from autodiff_cli.engine import Value

SEED = 20261126
SMALL = "tanh(w*x+b)"
BIG = "sin(x)*exp(-y^2/2) + log(1+x^2*y^2) + sqrt(z^2+1)*tanh(x*y*z)"

sin, cos, cosh, exp, log, sqrt, tanh = math.sin, math.cos, math.cosh, math.exp, math.log, math.sqrt, math.tanh


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the peers ------------------------------------------------------------------------


def hand_small(w: float, x: float, b: float) -> tuple:
    """tanh(w*x+b) by hand, with the op table's derivative sech^2, sech as the compiler computes it."""
    u = w * x + b
    try:
        s = 1.0 / cosh(u)
    except OverflowError:
        s = 2.0 * exp(-abs(u))
    d = s * s
    return tanh(u), d * x, d * w, d


def textbook_small(w: float, x: float, b: float) -> tuple:
    """tanh(w*x+b) by hand, with 1 - tanh^2 (cheaper; cancels to 0 for |u| > 19)."""
    t = tanh(w * x + b)
    d = 1.0 - t * t
    return t, d * x, d * w, d


def hand_big(x: float, y: float, z: float) -> tuple:
    sx = sin(x)
    e = exp(-y * y / 2)
    q = 1.0 + x * x * y * y
    s = sqrt(z * z + 1.0)
    u = x * y * z
    th = tanh(u)
    try:
        h = 1.0 / cosh(u)
    except OverflowError:
        h = 2.0 * exp(-abs(u))
    d = s * (h * h)
    return (
        sx * e + log(q) + s * th,
        cos(x) * e + 2.0 * x * y * y / q + d * y * z,
        -y * sx * e + 2.0 * x * x * y / q + d * x * z,
        z / s * th + d * x * y,
    )


def textbook_big(x: float, y: float, z: float) -> tuple:
    sx = sin(x)
    e = exp(-y * y / 2)
    q = 1.0 + x * x * y * y
    s = sqrt(z * z + 1.0)
    u = x * y * z
    th = tanh(u)
    d = s * (1.0 - th * th)
    return (
        sx * e + log(q) + s * th,
        cos(x) * e + 2.0 * x * y * y / q + d * y * z,
        -y * sx * e + 2.0 * x * x * y / q + d * x * z,
        z / s * th + d * x * y,
    )


def graph_small(w: float, x: float, b: float) -> tuple:
    """A Value graph built for the row, then backward()."""
    vw, vx, vb = Value(w), Value(x), Value(b)
    out = (vw * vx + vb).tanh()
    out.backward()
    return out.data, vw.grad, vx.grad, vb.grad


def graph_big(x: float, y: float, z: float) -> tuple:
    vx, vy, vz = Value(x), Value(y), Value(z)
    out = vx.sin() * (-(vy**2) / 2).exp() + (1 + vx**2 * vy**2).log() + (vz**2 + 1).sqrt() * (vx * vy * vz).tanh()
    out.backward()
    return out.data, vx.grad, vy.grad, vz.grad


def sympy_function(text: str, names: list[str]) -> Callable | None:
    try:
        import sympy
    except ImportError:
        return None
    symbols = sympy.symbols(names)
    env = dict(zip(names, symbols, strict=True))
    expr = sympy.sympify(text.replace("^", "**"), locals=env)
    outputs = [expr, *[sympy.diff(expr, s) for s in symbols]]
    return sympy.lambdify(symbols, outputs, modules="math", cse=True)


def parsed_gradient(text: str) -> Callable:
    expr = parse(text)
    names = list(expr.variables)

    def gradient(*row: float) -> tuple:
        value, grads = expr.gradient(dict(zip(names, row, strict=True)))
        return (value, *grads.values())

    return gradient


CASES = {
    SMALL: {"names": ["w", "x", "b"], "hand": hand_small, "textbook": textbook_small, "graph": graph_small},
    BIG: {"names": ["x", "y", "z"], "hand": hand_big, "textbook": textbook_big, "graph": graph_big},
}


def make_rows(n: int, k: int, rng: random.Random) -> list[tuple[float, ...]]:
    return [tuple(rng.uniform(-2.0, 2.0) for _ in range(k)) for _ in range(n)]


def time_loop(f: Callable, rows: list[tuple[float, ...]]) -> float:
    """Seconds for one pass: f(*row) for every row, the result kept as a caller would keep it."""
    gc.collect()
    start = time.perf_counter()
    for row in rows:
        r = f(*row)
    del r
    return time.perf_counter() - start


def check_agreement(peers: dict[str, Callable], rows: list[tuple[float, ...]]) -> dict[str, float]:
    """The largest relative difference of each peer from the compiled function, on a few rows."""
    worst: dict[str, float] = {}
    for name, f in peers.items():
        d = 0.0
        for row in rows[:200]:
            a, b = peers["compiled"](*row), f(*row)
            d = max(d, max(abs(p - q) / max(abs(p), 1e-300) for p, q in zip(a, b, strict=True)))
        worst[name] = d
    return worst


def core(text: str, n: int, repeat: int) -> dict[str, Any]:
    case = CASES[text]
    rows = make_rows(n, 3, random.Random(SEED))
    peers: dict[str, Callable] = {
        "compiled": compile_expression(parse(text)).gradient,
        "hand": case["hand"],
        "textbook": case["textbook"],
        "graph_per_row": case["graph"],
        "parsed_gradient": parsed_gradient(text),
    }
    sym = sympy_function(text, case["names"])
    if sym is not None:
        peers["sympy_cse"] = sym
    best: dict[str, float] = {}
    for r in range(repeat):
        order = list(peers)
        order = order[r % len(order):] + order[: r % len(order)]  # take turns
        for name in order:
            rows_here = rows if name not in ("graph_per_row", "parsed_gradient") else rows[: max(1, n // 5)]
            t = time_loop(peers[name], rows_here) / len(rows_here)
            best[name] = min(best.get(name, math.inf), t)
    # accuracy where tanh saturates: d/db of tanh(w*x+b) at w=1, x=20, b=0 is sech(20)^2 = 1.6993e-17
    saturated = {k: f(1.0, 20.0, 0.0)[3] for k, f in peers.items()} if text == SMALL else None
    return {
        "rows": n,
        "d_db_at_u_20": saturated,
        "seconds_per_row": best,
        "rows_per_second": {k: 1.0 / v for k, v in best.items()},
        "max_relative_difference_from_compiled": check_agreement(peers, rows),
    }


# -- end to end -------------------------------------------------------------------------


def write_input(path: Path, names: list[str], n: int) -> None:
    rng = random.Random(SEED)
    with path.open("w") as f:
        chunk = []
        for _ in range(n):
            chunk.append(json.dumps({k: rng.uniform(-2.0, 2.0) for k in names}) + "\n")
            if len(chunk) == 10_000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))


def e2e_autodiff(text: str, path: Path) -> float:
    expr = parse(text)
    start = time.perf_counter()
    with path.open("rb") as source, open(os.devnull, "w") as out:
        summary = batch.run(expr, source, out.write)
    assert summary.failed == 0
    return time.perf_counter() - start


def e2e_hand(text: str, path: Path) -> float:
    names, hand = CASES[text]["names"], CASES[text]["hand"]
    a, b, c = names
    loads, dumps = json.loads, json.dumps
    start = time.perf_counter()
    with path.open() as source, open(os.devnull, "w") as out:
        for line in source:
            row = loads(line)
            v, da, db, dc = hand(row[a], row[b], row[c])
            out.write(dumps({"value": v, "gradient": {a: da, b: db, c: dc}}) + "\n")
    return time.perf_counter() - start


def e2e_cli(text: str, path: Path) -> float:
    exe = Path(sys.executable).with_name("autodiff")
    start = time.perf_counter()
    with open(os.devnull, "w") as out:
        subprocess.run([str(exe), "grad", text, "--input", str(path)], stdout=out, check=True)
    return time.perf_counter() - start


_WORKER: dict[str, Any] = {}


def _init_worker(text: str) -> None:
    _WORKER["expr"] = parse(text)


def _work(chunk: bytes) -> str:
    out: list[str] = []
    batch.run(_WORKER["expr"], io.BytesIO(chunk), out.append)
    return "".join(out)


def _chunks(path: Path, lines: int = 20_000) -> Any:
    with path.open("rb") as f:
        while True:
            block = f.readlines(lines * 60)
            if not block:
                return
            yield b"".join(block)


def e2e_two_processes(text: str, path: Path) -> float:
    """The prototype of --jobs 2: chunks of lines to a pool of two, results written in order."""
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(2, _init_worker, (text,)) as pool, open(os.devnull, "w") as out:
        for piece in pool.imap(_work, _chunks(path)):
            out.write(piece)
    return time.perf_counter() - start


def end_to_end(text: str, n: int, folder: Path) -> dict[str, Any]:
    path = folder / f"rows-{len(text)}.jsonl"
    write_input(path, CASES[text]["names"], n)
    peers = {"autodiff_run": e2e_autodiff, "hand_loop": e2e_hand, "autodiff_command": e2e_cli,
             "two_processes": e2e_two_processes}
    seconds = {}
    for name, f in peers.items():
        say(f"  end to end, {name}")
        seconds[name] = f(text, path)
    path.unlink()
    return {"rows": n, "seconds": seconds, "rows_per_second": {k: n / v for k, v in seconds.items()}}


# -- memory -----------------------------------------------------------------------------

GENERATOR = r"""
import sys
n = int(sys.argv[1])
out = sys.stdout
step = 1.0 / n
for start in range(0, n, 10000):
    out.write("".join('{"x": %r}\n' % (k * step) for k in range(start, min(n, start + 10000))))
"""


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def memory(n: int) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("autodiff")
    gen = subprocess.Popen([sys.executable, "-c", GENERATOR, str(n)], stdout=subprocess.PIPE)
    start = time.perf_counter()
    with open(os.devnull, "w") as out:
        proc = subprocess.Popen([str(exe), "grad", SMALL, "--w", "-3", "--b", "1", "--input", "-"],
                                stdin=gen.stdout, stdout=out)
        assert gen.stdout is not None
        gen.stdout.close()
        samples: list[tuple[float, int]] = []

        def sample() -> None:
            while proc.poll() is None:
                kib = rss_kib(proc.pid)
                if kib:
                    samples.append((time.perf_counter() - start, kib))
                time.sleep(0.25)

        thread = threading.Thread(target=sample)
        thread.start()
        proc.wait()
        thread.join()
    gen.wait()
    seconds = time.perf_counter() - start
    kib = [k for _, k in samples]
    quarters = {f"{q}%": kib[min(len(kib) - 1, len(kib) * q // 100)] / 1024 for q in (25, 50, 75)} if kib else {}
    return {"rows": n, "seconds": seconds, "exit": proc.returncode, "samples": len(kib),
            "rss_mib_at": quarters, "rss_mib_peak": max(kib) / 1024 if kib else None,
            "rss_mib_last": kib[-1] / 1024 if kib else None}


# -- against an older batch.py ------------------------------------------------------------


def load_older(path: str) -> Any:
    """An older autodiff_cli/batch.py, loaded beside the current one (its relative imports resolve in the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("autodiff_cli._older_batch", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def ab_inputs(n: int) -> dict[str, tuple[str, bytes, dict[str, Any]]]:
    rng = random.Random(SEED)
    floats = "".join(json.dumps({k: rng.uniform(-2.0, 2.0) for k in ("w", "x", "b")}) + "\n" for _ in range(n))
    ints = "".join(json.dumps({"x": k % 100 - 50}) + "\n" for k in range(n))
    table = "w,x,b\n" + "".join(f"{rng.uniform(-2, 2)!r},{rng.uniform(-2, 2)!r},{rng.uniform(-2, 2)!r}\n"
                                for _ in range(n))
    return {
        "JSON Lines, floats": (SMALL, floats.encode(), {}),
        "JSON Lines, integers": ("x^2*sin(x)", ints.encode(), {}),
        "CSV to JSON Lines": (SMALL, table.encode(), {"input_format": "csv"}),
        "CSV to CSV, --keep": (SMALL, table.encode(), {"input_format": "csv", "output_format": "csv", "keep": True}),
    }


def against(path: str, n: int, repeat: int) -> dict[str, Any]:
    older = load_older(path)
    results = {}
    for name, (text, data, options) in ab_inputs(n).items():
        expr = parse(text)
        best = {"current": math.inf, "older": math.inf}
        outputs: dict[str, str] = {}
        for r in range(repeat):
            pair = [("current", batch), ("older", older)]
            for label, module in pair if r % 2 == 0 else reversed(pair):
                out: list[str] = []
                gc.collect()
                start = time.process_time()
                module.run(expr, io.BytesIO(data), out.append, **options)
                best[label] = min(best[label], time.process_time() - start)
                outputs[label] = "".join(out)
        if outputs["current"] != outputs["older"]:
            raise SystemExit(f"{name}: the current batch.run writes other records than {path}")
        results[name] = {"rows_per_second": {k: n / v for k, v in best.items()},
                         "current_over_older": best["older"] / best["current"]}
        say(f"  {name}: current/older {results[name]['current_over_older']:.3f}")
    return {"rows": n, "repeat": repeat, "older": path, "inputs": results}


def against_report(ab: dict[str, Any], m: dict[str, Any]) -> str:
    lines = [f"{m['cpu']}, {m['cores']} cores, {m['implementation']} {m['python']}, load {m['load_average']}",
             f"batch.run against {ab['older']}: {ab['rows']:,} rows, CPU time, best of {ab['repeat']}, turns taken"]
    for name, r in ab["inputs"].items():
        rps = r["rows_per_second"]
        lines.append(f"  {name:<22} current {rps['current']:>10,.0f} rows/s   older {rps['older']:>10,.0f} rows/s"
                     f"   current is {r['current_over_older']:.3f}x as fast")
    return "\n".join(lines)


# -- the report ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return describe(("autodiff", "sympy"))


LABELS = {
    "compiled": "compiled function",
    "hand": "by hand, the compiler's formulas (the limit)",
    "textbook": "by hand, textbook 1 - tanh^2",
    "sympy_cse": "SymPy lambdify, cse=True",
    "parsed_gradient": "Expression.gradient (graph reused)",
    "graph_per_row": "Value graph built per row + backward()",
    "autodiff_run": "autodiff batch.run (in process)",
    "hand_loop": "json.loads + by hand + json.dumps",
    "autodiff_command": "`autodiff grad --input FILE` (process start included)",
    "two_processes": "2 processes, chunks in order (--jobs 2 prototype)",
}


def report(results: dict[str, Any]) -> str:
    lines = []
    m = results["machine"]
    lines.append(f"{m['cpu']}, {m['cores']} cores, {m['implementation']} {m['python']}, "
                 f"load {m['load_average']}, {m['date']}")
    for text, r in results["core"].items():
        rps = r["rows_per_second"]
        c = rps["compiled"]
        lines.append(f"\ncompute core, {text}, {r['rows']:,} rows (best of {results['repeat']}):")
        for k, v in sorted(rps.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {LABELS[k]:<48} {v:>12,.0f} rows/s   compiled is {c / v:5.2f}x as fast")
        lines.append(f"  max relative difference from compiled: {r['max_relative_difference_from_compiled']}")
        if r.get("d_db_at_u_20"):
            lines.append(f"  d/db at w*x+b = 20 (exactly 1.6993417021166e-17): {r['d_db_at_u_20']}")
    for text, r in results["end_to_end"].items():
        rps = r["rows_per_second"]
        lines.append(f"\nend to end, {text}, {r['rows']:,} rows of JSON Lines in and out:")
        for k, v in rps.items():
            lines.append(f"  {LABELS[k]:<56} {v:>10,.0f} rows/s   {rps['autodiff_run'] / v:5.2f}x")
    if results.get("memory"):
        mem = results["memory"]
        at = ", ".join(f"{v:.1f} MiB at {k}" for k, v in mem["rss_mib_at"].items())
        lines.append(f"\nmemory, {mem['rows']:,} rows through a pipe in {mem['seconds']:.1f} s (exit {mem['exit']}):"
                     f" resident {at} of the run; peak {mem['rss_mib_peak']:.1f} MiB, last"
                     f" {mem['rss_mib_last']:.1f} MiB ({mem['samples']} samples, every 0.25 s)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--core-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the end-to-end runs")
    parser.add_argument("--memory-rows", type=int, default=10_000_000, help="0 skips the memory run")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--against", metavar="OLD_BATCH_PY", help="only batch.run against an older batch.py")
    parser.add_argument("--ab-rows", type=int, default=10_000, help="rows of each input of --against")
    parser.add_argument("--ab-repeat", type=int, default=41, help="turns of each of the two in --against")
    args = parser.parse_args()
    if args.against:
        say(f"batch.run against {args.against}")
        ab = against(args.against, args.ab_rows, args.ab_repeat)
        m = machine()
        print(json.dumps({"machine": m, "against": ab}, indent=2) if args.json else against_report(ab, m))
        return
    results: dict[str, Any] = {"machine": machine(), "repeat": args.repeat, "core": {}, "end_to_end": {}}
    for text in (SMALL, BIG):
        say(f"compute core: {text}")
        results["core"][text] = core(text, args.core_rows, args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        for text in (SMALL, BIG):
            say(f"end to end: {text}")
            results["end_to_end"][text] = end_to_end(text, args.rows, Path(folder))
    if args.memory_rows:
        say(f"memory: {args.memory_rows:,} rows through a pipe")
        results["memory"] = memory(args.memory_rows)
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()
