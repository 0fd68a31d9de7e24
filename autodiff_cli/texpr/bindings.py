"""A variable's value for a tensor expression, from the text of a binding.

    --x 3                 a number (or numbers like pi/2): a 0-d tensor
    --A '[[1, 2], [3, 4]]' a JSON array, nested as deep as the tensor has axes
    --A @A.json           a file: .json (a number or nested arrays), .csv (rows of numbers, no header),
                          .npy (NumPy's own format; needs NumPy)
    --A @-                stdin: JSON if it starts with '[', else CSV

A .csv file reads as NumPy's loadtxt reads it: one row or one column is a vector, one
number a 0-d tensor, anything else a matrix.  Everything is a usage error (exit 2) that
says where: a ragged array ("A[1] has 2 items, A[0] has 3"), a string or a true, NaN and
infinities, a number too large for a double.  The size is measured before anything is
allocated (the commas of a JSON or CSV text, the header of a .npy file) and refused past
the `elements` limit, the nesting past the `axes` limit (autodiff_cli/limits.py).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from typing import Any

from .. import limits, ops
from ..errors import BindingError, LimitError, ParseError, json_value_problem, shortened, visible
from ..notation import CONSTANT_SPELLINGS

__all__ = ["read_binding"]


def read_binding(name: str, text: str) -> Any:
    """The value of `name` as a float64 leaf Tensor (requires_grad=True; shape () for a number)."""
    if name in ops.CONSTANTS or name in CONSTANT_SPELLINGS:
        constant = CONSTANT_SPELLINGS.get(name, name)
        raise BindingError(f"{name} is the constant {constant} ({ops.CONSTANTS[constant]!r}) and cannot be bound")
    stripped = text.strip()
    if stripped.startswith("@"):
        source = stripped[1:]
        if source == "-":
            data = _read_stdin(name)
            return _from_text(name, data, "csv" if not data.lstrip().startswith("[") else "json", "stdin")
        return _from_file(name, source)
    if stripped.startswith("["):
        return _from_text(name, stripped, "json", "")
    return _tensor([_number(name, stripped)], ())


# -- numbers -------------------------------------------------------------------------------------


def _number(name: str, text: str) -> float:
    """A number, or an expression of numbers (pi/2, -1e-3), with the scalar bindings' rules."""
    try:
        value = float(text) if "_" not in text else None  # 1_000 is not a number
    except ValueError:
        value = None
    if value is None:
        value = _constant_expression(name, text)
    if not math.isfinite(value):
        raise BindingError(f"the value of {name} must be a finite number, not {shortened(text)!r}")
    if value == 0.0 and re.match(r"[^eE]*[1-9]", text):
        raise BindingError(f"the value of {name} is too small for a double: {shortened(text)} would be 0")
    return value


def _constant_expression(name: str, text: str) -> float:
    from ..errors import MathError
    from ..parser import parse

    try:
        expr = parse(text)
    except (ParseError, LimitError):
        expr = None
    if expr is None or expr.variables:
        raise BindingError(f"the value of {name} must be a number (or numbers like pi/2), a JSON array like "
                           f"[1, 2] or @FILE, not {shortened(text)!r}")
    try:
        return expr.evaluate({})
    except MathError as error:
        raise BindingError(f"the value of {name} cannot be computed: {error.message}") from None


# -- text: JSON and CSV --------------------------------------------------------------------------


def _from_text(name: str, text: str, kind: str, where: str) -> Any:
    if kind == "json":
        return _from_json(name, text, where)
    return _from_csv(name, text, where)


def _in(where: str) -> str:
    return f" (in {where})" if where else ""


def _from_json(name: str, text: str, where: str) -> Any:
    # measured before json.loads makes a Python object per number: a valid array of n numbers has
    # n - 1 commas, and as many axes as '[' open at once
    limits.check("elements", text.count(",") + 1, f"the value of {name} has {{size}} elements{_in(where)}")
    _check_nesting(name, text, where)

    def refuse(constant: str) -> Any:
        raise BindingError(f"the value of {name} holds {constant}{_in(where)}: a tensor holds finite numbers")

    try:
        data = json.loads(text, parse_int=float, parse_constant=refuse)
    except json.JSONDecodeError as error:
        raise BindingError(f"the value of {name} is not valid JSON{_in(where)}: {error.msg} at line {error.lineno}, "
                           f"column {error.colno}") from None
    except RecursionError:  # deeper than the axes limit allows, if that was raised very high
        raise BindingError(f"the value of {name} nests too deep to read{_in(where)}") from None
    except ValueError as error:
        raise BindingError(f"the value of {name}{_in(where)}: {json_value_problem(error)}") from None
    flat, shape = _flatten(name, data, where)
    return _tensor(flat, shape)


def _check_nesting(name: str, text: str, where: str) -> None:
    most = limits.get("axes")
    if text.count("[") <= most:
        return
    depth = deepest = 0
    for c in re.sub(r"[^\[\]]+", "", text):
        depth += 1 if c == "[" else -1
        if depth > deepest:
            deepest = depth
            if deepest > most:
                raise limits.error("axes", f"the value of {name} nests arrays more than {most:,} deep{_in(where)}",
                                   most)


def _label(name: str, index: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(str(i) for i in index)}]"


def _unravel(i: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        i, k = divmod(i, size)
        index.append(k)
    return tuple(reversed(index))


def _flatten(name: str, data: Any, where: str) -> tuple[list[float], tuple[int, ...]]:
    """Nested lists to (flat values, shape), level by level (no recursion), saying where a row is ragged."""
    level = [data]
    shape: list[int] = []
    while level and isinstance(level[0], list):
        size = len(level[0])
        following: list[Any] = []
        for i, item in enumerate(level):
            if not isinstance(item, list) or len(item) != size:
                at, first = _unravel(i, tuple(shape)), _unravel(0, tuple(shape))
                if not isinstance(item, list):
                    raise BindingError(f"{_label(name, at)} is {_kind(item)} where {_label(name, first)} is a list"
                                       f"{_in(where)}: the rows of an array have one shape")
                raise BindingError(f"{_label(name, at)} has {_count(len(item))}, {_label(name, first)} has "
                                   f"{_count(size)}{_in(where)}: the rows of an array have one length")
            following.extend(item)
        shape.append(size)
        level = following
    flat = level
    if all(type(v) is float for v in flat):
        try:
            if math.isfinite(math.fsum(flat)):
                return flat, tuple(shape)
        except OverflowError:
            pass
    for i, v in enumerate(flat):  # something is not a finite number: find it, and say where
        if type(v) is not float or not math.isfinite(v):
            at = _label(name, _unravel(i, tuple(shape))) if shape else f"the value of {name}"
            if isinstance(v, list):
                raise BindingError(f"{at} is a list where the others are numbers{_in(where)}: "
                                   "the rows of an array have one shape")
            if type(v) is float:
                raise BindingError(f"{at} is too large for a double{_in(where)}: a tensor holds finite numbers")
            raise BindingError(f"{at} is {_kind(v)}{_in(where)}: a tensor holds numbers")
    return flat, tuple(shape)


def _numbers(n: int) -> str:
    return f"{n} number{'s' * (n != 1)}"


def _count(n: int) -> str:
    return f"{n} item{'s' * (n != 1)}"


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"{shortened(json.dumps(value))} (a string)"
    if isinstance(value, dict):
        return "an object"
    return f"a number ({value!r})"


def _from_csv(name: str, text: str, where: str) -> Any:
    """Rows of numbers separated by commas, no header; shaped as NumPy's loadtxt shapes them."""
    # measured before the text is split: a row of n numbers has n - 1 commas, and rows end in a newline
    limits.check("elements", text.count(",") + text.count("\n") + 1,
                 f"the value of {name} has {{size}} elements{_in(where)}")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise BindingError(f"the value of {name} is empty{_in(where)}: give rows of numbers")
    rows: list[list[float]] = []
    width = -1
    for n, line in enumerate(lines, 1):
        cells = line.split(",")
        if not line.strip():
            raise BindingError(f"line {n} of the value of {name} is empty{_in(where)}: a .csv file is rows of numbers")
        if width < 0:
            width = len(cells)
        elif len(cells) != width:
            raise BindingError(f"line {n} of the value of {name} has {_numbers(len(cells))}, line 1 has {width}"
                               f"{_in(where)}: the rows of a matrix have one length")
        row = []
        for k, cell in enumerate(cells, 1):
            cell = cell.strip()
            try:
                value = float(cell)
            except ValueError:
                header = " (a .csv file has no header line)" if n == 1 and any(c.isalpha() for c in cell) else ""
                raise BindingError(f"line {n}, column {k} of the value of {name}{_in(where)} is "
                                   f"{shortened(visible(cell))!r}, not a number{header}") from None
            if not math.isfinite(value):
                raise BindingError(f"line {n}, column {k} of the value of {name}{_in(where)} is {cell}: "
                                   "a tensor holds finite numbers")
            row.append(value)
        rows.append(row)
    flat = [v for row in rows for v in row]
    if len(rows) == 1 and width == 1:
        shape: tuple[int, ...] = ()
    elif len(rows) == 1 or width == 1:
        shape = (len(flat),)
    else:
        shape = (len(rows), width)
    return _tensor(flat, shape)


# -- files and stdin -----------------------------------------------------------------------------


def _path(path: str) -> str:
    """A file name for a message: whole unless absurdly long, control characters escaped."""
    return visible(shortened(path, 200))


def _read_bytes(name: str, path: str) -> bytes:
    limit = limits.get("file")
    try:
        size = os.path.getsize(path)
        if not os.path.isfile(path):
            raise BindingError(f"the value of {name}: {_path(path)} is not a file")
        if size > limit:
            raise limits.error("file", f"the file {_path(path)} for {name} is {size:,} bytes", limit)
        with open(path, "rb") as f:
            return limits.read_bounded(f.read, limit + 1)
    except FileNotFoundError:
        raise BindingError(f"the value of {name}: no file {_path(path)} "
                           f"(@FILE reads a .json, .csv or .npy file)") from None
    except OSError as error:
        raise BindingError(f"the value of {name}: cannot read {_path(path)}: "
                           f"{error.strerror or error}") from None


def _decode(name: str, data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BindingError(f"the value of {name}{_in(where)} is not UTF-8 text (byte {error.start + 1})") from None


def _from_file(name: str, path: str) -> Any:
    if not path:
        raise BindingError(f"the value of {name}: '@' needs a file name (@A.json) or - for stdin")
    extension = os.path.splitext(path)[1].lower()
    where = _path(path)
    if extension == ".npy":
        return _from_npy(name, path)
    if extension not in (".json", ".csv"):
        raise BindingError(f"the value of {name}: {where} is not a .json, .csv or .npy file (the name says "
                           "which it is)")
    text = _decode(name, _read_bytes(name, path), where)
    return _from_text(name, text, extension[1:], where)


def _read_stdin(name: str) -> str:
    limit = limits.get("file")
    try:
        if hasattr(sys.stdin, "buffer"):
            data = limits.read_bounded(sys.stdin.buffer.read, limit + 1)
        else:
            data = sys.stdin.read(limit + 1).encode()
    except (OSError, ValueError) as error:  # closed, or not readable (a test runner's stdin)
        raise BindingError(f"the value of {name}: @- cannot read stdin ({error})") from None
    if len(data) > limit:
        raise limits.error("file", f"stdin holds more than {limit:,} bytes", limit)
    return _decode("stdin", data, "stdin")


def _from_npy(name: str, path: str) -> Any:
    """NumPy's .npy: the header read first (shape, type), the values only if they fit the limits."""
    where = _path(path)
    try:
        import numpy as np
    except ImportError:
        raise BindingError(f"the value of {name}: reading a .npy file needs NumPy (pip install "
                           "'autodiff[numpy]'); a .json or .csv file needs nothing") from None
    _read_bytes(name, path)[:0]  # existence, kind and the file limit, with their messages
    try:
        with open(path, "rb") as f:
            fmt = np.lib.format
            version = fmt.read_magic(f)
            header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = header(f)
    except (ValueError, OSError, SyntaxError) as error:
        raise BindingError(f"the value of {name}: {where} is not a .npy file NumPy can read ({error})") from None
    limits.check("axes", len(shape), f"the value of {name} has {{size}} axes (in {where})")
    limits.check("elements", math.prod(shape), f"the value of {name} has {{size}} elements (in {where})")
    if dtype.kind not in "iuf":
        raise BindingError(f"the value of {name}: {where} holds {dtype} values, not numbers (a tensor holds "
                           "integers or floats, read as doubles)")
    try:
        array = np.load(path, allow_pickle=False).astype(np.float64)
    except (ValueError, OSError) as error:
        raise BindingError(f"the value of {name}: {where} cannot be read ({error})") from None
    bad = ~np.isfinite(array)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        label = _label(name, at) if at else f"the value of {name}"
        raise BindingError(f"{label} is {float(array[at])!r} (in {where}): a tensor holds finite numbers")
    return _tensor(array.ravel().tolist(), tuple(int(n) for n in shape))


def _tensor(flat: list[float], shape: tuple[int, ...]) -> Any:
    from ..tensor import tensor as core
    from ..tensor.backends import backend

    b = backend()
    t = core.constant(b.from_flat(flat, shape), b)
    t.requires_grad = True  # a leaf whose gradient is wanted
    return t
