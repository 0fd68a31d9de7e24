"""The op table as generated code reads it: inline forms of forwards, derivative templates, helpers.

Everything here is derived from the table's entries (their forward's Python, their
derivative formulas and conventions); nothing names an operation.  Used by the
compiler's writer (compile_writer.py).  Standard library only.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
from dataclasses import dataclass

from . import ops
from .peephole import number

# Operations written as Python operators; anything else is a call.
# Operations written as Python's own binary operators: the table's infix symbols that Python spells the same
INFIX = {op.name: op.symbol for op in ops.functions() if op.arity == 2 and op.symbol in ("+", "-", "*", "/")}
# Other operations that give inf, nan or an exception for an inf or nan argument are marked keeps_inf in the
# table (log(inf) is inf, sin(inf) raises); an operation not marked is checked, which is only slower.
# Cheaper forms of table functions for derivative code are the table's derivative_form (sech as 1/cosh).


def literal(x: float) -> str:
    if math.isfinite(x):
        return repr(x) if math.copysign(1.0, x) > 0 else f"({x!r})"  # -0.0 too: -0.0 ** 2 is -(0.0 ** 2)
    return f"float({repr(x)!r})"  # inf or nan as a library user's constant


@dataclass(frozen=True)
class Inline:
    """A table function short enough to write in place: its parameters, assignments and result.

    The assignments and the result are text in which each parameter and local
    is a placeholder __name__, to fill in with names or numbers (atoms).
    """

    params: tuple[str, ...]
    assigns: tuple[tuple[str, str], ...]
    result: str

    def fill(self, text: str, mapping: dict[str, str]) -> str:
        return re.sub(r"\b__(\w+?)__\b", lambda m: mapping[m.group(1)], text)


def inline_form(name: str) -> Inline | None:
    """The table's own forward for `name` as an Inline, if it is straight-line code."""
    spec = ops.OPS.get(name)
    return None if spec is None else inline_form_of(spec)


@functools.cache
def inline_form_of(spec: ops.Op) -> Inline | None:
    # Operators are written as Python's; a math function is called as it is, and math raises
    # ValueError outside its domain (math.log(0)), which is what sends a row to the exact path;
    # any other forward with a domain is a helper that tests it (see helper_source)
    if spec.symbol is not None or spec.math_name or spec.domain:
        return None
    func = ast.parse(spec.forward_python).body[0]  # a copy: the marks below change the tree
    assert isinstance(func, ast.FunctionDef)
    body = list(func.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return None
    if not all(isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
               for s in body[:-1]):
        return None
    names = {a.arg for a in func.args.args} | {s.targets[0].id for s in body[:-1]}  # type: ignore[attr-defined]

    class Mark(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            return ast.Name(id=f"__{node.id}__", ctx=node.ctx) if node.id in names else node

    assigns = tuple((s.targets[0].id, ast.unparse(Mark().visit(s.value))) for s in body[:-1])  # type: ignore[attr-defined]
    return Inline(tuple(a.arg for a in func.args.args), assigns, ast.unparse(Mark().visit(body[-1].value)))


# Derivative formulas with placeholders for the arguments, made once per operation and argument:
# filling one in is a textual substitution of names or parenthesised numbers, which are atoms.
PLACEHOLDER = {name: f"__{name}__" for name in (*ops.ARG_NAMES, ops.RESULT_NAME)}
ARG_PLACEHOLDERS = tuple(PLACEHOLDER[n] for n in ops.ARG_NAMES)
# The arithmetic of generated code, for folding two numbers: no eval, not even of our own text.
FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
         ast.Pow: operator.pow}

PLACEHOLDERS = re.compile("|".join(rf"\b{re.escape(p)}\b" for p in PLACEHOLDER.values()))


def template(op: str, k: int) -> tuple[str, str]:
    return template_of(ops.OPS[op], k)


@functools.cache
def template_of(spec: ops.Op, k: int) -> tuple[str, str]:
    """The Python text of op's derivative by argument k, and how much rewriting it needs once filled in.

    "atom": none (a name or a number); "call": a call of a table function on the
    arguments, which may have been computed already; "plain": only arithmetic,
    to fold if an argument is a number; "rewrite": powers or calls to rewrite.
    """
    text = spec.rule_python(k, PLACEHOLDER, lambda f: f"_f_{f}")  # with the op's conventions
    body = ast.parse(text, mode="eval").body
    if isinstance(body, ast.Name | ast.Constant):
        return text, "atom"
    if (
        isinstance(body, ast.Call) and isinstance(body.func, ast.Name)
        and inline_form(body.func.id[3:]) is None and all(isinstance(a, ast.Name) for a in body.args)
    ):
        return text, "call"
    calls = any(isinstance(n, ast.Call | ast.Pow) for n in ast.walk(body))
    return text, "rewrite" if calls else "plain"


def decided(test: ast.expr) -> bool | None:
    """The truth of a convention's test when its numbers decide it (3.0 == 0.0; 2.0 == 0.0 and v0 >= 0.0), else None."""
    if isinstance(test, ast.BoolOp):
        parts = [decided(v) for v in test.values]
        stop = isinstance(test.op, ast.Or)  # the value that decides: True for `or`, False for `and`
        if stop in parts:
            return stop
        return None if None in parts else not stop
    if not isinstance(test, ast.Compare):
        return None
    operands = [signed_number(n) for n in (test.left, *test.comparators)]
    if None in operands:
        return None  # a variable's value decides, at run time
    return all(COMPARE[type(op)](a, b) for op, a, b in zip(test.ops, operands, operands[1:], strict=False))


COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}


def signed_number(node: ast.expr) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = signed_number(node.operand)
        return None if inner is None else -inner
    return number(node)



def is_atom(src: str) -> bool:
    return src.isidentifier() or src.replace(".", "", 1).replace("e-", "", 1).replace("e+", "", 1).isdigit()


def helper_source(name: str) -> str:
    """How generated code reaches a table function: math's own, or the table's forward, renamed _f_<name>.

    A math function raises ValueError outside its domain by itself; any other forward with a domain
    tests it first and raises ValueError.  Either sends a row to the exact path, which names the domain.
    """
    spec = ops.OPS[name]
    if spec.math_name:
        return f"_f_{name} = math.{spec.math_name}"
    if spec.domain:
        return spec.checked_python(lambda k: f"ValueError({spec.name + ' is undefined here'!r})").rstrip("\n")
    return spec.forward_python


def helpers(text: str) -> list[str]:
    """The helpers text calls, and the helpers they call in turn (silu's calls sigmoid), by name."""
    found: dict[str, str] = {}
    todo = set(re.findall(r"\b_f_(\w+)", text))
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = helper_source(name)
            todo |= set(re.findall(r"\b_f_(\w+)", found[name])) - {name}
    return [found[name] for name in sorted(found)]
