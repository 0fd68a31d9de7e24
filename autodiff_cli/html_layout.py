"""The drawing of the HTML explanation: where each node's box and each edge's curve go, inputs at the bottom.

Graphviz's dot lays the graph out when it is installed (its plain output read
back into the page's pixels); else a small layered layout here: rows by depth,
a few sweeps that order each row by its neighbours, curves from an input's top
to its consumer's bottom.  html_explain.py puts the result on the page.
Standard library only.
"""

from __future__ import annotations

import io
import shlex

from .columns import width
from .errors import AutodiffError
from .explain import Explanation

__all__ = ["Layout", "box_size", "builtin_layout", "graphviz_layout"]

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


def box_size(item: dict) -> tuple[float, float]:
    """A node's box: three lines (label and operation, value, gradient) in 13 px monospace."""
    lines = [f"{_cut(item['label'])}  {item['symbol']}", f"value {item['value']}", f"grad {item.get('grad', '-')}"]
    columns = max(width(line) for line in lines)
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
