"""check of a tensor expression: every element of every gradient against central differences.

The expression's value must be one number (the loss whose gradient is checked).  Each element of
each variable is one check: the program is built again with that element moved by +h and by -h
(Program.build takes any values), and (f(x+h) - f(x-h)) / 2h is compared with the element of the
gradient that one backward pass gave.  The verdicts, the extrapolation with smaller steps where the
first step does not confirm a derivative, and the report are checking.py's, so that a tensor check
reads as a scalar one does, a row per element: x[0], A[1,0], ...  --order 2 checks the Hessian
(tensor.hessian's exact second derivatives) against differences of the gradient, a row of the
matrix per element.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .. import limits
from ..array_text import element_labels, nested
from ..errors import UsageError, shortened
from ..tensor import Tensor, no_grad
from .checking import Group, report_checks, run_checks
from .derivatives import check_cells
from .tensor_calculus import Point, flat, gradient


def graph_numbers(root: Tensor) -> int:
    """How many numbers the graph of `root` computes (every node's size): the cost of one forward pass."""
    seen = {id(root)}
    todo = [root]
    total = 0
    while todo:
        node = todo.pop()
        total += node.size
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                todo.append(parent)
    return total


def moved(point: Point, name: str, k: int) -> Callable[[float], Tensor]:
    """The values of `name` with its k-th element (row-major) set to a given number."""
    base = flat(point.values[name])
    shape = point.values[name].shape
    backend = point.values[name].backend

    def at(x: float) -> Tensor:
        values = list(base)
        values[k] = x
        return Tensor(nested(values, shape), backend=backend)

    return at


def check_tensor(text: str, texts: Mapping[str, str], numbers: Mapping[str, float], eps: float | None,
                 tol: float, order: int, wrt: Sequence[str], json_: bool) -> None:
    point = Point.read(text, texts, numbers)
    if not point.variables:
        raise UsageError(f"{shortened(text)!r} has no variables: there is no derivative to check")
    names = point.names(wrt)
    root, grads = gradient(point, names, "check")
    labels = {name: element_labels(name, point.values[name].shape) for name in names}
    count = sum(len(v) for v in labels.values())
    size = graph_numbers(point.build())
    if order == 2:
        rows = count + count * (count + 1) // 2  # five cells a row, as check's scalar rows
        check_cells(5 * rows, f"checking {count:,} first and {count * (count + 1) // 2:,} second derivatives "
                              f"is {rows:,} rows")
    cost = limits.EVALUATE if order == 1 else limits.EVALUATE + limits.BACKWARD
    limits.check_work(2 * count * size * cost,
                      f"checking is {2 * count:,} passes over a graph of {size:,} numbers",
                      "name fewer variables with --wrt")
    spare = (limits.get("work") - 2 * count * size * cost) // max(1, 2 * size * cost)

    def value_at(name: str, k: int) -> Callable[[float], list[float]]:
        at = moved(point, name, k)

        def f(x: float) -> list[float]:
            with no_grad():
                return [point.build(**{name: at(x)}).item()]
        return f

    groups: list[Group] = []
    points: dict[str, float] = {}
    for name in names:
        x0 = flat(point.values[name])
        for k, label in enumerate(labels[name]):
            points[label] = x0[k]
            groups.append(Group(label, x0[k], [label], [grads[name][k]], value_at(name, k)))
    if order == 2:
        groups += second_order_groups(point, names, labels)
    found = run_checks(groups, eps, tol, spare)
    point.warn_unused()
    report_checks(text, root.item(), eps, tol, found, points, json_)


def second_order_groups(point: Point, names: list[str], labels: Mapping[str, list[str]]) -> list[Group]:
    """A group per element i: row i of the Hessian from column i on, against differences of the gradient."""
    from ..tensor import hessian

    matrix = hessian(point.function(names), [point.values[n] for n in names])
    every = [(name, k, label) for name in names for k, label in enumerate(labels[name])]
    groups = []
    for i, (name, k, label) in enumerate(every):
        at = moved(point, name, k)

        def f(x: float, name: str = name, at: Callable[[float], Tensor] = at, i: int = i) -> list[float]:
            grads = gradient(point.moved(**{name: at(x)}), names, "check")[1]
            return [g for n in names for g in grads[n]][i:]

        groups.append(Group(label, flat(point.values[name])[k], [f"{label},{b}" for _, _, b in every[i:]],
                            list(matrix[i][i:]), f))
    return groups
