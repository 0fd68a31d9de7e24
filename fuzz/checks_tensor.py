"""What the tensor fuzz target checks, as a plain function of bytes: no atheris needed.

An input is text: its first line is a tensor expression, each further line the binding
of the next variable (in order of first appearance) as `autodiff` reads it (a number,
a JSON array, ...).  A variable without a line gets a value of a shape chosen by its
position: a number, a vector of 2, a 2x2 matrix, a vector of 3.

The promises checked (raising FuzzFailure, or letting a non-project exception out):
parse, read_binding and build raise only the project's errors (AutodiffError), each fit
to print (a message; a caret inside the text); a built value is finite; backward() of a
one-element result gives every leaf a finite gradient of the leaf's own shape; the two
backends agree (when NumPy is installed); an expression the scalar parser takes has
the scalar engine's value; and the router never leaves tensor syntax to the scalar
parser (if the scalar parser refuses the text as tensor syntax, wants_tensors says yes).
"""

from __future__ import annotations

import io
import json
import math
import sys

from autodiff_cli import parser as scalar
from autodiff_cli.errors import AutodiffError, ParseError
from autodiff_cli.texpr import parse, read_binding, wants_tensors

__all__ = ["DEFAULTS", "check_tensor"]

# The value of a variable without a binding line, by position (0.75, 1.25, ... as check_parser's point)
DEFAULTS = ("0.75", "[1.25, -0.5]", "[[2.0, 0.3], [-1.5, 3.0]]", "[0.1, 0.75, -2.0]")
# What a binding @- reads from stdin: a CSV matrix
STDIN = b"1.5,-2\n0.25,4\n"


class FuzzFailure(AssertionError):
    """The package broke a promise on this input (not a crash: a wrong answer)."""


def _error_fit_to_print(text: str, error: AutodiffError) -> None:
    if not isinstance(error.message, str) or not error.message:
        raise FuzzFailure(f"an error without a message for {text!r}: {error!r}")
    json.dumps(error.to_json())
    column = getattr(error, "column", None)
    if column is not None and getattr(error, "text", None) == text:
        lines = text.split("\n")
        if not 1 <= error.line <= len(lines) or not 1 <= column <= len(lines[error.line - 1]) + 1:
            raise FuzzFailure(f"{text!r}: the error {error.message!r} points at line {error.line}, column {column}, "
                              "outside the text")
        error.caret()


def _flat(t: object) -> list[float]:
    values = t.tolist()  # type: ignore[attr-defined]
    stack, out = [values], []
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(reversed(v))
        else:
            out.append(v)
    return out


def _near(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _run(text: str, lines: list[str], backend: str) -> tuple[object, dict[str, list[float]]] | str:
    """The value and gradients (flattened), or the name of the project's error that stopped it."""
    import autodiff_cli.tensor as T

    with T.use_backend(backend):
        try:
            program = parse(text)
        except AutodiffError as error:
            _error_fit_to_print(text, error)
            return type(error).__name__
        values = {}
        for i, name in enumerate(program.variables):
            given = lines[i] if i < len(lines) else DEFAULTS[i % len(DEFAULTS)]
            try:
                values[name] = read_binding(name, given)
            except AutodiffError as error:
                _error_fit_to_print(given, error)
                return type(error).__name__
        try:
            built = program.build(values)
        except AutodiffError as error:
            _error_fit_to_print(text, error)
            return type(error).__name__
        root = built.root
        flat = _flat(root)
        if not all(math.isfinite(v) for v in flat):
            raise FuzzFailure(f"{text!r} with {lines!r}: the value holds {flat!r}")
        grads: dict[str, list[float]] = {}
        if root.size == 1 and root.requires_grad:
            try:
                root.backward()
            except AutodiffError as error:
                _error_fit_to_print(text, error)
                return (flat, {"error": type(error).__name__})  # type: ignore[return-value]
            for name, leaf in built.leaves.items():
                if leaf.grad is None:
                    continue
                if leaf.grad.shape != leaf.shape:
                    raise FuzzFailure(f"{text!r}: the gradient of {name} has shape {leaf.grad.shape}, "
                                      f"{name} has {leaf.shape}")
                grads[name] = _flat(leaf.grad)
                if not all(math.isfinite(v) for v in grads[name]):
                    raise FuzzFailure(f"{text!r}: the gradient of {name} holds {grads[name]!r}")
        return flat, grads


def check_tensor(data: bytes) -> None:
    """Parse, bind, build and differentiate; compare the backends and the scalar engine."""
    import autodiff_cli.tensor as T

    text, *lines = data.decode("utf-8", "surrogateescape").split("\n")
    try:
        scalar_expr = scalar.parse(text)
    except AutodiffError as error:
        scalar_expr = None
        if isinstance(error, ParseError) and "is tensor syntax" in error.message and not wants_tensors(text, {}):
            raise FuzzFailure(f"{text!r} is tensor syntax, but wants_tensors says no") from None
    real_stdin = sys.stdin
    outcomes = {}
    try:
        for name in T.available():
            sys.stdin = io.TextIOWrapper(io.BytesIO(STDIN))  # what a binding @- reads, the same for each
            outcomes[name] = _run(text, lines, name)
    finally:
        sys.stdin = real_stdin
    first, *others = outcomes.values()
    for other in others:
        if isinstance(first, str) or isinstance(other, str):
            if first != other:
                raise FuzzFailure(f"{text!r} with {lines!r}: the backends disagree: {outcomes!r}")
            continue
        (a, ga), (b, gb) = first, other
        if len(a) != len(b) or not all(map(_near, a, b)) or set(ga) != set(gb) or \
                not all(len(ga[n]) == len(gb[n]) and all(map(_near, ga[n], gb[n])) for n in ga if n != "error"):
            raise FuzzFailure(f"{text!r} with {lines!r}: the backends disagree: {outcomes!r}")
    if scalar_expr is not None and not lines and len(scalar_expr.variables) <= 1:
        # a scalar expression of one number: the tensor language computes what the scalar engine computes
        try:
            want = scalar_expr.evaluate({name: float(DEFAULTS[0]) for name in scalar_expr.variables})
        except AutodiffError:
            return
        if isinstance(first, str):
            if first != "LimitError":  # the two count nodes differently; anything else is a disagreement
                raise FuzzFailure(f"{text!r}: the tensor language refuses ({first}), the scalar engine gives {want!r}")
            return
        if len(first[0]) != 1 or not _near(first[0][0], want):
            raise FuzzFailure(f"{text!r}: the tensor language gives {first[0]!r}, the scalar engine {want!r}")
