"""The op table: every operation defined once, and everything else reads it.

An entry says what an operation is called (and its other spellings), how many
arguments it takes, how to compute it on floats, where it is undefined, its local
derivative with respect to each argument and its convention at a kink, the facts
the simplifier may use, how it prints, and what it does in one line.

The forward is Python over the arguments ``x`` and ``y`` (an expression, or
statements ending in ``return``) that may call ``math`` and the table's own
functions.  The derivative rules are formulas over ``x``, ``y`` and the node's
own result ``out`` (see formulas.py).  The engine compiles them into its float
backward pass (``rulecode.backward_source("mul")`` prints what runs), the symbolic
module evaluates the same formulas on Values (derivatives of derivatives), the
compiler copies them into generated code, and ``autodiff functions`` prints them.
Adding an activation function is one entry.  Nothing is parsed on import.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property

from .errors import MathError
from .formulas import (
    ARG_NAMES,
    RESULT_NAME,
    condition_holds,
    formula_to_python,
    number_text,
    parse_condition,
    parse_formula,
    parse_forward,
    wrapped,
)

__all__ = ["ARG_NAMES", "CONSTANTS", "OPS", "RESULT_NAME", "Op", "extended", "functions", "lookup", "number_text"]


class Op:
    """One operation: how to compute it, differentiate it, print it and describe it (read-only once made).

    A plain class rather than a dataclass: importing dataclasses would cost every one-shot command
    its start-up time.  The arguments after `doc` are keywords in table.py.
    """

    def __init__(
        self,
        name: str,
        arity: int,
        forward: str,  # the value on floats, in Python over x, y (see the module docstring)
        grads: tuple[str, ...],  # d out / d arg_i, one formula per argument
        doc: str,
        symbol: str | None = None,  # infix (or, for arity 1, prefix) operator; None: a function call
        precedence: int = 9,  # binding strength when printed: 1 + -, 2 * /, 3 unary -, 4 ^, 9 atoms
        right_assoc: bool = False,
        note: str = "",  # conventions where the derivative does not exist (kinks)
        lazy: tuple[int, ...] = (),  # arguments whose derivative is computed only when they need one
        variadic: bool = False,  # a call takes 2 or more arguments, folded from the left
        roles: tuple[str, ...] = (),  # what the arguments are called in messages ("base", "exponent")
        aliases: tuple[str, ...] = (),  # other names the parser accepts: ln for log
        # Calls with another number of arguments, rewritten in terms of the table: log(x, b) is log(x) / log(b)
        spellings: tuple[tuple[int, str], ...] = (),
        # Where the operation is undefined: (condition over x and y, message).  The message may name {call}
        # (the operation applied to the numbers), {x} and {y} (the numbers), {yw} (y in parentheses if negative).
        domain: tuple[tuple[str, str], ...] = (),
        # Where a derivative rule has no value but a limit gives the derivative (as PyTorch has it):
        # (argument, condition over x and y, the derivative there).  pow's exponent rule out * log(x) at x = 0.
        conventions: tuple[tuple[int, str, float], ...] = (),
        # Facts the simplifier may use, true wherever the operation is defined
        positive: bool = False,  # the result is > 0
        nonnegative: bool = False,  # the result is >= 0
        log_like: bool = False,  # the argument is not 0 (it is > 0)
        exact: bool = False,  # the float result is exact for exact arguments (piecewise linear, rounding)
        # For the compiler's overflow checks: an inf or nan argument gives inf, nan or an exception, never a number
        keeps_inf: bool = False,
        # A cheaper Python form for derivative code only, and its fallback where that overflows (over __x__)
        derivative_form: tuple[str, str] | None = None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.forward = forward
        self.grads = grads
        self.doc = doc
        self.symbol = symbol
        self.precedence = precedence
        self.right_assoc = right_assoc
        self.note = note
        self.lazy = lazy
        self.variadic = variadic
        self.roles = roles
        self.aliases = aliases
        self.spellings = spellings
        self.domain = domain
        self.conventions = conventions
        self.positive = positive
        self.nonnegative = nonnegative
        self.log_like = log_like
        self.exact = exact
        self.keeps_inf = keeps_inf
        self.derivative_form = derivative_form

    def __repr__(self) -> str:
        return f"Op({self.name!r}, arity={self.arity})"

    # -- the forward ------------------------------------------------------

    @cached_property
    def forward_tree(self) -> ast.FunctionDef:
        """The forward as `def _f_<name>(x, y): ...`, table functions called as _f_<f> (parsed on first use)."""
        return parse_forward(self.name, self.forward, self.arity, set(OPS))

    @cached_property
    def forward_python(self) -> str:
        """The forward as Python source, without the domain checks (what generated code copies)."""
        return ast.unparse(self.forward_tree)

    @cached_property
    def math_name(self) -> str | None:
        """The math function the forward is, when it is one called on the arguments in order (log: 'log')."""
        prefix, suffix = "math.", f"({', '.join(ARG_NAMES[: self.arity])})"
        if self.forward.startswith(prefix) and self.forward.endswith(suffix):
            called = self.forward[len(prefix) : -len(suffix)]
            if called.isidentifier():
                return called  # the usual spelling, math.tanh(x): read without parsing (start-up)
        body = self.forward_tree.body
        if len(body) != 1 or not isinstance(body[0], ast.Return) or not isinstance(call := body[0].value, ast.Call):
            return None
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "math"):
            return None
        args = [a.id if isinstance(a, ast.Name) else None for a in call.args]
        return func.attr if args == list(ARG_NAMES[: self.arity]) and not call.keywords else None

    @cached_property
    def fn(self) -> Callable[..., float]:
        """The forward on floats, raising MathError where the domain says the operation is undefined."""
        if self.math_name and not self.domain:
            return getattr(math, self.math_name)  # math.exp itself: no wrapper to call through
        source = self.checked_python(lambda k: f"_undefined({k}, {', '.join(ARG_NAMES[: self.arity])})")
        called = {n.id[3:] for n in ast.walk(self.forward_tree) if isinstance(n, ast.Name) and n.id.startswith("_f_")}
        namespace = float_namespace(called) | {"math": math, "_undefined": self._undefined}
        # The source is the table's own forward and domain, never user text.
        exec(compile(source, f"<forward of {self.name}>", "exec"), namespace)
        return namespace[f"_f_{self.name}"]

    def checked_python(self, error: Callable[[int], str]) -> str:
        """The forward as Python source with its domain tested first: `if not x > 0.0: raise <error(k)>`."""
        head, _, body = self.forward_python.partition("\n")
        checks = "".join(
            f"    if {formula_to_python(test, {n: n for n in ARG_NAMES}, lambda f: 'float.is_integer')}:\n"
            f"        raise {error(k)}\n"
            for k, test in enumerate(self._domain_tests)
        )
        return f"{head}\n{checks}{body}\n"

    @cached_property
    def _domain_tests(self) -> tuple[ast.expr, ...]:
        return tuple(parse_condition(when, self.arity) for when, _ in self.domain)

    def _undefined(self, k: int, *args: float) -> MathError:
        """The error for domain entry k at these arguments."""
        fields = {"call": self.call_text(*args), "x": number_text(args[0])}
        if self.arity > 1:
            fields |= {"y": number_text(args[1]), "yw": wrapped(args[1])}
        return MathError(self.name, self.domain[k][1].format(**fields))

    def domain_error(self, *args: float) -> MathError | None:
        """The error saying why the operation is undefined at these arguments, or None where it is defined."""
        env = dict(zip(ARG_NAMES, args, strict=False))
        for k, test in enumerate(self._domain_tests):
            if condition_holds(test, env):
                return self._undefined(k, *args)
        return None

    def evaluate(self, *args: float) -> float:
        """The forward on floats with the project's errors: undefined or overflowing is a MathError."""
        try:
            r = self.fn(*args)
        except MathError:
            raise
        except OverflowError:
            raise self.overflow(*args) from None
        except (ValueError, ZeroDivisionError):
            raise MathError(self.name, f"{self.call_text(*args)} is undefined") from None
        if r - r != 0.0:  # inf or nan
            raise self.overflow(*args)
        return r

    def overflow(self, *args: float) -> MathError:
        return MathError(self.name, f"overflow: {self.call_text(*args)} is too large for a double")

    # -- derivatives -------------------------------------------------------

    @cached_property
    def grad_trees(self) -> tuple[ast.expr, ...]:
        """The derivative formulas, parsed and checked (on first use: start-up stays fast)."""
        if len(self.grads) != self.arity:
            raise ValueError(f"{self.name}: {self.arity} arguments but {len(self.grads)} derivative rules")
        return tuple(parse_formula(g, self.arity, set(FUNCTIONS)) for g in self.grads)

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
        for k, tree, value, _ in reversed(self._convention_tests):
            if k == i:
                test = formula_to_python(tree, names, call)  # parsed and checked once, in _convention_tests
                src = f"{value!r} if {test} else ({src})"
        return src

    def rule_names(self, i: int) -> set[str]:
        """The names the derivative by argument i reads, its conventions' included (from the trees already parsed)."""
        trees = [self.grad_trees[i], *(tree for k, tree, _, _ in self._convention_tests if k == i)]
        return {n.id for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Name)}

    def no_derivative(self, args: tuple[float, ...] | list[float], i: int) -> MathError:
        """The error for a derivative (by argument i) that does not exist at these arguments."""
        where = f" with respect to its {self.role(i)}" if self.arity > 1 else ""
        return MathError(self.name, f"no derivative: {self.call_text(*args)} is not differentiable{where}")

    def spelling(self, nargs: int) -> ast.expr | None:
        """The rewrite of a call with nargs arguments (log(x, b)), parsed once; None if there is none."""
        for n, src in self.spellings:
            if n == nargs:
                return self._spelling_trees.setdefault(n, parse_formula(src, n, set(FUNCTIONS)))
        return None

    @cached_property
    def _spelling_trees(self) -> dict[int, ast.expr]:
        return {}

    # -- printing ----------------------------------------------------------

    @property
    def is_function(self) -> bool:
        return self.symbol is None

    def call_text(self, *args: float) -> str:
        """The operation applied to numbers, as the error messages show it."""
        texts = [wrapped(a) if self.symbol else number_text(a) for a in args]
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


def float_namespace(functions: Iterable[str]) -> dict[str, Callable[..., float]]:
    """The table's float functions that generated source calls as _f_<name>, for the names its formulas read.

    Only those are compiled (lazily), and the names come from the trees already parsed: no second parse.
    """
    return {f"_f_{n}": OPS[n].fn for n in functions if n in OPS}


from .table import CONSTANTS, TABLE  # noqa: E402  (the entries need the Op class above)

OPS: dict[str, Op] = {op.name: op for op in TABLE}
FUNCTIONS: dict[str, Op] = {name: op for name, op in OPS.items() if op.symbol is None}
ALIASES: dict[str, str] = {alias: op.name for op in TABLE for alias in op.aliases}


def lookup(name: str) -> Op | None:
    """The operation a name (or one of its aliases: ln, arcsin) calls, or None."""
    return OPS.get(name) or OPS.get(ALIASES.get(name, ""))


def functions() -> Iterator[Op]:
    """Every operation in table order."""
    return iter(OPS.values())


def sugar_tree(name: str, nargs: int) -> ast.expr | None:
    """The rewrite of a call spelt with another arity (log(x, b)); None if there is none."""
    op = lookup(name)
    return None if op is None else op.spelling(nargs)


class _FloatFunctions(Mapping[str, Callable[..., float]]):
    """name -> the forward on floats, each compiled when first read."""

    def __getitem__(self, name: str) -> Callable[..., float]:
        return FUNCTIONS[name].fn

    def __iter__(self) -> Iterator[str]:
        return iter(FUNCTIONS)

    def __len__(self) -> int:
        return len(FUNCTIONS)


FLOAT_FUNCTIONS: Mapping[str, Callable[..., float]] = _FloatFunctions()


@contextmanager
def extended(*new: Op) -> Iterator[dict[str, Op]]:
    """A copy of the table with more operations, in force while the block runs (for tests and experiments).

    The real table is never changed: OPS, FUNCTIONS and ALIASES are rebound to extended copies and
    restored afterwards, so everything that reads the table through this module sees the new entries.
    """
    global OPS, FUNCTIONS, ALIASES
    saved = OPS, FUNCTIONS, ALIASES
    OPS = {**OPS, **{op.name: op for op in new}}
    FUNCTIONS = {name: op for name, op in OPS.items() if op.symbol is None}
    ALIASES = {**ALIASES, **{alias: op.name for op in new for alias in op.aliases}}
    try:
        yield OPS
    finally:
        OPS, FUNCTIONS, ALIASES = saved
