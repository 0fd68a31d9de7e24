"""The op table's forwards and derivative rules, translated into vectorised NumPy code.

The scalar engine compiles each table entry into float code (ops.Op.forward_python,
ops.Op.rule_python, formulas.times_python).  This module takes the same Python and
rewrites its syntax tree for whole arrays:

    math.exp(x)             ->  np.exp(x)          (asin -> arcsin, pow -> power, fabs -> abs, ...)
    a if c else b           ->  np.where(c, a, b)  (both sides are computed; the condition picks)
    -1 <= x <= 1, and, not  ->  (-1 <= x) & (x <= 1), &, ~
    abs, max, min, float    ->  np.abs, np.maximum, np.minimum, nothing
    sigmoid(-x), _f_sech(x) ->  _np_sigmoid(-x)    (the translated forward of that table entry)
    if ...: return ...      ->  straight-line code joined by np.where
    1.0 if c else 0.0       ->  c.astype(np.float64)  (step: the same numbers, one operation)

A function NumPy does not have (math.erf, math.erfc) runs the math module's own function on each
element (np.frompyfunc), and so does a whole forward written with statements the translation does
not know: a function added to the table always works on arrays, fast where it can be.

The source is compiled once per operation and can be printed, so a learner sees what runs:
``forward_source("sigmoid")``, ``derivative_source("pow", 1)``, ``undefined_source("log")`` (the
domain, element by element), ``any_undefined_source("pow")`` (the quick test run on every call).
Nothing here checks results: the backend recomputes by the scalar engine any element that is not a
finite double, or where the domain says the operation is undefined (numpy_bounds.py says which
results need no look for inf and NaN).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from typing import Any

from ... import ops
from ...formulas import ARG_NAMES, RESULT_NAME, parse_condition, times
from ...ops import Op

__all__ = ["any_undefined", "any_undefined_source", "derivative", "derivative_source", "expression", "forward",
           "forward_source", "undefined", "undefined_source"]

# math.<name> -> the NumPy function that computes the same on arrays (the same name unless listed)
_MATH = {name: name for name in (
    "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "hypot", "sin", "cos", "tan",
    "sinh", "cosh", "tanh", "floor", "ceil", "trunc", "copysign", "degrees", "radians")}
_MATH |= {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2", "asinh": "arcsinh",
          "acosh": "arccosh", "atanh": "arctanh", "pow": "power", "fabs": "abs"}
_BUILTINS = {"abs": "abs", "max": "maximum", "min": "minimum"}  # float(...) is the array itself
_CONSTANTS = {"pi": "pi", "e": "e", "inf": "inf", "nan": "nan"}


class Untranslatable(Exception):
    """The forward uses Python the translation does not know: it runs element by element instead."""


def _np(attr: str) -> ast.expr:
    return ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()), attr=attr, ctx=ast.Load())


def _call(func: ast.expr, *args: ast.expr) -> ast.Call:
    return ast.Call(func=func, args=list(args), keywords=[])


class _Translation:
    """One function's translation: its straight-line lines and the outside names it calls."""

    def __init__(self, params: Sequence[str]) -> None:
        self.lines: list[str] = []
        self.taken = set(params)
        self.tables: set[str] = set()  # table entries called (_np_<name>)
        self.per_element: set[str] = set()  # math functions run element by element (_math_<name>)
        self.result: ast.expr | None = None  # the function as one expression, when it is one

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    # -- expressions --------------------------------------------------------
    def expr(self, node: ast.expr, env: dict[str, str]) -> ast.expr:
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise Untranslatable(f"name {node.id}")
            return ast.Name(id=env[node.id], ctx=ast.Load())
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise Untranslatable(repr(node.value))
            return ast.Constant(value=float(node.value))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            return ast.BinOp(left=self.expr(node.left, env), op=node.op, right=self.expr(node.right, env))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return ast.UnaryOp(op=node.op, operand=self.expr(node.operand, env))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ast.UnaryOp(op=ast.Invert(), operand=self.expr(node.operand, env))
        if isinstance(node, ast.BoolOp):
            joined = ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr()
            parts = [self.expr(v, env) for v in node.values]
            result = parts[0]
            for part in parts[1:]:
                result = ast.BinOp(left=result, op=joined, right=part)
            return result
        if isinstance(node, ast.Compare):  # a < b <= c: (a < b) & (b <= c)
            values = [self.expr(v, env) for v in (node.left, *node.comparators)]
            tests = [ast.Compare(left=a, ops=[o], comparators=[b])
                     for a, o, b in zip(values, node.ops, values[1:], strict=False)]
            result: ast.expr = tests[0]
            for test in tests[1:]:
                result = ast.BinOp(left=result, op=ast.BitAnd(), right=test)
            return result
        if isinstance(node, ast.IfExp):
            test, body, orelse = (self.expr(n, env) for n in (node.test, node.body, node.orelse))
            if _number(body) == 1.0 and _number(orelse) == 0.0:  # 1.0 if c else 0.0: the test as numbers, faster
                return _call(ast.Attribute(value=test, attr="astype", ctx=ast.Load()), _np("float64"))
            return _call(_np("where"), test, body, orelse)
        if isinstance(node, ast.Attribute) and _is_math(node.value) and node.attr in _CONSTANTS:
            return _np(_CONSTANTS[node.attr])
        if isinstance(node, ast.Call) and not node.keywords:
            return self.call(node, env)
        raise Untranslatable(ast.unparse(node))

    def call(self, node: ast.Call, env: dict[str, str]) -> ast.expr:
        args = [self.expr(a, env) for a in node.args]
        func = node.func
        if isinstance(func, ast.Attribute) and _is_math(func.value):
            if func.attr in _MATH:
                return _call(_np(_MATH[func.attr]), *args)
            if not callable(getattr(math, func.attr, None)):
                raise Untranslatable(f"math.{func.attr}")
            self.per_element.add(func.attr)  # NumPy has no erf: math's, element by element
            return _call(ast.Name(id=f"_math_{func.attr}", ctx=ast.Load()), *args)
        if not isinstance(func, ast.Name):
            raise Untranslatable(ast.unparse(func))
        name = func.id
        if name == "float" and len(args) == 1:  # arrays are float64 already
            inner = node.args[0]
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and _is_math(inner.func.value) \
                    and inner.func.attr in ("floor", "ceil", "trunc"):  # an int made float has no sign of zero:
                return ast.BinOp(left=args[0], op=ast.Add(), right=ast.Constant(value=0.0))  # -0.0 + 0.0 is 0.0
            return args[0]
        if name in _BUILTINS and name not in env:
            if name == "abs" and len(args) == 1:
                return _call(_np("abs"), args[0])
            if name in ("max", "min") and len(args) >= 2:
                result = args[0]
                for arg in args[1:]:  # max(a, b, c) is max(max(a, b), c)
                    result = _call(_np(_BUILTINS[name]), result, arg)
                return result
        if name == "whole" and len(args) == 1:  # conditions: y is a whole number
            return ast.Compare(left=_call(_np("floor"), args[0]), ops=[ast.Eq()], comparators=[args[0]])
        table = name[3:] if name.startswith("_f_") else name
        if table in ops.OPS and name not in env:
            self.tables.add(table)
            return _call(ast.Name(id=f"_np_{table}", ctx=ast.Load()), *args)
        raise Untranslatable(f"call of {name}")

    # -- statements: straight-line code, branches joined by np.where -----------
    def block(self, statements: Sequence[ast.stmt], env: dict[str, str]) -> ast.expr | None:
        """Emit a block's assignments as lines; the expression it returns, or None if it falls through."""
        for k, stmt in enumerate(statements):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                return self.expr(stmt.value, env)
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                self.assign(stmt.targets[0].id, self.expr(stmt.value, env), env)
            elif isinstance(stmt, ast.If):
                test = self.fresh("c")
                self.lines.append(f"{test} = {ast.unparse(self.expr(stmt.test, env))}")
                cond = ast.Name(id=test, ctx=ast.Load())
                then, other = dict(env), dict(env)
                r1, r2 = self.block(stmt.body, then), self.block(stmt.orelse, other)
                if r1 is not None and r2 is not None:
                    return _call(_np("where"), cond, r1, r2)
                if r1 is not None or r2 is not None:  # one branch returns: the rest of the block is the other
                    rest = self.block(statements[k + 1 :], other if r1 is not None else then)
                    if rest is None:
                        raise Untranslatable("a path without return")
                    return _call(_np("where"), cond, r1 if r1 is not None else rest, rest if r1 is not None else r2)
                for name in sorted(set(then) | set(other)):  # both fall through: join what they assigned
                    if then.get(name) != other.get(name):
                        if name not in then or name not in other:
                            raise Untranslatable(f"{name} assigned on one path only")
                        joined = _call(_np("where"), cond, ast.Name(id=then[name], ctx=ast.Load()),
                                       ast.Name(id=other[name], ctx=ast.Load()))
                        self.assign(name, joined, env)
            elif not isinstance(stmt, ast.Pass):
                raise Untranslatable(type(stmt).__name__)
        return None

    def assign(self, name: str, value: ast.expr, env: dict[str, str]) -> None:
        target = self.fresh(name)
        self.lines.append(f"{target} = {ast.unparse(value)}")
        env[name] = target

    def function(self, name: str, params: Sequence[str], result: ast.expr | None, note: str = "",
                 stretch: bool = False) -> str:
        """The function's source; stretch: broadcast the result to every argument's shape if it ignores one."""
        if result is None:
            raise Untranslatable("no return")
        read = {n.id for line in [*self.lines, ast.unparse(result)] if stretch
                for n in ast.walk(ast.parse(line)) if isinstance(n, ast.Name)}
        if stretch and not set(params) <= read:  # an argument not read (x * 0 + 1): stretched to every shape
            shapes = ", ".join(f"np.shape({p})" for p in params)
            result = ast.parse(f"np.array(np.broadcast_to({ast.unparse(result)}, np.broadcast_shapes({shapes})))",
                               mode="eval").body
        self.result = result if not self.lines and not note else None  # one expression: the bound can be read
        head = [f"# {note}"] if note else []
        for f in sorted(self.per_element):
            head.append(f"# _math_{f}: math.{f} on each element (NumPy has no {f})")
        body = [*self.lines, f"return {ast.unparse(result)}"]
        return "\n".join([*head, f"def {name}({', '.join(params)}):", *(f"    {line}" for line in body)]) + "\n"


def _number(node: ast.expr) -> float | None:
    return float(node.value) if isinstance(node, ast.Constant) else None


def _is_math(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "math"


def _spec(op: str | Op) -> Op:
    return op if isinstance(op, Op) else ops.OPS[op]


# -- the sources --------------------------------------------------------------------------


def _forward_translation(op: Op) -> tuple[str, _Translation]:
    params = ARG_NAMES[: op.arity]
    t = _Translation(params)
    try:
        result = t.block(op.forward_tree.body, {p: p for p in params})
        return t.function(f"_np_{op.name}", params, result, stretch=True), t
    except Untranslatable as why:  # the table's own float function, element by element
        t = _Translation(params)
        note = f"{op.name}: the table's float function on each element ({why} is not translated)"
        call = _call(ast.Name(id=f"_table_{op.name}", ctx=ast.Load()),
                     *(ast.Name(id=p, ctx=ast.Load()) for p in params))
        return t.function(f"_np_{op.name}", params, call, note), t


def forward_source(op: str | Op) -> str:
    """The NumPy source of an operation's forward (without its domain checks): what apply() runs first."""
    return _forward_translation(_spec(op))[0]


def _derivative_translation(op: Op, i: int) -> tuple[str, _Translation]:
    names = {n: n for n in (*ARG_NAMES, RESULT_NAME)}
    rule = op.rule_python(i, names, lambda f: f"_f_{f}")  # its conventions first, as the engine has it
    # times_python's product (g / x where the rule divides), and g itself for a rule of 1 (add, sub): formulas.times
    product = times(ast.Name(id="g", ctx=ast.Load()), ast.parse(rule, mode="eval").body)
    params = (*ARG_NAMES[: op.arity], RESULT_NAME, "g")
    t = _Translation(params)
    result = t.expr(product, {p: p for p in params})
    return t.function(f"_d_{op.name}_{i}", params, result), t


def derivative_source(op: str | Op, i: int) -> str:
    """The NumPy source of g * d out / d (argument i), multiplied as the engine multiplies."""
    return _derivative_translation(_spec(op), i)[0]


def _undefined_translation(op: Op) -> tuple[str, _Translation]:
    params = ARG_NAMES[: op.arity]
    t = _Translation(params)
    tests = [t.expr(parse_condition(when, op.arity), {p: p for p in params}) for when, _ in op.domain]
    result: ast.expr = ast.Constant(value=False)
    if tests:
        result = tests[0]
        for test in tests[1:]:
            result = ast.BinOp(left=result, op=ast.BitOr(), right=test)
    return t.function(f"_undefined_{op.name}", params, result), t


def _quick_translation(op: Op) -> tuple[str, _Translation]:
    """Whether the domain fails anywhere, quickly: a condition `a and b` holds nowhere if a or b holds nowhere,
    so each term is tested alone first, those on the second argument before the others (it is often one
    number: x ** 2, leaky_relu(x, 0.01)); only then the conjunction, element by element."""
    params = ARG_NAMES[: op.arity]
    t = _Translation(params)
    env = {p: p for p in params}
    for when, _ in op.domain:
        tree = parse_condition(when, op.arity)
        terms = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
        reads = [{n.id for n in ast.walk(term) if isinstance(n, ast.Name)} for term in terms]
        order = sorted(range(len(terms)), key=lambda k: "y" not in reads[k])
        tests = [_anywhere(t.expr(terms[k], env)) for k in order]
        if len(terms) > 1:
            tests.append(_anywhere(t.expr(tree, env)))
        t.lines += [f"if {' and '.join(tests)}:", "    return True"]
    note = "_some(c), _every(c): c.any(), c.all(); bool(c) for one value (NumPy's .any() of one takes 2 us)"
    return t.function(f"_any_undefined_{op.name}", params, ast.Constant(value=False), note), t


def _anywhere(test: ast.expr) -> str:
    """Source of 'test holds for some element': not (x > 0).all() for ~(x > 0), one operation fewer."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Invert):
        return f"not _every({ast.unparse(test.operand)})"
    return f"_some({ast.unparse(test)})"


def any_undefined_source(op: str | Op) -> str:
    """The NumPy source of the quick test apply() runs: whether the operation is undefined anywhere."""
    return _quick_translation(_spec(op))[0]


def undefined_source(op: str | Op) -> str:
    """The NumPy source of the domain test: True where the table says the operation is undefined."""
    return _undefined_translation(_spec(op))[0]


def expression(op: Op, i: int | None = None) -> ast.expr | None:
    """The translated forward (i None) or g * derivative by argument i as one NumPy expression, where it is one
    (not for forwards written as statements, or run element by element): what numpy_bounds reads."""
    return (_forward_translation(op) if i is None else _derivative_translation(op, i))[1].result


# -- compiling ----------------------------------------------------------------------------

_COMPILED: dict[tuple[str, Op, int, Any], Callable[..., Any]] = {}
_BUSY: set[Op] = set()  # forwards being compiled: a table entry that calls itself runs element by element


def _elementwise(f: Callable[..., float], arity: int, xp: Any) -> Callable[..., Any]:
    """f on each element (np.frompyfunc), NaN where it fails: the backend then asks the scalar path why."""

    def safe(*args: float) -> float:
        try:
            return f(*args)
        except (ArithmeticError, ValueError):
            return math.nan

    ufunc = xp.frompyfunc(safe, arity, 1)
    return lambda *args: xp.asarray(ufunc(*args), dtype=xp.float64)


def _some(c: Any) -> bool:
    return bool(c) if c.ndim == 0 else bool(c.any())


def _every(c: Any) -> bool:
    return bool(c) if c.ndim == 0 else bool(c.all())


def _compile(kind: str, op: Op, i: int, xp: Any) -> Callable[..., Any]:
    key = (kind, op, i, xp)
    found = _COMPILED.get(key)
    if found is not None:
        return found
    if kind == "forward":
        name, (source, t) = f"_np_{op.name}", _forward_translation(op)
    elif kind == "derivative":
        name, (source, t) = f"_d_{op.name}_{i}", _derivative_translation(op, i)
    elif kind == "undefined":
        name, (source, t) = f"_undefined_{op.name}", _undefined_translation(op)
    else:
        name, (source, t) = f"_any_undefined_{op.name}", _quick_translation(op)
    namespace: dict[str, Any] = {"np": xp, f"_table_{op.name}": _elementwise(op.fn, op.arity, xp),
                                 "_some": _some, "_every": _every}
    for f in t.per_element:
        namespace[f"_math_{f}"] = _elementwise(getattr(math, f), 2 if f in ("atan2", "pow") else 1, xp)
    if kind == "forward":
        _BUSY.add(op)
    try:
        for called_name in t.tables:
            called = ops.OPS[called_name]
            if called in _BUSY:  # a forward that calls itself (or a cycle): element by element
                namespace[f"_np_{called_name}"] = _elementwise(called.fn, called.arity, xp)
            else:
                namespace[f"_np_{called_name}"] = _compile("forward", called, 0, xp)
    finally:
        if kind == "forward":
            _BUSY.discard(op)
    # The source is generated from the op table's own entries, never from user text.
    exec(compile(source, f"<numpy {kind} of {op.name}>", "exec"), namespace)
    found = _COMPILED[key] = namespace[name]
    return found


def forward(op: Op, xp: Any) -> Callable[..., Any]:
    """The vectorised forward of op, (x[, y]) -> array: NaN or inf where it has no value (unchecked)."""
    return _compile("forward", op, 0, xp)


def derivative(op: Op, i: int, xp: Any) -> Callable[..., Any] | None:
    """(x[, y], out, g) -> g * d out / d arg_i on arrays (unchecked); None where that is g itself (a rule of 1)."""
    if derivative_source(op, i).endswith("    return g\n"):
        return None
    return _compile("derivative", op, i, xp)


def undefined(op: Op, xp: Any) -> Callable[..., Any] | None:
    """(x[, y]) -> True where the table's domain says op is undefined; None for an op defined everywhere."""
    return _compile("undefined", op, 0, xp) if op.domain else None


def any_undefined(op: Op, xp: Any) -> Callable[..., bool] | None:
    """(x[, y]) -> whether the domain says op is undefined anywhere (quick, short-circuited); None if never."""
    return _compile("any", op, 0, xp) if op.domain else None
