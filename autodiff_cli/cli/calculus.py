"""Numbers at a point: eval and grad."""

from __future__ import annotations

import click

from ..columns import gradient_text, number  # not render: its views would load with it
from ..errors import UsageError
from . import batch
from .common import (
    FREE_ARGS,
    free_arguments,
    handles_errors,
    json_option,
    load,
    mode_option,
    print_json,
    read_call,
    split_names,
    tensor_route,
    warn_unused,
    wrt_option,
)
from .group import Command


@click.command("eval", cls=Command, context_settings=FREE_ARGS)
@json_option
@batch.batch_options
@free_arguments
@handles_errors
def eval_command(args: tuple[str, ...], json_: bool, **batch_options: object) -> None:
    """Print the value of EXPR at a point, and nothing else.

    The number is the shortest text that reads back as the same double, so
    $(autodiff eval ...) is a number.  A tensor expression's value is one line
    of JSON, which --x "$(autodiff eval ...)" binds again.

    \b
    Examples:
      autodiff eval "sqrt(x^2+y^2)" x=3 y=4        # 5.0
      autodiff eval "2^-1"                         # 0.5
      echo "log(x, 2)" | autodiff eval - --x 8     # 3.0
      autodiff eval "sqrt(x^2+y^2)" --input points.csv   # one record per row
      autodiff eval "softmax(z)" --z '[1,2,3]'     # [0.09003057317038046, ...]
    """
    texts: dict[str, str] = {}
    text, bindings = read_call(args, batch.stdin_taker(batch_options), texts)
    if tensor_route(text, texts, bindings):
        from . import tensor_calculus  # the tensor path loads only when an expression or a binding needs it

        tensor_calculus.refuse_options(batch=batch.requested(batch_options))
        return tensor_calculus.eval_tensor(text, texts, bindings, json_)
    expr = load(text)
    if batch.requested(batch_options):
        return batch.run(expr, bindings, gradient=False, wrt=None, options=batch_options)
    value = expr.evaluate(bindings)
    warn_unused(expr, bindings)
    if json_:
        print_json({"expression": text, "value": value})
    else:
        click.echo(number(value))


@click.command("grad", cls=Command, context_settings=FREE_ARGS)
@wrt_option
@mode_option
@click.option("--steps", is_flag=True, help="Show the forward and backward passes step by step (as autodiff explain).")
@json_option
@batch.batch_options
@free_arguments
@handles_errors
def grad_command(
    args: tuple[str, ...], wrt: tuple[str, ...], mode: str, steps: bool, json_: bool, **batch_options: object
) -> None:
    """Print the value of EXPR and its partial derivatives, by reverse mode.

    Variables come in order of first appearance, or in the order --wrt names them.
    --mode forward computes the same numbers with dual numbers, one pass per
    variable, instead of one backward pass for all.  Variables bound to arrays
    (JSON, or @FILE: .json, .csv, .npy; @- for stdin) make a tensor expression,
    whose value must be one number; each gradient has its variable's shape.

    \b
    Examples:
      autodiff grad "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff grad "tanh(w*x+b)" --x 2 --w -3 --b 1 --json | jq .gradient.x
      autodiff grad "x*y + sin(x)" x=1 y=2 --wrt y
      autodiff grad "x*y + sin(x)" x=1 y=2 --mode forward
      autodiff grad "x*x" x=3 --steps
      autodiff grad "tanh(w*x+b)" --w -3 --b 1 --input points.jsonl
      autodiff grad "sum((A@x - b)^2)" --A '[[1,2],[3,4]]' --x '[1,-1]' --b @b.csv
    """
    if steps and mode != "reverse":
        raise UsageError("--steps shows the reverse-mode passes: leave out --mode forward")
    texts: dict[str, str] = {}
    text, bindings = read_call(args, batch.stdin_taker(batch_options), texts)
    if tensor_route(text, texts, bindings):
        from . import tensor_calculus  # the tensor path loads only when an expression or a binding needs it

        if steps:
            raise UsageError("--steps shows the passes of a scalar expression; for a tensor expression, "
                             "autodiff explain shows them with the shapes")
        tensor_calculus.refuse_options(mode, batch.requested(batch_options))
        return tensor_calculus.grad_tensor(text, texts, bindings, wrt, json_)
    expr = load(text)
    names = split_names(wrt) if wrt else None
    if batch.requested(batch_options):
        if steps:
            raise UsageError("--steps shows one point: leave out --input")
        return batch.run(expr, bindings, gradient=True, wrt=names, options=batch_options, mode=mode)
    value, gradient = expr.gradient(bindings, names, mode=mode)
    warn_unused(expr, bindings)
    if steps:
        from .views import print_steps  # the explanation's views load only when asked for

        print_steps(expr, text, value, gradient, json_)
    elif json_:
        print_json({"expression": text, "value": value, "gradient": gradient})
    else:
        click.echo(gradient_text(value, gradient))


COMMANDS = (eval_command, grad_command)
