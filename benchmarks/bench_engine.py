"""Benchmark autodiff_cli's engine against micrograd 0.1.0 and plain float arithmetic.

Run it from the repository after `pip install ".[bench]"`:

    python benchmarks/bench_engine.py             # readable report (progress goes to stderr)
    python benchmarks/bench_engine.py --json      # every figure as one JSON document
    python benchmarks/bench_engine.py --nodes 200000 --repeat 1 --skip-cli   # a quick run

What it measures, all in one run so that the peers share the machine's state:

1. wide graph: tanh(sum_i w_i * x_i) with the sum a balanced tree of additions,
   ~1,000,000 nodes; build and backward for autodiff_cli, micrograd and plain floats
2. deep chain: x, then alternately *c and +d, ~1,000,000 nodes deep; autodiff_cli
   runs it, and the first depth at which micrograd's recursive backward fails is found
3. peak memory (tracemalloc) per node of the wide graph, each engine in its own subprocess
4. wall time of one `autodiff grad ...` command against `python -c "import click, lark"`
5. parse time of deep and long expressions, against lark's own parser loop

Nothing runs on import, so test collection may import this file freely.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from machine import describe  # benchmarks/machine.py, beside this script

from autodiff_cli.engine import Value, topological_order

try:
    from micrograd.engine import Value as MGValue
except ImportError:  # the `bench` extra is not installed: micrograd's columns are skipped
    MGValue = None

SEED = 20240601
CHAIN_C = 0.999999  # the deep chain: v = v * c + d, which stays near 1 for a million steps
CHAIN_D = 1e-6
PROBE_DEPTHS = (500, 1000, 2000, 5000, 10000)  # deep-chain depths tried on micrograd


# -- helpers ----------------------------------------------------------------


def log(message: str) -> None:
    """Progress on stderr, so that stdout stays the report (or the JSON)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """The cyclic garbage collector off for the block (reference counting still frees).

    With pause=False the collector runs as it does for users: default settings.
    """
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def summary(seconds: Sequence[float], nodes: int) -> dict[str, float]:
    """Best and median of a list of timings, in seconds and in microseconds per node."""
    best, median = min(seconds), statistics.median(seconds)
    return {
        "best_s": best,
        "median_s": median,
        "best_us_per_node": best / nodes * 1e6,
        "median_us_per_node": median / nodes * 1e6,
    }


def max_rel_diff(a: Sequence[float], b: Sequence[float]) -> float:
    """Largest |a_i - b_i| / |b_i| (absolute difference where b_i is 0)."""
    worst = 0.0
    for x, y in zip(a, b, strict=True):
        d = abs(x - y)
        if y != 0.0:
            d /= abs(y)
        worst = max(worst, d)
    return worst


def make_inputs(n: int) -> tuple[list[float], list[float]]:
    """x_i uniform in [-1, 1] and w_i scaled so that sum w_i*x_i ~ N(0, 1): tanh is not saturated."""
    rng = random.Random(SEED)
    xs = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    scale = 3.0 / math.sqrt(n)
    ws = [rng.uniform(-1.0, 1.0) * scale for _ in range(n)]
    return xs, ws


def pairwise_sum(items: list[Any]) -> tuple[Any, int, int]:
    """Sum by a balanced tree of additions: returns (sum, number of additions, tree levels).

    The same code serves Values of both engines and plain floats.  An odd element
    out is carried up to the next level, so there are always len(items) - 1 additions.
    """
    level, adds, levels = items, 0, 0
    while len(level) > 1:
        nxt = [a + b for a, b in zip(level[0::2], level[1::2], strict=False)]
        adds += len(nxt)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        levels += 1
    return level[0], adds, levels


def sech(x: float) -> float:
    """1/cosh(x) without overflow (the form autodiff_cli's op table uses)."""
    t = math.exp(-abs(x))
    return 2.0 * t / (1.0 + t * t)


# micrograd 0.1.0 has no tanh.  This helper gives it one in micrograd's own style (a
# node whose `_backward` closure adds the local derivative times out.grad to the
# input), with the derivative as 1 - t**2, as later micrograd versions write it.  It
# is one node out of a million, so it does not affect the timings.
def mg_tanh(v: Any) -> Any:
    t = math.tanh(v.data)
    out = MGValue(t, (v,), "tanh")

    def _backward() -> None:
        v.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def ad_tanh(v: Value) -> Value:
    return v.tanh()


# -- 1. the wide graph ------------------------------------------------------


def wide_counts(n: int) -> dict[str, int]:
    return {"leaves": 2 * n, "mul": n, "add": n - 1, "tanh": 1, "total": 4 * n}


def build_wide(leaf: Callable[[float], Any], tanh: Callable[[Any], Any], xs: list[float], ws: list[float]) -> tuple:
    """tanh(sum_i w_i * x_i) in one engine: returns (root, x leaves, w leaves, tree levels)."""
    xv = [leaf(x) for x in xs]
    wv = [leaf(w) for w in ws]
    products = [w * x for w, x in zip(wv, xv, strict=True)]
    s, _, levels = pairwise_sum(products)
    return tanh(s), xv, wv, levels


def plain_forward(xs: list[float], ws: list[float]) -> tuple[float, float]:
    """The same computation on floats: products, the same tree of sums, tanh.  Returns (s, tanh s)."""
    products = [w * x for w, x in zip(ws, xs, strict=True)]
    s, _, _ = pairwise_sum(products)
    return s, math.tanh(s)


def plain_backward(xs: list[float], ws: list[float], s: float) -> tuple[list[float], list[float]]:
    """Hand-written gradients: every addition passes dL/ds on unchanged, so
    dL/dw_i = x_i * tanh'(s) and dL/dx_i = w_i * tanh'(s), with tanh'(s) = sech(s)**2
    (accurate where 1 - tanh(s)**2 cancels).  Returns (dL/dx, dL/dw)."""
    g = sech(s) ** 2
    n = len(xs)
    gx = [0.0] * n
    gw = [0.0] * n
    for i in range(n):
        gw[i] = xs[i] * g
        gx[i] = ws[i] * g
    return gx, gw


def engines() -> dict[str, tuple[Callable[[float], Any], Callable[[Any], Any]]]:
    found: dict[str, tuple[Callable[[float], Any], Callable[[Any], Any]]] = {"autodiff": (Value, ad_tanh)}
    if MGValue is not None:
        found["micrograd"] = (MGValue, mg_tanh)
    return found


def bench_wide(nodes: int, repeat: int, pause_gc: bool) -> dict[str, Any]:
    n = max(1, round(nodes / 4))
    counts = wide_counts(n)
    total = counts["total"]
    xs, ws = make_inputs(n)
    kinds = [*engines(), "plain"]
    times: dict[str, dict[str, list[float]]] = {k: {"build": [], "backward": [], "total": []} for k in kinds}
    grads: dict[str, tuple[float, list[float], list[float]]] = {}
    levels = 0
    counted = None
    for r in range(repeat):
        # The engines take turns within each round, and the order rotates from round to
        # round, so that drift and the state of the heap do not favour one of them.
        for kind in kinds[r % len(kinds) :] + kinds[: r % len(kinds)]:
            log(f"wide graph, {kind}, GC {'paused' if pause_gc else 'on'}, round {r + 1}/{repeat}")
            gc.collect()
            if kind == "plain":
                with gc_paused(pause_gc):
                    t0 = time.perf_counter()
                    s, t = plain_forward(xs, ws)
                    t1 = time.perf_counter()
                    gx, gw = plain_backward(xs, ws, s)
                    t2 = time.perf_counter()
                grads[kind] = (t, gx, gw)
            else:
                leaf, tanh = engines()[kind]
                with gc_paused(pause_gc):
                    t0 = time.perf_counter()
                    root, xv, wv, levels = build_wide(leaf, tanh, xs, ws)
                    t1 = time.perf_counter()
                    root.backward()
                    t2 = time.perf_counter()
                grads[kind] = (root.data, [v.grad for v in xv], [v.grad for v in wv])
                if kind == "autodiff" and counted is None:
                    counted = len(topological_order(root))  # untimed: check the node count
                del root, xv, wv
                gc.collect()  # micrograd's closures make cycles: free them outside the timings
            times[kind]["build"].append(t1 - t0)
            times[kind]["backward"].append(t2 - t1)
            times[kind]["total"].append(t2 - t0)

    if counted != total:
        raise RuntimeError(f"node count mismatch: expected {total}, the autodiff graph has {counted}")

    results = {
        kind: {phase: {"runs_s": runs, **summary(runs, total)} for phase, runs in phases.items()}
        for kind, phases in times.items()
    }

    def ratio(a: str, b: str) -> dict[str, float]:
        return {p: results[a][p]["best_s"] / results[b][p]["best_s"] for p in ("build", "backward", "total")}

    ratios = {"autodiff_over_plain": ratio("autodiff", "plain")}
    if "micrograd" in results:
        ratios["micrograd_over_autodiff"] = ratio("micrograd", "autodiff")

    ref_t, ref_gx, ref_gw = grads["plain"]
    agreement = {
        kind: {
            "value_rel_diff": abs(t - ref_t) / abs(ref_t),
            "grad_max_rel_diff": max(max_rel_diff(gx, ref_gx), max_rel_diff(gw, ref_gw)),
        }
        for kind, (t, gx, gw) in grads.items()
        if kind != "plain"
    }
    return {
        "gc": "paused" if pause_gc else "on (default settings)",
        "n": n,
        "nodes": total,
        "node_counts": counts,
        "node_count_checked": counted,
        "depth_nodes": levels + 3,  # leaf, mul, the additions' levels, tanh
        "value": ref_t,
        "results": results,
        "ratios": ratios,
        "agreement_with_plain": agreement,
    }


# -- 2. the deep chain ------------------------------------------------------


def build_chain(leaf: Callable[[float], Any], depth: int) -> tuple[Any, Any, int]:
    """x, then alternately *c and +d, until the path from the output to x has `depth`
    nodes.  c and d are two shared leaves, so the graph has depth + 2 nodes.
    Returns (output, x, number of multiplications)."""
    x, c, d = leaf(1.0), leaf(CHAIN_C), leaf(CHAIN_D)
    v = x
    muls = 0
    for i in range(depth - 1):
        if i % 2 == 0:
            v = v * c
            muls += 1
        else:
            v = v + d
    return v, x, muls


def micrograd_fails_at(depth: int) -> bool:
    """Does micrograd's backward raise RecursionError on a chain this deep?"""
    out, _, _ = build_chain(MGValue, depth)
    try:
        out.backward()
    except RecursionError:
        return True
    finally:
        del out
        gc.collect()
    return False


def bench_deep(nodes: int, repeat: int) -> dict[str, Any]:
    depth = max(2, nodes - 2)
    total = depth + 2
    builds: list[float] = []
    backwards: list[float] = []
    totals: list[float] = []
    grad_rel_err = math.nan
    error = None
    for r in range(repeat):
        log(f"deep chain, autodiff, round {r + 1}/{repeat}")
        gc.collect()
        try:
            with gc_paused(False):
                t0 = time.perf_counter()
                out, x, muls = build_chain(Value, depth)
                t1 = time.perf_counter()
                out.backward()
                t2 = time.perf_counter()
        except RecursionError as exc:
            error = f"RecursionError: {exc}"
            break
        builds.append(t1 - t0)
        backwards.append(t2 - t1)
        totals.append(t2 - t0)
        expected = CHAIN_C**muls  # d out / d x
        grad_rel_err = abs(x.grad - expected) / expected
        del out, x
        gc.collect()
    result: dict[str, Any] = {
        "depth_nodes": depth,
        "nodes": total,
        "autodiff": {
            "error": error,
            "dx_rel_err_vs_c_pow_muls": grad_rel_err,
        },
    }
    if builds:
        result["autodiff"].update(
            {
                "build": {"runs_s": builds, **summary(builds, total)},
                "backward": {"runs_s": backwards, **summary(backwards, total)},
                "total": {"runs_s": totals, **summary(totals, total)},
            }
        )

    if MGValue is None:
        result["micrograd"] = None
        return result
    log("deep chain, micrograd: probing for RecursionError")
    limit = sys.getrecursionlimit()
    tried: dict[int, bool] = {}
    first_fail = None
    last_ok = 1
    for d in PROBE_DEPTHS:
        tried[d] = micrograd_fails_at(d)
        if tried[d]:
            first_fail = d
            break
        last_ok = d
    exact = None
    if first_fail is not None:  # bisect between the last depth that worked and the first that failed
        lo, hi = last_ok, first_fail
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if micrograd_fails_at(mid):
                hi = mid
            else:
                lo = mid
        exact = hi
    log(f"deep chain, micrograd: the full {depth}-deep chain")
    gc.collect()
    with gc_paused():
        t0 = time.perf_counter()
        out, _, _ = build_chain(MGValue, depth)
        t1 = time.perf_counter()
        try:
            out.backward()
            full_outcome = "completed"
        except RecursionError:
            full_outcome = "RecursionError"
        t2 = time.perf_counter()
    del out
    gc.collect()
    result["micrograd"] = {
        "recursion_limit": limit,
        "probe_depths": {str(d): ("RecursionError" if failed else "ok") for d, failed in tried.items()},
        "first_failing_probe_depth": first_fail,
        "first_failing_depth_exact": exact,
        "full_chain": {"outcome": full_outcome, "build_s": t1 - t0, "backward_s": t2 - t1},
    }
    return result


# -- 3. memory (each engine in a fresh subprocess) -----------------------------


def measure_memory(kind: str, nodes: int) -> dict[str, Any]:
    """Peak traced bytes while building the wide graph and running backward (inputs excluded)."""
    leaf, tanh = engines()[kind]
    n = max(1, round(nodes / 4))
    total = wide_counts(n)["total"]
    xs, ws = make_inputs(n)  # the input floats exist before tracing starts, for both engines
    gc.collect()
    with gc_paused():
        tracemalloc.start()
        root, _xv, _wv, _ = build_wide(leaf, tanh, xs, ws)  # the leaf lists stay alive, as in the timings
        after_build, build_peak = tracemalloc.get_traced_memory()
        root.backward()
        after_backward, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "nodes": total,
        "graph_bytes": after_build,
        "peak_bytes": peak,
        "graph_bytes_per_node": after_build / total,
        "peak_bytes_per_node": peak / total,
        "build_peak_bytes": build_peak,
        "after_backward_bytes": after_backward,
    }


def bench_memory(nodes: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("autodiff", "micrograd"):
        if kind == "micrograd" and MGValue is None:
            out[kind] = None
            continue
        log(f"memory, {kind} (subprocess)")
        cmd = [sys.executable, str(Path(__file__).resolve()), "--only", f"mem-{kind}", "--nodes", str(nodes)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"memory subprocess for {kind} failed:\n{proc.stderr}")
        out[kind] = json.loads(proc.stdout)
    if out.get("micrograd"):
        out["micrograd_over_autodiff_peak"] = out["micrograd"]["peak_bytes"] / out["autodiff"]["peak_bytes"]
    return out


# -- 4. one-shot command line ------------------------------------------------

CLI_ARGS = ["grad", "tanh(w*x+b)", "--x", "2", "--w", "-3", "--b", "1"]


def autodiff_executable() -> Path:
    exe = Path(sys.executable).parent / ("autodiff.exe" if os.name == "nt" else "autodiff")
    if not exe.exists():
        raise SystemExit(
            f"error: the `autodiff` command is not next to this interpreter ({exe} is missing).\n"
            f'Install the project into this environment (pip install ".[bench]") or pass --skip-cli.'
        )
    return exe


# Users' Pythons cache bytecode; a machine that sets PYTHONDONTWRITEBYTECODE would make
# every run of an editable install recompile the package, which no user pays.
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall_time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=CLI_ENV)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd!r} exited with {proc.returncode}:\n{proc.stderr}")
    return elapsed


def bench_cli(runs: int) -> dict[str, Any]:
    cli = [str(autodiff_executable()), *CLI_ARGS]
    base = [sys.executable, "-c", "import click, lark"]
    log("command line: warm-up (the first run writes lark's grammar cache)")
    output = subprocess.run(cli, capture_output=True, text=True, check=True, env=CLI_ENV).stdout
    wall_time(base)
    cli_times: list[float] = []
    base_times: list[float] = []
    for i in range(runs):  # alternate the two, so that drift hits both alike
        if i == 0:
            log(f"command line: {runs} runs of each")
        cli_times.append(wall_time(cli))
        base_times.append(wall_time(base))
    cli_med, base_med = statistics.median(cli_times), statistics.median(base_times)
    return {
        "command": cli,
        "baseline": base,
        "output": output,
        "runs": runs,
        "autodiff_s": {"median": cli_med, "min": min(cli_times), "runs": cli_times},
        "baseline_s": {"median": base_med, "min": min(base_times), "runs": base_times},
        "ratio_median": cli_med / base_med,
    }


# -- 5. the parser -------------------------------------------------------------


PARSE_CASES = {
    "10,000 nested parentheses": "(" * 10_000 + "x" + ")" * 10_000,
    "a sum of 100,000 terms x+x+...": "+".join(["x"] * 100_000),
    "a sum of 100,000 products x3*7+...": "+".join(f"x{i % 10}*{i}" for i in range(100_000)),
}


def bench_parser(repeat: int) -> dict[str, Any]:
    """Text to graph: the project's LALR loop over lark's table, and lark's own loop (the peer)."""
    from autodiff_cli import limits
    from autodiff_cli.parser import _parse

    _parse("x", fast=True)  # load the grammar (from lark's cache) outside the timings
    out: dict[str, Any] = {}
    with limits.raised(nodes=10**7, depth=10**7, length=10**8):  # these cases are past the command line's limits
        for name, text in PARSE_CASES.items():
            out[name] = _time_parses(_parse, name, text, repeat)
    return out


def _time_parses(_parse: Any, name: str, text: str, repeat: int) -> dict[str, Any]:
    """The best of `repeat` parses of text, by the project's loop and by lark's."""
    times: dict[str, float] = {}
    for label, fast in (("autodiff", True), ("lark", False)):
        log(f"parser, {name}, {label}")
        best = math.inf
        for _ in range(repeat):
            gc.collect()
            t0 = time.perf_counter()
            _parse(text, fast=fast)
            best = min(best, time.perf_counter() - t0)
        times[label] = best
    return {"chars": len(text), "autodiff_s": times["autodiff"], "lark_s": times["lark"]}


# -- 6. the machine ------------------------------------------------------------


def machine() -> dict[str, Any]:
    return describe(("autodiff", "micrograd", "lark", "click"))


# -- the report ----------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


NAMES = {"autodiff": "autodiff_cli Value", "micrograd": "micrograd 0.1.0 Value", "plain": "plain floats (limit)"}


def wide_lines(w: dict[str, Any], title: str) -> list[str]:
    """The report's section for one run of the wide graph."""
    lines: list[str] = []
    c = w["node_counts"]
    lines += [
        f"{title}. Wide graph, GC {w['gc']}: tanh(sum of w_i*x_i), the sum a balanced tree of additions, "
        f"n = {w['n']:,}",
        f"   {c['total']:,} nodes = {c['leaves']:,} leaves + {c['mul']:,} mul + {c['add']:,} add + {c['tanh']} tanh "
        f"(count checked by traversal: {w['node_count_checked']:,}); {w['depth_nodes']} nodes deep",
        "",
        f"   {'µs per node':<24}{'build':>18}{'backward':>18}{'total':>18}",
    ]
    for kind, res in w["results"].items():
        cells = "".join(
            f"{res[p]['best_us_per_node']:>9.3f} ({res[p]['median_us_per_node']:.3f})".rjust(18)
            for p in ("build", "backward", "total")
        )
        lines.append(f"   {NAMES[kind]:<24}{cells}")
    lines.append("   (total = best of the per-round build+backward sums; plain floats divided by the same node count)")
    per_round = " | ".join(
        f"{kind} " + " ".join(f"{x / w['nodes'] * 1e6:.3f}" for x in res["total"]["runs_s"])
        for kind, res in w["results"].items()
    )
    lines.append(f"   every round, total µs per node: {per_round}")
    r = w["ratios"]
    if "micrograd_over_autodiff" in r:
        mr = r["micrograd_over_autodiff"]
        lines.append(
            f"   micrograd / autodiff    : build {mr['build']:.2f}x, backward {mr['backward']:.2f}x, "
            f"total {mr['total']:.2f}x"
            + (f"   (target >= 3x: {verdict(mr['total'] >= 3.0)})" if w["gc"].startswith("on") else "")
        )
    ar = r["autodiff_over_plain"]
    lines.append(
        f"   autodiff / plain floats : build {ar['build']:.2f}x, backward {ar['backward']:.2f}x, "
        f"total {ar['total']:.2f}x"
    )
    for kind, a in w["agreement_with_plain"].items():
        lines.append(
            f"   agreement, {NAMES[kind]} vs plain floats: tanh value rel. diff {a['value_rel_diff']:.1e}, "
            f"largest gradient rel. diff {a['grad_max_rel_diff']:.1e}"
        )
    lines.append("")
    return lines


def report(doc: dict[str, Any]) -> str:
    m, s = doc["machine"], doc["settings"]
    lines = [
        "autodiff_cli engine benchmark",
        "=============================",
        f"machine : {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), "
        f"load average {', '.join(f'{x:.2f}' for x in m['load_average'] or [])}",
        f"python  : {m['implementation']} {m['python']} on {m['platform']}",
        "versions: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in m["versions"].items()),
        f"method  : time.perf_counter; best of {s['repeat']} (median in brackets); gc.collect() between runs; "
        f"engines take turns within each round, in an order rotating from round to round.  The wide graph is "
        f"timed twice: with Python's default settings (the cyclic GC on, as users run it: the target's "
        f"setting) and with the GC paused for both engines (gc.disable), which isolates the engines' own work.",
    ]
    if MGValue is None:
        lines.append('note    : micrograd is not importable (pip install ".[bench]"): its columns are skipped')
    lines.append("")

    for key, title in (("wide", "1a"), ("wide_gc_paused", "1b")):
        lines += wide_lines(doc[key], title)

    d = doc["deep"]
    ad = d["autodiff"]
    lines.append(
        f"2. Deep chain: x, then alternately *c and +d; {d['depth_nodes']:,} nodes deep, {d['nodes']:,} nodes "
        f"(with the shared leaves c and d)"
    )
    if ad["error"]:
        lines.append(f"   autodiff_cli: FAILED with {ad['error']}")
    else:
        b, k, t = ad["build"], ad["backward"], ad["total"]
        lines += [
            f"   autodiff_cli, µs per node: build {b['best_us_per_node']:.3f} ({b['median_us_per_node']:.3f}), "
            f"backward {k['best_us_per_node']:.3f} ({k['median_us_per_node']:.3f}), "
            f"total {t['best_us_per_node']:.3f} ({t['median_us_per_node']:.3f}); {t['best_s']:.2f} s in all",
            f"   autodiff_cli: no RecursionError; d out/d x differs from c**(number of muls) by "
            f"{ad['dx_rel_err_vs_c_pow_muls']:.1e} (relative)",
        ]
    mg = d["micrograd"]
    if mg:
        probes = ", ".join(f"{k}: {v}" for k, v in mg["probe_depths"].items())
        full = mg["full_chain"]
        lines += [
            f"   micrograd (recursion limit {mg['recursion_limit']}): probes {probes}",
            f"   micrograd: first failing probe depth {mg['first_failing_probe_depth']}, "
            f"exact first failing depth (bisection) {mg['first_failing_depth_exact']} nodes",
            f"   micrograd on the full {d['depth_nodes']:,}-deep chain: {full['outcome']} "
            f"(build {full['build_s']:.2f} s, backward gave up after {full['backward_s'] * 1e3:.1f} ms)",
        ]
    lines.append("")

    mem = doc["memory"]
    if mem is not None:
        lines.append("3. Peak memory, wide graph build + backward (tracemalloc, each engine in a fresh subprocess)")
        for kind in ("autodiff", "micrograd"):
            e = mem.get(kind)
            if e:
                lines.append(
                    f"   {NAMES[kind]:<24}: peak {e['peak_bytes_per_node']:7.1f} bytes/node "
                    f"({e['peak_bytes'] / 2**20:7.1f} MiB), graph alone {e['graph_bytes_per_node']:7.1f} bytes/node"
                )
        if "micrograd_over_autodiff_peak" in mem:
            ok = mem["autodiff"]["peak_bytes"] < mem["micrograd"]["peak_bytes"]
            lines.append(
                f"   micrograd / autodiff peak: {mem['micrograd_over_autodiff_peak']:.2f}x   "
                f"(target autodiff below micrograd: {verdict(ok)})"
            )
        lines.append("")

    cli = doc["cli"]
    if cli is None:
        lines.append("4. One-shot command line: skipped (--skip-cli)")
    else:
        a, b = cli["autodiff_s"], cli["baseline_s"]
        lines += [
            f"4. One-shot command line, median of {cli['runs']} runs after one warm-up each",
            f'   autodiff {" ".join(CLI_ARGS[:1])} "{CLI_ARGS[1]}" {" ".join(CLI_ARGS[2:])}: '
            f"{a['median'] * 1e3:.1f} ms (min {a['min'] * 1e3:.1f})",
            f'   python -c "import click, lark"              : {b["median"] * 1e3:.1f} ms (min {b["min"] * 1e3:.1f})',
            f"   ratio {cli['ratio_median']:.2f}   (target <= 1.5: {verdict(cli['ratio_median'] <= 1.5)})",
        ]
    lines += ["", "5. Parser: text to graph, best of the rounds (GC on), against lark's own LALR loop"]
    for name, r in doc["parser"].items():
        lines.append(
            f"   {name:<36}: {r['autodiff_s']:.3f} s   (lark's loop {r['lark_s']:.3f} s, "
            f"{r['lark_s'] / r['autodiff_s']:.1f}x)"
        )
    lines += ["", f"whole run: {doc['elapsed_s']:.1f} s"]
    return "\n".join(lines)


# -- main --------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark autodiff_cli's engine against micrograd and plain floats.")
    p.add_argument("--nodes", type=int, default=1_000_000, help="size of the wide graph and the deep chain")
    p.add_argument("--repeat", type=int, default=3, help="rounds of each timed graph measurement (best is reported)")
    p.add_argument("--cli-runs", type=int, default=15, help="runs of each command for the median wall time")
    p.add_argument("--json", action="store_true", help="print every figure as one JSON document instead")
    p.add_argument("--skip-cli", action="store_true", help="skip the one-shot command-line timing")
    p.add_argument("--skip-memory", action="store_true", help="skip the memory subprocesses")
    p.add_argument("--only", help=argparse.SUPPRESS)  # internal: one memory measurement, in a subprocess
    args = p.parse_args(argv)
    if args.nodes < 8 or args.repeat < 1 or args.cli_runs < 1:
        p.error("--nodes must be at least 8, --repeat and --cli-runs at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.only:
        kind = args.only.removeprefix("mem-")
        if kind not in ("autodiff", "micrograd") or (kind == "micrograd" and MGValue is None):
            print(f"error: cannot measure {args.only!r}", file=sys.stderr)
            return 2
        print(json.dumps(measure_memory(kind, args.nodes)))
        return 0

    if not args.skip_cli:
        autodiff_executable()  # fail early and clearly, not after two minutes
    start = time.perf_counter()
    doc: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "nodes": args.nodes,
            "repeat": args.repeat,
            "timer": "time.perf_counter",
            "gc": "the wide graph with the GC on and paused; the deep chain on; memory paused",
            "micrograd_available": MGValue is not None,
        },
    }
    doc["wide"] = bench_wide(args.nodes, args.repeat, pause_gc=False)
    doc["wide_gc_paused"] = bench_wide(args.nodes, args.repeat, pause_gc=True)
    doc["deep"] = bench_deep(args.nodes, args.repeat)
    doc["memory"] = None if args.skip_memory else bench_memory(args.nodes)
    doc["cli"] = None if args.skip_cli else bench_cli(args.cli_runs)
    doc["parser"] = bench_parser(args.repeat)
    doc["elapsed_s"] = time.perf_counter() - start
    print(json.dumps(doc, indent=2) if args.json else report(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
