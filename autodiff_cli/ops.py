"""The op table: every operation defined once, and everything else reads it.

An entry says what an operation is called, how many arguments it takes, how to
compute it on floats, its local derivative with respect to each argument, how it
prints, and what it does in one line.  The derivative rules are small formulas in
Python syntax over the arguments ``x`` and ``y`` and the node's own result ``out``,
using ordinary arithmetic and the table's own functions.  The engine compiles them
into its float backward pass, the symbolic module evaluates the very same formulas
on Values (derivatives of derivatives), the compiler inlines them, and
``autodiff functions`` prints them.  Adding an activation function is one entry.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

from .errors import MathError

# Names a derivative formula may use besides the table's functions.
ARG_NAMES = ("x", "y")
RESULT_NAME = "out"


def number_text(x: float) -> str:
    """The shortest text that reads back as the same double; whole numbers without '.0'."""
    x = float(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e16:
        return "-0.0" if x == 0 and math.copysign(1.0, x) < 0 else str(int(x))
    return repr(x)


def _domain(op: str, call: str, why: str) -> MathError:
    return MathError(op, f"{call} is undefined: {why}")


# ---------------------------------------------------------------------------
# Forward functions on floats.  Each raises MathError where the result is not a
# real number; the engine turns overflow (OverflowError, or an infinite result)
# into a MathError naming the operation.
# ---------------------------------------------------------------------------


def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise MathError("div", f"division by zero: {number_text(x)} / {number_text(y)}")
    return x / y


def _pow(x: float, y: float) -> float:
    if x == 0.0 and y < 0.0:
        raise _domain("pow", f"0^{_wrap(y)}", "zero to a negative power")
    if x < 0.0 and not y.is_integer():
        raise _domain("pow", f"({number_text(x)})^{_wrap(y)}", "a negative base needs a whole exponent")
    return math.pow(x, y)


def _wrap(x: float) -> str:
    text = number_text(x)
    return f"({text})" if text.startswith("-") else text  # -0.0 too: -0.0^0.5 would read as -(0.0^0.5)


def _log(x: float) -> float:
    if not x > 0.0:
        raise _domain("log", f"log({number_text(x)})", "log needs a positive number")
    return math.log(x)


def _log2(x: float) -> float:
    if not x > 0.0:
        raise _domain("log2", f"log2({number_text(x)})", "log2 needs a positive number")
    return math.log2(x)


def _log10(x: float) -> float:
    if not x > 0.0:
        raise _domain("log10", f"log10({number_text(x)})", "log10 needs a positive number")
    return math.log10(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise _domain("sqrt", f"sqrt({number_text(x)})", "sqrt needs a number that is not negative")
    return math.sqrt(x)


def _asin(x: float) -> float:
    if not -1.0 <= x <= 1.0:
        raise _domain("asin", f"asin({number_text(x)})", "asin needs a number in [-1, 1]")
    return math.asin(x)


def _acos(x: float) -> float:
    if not -1.0 <= x <= 1.0:
        raise _domain("acos", f"acos({number_text(x)})", "acos needs a number in [-1, 1]")
    return math.acos(x)


def _sech(x: float) -> float:
    # 2 / (e^x + e^-x), written with e^-|x| so that it never overflows
    t = math.exp(-abs(x))
    return 2.0 * t / (1.0 + t * t)


def _sigmoid(x: float) -> float:
    # two branches so that exp never overflows and sigmoid(-40) keeps its digits
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    t = math.exp(x)
    return t / (1.0 + t)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, no lost digits
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _relu(x: float) -> float:
    return x if x > 0.0 else 0.0


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _step(x: float) -> float:
    return 1.0 if x > 0.0 else 0.0


def _max(x: float, y: float) -> float:
    return x if x >= y else y


def _min(x: float, y: float) -> float:
    return x if x <= y else y


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Op:
    """One operation: how to compute it, differentiate it, print it and describe it."""

    name: str
    arity: int
    fn: Callable[..., float]
    grads: tuple[str, ...]  # d out / d arg_i, one formula per argument
    doc: str
    symbol: str | None = None  # infix (or, for arity 1, prefix) operator; None: a function call
    precedence: int = 9  # binding strength when printed: 1 + -, 2 * /, 3 unary -, 4 ^, 9 atoms
    right_assoc: bool = False
    note: str = ""  # conventions where the derivative does not exist (kinks)
    lazy: tuple[int, ...] = ()  # arguments whose derivative is computed only when they need one
    variadic: bool = False  # a call takes 2 or more arguments, folded from the left
    roles: tuple[str, ...] = ()  # what the arguments are called in messages ("base", "exponent")
    # Where a derivative rule has no value but a limit gives the derivative (as PyTorch has it):
    # (argument, condition over x and y, the derivative there).  Consulted only when the rule fails,
    # so the fast paths are unchanged: pow's exponent rule out * log(x) at x = 0, for instance.
    conventions: tuple[tuple[int, str, float], ...] = ()
    aliases: tuple[str, ...] = ()  # other spellings the parser reads as this function: ln for log

    @cached_property
    def grad_trees(self) -> tuple[ast.expr, ...]:
        """The derivative formulas, parsed and checked (on first use: start-up stays fast)."""
        if len(self.grads) != self.arity:
            raise ValueError(f"{self.name}: {self.arity} arguments but {len(self.grads)} derivative rules")
        return tuple(parse_formula(g, self.arity, set(FUNCTIONS)) for g in self.grads)

    @property
    def is_function(self) -> bool:
        return self.symbol is None

    def call_text(self, *args: float) -> str:
        """The operation applied to numbers, as the error messages show it."""
        texts = [_wrap(a) if self.symbol else number_text(a) for a in args]
        if self.symbol is None:
            return f"{self.name}({', '.join(texts)})"
        if self.arity == 1:
            return f"{self.symbol}{texts[0]}"
        sep = self.symbol if self.symbol == "^" else f" {self.symbol} "
        return sep.join(texts)

    def role(self, i: int) -> str:
        """How messages name argument i."""
        if i < len(self.roles):
            return self.roles[i]
        return f"{('first', 'second')[i]} argument" if self.arity > 1 else "argument"

    def no_derivative(self, args: tuple[float, ...] | list[float], i: int) -> MathError:
        """The error for a derivative (by argument i) that does not exist at these arguments."""
        where = f" with respect to its {self.role(i)}" if self.arity > 1 else ""
        return MathError(self.name, f"no derivative: {self.call_text(*args)} is not differentiable{where}")

    @cached_property
    def _convention_tests(self) -> tuple[tuple[int, ast.expr, float, str], ...]:
        """The conventions with their conditions parsed and checked (on first use)."""
        return tuple((i, parse_condition(when, self.arity), float(value), when) for i, when, value in self.conventions)

    def convention(self, args: tuple[float, ...] | list[float], i: int) -> float | None:
        """The derivative by argument i where its rule has no value but a convention gives one, else None."""
        env = dict(zip(ARG_NAMES, args, strict=False))
        for k, test, value, _ in self._convention_tests:
            if k == i and condition_holds(test, env):
                return value
        return None

    def rule_python(self, i: int, names: dict[str, str], call: Callable[[str], str]) -> str:
        """Python source of the derivative by argument i, its conventions first: `0.0 if x == 0.0 else (...)`.

        What the fast paths compile (engine, forward mode, compiler): the conventions are tested before
        the rule, so every path gives the same number, and the rule is not evaluated where it fails.
        """
        src = formula_to_python(self.grad_trees[i], names, call)
        for k, _, value, when in reversed(self._convention_tests):
            if k == i:
                test = formula_to_python(ast.parse(when, mode="eval").body, names, call)
                src = f"{value!r} if {test} else ({src})"
        return src

    def grad_text(self, i: int) -> str:
        """The derivative rule for argument i in the project's syntax, 'out' spelt out."""
        tree = _substitute_out(self.grad_trees[i], self)
        return ast.unparse(tree).replace(" ** ", "^").replace("**", "^")

    def signature(self) -> str:
        names = ARG_NAMES[: self.arity]
        if self.symbol is None:
            more = ", ..." if self.variadic else ""
            return f"{self.name}({', '.join(names)}{more})"
        if self.arity == 1:
            return f"{self.symbol}x"
        return f"x {self.symbol} y"


def _substitute_out(tree: ast.expr, op: Op) -> ast.expr:
    """Replace the name 'out' in a formula with the call it stands for."""
    args = [ast.Name(id=n, ctx=ast.Load()) for n in ARG_NAMES[: op.arity]]
    if op.symbol is None:
        call: ast.expr = ast.Call(func=ast.Name(id=op.name, ctx=ast.Load()), args=args, keywords=[])
    elif op.arity == 1:
        call = ast.UnaryOp(op=ast.USub(), operand=args[0])
    else:
        pyop = {"+": ast.Add(), "-": ast.Sub(), "*": ast.Mult(), "/": ast.Div(), "^": ast.Pow()}
        call = ast.BinOp(left=args[0], op=pyop[op.symbol], right=args[1])

    class Swap(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return call if node.id == RESULT_NAME else node

    return Swap().visit(ast.parse(ast.unparse(tree), mode="eval").body)


_TABLE: list[Op] = [
    # arithmetic: the grammar's operators use these names as their aliases
    Op("add", 2, operator.add, ("1", "1"), "addition", symbol="+", precedence=1),
    Op("sub", 2, operator.sub, ("1", "-1"), "subtraction", symbol="-", precedence=1),
    Op("mul", 2, operator.mul, ("y", "x"), "multiplication", symbol="*", precedence=2),
    Op(
        "div", 2, _div, ("1 / y", "-out / y"), "division; y = 0 is an error",
        symbol="/", precedence=2, roles=("numerator", "denominator"),
    ),
    Op("neg", 1, operator.neg, ("-1",), "negation", symbol="-", precedence=3),
    Op(
        "pow", 2, _pow, ("y * x ** (y - 1)", "out * log(x)"),
        "power x^y (also x**y and pow(x, y)); right-associative, binds tighter than unary minus",
        symbol="^", precedence=4, right_assoc=True, lazy=(1,), roles=("base", "exponent"),
        note="a negative base needs a whole exponent; the exponent's derivative needs x > 0, except that "
        "d/dy = 0 at x = 0 for y >= 0 (0^y is 0 for y > 0) and d/dx = 0 for y = 0 (x^0 is 1), as in PyTorch",
        conventions=((0, "y == 0", 0.0), (1, "x == 0 and y >= 0", 0.0)),
    ),
    # functions
    Op("exp", 1, math.exp, ("out",), "e to the power x"),
    Op("log", 1, _log, ("1 / x",), "natural logarithm; log(x, b) is log(x) / log(b)", aliases=("ln",)),
    Op("log2", 1, _log2, ("1 / (x * log(2))",), "base-2 logarithm"),
    Op("log10", 1, _log10, ("1 / (x * log(10))",), "base-10 logarithm", aliases=("lg",)),  # lg: ISO 80000-2
    Op("sqrt", 1, _sqrt, ("1 / (2 * out)",), "square root", note="no derivative at 0"),
    Op("sin", 1, math.sin, ("cos(x)",), "sine (radians)"),
    Op("cos", 1, math.cos, ("-sin(x)",), "cosine (radians)"),
    Op("tan", 1, math.tan, ("1 / cos(x) ** 2",), "tangent (radians)"),
    Op("asin", 1, _asin, ("1 / sqrt(1 - x * x)",), "inverse sine", note="no derivative at -1 and 1",
       aliases=("arcsin",)),
    Op("acos", 1, _acos, ("-1 / sqrt(1 - x * x)",), "inverse cosine", note="no derivative at -1 and 1",
       aliases=("arccos",)),
    Op("atan", 1, math.atan, ("1 / (1 + x * x)",), "inverse tangent", aliases=("arctan",)),
    Op("sinh", 1, math.sinh, ("cosh(x)",), "hyperbolic sine"),
    Op("cosh", 1, math.cosh, ("sinh(x)",), "hyperbolic cosine"),
    Op(
        "tanh", 1, math.tanh, ("sech(x) ** 2",), "hyperbolic tangent",
        note="derivative as sech(x)^2, not 1 - tanh(x)^2, which cancels to 0 for |x| > 19",
    ),
    Op("sech", 1, _sech, ("-out * tanh(x)",), "hyperbolic secant, 1/cosh(x), without overflow"),
    Op(
        "sigmoid", 1, _sigmoid, ("out * sigmoid(-x)",), "logistic function 1/(1 + e^-x)",
        note="derivative as sigmoid(x)*sigmoid(-x), accurate at both tails",
    ),
    Op("softplus", 1, _softplus, ("sigmoid(x)",), "log(1 + e^x), computed without overflow"),
    Op("relu", 1, _relu, ("step(x)",), "max(x, 0)", note="relu'(0) = 0, as in PyTorch"),
    Op("abs", 1, math.fabs, ("sign(x)",), "absolute value", note="abs'(0) = 0, as in PyTorch"),
    Op("sign", 1, _sign, ("0",), "-1, 0 or 1", note="derivative 0 everywhere, as in PyTorch"),
    Op("step", 1, _step, ("0",), "Heaviside step: 1 for x > 0, else 0", note="derivative 0 everywhere"),
    Op(
        "max", 2, _max, ("(1 + sign(x - y)) / 2", "(1 - sign(x - y)) / 2"),
        "the larger argument; max(a, b, c) is max(max(a, b), c)",
        variadic=True, note="a tie of two splits the gradient evenly, as in PyTorch (folded pairwise beyond two)",
    ),
    Op(
        "min", 2, _min, ("(1 - sign(x - y)) / 2", "(1 + sign(x - y)) / 2"),
        "the smaller argument; min(a, b, c) is min(min(a, b), c)",
        variadic=True, note="a tie of two splits the gradient evenly, as in PyTorch (folded pairwise beyond two)",
    ),
]

# Named constants of the grammar.  They print by name and cannot be bound.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# Calls that are spelt with another arity and rewritten into table operations.
SUGAR: dict[tuple[str, int], str] = {("log", 2): "log(x) / log(y)"}


# ---------------------------------------------------------------------------
# Formulas: parsed once, checked, translated to Python for the fast paths.
# ---------------------------------------------------------------------------

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
    """A convention's condition: comparisons of the arguments with numbers, joined by `and` / `or`."""
    tree = ast.parse(src, mode="eval")
    allowed = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.Name, ast.Constant, ast.Load,
               ast.UnaryOp, ast.USub, *_COMPARE)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ValueError(f"condition {src!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Name) and node.id not in ARG_NAMES[:arity]:
            raise ValueError(f"condition {src!r}: unknown name {node.id!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ValueError(f"condition {src!r}: only numbers are allowed as constants")
    return tree.body


def condition_holds(tree: ast.expr, env: dict[str, float]) -> bool:
    """Evaluate a parsed condition on float arguments (a few nodes: walked, never compiled)."""
    if isinstance(tree, ast.BoolOp):
        parts = (condition_holds(v, env) for v in tree.values)
        return all(parts) if isinstance(tree.op, ast.And) else any(parts)
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
    """Python source for a formula, with argument names and function names mapped.

    `names` maps x, y and out to Python expressions; `call` maps a table function
    name to the callable's name in the generated code.  Numbers become floats.
    """

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return ast.parse(names[node.id], mode="eval").body

        def visit_Call(self, node: ast.Call) -> ast.expr:
            assert isinstance(node.func, ast.Name)
            node.args = [self.visit(a) for a in node.args]
            node.func = ast.Name(id=call(node.func.id), ctx=ast.Load())
            return node

        def visit_Constant(self, node: ast.Constant) -> ast.expr:
            return ast.Constant(value=float(node.value))

    copy = ast.parse(ast.unparse(tree), mode="eval").body
    return ast.unparse(Rename().visit(copy))


OPS: dict[str, Op] = {op.name: op for op in _TABLE}
FUNCTIONS: dict[str, Op] = {name: op for name, op in OPS.items() if op.symbol is None}
FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {name: op.fn for name, op in FUNCTIONS.items()}


_SUGAR_TREES: dict[tuple[str, int], ast.expr] = {}


def sugar_tree(name: str, nargs: int) -> ast.expr | None:
    """The rewrite of a call spelt with another arity (log(x, b)), parsed once; None if there is none."""
    key = (name, nargs)
    if key not in SUGAR:
        return None
    if key not in _SUGAR_TREES:
        _SUGAR_TREES[key] = parse_formula(SUGAR[key], nargs, set(FUNCTIONS))
    return _SUGAR_TREES[key]


def functions() -> Iterator[Op]:
    """Every operation in table order."""
    return iter(OPS.values())
