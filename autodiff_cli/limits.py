"""The limits on what autodiff accepts: one table, each limit with its default and how to raise it.

Every input is refused past its limit with a LimitError (exit 2) that names the
limit, the size found when it is cheap to know, and how to raise it, so that no
input ends in a slow death.  A limit is raised for one run with its environment
variable (AUTODIFF_MAX_NODES=100000 autodiff ...), and by a program with
`set("nodes", 100_000)` or, for a block of code, `with raised(nodes=100_000): ...`.
A value set by the program wins over the environment, which wins over the default.

Standard library only: the parser, the batch reader and the command line read it.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import LimitError, UsageError

__all__ = ["LIMITS", "Limit", "check", "check_environment", "get", "raised", "set"]


class Limit:
    """One limit: its name, default, the variable that raises it, its unit and what it bounds."""

    __slots__ = ("default", "description", "env", "name", "unit")

    def __init__(self, name: str, default: int, env: str, unit: str, description: str) -> None:
        self.name = name
        self.default = default
        self.env = env
        self.unit = unit
        self.description = description

    def __repr__(self) -> str:
        return f"Limit({self.name!r}, {self.default!r}, {self.env!r}, {self.unit!r}, {self.description!r})"

    def hint(self) -> str:
        if self.name in _overrides:
            return f"set to {_overrides[self.name]:,} by the program with limits.set or limits.raised"
        return f"set {self.env} to raise it"

    def unit_for(self, count: int) -> str:
        """' bytes', ' byte' for 1, or '' for a limit without a unit."""
        if not self.unit:
            return ""
        return f" {self.unit[:-1]}" if count == 1 and self.unit.endswith("s") else f" {self.unit}"


LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("length", 1_000_000, "AUTODIFF_MAX_LENGTH", "characters", "length of an expression"),
        Limit("depth", 10_000, "AUTODIFF_MAX_DEPTH", "levels",
              "parentheses and function calls open at once in an expression"),
        Limit("nodes", 20_000, "AUTODIFF_MAX_NODES", "nodes",
              "operations, numbers and variables in the graph of an expression (of all of jacobian's together)"),
        Limit("order", 10, "AUTODIFF_MAX_ORDER", "", "order of a derivative printed by diff --order"),
        Limit("output", 1_000_000, "AUTODIFF_MAX_OUTPUT", "characters",
              "length of everything diff prints (all the derivatives)"),
        Limit("work", 10_000_000, "AUTODIFF_MAX_WORK", "steps",
              "work of passes over a graph: forward mode, Hessian rows, check's evaluations, "
              "nodes built by symbolic derivatives (diff, hessian)"),
        Limit("cells", 500_000, "AUTODIFF_MAX_CELLS", "cells",
              "numbers in a printed matrix (hessian, jacobian, check --order 2)"),
        Limit("picture", 200, "AUTODIFF_MAX_PICTURE", "nodes",
              "nodes of a graph drawn as a picture by Graphviz (graph --format svg/png/pdf, notebooks)"),
        Limit("drawing", 10, "AUTODIFF_MAX_DRAWING", "seconds",
              "time Graphviz's dot may take to lay out and draw a picture (its time depends on the graph's shape)"),
        Limit("line", 1_048_576, "AUTODIFF_MAX_LINE", "bytes", "length of a line of batch input (--input)"),
        Limit("file", 104_857_600, "AUTODIFF_MAX_FILE", "bytes", "size of a data or model file (train, predict)"),
        Limit("parameters", 1_000_000, "AUTODIFF_MAX_PARAMETERS", "parameters",
              "weights and biases of a neural network (train --hidden, a model file)"),
        Limit("elements", 10_000_000, "AUTODIFF_MAX_ELEMENTS", "elements",
              "numbers in one tensor of a tensor expression: a binding, an array written in it, a result"),
        Limit("axes", 32, "AUTODIFF_MAX_AXES", "axes",
              "axes of a tensor: how deep arrays nest in a binding or in a tensor expression"),
    )
}

_overrides: dict[str, int] = {}


def _limit(name: str) -> Limit:
    try:
        return LIMITS[name]
    except KeyError:
        raise ValueError(f"no limit named {name!r}: the limits are {', '.join(LIMITS)}") from None


def get(name: str) -> int:
    """The limit in force: set() by the program, else its environment variable, else the default."""
    if name in _overrides:
        return _overrides[name]
    limit = _limit(name)
    text = os.environ.get(limit.env)
    if text is None:
        return limit.default
    return _parse(limit.env, text)


_PREFIX = "AUTODIFF_MAX_"


# The largest value a limit takes: 10^15 (a petabyte, a quadrillion nodes) is past any machine, and every
# size computed from it (a read of 4 x length + 4 KiB bytes) still fits the integers Python hands to C
MAXIMUM = 10**15


def _parse(env: str, text: str) -> int:
    """A variable's value: ASCII digits only (no sign, spaces, underscores or other scripts' digits), over 0."""
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise UsageError(f"{env} must be a positive whole number (digits 0-9 only), not {text!r}")
    if len(text) > 16 or int(text) > MAXIMUM:
        raise UsageError(f"{env} is at most {MAXIMUM:,} (10^15), not {text if len(text) <= 30 else text[:27] + '...'}")
    return int(text)


def read_bounded(read: Callable[[int], bytes], size: int, piece: int = 1 << 20) -> bytes:
    """At most `size` bytes from read(n), asked for a piece at a time: a large limit is never a large
    allocation made before the data is there (read(10**10) would ask for 10 GB at once)."""
    parts: list[bytes] = []
    total = 0
    while total < size:
        chunk = read(min(piece, size - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def check_environment() -> None:
    """UsageError for any AUTODIFF_MAX_* variable that is not a limit's or holds a bad value (the CLI's first step)."""
    names = {limit.env: limit for limit in LIMITS.values()}
    for env, text in sorted(os.environ.items()):
        if not env.startswith(_PREFIX):
            continue
        if env not in names:
            raise UsageError(f"{env} is not a limit's variable: they are {', '.join(names)}")
        _parse(env, text)


def set(name: str, value: int | None) -> None:
    """Set a limit for this process (None: back to the environment or the default)."""
    _limit(name)
    if value is None:
        _overrides.pop(name, None)
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAXIMUM:
        raise ValueError(f"a limit is a positive int of at most 10^15, not {value!r}")
    _overrides[name] = value


@contextmanager
def raised(**values: int) -> Iterator[None]:
    """Set limits for the block only: `with limits.raised(nodes=10**6, length=10**7): ...`."""
    saved = {name: _overrides.get(name) for name in values}
    try:
        for name, value in values.items():
            set(name, value)
        yield
    finally:
        for name, value in saved.items():
            set(name, value)


def check(name: str, size: int, what: str, advice: str = "") -> None:
    """LimitError if size is over the limit; `what` says what was measured: 'the expression is {size} long'."""
    limit = get(name)
    if size > limit:
        raise error(name, what.format(size=f"{size:,}"), limit, advice)


def check_network(sizes: list[int]) -> None:
    """LimitError if a network of these layer sizes (inputs first) would have too many parameters to build."""
    count = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    check("parameters", count, "the network has {size} weights and biases")


def error(name: str, what: str, limit: int | None = None, advice: str = "") -> LimitError:
    """The error for going over a limit: what was found, the limit, how to raise it and (advice) a way around it."""
    spec = _limit(name)
    limit = get(name) if limit is None else limit
    around = f"; {advice}" if advice else ""
    return LimitError(f"{what}; the limit is {limit:,}{spec.unit_for(limit)} ({spec.hint()}){around}")


# What a step of `work` is: the cost of one node in one pass, measured (benchmarks/bench_hostile.py) in
# units of a float evaluation of one node, about 0.3 microseconds in CPython 3.11.
EVALUATE, BACKWARD, FORWARD, BUILD = 1, 2, 10, 200


def check_work(steps: int, what: str, advice: str) -> None:
    """LimitError if `steps` of work (passes x nodes x cost per node) is over the `work` limit, before doing it."""
    check("work", steps, what + " ({size} steps)", advice)
