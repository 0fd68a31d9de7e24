"""The simplifier: a Builder that simplifies as it builds and shares equal nodes.

Every node of a derivative is made through a `Builder`, which gives the same node
for the same structure (hash-consing), so no work is done twice:

* sums are kept as a constant plus distinct terms with coefficients
  (x + x is 2*x, x - x is 0, x + 0 is x, a - -b is a + b);
* products as a coefficient times distinct bases with exponents
  (x*x is x^2, 3*(2*x) is 6*x, x*1 is x, 0*x is 0, x^1 is x, x^0 is 1);
  x/x cancels only where x cannot be 0;
* numbers fold only when the result is exact (2*3 is 6, 1/3 stays 1/3, log(2) stays: exact.py).

Standard library only.
"""

from __future__ import annotations

from fractions import Fraction

from . import limits
from .engine import Value, topological_order
from .exact import fold, parts, writable
from .signs import fact, nonzero
from .signs import number as _number

__all__ = ["MAX_FACTORS", "MAX_TERMS", "Builder", "simplify"]

Coef = Fraction
MAX_TERMS = 64  # a sum (or product) with more distinct parts is kept as it is: collecting
MAX_FACTORS = 32  # like parts across thousands of them would cost quadratic time


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
            if len(terms) > MAX_TERMS or not all(writable(c) for c in (const, *(c for _, c in terms))):
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
            if len(factors) > MAX_FACTORS or not writable(c1 * c2):
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
        r = fold(op, numbers)
        return None if r is None else self.const(r)

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
        coef_num, coef_den = parts(abs(coef))
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
                if writable(c):
                    return self._build_product(c, [(b, e * kk) for b, e in factors])
        return self._make("pow", (base, exponent))

    def nonzero(self, v: Value) -> bool:
        return id(v) in self._nonzero or nonzero(v)

    def assume_defined(self, root: Value) -> None:
        """Learn what must hold wherever root is defined: a derivative means nothing elsewhere.

        log's argument and the base of x^y (variable y) are positive, a denominator is
        not 0, nor a base with a negative exponent; so x*(1/x) from the derivative of
        x*log(x) cancels to 1.  Not used while building root itself, whose domain stays.
        """
        for node in topological_order(root):
            op, args = node.op, node.parents
            if fact(node, "log_like"):
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


def simplify(root: Value, builder: Builder | None = None) -> Value:
    """The same function, with the simplifier's rules applied and common parts shared."""
    return (builder or Builder()).rebuild(root)
