"""Pictures in characters: a loss curve, and the decision regions of a classifier in two inputs.

Standard library only; the command line adds colour when it draws on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

BLOCKS = " ▁▂▃▄▅▆▇█"  # eighths of a cell


def tick(x: float) -> str:
    return f"{x:.3g}"


def loss_curve(values: Sequence[float], width: int = 60, height: int = 8, title: str = "loss",
               columns: int | None = None) -> str:
    """Column chart of the values (one column per epoch, or per group of epochs), from 0 to the largest.

    Each column is the mean of its group of epochs, drawn in eighths of a character.  columns: the
    most characters a line may take (a terminal's width), the axis and its labels included.
    """
    if not values:
        return ""
    n = len(values)
    cols = min(width, n)
    while True:
        groups = [values[c * n // cols : (c + 1) * n // cols] for c in range(cols)]
        means = [sum(g) / len(g) for g in groups]
        top = max(max(means), 0.0)
        bottom = min(min(means), 0.0)  # losses are >= 0; the axis starts at 0
        labels = [tick(top), tick(bottom)]
        pad = max(len(s) for s in labels)
        if columns is None or cols == 1 or pad + 2 + cols <= columns:
            break
        cols = max(1, columns - pad - 2)  # the labels follow the groups: draw again until the lines fit
    span = top - bottom or 1.0
    heights = [round((m - bottom) / span * height * 8) for m in means]
    lines = [f"{title}"]
    for r in range(height):
        base = (height - 1 - r) * 8
        row = "".join(BLOCKS[min(8, max(0, h - base))] for h in heights)
        label = labels[0] if r == 0 else (labels[1] if r == height - 1 else "")
        lines.append(f"{label.rjust(pad)} ┤{row}".rstrip())
    lines.append(f"{' ' * pad} └{'─' * cols}")
    first, last = "1", f"{n} epochs"
    lines.append(f"{' ' * pad}  {first}{last.rjust(max(cols - len(first), len(last) + 1))}")
    return "\n".join(lines)


@dataclass
class Boundary:
    """A grid of predicted classes with the data points on top; rows go from the top (largest y) down."""

    classes: list[list[int]]  # class index per cell
    points: dict[tuple[int, int], int]  # (row, col) -> class of the points there (the most frequent)
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    x_name: str
    y_name: str
    labels: list[str]


REGION = ".:-~=+^'"  # a light character per class for its region
POINT = "oxs*#@%&"  # a heavy character per class for its points


def decision_boundary(
    predict: Callable[[list[tuple[float, float]]], list[int]],
    points: Sequence[tuple[float, float]],
    classes: Sequence[int],
    labels: Sequence[str],
    names: tuple[str, str],
    width: int = 60,
    height: int = 20,
) -> Boundary:
    """The predicted class at the centre of every cell of a grid covering the points (5% margin).

    predict: the class of each of a list of points (x, y), all the grid's cells in one call (row after
    row, from the top), so that a model can take them as one batch.
    """
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = _padded(min(xs), max(xs))
    y0, y1 = _padded(min(ys), max(ys))
    centres = [(x0 + (c + 0.5) * (x1 - x0) / width, y1 - (r + 0.5) * (y1 - y0) / height)
               for r in range(height) for c in range(width)]
    found = predict(centres)
    grid = [found[r * width : (r + 1) * width] for r in range(height)]
    counts: dict[tuple[int, int], dict[int, int]] = {}
    for (px, py), k in zip(points, classes, strict=True):
        c = min(width - 1, int((px - x0) / (x1 - x0) * width))
        r = min(height - 1, int((y1 - py) / (y1 - y0) * height))
        cell = counts.setdefault((r, c), {})
        cell[k] = cell.get(k, 0) + 1
    marks = {rc: max(sorted(cell), key=cell.__getitem__) for rc, cell in counts.items()}
    return Boundary(grid, marks, (x0, x1), (y0, y1), names[0], names[1], list(labels))


def _padded(lo: float, hi: float) -> tuple[float, float]:
    pad = (hi - lo) * 0.05 or 1.0
    return lo - pad, hi + pad


def boundary_cells(b: Boundary) -> list[list[tuple[str, int, bool]]]:
    """Each cell as (character, class, is a point), for a drawer to colour."""
    rows = []
    for r, line in enumerate(b.classes):
        row = []
        for c, k in enumerate(line):
            if (r, c) in b.points:
                kp = b.points[(r, c)]
                row.append((POINT[kp % len(POINT)], kp, True))
            else:
                row.append((REGION[k % len(REGION)], k, False))
        rows.append(row)
    return rows


def boundary_text(b: Boundary) -> str:
    """The picture in plain characters, with axes and a legend."""
    rows = ["".join(ch for ch, _, _ in row) for row in boundary_cells(b)]
    lines = [boundary_title(b)]
    lines += [f"{margin} │{row}" for margin, row in zip(boundary_margins(b), rows, strict=True)]
    lines += boundary_footer(b)
    return "\n".join(lines)


def boundary_title(b: Boundary) -> str:
    return f"decision regions over {b.x_name} (across) and {b.y_name} (up)"


def boundary_margins(b: Boundary) -> list[str]:
    """The y axis: the top and bottom values beside the first and last rows."""
    pad = max(len(tick(v)) for v in b.y_range)
    n = len(b.classes)
    return [(tick(b.y_range[1]) if r == 0 else tick(b.y_range[0]) if r == n - 1 else "").rjust(pad) for r in range(n)]


def boundary_footer(b: Boundary) -> list[str]:
    """The x axis with its end values, and the legend."""
    pad = " " * max(len(tick(v)) for v in b.y_range)
    width = len(b.classes[0])
    lo, hi = tick(b.x_range[0]), tick(b.x_range[1])
    return [f"{pad} └{'─' * width}", f"{pad}  {lo}{hi.rjust(width - len(lo))}", legend(b)]


def legend(b: Boundary) -> str:
    parts = [
        f"{POINT[k % len(POINT)]} {label} (region {REGION[k % len(REGION)]})" for k, label in enumerate(b.labels)
    ]
    return "   ".join(parts)
