"""Graph to straight-line Python: an expression's value and gradient as one plain function.

The compiler reads the Value graph once and writes a small Python module: a
forward sweep (each distinct node computed once, in topological order), then the
adjoints in reverse order, each local derivative inlined from the op table's own
formula.  Variables are taken by position (v0, v1, ...) and every local is a
generated name (t3, g3), so no user text ever enters the source: a variable
called ``__import__('os').system('x')`` appears only as data, in a tuple built
with repr().  The module imports `math` and nothing else; it can be printed
(`autodiff compile`), pasted into another program, or exec'd here for batches.

Structurally identical subtrees are merged (``(w*x+b)`` written twice is computed
once), operations on constants are folded into literals, and a derivative is
only computed on paths that lead to a variable we differentiate by.  A temporary
read once, whose arithmetic cannot raise, is written where it is read (fewer
loads and stores, the same operations on the same operands).

Values are the engine's, bit for bit (x^2 is x*x, correctly rounded, where the
engine's pow may be an ulp off).  Derivatives may take a cheaper road, within a
few ulps of the true value: a product of the forward sweep is read, not redone;
g * (1 / d) is g / d; and derivative code computes sech as 1/cosh (the
table's derivative_form).

Errors: the generated code runs on floats.  A domain error raises ValueError,
a division by zero ZeroDivisionError, an overflow in a math function
OverflowError.  A sum, difference, product or quotient that overflows to inf
raises OverflowError where the inf could vanish into a finite result (as the
argument of tanh, or a denominator); elsewhere it reaches the results, which
come back as inf or nan, like hand-written code's (the caller checks them once,
which is cheaper than checking every node).  The intermediates to check are
added up and tested once; only when the sum is not finite is each one tested,
since two large finite numbers can add up to inf.  The callers that need the
project's precise messages (the batch runner) evaluate such a row again through
the Value graph.
"""

from __future__ import annotations

import ast
import bisect
import functools
import math
import operator
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ops
from .engine import Value, topological_order

if TYPE_CHECKING:
    from .expression import Expression

__all__ = ["Compiled", "compile_expression", "compile_graph"]

# Operations written as Python operators; anything else is a call.
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_PROPAGATE = frozenset(("add", "sub", "mul", "neg"))  # inf or nan in, inf or nan out
# Other operations that give inf, nan or an exception for an inf or nan argument are marked keeps_inf in the
# table (log(inf) is inf, sin(inf) raises); an operation not marked is checked, which is only slower.
# Cheaper forms of table functions for derivative code are the table's derivative_form (sech as 1/cosh).


@dataclass(frozen=True)
class Compiled:
    """A compiled expression: the generated module's text and its two functions.

    gradient(*values) returns (value, d/d wrt[0], d/d wrt[1], ...), floats;
    value(*values) returns the value.  Values go by position, as in `variables`.
    """

    source: str
    variables: tuple[str, ...]
    wrt: tuple[str, ...]
    gradient: Callable[..., tuple[float, ...]]
    value: Callable[..., float]


def compile_expression(expr: Expression, wrt: Sequence[str] | None = None) -> Compiled:
    """Compile a parsed Expression (autodiff_cli.parse) by its variables, in order of appearance.

    wrt: the names to differentiate by (default: every variable, in order); a name
    that is not a variable raises ValueError.
    """
    variables = expr.variables
    names = list(variables)
    chosen = names if wrt is None else list(wrt)
    for name in chosen:
        if name not in variables:
            raise ValueError(f"{name!r} is not a variable of the expression")
    return compile_graph(
        expr.root,
        list(variables.values()),
        [names.index(n) for n in chosen],
        names=names,
        text=expr.text,
    )


def compile_graph(
    root: Value,
    leaves: Sequence[Value],
    wrt: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    text: str | None = None,
) -> Compiled:
    """Compile the graph under root; leaves[i] is the i-th argument, wrt the positions to differentiate by.

    names label the positions (as data, never as code); text is the expression, kept as data too.
    """
    names = [leaf.name or f"v{i}" for i, leaf in enumerate(leaves)] if names is None else list(names)
    wrt = list(range(len(leaves))) if wrt is None else list(wrt)
    source = _Writer(root, leaves, wrt).module(names, [names[i] for i in wrt], text)
    namespace: dict = {"__name__": "autodiff_compiled"}
    # The source is generated from the op table's formulas and from numbers; names are data.
    exec(compile(source, "<autodiff compiled>", "exec"), namespace)
    return Compiled(source, tuple(names), tuple(names[i] for i in wrt), namespace["gradient"], namespace["value"])


def _literal(x: float) -> str:
    if math.isfinite(x):
        return repr(x) if math.copysign(1.0, x) > 0 else f"({x!r})"  # -0.0 too: -0.0 ** 2 is -(0.0 ** 2)
    return f"float({repr(x)!r})"  # inf or nan as a library user's constant


@dataclass(frozen=True)
class _Inline:
    """A table function short enough to write in place: its parameters, assignments and result.

    The assignments and the result are text in which each parameter and local
    is a placeholder __name__, to fill in with names or numbers (atoms).
    """

    params: tuple[str, ...]
    assigns: tuple[tuple[str, str], ...]
    result: str

    def fill(self, text: str, mapping: dict[str, str]) -> str:
        return re.sub(r"\b__(\w+?)__\b", lambda m: mapping[m.group(1)], text)


def _inline_form(name: str) -> _Inline | None:
    """The table's own forward for `name` as an _Inline, if it is straight-line code."""
    spec = ops.OPS.get(name)
    return None if spec is None else _inline_form_of(spec)


@functools.cache
def _inline_form_of(spec: ops.Op) -> _Inline | None:
    # Operators are written as Python's; a math function is called as it is, and math raises
    # ValueError outside its domain (math.log(0)), which is what sends a row to the exact path;
    # any other forward with a domain is a helper that tests it (see _helper_source)
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
    return _Inline(tuple(a.arg for a in func.args.args), assigns, ast.unparse(Mark().visit(body[-1].value)))


# Derivative formulas with placeholders for the arguments, made once per operation and argument:
# filling one in is a textual substitution of names or parenthesised numbers, which are atoms.
_PLACEHOLDER = {name: f"__{name}__" for name in (*ops.ARG_NAMES, ops.RESULT_NAME)}
_ARG_PLACEHOLDERS = tuple(_PLACEHOLDER[n] for n in ops.ARG_NAMES)
# The arithmetic of generated code, for folding two numbers: no eval, not even of our own text.
_FOLD = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
         ast.Pow: operator.pow}

_PLACEHOLDERS = re.compile("|".join(rf"\b{re.escape(p)}\b" for p in _PLACEHOLDER.values()))


def _template(op: str, k: int) -> tuple[str, str]:
    return _template_of(ops.OPS[op], k)


@functools.cache
def _template_of(spec: ops.Op, k: int) -> tuple[str, str]:
    """The Python text of op's derivative by argument k, and how much rewriting it needs once filled in.

    "atom": none (a name or a number); "call": a call of a table function on the
    arguments, which may have been computed already; "plain": only arithmetic,
    to fold if an argument is a number; "rewrite": powers or calls to rewrite.
    """
    text = spec.rule_python(k, _PLACEHOLDER, lambda f: f"_f_{f}")  # with the op's conventions
    body = ast.parse(text, mode="eval").body
    if isinstance(body, ast.Name | ast.Constant):
        return text, "atom"
    if (
        isinstance(body, ast.Call) and isinstance(body.func, ast.Name)
        and _inline_form(body.func.id[3:]) is None and all(isinstance(a, ast.Name) for a in body.args)
    ):
        return text, "call"
    calls = any(isinstance(n, ast.Call | ast.Pow) for n in ast.walk(body))
    return text, "rewrite" if calls else "plain"


def _decided(test: ast.expr) -> bool | None:
    """The truth of a convention's test when its numbers decide it (3.0 == 0.0; 2.0 == 0.0 and v0 >= 0.0), else None."""
    if isinstance(test, ast.BoolOp):
        parts = [_decided(v) for v in test.values]
        stop = isinstance(test.op, ast.Or)  # the value that decides: True for `or`, False for `and`
        if stop in parts:
            return stop
        return None if None in parts else not stop
    if not isinstance(test, ast.Compare):
        return None
    operands = [_signed_number(n) for n in (test.left, *test.comparators)]
    if None in operands:
        return None  # a variable's value decides, at run time
    return all(_COMPARE[type(op)](a, b) for op, a, b in zip(test.ops, operands, operands[1:], strict=False))


_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}


def _signed_number(node: ast.expr) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _signed_number(node.operand)
        return None if inner is None else -inner
    return _number(node)


def _number(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        return node.value
    return None


def _is_atom(src: str) -> bool:
    return src.isidentifier() or src.replace(".", "", 1).replace("e-", "", 1).replace("e+", "", 1).isdigit()


class _Writer:
    """Writes the module for one graph: numbering, folding, merging, then the two sweeps."""

    def __init__(self, root: Value, leaves: Sequence[Value], wrt: Sequence[int]) -> None:
        position = {id(leaf): i for i, leaf in enumerate(leaves)}
        self.arity = len(leaves)
        # canonical nodes: each is (op name, parent indices) or a leaf; expr[i] is its Python text
        self.op: list[str] = []
        self.parents: list[tuple[int, ...]] = []
        self.expr: list[str] = []
        self.const: list[float | None] = []  # the value of a constant (folded) node
        index: dict[int, int] = {}  # id(Value) -> canonical node
        seen: dict[tuple, int] = {}  # structure -> canonical node (hash-consing)
        for node in topological_order(root):
            if node.is_leaf:
                if id(node) in position:
                    key: tuple = ("var", position[id(node)])
                elif node.is_constant:
                    key = ("const", repr(node.data))
                else:
                    raise ValueError(f"the graph has a variable that is not among the leaves: {node!r}")
            else:
                key = (node.op, *(index[id(p)] for p in node.parents))
            if key not in seen:
                seen[key] = self._add(key)
            index[id(node)] = seen[key]
        self.root = index[id(root)]
        self.wrt = list(wrt)
        self.temps: dict[str, str] = {}  # expression text -> temporary, within one function
        self.ntemps = 0
        self.arithmetic: set[int] = set()  # nodes written as + - * /: they may turn inf without raising

    def _add(self, key: tuple) -> int:
        i = len(self.op)
        kind, args = key[0], key[1:]
        value: float | None = None
        if kind == "var":
            expr = f"v{args[0]}"
        elif kind == "const":
            value = float(args[0])
            expr = _literal(value)
        else:
            expr = f"t{i}"
            if all(self.const[a] is not None for a in args):  # fold: an operation on numbers is a number
                try:
                    r = ops.OPS[kind].fn(*[self.const[a] for a in args])
                except (ArithmeticError, ValueError):
                    r = math.nan  # leave it to run (and fail) at run time
                if math.isfinite(r):
                    value = float(r)
                    expr = _literal(value)
        self.op.append(kind if value is None or kind in ("var", "const") else "const")
        self.parents.append(args if self.op[-1] not in ("var", "const") else ())
        self.expr.append(expr)
        self.const.append(value)
        return i

    # -- the pieces of code ---------------------------------------------------

    # -- the pieces of code ---------------------------------------------------

    def _temp(self, node: ast.expr, prelude: list[str]) -> ast.Name:
        """A temporary holding node's value; the same text twice is one temporary (they are never reassigned)."""
        return ast.Name(id=self._temp_text(ast.unparse(node), prelude), ctx=ast.Load())

    def _temp_text(self, text: str, prelude: list[str]) -> str:
        if text not in self.temps:
            self.ntemps += 1
            self.temps[text] = f"h{self.ntemps}"
            prelude.append(f"{self.temps[text]} = {text}")
        return self.temps[text]

    def _atom(self, node: ast.expr, prelude: list[str]) -> ast.expr:
        """A name or a plain number for node, assigning it to a temporary first if it is more."""
        number = _number(node)
        if isinstance(node, ast.Name) or (number is not None and math.copysign(1.0, number) > 0):
            return node
        return self._temp(node, prelude)

    def _rewrite(self, node: ast.expr, prelude: list[str], derivative: bool = False) -> ast.expr:
        """Exact rewrites of generated code: fold numbers, x^1 is x, x^2 is x*x, write small helpers in place.

        x*x is correctly rounded where C's pow may be an ulp off (GCC makes the same change at -O2);
        the inlined helpers are the op table's own functions, statement for statement.  In a derivative
        (derivative=True), a function with a derivative_form in the table is written in that cheaper form.
        """
        if isinstance(node, ast.BinOp):
            node.left = self._rewrite(node.left, prelude, derivative)
            node.right = self._rewrite(node.right, prelude, derivative)
            left, right = _number(node.left), _number(node.right)
            if left is not None and right is not None:
                try:
                    value = _FOLD[type(node.op)](left, right)  # two numbers of generated code, folded
                except ArithmeticError:
                    return node
                if isinstance(value, float) and math.isfinite(value) and value >= 0:
                    return ast.Constant(value=value)
            if isinstance(node.op, ast.Pow) and right == 1.0:
                return node.left
            if isinstance(node.op, ast.Pow) and right == 2.0:
                base = self._atom(node.left, prelude)
                return ast.BinOp(left=base, op=ast.Mult(), right=ast.parse(ast.unparse(base), mode="eval").body)
            return node
        if isinstance(node, ast.UnaryOp):
            node.operand = self._rewrite(node.operand, prelude, derivative)
            return node
        if isinstance(node, ast.IfExp):  # an op's convention (pow at 0): decided now if its test has numbers only
            known = _decided(node.test)
            if known is not None:
                return self._rewrite(node.body if known else node.orelse, prelude, derivative)
            return node  # kept whole: the rule runs only where the test is false
        if isinstance(node, ast.Call):
            node.args = [self._rewrite(a, prelude, derivative) for a in node.args]
            assert isinstance(node.func, ast.Name)
            if derivative and node.func.id[3:] in ops.OPS and ops.OPS[node.func.id[3:]].derivative_form:
                return self._guarded(node, prelude)
            form = _inline_form(node.func.id[3:]) if node.func.id.startswith("_f_") else None
            if form is None:
                return self._known(node)
            mapping = {p: ast.unparse(self._atom(a, prelude)) for p, a in zip(form.params, node.args, strict=True)}
            for target, value in form.assigns:
                mapping[target] = self._temp_text(form.fill(value, mapping), prelude)
            return self._known(ast.parse(form.fill(form.result, mapping), mode="eval").body)
        return node

    def _guarded(self, node: ast.Call, prelude: list[str]) -> ast.expr:
        """A function in its table's derivative_form, falling back where that overflows.

        A value the forward sweep (or another derivative) has computed already is read instead.
        """
        assert isinstance(node.func, ast.Name)
        args = [ast.unparse(self._atom(a, prelude)) for a in node.args]
        call = f"{node.func.id}({', '.join(args)})"
        if call not in self.temps:
            forms = ops.OPS[node.func.id[3:]].derivative_form
            assert forms is not None
            form, fallback = (re.sub(r"\b__x__\b", args[0], f) for f in forms)
            self.ntemps += 1
            self.temps[call] = name = f"h{self.ntemps}"
            prelude.append(f"try:\n    {name} = {form}\nexcept OverflowError:\n    {name} = {fallback}")
        return ast.Name(id=self.temps[call], ctx=ast.Load())

    def _known(self, node: ast.expr) -> ast.expr:
        """A call computed already (in the forward sweep, or for another derivative) is read, not redone."""
        name = self.temps.get(ast.unparse(node))
        return ast.Name(id=name, ctx=ast.Load()) if name else node

    def _code(self, src: str, prelude: list[str], derivative: bool = False) -> str:
        return ast.unparse(self._rewrite(ast.parse(src, mode="eval").body, prelude, derivative))

    def _forward(self, i: int, prelude: list[str]) -> str:
        kind, args = self.op[i], [self.expr[a] for a in self.parents[i]]
        if kind in _INFIX:
            self.arithmetic.add(i)
            return f"{args[0]} {_INFIX[kind]} {args[1]}"
        if kind == "neg":
            return f"-{args[0]}"
        if kind == "pow":
            c = self.const[self.parents[i][1]]
            if c == 2.0:
                self.arithmetic.add(i)
                return self._code(f"{args[0]} ** 2.0", prelude)
            if c is not None and c.is_integer():  # ** on floats is C pow, and cannot turn complex here
                return f"{args[0]} ** {args[1]}"
        call = f"_f_{kind}({', '.join(args)})"
        if _inline_form(kind) is None:
            return self.temps.get(call, call)
        self.temps.setdefault(call, self.expr[i])  # the table's value, for a derivative that needs it
        return self._code(call, prelude)

    def _product(self, g: str, local: str) -> str:
        """The adjoint g (an atom) times a local derivative, or the name of a value that is that product.

        g * (1 / d) is g / d, one rounding instead of two (sqrt's 1 / (2 * out), log's 1 / x); a product
        the forward sweep has computed (exp's out times the adjoint of a factor) is read, not redone.
        """
        tree = ast.parse(local, mode="eval").body
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div) and _number(tree.left) == 1.0:
            return ast.unparse(ast.BinOp(left=ast.parse(g, mode="eval").body, op=ast.Div(), right=tree.right))
        if _is_atom(local):
            return self.temps.get(f"{g} * {local}") or self.temps.get(f"{local} * {g}") or f"{g} * {local}"
        return f"{g} * ({local})"

    def _keeps(self, i: int, k: int) -> bool:
        """Whether node i turns an inf or nan in its argument k into inf, nan or an exception, never a number."""
        kind = self.op[i]
        if kind in _PROPAGATE or ops.OPS[kind].keeps_inf or (kind == "div" and k == 0):
            return True
        c = self.const[self.parents[i][1]] if kind == "pow" else None
        return kind == "pow" and k == 0 and c is not None and c > 0 and c.is_integer()

    def _sweeps(self, backward: bool) -> tuple[list[str], list[str], list[str], list[str]]:
        """Lines of the forward and backward sweeps, the gradients' texts, the arithmetic results."""
        fwd: list[str] = []
        checked: list[str] = []
        loose: set[int] = set()  # nodes that may hold inf or nan
        self.temps, self.ntemps = {}, 0
        for i, kind in enumerate(self.op):
            if kind not in ("var", "const"):
                prelude: list[str] = []
                code = self._forward(i, prelude)
                self.temps.setdefault(code, self.expr[i])
                line = f"{self.expr[i]} = {code}  # {kind}"
                fwd += [*prelude, line]
                # + - * / can make inf or nan without raising.  Carried on by + - * and a numerator,
                # and by the functions that keep it (log(inf) is inf, sin(inf) raises), it reaches
                # the results, which the caller checks; anything else could absorb it (tanh(inf)
                # is 1, 1/inf is 0, exp(-inf) is 0): check it there
                if i in self.arithmetic:
                    loose.add(i)
                for k, a in enumerate(self.parents[i]):
                    if a in loose:
                        if self._keeps(i, k):
                            loose.add(i)
                        else:
                            checked.append(self.expr[a])
        if not backward:
            return fwd, [], [], checked
        # which nodes lead to a variable we differentiate by
        needs = [False] * len(self.op)
        targets = {("var", w) for w in self.wrt}
        for i, kind in enumerate(self.op):
            if kind == "var":
                needs[i] = ("var", int(self.expr[i][1:])) in targets
            elif kind != "const":
                needs[i] = any(needs[a] for a in self.parents[i])
        adjoint: dict[int, tuple[str, bool]] = {self.root: ("1.0", False)}  # (text, a name we own)
        bwd: list[str] = []
        for i in range(len(self.op) - 1, -1, -1):
            if i not in adjoint or self.op[i] in ("var", "const"):
                continue
            g = adjoint[i][0]
            spec = ops.OPS[self.op[i]]
            values = {_PLACEHOLDER[ops.RESULT_NAME]: self.expr[i]}
            values.update(zip(_ARG_PLACEHOLDERS, (self.expr[a] for a in self.parents[i]), strict=False))
            literal_args = any(not v.isidentifier() for v in values.values())
            for k, a in enumerate(self.parents[i]):
                if not needs[a]:
                    continue  # a constant, or a subtree without the variables we want
                prelude = []
                template, how = _template(spec.name, k)
                local = _PLACEHOLDERS.sub(lambda m, values=values: values[m.group(0)], template)
                if how == "call":
                    local = self.temps.get(local, local)
                elif how == "rewrite" or (how == "plain" and literal_args):
                    local = self._code(local, prelude, derivative=True)
                bwd += prelude
                # a derivative that is 0.0 (sign, step; or only because an argument is, the 0 of 0*f) still
                # flows back, as in the engine: 0.0 * g keeps IEEE's sign (sign(x)*-1 gives -0.0), and f's own
                # derivative may be undefined there, and then so is the gradient
                if local == "1.0":
                    term = g
                elif local == "-1.0":
                    term = f"-{g}" if _is_atom(g) else f"-({g})"
                elif g == "1.0":
                    term = local
                else:
                    term = self._product(g, local)
                term = {"--1.0": "1.0", "-(-1.0)": "1.0"}.get(term, term)
                comment = f"  # {spec.name}, {spec.role(k)}" if spec.arity > 1 else f"  # {spec.name}"
                mine = f"gv{self.expr[a][1:]}" if self.op[a] == "var" else f"g{a}"
                if a not in adjoint:
                    if _is_atom(term):  # share the name: no copy
                        adjoint[a] = (term, False)
                    else:
                        bwd.append(f"{mine} = {term}{comment}")
                        adjoint[a] = (mine, True)
                elif adjoint[a][1] and local == "-1.0" and _is_atom(g):
                    bwd.append(f"{mine} -= {g}{comment}")
                elif adjoint[a][1]:
                    bwd.append(f"{mine} += {term}{comment}")
                else:  # the term may be a conditional expression (relu's step): keep it whole
                    added = term if _is_atom(term) else f"({term})"
                    bwd.append(f"{mine} = {adjoint[a][0]} + {added}{comment}")
                    adjoint[a] = (mine, True)
        var_node = {int(self.expr[i][1:]): i for i, k in enumerate(self.op) if k == "var"}
        results = [adjoint[var_node[w]][0] if var_node.get(w) in adjoint else "0.0" for w in self.wrt]
        return fwd, bwd, results, checked

    def _function(self, name: str, sweeps: tuple, backward: bool, doc: str) -> str:
        params = ", ".join(f"v{i}" for i in range(self.arity))
        fwd, bwd, grads, arithmetic = sweeps
        value = self.expr[self.root]
        body: list[str] = []
        if fwd:
            body.append("# forward sweep: each distinct node once, parents first")
            body += fwd
        outputs = [value, *grads]
        if backward and bwd:
            body.append("# backward sweep: adjoints (d value / d node), from the output down")
            body += bwd
        checks = list(dict.fromkeys(arithmetic))
        raise_ = "    raise OverflowError('overflow in an intermediate result')"
        if checks:
            body.append("# inf or nan here would vanish into a finite result (tanh(inf) is 1, 1/inf is 0)")
            if len(checks) == 1:
                body.append(f"if {_not_finite(checks[0])}:\n{raise_}")
            else:
                # one sum to test (inf or nan if any is); only when it is not finite, each one: two large
                # finite numbers can add up to inf.  A flat sum() past 16: a chain of + thousands long would
                # be too deep for Python's compiler
                rows = "".join(f"    {', '.join(checks[j : j + 12])},\n" for j in range(0, len(checks), 12))
                total = " + ".join(checks) if len(checks) <= 16 else f"sum((\n{rows}))"
                each = f"({', '.join(checks)})" if len(checks) <= 16 else f"(\n{textwrap.indent(rows, '    ')}    )"
                body.append(f"s = {total}")
                body.append(f"if {_not_finite('s')}:\n    if not all(map(math.isfinite, {each})):\n    {raise_}")
        ret = outputs[0] if not backward else ", ".join(outputs) + ("," if len(outputs) == 1 else "")
        body.append(f"return {ret}")
        lines = [f"def {name}({params}):", f'    """{doc}"""']
        lines += [textwrap.indent(statement, "    ") for statement in _inline_single_uses(body)]
        return "\n".join(lines)

    def module(self, names: list[str], wrt: list[str], text: str | None) -> str:
        """The whole module: docstring, import, helpers, value(), gradient()."""
        params = ", ".join(f"v{i}" for i in range(self.arity))
        sweeps = self._sweeps(True)  # the forward sweep is the same in both functions
        value_fn = self._function("value", (sweeps[0], [], [], sweeps[3]), False, "The value at a point.")
        doc = "The value, then the partial derivatives in the order of WRT."
        grad_fn = self._function("gradient", sweeps, True, doc)
        helpers = _helpers(value_fn + grad_fn)
        aliases = [h for h in helpers if not h.startswith("def ")]
        defs = [h for h in helpers if h.startswith("def ")]
        head = [
            '"""Generated by autodiff: the expression in EXPRESSION, compiled to plain Python.',
            "",
            f"value({params}) returns the value; gradient({params}) returns the value, then",
            "the partial derivative with respect to each name of WRT, by reverse mode written",
            "out: a forward sweep, then the adjoints in reverse order.  Argument vI is the",
            "variable VARIABLES[I].  A math error raises ValueError, ZeroDivisionError or",
            "OverflowError; so does an overflow in the middle that would vanish into a",
            "finite result (tanh(1e200*1e200)).  A result that overflows itself comes back",
            "as inf or nan: check math.isfinite where that matters.",
            '"""',
            "",
            "import math",
            "",
            f"EXPRESSION = {text!r}",
            f"VARIABLES = {tuple(names)!r}",
            f"WRT = {tuple(wrt)!r}",
        ]
        body = "\n".join(head)
        if aliases:
            body += "\n\n" + "\n".join(aliases)
        for d in defs:
            body += "\n\n\n" + d
        return f"{body}\n\n\n{value_fn}\n\n\n{grad_fn}\n"


def _not_finite(name: str) -> str:
    """A test that name is inf or nan: two comparisons with the largest double (nan fails both), no call,
    no new float (x - x != 0.0 makes one)."""
    return f"not {-sys.float_info.max!r} <= {name} <= {sys.float_info.max!r}"


# -- writing single-use temporaries in place ---------------------------------------------------------

_PURE_OPS = (ast.Add, ast.Sub, ast.Mult)
_MAX_INLINED = 12  # operations in one statement, at most: short lines, and no expression too deep to compile


def _scan(tree: ast.AST, parent: ast.AST | None = None) -> tuple[list[tuple[ast.Name, ast.AST, str, int]], int, bool]:
    """The names in tree with where each sits (parent, field, index or -1), the operations, and purity.

    parent: the statement whose value tree is, if it is one.
    Pure: arithmetic that cannot raise, + - * and negation of names and numbers, division by a number
    that is not 0.  Written out for the node types generated code uses (ast.walk is much slower).
    """
    names: list[tuple[ast.Name, ast.AST, str, int]] = []
    ops, pure = 0, True
    stack: list[tuple[ast.AST, ast.AST | None, str, int]] = [(tree, parent, "value", -1)]
    while stack:
        node, parent, field, index = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            names.append((node, parent, field, index))  # type: ignore[arg-type]
        elif kind is ast.BinOp:
            ops += 1
            op = type(node.op)  # type: ignore[attr-defined]
            if op is ast.Div:
                pure = pure and bool(_number(node.right))  # type: ignore[attr-defined]
            elif op not in _PURE_OPS:
                pure = False
            stack += [(node.right, node, "right", -1), (node.left, node, "left", -1)]  # type: ignore[attr-defined]
        elif kind is ast.UnaryOp:
            ops += 1
            pure = pure and type(node.op) is ast.USub  # type: ignore[attr-defined]
            stack.append((node.operand, node, "operand", -1))  # type: ignore[attr-defined]
        elif kind is not ast.Constant:
            pure = False
            for name, value in reversed(list(ast.iter_fields(node))):
                if isinstance(value, ast.AST):
                    stack.append((value, node, name, -1))
                elif isinstance(value, list):
                    stack += [(v, node, name, i) for i, v in reversed(list(enumerate(value))) if isinstance(v, ast.AST)]
    return names, ops, pure


def _inline_single_uses(statements: list[str]) -> list[str]:
    """Write each temporary that is read once, and whose arithmetic cannot raise, where it is read.

    Python stores and loads every named temporary; `t4 = t2 + v2` with `t2 = v0 * v1` read nowhere
    else is faster as `t4 = v0 * v1 + v2`.  The operations and their operands are the same (the
    syntax tree is moved, not rewritten), so every value is the same to the last bit; only + - *,
    negation and division by a number move, which cannot raise, so the errors come in the same order.
    `x += a` is read as a new x (x + a): the first sum of an adjoint and the ones after it join.
    A temporary stays where a name it reads is assigned again before its use.  Lines starting with
    '#' are comments; a statement that is not an assignment or a return (try, if) stays as it is.
    """
    first_line, line = [], 1
    for text in statements:
        first_line.append(line)
        line += text.count("\n") + 1
    position = {n: k for k, n in enumerate(first_line)}
    trees: list[ast.stmt | None] = [None] * len(statements)
    for tree in ast.parse("\n".join(statements)).body:  # one parse for the whole function
        if isinstance(tree, ast.AugAssign) and isinstance(tree.target, ast.Name):  # x op= a: x = x op a
            load = ast.Name(id=tree.target.id, ctx=ast.Load())
            value = ast.BinOp(left=load, op=tree.op, right=tree.value)
            tree = ast.Assign(targets=[tree.target], value=value, lineno=tree.lineno)
        trees[position[tree.lineno]] = tree
    # every name read, resolved to the statement that assigned it (reads of a statement come before its writes)
    assigned: dict[str, list[int]] = {}
    uses: dict[int, list[tuple[int, ast.Name]]] = {}
    where: dict[int, tuple[ast.AST, str, int]] = {}  # id of a Name read -> its parent, field and index
    latest: dict[str, int] = {}
    reads: dict[int, set[str]] = {}
    size: dict[int, int] = {}
    pure: dict[int, bool] = {}
    for k, tree in enumerate(trees):
        if tree is None:
            continue
        names, size[k], pure[k] = _scan(tree.value, tree) if isinstance(tree, ast.Assign) else _scan(tree)
        reads[k] = {n.id for n, *_ in names if isinstance(n.ctx, ast.Load)}
        for n, parent, field, index in names:
            if isinstance(n.ctx, ast.Load) and n.id in latest:
                uses.setdefault(latest[n.id], []).append((k, n))
                where[id(n)] = (parent, field, index)
        stored = [t.id for t in tree.targets if isinstance(t, ast.Name)] if isinstance(tree, ast.Assign) else [
            n.id for n, *_ in names if isinstance(n.ctx, ast.Store)
        ]
        for name in stored:
            latest[name] = k
            assigned.setdefault(name, []).append(k)
    moved: set[int] = set()
    changed: set[int] = set()

    def assigned_between(name: str, d: int, k: int) -> bool:
        where = assigned.get(name, [])
        i = bisect.bisect_right(where, d)
        while i < len(where) and where[i] < k:
            if where[i] not in moved:
                return True
            i += 1
        return False

    for d, tree in enumerate(trees):
        if not (isinstance(tree, ast.Assign) and pure[d] and len(uses.get(d, ())) == 1):
            continue
        k, name = uses[d][0]
        if not isinstance(trees[k], ast.Assign | ast.Return) or size[k] + size[d] > _MAX_INLINED:
            continue
        if any(assigned_between(r, d, k) for r in reads[d]):
            continue
        parent, field, index = where[id(name)]
        if index < 0:
            setattr(parent, field, tree.value)
        else:
            getattr(parent, field)[index] = tree.value
        if isinstance(tree.value, ast.Name):  # an alias: it now sits where the name was
            where[id(tree.value)] = where[id(name)]
        size[k] += size[d]
        reads[k] |= reads[d]
        moved.add(d)
        changed.add(k)
    out = []
    for k, (text, tree) in enumerate(zip(statements, trees, strict=True)):
        if k in moved:
            continue
        if k not in changed or tree is None:
            out.append(text)
            continue
        comment = text.partition("  # ")[2]
        out.append(_unparse(tree) + (f"  # {comment}" if comment else ""))
    return out


def _unparse(tree: ast.stmt) -> str:
    """An assignment or a return as generated code writes it: x += a, return a, b."""
    if isinstance(tree, ast.Return) and isinstance(tree.value, ast.Tuple):
        items = [ast.unparse(e) for e in tree.value.elts]
        return "return " + ", ".join(items) + ("," if len(items) == 1 else "")
    if isinstance(tree, ast.Assign):
        target, value = tree.targets[0], tree.value
        if (
            isinstance(target, ast.Name) and isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add | ast.Sub)
            and isinstance(value.left, ast.Name) and value.left.id == target.id
        ):
            return f"{target.id} {'+' if isinstance(value.op, ast.Add) else '-'}= {ast.unparse(value.right)}"
    return ast.unparse(tree)


def _helper_source(name: str) -> str:
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


def _helpers(text: str) -> list[str]:
    """The helpers text calls, and the helpers they call in turn (silu's calls sigmoid), by name."""
    found: dict[str, str] = {}
    todo = set(re.findall(r"\b_f_(\w+)", text))
    while todo:
        name = todo.pop()
        if name not in found:
            found[name] = _helper_source(name)
            todo |= set(re.findall(r"\b_f_(\w+)", found[name])) - {name}
    return [found[name] for name in sorted(found)]
