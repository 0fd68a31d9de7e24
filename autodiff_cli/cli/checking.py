"""What check does for scalar and tensor expressions alike: central differences, verdicts, the report.

A check is a list of Groups, each the derivatives one central difference confirms: of f (the value,
or some partial derivatives) as a function of one number, a scalar variable or one element of a
tensor.  run_checks finds the verdicts (with Richardson extrapolation where the first step does not
confirm a derivative), report_checks prints them and exits 1 on a failure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import click

from .. import render
from ..errors import AutodiffError, MathError, UsageError

_INCONCLUSIVE = 0.01  # rounding that could account for a relative error this large: the difference says nothing
_ROUNDING = 2 * 2.0**-52  # two units in the last place of each of f(x+h) and f(x-h), as a fraction of them


def _central(f: Callable[[float], list[float]], name: str, x: float, h: float) -> list[tuple[float, float]]:
    """(f(x+h) - f(x-h)) / 2h for each of the numbers f gives (the value, or partial derivatives) as a function
    of the variable `name` (at x) alone; each with its rounding noise, the error that rounding f(x+h) and
    f(x-h) alone can put in it (large when f is large and h small: no difference quotient is closer than that)."""
    if not (math.isfinite(x + h) and math.isfinite(x - h)):
        raise UsageError(f"--eps is too large for {name} = {x!r}: {name} + h overflows (h = {h:g}); "
                         "use a smaller --eps")
    if x + h == x or x - h == x:
        raise UsageError(f"--eps is too small for {name} = {x!r}: the step h = {h:g} vanishes ({name} + h == {name} "
                         "in doubles); use a larger --eps")
    results = []
    for step in (h, -h):
        try:
            results.append(f(x + step))
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


def judge(analytic: float, difference: tuple[float, float], tol: float) -> dict:
    """One derivative's verdict: the analytic and numeric numbers, their error, ok, inconclusive."""
    numeric, noise = difference
    scale = max(1.0, abs(analytic), abs(numeric))
    error = abs(analytic - numeric) / scale
    # beyond --tol, what rounding alone explains; but where rounding could explain an error of 1%, the
    # difference says nothing (1e20 + x: numeric 0, analytic 1): inconclusive, never a pass
    unsure = noise / scale > _INCONCLUSIVE
    return {"analytic": analytic, "numeric": numeric, "error": error,
            "ok": not unsure and error <= tol + noise / scale, "inconclusive": unsure}


class Group:
    """Derivatives checked by one central difference: of f (the value, or partial derivatives) in one
    variable (a scalar variable, or one element of a tensor), at x."""

    __slots__ = ("analytic", "f", "labels", "name", "x")

    def __init__(self, name: str, x: float, labels: list[str], analytic: list[float],
                 f: Callable[[float], list[float]]) -> None:
        self.name, self.x, self.labels, self.analytic, self.f = name, x, labels, analytic, f


class Findings:
    """What the checks found: a row per derivative, and the notes and reasons for the report."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.notes: list[str] = []
        self.coarse: list[str] = []  # inconclusive because no step beside x is fine enough for f (cos at 1e300)
        self.stopped: list[str] = []  # inconclusive because the work limit left no smaller steps to try


def run_checks(groups: list[Group], eps: float | None, tol: float, spare: int) -> Findings:
    """Each group's central difference and verdicts; without --eps, a derivative the first step does not
    confirm is tried again with smaller steps and Richardson extrapolation, while `spare` (pairs of passes
    the work limit leaves) lasts."""
    from .. import gradcheck

    found = Findings()
    for group in groups:
        labels, analytic = group.labels, group.analytic
        h = (eps or 1e-6) * max(1.0, abs(group.x))
        first: AutodiffError | None = None
        try:
            verdicts: list[dict | None] = [judge(a, d, tol) for a, d in
                                           zip(analytic, _central(group.f, group.name, group.x, h), strict=True)]
        except (MathError, UsageError) as error:
            if eps is not None:
                raise
            first, verdicts = error, [None] * len(labels)
        if eps is None and any(v is None or not v["ok"] for v in verdicts):
            estimates, tried = gradcheck.extrapolate(group.f, group.x, len(labels),
                                                     rungs=min(gradcheck.RUNGS, spare))
            spare -= tried
            for k, estimate in enumerate(estimates):
                verdict = verdicts[k]
                if verdict is not None and verdict["ok"]:
                    continue
                if estimate is not None:
                    verdicts[k] = judge(analytic[k], (estimate.value, estimate.error), tol)
                    # steps too coarse for f (cos at 1e300) blame f' only if the first step, a million times
                    # larger, found the same number (x^3 at 1e100 does; garbage differs from garbage)
                    if not verdicts[k]["ok"] and estimate.coarse(group.x) and not (
                            verdict is not None
                            and abs(verdict["numeric"] - estimate.value) <= tol * abs(estimate.value)):
                        verdicts[k]["inconclusive"] = True
                        found.coarse.append(labels[k])
                    if verdicts[k]["ok"]:  # a pass needs saying where its number came from
                        found.notes.append(f"{labels[k]}: the step h = {h:g} does not confirm it; numeric is "
                                           f"extrapolated from smaller steps (Richardson, best at h = "
                                           f"{estimate.step:g})")
                elif verdict is None:
                    raise first  # type: ignore[misc]  # no step at all worked: the first step's error
                else:  # no smaller step worked either: nothing tells whether the derivative is right
                    verdict["ok"], verdict["inconclusive"] = False, True
                    if spare <= 0:
                        found.stopped.append(labels[k])
        found.rows += [{"derivative": label, **verdict} for label, verdict in zip(labels, verdicts, strict=True)]
    return found


def report_checks(text: str, value: float, eps: float | None, tol: float, found: Findings,
                  points: Mapping[str, float], json_: bool) -> None:
    """The table (or JSON) of the checks, and exit 1 when one failed or none could tell.
    points: the value of each first derivative's variable, by its label (for the --eps to advise)."""
    rows, coarse, stopped = found.rows, found.coarse, found.stopped
    for note in found.notes:
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
                           + _eps_to_try(value, rounding, points))
        if coarse:
            reasons.append(f"{', '.join(coarse)}: at a number this large, the steps that change it are coarser "
                           "than f's own scale, and their differences disagree with the first step's; nothing tells")
        if stopped:
            reasons.append(f"{', '.join(stopped)}: the work limit leaves no smaller steps to try "
                           "(AUTODIFF_MAX_WORK)")
        click.echo(f"Error: gradient check inconclusive for {'; '.join(reasons)}", err=True)
        raise SystemExit(1)


def _eps_to_try(value: float, unsure: list[dict], bindings: Mapping[str, float]) -> str:
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

