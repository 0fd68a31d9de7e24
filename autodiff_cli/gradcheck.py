"""Numeric derivatives for `autodiff check`: a central difference, and Richardson's extrapolation over steps.

A central difference (f(x+h) - f(x-h)) / 2h errs by about h^2 f'''/6 (truncation: h too large) plus the
rounding of f(x+h) and f(x-h) over 2h (h too small).  No one step suits every function and point: at
x = 1e6 the relative step 1e-6 * |x| = 1 is far too coarse for sin.  `extrapolate` walks down a ladder of
steps, halving each time, and combines neighbouring differences as Richardson did (the h^2, h^4 and h^6
terms cancel), the way numdifftools and Numerical Recipes' dfridr do; it keeps the estimate whose
neighbours agree best, with that disagreement (plus rounding) as its error.  Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .errors import MathError

ROUNDING = 2 * 2.0**-52  # two units in the last place of each of f(x+h) and f(x-h), as a fraction of them
LEVELS = 3  # Richardson levels: cancels the h^2, h^4 and h^6 terms
RUNGS = 60  # at most this many steps, each half the one before


@dataclass(frozen=True)
class Estimate:
    """A numeric derivative with the error its neighbours and rounding allow, and the step it came from."""

    value: float
    error: float
    step: float


def central(f: Callable[[float], list[float]], x: float, h: float) -> list[tuple[float, float]]:
    """(f(x+h) - f(x-h)) / (the step actually taken), for each number f returns, with its rounding noise: the
    error that rounding f(x+h) and f(x-h) alone can put in it.  MathError from f passes through."""
    up, down = x + h, x - h
    above, below = f(up), f(down)
    step = up - down  # not 2h: x + h is rounded to a double too
    return [((a - b) / step, ROUNDING * max(abs(a), abs(b)) / (step / 2)) for a, b in zip(above, below, strict=True)]


def extrapolate(f: Callable[[float], list[float]], x: float, count: int,
                rungs: int = RUNGS) -> tuple[list[Estimate | None], int]:
    """The best estimate of each of the `count` derivatives, from steps of about max(1, log(1 + |x|))/64, halved
    each time (from |x|/64 on where f is undefined or overflows at the larger ones); None where no two
    neighbouring steps worked.  Also returns how many steps were tried (each is two evaluations of f).
    Steps are powers of two, at least a unit in the last place of x: x + h and x - h are exact."""
    best: list[Estimate | None] = [None] * count
    # numdifftools' scale, log|x| rather than |x| (sin at 1e12 needs steps near 1e-2, not 1e10), but 64 units
    # in the last place of x at least, so that x + h differs from x
    h = _power_of_two(max(max(1.0, math.log1p(abs(x))) / 64, 64 * math.ulp(x)))
    run: list[list[list[float]]] = []  # per step in the current run of working steps: the tableau row per output
    tried = 0
    while tried < rungs:
        if h < math.ulp(x) or h == 0.0:
            break  # x + h is no longer x plus h in doubles
        tried += 1
        try:
            differences = central(f, x, h)
        except MathError:
            differences = None
        if differences is None or not all(math.isfinite(d) and math.isfinite(n) for d, n in differences):
            run = []  # f is undefined (or overflows) this far out: start again nearer x
            h = _power_of_two(abs(x) / 64) if x != 0 and h > abs(x) / 64 else h / 2
            continue
        rows = []
        for i, (d, noise) in enumerate(differences):
            row = [d]
            amplified = noise
            previous = run[-1][i] if run else []  # the same output at twice this step
            for j in range(1, min(len(previous), LEVELS) + 1):
                factor = 4.0**j  # the error term h^(2j) shrinks by this much when h halves
                row.append(row[j - 1] + (row[j - 1] - previous[j - 1]) / (factor - 1))
                amplified *= (factor + 1) / (factor - 1)  # each level adds the rounding of two differences
                # how far this estimate is from the two it was made of: its error, plus rounding's
                error = max(abs(row[j] - row[j - 1]), abs(row[j] - previous[j - 1])) + amplified
                if best[i] is None or error < best[i].error:  # type: ignore[union-attr]
                    best[i] = Estimate(row[j], error, h)
            rows.append(row)
        run.append(rows)
        # rounding grows as h shrinks: once it is ten times the best error of every output, stop ...
        if all(b is not None and (noise > 10 * b.error or b.error <= 2.0**-50 * max(1.0, abs(b.value)))
               for b, (_, noise) in zip(best, differences, strict=True)):
            break  # ... or once every estimate is as good as doubles allow
        h /= 2
    return best, tried


def _power_of_two(h: float) -> float:
    """The power of two at or below h (halving it stays exact)."""
    return 2.0 ** math.floor(math.log2(h))
