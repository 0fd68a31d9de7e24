"""explain and graph of a tensor expression (`sum(W@x + b)` with --W '[[1,2],[3,4]]').

views.py sends a call here when texpr.route says the expression or a binding needs tensors
(common.tensor_route); a scalar expression never loads this module.  The values are read and the
program built as the other tensor commands do (tensor_calculus.Point), then the Tensor graph is
read by the views' rooms: tensor_explain (+ tensor_explain_text) for explain, tensor_export for
graph's tree, DOT, Mermaid, JSON and pictures.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from ..errors import UsageError
from ..texpr import Built
from .common import console, is_terminal
from .tensor_calculus import Point, print_json
from .view_output import RESULT_TITLE, write_drawing, write_tree


def build(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], command: str) -> tuple[Point, Built]:
    """The program built on the values given: every variable needs one (a tensor's shape comes from its value)."""
    point = Point.read(text, texts, numbers)
    missing = [name for name in point.variables if name not in point.values]
    if missing:
        which = ", ".join(missing)
        raise UsageError(f"no value for {which}: {command} of a tensor expression needs a value for every variable "
                         f"(the shapes come from the values), e.g. --{missing[0]} '[1, 2]'")
    return point, point.program.build(point.values)


def _leaves(point: Point, built: Built) -> dict[str, object]:
    """The variables' leaf tensors in the order they appear in the expression."""
    return {name: built.leaves[name] for name in point.variables if name in built.leaves}


def explain_tensor(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], json_: bool,
                   page: Path | None) -> None:
    """autodiff explain on a tensor expression: both passes with shapes and VJP rules, as text, rich or JSON."""
    from ..tensor_explain import explain_tensors
    from ..tensor_explain_text import explanation_text, print_explanation, result_lines

    if page is not None:
        raise UsageError("the web page (--html, --output FILE.html) steps through a scalar expression's graph, a "
                         "number per node; for a tensor expression, explain prints the passes with their shapes "
                         "(or --json)")
    point, built = build(text, texts, numbers, "explain")
    explanation = explain_tensors(built.root, _leaves(point, built), built.labels)
    b = explanation.backend
    if json_:
        from ..tensor_graph import nested

        print_json({"expression": text, "value": nested(built.root.array, b),
                    "gradient": {name: nested(g, b) for name, g in explanation.gradients.items()},
                    **explanation.to_json()})
        return
    result = "\n".join(result_lines(explanation, built.root.array))
    if is_terminal():
        from rich.text import Text

        out = console()
        print_explanation(out, explanation)
        out.print()
        out.print(Text(RESULT_TITLE, style="bold"))
        out.print(Text(result))
    else:
        click.echo(f"{explanation_text(explanation)}\n\n{RESULT_TITLE}\n{result}")


def graph_tensor(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], kind: str,
                 output: Path | None, max_nodes: int, max_depth: int | None) -> None:
    """autodiff graph on a tensor expression: every format of the scalar graph, each node with its shape."""
    from .. import tensor_export

    _, built = build(text, texts, numbers, "graph")
    with_grads = built.root.size == 1
    if not with_grads:
        shape = tuple(built.root.shape)
        click.echo(f"Warning: the output has shape {shape}: gradients are drawn for an output of one number "
                   "(graph \"sum(...)\" of it for those of its sum)", err=True)
    view = tensor_export.TensorView.of(built.root, built.labels, with_grads)
    if kind == "tree":
        write_tree(lambda depth: tensor_export.graph_tree(view, max_nodes=max_nodes, max_depth=depth), output,
                   max_depth)
        return
    write_drawing(kind, output, len(view.order), {
        "dot": lambda: tensor_export.dot_lines(view),
        "mermaid": lambda: tensor_export.mermaid_lines(view),
        "json": lambda: tensor_export.json_lines(view, expression=text),
    })
