"""Graph to straight-line Python: an expression's value and gradient as one plain function.

The compiler reads the Value graph once and writes a small Python module: a
forward sweep (each distinct node computed once, in topological order), then the
adjoints in reverse order, each local derivative inlined from the op table's own
formula.  Variables are taken by position (v0, v1, ...) and every local is a
generated name (t3, g3), so no user text ever enters the source: a variable
called ``__import__('os').system('x')`` appears only as data, in a tuple built
with repr().  The module imports `math` and nothing else; it can be printed
(`autodiff compile`), pasted into another program, or exec'd here for batches.

Structurally identical subtrees are merged (``(w*x+b)`` written twice is computed
once), operations on constants are folded into literals, and a derivative is
only computed on paths that lead to a variable we differentiate by.  A temporary
read once, whose arithmetic cannot raise, is written where it is read (fewer
loads and stores, the same operations on the same operands).

Values are the engine's, bit for bit (x^2 is x*x, correctly rounded, where the
engine's pow may be an ulp off).  Derivatives may take a cheaper road, within a
few ulps of the true value: a product of the forward sweep is read, not redone;
g * (1 / d) is g / d; and derivative code computes sech as 1/cosh (the
table's derivative_form).

Errors: the generated code runs on floats.  A domain error raises ValueError,
a division by zero ZeroDivisionError, an overflow in a math function
OverflowError.  A sum, difference, product or quotient that overflows to inf
raises OverflowError where the inf could vanish into a finite result (as the
argument of tanh, or a denominator); elsewhere it reaches the results, which
come back as inf or nan, like hand-written code's (the caller checks them once,
which is cheaper than checking every node).  The intermediates to check are
added up and tested once; only when the sum is not finite is each one tested,
since two large finite numbers can add up to inf.  The callers that need the
project's precise messages (the batch runner) evaluate such a row again through
the Value graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .compile_writer import Writer
from .engine import Value

if TYPE_CHECKING:
    from .expression import Expression

__all__ = ["Compiled", "compile_expression", "compile_graph"]


@dataclass(frozen=True)
class Compiled:
    """A compiled expression: the generated module's text and its two functions.

    gradient(*values) returns (value, d/d wrt[0], d/d wrt[1], ...), floats;
    value(*values) returns the value.  Values go by position, as in `variables`.
    """

    source: str
    variables: tuple[str, ...]
    wrt: tuple[str, ...]
    gradient: Callable[..., tuple[float, ...]]
    value: Callable[..., float]


def compile_expression(expr: Expression, wrt: Sequence[str] | None = None) -> Compiled:
    """Compile a parsed Expression (autodiff_cli.parse) by its variables, in order of appearance.

    wrt: the names to differentiate by (default: every variable, in order); a name
    that is not a variable raises ValueError.
    """
    variables = expr.variables
    names = list(variables)
    chosen = names if wrt is None else list(wrt)
    for name in chosen:
        if name not in variables:
            raise ValueError(f"{name!r} is not a variable of the expression")
    return compile_graph(
        expr.root,
        list(variables.values()),
        [names.index(n) for n in chosen],
        names=names,
        text=expr.text,
    )


def compile_graph(
    root: Value,
    leaves: Sequence[Value],
    wrt: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    text: str | None = None,
) -> Compiled:
    """Compile the graph under root; leaves[i] is the i-th argument, wrt the positions to differentiate by.

    names label the positions (as data, never as code); text is the expression, kept as data too.
    """
    names = [leaf.name or f"v{i}" for i, leaf in enumerate(leaves)] if names is None else list(names)
    wrt = list(range(len(leaves))) if wrt is None else list(wrt)
    source = Writer(root, leaves, wrt).module(names, [names[i] for i in wrt], text)
    namespace: dict = {"__name__": "autodiff_compiled"}
    # The source is generated from the op table's formulas and from numbers; names are data.
    exec(compile(source, "<autodiff compiled>", "exec"), namespace)
    return Compiled(source, tuple(names), tuple(names[i] for i in wrt), namespace["gradient"], namespace["value"])
