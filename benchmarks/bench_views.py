"""Benchmark the views of a graph: the step-by-step explanation and the streamed DOT, Mermaid and JSON.

Run it from the repository:

    python benchmarks/bench_views.py            # readable report (progress goes to stderr)
    python benchmarks/bench_views.py --json     # every figure as one JSON document

What it measures, in one run:

1. explain on a graph of about 1,000 nodes: the explanation as data, as plain text,
   as rich tables, and the whole `autodiff explain` command in a subprocess; the
   peers are the engine's backward() on the same graph and `autodiff grad` on the
   same expression.
2. DOT, Mermaid and JSON for graphs of 10,000 and 100,000 nodes: time to write a
   file, and the peak memory of writing (tracemalloc) next to the size of the
   output and of the graph itself; the peer is the same text joined into one
   string first, which is what a writer that does not stream holds.

Nothing runs on import.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from machine import describe  # benchmarks/machine.py, beside this script

from autodiff_cli import explain_tables, parse
from autodiff_cli.engine import Value, topological_order
from autodiff_cli.explain import explain
from autodiff_cli.export import dot_lines, json_lines, mermaid_lines, write_lines
from autodiff_cli.render import explanation_tables, explanation_text


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def best(f: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best and median wall time of f over `repeat` runs."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


# -- 1. explain ------------------------------------------------------------------


def explain_expression(terms: int) -> str:
    """A sum of neuron-like terms over shared variables: many nodes with several consumers."""
    parts = [f"tanh(w{i % 7}*x + b{i % 5}) * sigmoid(y - {i % 3 + 1}) + x^2*w{i % 7}" for i in range(terms)]
    return " + ".join(parts)


def bench_explain(repeat: int) -> dict[str, Any]:
    text = explain_expression(82)
    expr = parse(text)
    bindings = {name: 0.1 * (k + 1) for k, name in enumerate(expr.variables)}
    expr.gradient(bindings)
    nodes = len(expr.order)
    log(f"explain: {nodes} nodes, {sum(len(n.parents) for n in expr.order)} edges")

    def backward() -> None:
        for leaf in expr.variables.values():
            leaf.grad = 0.0
        expr.root.backward()

    from rich.console import Console

    def terminal() -> Console:
        return Console(file=io.StringIO(), width=160, force_terminal=True, color_system="standard")

    data = explain(expr.root)
    figures = {
        "nodes": nodes,
        "edges_explained": len(data.backward),
        "backward": best(backward, repeat),
        "explain_data": best(lambda: explain(expr.root), repeat),
        "plain_text": best(lambda: explanation_text(explain(expr.root)), repeat),
        "rich_tables": best(lambda: explanation_tables(terminal(), explain(expr.root)), repeat),
    }
    # the peer that explains the styled columns: rich's Table for every row
    saved, explain_tables.TABLE_ROWS = explain_tables.TABLE_ROWS, 10**9
    try:
        figures["rich_table_every_row"] = best(lambda: explanation_tables(terminal(), explain(expr.root)), repeat)
    finally:
        explain_tables.TABLE_ROWS = saved
    args = [f"{k}={v!r}" for k, v in bindings.items()]
    exe = Path(sys.executable).with_name("autodiff")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "autodiff_cli"]
    for name, sub in (("cli_explain", "explain"), ("cli_grad", "grad")):
        def once(sub: str = sub) -> None:
            subprocess.run([*command, sub, text, *args], check=True, stdout=subprocess.DEVNULL)

        once()  # warm the caches as a user's second run would
        figures[name] = best(once, repeat)
    return figures


# -- 2. the streamed formats -------------------------------------------------------


def wide_graph(n_nodes: int) -> Value:
    """tanh of a left-folded sum of products w_i * x_i (about 4 nodes per term)."""
    terms = n_nodes // 4
    total = Value(0.0, name="s0")
    for i in range(terms):
        total = total + Value(0.5 + i % 7, name=f"w{i}") * Value(0.001 * (i % 11), name=f"x{i}")
    out = (total * 1e-4).tanh()
    out.backward()
    return out


WRITERS: dict[str, Callable[..., Iterable[str]]] = {"dot": dot_lines, "mermaid": mermaid_lines, "json": json_lines}


def traced_peak(f: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        f()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_export(n_nodes: int, repeat: int, tmp: Path) -> dict[str, Any]:
    gc.collect()
    tracemalloc.start()
    root = wide_graph(n_nodes)
    graph_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    nodes = len(topological_order(root))
    log(f"export: {nodes} nodes")
    result: dict[str, Any] = {"nodes": nodes, "graph_bytes": graph_bytes}
    for fmt, writer in WRITERS.items():
        target = tmp / f"graph.{fmt}"

        def write(writer: Callable[..., Iterable[str]] = writer, target: Path = target) -> None:
            with open(target, "w", encoding="utf-8") as out:
                write_lines(out, writer(root))

        seconds = best(write, repeat)
        size = target.stat().st_size

        def streamed(writer: Callable[..., Iterable[str]] = writer) -> None:
            with open(os.devnull, "w", encoding="utf-8") as out:
                write_lines(out, writer(root))

        def joined(writer: Callable[..., Iterable[str]] = writer) -> None:
            with open(os.devnull, "w", encoding="utf-8") as out:
                out.write("\n".join(writer(root)) + "\n")

        result[fmt] = {
            "seconds": seconds,
            "output_bytes": size,
            "peak_streamed": traced_peak(streamed),
            "peak_joined": traced_peak(joined),
        }
    return result


def machine() -> dict[str, Any]:
    return describe(("autodiff",))


def report(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    e = doc["explain"]
    lines = [f"{m['cpu']}, {m['cores']} cores, CPython {m['python']}, {m['system']}; best of {doc['repeat']}", ""]
    lines.append(f"1. explain, {e['nodes']} nodes, {e['edges_explained']} edges explained (seconds: best, median)")
    base = e["backward"][0]
    rows = [
        ("backward", "engine backward() (peer)"),
        ("explain_data", "explanation as data"),
        ("plain_text", "explanation as plain text"),
        ("rich_tables", "explanation on a terminal (styled)"),
        ("rich_table_every_row", "the same with rich's Table (peer)"),
        ("cli_grad", "autodiff grad, whole command (peer)"),
        ("cli_explain", "autodiff explain, whole command"),
    ]
    for key, label in rows:
        b, med = e[key]
        lines.append(f"   {label:40} {b:9.4f} {med:9.4f}   {b / base:8.1f}x backward")
    lines.append("")
    lines.append("2. streamed writers: seconds to write a file; peak memory while writing (tracemalloc), per node")
    for size in doc["export"]:
        n = size["nodes"]
        lines.append(f"   {n:,} nodes; the graph itself holds {size['graph_bytes'] / n:.0f} B/node")
        for fmt in WRITERS:
            f = size[fmt]
            lines.append(
                f"     {fmt:8} {f['seconds'][0]:7.3f} s   output {f['output_bytes'] / n:6.0f} B/node   "
                f"peak streamed {f['peak_streamed'] / n:6.0f} B/node   joined first {f['peak_joined'] / n:6.0f} B/node"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    doc: dict[str, Any] = {"machine": machine(), "repeat": args.repeat, "explain": bench_explain(args.repeat)}
    with tempfile.TemporaryDirectory() as tmp:
        doc["export"] = [bench_export(n, max(1, args.repeat // 2), Path(tmp)) for n in args.sizes]
    print(json.dumps(doc, indent=2) if args.json else report(doc))


if __name__ == "__main__":
    main()
