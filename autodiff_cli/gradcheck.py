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

    def coarse(self, x: float) -> bool:
        """Whether even this step is larger than numdifftools' scale at x: near 1e300 every step that changes x
        spans many periods of cos, and differences agreeing with each other prove nothing against f'."""
        return self.step > nominal(x)


def nominal(x: float) -> float:
    """The largest step the ladder starts from, where a unit in the last place of x does not force a larger one."""
    return _power_of_two(max(1.0, math.log1p(abs(x))) / 64)


def central(f: Callable[[float], list[float]], x: float, h: float) -> list[tuple[float, float]]:
    """(f(x+h) - f(x-h)) / (the step actually taken), for each number f returns, with its rounding noise: the
    error that rounding f(x+h) and f(x-h) alone can put in it.  MathError from f passes through."""
    up, down = x + h, x - h
    above, below = f(up), f(down)
    step = up - down  # not 2h: x + h is rounded to a double too
    return [((a - b) / step, ROUNDING * max(abs(a), abs(b)) / (step / 2)) for a, b in zip(above, below, strict=True)]


def extrapolate(f: Callable[[float], list[float]], x: float, count: int,
                rungs: int = RUNGS) -> tuple[list[Estimate | None], int]:
    """The best estimate of each of the `count` derivatives, and how many steps were tried (two evaluations of
    f each).  None where no two neighbouring steps worked.

    First from numdifftools' scale, max(1, log(1 + |x|))/64 (sin at 1e12 needs steps near 1e-2, not 1e10);
    then, for |x| below that, from |x|/64 as well (1/x at 1e-12 changes over 1e-12), keeping the better
    estimate of each."""
    # 64 units in the last place of x at least, so that x + h differs from x
    start = max(nominal(x), _power_of_two(64 * math.ulp(x)))
    best, tried = _ladder(f, x, count, start, rungs)
    near = _power_of_two(abs(x) / 64) if x != 0 else start
    if near < start and tried < rungs and any(b is None or relative(b) > 2.0**-40 for b in best):
        closer, more = _ladder(f, x, count, near, rungs - tried)
        tried += more
        best = [a if b is None or (a is not None and relative(a) <= relative(b)) else b
                for a, b in zip(best, closer, strict=True)]
    return best, tried


def relative(estimate: Estimate) -> float:
    """The estimate's error as a fraction of max(1, |estimate|): how check compares errors."""
    return estimate.error / max(1.0, abs(estimate.value))


def _ladder(f: Callable[[float], list[float]], x: float, count: int, h: float,
            rungs: int) -> tuple[list[Estimate | None], int]:
    """Steps from h down, halved each time (from |x|/64 on where f is undefined or overflows at the larger
    ones).  Steps are powers of two, at least a unit in the last place of x: x + h and x - h are exact."""
    best: list[Estimate | None] = [None] * count
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
                estimate = Estimate(row[j], max(abs(row[j] - row[j - 1]), abs(row[j] - previous[j - 1])) + amplified,
                                    h)
                if best[i] is None or relative(estimate) < relative(best[i]):  # type: ignore[arg-type]
                    best[i] = estimate
            rows.append(row)
        run.append(rows)
        # rounding grows as h shrinks: once it is ten times the best error of every output, stop ...
        if all(b is not None and (noise > 10 * b.error or relative(b) <= 2.0**-50)
               for b, (_, noise) in zip(best, differences, strict=True)):
            break  # ... or once every estimate is as good as doubles allow
        h /= 2
    return best, tried


def _power_of_two(h: float) -> float:
    """The power of two at or below h (halving it stays exact)."""
    return 2.0 ** math.floor(math.log2(h))
