"""Benchmark explain --html: the page's size and the time to write it, beside the text explain of the same graph.

Run it from the repository:

    python benchmarks/bench_html.py            # readable report (progress goes to stderr)
    python benchmarks/bench_html.py --json     # every figure as one JSON document

What it measures, in one run, on sums of neuron-like terms over shared variables
(the graph bench_views.py explains):

1. a graph of about 1,000 nodes, past the page's drawing limit (500): the page
   holds every step but no drawing;
2. a graph of about 500 nodes, just within the limit, drawn by the built-in
   layered layout and (when dot is installed) by Graphviz;
3. a graph of about 50 nodes, the size the issue asks to stay well under 200 KB.

For each: the page's size in bytes, the best and median time to make the page and
write it to a file (html_explain.page + write), and, as peers in the same run, the
text explanation (`explain` in a pipe: explain() + explanation_text, written to a
file) and `graph --format json` (export.json_lines, written to a file).

Nothing runs on import.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench_views import best, log  # beside this script: the same timing and the same graph
from bench_views import explain_expression as expression
from machine import describe  # benchmarks/machine.py, beside this script

from autodiff_cli import html_explain, parse
from autodiff_cli.explain import explain
from autodiff_cli.export import json_lines, write_atomic
from autodiff_cli.render import explanation_text


def measure(terms: int, layouts: list[str], repeat: int, folder: Path) -> dict[str, Any]:
    text = expression(terms)
    expr = parse(text)
    expr.gradient({name: 0.1 * (k + 1) for k, name in enumerate(expr.variables)})
    nodes = len(expr.order)
    inputs = list(expr.variables.values())
    log(f"{nodes} nodes, {sum(len(n.parents) for n in expr.order)} edges")
    out: dict[str, Any] = {"nodes": nodes, "drawn": nodes <= html_explain.DRAWING_LIMIT, "pages": {}}
    target = folder / "page.html"
    for layout in layouts:
        def write_page(layout: str = layout) -> None:
            html_explain.write(target, html_explain.page(expr.root, text, inputs, file_name=target.name,
                                                         layout=layout))

        seconds = best(write_page, repeat)
        out["pages"][layout] = {"bytes": target.stat().st_size, "best_s": seconds[0], "median_s": seconds[1]}
        log(f"  page ({layout}): {target.stat().st_size:,} bytes, best {seconds[0] * 1000:.1f} ms")

    def text_explain() -> None:
        write_atomic(folder / "steps.txt", [explanation_text(explain(expr.root, inputs))])

    def graph_json() -> None:
        write_atomic(folder / "graph.json", json_lines(expr.root, expression=text, order=expr.order))

    for name, f, file in (("text explain", text_explain, "steps.txt"), ("graph json", graph_json, "graph.json")):
        seconds = best(f, repeat)
        out[name] = {"bytes": (folder / file).stat().st_size, "best_s": seconds[0], "median_s": seconds[1]}
        log(f"  {name}: {(folder / file).stat().st_size:,} bytes, best {seconds[0] * 1000:.1f} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print every figure as one JSON document")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (best and median kept)")
    args = parser.parse_args()
    graphviz = shutil.which("dot") is not None
    sizes = {"1,000 nodes": 82, "500 nodes": 40, "50 nodes": 4}
    results: dict[str, Any] = {"machine": describe(), "graphviz": graphviz, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, terms in sizes.items():
            layouts = ["builtin", "graphviz"] if graphviz and terms <= 40 else ["builtin"]
            results["cases"][name] = measure(terms, layouts, args.repeat, Path(tmp))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"Graphviz's dot: {'installed' if graphviz else 'not installed'}; best of {args.repeat} runs\n")
    print("| graph | nodes | written | bytes | best ms | median ms | page / text explain (time) |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for name, case in results["cases"].items():
        peer = case["text explain"]["best_s"]
        rows = [(f"page, {layout} layout" if case["drawn"] else "page (no drawing: past the limit)", figures)
                for layout, figures in case["pages"].items()]
        rows += [(peer_name, case[peer_name]) for peer_name in ("text explain", "graph json")]
        for what, figures in rows:
            ratio = figures["best_s"] / peer if peer else float("nan")
            print(f"| {name} | {case['nodes']:,} | {what} | {figures['bytes']:,} | {figures['best_s'] * 1000:.1f} | "
                  f"{figures['median_s'] * 1000:.1f} | {ratio:.1f}x |")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
