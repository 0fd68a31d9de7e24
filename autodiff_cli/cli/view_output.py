"""Writing what graph and explain draw, for scalar and tensor expressions alike: a drawing in a format
(DOT, Mermaid, JSON, or a picture from the DOT), a rich tree, and the title of explain's result."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import limits
from .common import console, is_terminal

IMAGES = ("svg", "png", "pdf")
RESULT_TITLE = "Result, at full precision"


def write_drawing(kind: str, output: Path | None, nodes: int, writers: dict[str, Callable[[], Iterable[str]]]) -> None:
    """The graph in format `kind` (dot, mermaid, json, or a picture drawn from the dot lines) to output or stdout.

    writers: each text format's lines, made on demand; nodes: how many the graph has (pictures are limited).
    """
    from .. import export

    if kind in IMAGES:
        limits.check("picture", nodes, "the graph has {size} nodes to draw",
                     "--format dot, mermaid or json write any graph as text")
        lines = writers["dot"]()
        if output is None:
            sys.stdout.flush()
            export.render_image_stream(sys.stdout.buffer, lines, kind)
        else:
            export.render_image(output, lines, kind)
        return
    lines = writers[kind]()
    if output is None:
        export.write_lines(sys.stdout, lines)
    else:
        export.write_atomic(output, lines)


def write_tree(make: Callable[[int], Any], output: Path | None, max_depth: int | None) -> None:
    """The rich tree that make(max_depth) draws, on stdout (styled on a terminal) or as plain text in a file."""
    from .. import export

    to_screen = output is None and is_terminal()
    out = console(wide=not to_screen)
    if max_depth is None:  # each level takes four columns of guides: stop before rich must crop
        max_depth = 60 if not to_screen else max(3, (out.width - 30) // 4)  # 30 columns left for a label
    tree = make(max_depth)
    if output is None:
        out.print(tree)
        return
    with out.capture() as captured:
        out.print(tree)
    export.write_atomic(output, [captured.get().rstrip("\n")])
