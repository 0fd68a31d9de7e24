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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import LimitError, UsageError

__all__ = ["LIMITS", "Limit", "check", "get", "raised", "set"]


@dataclass(frozen=True)
class Limit:
    """One limit: its name, default, the variable that raises it, its unit and what it bounds."""

    name: str
    default: int
    env: str
    unit: str
    description: str

    def hint(self) -> str:
        return f"set {self.env} to raise it"


LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("length", 1_000_000, "AUTODIFF_MAX_LENGTH", "characters", "length of an expression"),
        Limit("depth", 10_000, "AUTODIFF_MAX_DEPTH", "levels",
              "parentheses and function calls open at once in an expression"),
        Limit("nodes", 20_000, "AUTODIFF_MAX_NODES", "nodes",
              "operations, numbers and variables in the graph of an expression"),
        Limit("order", 10, "AUTODIFF_MAX_ORDER", "", "order of a derivative printed by diff --order"),
        Limit("output", 1_000_000, "AUTODIFF_MAX_OUTPUT", "characters", "length of a derivative printed by diff"),
        Limit("line", 1_048_576, "AUTODIFF_MAX_LINE", "bytes", "length of a line of batch input (--input)"),
        Limit("file", 104_857_600, "AUTODIFF_MAX_FILE", "bytes", "size of a data or model file (train, predict)"),
        Limit("parameters", 1_000_000, "AUTODIFF_MAX_PARAMETERS", "parameters",
              "weights and biases of a neural network (train --hidden, a model file)"),
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
    if text is None or not text.strip():
        return limit.default
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise UsageError(f"{limit.env} must be a positive whole number, not {text!r}")
    return value


def set(name: str, value: int | None) -> None:
    """Set a limit for this process (None: back to the environment or the default)."""
    _limit(name)
    if value is None:
        _overrides.pop(name, None)
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"a limit is a positive int, not {value!r}")
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


def check(name: str, size: int, what: str) -> None:
    """LimitError if size is over the limit; `what` says what was measured: 'the expression is {size} long'."""
    limit = get(name)
    if size > limit:
        raise error(name, what.format(size=f"{size:,}"), limit)


def check_network(sizes: list[int]) -> None:
    """LimitError if a network of these layer sizes (inputs first) would have too many parameters to build."""
    count = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    check("parameters", count, "the network has {size} weights and biases")


def error(name: str, what: str, limit: int | None = None) -> LimitError:
    """The error for going over a limit: what was found, the limit and how to raise it."""
    spec = _limit(name)
    limit = get(name) if limit is None else limit
    unit = f" {spec.unit}" if spec.unit else ""
    return LimitError(f"{what}; the limit is {limit:,}{unit} ({spec.hint()})")
