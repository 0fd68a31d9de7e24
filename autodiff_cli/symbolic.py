"""Derivatives as graphs, simplification, and graphs printed back as expressions.

`gradients(y, xs)` is reverse mode run on Values instead of floats: the adjoint
of every node is itself a graph, built from the op table's derivative formulas
(the same ones the float backward pass compiles), so it can be differentiated
again, to any order.  That is PyTorch's `torch.autograd.grad(..., create_graph=True)`.

Every node is made through a `Builder`, which simplifies as it builds and gives
the same node for the same structure (hash-consing), so no work is done twice:

* sums are kept as a constant plus distinct terms with coefficients
  (x + x is 2*x, x - x is 0, x + 0 is x, a - -b is a + b);
* products as a coefficient times distinct bases with exponents
  (x*x is x^2, 3*(2*x) is 6*x, x*1 is x, 0*x is 0, x^1 is x, x^0 is 1);
  x/x cancels only where x cannot be 0;
* numbers fold only when the result is exact (2*3 is 6, 1/3 stays 1/3, log(2) stays).

`to_text` prints any graph in the expression language with the fewest
parentheses that keep its meaning, down to the order of floating-point
operations, so parsing the text gives back the same function, bit for bit.
Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from . import limits, ops
from .engine import Value, apply_formula, constants_for_now, forward, topological_order, walk
from .errors import LimitError, MathError

__all__ = ["Builder", "evaluate", "grad", "gradients", "hessian", "partials", "simplify", "to_text"]

Coef = Fraction
_EXACT = 2**53  # integers up to this are exact doubles
MAX_TERMS = 64  # a sum (or product) with more distinct parts is kept as it is: collecting
MAX_FACTORS = 32  # like parts across thousands of them would cost quadratic time


def _exact(c: Fraction) -> bool:
    return abs(c.numerator) <= _EXACT and c.denominator <= _EXACT


def _writable(c: Fraction) -> bool:
    """c can be written exactly: as a double, or as p/q of two whole doubles.

    Anything else (1e16 + 1, 0.1 + 0.2, 1e308 * 10) is left as the operations that
    make it, so the printed expression computes what the graph computes.
    """
    if _exact(c):
        return True
    try:
        return float(c) == c
    except OverflowError:
        return False


def _parts(c: Fraction) -> tuple[float, float]:
    """A positive coefficient as numerator and denominator: 3/4 as (3, 4), 0.7 as (0.7, 1)."""
    if c.denominator <= 1024 and c.numerator <= _EXACT:
        return float(c.numerator), float(c.denominator)  # x/2, 3*x/4: as people write them
    if float(c) == c:
        return float(c), 1.0  # 0.7, 1e-300: the double itself
    return float(c.numerator), float(c.denominator)  # 1/3 * 0.7: an exact quotient


def _number(v: Value) -> float | None:
    """The value of an unnamed constant node (a number written as such), else None."""
    return v.data if v.is_constant and v.name is None else None


class Builder:
    """Makes simplified, shared nodes.  Use one builder for a whole derivation.

    The builder names the arithmetic operations (add, sub, mul, div, neg, pow) because its algebra is
    about sums and products: that is what it normalises.  What it knows of every other operation
    (positive, nonnegative, exact, log-like) comes from the op table's fields.
    """

    def __init__(self) -> None:
        # the nodes a derivation may build, from the `work` limit: it stops as the graphs grow, not after
        self._budget = limits.get("work") // limits.BUILD
        self._built = 0  # new nodes made, not counting the expression itself rebuilt
        self._rebuilding = False
        self._memo: dict[tuple, Value] = {}
        self._serial: dict[int, int] = {}  # when each node was first seen: a canonical order of factors
        self._nonzero: dict[int, Value] = {}  # nodes known not to be 0 where the function is defined
        self._sums: dict[int, tuple[Value, tuple[Coef, list[tuple[Value, Coef]]]]] = {}
        self._products: dict[int, tuple[Value, tuple[Coef, list[tuple[Value, Coef]]]]] = {}

    # -- raw construction, shared ------------------------------------------

    def const(self, c: float, name: str | None = None) -> Value:
        c = float(c) + 0.0  # -0.0 is 0: a derivative never prints "-0.0"
        key = ("const", repr(c), name)
        v = self._memo.get(key)
        if v is None:
            self._spend()
            v = self._memo[key] = Value.constant(c, name)
            self._serial[id(v)] = len(self._serial)
        return v

    def _make(self, op: str, args: tuple[Value, ...]) -> Value:
        key = (op, *(id(a) for a in args))
        v = self._memo.get(key)
        if v is None:
            self._spend()
            v = self._memo[key] = Value.node(op, args)
            self._serial[id(v)] = len(self._serial)
        return v

    def _spend(self) -> None:
        if self._rebuilding:
            return
        self._built += 1
        if self._built > self._budget:
            raise limits.error(
                "work",
                f"the derivatives grow past {self._budget:,} nodes ({limits.BUILD} steps each)",
                advice="ask for a lower --order, or fewer variables with --wrt",
            )

    def _rank(self, v: Value) -> tuple[int, int]:
        """Sort key of a factor: variables first, then in the order nodes were first seen."""
        return (0 if v.is_leaf else 1, self._serial.setdefault(id(v), len(self._serial)))

    def _fraction_const(self, c: Coef) -> Value:
        """A non-negative exact coefficient as a node: 3, 0.5, or 1/3 as a quotient."""
        if float(c) == c:
            return self.const(float(c))
        return self._make("div", (self.const(c.numerator), self.const(c.denominator)))

    # -- simplifying construction ------------------------------------------

    def apply(self, op: str, *args: Value) -> Value:
        """The node op(*args), simplified; a Value.apply-like signature for apply_formula."""
        numbers = [_number(a) for a in args]
        if all(n is not None for n in numbers):
            folded = self._fold(op, numbers)  # type: ignore[arg-type]
            if folded is not None:
                return folded
        args = tuple(self.const(a.data, a.name) if a.is_constant else a for a in args)
        if op == "neg":
            const, terms = self._sum(args[0])
            return self._build_sum(-const, [(t, -c) for t, c in terms])
        if op in ("add", "sub"):
            sign = 1 if op == "add" else -1
            c1, t1 = self._sum(args[0])
            c2, t2 = self._sum(args[1])
            const, terms = self._merge_terms(c1, t1, sign * c2, [(t, sign * c) for t, c in t2])
            if len(terms) > MAX_TERMS or not all(_writable(c) for c in (const, *(c for _, c in terms))):
                return self._opaque(op, args)
            return self._build_sum(const, terms)
        if op in ("mul", "div"):
            c1, f1 = self._product(args[0])
            c2, f2 = self._product(args[1])
            if op == "div":
                if c2 == 0:
                    return self._make(op, args)
                c2, f2 = 1 / c2, [(b, -k) for b, k in f2]
            factors = self._merge_factors(f1, f2)
            if len(factors) > MAX_FACTORS or not _writable(c1 * c2):
                return self._opaque(op, args)
            return self._build_product(c1 * c2, factors)
        if op == "pow":
            return self._pow(args[0], args[1])
        if op == "log" and args[0].is_constant and args[0].name == "e":
            return self.const(1.0)  # log(e), from the derivative of e^x
        return self._make(op, args)

    def _opaque(self, op: str, args: tuple[Value, ...]) -> Value:
        """A node taken as one term and one factor from now on (see MAX_TERMS)."""
        node = self._make(op, args)
        self._sums[id(node)] = (node, (Fraction(0), [(node, Fraction(1))]))
        self._products[id(node)] = (node, (Fraction(1), [(node, Fraction(1))]))
        return node

    def _fold(self, op: str, numbers: list[float]) -> Value | None:
        """A constant result when it is exact, else None (log(2) stays log(2))."""
        spec = ops.OPS[op]
        try:
            r = spec.fn(*numbers)
        except (ArithmeticError, ValueError):
            return None
        if not math.isfinite(r):
            return None
        q = [Fraction(n) for n in numbers]
        exact: Fraction | None
        if op == "add":
            exact = q[0] + q[1]
        elif op == "sub":
            exact = q[0] - q[1]
        elif op == "mul":
            exact = q[0] * q[1]
        elif op == "div":
            exact = q[0] / q[1]
        elif op == "neg":
            exact = -q[0]
        elif op == "pow":
            exact = q[0] ** int(q[1]) if q[1].denominator == 1 and abs(q[1]) < 1100 else None
        elif spec.exact:  # abs, sign, relu, max, floor: the float result is the exact one
            exact = Fraction(r)
        else:  # sqrt(4), exp(0), log(1), cos(0): whole numbers in, whole number out
            whole = all(n.is_integer() for n in numbers) and r.is_integer()
            # sqrt is checked by squaring back: sqrt of a huge whole number is whole but rounded
            exact = Fraction(r) if whole and (op != "sqrt" or r * r == numbers[0]) else None
        if exact is None or Fraction(r) != exact:
            return None
        return self.const(r)

    # sums: constant + sum of coefficient * term

    def _sum(self, v: Value) -> tuple[Coef, list[tuple[Value, Coef]]]:
        found = self._sums.get(id(v))
        if found is not None:
            return found[1]
        n = _number(v)
        if n is not None:
            result: tuple[Coef, list[tuple[Value, Coef]]] = (Fraction(n), [])
        elif v.op in ("add", "sub"):
            a, b = v.parents
            c1, t1 = self._sum(a)
            c2, t2 = self._sum(b)
            sign = 1 if v.op == "add" else -1
            result = self._merge_terms(c1, t1, sign * c2, [(t, sign * c) for t, c in t2])
        elif v.op == "neg":
            c, t = self._sum(v.parents[0])
            result = (-c, [(x, -k) for x, k in t])
        else:
            coef, factors = self._product(v)
            result = (Fraction(0), [(self._build_product(Fraction(1), factors), coef)]) if factors else (coef, [])
        self._sums[id(v)] = (v, result)  # v kept alive, so its id is never reused
        return result

    @staticmethod
    def _merge_terms(c1: Coef, t1: list, c2: Coef, t2: list) -> tuple[Coef, list[tuple[Value, Coef]]]:
        terms: dict[int, list] = {}
        for t, c in (*t1, *t2):
            slot = terms.get(id(t))
            if slot is None:
                terms[id(t)] = [t, c]
            else:
                slot[1] += c
        return c1 + c2, [(t, c) for t, c in terms.values() if c != 0]

    def _build_sum(self, const: Coef, terms: list[tuple[Value, Coef]]) -> Value:
        result = self._sum_node(const, terms)
        if id(result) not in self._sums and result.op in ("add", "sub", "neg"):
            self._sums[id(result)] = (result, (const, terms))  # so long sums never re-flatten
        return result

    def _sum_node(self, const: Coef, terms: list[tuple[Value, Coef]]) -> Value:
        terms = list(terms)
        if not terms:
            return self._coefficient(const)
        # start with a positive term when there is one: y - 2*x rather than -2*x + y, 1 - x^2
        first = next((i for i, (_, c) in enumerate(terms) if c > 0), None)
        if first is None and const > 0:
            acc, const = self._coefficient(const), Fraction(0)
        else:
            first = first or 0
            t, c = terms.pop(first)
            acc = self._scaled(t, c)
        for t, c in terms:
            acc = self._make("add" if c > 0 else "sub", (acc, self._scaled(t, abs(c))))
        if const != 0:
            acc = self._make("add" if const > 0 else "sub", (acc, self._coefficient(abs(const))))
        return acc

    def _scaled(self, t: Value, c: Coef) -> Value:
        key = ("scaled", id(t), c)
        found = self._memo.get(key)
        if found is None:
            _, factors = self._product(t)
            found = self._memo[key] = self._build_product(c, factors)
        return found

    def _coefficient(self, c: Coef) -> Value:
        if float(c) == c:
            return self.const(float(c))
        node = self._fraction_const(abs(c))
        return self._make("neg", (node,)) if c < 0 else node

    # products: coefficient * product of base^exponent

    def _product(self, v: Value) -> tuple[Coef, list[tuple[Value, Coef]]]:
        found = self._products.get(id(v))
        if found is not None:
            return found[1]
        n = _number(v)
        result: tuple[Coef, list[tuple[Value, Coef]]]
        if n is not None:
            result = (Fraction(n), [])
        elif v.op in ("mul", "div"):
            a, b = v.parents
            c1, f1 = self._product(a)
            c2, f2 = self._product(b)
            if v.op == "div":
                if c2 == 0:
                    c2, f2 = Fraction(1), [(b, Fraction(-1))]
                else:
                    c2, f2 = 1 / c2, [(x, -k) for x, k in f2]
            result = (c1 * c2, self._merge_factors(f1, f2))
        elif v.op == "neg":
            c, f = self._product(v.parents[0])
            result = (-c, f)
        elif v.op == "pow" and (k := _number(v.parents[1])) is not None:
            result = (Fraction(1), [(v.parents[0], Fraction(k))])
        else:
            result = (Fraction(1), [(v, Fraction(1))])
        self._products[id(v)] = (v, result)
        return result

    def _merge_factors(self, f1: list, f2: list) -> list[tuple[Value, Coef]]:
        out: list[list] = []
        index: dict[int, int] = {}
        for base, k in (*f1, *f2):
            i = index.get(id(base))
            if i is not None:
                k0 = out[i][1]
                # x^a * x^b = x^(a+b) always holds for exponents of one sign; across signs it
                # would remove a division by zero (x/x), so only where x cannot be 0
                if (k0 > 0) == (k > 0) or self.nonzero(base):
                    out[i][1] = k0 + k
                    continue
            index.setdefault(id(base), len(out))
            out.append([base, k])
        return [(b, k) for b, k in out if k != 0]

    def _build_product(self, coef: Coef, factors: list[tuple[Value, Coef]]) -> Value:
        result = self._product_node(coef, factors)
        if id(result) not in self._products and result.op in ("mul", "div", "neg", "pow"):
            self._products[id(result)] = (result, (coef, factors))
        return result

    def _product_node(self, coef: Coef, factors: list[tuple[Value, Coef]]) -> Value:
        if coef == 0:
            return self.const(0.0)
        if not factors:
            return self._coefficient(coef)
        coef_num, coef_den = _parts(abs(coef))
        # one order for the same factors however they came (so sin*cos and cos*sin are one term):
        # variables (and their powers) first, then the rest, as first seen
        ordered = sorted(factors, key=lambda f: self._rank(f[0]))
        num = [self._power(b, k) for b, k in ordered if k > 0]
        den = [self._power(b, -k) for b, k in ordered if k < 0]
        if coef_num != 1 or not num:
            num.insert(0, self.const(coef_num))
        if coef_den != 1:
            den.insert(0, self.const(coef_den))
        acc = num[0]
        for f in num[1:]:
            acc = self._make("mul", (acc, f))
        if den:
            d = den[0]
            for f in den[1:]:
                d = self._make("mul", (d, f))
            acc = self._make("div", (acc, d))
        return self._make("neg", (acc,)) if coef < 0 else acc

    def _power(self, base: Value, k: Coef) -> Value:
        if k == 1:
            return base
        return self._make("pow", (base, self.const(float(k))))

    def _pow(self, base: Value, exponent: Value) -> Value:
        k = _number(exponent)
        if k is None:
            if _number(base) == 1.0:
                return self.const(1.0)
            return self._make("pow", (base, exponent))
        if k == 0.0:
            return self.const(1.0)  # x^0 = 1, also at x = 0 (as math.pow has it)
        if k == 1.0:
            return base
        if k.is_integer():  # (2*x)^3 = 8*x^3, (x^2)^3 = x^6, (x/y)^2 = x^2/y^2
            coef, factors = self._product(base)
            kk = int(k)
            if factors and coef != 0 and all(e.denominator == 1 for _, e in factors) and abs(kk) < 64:
                c = coef**kk
                if _writable(c):
                    return self._build_product(c, [(b, e * kk) for b, e in factors])
        return self._make("pow", (base, exponent))

    def nonzero(self, v: Value) -> bool:
        return id(v) in self._nonzero or _nonzero(v)

    def assume_defined(self, root: Value) -> None:
        """Learn what must hold wherever root is defined: a derivative means nothing elsewhere.

        log's argument and the base of x^y (variable y) are positive, a denominator is
        not 0, nor a base with a negative exponent; so x*(1/x) from the derivative of
        x*log(x) cancels to 1.  Not used while building root itself, whose domain stays.
        """
        for node in topological_order(root):
            op, args = node.op, node.parents
            if _fact(node, "log_like"):
                self._mark_nonzero(args[0])
            elif op == "div":
                self._mark_nonzero(args[1])
            elif op == "pow" and ((k := _number(args[1])) is None or k < 0):
                self._mark_nonzero(args[0])

    def _mark_nonzero(self, v: Value) -> None:
        """v is not 0, and so neither is any factor of it (x^3 != 0 means x != 0)."""
        stack = [v]
        while stack:
            node = stack.pop()
            if id(node) in self._nonzero:
                continue
            self._nonzero[id(node)] = node
            if node.op in ("mul", "neg"):
                stack.extend(node.parents)
            elif node.op == "div" or (node.op == "pow" and _number(node.parents[1]) not in (None, 0.0)):
                stack.append(node.parents[0])  # a/b != 0 means a != 0; x^k != 0 (k != 0) means x != 0

    # -- whole graphs -------------------------------------------------------

    def rebuild(self, root: Value) -> Value:
        """The graph of root made again through this builder: simplified and shared.

        Its nodes do not count against the work budget (the expression is bounded by the `nodes` limit).
        """
        self._rebuilding = True
        try:
            return self._rebuild(root)
        finally:
            self._rebuilding = False

    def _rebuild(self, root: Value) -> Value:
        made: dict[int, Value] = {}
        for node in topological_order(root):
            if not node.parents:
                if node.is_constant:
                    made[id(node)] = self.const(node.data, node.name)
                else:
                    made[id(node)] = node  # variables stay themselves
                    self._rank(node)
            else:
                made[id(node)] = self.apply(node.op, *(made[id(p)] for p in node.parents))
        return made[id(root)]


def _nonzero(v: Value, depth: int = 0) -> bool:
    """True when v cannot be 0 wherever it is defined (a cheap, safe test, not a proof)."""
    if depth > 20:
        return False
    n = _number(v)
    if n is not None:
        return n != 0.0
    if v.is_constant:  # pi, e
        return True
    if _fact(v, "positive"):
        return True
    if v.op in ("mul", "div", "neg", "pow"):
        return _nonzero(v.parents[0], depth + 1) and (v.op != "mul" or _nonzero(v.parents[1], depth + 1))
    if v.op == "add":
        return _positive(v, depth + 1)
    return False


def _fact(v: Value, fact: str) -> bool:
    """A fact of the op table about the operation that made v (positive, nonnegative); False for leaves."""
    spec = ops.OPS.get(v.op)
    return spec is not None and getattr(spec, fact)


def _positive(v: Value, depth: int = 0) -> bool:
    if depth > 20:
        return False
    n = _number(v)
    if n is not None:
        return n > 0.0
    if _fact(v, "positive") or (v.is_constant and v.data > 0):
        return True
    if v.op == "add":
        a, b = v.parents
        d = depth + 1
        return (_positive(a, d) and _nonnegative(b, d)) or (_nonnegative(a, d) and _positive(b, d))
    if v.op in ("mul", "div"):
        return _positive(v.parents[0], depth + 1) and _positive(v.parents[1], depth + 1)
    return False


def _nonnegative(v: Value, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if _positive(v, depth + 1) or _fact(v, "nonnegative"):
        return True
    if v.op == "pow" and (k := _number(v.parents[1])) is not None and k.is_integer() and k % 2 == 0:
        return True
    if v.op == "mul":
        a, b = v.parents
        return (a is b) or (_nonnegative(a, depth + 1) and _nonnegative(b, depth + 1))
    if v.op == "add":
        return _nonnegative(v.parents[0], depth + 1) and _nonnegative(v.parents[1], depth + 1)
    return False


def simplify(root: Value, builder: Builder | None = None) -> Value:
    """The same function, with the simplifier's rules applied and common parts shared."""
    return (builder or Builder()).rebuild(root)


def gradients(output: Value, inputs: Sequence[Value], builder: Builder | None = None) -> list[Value]:
    """d output / d input for each input, as new graphs (not evaluated: data is nan).

    Reverse mode on Values: the adjoint of each node, from the output down, is a
    graph; each edge adds adjoint * (the op table's formula for that argument).
    Only nodes that lie on a path to an input are visited, and pow's exponent
    formula (which takes a log) is skipped for constant exponents, as in backward().
    """
    b = builder or Builder()
    order = topological_order(output)
    targets = {id(x) for x in inputs}
    needed: set[int] = set()
    for node in order:  # parents come first
        if id(node) in targets or any(id(p) in needed for p in node.parents):
            needed.add(id(node))
    adjoint: dict[int, Value] = {id(output): b.const(1.0)}
    for node in reversed(order):
        g = adjoint.get(id(node))
        if g is None or not node.parents:
            continue
        spec = ops.OPS[node.op]
        env = dict(zip(ops.ARG_NAMES, node.parents, strict=False)) | {ops.RESULT_NAME: node}
        for i, parent in enumerate(node.parents):
            if id(parent) not in needed:
                continue
            local = apply_formula(spec.grad_trees[i], env, b.apply)
            contribution = b.apply("mul", g, local)
            before = adjoint.get(id(parent))
            adjoint[id(parent)] = contribution if before is None else b.apply("add", before, contribution)
    return [adjoint.get(id(x), b.const(0.0)) for x in inputs]


def grad(output: Value, inputs: Sequence[Value], *, simplify_first: bool = True) -> list[Value]:
    """Like torch.autograd.grad(output, inputs, create_graph=True): derivatives as Values.

    The returned graphs are evaluated at the inputs' current data (MathError if a
    derivative is undefined there) and can be differentiated again:

        x = Value(2.0)
        y = x**3
        (dy,) = grad(y, [x])        # 3*x^2: dy.data == 12.0
        (d2y,) = grad(dy, [x])      # 6*x:   d2y.data == 12.0
    """
    b = Builder()
    root = b.rebuild(output) if simplify_first else output
    b.assume_defined(root)
    results = gradients(root, inputs, b)
    for r in results:
        evaluate(r)
    return results


def evaluate(root: Value) -> float:
    """Compute every node of a graph from its leaves (whose data must be set)."""
    forward(topological_order(root))
    return root.data


# -- printing -----------------------------------------------------------------

_ATOM, _POWER, _UNARY, _PRODUCT, _SUM = 9, 4, 3, 2, 1


def to_text(root: Value, max_length: int | None = None) -> str:
    """The expression a graph computes, in the project's syntax, with minimal parentheses.

    Parsing the text gives the same operations in the same order (so the same
    doubles), except that -(a*b) prints as -a*b, which is the same number.
    A node used in several places is printed in each (expressions have no names
    for parts); the length is checked before the text is built.  Variables made
    without a name (Value(2.0)) print as _1, _2, ... in order of appearance.
    """
    if max_length is None:
        max_length = limits.get("output")
    order = topological_order(root)
    check_length([root], max_length)
    texts: dict[int, tuple[str, int]] = {}
    unnamed = 0
    for node in order:
        if not node.parents and node.name is None and not node.is_constant:
            unnamed += 1
            texts[id(node)] = (f"_{unnamed}", _ATOM)
        else:
            texts[id(node)] = _text(node, texts)
    text = texts[id(root)][0]
    if len(text) > max_length:
        raise _too_long(f"{len(text):,}", max_length)
    return text


def printed_lengths(roots: Sequence[Value]) -> list[int]:
    """For each graph, a lower bound on the length of its text (to_text), worked out without building any text.

    Each node's bound comes from its parents' once, over all the graphs together
    (they share parts): the names and numbers, the operators and the function
    calls' commas, but no parentheses, so the text is at least that long.
    """
    length: dict[int, int] = {}
    stack = [(r, False) for r in roots]
    while stack:
        node, ready = stack.pop()
        if id(node) in length:
            continue
        if not ready and node.parents:
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if id(p) not in length)
            continue
        if not node.parents:
            if node.name is not None:
                n = len(node.name)
            elif node.is_constant:
                n = len(ops.number_text(node.data))
            else:
                n = 2  # _1
        else:
            spec = ops.OPS[node.op]
            n = sum(length[id(p)] for p in node.parents)
            if spec.symbol is None:
                n += len(spec.name) + 2 + 2 * (len(node.parents) - 1)
            elif spec.arity == 1 or node.op == "pow":
                n += 1
            else:
                n += len(spec.symbol) + (2 if spec.precedence == _SUM else 0)
        length[id(node)] = n
    return [length[id(r)] for r in roots]


def check_length(roots: Sequence[Value], max_length: int | None = None) -> None:
    """LimitError if the graphs' texts together would certainly be longer than max_length (the `output` limit)."""
    if max_length is None:
        max_length = limits.get("output")
    least = sum(printed_lengths(roots))
    if least > max_length:
        raise _too_long(f"at least {least:,}", max_length)


def _too_long(size: str, max_length: int) -> LimitError:
    return limits.error("output", f"the derivative would print {size} characters", max_length,
                        "evaluate it at a point with grad or hessian instead")


def _text(node: Value, texts: dict[int, tuple[str, int]]) -> tuple[str, int]:
    """(text, precedence) of a node, from its parents' texts."""
    if not node.parents:
        if node.name is not None:
            return node.name, _ATOM
        text = ops.number_text(node.data)
        return text, (_UNARY if text.startswith("-") else _ATOM)
    spec = ops.OPS[node.op]
    args = [texts[id(p)] for p in node.parents]
    if spec.symbol is None:
        return f"{spec.name}({', '.join(t for t, _ in args)})", _ATOM
    if spec.arity == 1:  # neg: -(a*b) and (-a)*b are the same double, so no parentheses
        text, prec = args[0]
        if prec < _PRODUCT:
            return f"-({text})", _UNARY
        return f"-{text}", min(prec, _UNARY)
    (left, lp), (right, rp) = args
    if node.op == "pow":  # the base is an atom, the exponent a factor (may be signed)
        left = left if lp == _ATOM else f"({left})"
        right = right if rp >= _UNARY else f"({right})"
        return f"{left}^{right}", _POWER
    prec = spec.precedence
    left = left if lp >= prec else f"({left})"
    right = right if rp > prec else f"({right})"
    sep = f" {spec.symbol} " if prec == _SUM else spec.symbol
    return f"{left}{sep}{right}", prec


# -- derivatives of an expression, by name ----------------------------------------

MAX_PARTIALS = 1000


def partials(
    root: Value, variables: dict[str, Value], names: Sequence[str], order: int = 1
) -> dict[tuple[str, ...], Value]:
    """Every distinct partial derivative of the given order over the named variables.

    Mixed partials commute (for the smooth functions of the table), so each
    multiset of names appears once, in the order the names were given:
    order 2 over x, y gives (x, x), (x, y), (y, y).  Each graph is simplified and
    shares its parts with the others.
    """
    if order < 1:
        raise ValueError("the order of a derivative is at least 1")
    limits.check("order", order, "the derivative's order is {size}")
    count = math.comb(len(names) + order - 1, order)
    if count > MAX_PARTIALS:
        raise LimitError(
            f"{count:,} partial derivatives of order {order} over {len(names)} variables; "
            f"at most {MAX_PARTIALS:,} are printed (name fewer variables with --wrt)"
        )
    b = Builder()
    level: dict[tuple[int, ...], Value] = {(): b.rebuild(root)}
    b.assume_defined(level[()])
    for _ in range(order):
        following: dict[tuple[int, ...], Value] = {}
        for key, graph in level.items():
            start = key[-1] if key else 0  # only non-decreasing index tuples: each multiset once
            leaves = [variables[n] for n in names[start:]]
            for offset, d in enumerate(gradients(graph, leaves, b)):
                following[(*key, start + offset)] = d
        level = following
    return {tuple(names[i] for i in key): graph for key, graph in level.items()}


def count_nodes(roots: Sequence[Value]) -> int:
    """The nodes of several graphs together (shared parts once)."""
    return sum(1 for _ in walk(*roots))


def hessian(
    root: Value, variables: dict[str, Value], names: Sequence[str]
) -> list[list[float]]:
    """The matrix of second partials at the point held by the leaves (their data set, graph computed).

    Reverse over reverse: the first derivatives are graphs (gradients()); each is
    computed at the point and run through the fast float backward() for its row.
    The matrix is made exactly symmetric from its upper triangle.
    """
    b = Builder()
    leaves = [variables[n] for n in names]
    rebuilt = b.rebuild(root)
    b.assume_defined(rebuilt)
    firsts = gradients(rebuilt, leaves, b)
    n = len(names)
    size = count_nodes(firsts)  # each row evaluates and runs backward over (part of) these
    limits.check_work(
        n * size * (limits.EVALUATE + limits.BACKWARD),
        f"the Hessian is {n:,} passes over first derivatives of {size:,} nodes",
        "name fewer variables with --wrt",
    )
    matrix = [[0.0] * n for _ in range(n)]
    others = [leaf for name, leaf in variables.items() if name not in names]
    for i, first in enumerate(firsts):
        try:
            evaluate(first)
            for leaf in leaves:
                leaf.grad = -0.0  # IEEE's additive identity: a second derivative of -0.0 keeps its sign
            reached = {id(node) for node in topological_order(first)}
            with constants_for_now(others):  # only the named variables: the others are numbers here
                first.backward()
        except MathError as error:
            raise MathError(error.op, f"no second derivative with respect to {names[i]}: {error.message}") from None
        for j in range(i, n):
            g = leaves[j].grad if id(leaves[j]) in reached else 0.0  # not reached: the derivative is 0
            if not math.isfinite(g):
                raise MathError("backward", f"overflow: a second derivative ({names[i]}, {names[j]}) is too large")
            matrix[i][j] = matrix[j][i] = g
    for leaf in leaves:
        leaf.grad = 0.0
    return matrix
