"""Derivatives beyond the gradient: diff (as expressions), hessian, jacobian, check."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import click

from .. import limits, ops, render, symbolic
from ..engine import Value
from ..errors import AutodiffError, MathError, UsageError, shortened, visible
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
    warn_unused,
    wrt_option,
)


def _names(expr: Expression, wrt: tuple[str, ...]) -> list[str]:
    names = split_names(wrt) if wrt else list(expr.variables)
    expr.check_wrt(names)
    return names


# -- diff -----------------------------------------------------------------------


@click.command("diff", context_settings=FREE_ARGS)
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
    derivative 0 (with a warning): diff "5" prints 0.

    \b
    Examples:
      autodiff diff "x^3*sin(x)"                     # x^3*cos(x) + 3*x^2*sin(x)
      autodiff diff "tanh(w*x+b)" --wrt w,b
      autodiff diff "x^2*y^3" --order 2              # x,x  x,y  y,y
      autodiff diff "x^2*y^3" --partial x,y          # 6*x*y^2
      autodiff eval "$(autodiff diff 'x^3*sin(x)')" --x 2
    """
    text, bindings = read_call(args)
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


def _check_cells(cells: int, what: str) -> None:
    limits.check("cells", cells, what + " ({size} cells)", "name fewer variables with --wrt")


# -- hessian --------------------------------------------------------------------


@click.command("hessian", context_settings=FREE_ARGS)
@wrt_option
@json_option
@free_arguments
@handles_errors
def hessian_command(args: tuple[str, ...], wrt: tuple[str, ...], json_: bool) -> None:
    """Print the value, the gradient and the Hessian (second partials) of EXPR at a point.

    The matrix is symmetric, rows and columns in the order of the variables.

    \b
    Examples:
      autodiff hessian "x^2*y + sin(y)" --x 1 --y 2
      autodiff hessian "x^2*y + sin(y)" --x 1 --y 2 --json | jq .hessian
    """
    text, bindings = read_call(args)
    expr = load(text)
    names = _names(expr, wrt)
    _check_cells(len(names) * len(names), f"the Hessian is {len(names):,} x {len(names):,}")
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


@click.command("jacobian", context_settings=FREE_ARGS)
@mode_option
@json_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="EXPR... [BINDINGS]...")
@handles_errors
def jacobian_command(args: tuple[str, ...], mode: str, json_: bool) -> None:
    """Print the Jacobian of several expressions at a point: one row per expression.

    Columns are the variables in order of first appearance across the
    expressions.  --mode reverse does one backward pass per expression (row);
    --mode forward one pass of dual numbers per variable (column): the cheaper
    one has fewer passes.  Both give the same numbers.

    \b
    Examples:
      autodiff jacobian "r*cos(t)" "r*sin(t)" --r 2 --t 0.5
      autodiff jacobian "x*y" "x+y" "x/y" x=1 y=2 --mode forward --json
    """
    texts, bindings = read_calls(args)
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


# -- check ----------------------------------------------------------------------


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


_INCONCLUSIVE = 0.01  # rounding that could account for a relative error this large: the difference says nothing
_ROUNDING = 2 * 2.0**-52  # two units in the last place of each of f(x+h) and f(x-h), as a fraction of them


def _central(expr: Expression, bindings: dict[str, float], name: str, h: float,
             names: list[str] | None = None) -> list[tuple[float, float]]:
    """(f(x+h) - f(x-h)) / 2h: of the value, or (names given) of each of those partial derivatives; each with
    its rounding noise, the error that rounding f(x+h) and f(x-h) alone can put in it (large when f is large
    and h small: no difference quotient is closer than that)."""
    x = bindings[name]
    if not (math.isfinite(x + h) and math.isfinite(x - h)):
        raise UsageError(f"--eps is too large for {name} = {x!r}: {name} + h overflows (h = {h:g}); "
                         "use a smaller --eps")
    if x + h == x or x - h == x:
        raise UsageError(f"--eps is too small for {name} = {x!r}: the step h = {h:g} vanishes ({name} + h == {name} "
                         "in doubles); use a larger --eps")
    results = []
    for step in (h, -h):
        moved = dict(bindings)
        moved[name] += step
        try:
            if names is None:
                results.append([expr.evaluate(moved)])
            else:
                grads = expr.gradient(moved, names)[1]
                results.append([grads[n] for n in names])
        except MathError as error:
            sign = "+" if step > 0 else "-"
            raise MathError(
                error.op,
                f"cannot check at {name} {sign} {h:g}: {error.message} (try a smaller --eps)",
            ) from None
    differences = [((up - down) / (2 * h), _ROUNDING * max(abs(up), abs(down)) / h)
                   for up, down in zip(*results, strict=True)]
    if not all(math.isfinite(d) and math.isfinite(noise) for d, noise in differences):
        raise MathError("check", f"the finite difference in {name} is too large for a double (h = {h:g})")
    return differences


@click.command("check", context_settings=FREE_ARGS)
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
    the gradient.

    \b
    Examples:
      autodiff check "tanh(w*x+b)" --x 2 --w -3 --b 1
      autodiff check "x^2*y + sin(y)" x=1 y=2 --order 2 --tol 1e-6
      autodiff check "x^y" x=-2 y=3 --wrt x
    """
    from .. import gradcheck

    text, bindings = read_call(args)
    expr = load(text)
    if not expr.variables:
        raise UsageError(f"{text!r} has no variables: there is no derivative to check")
    names = _names(expr, wrt)
    n, size = len(names), len(expr.order)
    if order == 2:
        rows = n + n * (n + 1) // 2  # a row of 5 cells each: derivative, analytic, numeric, error, verdict
        _check_cells(5 * rows, f"checking {n:,} first and {n * (n + 1) // 2:,} second derivatives is {rows:,} rows")
    cost = limits.EVALUATE if order == 1 else limits.EVALUATE + limits.BACKWARD  # evaluations, or gradients
    limits.check_work(2 * n * size * cost, f"checking is {2 * n:,} passes over {size:,} nodes",
                      "name fewer variables with --wrt")
    # what the work limit leaves for steps tried again (two passes each)
    spare = (limits.get("work") - 2 * n * size * cost) // max(1, 2 * size * cost)
    value, gradient = expr.gradient(bindings, names)
    hessian = symbolic.hessian(expr.root, expr.variables, names) if order == 2 else None

    def judge(analytic: float, difference: tuple[float, float]) -> dict:
        numeric, noise = difference
        scale = max(1.0, abs(analytic), abs(numeric))
        error = abs(analytic - numeric) / scale
        # beyond --tol, what rounding alone explains; but where rounding could explain an error of 1%, the
        # difference says nothing (1e20 + x: numeric 0, analytic 1): inconclusive, never a pass
        unsure = noise / scale > _INCONCLUSIVE
        return {"analytic": analytic, "numeric": numeric, "error": error,
                "ok": not unsure and error <= tol + noise / scale, "inconclusive": unsure}

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
    groups: list[tuple[str, list[str], list[float], list[str] | None]] = [(a, [a], [gradient[a]], None) for a in names]
    if hessian is not None:
        groups += [(a, [f"{a},{b}" for b in names[i:]], hessian[i][i:], names[i:]) for i, a in enumerate(names)]
    rows: list[dict] = []
    notes: list[str] = []
    coarse: list[str] = []  # inconclusive because no step beside x is fine enough for f (cos at 1e300)
    stopped: list[str] = []  # inconclusive because the work limit left no smaller steps to try
    for name, labels, analytic, of in groups:
        h = (eps or 1e-6) * max(1.0, abs(bindings[name]))
        first: AutodiffError | None = None
        try:
            verdicts: list[dict | None] = [judge(a, d) for a, d in
                                           zip(analytic, _central(expr, bindings, name, h, of), strict=True)]
        except (MathError, UsageError) as error:
            if eps is not None:
                raise
            first, verdicts = error, [None] * len(labels)
        if eps is None and any(v is None or not v["ok"] for v in verdicts):
            estimates, tried = gradcheck.extrapolate(function(name, of), bindings[name], len(labels),
                                                     rungs=min(gradcheck.RUNGS, spare))
            spare -= tried
            for k, estimate in enumerate(estimates):
                verdict = verdicts[k]
                if verdict is not None and verdict["ok"]:
                    continue
                if estimate is not None:
                    verdicts[k] = judge(analytic[k], (estimate.value, estimate.error))
                    # steps too coarse for f (cos at 1e300) blame f' only if the first step, a million times
                    # larger, found the same number (x^3 at 1e100 does; garbage differs from garbage)
                    if not verdicts[k]["ok"] and estimate.coarse(bindings[name]) and not (
                            verdict is not None
                            and abs(verdict["numeric"] - estimate.value) <= tol * abs(estimate.value)):
                        verdicts[k]["inconclusive"] = True
                        coarse.append(labels[k])
                    if verdicts[k]["ok"]:  # a pass needs saying where its number came from
                        notes.append(f"{labels[k]}: the step h = {h:g} does not confirm it; numeric is extrapolated "
                                     f"from smaller steps (Richardson, best at h = {estimate.step:g})")
                elif verdict is None:
                    raise first  # type: ignore[misc]  # no step at all worked: the first step's error
                else:  # no smaller step worked either: nothing tells whether the derivative is right
                    verdict["ok"], verdict["inconclusive"] = False, True
                    if spare <= 0:
                        stopped.append(labels[k])
        rows += [{"derivative": label, **verdict} for label, verdict in zip(labels, verdicts, strict=True)]
    warn_unused(expr, bindings)
    for note in notes:
        click.echo(f"Note: {note}", err=True)
    failed = [r for r in rows if not r["ok"]]
    worst = max((r["error"] for r in rows), default=0.0)
    if json_:
        import json

        click.echo(json.dumps({"expression": text, "value": value, "eps": eps or 1e-6, "tol": tol,
                               "ok": not failed, "checks": rows}, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        table = [["derivative", " analytic", " numeric", "error", ""]]
        table += [[r["derivative"], render.signed(r["analytic"]), render.signed(r["numeric"]),
                   f"{r['error']:.1e}", "ok" if r["ok"] else "UNSURE" if r["inconclusive"] else "FAIL"] for r in rows]
        click.echo(render.aligned(table))
        if not failed:
            noun = "derivative" if len(rows) == 1 else "derivatives"
            within = f"tolerance {tol:g}" if worst <= tol else f"tolerance {tol:g} or the rounding of f"
            click.echo(f"passed: {len(rows)} {noun} within {within} (largest error {worst:.1e})")
    wrong = [r for r in failed if not r["inconclusive"]]
    if wrong:
        which = ", ".join(f"{r['derivative']} ({r['error']:.1e})" for r in wrong)
        click.echo(f"Error: gradient check failed (tolerance {tol:g}): {which}", err=True)
        raise SystemExit(1)
    if failed:
        reasons = []
        rounding = [r for r in failed if r["derivative"] not in coarse + stopped]
        if rounding:
            reasons.append(f"{', '.join(r['derivative'] for r in rounding)}: the value is so large that rounding it "
                           f"swamps the difference over 2h; use a larger --eps (now {eps or 1e-6:g})"
                           + _eps_to_try(value, rounding, bindings))
        if coarse:
            reasons.append(f"{', '.join(coarse)}: at a number this large, the steps that change it are coarser "
                           "than f's own scale, and their differences disagree with the first step's; nothing tells")
        if stopped:
            reasons.append(f"{', '.join(stopped)}: the work limit leaves no smaller steps to try "
                           "(AUTODIFF_MAX_WORK)")
        click.echo(f"Error: gradient check inconclusive for {'; '.join(reasons)}", err=True)
        raise SystemExit(1)


def _eps_to_try(value: float, unsure: list[dict], bindings: dict[str, float]) -> str:
    """The --eps from which rounding f(x+h) and f(x-h) stays under 0.1% of each unsure first derivative."""
    from ..gradcheck import ROUNDING

    firsts = [r for r in unsure if r["derivative"] in bindings]
    if not firsts or not math.isfinite(value):
        return ""
    needed = max(ROUNDING * abs(value) / (1e-3 * max(1.0, abs(r["analytic"])))
                 / max(1.0, abs(bindings[r["derivative"]])) for r in firsts)
    if needed <= 0:
        return ""
    return f"; rounding falls under 0.1% from --eps {10.0 ** math.ceil(math.log10(needed)):g} (if f is smooth " \
           "over a step that large)"


COMMANDS = (diff_command, hessian_command, jacobian_command, check_command)
