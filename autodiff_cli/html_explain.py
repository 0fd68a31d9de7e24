"""Backpropagation you can step through: `explain` as one self-contained HTML page.

`page(root, ...)` reads the same `Explanation` the text `explain` prints
(explain.py), lays the graph out top to bottom with the inputs at the bottom
(html_layout.py: Graphviz's dot when it is installed, a small layered layout
when not), and writes one HTML file: the data as JSON, the drawing's
coordinates, and the page's own script and style from autodiff_cli/assets/.
Nothing is fetched: no scripts, fonts or styles from anywhere, and a
Content-Security-Policy that allows only the page's own script and style, so the page opens from disk.

Everything the user typed (the expression, names, the file name) reaches the
page only as JSON data, which the script shows with textContent, never as HTML;
the JSON has <, > and & escaped so it cannot end its own script element.
Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from . import limits, ops
from .columns import number, short
from .engine import Value, forward, topological_order
from .errors import AutodiffError
from .explain import Explanation, explain
from .html_layout import Layout, box_size, builtin_layout, graphviz_layout

__all__ = ["DRAWING_LIMIT", "Layout", "builtin_layout", "graphviz_layout", "page", "page_data"]

# Above this many nodes the page draws no graph (it says so); the steps and the inspector's data are still there.
DRAWING_LIMIT = 500


def page(
    root: Value,
    expression: str,
    inputs: Iterable[Value] | None = None,
    file_name: str = "",
    layout: str = "auto",
) -> str:
    """The whole HTML page explaining backpropagation through `root`'s graph, whose values are computed.

    inputs: the variables differentiated (all, by default), as explain() takes them.
    layout: "auto" (Graphviz's dot when it is installed and the graph is within the picture limit,
    AUTODIFF_MAX_PICTURE; else the built-in layout), "graphviz" or "builtin".
    """
    data = page_data(root, expression, inputs, file_name, layout)
    return assemble(data)


def assemble(data: dict) -> str:
    """Put the data, the style and the script into one page, with a policy that allows only those."""
    style = _asset("explain.css")
    script = _asset("explain.js")
    policy = (
        "default-src 'none'; "
        f"script-src '{_digest(script)}'; style-src '{_digest(style)}'; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{html.escape(_valid(data['title']))}</title>",
        f"<style>{style}</style>",
        "</head>",
        "<body>",
        '<noscript><p>This page needs JavaScript to step through the passes; '
        "autodiff explain prints the same tables in a terminal.</p></noscript>",
        f'<script type="application/json" id="explanation">{embed_json(data)}</script>',
        f"<script>{script}</script>",
        "</body>",
        "</html>",
        "",
    ])


def embed_json(data: object) -> str:
    """JSON that is safe inside a script element: no <, > or & at all, so no </script> and no <!--."""
    text = _valid(json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _valid(text: str) -> str:
    """Text that UTF-8 can write: a lone surrogate (a file name's undecodable byte, as Python's argv holds it)
    becomes U+FFFD."""
    try:  # an undecodable byte comes back as itself, then one U+FFFD
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # other lone surrogates (from a program, not from argv)
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def _asset(name: str) -> str:
    return (resources.files("autodiff_cli") / "assets" / name).read_text(encoding="utf-8")


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


# -- the data -----------------------------------------------------------------------


def page_data(
    root: Value,
    expression: str,
    inputs: Iterable[Value] | None = None,
    file_name: str = "",
    layout: str = "auto",
) -> dict:
    """Everything the page shows, as plain JSON data: numbers are texts (six significant digits, and full
    precision for the inspector), so what the page prints is what Python printed."""
    if layout not in ("auto", "graphviz", "builtin"):
        raise ValueError(f"layout must be 'auto', 'graphviz' or 'builtin', not {layout!r}")
    inputs = None if inputs is None else list(inputs)
    order = topological_order(root)
    explanation = explain(root, inputs)
    grads = _gradients(explanation)
    wanted = None if inputs is None else {id(v) for v in inputs}
    checks = _central_differences(order, wanted, grads)
    nodes = []
    for step, node in zip(explanation.forward, order, strict=True):
        item: dict = {
            "label": step.label,
            "op": step.op,
            "symbol": _symbol(step.op),
            "inputs": list(step.inputs),
            "value": short(step.value),
            "full": number(step.value),
        }
        if step.id in grads:
            item["grad"] = short(grads[step.id])
            item["gradFull"] = number(grads[step.id])
        if step.id in checks:
            item["check"] = checks[step.id]
        if node.is_constant:
            item["constant"] = True
        nodes.append(item)
    backward = [
        {
            "from": e.node, "to": e.input, "arg": e.arg, "rule": e.rule, "local": short(e.local),
            "upstream": short(e.upstream), "product": short(e.product), "sum": short(e.total),
            "part": e.part, "parts": e.parts,
        }
        for e in explanation.backward
    ]
    data = {
        "title": f"autodiff explain {expression}",
        "expression": expression,
        "file": file_name,
        "value": number(explanation.root.value),
        "gradient": [[s.label, number(grads[s.id])] for s in explanation.forward
                     if s.op == "var" and s.id in grads],
        "nodes": nodes,
        "backward": backward,
        "limit": DRAWING_LIMIT,
        "drawing": None,
        "note": "",
    }
    if len(order) > DRAWING_LIMIT:
        data["note"] = (f"The graph has {len(order):,} nodes, more than the {DRAWING_LIMIT:,} this page draws: "
                        "it would be an unreadable tangle. The steps and their numbers are all here.")
        return data
    boxes = [box_size(item) for item in nodes]
    drawn = None
    # dot's time grows fast with the graph (about 5 s for 500 nodes here): past the picture limit that bounds
    # graph --format svg, "auto" takes the built-in layout, which needs a fraction of a second
    if layout == "graphviz" or (layout == "auto" and len(order) <= limits.get("picture")):
        drawn = graphviz_layout(explanation, boxes)
        if drawn is None and layout == "graphviz":
            data["note"] = "Graphviz's dot could not lay this graph out; the built-in layout drew it."
    kind = "Graphviz's dot" if drawn is not None else "the built-in layered layout"
    if drawn is None:
        drawn = builtin_layout(explanation, boxes)
    width, height, places, paths = drawn
    data["drawing"] = {
        "layout": kind,
        "width": round(width, 1),
        "height": round(height, 1),
        "boxes": [[round(v, 1) for v in box] for box in places],
        "edges": [[node, arg, path] for (node, arg), path in sorted(paths.items())],
    }
    return data


def _gradients(explanation: Explanation) -> dict[int, float]:
    """The gradient of every node that takes part in the backward pass: the output (seeded with 1) and the
    input of every edge.  Constants, and parts made of constants only, have none."""
    grads = {}
    if explanation.backward or explanation.root.op == "var":
        grads[explanation.root.id] = 1.0
    for edge in explanation.backward:
        grads[edge.input] = edge.total
    return grads


def _symbol(op: str) -> str:
    """What a node shows as its operation: the operator (+, *, ^) or the function's name; var or const."""
    spec = ops.OPS.get(op)
    if spec is None:
        return op
    return spec.symbol if spec.symbol is not None and spec.arity == 2 else spec.name


# The central differences for the inspector: at most this much work (nodes evaluated), then a note instead
CHECK_WORK = 1_000_000


def _central_differences(order: list[Value], wanted: set[int] | None, grads: dict[int, float]) -> dict[int, dict]:
    """For each variable: (f(x+h) - f(x-h)) / 2h with h = 1e-6 * max(1, |x|), beside the backward pass's
    gradient, as `autodiff check` computes it.  The graph's values are restored afterwards."""
    root = order[-1]
    leaves = [(i, node) for i, node in enumerate(order)
              if node.is_leaf and not node.is_constant and i in grads and (wanted is None or id(node) in wanted)]
    out: dict[int, dict] = {}
    if 2 * len(leaves) * len(order) > CHECK_WORK:
        for i, _ in leaves:
            out[i] = {"note": "not computed for a graph this large: autodiff check computes it"}
        return out
    saved = [node.data for node in order]
    try:
        for i, leaf in leaves:
            x = leaf.data
            h = 1e-6 * max(1.0, abs(x))
            try:
                ends = []
                for step in (h, -h):
                    leaf.data = x + step
                    forward(order)
                    ends.append(root.data)
                numeric = (ends[0] - ends[1]) / (2 * h)
            except AutodiffError as error:
                out[i] = {"note": f"no difference at {short(x)} ± {h:g}: {error}"}
                continue
            finally:
                leaf.data = x
            analytic = grads[i]
            error_ = abs(analytic - numeric) / max(1.0, abs(analytic), abs(numeric))
            out[i] = {"h": f"{h:g}", "numeric": short(numeric), "analytic": short(analytic),
                      "error": f"{error_:.1e}", "ok": math.isfinite(error_) and error_ <= 1e-5}
    finally:
        for node, value in zip(order, saved, strict=True):
            node.data = value
    return out


def write(path: Path, text: str) -> None:
    """Write the page whole or not at all (a temporary file, then a rename), as graph -o does."""
    from .export import write_atomic

    write_atomic(path, [text.rstrip("\n")])
