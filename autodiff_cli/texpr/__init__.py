"""The tensor expression language: "sum((A@x - b)^2)" with A, x, b bound to arrays.

    from autodiff_cli.texpr import parse, read_binding
    program = parse("sum((A@x - b)^2)")                   # ParseError with a caret for bad syntax
    built = program.build({"A": read_binding("A", "[[1, 2], [3, 4]]"),
                           "x": read_binding("x", "[1, -1]"), "b": read_binding("b", "[0, 1]")})
    built.root.backward()                                  # built.leaves["A"].grad, ...

The rooms: route.py (does an expression need this language? standard library only),
builder.py (the grammar's callbacks: a program of Nodes with positions), functions.py
(the tensor functions and what the text decides: arguments, axes, indices, literals),
program.py (parse, Program.build), evaluate.py (each Node on Tensors, shape errors with a
caret), bindings.py (a variable's value from text, JSON, CSV, .npy, stdin).
Importing this package loads nothing else: each name is loaded on first use (PEP 562), so that
the command line can ask route.wants_tensors on every run for the price of a regular expression;
build() and read_binding() load the tensor code.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Built", "Program", "parse", "read_binding", "wants_tensors"]

_HOMES = {"Built": "program", "Program": "program", "parse": "program", "read_binding": "bindings",
          "wants_tensors": "route"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'autodiff_cli.texpr' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
