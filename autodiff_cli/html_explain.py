"""Backpropagation you can step through: `explain` as one self-contained HTML page.

`page(root, ...)` reads the same `Explanation` the text `explain` prints
(explain.py), lays the graph out top to bottom with the inputs at the bottom
(Graphviz's dot when it is installed, a small layered layout here when not),
and writes one HTML file: the data as JSON, the drawing's coordinates, and the
page's own script and style from autodiff_cli/assets/.  Nothing is fetched: no
scripts, fonts or styles from anywhere, and a Content-Security-Policy that
allows only the page's own script and style, so the page opens from disk.

Everything the user typed (the expression, names, the file name) reaches the
page only as JSON data, which the script shows with textContent, never as HTML;
the JSON has <, > and & escaped so it cannot end its own script element.
Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import shlex
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from . import limits, ops, render
from .engine import Value, forward, topological_order
from .errors import AutodiffError
from .explain import Explanation, explain

__all__ = ["DRAWING_LIMIT", "Layout", "builtin_layout", "graphviz_layout", "page", "page_data"]

# Above this many nodes the page draws no graph (it says so); the steps and the inspector's data are still there.
DRAWING_LIMIT = 500

# The drawing's measures, in CSS pixels: the page's monospace text is 13 px, about 8 px a character.
CHAR = 8.0
LINE = 17.0
PAD = 9.0
GAP_X = 28.0  # between neighbours in a row
GAP_Y = 56.0  # between rows
LABEL_CHARS = 24  # a longer label is cut in the drawing (the inspector shows it whole)

# A layout: the drawing's width and height, each node's box (left, top, width, height), and each edge's path
# as SVG path data, keyed by (node, argument): the edge from node's argument to node.
Layout = tuple[float, float, list[tuple[float, float, float, float]], dict[tuple[int, int], str]]


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
            "value": render.short(step.value),
            "full": render.number(step.value),
        }
        if step.id in grads:
            item["grad"] = render.short(grads[step.id])
            item["gradFull"] = render.number(grads[step.id])
        if step.id in checks:
            item["check"] = checks[step.id]
        if node.is_constant:
            item["constant"] = True
        nodes.append(item)
    backward = [
        {
            "from": e.node, "to": e.input, "arg": e.arg, "rule": e.rule, "local": render.short(e.local),
            "upstream": render.short(e.upstream), "product": render.short(e.product), "sum": render.short(e.total),
            "part": e.part, "parts": e.parts,
        }
        for e in explanation.backward
    ]
    data = {
        "title": f"autodiff explain {expression}",
        "expression": expression,
        "file": file_name,
        "value": render.number(explanation.root.value),
        "gradient": [[s.label, render.number(grads[s.id])] for s in explanation.forward
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
    boxes = [_box_size(item) for item in nodes]
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
                out[i] = {"note": f"no difference at {render.short(x)} ± {h:g}: {error}"}
                continue
            finally:
                leaf.data = x
            analytic = grads[i]
            error_ = abs(analytic - numeric) / max(1.0, abs(analytic), abs(numeric))
            out[i] = {"h": f"{h:g}", "numeric": render.short(numeric), "analytic": render.short(analytic),
                      "error": f"{error_:.1e}", "ok": math.isfinite(error_) and error_ <= 1e-5}
    finally:
        for node, value in zip(order, saved, strict=True):
            node.data = value
    return out


# -- the drawing --------------------------------------------------------------------


def _box_size(item: dict) -> tuple[float, float]:
    """A node's box: three lines (label and operation, value, gradient) in 13 px monospace."""
    lines = [f"{_cut(item['label'])}  {item['symbol']}", f"value {item['value']}", f"grad {item.get('grad', '-')}"]
    columns = max(render.width(line) for line in lines)
    return columns * CHAR + 2 * PAD, 3 * LINE + 2 * PAD - 4


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _ranks(explanation: Explanation) -> list[int]:
    """Rows from the bottom: variables in row 0, each operation one above its highest input; a part made of
    constants only sits just below its lowest consumer (a `+ 1` near the output does not reach up from row 0)."""
    steps = explanation.forward
    rank = [0] * len(steps)
    fixed = [False] * len(steps)  # made of constants only
    for s in steps:
        fixed[s.id] = s.op == "const" or (bool(s.inputs) and all(fixed[i] for i in s.inputs))
        if s.inputs:
            rank[s.id] = 1 + max(rank[i] for i in s.inputs)
    lowest: dict[int, int] = {}
    for s in reversed(steps):  # consumers first
        if fixed[s.id] and s.id in lowest:
            rank[s.id] = lowest[s.id] - 1
        for i in s.inputs:
            lowest[i] = min(lowest.get(i, rank[s.id]), rank[s.id])
    return rank


def builtin_layout(explanation: Explanation, boxes: list[tuple[float, float]]) -> Layout:
    """A layered drawing: rows by _ranks, the output on top; in each row the nodes ordered by the mean
    position of their neighbours (a few sweeps down and up), then packed left to right without overlap
    and centred.  Edges are vertical curves from an input's top to its consumer's bottom."""
    steps = explanation.forward
    rank = _ranks(explanation)
    top = max(rank)
    rows: list[list[int]] = [[] for _ in range(top + 1)]
    for s in steps:
        rows[rank[s.id]].append(s.id)
    consumers: list[list[int]] = [[] for _ in steps]
    for s in steps:
        for i in s.inputs:
            consumers[i].append(s.id)
    where = [0.0] * len(steps)

    def place() -> None:
        for row in rows:
            for k, i in enumerate(row):
                where[i] = (k + 0.5) / len(row)

    place()
    for _ in range(4):
        for r in range(1, top + 1):  # upwards: by the inputs
            rows[r].sort(key=lambda i: _mean([where[p] for p in steps[i].inputs], where[i]))
            place()
        for r in range(top - 1, -1, -1):  # downwards: by the consumers
            rows[r].sort(key=lambda i: _mean([where[c] for c in consumers[i]], where[i]))
            place()
    widths = [sum(boxes[i][0] for i in row) + GAP_X * (len(row) - 1) for row in rows]
    width = max(widths) + 2 * GAP_X
    row_height = max(h for _, h in boxes) + GAP_Y
    places: list[tuple[float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0)] * len(steps)
    for r, row in enumerate(rows):
        x = (width - widths[r]) / 2
        y = GAP_Y / 2 + (top - r) * row_height
        for i in row:
            w, h = boxes[i]
            places[i] = (x, y, w, h)
            x += w + GAP_X
    height = (top + 1) * row_height
    return width, height, places, _curves(explanation, places, consumers)


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _curves(explanation: Explanation, places: list[tuple[float, float, float, float]],
            consumers: list[list[int]]) -> dict[tuple[int, int], str]:
    """Each edge as a cubic curve from the input's top edge to the consumer's bottom edge; the ends are spread
    along the edges, so x * x draws two separate curves."""
    steps = explanation.forward
    outgoing = {i: 0 for i in range(len(steps))}
    fanout = [len(c) for c in consumers]
    paths = {}
    for s in steps:
        cx, cy, cw, ch = places[s.id]
        for arg, i in enumerate(s.inputs):
            px, py, pw, _ = places[i]
            outgoing[i] += 1
            x0 = px + pw * outgoing[i] / (fanout[i] + 1)
            y0 = py
            x1 = cx + cw * (arg + 1) / (len(s.inputs) + 1)
            y1 = cy + ch
            bend = max(24.0, (y0 - y1) / 2)
            paths[(s.id, arg)] = (f"M{x0:.1f},{y0:.1f} C{x0:.1f},{y0 - bend:.1f} {x1:.1f},{y1 + bend:.1f} "
                                  f"{x1:.1f},{y1:.1f}")
    return paths


def graphviz_layout(explanation: Explanation, boxes: list[tuple[float, float]]) -> Layout | None:
    """Graphviz's layout (dot -Tplain), inputs at the bottom: its node positions and edge splines, drawn by the
    page.  None when dot is not installed, fails, or takes longer than the drawing limit (AUTODIFF_MAX_DRAWING)."""
    from .export import dot_program, render_image_stream

    program = dot_program()
    if program is None:
        return None
    steps = explanation.forward
    lines = ["digraph g {", "  graph [rankdir=BT, nodesep=0.35, ranksep=0.6, splines=true];",
             '  node [shape=box, fixedsize=true, label=""];', "  edge [arrowhead=none];"]
    for s in steps:
        w, h = boxes[s.id]
        lines.append(f"  n{s.id} [width={w / 72:.3f}, height={h / 72:.3f}];")
    for s in steps:
        for i in s.inputs:
            lines.append(f"  n{i} -> n{s.id};")
    lines.append("}")
    plain = io.BytesIO()
    try:  # export runs dot (with its time limit, AUTODIFF_MAX_DRAWING, and its care with signals)
        render_image_stream(plain, lines, "plain", program)
        return _read_plain(plain.getvalue().decode("utf-8"), explanation, boxes)
    except (AutodiffError, OSError, ValueError, IndexError, KeyError):
        return None


def _read_plain(text: str, explanation: Explanation, boxes: list[tuple[float, float]]) -> Layout:
    """Graphviz's plain output in points (y upwards) to the page's pixels (y downwards), with a margin."""
    margin = GAP_X / 2
    height = 0.0
    width = 0.0
    centres: dict[int, tuple[float, float]] = {}
    splines: dict[tuple[int, int], list[list[tuple[float, float]]]] = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if not words:
            continue
        if words[0] == "graph":
            width, height = float(words[2]) * 72, float(words[3]) * 72
        elif words[0] == "node":
            centres[int(words[1][1:])] = (float(words[2]) * 72, float(words[3]) * 72)
        elif words[0] == "edge":
            tail, head, n = int(words[1][1:]), int(words[2][1:]), int(words[3])
            points = [(float(words[4 + 2 * k]) * 72, float(words[5 + 2 * k]) * 72) for k in range(n)]
            splines.setdefault((tail, head), []).append(points)

    def at(x: float, y: float) -> tuple[float, float]:
        return x + margin, height - y + margin

    places = []
    for s in explanation.forward:
        w, h = boxes[s.id]
        x, y = at(*centres[s.id])
        places.append((x - w / 2, y - h / 2, w, h))
    paths = {}
    for s in explanation.forward:
        for arg, i in enumerate(s.inputs):
            points = [at(x, y) for x, y in splines[(i, s.id)].pop(0)]
            path = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
            for k in range(1, len(points) - 2, 3):
                (ax, ay), (bx, by), (cx, cy) = points[k: k + 3]
                path += f" C{ax:.1f},{ay:.1f} {bx:.1f},{by:.1f} {cx:.1f},{cy:.1f}"
            paths[(s.id, arg)] = path
    return width + 2 * margin, height + 2 * margin, places, paths


def write(path: Path, text: str) -> None:
    """Write the page whole or not at all (a temporary file, then a rename), as graph -o does."""
    from .export import write_atomic

    write_atomic(path, [text.rstrip("\n")])
