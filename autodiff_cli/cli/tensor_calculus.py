"""eval, grad, jacobian and hessian of a tensor expression (`sum((A@x - b)^2)` with --A '[[1,2],[3,4]]').

The commands of calculus.py and derivatives.py come here when texpr.route says the expression or a
binding needs tensors (common.tensor_route); a scalar expression never loads this module, nor the
Tensor, nor NumPy.  Each command reads the bindings (texpr.bindings.read_binding: numbers, JSON arrays,
@FILE, @- for stdin), builds the program's Tensor graph on them (texpr: Program.build, which can be
called again with other values), and prints:

- eval: the value; an array as one line of JSON, so that $(autodiff eval ...) can be bound again;
- grad: the value (one number) and each variable's gradient, an array of that variable's shape;
- jacobian: d output / d input for each input, of shape output.shape + input.shape (as
  torch.autograd.functional.jacobian); a matrix with named rows and columns when both are vectors;
- hessian: the second derivatives over the variables' elements flattened, variables in order, each
  row-major: x[0], x[1], ..., then A[0,0], A[0,1], ...

Text output writes small arrays as NumPy prints them and large ones as their shape and edges
(array_text); --json writes every value, arrays as nested lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from .. import limits, ops
from ..array_text import array_block, element_labels, json_line, labelled, nested, shape_text
from ..columns import aligned, matrix_rows, print_matrix
from ..errors import BindingError, MathError, UsageError, shortened
from ..notation import CONSTANT_SPELLINGS
from ..tensor import Tensor, no_grad
from ..texpr import Program, parse
from ..texpr.bindings import read_binding
from .common import console, is_terminal, split_names, warn_unused_names


class Point:
    """A tensor program and the values of its variables: what every command here starts from."""

    def __init__(self, text: str, program: Program, values: dict[str, Tensor]) -> None:
        self.text = text
        self.program = program
        self.values = values

    @classmethod
    def read(cls, text: str, texts: Mapping[str, str], numbers: Mapping[str, float]) -> Point:
        """The program of EXPR and the values bound to it."""
        return cls(text, parse(text), read_values(texts, numbers))

    def warn_unused(self) -> None:
        """A warning for each value the program does not use (after the work, as the scalar commands warn:
        a command that fails says only why)."""
        warn_unused_names(self.program.variables, self.values)

    def moved(self, **changed: Tensor) -> Point:
        """The same program at other values of some variables."""
        return Point(self.text, self.program, {**self.values, **changed})

    @property
    def variables(self) -> list[str]:
        return list(self.program.variables)

    def names(self, wrt: Sequence[str]) -> list[str]:
        """The variables --wrt names (all, in order of appearance, without it), each checked to be one."""
        names = split_names(wrt) if wrt else self.variables
        for name in names:
            if name in self.program.variables:
                continue
            if name in ops.CONSTANTS:
                raise UsageError(f"--wrt {name}: {name} is a constant ({ops.CONSTANTS[name]!r}), not a variable")
            known = ", ".join(self.program.variables) or "none"
            raise UsageError(f"--wrt {name}: the expression has no variable {name} (it has: {known})")
        return names

    def build(self, **changed: Tensor) -> Tensor:
        """The program's output, on the values bound with some of them replaced."""
        return self.program.build({**self.values, **changed}).root

    def function(self, names: Sequence[str]) -> Callable[..., Tensor]:
        """The output as a function of these variables' values (the others held at theirs)."""
        def f(*inputs: Tensor) -> Tensor:
            return self.build(**dict(zip(names, inputs, strict=True)))
        return f

    def scalar(self, root: Tensor, command: str) -> None:
        """A usage error unless the output is one number (what a gradient or a Hessian is of)."""
        if root.size != 1:
            raise UsageError(
                f"{command} needs an expression whose value is one number; {shortened(self.text)} has shape "
                f"{shape_text(root.shape)}: use autodiff jacobian for the derivative of every element, "
                "or sum(...) of it for the gradient of their sum")


def read_values(texts: Mapping[str, str], numbers: Mapping[str, float]) -> dict[str, Tensor]:
    """Each binding as a leaf tensor: a number read as the scalar path reads it (shape ()), an array or a
    file by texpr.bindings.read_binding."""
    values = {}
    for name, text in texts.items():
        if name in CONSTANT_SPELLINGS:
            constant = CONSTANT_SPELLINGS[name]
            raise BindingError(f"{name} is the constant {constant} ({getattr(math, constant)!r}) and cannot be bound")
        if name in ops.CONSTANTS:
            raise BindingError(f"{name} is a constant ({ops.CONSTANTS[name]!r}) and cannot be bound")
        values[name] = Tensor(numbers[name]) if name in numbers else read_binding(name, text)
    return values


def flat(t: Tensor) -> list[float]:
    """A tensor's values, row-major."""
    return t.backend.to_flat(t.array)


def as_json(t: Tensor) -> Any:
    """A tensor as JSON: a number for shape (), nested lists otherwise."""
    return nested(flat(t), t.shape)


def finite(t: Tensor, what: str) -> list[float]:
    """The values, or a math error when one of them left the doubles (JSON has no inf, and nor do we)."""
    values = flat(t)
    if not all(map(math.isfinite, values)):  # map: the loop in C (a 500 x 500 gradient in ms, not 0.1 s)
        raise MathError("backward", f"overflow: {what} is too large for a double")
    return values


def print_json(document: Mapping[str, Any]) -> None:
    """common.print_json's strict JSON, with an array of numbers on one line and a matrix one row a line
    (pretty-printed a number a line, a 3 x 2 gradient would take 11 lines)."""
    import json

    arrays: list[list] = []

    def mark(value: Any) -> Any:  # each array (of numbers, of arrays, of names): a placeholder, replaced below
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list) and any(isinstance(v, dict) for v in value):  # records (explain's steps)
            return [mark(v) for v in value]
        if isinstance(value, list) and not any(isinstance(v, dict) for v in value):
            arrays.append(value)
            return f"\0{len(arrays) - 1}\0"
        return value

    text = json.dumps(mark(document), indent=2, ensure_ascii=False, allow_nan=False)
    # one pass over the text: the pieces between the placeholders, each array in its place (explain --json
    # of a 500 x 500 matrix has some fifty arrays in 20 MB: replacing them one by one copied it each time)
    pieces = text.split('"\\u0000')
    out = [pieces[0]]
    for piece in pieces[1:]:
        k, _, rest = piece.partition('\\u0000"')
        line_indent = out[-1].rpartition("\n")[2]
        depth = len(line_indent) - len(line_indent.lstrip(" "))
        out += [_array_json(arrays[int(k)], depth), rest]
    click.echo("".join(out))


def _array_json(array: list, indent: int) -> str:
    """An array as JSON: a vector on one line; a matrix (or more axes) one innermost row a line."""
    import json

    if not array or not isinstance(array[0], list):
        return json.dumps(array, allow_nan=False, ensure_ascii=False)
    inner = ",\n".join(" " * (indent + 2) + _array_json(row, indent + 2) for row in array)
    return "[\n" + inner + "\n" + " " * indent + "]"


def refuse_options(mode: str = "reverse", batch: bool = False) -> None:
    """The scalar options that have no meaning for a tensor expression, refused with what to do instead."""
    if mode != "reverse":
        raise UsageError("--mode forward is for scalar expressions: a tensor expression is differentiated "
                         "in reverse mode (leave out --mode)")
    if batch:
        raise UsageError("--input reads rows of numbers for a scalar expression; bind arrays instead "
                         "(--x '[1, 2]' or --x @x.json)")


# -- eval and grad ------------------------------------------------------------------------------


def eval_tensor(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], json_: bool) -> None:
    """The value: a number as the scalar path prints it, an array as one line of JSON."""
    point = Point.read(text, texts, numbers)
    with no_grad():
        root = point.build()
    values = finite(root, "the value")
    point.warn_unused()
    if json_:
        print_json({"expression": text, "value": nested(values, root.shape)})
    else:
        click.echo(json_line(values, root.shape))


def gradient(point: Point, names: Sequence[str], command: str = "grad") -> tuple[Tensor, dict[str, list[float]]]:
    """The output (one number) and the gradient of each named variable, flat, by one backward pass."""
    # fresh leaves on the values (shared, not copied): each call has gradients of its own, and only the
    # variables asked for track theirs (--wrt x: no gradient of a large A is computed to be dropped)
    leaves = {name: Tensor(value, requires_grad=name in names) for name, value in point.values.items()}
    root = point.program.build(leaves).root
    point.scalar(root, command)
    if root.requires_grad:
        root.backward()
    grads = {}
    for name in names:
        grad = leaves[name].grad
        grads[name] = [0.0] * leaves[name].size if grad is None else finite(
            grad, f"the gradient with respect to {name}")
    finite(root, "the value")
    return root, grads


def grad_tensor(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], wrt: Sequence[str],
                json_: bool) -> None:
    point = Point.read(text, texts, numbers)
    names = point.names(wrt)
    root, grads = gradient(point, names)
    point.warn_unused()
    shapes = {name: point.values[name].shape for name in names}
    if json_:
        print_json({"expression": text, "value": as_json(root),
                    "gradient": {name: nested(g, shapes[name]) for name, g in grads.items()}})
        return
    click.echo(gradient_block(root, grads, shapes))


def gradient_block(root: Tensor, grads: Mapping[str, list[float]], shapes: Mapping[str, tuple[int, ...]]) -> str:
    """value, then ∂/∂name beside each gradient, arrays laid out as NumPy prints them."""
    rows = [("value", array_block(flat(root), root.shape))]
    rows += [(f"∂/∂{name}", array_block(g, shapes[name])) for name, g in grads.items()]
    return labelled(rows)


# -- jacobian -------------------------------------------------------------------------------------


def jacobian_tensor(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], wrt: Sequence[str],
                    json_: bool) -> None:
    """J[name] of shape output.shape + name's shape, by one backward pass per output element."""
    from ..tensor import jacobian

    point = Point.read(text, texts, numbers)
    names = point.names(wrt)
    with no_grad():
        out = point.build()
    in_size = sum(point.values[n].size for n in names)
    limits.check("cells", out.size * (in_size + 1),
                 f"the Jacobian is {out.size:,} x {in_size:,} with the values ({{size}} cells)",
                 "name fewer variables with --wrt, or differentiate a part of the output")
    matrices = jacobian(point.function(names), [point.values[n] for n in names]) if names else []
    value = finite(out, "the value")
    blocks = {n: finite(j, f"the derivative with respect to {n}") for n, j in zip(names, matrices, strict=True)}
    point.warn_unused()
    if json_:
        print_json({"expression": text, "variables": names, "value": nested(value, out.shape),
                    "jacobian": {n: nested(blocks[n], out.shape + point.values[n].shape) for n in names}})
        return
    if out.ndim <= 1 and all(point.values[n].ndim <= 1 for n in names) and names:
        rows = element_labels(text if len(text) <= 24 else "out", out.shape)  # a long expression: out[0], ...
        columns = [label for n in names for label in element_labels(n, point.values[n].shape)]
        matrix = []
        for i in range(out.size):  # row i: d out[i] / d every input element, the inputs one after another
            row = [value[i]]
            for n in names:
                size = point.values[n].size
                row += blocks[n][i * size : (i + 1) * size]
            matrix.append(row)
        if is_terminal():
            print_matrix(console(), "Jacobian", rows, ["value", *columns], matrix,
                         name=lambda r, c: c if c == "value" else f"∂/∂{c}")
        else:
            click.echo(aligned(matrix_rows(rows, ["value", *columns], matrix)))
        return
    parts = [("value", array_block(value, out.shape))]
    for n in names:
        shape = out.shape + point.values[n].shape
        header = f"shape {shape_text(shape)}: the output's {shape_text(out.shape)}, then {n}'s " \
                 f"{shape_text(point.values[n].shape)}"
        parts.append((f"∂/∂{n}", header + "\n" + array_block(blocks[n], shape)))
    click.echo(labelled(parts))


# -- hessian --------------------------------------------------------------------------------------


def hessian_tensor(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], wrt: Sequence[str],
                   json_: bool) -> None:
    """The value, the gradient and the exact second derivatives over every element of the variables."""
    from ..tensor import hessian

    point = Point.read(text, texts, numbers)
    names = point.names(wrt)
    labels = [label for n in names for label in element_labels(n, point.values[n].shape)]
    n = len(labels)
    limits.check("cells", n * n, f"the Hessian is {n:,} x {n:,} ({{size}} cells)", "name fewer variables with --wrt")
    root, grads = gradient(point, names, "hessian")
    matrix = hessian(point.function(names), [point.values[name] for name in names]) if names else []
    if not all(math.isfinite(x) for row in matrix for x in row):
        raise MathError("backward", "overflow: a second derivative is too large for a double")
    point.warn_unused()
    shapes = {name: point.values[name].shape for name in names}
    if json_:
        print_json({"expression": text, "variables": names, "elements": labels, "value": as_json(root),
                    "gradient": {name: nested(g, shapes[name]) for name, g in grads.items()},
                    "hessian": [list(row) for row in matrix]})
        return
    click.echo(gradient_block(root, grads, shapes))
    if not names:
        return
    if is_terminal():
        print_matrix(console(), "Hessian", labels, labels, matrix, name=lambda r, c: f"∂²/∂{r}∂{c}")
    else:
        click.echo()
        click.echo(aligned(matrix_rows(labels, labels, matrix, corner="hessian")))


__all__ = ["Point", "eval_tensor", "grad_tensor", "gradient", "hessian_tensor", "jacobian_tensor", "refuse_options"]
