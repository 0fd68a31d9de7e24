"""The compiler's writer: one graph to the text of a module with value() and gradient().

Numbering, folding and merging the nodes, then the forward and backward sweeps,
each local derivative filled in from the op table's templates (compile_rules.py),
then the peephole pass (peephole.py).  compile.py says what the module promises.
"""

from __future__ import annotations

import ast
import math
import re
import sys
import textwrap
from collections.abc import Sequence

from . import ops
from .compile_rules import (
    ARG_PLACEHOLDERS,
    FOLD,
    INFIX,
    PLACEHOLDER,
    PLACEHOLDERS,
    decided,
    helpers,
    inline_form,
    is_atom,
    literal,
    template,
)
from .engine import Value, topological_order
from .formulas import times_python
from .peephole import inline_single_uses, number

__all__ = ["Writer"]


class Writer:
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
        self.arithmetic: set[int] = set()  # nodes that may turn inf without raising: + - * /, functions

    def _add(self, key: tuple) -> int:
        i = len(self.op)
        kind, args = key[0], key[1:]
        value: float | None = None
        if kind == "var":
            expr = f"v{args[0]}"
        elif kind == "const":
            value = float(args[0])
            expr = literal(value)
        else:
            expr = f"t{i}"
            if all(self.const[a] is not None for a in args):  # fold: an operation on numbers is a number
                try:
                    r = ops.OPS[kind].fn(*[self.const[a] for a in args])
                except (ArithmeticError, ValueError):
                    r = math.nan  # leave it to run (and fail) at run time
                if math.isfinite(r):
                    value = float(r)
                    expr = literal(value)
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
        value = number(node)
        if isinstance(node, ast.Name) or (value is not None and math.copysign(1.0, value) > 0):
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
            left, right = number(node.left), number(node.right)
            if left is not None and right is not None:
                try:
                    value = FOLD[type(node.op)](left, right)  # two numbers of generated code, folded
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
            known = decided(node.test)
            if known is not None:
                return self._rewrite(node.body if known else node.orelse, prelude, derivative)
            return node  # kept whole: the rule runs only where the test is false
        if isinstance(node, ast.Call):
            node.args = [self._rewrite(a, prelude, derivative) for a in node.args]
            assert isinstance(node.func, ast.Name)
            if derivative and node.func.id[3:] in ops.OPS and ops.OPS[node.func.id[3:]].derivative_form:
                return self._guarded(node, prelude)
            form = inline_form(node.func.id[3:]) if node.func.id.startswith("_f_") else None
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
        # Operators are written as Python's.  neg and pow are named because their Python differs from the
        # table's forward call: -x has no parentheses to keep, and a constant whole exponent is ** (x*x for
        # 2, correctly rounded), which math.pow would not give bit for bit; every other op is the table's.
        kind, args = self.op[i], [self.expr[a] for a in self.parents[i]]
        if kind == "neg":
            return f"-{args[0]}"
        c = self.const[self.parents[i][1]] if kind == "pow" else None
        if c is not None and c.is_integer() and c != 2.0:  # ** on floats is C pow: raises, never turns complex
            return f"{args[0]} ** {args[1]}"
        self.arithmetic.add(i)  # the rest may turn inf without raising: + - * /, x*x, functions (math.hypot)
        if kind in INFIX:
            return f"{args[0]} {INFIX[kind]} {args[1]}"
        if c == 2.0:
            return self._code(f"{args[0]} ** 2.0", prelude)
        call = f"_f_{kind}({', '.join(args)})"
        if inline_form(kind) is None:
            return self.temps.get(call, call)
        self.temps.setdefault(call, self.expr[i])  # the table's value, for a derivative that needs it
        return self._code(call, prelude)

    def _product(self, g: str, local: str) -> str:
        """The adjoint g (an atom) times a local derivative, or the name of a value that is that product.

        A rule that divides divides g, as the engine does (formulas.times): g * (1 / x / c) is g / x / c,
        which neither overflows nor rounds a subnormal twice where the product is a double; a product
        the forward sweep has computed (exp's out times the adjoint of a factor) is read, not redone.
        """
        tree = ast.parse(local, mode="eval").body
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Div):
            return times_python(g, local)  # g / d for 1 / d; g * (x / out) for a quotient of two numbers
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Mult) and isinstance(tree.left, ast.Name) \
                and ast.unparse(tree.left) == ast.unparse(tree.right):
            # a square (tanh's sech(x)^2, written h * h): g * h * h, since h * h is 0 past |x| = 355 where
            # 1e300 * h * h is not; grad checks a 0 again, batch mode keeps what it computes
            return f"{g} * {local}"
        if is_atom(local):
            return self.temps.get(f"{g} * {local}") or self.temps.get(f"{local} * {g}") or f"{g} * {local}"
        return f"{g} * ({local})"

    def _keeps(self, i: int, k: int) -> bool:
        """Whether node i turns an inf or nan in its argument k into inf, nan or an exception, never a number."""
        kind = self.op[i]
        # named here: a numerator keeps inf (a denominator does not: 1/inf is 0), and so does the base of a
        # positive whole power; which argument keeps it is a fact about these two, not about the table
        if ops.OPS[kind].keeps_inf or (kind == "div" and k == 0):
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
            values = {PLACEHOLDER[ops.RESULT_NAME]: self.expr[i]}
            values.update(zip(ARG_PLACEHOLDERS, (self.expr[a] for a in self.parents[i]), strict=False))
            literal_args = any(not v.isidentifier() for v in values.values())
            for k, a in enumerate(self.parents[i]):
                if not needs[a]:
                    continue  # a constant, or a subtree without the variables we want
                prelude = []
                text, how = template(spec.name, k)
                local = PLACEHOLDERS.sub(lambda m, values=values: values[m.group(0)], text)
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
                    term = f"-{g}" if is_atom(g) else f"-({g})"
                elif g == "1.0":
                    term = local
                else:
                    term = self._product(g, local)
                term = {"--1.0": "1.0", "-(-1.0)": "1.0"}.get(term, term)
                comment = f"  # {spec.name}, {spec.role(k)}" if spec.arity > 1 else f"  # {spec.name}"
                mine = f"gv{self.expr[a][1:]}" if self.op[a] == "var" else f"g{a}"
                if a not in adjoint:
                    if is_atom(term):  # share the name: no copy
                        adjoint[a] = (term, False)
                    else:
                        bwd.append(f"{mine} = {term}{comment}")
                        adjoint[a] = (mine, True)
                elif adjoint[a][1] and local == "-1.0" and is_atom(g):
                    bwd.append(f"{mine} -= {g}{comment}")
                elif adjoint[a][1]:
                    bwd.append(f"{mine} += {term}{comment}")
                else:  # the term may be a conditional expression (relu's step): keep it whole
                    added = term if is_atom(term) else f"({term})"
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
                body.append(f"if {not_finite(checks[0])}:\n{raise_}")
            else:
                # one sum to test (inf or nan if any is); only when it is not finite, each one: two large
                # finite numbers can add up to inf.  A flat sum() past 16: a chain of + thousands long would
                # be too deep for Python's compiler
                rows = "".join(f"    {', '.join(checks[j : j + 12])},\n" for j in range(0, len(checks), 12))
                total = " + ".join(checks) if len(checks) <= 16 else f"sum((\n{rows}))"
                each = f"({', '.join(checks)})" if len(checks) <= 16 else f"(\n{textwrap.indent(rows, '    ')}    )"
                body.append(f"s = {total}")
                body.append(f"if {not_finite('s')}:\n    if not all(map(math.isfinite, {each})):\n    {raise_}")
        ret = outputs[0] if not backward else ", ".join(outputs) + ("," if len(outputs) == 1 else "")
        body.append(f"return {ret}")
        lines = [f"def {name}({params}):", f'    """{doc}"""']
        lines += [textwrap.indent(statement, "    ") for statement in inline_single_uses(body)]
        return "\n".join(lines)

    def module(self, names: list[str], wrt: list[str], text: str | None) -> str:
        """The whole module: docstring, import, helpers, value(), gradient()."""
        params = ", ".join(f"v{i}" for i in range(self.arity))
        sweeps = self._sweeps(True)  # the forward sweep is the same in both functions
        value_fn = self._function("value", (sweeps[0], [], [], sweeps[3]), False, "The value at a point.")
        doc = "The value, then the partial derivatives in the order of WRT."
        grad_fn = self._function("gradient", sweeps, True, doc)
        called = helpers(value_fn + grad_fn)
        aliases = [h for h in called if not h.startswith("def ")]
        defs = [h for h in called if h.startswith("def ")]
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


def not_finite(name: str) -> str:
    """A test that name is inf or nan: two comparisons with the largest double (nan fails both), no call,
    no new float (x - x != 0.0 makes one)."""
    return f"not {-sys.float_info.max!r} <= {name} <= {sys.float_info.max!r}"
