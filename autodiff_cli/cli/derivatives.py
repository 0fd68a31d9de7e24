"""Derivatives beyond the gradient: diff (as expressions), hessian, jacobian (check is in check.py)."""

from __future__ import annotations

import itertools
import math

import click

from .. import limits, ops, render, symbolic
from ..engine import Value
from ..errors import MathError, UsageError, shortened, visible
from ..expression import Expression, require_values
from ..limits import LIMITS
from ..notation import is_name
from .common import (
    FREE_ARGS,
    console,
    free_arguments,
    handles_errors,
    is_terminal,
    json_option,
    load,
    mode_option,
    print_json,
    read_call,
    read_calls,
    split_names,
    tensor_route,
    warn_unused,
    wrt_option,
)
from .group import Command


def variables_of(expr: Expression, wrt: tuple[str, ...]) -> list[str]:
    """The variables --wrt names (all, in order of appearance, without it), each checked to be one."""
    names = split_names(wrt) if wrt else list(expr.variables)
    expr.check_wrt(names)
    return names


# -- diff -----------------------------------------------------------------------


@click.command("diff", cls=Command, context_settings=FREE_ARGS)
@wrt_option
@click.option(
    "--order", default=1, show_default=True, type=click.IntRange(min=1),
    help=f"Differentiate this many times (1 to {LIMITS['order'].default}; {LIMITS['order'].env} raises it).",
)
@click.option(
    "--partial", "partial", multiple=True, metavar="NAMES",
    help="One higher partial derivative, in this order: x,y is d2f/dxdy, x,x,x the third derivative in x.",
)
@json_option
@free_arguments
@handles_errors
def diff_command(args: tuple[str, ...], wrt: tuple[str, ...], order: int, partial: tuple[str, ...],
                 json_: bool) -> None:
    """Print the derivative of EXPR as an expression, simplified.

    With one variable (one --wrt, or an expression of one variable) the output is
    the expression alone, so $(autodiff diff ...) can be evaluated.  With several,
    one line each, "x: ...".  --order N with several variables prints every
    distinct N-th partial derivative, "x,y: ..." for d2/dxdy (= d2/dydx);
    --partial x,y prints that one.  A variable the expression lacks has
    derivative 0 (with a warning): diff "5" prints 0.  Symbolic derivatives
    of tensor expressions (sum(x), A@x) are out of scope: grad and jacobian
    give their numbers at a point.

    \b
    Examples:
      autodiff diff "x^3*sin(x)"                     # x^3*cos(x) + 3*x^2*sin(x)
      autodiff diff "tanh(w*x+b)" --wrt w,b
      autodiff diff "x^2*y^3" --order 2              # x,x  x,y  y,y
      autodiff diff "x^2*y^3" --partial x,y          # 6*x*y^2
      autodiff eval "$(autodiff diff 'x^3*sin(x)')" --x 2
    """
    texts: dict[str, str] = {}
    text, bindings = read_call(args, texts=texts)
    if tensor_route(text, texts, bindings):
        raise UsageError("diff prints the derivative of a scalar expression as an expression; symbolic "
                         "derivatives of tensor expressions are out of scope: for their numbers at a point, "
                         "use autodiff grad (an expression whose value is one number) or autodiff jacobian")
    if bindings:
        raise UsageError("diff prints the derivative as an expression and takes no values; "
                         "for numbers at a point use grad or hessian")
    if partial and (wrt or order != 1):
        raise UsageError("--partial names the derivative itself: leave out --wrt and --order")
    expr = load(text)
    if partial:
        names = _partial_names(partial)
        limits.check("order", len(names), "--partial asks for a derivative of order {size}")
        found = {tuple(names): _partial(expr, names)}
    else:
        names = split_names(wrt) if wrt else list(expr.variables)
        limits.check("order", order, "--order is {size}")
        found = _partials(expr, names, order)
    labels = [",".join(key) for key in found]
    # the printed length: the texts, "key: " before each when there are several, a newline between lines
    extra = (sum(len(label) + 2 for label in labels) if len(found) > 1 else 0) + len(found) - 1
    budget = limits.get("output")
    advice = "evaluate it at a point with grad or hessian instead"
    least = sum(symbolic.printed_lengths(list(found.values()))) + extra  # refused before any text if hopeless
    limits.check("output", least, "diff would print at least {size} characters", advice)
    results = {label: symbolic.to_text(graph, budget) for label, graph in zip(labels, found.values(), strict=True)}
    limits.check("output", sum(len(t) for t in results.values()) + extra, "diff would print {size} characters", advice)
    if json_:
        print_json({label: value for label, value in results.items() if label})  # no variables: {}
    elif len(results) == 1:
        click.echo(next(iter(results.values())))
    else:
        for key, value in results.items():
            click.echo(f"{key}: {value}")


def _absent(expr: Expression, names: list[str]) -> list[str]:
    """The names the expression does not have (their derivatives are 0: a warning says so); a constant
    named is an error."""
    absent = [n for n in dict.fromkeys(names) if n not in expr.variables]
    for name in absent:
        if name in ops.CONSTANTS or not is_name(name):
            expr.check_wrt([name])  # a constant, or no name at all: the error of any other command
    for name in absent:
        click.echo(f"Warning: {visible(shortened(name))} does not occur in the expression; "
                   "the derivative with respect to it is 0", err=True)
    return absent


def _partials(expr: Expression, names: list[str], order: int) -> dict[tuple[str, ...], Value]:
    """Every distinct partial derivative of this order over names, 0 where a name does not occur."""
    zero = Value.constant(0.0)
    if not names:  # an expression without variables: its derivative (by anything) is 0
        return {(): zero}
    absent = _absent(expr, names)
    present = [n for n in names if n not in absent]
    found = symbolic.partials(expr.root, expr.variables, present, order) if present else {}
    if not absent:
        return found
    return {key: found.get(key, zero) for key in (tuple(names[i] for i in index)
            for index in itertools.combinations_with_replacement(range(len(names)), order))}


def _partial_names(values: tuple[str, ...]) -> list[str]:
    names = [n.strip() for value in values for n in value.split(",")]
    if not all(names):
        raise UsageError(f"--partial {','.join(values)!r}: empty variable name")
    return names


def _partial(expr: Expression, names: list[str]) -> Value:
    """One partial derivative: by names[0], then names[1], ... (x,y: d2f/dxdy)."""
    if _absent(expr, names):
        return Value.constant(0.0)
    b = symbolic.Builder()
    graph = b.rebuild(expr.root)
    b.assume_defined(graph)
    for name in names:
        (graph,) = symbolic.gradients(graph, [expr.variables[name]], b)
    return graph


def check_cells(cells: int, what: str) -> None:
    """Refuse a result of more cells than the limit allows, saying how to ask for fewer."""
    limits.check("cells", cells, what + " ({size} cells)", "name fewer variables with --wrt")


# -- hessian --------------------------------------------------------------------


@click.command("hessian", cls=Command, context_settings=FREE_ARGS)
@wrt_option
@json_option
@free_arguments
@handles_errors
def hessian_command(args: tuple[str, ...], wrt: tuple[str, ...], json_: bool) -> None:
    """Print the value, the gradient and the Hessian (second partials) of EXPR at a point.

    The matrix is symmetric, rows and columns in the order of the variables.
    For a tensor expression (one number as its value), over every element of the
    variables: each variable's elements in row-major order (x[0], x[1], then
    A[0,0], A[0,1], ...), variables in order of appearance or of --wrt.

    \b
    Examples:
      autodiff hessian "x^2*y + sin(y)" --x 1 --y 2
      autodiff hessian "x^2*y + sin(y)" --x 1 --y 2 --json | jq .hessian
      autodiff hessian "0.5*x@A@x" --x '[1,2]' --A '[[2,1],[1,3]]' --wrt x
    """
    texts: dict[str, str] = {}
    text, bindings = read_call(args, texts=texts)
    if tensor_route(text, texts, bindings):
        from .tensor_calculus import hessian_tensor  # loads the Tensor: only for a tensor expression

        return hessian_tensor(text, texts, bindings, wrt, json_)
    expr = load(text)
    names = variables_of(expr, wrt)
    check_cells(len(names) * len(names), f"the Hessian is {len(names):,} x {len(names):,}")
    value, gradient = expr.gradient(bindings, names)
    matrix = symbolic.hessian(expr.root, expr.variables, names)
    warn_unused(expr, bindings)
    if json_:
        print_json({"expression": text, "variables": names, "value": value, "gradient": gradient,
                    "hessian": matrix})
        return
    if not names:  # a constant expression: no gradient, no matrix, the value alone
        click.echo(render.gradient_text(value, gradient))
        return
    if is_terminal():
        click.echo(render.gradient_text(value, gradient))
        render.print_matrix(console(), "Hessian", names, names, matrix, name=lambda r, c: f"∂²/∂{r}∂{c}")
    else:
        click.echo(render.gradient_text(value, gradient) + "\n")
        click.echo(render.aligned(render.matrix_rows(names, names, matrix, corner="hessian")))


# -- jacobian -------------------------------------------------------------------


@click.command("jacobian", cls=Command, context_settings=FREE_ARGS)
@mode_option
@click.option("--wrt", multiple=True, metavar="NAMES",
              help="Of a tensor expression: only with respect to these (x,y or repeated); default: all.")
@json_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="EXPR... [BINDINGS]...")
@handles_errors
def jacobian_command(args: tuple[str, ...], mode: str, wrt: tuple[str, ...], json_: bool) -> None:
    """Print the Jacobian of several expressions at a point: one row per expression.

    Columns are the variables in order of first appearance across the
    expressions.  --mode reverse does one backward pass per expression (row);
    --mode forward one pass of dual numbers per variable (column): the cheaper
    one has fewer passes.  Both give the same numbers.

    Of one tensor expression: for each variable, the derivative of every
    element of the output by every element of the variable, of shape
    output's shape + variable's shape; a matrix with a row per output
    element (EXPR[0], ..., or out[0], ... for a long EXPR) when the output
    and the variables are vectors.

    \b
    Examples:
      autodiff jacobian "r*cos(t)" "r*sin(t)" --r 2 --t 0.5
      autodiff jacobian "x*y" "x+y" "x/y" x=1 y=2 --mode forward --json
      autodiff jacobian "softmax(z)" --z '[1,2,3]'
    """
    values: dict[str, str] = {}
    texts, bindings = read_calls(args, texts=values)
    tensors = [text for text in texts if tensor_route(text, values, bindings)]
    if tensors:
        if len(texts) > 1:
            raise UsageError(f"the Jacobian of a tensor expression takes one expression ({shortened(tensors[0])} "
                             "is one), whose value can be a vector: give one at a time, or stack them")
        from .tensor_calculus import jacobian_tensor, refuse_options  # loads the Tensor: only for tensors

        refuse_options(mode)
        return jacobian_tensor(texts[0], values, bindings, wrt, json_)
    if wrt:
        raise UsageError("--wrt selects the variables of a tensor expression's Jacobian; the Jacobian of "
                         "scalar expressions has a column for every variable")
    exprs: list[Expression] = []
    total = 0
    for text in texts:  # the node limit holds for the expressions together: each is parsed, and differentiated
        exprs.append(load(text))
        total += len(exprs[-1].order)
        limits.check("nodes", total, f"the {len(exprs):,} expressions have {{size}} nodes in all",
                     "ask for fewer expressions at a time")
    names: list[str] = []
    for expr in exprs:
        names += [n for n in expr.variables if n not in names]
    require_values(names, bindings)  # one message for all of them
    limits.check("cells", len(exprs) * (len(names) + 1),
                 f"the Jacobian is {len(exprs):,} x {len(names):,} with the values ({{size}} cells)",
                 "ask for fewer expressions or variables at a time")
    if mode == "forward":
        size = sum(len(expr.order) for expr in exprs)
        limits.check_work(len(names) * size * limits.FORWARD,
                          f"forward mode is {len(names):,} passes over {size:,} nodes",
                          "--mode reverse does one pass per expression")
    values: list[float] = []
    matrix: list[list[float]] = []
    if mode == "reverse":
        for expr in exprs:  # one backward pass per output
            own = {n: bindings[n] for n in expr.variables}
            value, gradient = expr.gradient(own)
            values.append(value)
            matrix.append([gradient.get(n, 0.0) for n in names])
    else:
        for expr in exprs:
            values.append(expr.evaluate({n: bindings[n] for n in expr.variables}))
        matrix = [[0.0] * len(names) for _ in exprs]
        from ..dual import jvp  # imported here, as json below: diff's start-up does not pay for them

        for j, name in enumerate(names):  # one forward pass per input, through every output
            for i, expr in enumerate(exprs):
                if name in expr.variables:
                    tangent = jvp(expr.order, {expr.variables[name]: 1.0})[expr.root].tangent
                    if not math.isfinite(tangent):
                        raise MathError("forward", f"overflow: d({texts[i]})/d{name} is too large for a double")
                    matrix[i][j] = tangent
    for name in bindings:
        if name not in names:
            click.echo(f"Warning: {name} is not in the expressions; its value is ignored", err=True)
    if json_:
        print_json({"expressions": texts, "variables": names, "values": values, "jacobian": matrix})
        return
    rows = [[v, *row] for v, row in zip(values, matrix, strict=True)]
    if is_terminal() and names:  # (without variables there is no Jacobian: the values, as plain text)
        render.print_matrix(console(), "Jacobian", texts, ["value", *names], rows,
                            name=lambda r, c: c if c == "value" else f"∂/∂{c}")
    else:
        click.echo(render.aligned(render.matrix_rows(texts, ["value", *names], rows)))


COMMANDS = (diff_command, hessian_command, jacobian_command)
