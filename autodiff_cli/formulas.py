"""The little language of the op table: derivative formulas, conditions, and their Python.

A derivative formula is Python syntax over the arguments ``x`` and ``y`` and the
node's own result ``out``, using + - * / ** and the table's own functions:
``out * sigmoid(-x)``.  A condition (a domain, a convention at a kink) compares
the arguments with numbers, joined by ``and``, ``or`` and ``not``; ``whole(y)``
says that y is a whole number.  Formulas are parsed only when first used, so
importing the table parses nothing.  Standard library only.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

# Names a formula may use besides the table's functions.
ARG_NAMES = ("x", "y")
RESULT_NAME = "out"


def number_text(x: float) -> str:
    """The shortest text that reads back as the same double; whole numbers without '.0'."""
    x = float(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e16:
        return "-0.0" if x == 0 and math.copysign(1.0, x) < 0 else str(int(x))
    return repr(x)


def wrapped(x: float) -> str:
    """number_text, in parentheses when it starts with a minus: (-2)^0.5, not -2^0.5."""
    text = number_text(x)
    return f"({text})" if text.startswith("-") else text  # -0.0 too: -0.0^0.5 would read as -(0.0^0.5)


_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant, ast.Load,
            ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub)


def parse_formula(src: str, arity: int, functions: set[str]) -> ast.expr:
    """Parse a derivative formula and check it uses only arithmetic, args, out and table functions."""
    tree = ast.parse(src, mode="eval")
    names = set(ARG_NAMES[:arity]) | {RESULT_NAME}
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"formula {src!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in functions or node.keywords:
                raise ValueError(f"formula {src!r}: unknown function")
        elif isinstance(node, ast.Name) and node.id not in names and node.id not in functions:
            raise ValueError(f"formula {src!r}: unknown name {node.id!r}")
        elif isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ValueError(f"formula {src!r}: only numbers are allowed as constants")
    return tree.body


_COMPARE: dict[type, Callable[[float, float], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}


def parse_condition(src: str, arity: int) -> ast.expr:
    """A condition: comparisons of the arguments with numbers, `whole(y)`, joined by and / or / not."""
    tree = ast.parse(src, mode="eval")
    allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.Name, ast.Constant, ast.Load,
               ast.UnaryOp, ast.USub, ast.Not, ast.Call, *_COMPARE)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ValueError(f"condition {src!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id == "whole" and len(node.args) == 1
        ):
            raise ValueError(f"condition {src!r}: only whole(...) may be called")
        if isinstance(node, ast.Name) and node.id not in (*ARG_NAMES[:arity], "whole"):
            raise ValueError(f"condition {src!r}: unknown name {node.id!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ValueError(f"condition {src!r}: only numbers are allowed as constants")
    return tree.body


def condition_holds(tree: ast.expr, env: dict[str, float]) -> bool:
    """Evaluate a parsed condition on float arguments (a few nodes: walked, never compiled)."""
    if isinstance(tree, ast.BoolOp):
        parts = (condition_holds(v, env) for v in tree.values)
        return all(parts) if isinstance(tree.op, ast.And) else any(parts)
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return not condition_holds(tree.operand, env)
    if isinstance(tree, ast.Call):
        return float(_operand(tree.args[0], env)).is_integer()
    assert isinstance(tree, ast.Compare)
    values = [_operand(n, env) for n in (tree.left, *tree.comparators)]
    return all(_COMPARE[type(op)](a, b) for op, a, b in zip(tree.ops, values, values[1:], strict=False))


def _operand(node: ast.expr, env: dict[str, float]) -> float:
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        return -_operand(node.operand, env)
    assert isinstance(node, ast.Constant)
    return float(node.value)


def formula_to_python(tree: ast.expr, names: dict[str, str], call: Callable[[str], str]) -> str:
    """Python source for a formula (or a condition), with argument names and function names mapped.

    `names` maps x, y and out to Python expressions; `call` maps a table function
    name to the callable's name in the generated code.  Numbers become floats.
    """

    def rename(node: ast.AST) -> ast.AST:  # a renamed copy: the table's tree stays as it is
        if isinstance(node, ast.Name):
            new = names[node.id]
            if new.isidentifier():  # x -> x, the engine's case: no need to parse it
                return ast.Name(id=new, ctx=ast.Load())
            return ast.parse(new, mode="eval").body
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            return ast.Call(func=ast.Name(id=call(node.func.id), ctx=ast.Load()),
                            args=[rename(a) for a in node.args], keywords=[])
        if isinstance(node, ast.Constant):
            return ast.Constant(value=float(node.value))
        fields = {name: [rename(v) for v in value] if isinstance(value, list) else
                  rename(value) if isinstance(value, ast.AST) else value
                  for name, value in ast.iter_fields(node)}
        return type(node)(**fields)

    return ast.unparse(rename(tree))


def times(g: ast.expr, rule: ast.expr) -> ast.expr:
    """The incoming gradient g times a derivative rule, written so that it overflows only where the product does.

    A rule's divisions divide g itself: g * (1 / (x * c)) is g / x / c when the rule is
    written 1 / x / c, so a huge x (or a tiny g) gives the true product, not 0 or inf
    times 0.  Every fast path (the engine, forward mode, the compiler) multiplies this way.
    """
    if isinstance(rule, ast.BinOp) and isinstance(rule.op, ast.Div) and _reciprocal(rule):
        return ast.BinOp(left=times(g, rule.left), op=ast.Div(), right=rule.right)
    if isinstance(rule, ast.Constant) and rule.value == 1:
        return g
    if (isinstance(rule, ast.UnaryOp) and isinstance(rule.op, ast.USub) and isinstance(rule.operand, ast.Constant)
            and rule.operand.value == 1):
        return ast.UnaryOp(op=ast.USub(), operand=g)
    return ast.BinOp(left=g, op=ast.Mult(), right=rule)


def times_python(g: str, rule: str) -> str:
    """times() on Python source: times_python("g", "1.0 / x / 2.0") is 'g / x / 2.0', and 'g * (y)' for "y"."""
    if "/" not in rule:  # no division to hand g to: the usual case, told without parsing the rule
        return f"{g} * ({rule})"
    tree = ast.parse(rule, mode="eval").body
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div) and _reciprocal(tree):
        return ast.unparse(times(ast.parse(g, mode="eval").body, tree))
    return f"{g} * ({rule})"


def _reciprocal(rule: ast.expr) -> bool:
    """Whether a rule is 1 / a / b ... (or -1 / ...): g takes the place of the 1.

    A quotient of two numbers (hypot's x / out, at most 1) is better formed first and then
    multiplied by g: g * x could underflow where g * (x / out) does not.
    """
    while isinstance(rule, ast.BinOp) and isinstance(rule.op, ast.Div):
        rule = rule.left
    if isinstance(rule, ast.UnaryOp) and isinstance(rule.op, ast.USub):
        rule = rule.operand
    return isinstance(rule, ast.Constant) and rule.value == 1


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}


def evaluate(tree: ast.expr, env: Mapping[str, T], apply: Callable[..., T], number: Callable[[float], T]) -> T:
    """Evaluate a formula: names from env, numbers through number, operators and calls through apply(op, *args).

    The same walk builds Values (engine.apply_formula) and dual numbers (dual.py).  Formulas are a few nodes deep.
    """

    def build(node: ast.expr) -> T:
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.Constant):
            return number(float(node.value))
        if isinstance(node, ast.UnaryOp):
            return apply("neg", build(node.operand))
        if isinstance(node, ast.BinOp):
            return apply(_BINOPS[type(node.op)], build(node.left), build(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return apply(node.func.id, *[build(a) for a in node.args])
        raise TypeError(f"not a formula node: {ast.dump(node)}")

    return build(tree)


# Names a forward function may read besides its arguments, its locals and the table's functions.
FORWARD_BUILTINS = frozenset(("math", "abs", "max", "min", "float"))


def parse_forward(name: str, src: str, arity: int, functions: set[str]) -> ast.FunctionDef:
    """A forward written as an expression or as statements ending in `return`, as `def _f_<name>(x, y)`.

    Table functions it calls are renamed _f_<f>; it may read only math, abs, max, min and float
    besides, so that the compiler can copy it into a generated module that imports math alone.
    """
    try:
        body: list[ast.stmt] = [ast.Return(value=ast.parse(src.strip(), mode="eval").body)]
    except SyntaxError:
        body = ast.parse(_dedent(src)).body
    params = ARG_NAMES[:arity]
    func = ast.parse(f"def _f_{name}({', '.join(params)}):\n    pass").body[0]
    assert isinstance(func, ast.FunctionDef)
    func.body = body
    nodes = list(ast.walk(func))  # walked once: the renaming below changes names, not the shape
    local = set(params) | {t.id for n in nodes if isinstance(n, ast.Assign)
                           for t in n.targets if isinstance(t, ast.Name)}
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            if node.id in FORWARD_BUILTINS:
                continue  # Python's abs, max and min, not the table's (which are the same on floats)
            if node.id in functions:
                node.id = f"_f_{node.id}"
            else:
                raise ValueError(f"the forward of {name} reads {node.id!r}: only math, abs, max, min, float, "
                                 "its arguments and the table's functions can be copied into generated code")
    return ast.parse(ast.unparse(func)).body[0]  # type: ignore[return-value]  # parsed anew: every node located


def _dedent(src: str) -> str:
    lines = [line for line in src.splitlines() if line.strip()]
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(line[indent:] for line in lines)
