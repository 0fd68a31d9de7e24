"""Looking at graphs and at the op table: graph, explain, functions."""

from __future__ import annotations

from pathlib import Path

import click

from .. import ops, render
from ..errors import UsageError, shortened
from ..expression import Expression
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
    tensor_route,
    warn_unused,
)
from .group import Command
from .view_output import IMAGES, RESULT_TITLE, write_drawing, write_tree

# what a file's extension asks for; the image formats are drawn by Graphviz from DOT
EXTENSIONS = {
    ".txt": "tree", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".json": "json",
    ".svg": "svg", ".png": "png", ".pdf": "pdf",
}


def output_format(format_: str | None, output: Path | None) -> str:
    """The format to write: --format, else the output file's extension, else the tree (also for a stream)."""
    from .. import export

    if format_ in IMAGES:
        return format_
    kind = EXTENSIONS.get(output.suffix.lower()) if output is not None else None
    if kind in IMAGES:
        if format_ not in (None, "dot"):
            raise UsageError(f"--output {output.name}: a .{kind} picture is drawn from DOT, not --format {format_}")
        return kind
    if format_ is not None:
        return format_
    if output is None or (kind is None and export.is_stream(output)):
        return "tree"  # stdout, or /dev/stdout, a FIFO, ...: the tree, as on stdout
    if kind is None:
        known = ", ".join(EXTENSIONS)
        raise UsageError(f"--output {output.name}: unknown extension (use one of {known}, or give --format)")
    return kind


def _is_terminal_path(path: str) -> bool:
    """Whether `path` names a terminal (-o /dev/tty): a character device that isatty() says is one."""
    import os
    import stat

    try:
        if not stat.S_ISCHR(os.stat(path).st_mode):
            return False
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _a_file_name(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("needs a file name (or - for stdout)", ctx=ctx, param=param)
    return Path(value)


@click.command("graph", cls=Command, context_settings=FREE_ARGS)
@click.option(
    "--format", "format_", type=click.Choice(["tree", "dot", "mermaid", "json", *IMAGES]),
    help="tree (the default), dot (Graphviz), mermaid (Markdown notes), json, or a picture drawn by Graphviz's dot "
    "(svg, png, pdf).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE", callback=_a_file_name,
    help="Write to FILE (its extension chooses the format) instead of stdout; - is stdout. "
    ".svg, .png and .pdf are drawn with Graphviz's dot.",
)
@click.option("--max-nodes", default=500, show_default=True, type=click.IntRange(1),
              help="Draw at most this many in the tree (dot, mermaid, json and pictures hold the whole graph).")
@click.option(
    "--max-depth", type=click.IntRange(1), help="Draw at most this deep [default: what fits; 60 in a pipe]."
)
@free_arguments
@handles_errors
def graph_command(
    args: tuple[str, ...], format_: str | None, output: Path | None, max_nodes: int, max_depth: int | None
) -> None:
    """Draw the computation graph of EXPR: a tree, Graphviz DOT, Mermaid, JSON or a picture.

    The tree has the output at the top and each node's inputs below it, in
    order; a node used by several others is drawn once, tagged #n, and referred
    to where it recurs.  DOT and Mermaid draw a record per value (its data and
    grad) and a small node per operation, inputs flowing left to right.  With a
    value for every variable each node shows its value and its gradient after
    backward(); otherwise the structure alone is drawn (with a warning naming
    the variables without a value, if some have one).  --max-nodes and
    --max-depth bound the tree only.  On a tensor expression every node
    shows its shape too, and its values and gradient when it has at most 16
    numbers (the JSON holds them all).

    \b
    Examples:
      autodiff graph "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff graph "x*x + x"
      autodiff graph "tanh(w*x+b)" x=2 w=-3 b=1 --format mermaid
      autodiff graph "tanh(w*x+b)" x=2 w=-3 b=1 --output neuron.svg
      autodiff graph "tanh(w*x+b)" x=2 w=-3 b=1 --format svg > neuron.svg
      autodiff graph "sum(tanh(W@x + b))" --W '[[1,2],[3,4]]' --x '[1,-1]' --b '[0,1]'
    """
    from .. import export

    texts: dict[str, str] = {}
    text, bindings = read_call(args, texts=texts)
    if output is not None and str(output) == "-":  # --output - is stdout, as if no --output were given
        output = None
    kind = output_format(format_, output)
    if kind in ("png", "pdf") and (is_terminal() if output is None else _is_terminal_path(str(output))):
        raise UsageError(f"a {kind} picture is binary: write it to a file (--output graph.{kind}) or redirect stdout")
    if tensor_route(text, texts, bindings):
        from . import tensor_views  # the tensor path loads only when an expression or a binding needs it

        tensor_views.graph_tensor(text, texts, bindings, kind, output, max_nodes, max_depth)
        return
    expr = load(text)
    missing = [name for name in expr.variables if name not in bindings]
    warn_unused(expr, bindings)
    with_values = not missing  # every variable has a value (or there is none): values and gradients
    if with_values:
        expr.gradient(bindings)
    elif bindings:  # some values, not all: the structure, and what is missing
        click.echo(f"Warning: no value for {', '.join(missing)}: the structure is drawn without values", err=True)
    if kind == "tree":
        tree_output(expr, with_values, output, max_nodes, max_depth)
        return
    write_drawing(kind, output, len(expr.order), {
        "dot": lambda: export.dot_lines(expr.root, with_values, order=expr.order),
        "mermaid": lambda: export.mermaid_lines(expr.root, with_values, order=expr.order),
        "json": lambda: export.json_lines(expr.root, with_values, expression=text, order=expr.order),
    })


def tree_output(
    expr: Expression, with_values: bool, output: Path | None, max_nodes: int, max_depth: int | None
) -> None:
    write_tree(lambda depth: render.graph_tree(expr.root, with_values, max_nodes=max_nodes, max_depth=depth),
               output, max_depth)


@click.command("explain", cls=Command, context_settings=FREE_ARGS)
@json_option
@click.option(
    "--html", "html", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE", callback=_a_file_name,
    help="Write one self-contained web page to FILE that steps through both passes (- is stdout).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE.html", callback=_a_file_name,
    help="The same as --html FILE, for a FILE ending in .html or .htm.",
)
@free_arguments
@handles_errors
def explain_command(args: tuple[str, ...], json_: bool, html: Path | None, output: Path | None) -> None:
    """Show backpropagation step by step: the forward pass, then every edge of the backward pass.

    The forward pass lists every node after its inputs with its value.  The
    backward pass follows the engine's own order from the output down: for each
    edge, the local derivative (the op table's rule and its value), the gradient
    arriving from above, their product, and the input's gradient so far where it
    receives several contributions.  The same as autodiff grad ... --steps.

    \b
    Examples:
      autodiff explain "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff explain "x*x" x=3
      autodiff explain "tanh(w*x+b)" x=2 w=-3 b=1 --json | jq '.backward[0]'
      autodiff explain "x*x + x" x=3 --html backprop.html
      autodiff explain "sum(W@x + b)" --W '[[1,2],[3,4]]' --x '[1,1]' --b '[0,1]'
    """
    page = _page_file(html, output, json_)
    texts: dict[str, str] = {}
    text, bindings = read_call(args, texts=texts)
    if tensor_route(text, texts, bindings):
        from . import tensor_views  # the tensor path loads only when an expression or a binding needs it

        tensor_views.explain_tensor(text, texts, bindings, json_, page)
        return
    expr = load(text)
    value, gradient = expr.gradient(bindings)
    warn_unused(expr, bindings)
    if page is None:
        print_steps(expr, text, value, gradient, json_)
        return
    from .. import html_explain

    document = html_explain.page(expr.root, text, [expr.variables[name] for name in gradient],
                                 file_name="" if str(page) == "-" else page.name)
    if str(page) == "-":
        click.echo(document, nl=False)
    else:
        html_explain.write(page, document)


def _page_file(html: Path | None, output: Path | None, json_: bool) -> Path | None:
    """Where explain writes its web page (--html FILE or -o FILE.html), or None to print the steps."""
    if output is not None:
        if html is not None:
            raise UsageError("--html and --output both name the page: give one")
        if str(output) != "-" and output.suffix.lower() not in (".html", ".htm"):
            raise UsageError(f"--output {output.name}: explain writes a web page (.html); "
                             "for the tables or --json, redirect stdout")
        html = output
    if html is not None and json_:
        raise UsageError("--json prints the steps as JSON and --html writes them as a page: give one")
    return html


def print_steps(expr: Expression, text: str, value: float, gradient: dict[str, float], json_: bool) -> None:
    """The explanation, then the value and gradient at full precision (explain, grad --steps)."""
    from ..explain import explain

    explanation = explain(expr.root, [expr.variables[name] for name in gradient])
    if json_:
        print_json({"expression": text, "value": value, "gradient": gradient, **explanation.to_json()})
        return
    result = render.gradient_text(value, gradient)
    if is_terminal():
        from rich.text import Text

        out = console()
        render.explanation_tables(out, explanation)
        out.print()
        out.print(Text(RESULT_TITLE, style="bold"))
        out.print(Text(result))
    else:
        click.echo(f"{render.explanation_text(explanation)}\n\n{RESULT_TITLE}\n{result}")



@click.command("functions", cls=Command)
@json_option
@click.option("--code", "code", metavar="NAME", help="Print the Python the engine runs for one operation.")
@click.option("--markdown", is_flag=True, help="Print the table as Markdown (docs/functions.md).")
def functions_command(json_: bool, code: str | None, markdown: bool) -> None:
    """List every operator and function with its derivative rule.

    The rules are the op table's own formulas: the same text the engine
    compiles for backward and the symbolic differentiator evaluates.

    \b
    Examples:
      autodiff functions
      autodiff functions --json | jq '.[] | select(.name == "tanh")'
      autodiff functions --code mul
    """
    if code is not None:
        from ..rulecode import backward_source

        op = ops.lookup(code)
        if op is None:
            raise click.BadParameter(f"no operation called {shortened(code)} (autodiff functions lists them)",
                                     param_hint="--code")
        click.echo(f"# forward, on floats (domain checks aside)\n{op.forward_python}\n\n"
                   f"# backward: one node's local derivatives, times its gradient, added to its parents'\n"
                   f"{backward_source(op)}", nl=False)
        return
    if markdown:
        click.echo(render.functions_markdown(), nl=False)
        return
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


COMMANDS = (graph_command, explain_command, functions_command)
