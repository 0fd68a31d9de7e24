"""Text to program, program to Tensor graph: parse() once, Program.build(values) as often as needed.

parse() runs the scalar parser's grammar and LALR tables (grammars/expression.lark, the
generated autodiff_cli/grammar_tables.py) through parse_located, the driver's loop that
tells the builder where each token is, with the tensor builder (builder.py) as callbacks.
The result is a Program: its Nodes in the order they were made (every node after its
arguments), the root, and the variables in order of first appearance.

build() runs the Nodes on Tensors in that order (no recursion: a program nested 10,000
deep runs like a flat one) and returns a Built: the root tensor, the leaves used, and
for every tensor made the text that made it (labels, for explain and graph).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import limits, ops
from ..errors import BindingError, LimitError, ParseError, ShapeError, UsageError, listing, shortened
from ..parser_driver import Driver
from ..parser_errors import reword, translate
from .builder import TensorBuilder
from .nodes import Node, location

__all__ = ["Built", "Program", "parse"]

_LOCK = threading.Lock()
_STATE: list[tuple[TensorBuilder, Driver]] = []


@dataclass
class Built:
    """One run of a program: the root tensor, the leaf used for each variable, and labels."""

    root: Any  # Tensor
    leaves: dict[str, Any] = field(default_factory=dict)  # name -> Tensor
    labels: dict[int, str] = field(default_factory=dict)  # id(tensor) -> its source text (a leaf: its name)


class Program:
    """A parsed tensor expression: run it with build(values)."""

    __slots__ = ("nodes", "root", "text", "variables")

    def __init__(self, text: str, nodes: list[Node], root: Node, variables: list[str]) -> None:
        self.text = text
        self.nodes = nodes  # every node after its arguments
        self.root = root
        self.variables = variables  # in order of first appearance; pi and e are constants, not variables

    def __repr__(self) -> str:
        return f"Program(text={self.text!r}, variables={self.variables!r}, nodes={len(self.nodes)})"

    def build(self, values: Mapping[str, Any]) -> Built:
        """The forward pass on these values (Tensors, or numbers, which become 0-d leaves).

        Raises BindingError for a variable without a value, ShapeError (a MathError, exit 1) with the
        caret under the operator or function whose shapes do not fit, MathError for a value with no
        result (log of a negative element), LimitError for a result past the `elements` limit.
        """
        from ..tensor import Tensor, backends
        from ..tensor import tensor as core
        from .evaluate import RUNS, shape_error

        missing = [n for n in self.variables if n not in values]
        if missing:
            noun = "variable" if len(missing) == 1 else "variables"
            raise BindingError(f"no value for {noun} {listing(missing)} "
                               f"(give one as --{shortened(missing[0])} '[1, 2]' or --{shortened(missing[0])} 1)")
        given = [values[n] for n in self.variables]
        b = next((v.backend for v in given if isinstance(v, Tensor)), None) or backends.backend()
        built = Built(root=None)
        results: dict[int, Any] = {}
        for node in self.nodes:
            op = node.op
            if op == "variable":
                value = values[node.value]
                if not isinstance(value, Tensor):
                    value = _number_leaf(node.value, value, b)
                built.leaves[node.value] = value
                built.labels.setdefault(id(value), node.value)
                results[id(node)] = value
                continue
            if op == "number":
                out = core.constant(b.full((), node.value), b)
            elif op == "constant":
                out = core.constant(b.full((), node.value[1]), b)
            elif op == "literal":
                flat, shape = node.value
                out = core.constant(b.from_flat(flat, shape), b)
            else:
                args = [results[id(a)] for a in node.args]
                try:
                    out = RUNS[op](node, args, b)
                except (ShapeError, LimitError, BindingError):
                    raise
                except UsageError as error:
                    raise shape_error(node, self.text, error) from None
            results[id(node)] = out
            built.labels.setdefault(id(out), self.text[node.start:node.end])
        built.root = results[id(self.root)]
        return built


def _number_leaf(name: str, value: Any, b: Any) -> Any:
    from ..tensor import Tensor

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BindingError(f"the value of {name} must be a finite number or a Tensor, not {shortened(repr(value))}")
    return Tensor(float(value), backend=b)


def _state() -> tuple[TensorBuilder, Driver]:
    """The tensor builder and its driver over the scalar parser's tables, made once."""
    if not _STATE:
        from .. import parser

        builder = TensorBuilder()
        _STATE.append((builder, Driver(parser.tables(), builder)))  # type: ignore[arg-type]
    return _STATE[0]


def _check_text(text: str) -> None:
    from ..parser import nesting

    limits.check("length", len(text), "the expression is {size} characters long")
    depth = limits.get("depth")
    if text.count("(") + text.count("[") > depth:
        found = nesting(text.replace("[", "(").replace("]", ")"))
        if found > depth:
            raise limits.error("depth", f"the expression nests parentheses, calls and [...] {found:,} deep", depth)
    if "[" in text:  # an array of n numbers has n - 1 commas: a huge literal is refused before its numbers are read
        limits.check("elements", text.count(",") + 1, "the expression holds {size} items between commas: "
                     "an array in it would have as many elements")
    if "\x00" in text:
        line, column = location(text, text.index("\x00"))
        raise ParseError("the expression contains a NUL character", text, column, line)


def parse(text: str) -> Program:
    """A tensor expression's program.  Raises ParseError (with a caret) or LimitError (exit 2 both)."""
    _check_text(text)
    builder, driver = _state()
    failed: ParseError | None = None
    with _LOCK:
        try:
            builder.reset(text)
            try:
                root = driver.parse_located(text)
            except ParseError as error:
                failed = error
                root = None
            if failed is None and root is Driver.FAIL:
                failed = _syntax_error(text)
            variables = builder.variables
        finally:
            builder.reset("")
    if failed is not None:
        raise reword(failed, text)
    if not isinstance(root, Node):  # the start rule passes a node up: anything else is the driver's bug
        raise ParseError("not an expression", text, 1)
    nodes = _reachable(root)
    limit = limits.get("nodes")
    if len(nodes) > limit:
        raise limits.error("nodes", f"the expression has more than {limit:,} node{'s' * (limit != 1)}", limit)
    used = {id(n) for n in nodes}
    names = [name for name, node in variables.items() if id(node) in used and name not in ops.CONSTANTS]
    return Program(text, nodes, root, names)


def _reachable(root: Node) -> list[Node]:
    """The nodes the root uses, in the order they were made (arguments first), without recursion.

    Numbers folded into a literal array, or read as an axis or an index, are left out.
    """
    order: list[Node] = []  # a post-order walk: every node after its arguments, each once
    done: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, i = stack.pop()
        if i < len(node.args):
            stack.append((node, i + 1))
            child = node.args[i]
            if id(child) not in done:
                stack.append((child, 0))
            continue
        if id(node) not in done:
            done.add(id(node))
            order.append(node)
    return order


def _syntax_error(text: str) -> ParseError:
    """Lark's own analysis of a text the fast loop refused: what was unexpected, and where."""
    from lark.exceptions import UnexpectedInput

    from ..parser import plain_lark

    try:
        plain_lark().parse(text)
    except UnexpectedInput as exc:
        return translate(exc, text)
    return ParseError("the expression could not be parsed", text, 1)
