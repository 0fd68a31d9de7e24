"""Looking at graphs and at the op table: graph, functions."""

from __future__ import annotations

import click

from .. import ops, render
from .common import (
    FREE_ARGS,
    console,
    free_arguments,
    handles_errors,
    is_terminal,
    json_option,
    load,
    print_json,
    read_call,
    warn_unused,
)


@click.command("graph", context_settings=FREE_ARGS)
@click.option("--max-nodes", default=500, show_default=True, type=click.IntRange(1), help="Draw at most this many.")
@click.option(
    "--max-depth", type=click.IntRange(1), help="Draw at most this deep [default: what fits; 60 in a pipe]."
)
@free_arguments
@handles_errors
def graph_command(args: tuple[str, ...], max_nodes: int, max_depth: int | None) -> None:
    """Draw the computation graph of EXPR as a tree: op, value and gradient of every node.

    The output is at the top and each node's inputs are below it, in order.  A
    node used by several others is drawn once, tagged #n, and referred to where
    it recurs.  Without bindings the structure alone is drawn.

    \b
    Examples:
      autodiff graph "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff graph "x*x + x"
    """
    text, bindings = read_call(args)
    expr = load(text)
    with_values = bool(bindings) or not expr.variables
    if with_values:
        expr.gradient(bindings)
        warn_unused(expr, bindings)
    out = console(wide=not is_terminal())
    if max_depth is None:  # each level takes four columns of guides: stop before rich must crop
        max_depth = 60 if not is_terminal() else max(8, (out.width - 30) // 4)
    out.print(render.graph_tree(expr.root, with_values, max_nodes=max_nodes, max_depth=max_depth))


@click.command("functions")
@json_option
def functions_command(json_: bool) -> None:
    """List every operator and function with its derivative rule.

    The rules are the op table's own formulas: the same text the engine
    compiles for backward and the symbolic differentiator evaluates.

    \b
    Examples:
      autodiff functions
      autodiff functions --json | jq '.[] | select(.name == "tanh")'
    """
    if json_:
        document = [
            {
                "name": op.name,
                "arity": op.arity,
                "syntax": op.signature(),
                "derivatives": [op.grad_text(i) for i in range(op.arity)],
                "doc": op.doc,
                "note": op.note,
            }
            for op in ops.functions()
        ]
        print_json(document)
    elif is_terminal():
        render.functions_table(console())
    else:
        click.echo(render.functions_text())


COMMANDS = (graph_command, functions_command)
