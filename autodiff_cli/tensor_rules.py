"""The backward rule of every tensor operation, in matrix-calculus notation: one table to read.

Reverse mode sends back, along each edge, a vector-Jacobian product: the gradient `g`
that arrived at an operation's output (it has the output's shape), turned into the
gradient of one argument (the argument's shape).  The rules below are that turning,
written over the arguments' names: x, y, z for the first, second and third argument,
out for the output, g for the gradient arriving at it.  `.T` swaps the last two axes,
`@` is the matrix product, every other operator is elementwise (NumPy's broadcasting).

For the functions of the op table (tanh, exp, *, +, ...) no rule is written here:
theirs is `g * f'(x)`, elementwise, with the table's own derivative formula (the one the
scalar explain prints), so `tanh(x)` sends back `g * sech(x)^2`.  Where broadcasting
stretched an argument (b in `W @ x + b` with several rows), its gradient is then summed
back over the stretched axes, since each of its elements was used once per copy.

The rules are text for explain and graph; the numbers are always the Tensors' own
backward steps (autodiff_cli/tensor/), and tests/test_tensor_views.py checks that the two agree.
Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import ops
from .explain import formula_text

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["ELEMENTWISE", "RULES", "broadcast_note", "is_table", "local_formula", "rule"]

# op name -> the gradient of each argument, given g (the gradient of out).  {…} are filled from the node.
RULES: dict[str, tuple[str, ...]] = {
    # the matrix product out = x @ y: out[i, j] = sum_k x[i, k] * y[k, j], so each x[i, k] meets
    # every y[k, j] (a vector is a column on the right of @, a row on its left)
    "matmul": ("g @ y.T", "x.T @ g"),
    "matmul 1-D": ("g * y", "g * x"),  # two vectors: out is their dot product, one number
    # reductions: each element of a group gets the group's gradient, times its own share
    "sum": ("g broadcast{over} to {shape}",),
    "mean": ("g / {n} broadcast{over} to {shape}",),
    "max": ("g where x == out (split evenly between ties), 0 elsewhere",),
    "min": ("g where x == out (split evenly between ties), 0 elsewhere",),
    "prod": ("g * out / x (each element: g times the product of the others)",),
    "norm": ("g * x / out",),
    "trace": ("g * I (g on the diagonal of a {shape} matrix, 0 elsewhere)",),
    # softmax and its family, each along its axis: J^T g without building J
    "softmax": ("out * (g - sum(g * out, axis={axis}))",),
    "log_softmax": ("g - exp(out) * sum(g, axis={axis})",),
    "logsumexp": ("g * exp(x - out)  (that is g * softmax(x))",),
    # the same numbers in another place: the gradient goes back to where each number came from
    "reshape": ("g reshaped to {shape}",),
    "squeeze": ("g reshaped to {shape}",),
    "unsqueeze": ("g reshaped to {shape}",),
    "permute": ("g with its axes put back, permute {inverse}",),
    "transpose": ("g.T",),  # a 2-D permute
    "expand": ("g summed back to {shape} over the broadcast axes",),
    "getitem": ("g at the places x[{index}] came from, 0 elsewhere in {shape}",),
    "concatenate": ("g[{part}] (its own part, along axis {axis})",),
    "where": ("none: a condition is a choice, not a number", "where(x, g, 0)", "where(x, 0, g)"),
    "clip": ("g where x was within the bounds, 0 where it was clipped",),
    # square matrices (matrixcalculus.org writes inv(A)' for inv(A).T)
    "det": ("g * out * inv(x).T",),
    "inv": ("-out.T @ g @ out.T",),
    "logdet": ("g * inv(x).T",),
    "solve": ("-solve(x.T, g) @ out.T", "solve(x.T, g)"),  # out = solve(A, b): A @ out = b
    # the fused nodes of networks (tensor/nn.py, tensor/losses.py): out = x @ W.T + b in one node, and the
    # losses from logits, each the mean over its N examples
    "linear": ("g @ y", "g.T @ x", "g summed over the rows"),
    "cross_entropy": ("(softmax(x) - p) * g / N", "-log_softmax(x) * g / N"),
    "bce_with_logits": ("(sigmoid(x) - y) * g / N", "-x * g / N"),
}
# every function of the op table: g times its derivative, elementwise (the table's own formula)
ELEMENTWISE = "g * {derivative}"

_PLACES = ("x", "y", "z")


def is_table(node: Tensor) -> bool:
    """Whether the node is a function of the op table (its rule is g * f'(x), or g itself)."""
    return isinstance(node.saved, ops.Op)


def local_formula(node: Tensor, arg: int, names: Sequence[str]) -> str | None:
    """For a function of the op table: its derivative in argument `arg` written over the arguments' names."""
    if not is_table(node):
        return None
    return formula_text(node.saved, arg, list(names))


def rule(node: Tensor, arg: int, names: Sequence[str], out: str, upstream: str = "g") -> str:
    """The rule for the gradient of argument `arg` of `node`, over the arguments' `names` and the output's `out`.

    upstream: what the arriving gradient is called (g, unless an argument has that name).
    """
    formula = local_formula(node, arg, names)  # already over the names: only g is left to name
    if formula is not None:  # a function of the op table
        text = {"1": upstream, "-1": f"-{upstream}"}.get(formula)
        if text is None:
            plain = formula in names or _wrapped(formula)  # a name, a constant's values, or one call: no ( )
            shown = f"({formula})" if re.search(r"[-+*/ ]", formula) and not plain else formula
            text = ELEMENTWISE.format(derivative=shown).replace("g", upstream, 1)
        return text + broadcast_note(node.shape, node.parents[arg].shape)
    key = node.op
    if key == "matmul" and all(p.ndim == 1 for p in node.parents):
        key = "matmul 1-D"
    elif key == "permute" and len(node.saved) == 2 and node.saved == (1, 0):
        key = "transpose"
    texts = RULES.get(key)
    if texts is None:  # an operation added to the Tensor layer without its line here: still say something
        return f"the {node.op} backward step applied to {upstream}"
    text = texts[min(arg, len(texts) - 1)].format(**_details(node, arg))
    x = node.parents[arg]
    if node.op == "where" and arg > 0:  # broadcast like a table function's arguments: summed back the same way
        text += broadcast_note(node.shape, x.shape)
    elif node.op == "matmul" and x.ndim >= 2 and node.ndim > 2 and tuple(x.shape[:-2]) != tuple(node.shape[:-2]):
        text += f", summed over the broadcast batch axes back to {tuple(x.shape)}"  # a stack of matrices @ one
    return _named(text, names, out, upstream)


def _wrapped(formula: str) -> bool:
    """Whether the formula is one call, f(...), with nothing outside its parentheses."""
    m = re.fullmatch(r"[A-Za-z_]\w*\((.*)\)", formula)
    if m is None:
        return False
    depth = 0
    for ch in m.group(1):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _named(text: str, names: Sequence[str], out: str, upstream: str) -> str:
    """The rule's x, y, z, out and g replaced by the labels of the node's arguments, its output and g."""
    mapping = {place: name for place, name in zip(_PLACES, names, strict=False)}
    mapping["out"] = out
    mapping["g"] = upstream

    def swap(m: re.Match) -> str:
        found = m.group(0)
        return mapping.get(found, found)

    # whole words only: the x of exp stays, an x after "x[" too is x
    return re.sub(r"(?<![\w.])(?:x|y|z|out|g)(?!\w)", swap, text)


def broadcast_note(out_shape: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """What broadcasting's backward adds to a rule: the sum over the axes the argument was stretched along."""
    if tuple(out_shape) == tuple(shape):
        return ""
    if not shape:
        return ", summed over every element (a number used everywhere)"
    added = len(out_shape) - len(shape)
    axes = list(range(added)) + [added + k for k, n in enumerate(shape) if n == 1 and out_shape[added + k] != 1]
    which = f"axis {axes[0]}" if len(axes) == 1 else f"axes {tuple(axes)}"
    return f", summed over {which} back to {tuple(shape)}"


def _details(node: Tensor, arg: int) -> dict[str, Any]:
    """The numbers a rule names: the input's shape, the count of a mean, the axis of a softmax, ..."""
    x = node.parents[min(arg, len(node.parents) - 1)]
    found: dict[str, Any] = {"shape": tuple(x.shape), "axis": "", "n": "", "inverse": "", "index": "", "part": "",
                             "over": ""}
    saved = node.saved
    if node.op in ("sum", "mean", "max", "min", "prod") and isinstance(saved, tuple) and saved:
        axes = tuple(saved[0])
        n = 1
        for k in axes:
            n *= x.shape[k]
        found["n"] = n
        if len(axes) != x.ndim:  # over some axes: say which
            found["over"] = f" over axis {axes[0]}" if len(axes) == 1 else f" over axes {axes}"
    elif node.op in ("softmax", "log_softmax") and isinstance(saved, int):
        found["axis"] = saved
    elif node.op == "permute" and isinstance(saved, tuple):
        found["inverse"] = tuple(sorted(range(len(saved)), key=saved.__getitem__))
    elif node.op == "getitem" and isinstance(saved, tuple) and saved:
        index = [_slice_text(k, n) for k, n in zip(saved[0], x.shape, strict=False)]
        while len(index) > 1 and index[-1] == ":":  # A[1, :] is A[1]
            index.pop()
        found["index"] = ", ".join(index)
    elif node.op == "concatenate" and isinstance(saved, int):
        start = sum(p.shape[saved] for p in node.parents[:arg])
        stop = start + x.shape[saved]
        found["axis"] = saved
        found["part"] = ", ".join([":"] * saved + [f"{start}:{stop}"])
    return found


def _slice_text(k: Any, size: int) -> str:
    """An index as a program writes it: 1, 0:2, :, 1::2 (a whole axis is :)."""
    if not isinstance(k, slice):
        return str(k)
    start = "" if not k.start else str(k.start)
    stop = "" if k.stop == size else str(k.stop)
    step = "" if k.step in (None, 1) else f":{k.step}"
    return f"{start}:{stop}{step}"
