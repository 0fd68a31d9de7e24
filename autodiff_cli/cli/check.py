"""check: reverse-mode derivatives against central finite differences, with a step chosen per point."""

from __future__ import annotations

import math
from collections.abc import Callable

import click

from .. import limits, render, symbolic
from ..errors import AutodiffError, MathError, UsageError
from ..expression import Expression
from .common import (
    FREE_ARGS,
    free_arguments,
    handles_errors,
    json_option,
    load,
    read_call,
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


COMMANDS = (check_command,)
