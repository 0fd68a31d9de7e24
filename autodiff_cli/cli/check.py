"""check: reverse-mode derivatives against central finite differences, with a step chosen per point.

The differences, verdicts and report are in checking.py (shared with tensor_check.py)."""

from __future__ import annotations

import math
from collections.abc import Callable

import click

from .. import limits, symbolic
from ..errors import UsageError
from .checking import Group, report_checks, run_checks
from .common import (
    FREE_ARGS,
    free_arguments,
    handles_errors,
    json_option,
    load,
    read_call,
    tensor_route,
    warn_unused,
    wrt_option,
)
from .derivatives import check_cells, variables_of
from .group import Command


class PositiveFloat(click.ParamType):
    name = "NUMBER"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            x = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (math.isfinite(x) and x > 0):
            self.fail(f"{value!r} must be a positive, finite number", param, ctx)
        return x


@click.command("check", cls=Command, context_settings=FREE_ARGS)
@click.option("--eps", type=PositiveFloat(),
              help="Finite-difference step, relative to max(1, |x|): exactly this step.  [default: 1e-06, and "
                   "where that step disagrees, smaller steps combined by Richardson extrapolation]")
@click.option("--tol", default=1e-5, show_default=True, type=PositiveFloat(),
              help="Largest error allowed: |analytic - numeric| / max(1, |analytic|, |numeric|).")
@click.option("--order", default=1, show_default=True, type=click.IntRange(1, 2),
              help="1: check the gradient; 2: the gradient and the Hessian.")
@wrt_option
@json_option
@free_arguments
@handles_errors
def check_command(args: tuple[str, ...], eps: float | None, tol: float, order: int, wrt: tuple[str, ...],
                  json_: bool) -> None:
    """Check reverse-mode derivatives of EXPR against central finite differences.

    Like torch.autograd.gradcheck: for each variable, the analytic derivative,
    the numeric one, (f(x+h) - f(x-h)) / 2h with h = eps * max(1, |x|), and their
    error.  Exit 0 when every error is within --tol, 1 when not; beyond --tol, the
    error that rounding f(x+h) and f(x-h) alone puts in the difference (2 ulps of
    f, over h) is allowed, so a large f is no false failure.  Without --eps, a
    derivative the step 1e-6 * max(1, |x|) does not confirm is checked again with
    smaller steps and Richardson extrapolation (as numdifftools does), so that
    sin(x) at x = 1e6 is no false failure either; where no step can tell, the
    verdict is UNSURE.  --order 2 checks the Hessian too, against differences of
    the gradient.  Of a tensor expression: every element of every gradient
    (x[0], A[1,0], ...), each moved by h in turn.

    \b
    Examples:
      autodiff check "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff check "x^2*y + sin(y)" x=1 y=2 --order 2 --tol 1e-6
      autodiff check "x^y" x=-2 y=3 --wrt x
      autodiff check "sum(tanh(W@x))" --W '[[0.1,0.2],[0.3,0.4]]' --x '[1,2]'
    """
    texts: dict[str, str] = {}
    text, bindings = read_call(args, texts=texts)
    if tensor_route(text, texts, bindings):
        from .tensor_check import check_tensor  # loads the Tensor: only for a tensor expression

        return check_tensor(text, texts, bindings, eps, tol, order, wrt, json_)
    expr = load(text)
    if not expr.variables:
        raise UsageError(f"{text!r} has no variables: there is no derivative to check")
    names = variables_of(expr, wrt)
    n, size = len(names), len(expr.order)
    if order == 2:
        rows = n + n * (n + 1) // 2  # a row of 5 cells each: derivative, analytic, numeric, error, verdict
        check_cells(5 * rows, f"checking {n:,} first and {n * (n + 1) // 2:,} second derivatives is {rows:,} rows")
    cost = limits.EVALUATE if order == 1 else limits.EVALUATE + limits.BACKWARD  # evaluations, or gradients
    limits.check_work(2 * n * size * cost, f"checking is {2 * n:,} passes over {size:,} nodes",
                      "name fewer variables with --wrt")
    # what the work limit leaves for steps tried again (two passes each)
    spare = (limits.get("work") - 2 * n * size * cost) // max(1, 2 * size * cost)
    value, gradient = expr.gradient(bindings, names)
    hessian = symbolic.hessian(expr.root, expr.variables, names) if order == 2 else None

    def function(name: str, of: list[str] | None) -> Callable[[float], list[float]]:
        """f (of None) or those partial derivatives of f, as a function of the variable `name` alone."""
        def f(x: float) -> list[float]:
            moved = {**bindings, name: x}
            if of is None:
                return [expr.evaluate(moved)]
            grads = expr.gradient(moved, of)[1]
            return [grads[k] for k in of]
        return f

    # one group per central difference: each variable's derivative, then (order 2) each row of the Hessian
    groups = [Group(a, bindings[a], [a], [gradient[a]], function(a, None)) for a in names]
    if hessian is not None:
        groups += [Group(a, bindings[a], [f"{a},{b}" for b in names[i:]], hessian[i][i:], function(a, names[i:]))
                   for i, a in enumerate(names)]
    found = run_checks(groups, eps, tol, spare)
    warn_unused(expr, bindings)
    report_checks(text, value, eps, tol, found, bindings, json_)


COMMANDS = (check_command,)
