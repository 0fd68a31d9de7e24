"""The entries of the op table (ops.py says what each field means).

One entry per operation: adding a function is adding an entry here, with its
reference values in tests/test_ops.py.  Forwards are Python over x and y that may
call math and the table's functions; derivative rules are formulas over x, y and
out.  Where a rule has no value at a kink, the note (and, where a limit gives one,
the convention) says what happens; PyTorch's choice is followed where it has one.
"""

from __future__ import annotations

import math

from .ops import Op

_SQRT1_2 = "0.7071067811865476"  # 1 / sqrt(2)
_TWO_OVER_SQRT_PI = "1.1283791670955126"  # 2 / sqrt(pi): erf'(x) = 2/sqrt(pi) e^(-x^2)
_ONE_OVER_SQRT_2PI = "0.3989422804014327"  # 1 / sqrt(2 pi): the normal density at 0

TABLE: list[Op] = [
    # arithmetic: the grammar's operators use these names as their aliases
    Op("add", 2, "x + y", ("1", "1"), "addition", symbol="+", precedence=1, keeps_inf=True),
    Op("sub", 2, "x - y", ("1", "-1"), "subtraction", symbol="-", precedence=1, keeps_inf=True),
    Op("mul", 2, "x * y", ("y", "x"), "multiplication", symbol="*", precedence=2, keeps_inf=True),
    Op(
        "div", 2, "x / y", ("1 / y", "-out / y"), "division; y = 0 is an error",
        symbol="/", precedence=2, roles=("numerator", "denominator"),
        domain=(("y == 0", "division by zero: {x} / {y}"),),
    ),
    Op("neg", 1, "-x", ("-1",), "negation", symbol="-", precedence=3, keeps_inf=True),
    Op(
        "pow", 2, "math.pow(x, y)", ("y * x ** (y - 1)", "out * log(x)"),
        "power x^y (also x**y and pow(x, y)); right-associative, binds tighter than unary minus",
        symbol="^", precedence=4, right_assoc=True, lazy=(1,), roles=("base", "exponent"),
        domain=(
            ("x == 0 and y < 0", "0^{yw} is undefined: zero to a negative power"),
            ("x < 0 and not whole(y)", "{call} is undefined: a negative base needs a whole exponent"),
        ),
        note="a negative base needs a whole exponent; the exponent's derivative needs x > 0, except that "
        "d/dy = 0 at x = 0 for y >= 0 (0^y is 0 for y > 0) and d/dx = 0 for y = 0 (x^0 is 1), as in PyTorch",
        conventions=((0, "y == 0", 0.0), (1, "x == 0 and y >= 0", 0.0)),
    ),
    # exponentials and logarithms
    Op("exp", 1, "math.exp(x)", ("out",), "e to the power x", positive=True),
    Op("expm1", 1, "math.expm1(x)", ("exp(x)",), "e^x - 1, exact for small x (expm1(1e-20) is 1e-20)"),
    Op(
        "log", 1, "math.log(x)", ("1 / x",), "natural logarithm (also ln); log(x, b) is log(x) / log(b)",
        aliases=("ln",), spellings=((2, "log(x) / log(y)"),), log_like=True, keeps_inf=True,
        domain=(("not x > 0", "{call} is undefined: log needs a positive number"),),
    ),
    Op(
        "log2", 1, "math.log2(x)", ("1 / log(2) / x",), "base-2 logarithm", log_like=True, keeps_inf=True,
        domain=(("not x > 0", "{call} is undefined: log2 needs a positive number"),),
    ),
    Op(
        "log10", 1, "math.log10(x)", ("1 / log(10) / x",), "base-10 logarithm (also lg, as ISO 80000-2 writes it)",
        aliases=("lg",), log_like=True, keeps_inf=True,
        domain=(("not x > 0", "{call} is undefined: log10 needs a positive number"),),
    ),
    Op(
        "log1p", 1, "math.log1p(x)", ("1 / (1 + x)",), "log(1 + x), exact for small x (log1p(1e-20) is 1e-20)",
        keeps_inf=True, domain=(("not x > -1", "{call} is undefined: log1p needs a number above -1"),),
    ),
    Op(
        "sqrt", 1, "math.sqrt(x)", ("1 / (2 * out)",), "square root", note="no derivative at 0",
        nonnegative=True, keeps_inf=True,
        domain=(("x < 0", "{call} is undefined: sqrt needs a number that is not negative"),),
    ),
    Op("cbrt", 1, "math.cbrt(x)", ("1 / (3 * out * out)",), "cube root, negative for x < 0",
       note="no derivative at 0", keeps_inf=True),
    Op("hypot", 2, "math.hypot(x, y)", ("x / out", "y / out"), "sqrt(x^2 + y^2) without overflow",
       nonnegative=True, note="no derivative at (0, 0)"),
    # trigonometry (radians)
    Op("sin", 1, "math.sin(x)", ("cos(x)",), "sine (radians)", keeps_inf=True),
    Op("cos", 1, "math.cos(x)", ("-sin(x)",), "cosine (radians)", keeps_inf=True),
    Op("tan", 1, "math.tan(x)", ("1 / cos(x) ** 2",), "tangent (radians)", keeps_inf=True),
    Op("sec", 1, "1.0 / math.cos(x)", ("out * tan(x)",), "secant, 1/cos(x)"),
    Op(
        "csc", 1, "1.0 / math.sin(x)", ("-out * cot(x)",), "cosecant, 1/sin(x)",
        domain=(("x == 0", "{call} is undefined: csc needs sin(x) to be nonzero"),),
    ),
    Op(
        "cot", 1, "1.0 / math.tan(x)", ("-1 - out * out",), "cotangent, 1/tan(x)",
        domain=(("x == 0", "{call} is undefined: cot needs tan(x) to be nonzero"),),
    ),
    Op(
        "asin", 1, "math.asin(x)", ("1 / sqrt((1 - x) * (1 + x))",), "inverse sine (also arcsin)",
        note="no derivative at -1 and 1", aliases=("arcsin",), keeps_inf=True,
        domain=(("not -1 <= x <= 1", "{call} is undefined: asin needs a number in [-1, 1]"),),
    ),
    Op(
        "acos", 1, "math.acos(x)", ("-1 / sqrt((1 - x) * (1 + x))",), "inverse cosine (also arccos)",
        note="no derivative at -1 and 1", aliases=("arccos",), keeps_inf=True,
        domain=(("not -1 <= x <= 1", "{call} is undefined: acos needs a number in [-1, 1]"),),
    ),
    # 1 / (1 + x^2), each division by hypot(1, x), which never overflows: 1 + x * x would past |x| = 1.3e154
    Op("atan", 1, "math.atan(x)", ("1 / hypot(1, x) / hypot(1, x)",), "inverse tangent (also arctan)",
       aliases=("arctan",)),
    Op(
        "atan2", 2, "math.atan2(x, y)", ("y / hypot(x, y) / hypot(x, y)", "-x / hypot(x, y) / hypot(x, y)"),
        "the angle of the point whose y coordinate is the first argument and x coordinate the second, "
        "in [-pi, pi], as C's atan2(y, x)",
        roles=("y coordinate", "x coordinate"), note="no derivative at (0, 0)",
    ),
    # hyperbolic functions
    Op("sinh", 1, "math.sinh(x)", ("cosh(x)",), "hyperbolic sine", keeps_inf=True),
    Op("cosh", 1, "math.cosh(x)", ("sinh(x)",), "hyperbolic cosine", positive=True, keeps_inf=True),
    Op(
        "tanh", 1, "math.tanh(x)", ("sech(x) ** 2",), "hyperbolic tangent",
        note="derivative as sech(x)^2, not 1 - tanh(x)^2, which cancels to 0 for |x| > 19",
    ),
    Op(
        "sech", 1,
        """
        t = math.exp(-abs(x))
        return 2.0 * t / (1.0 + t * t)
        """,  # 2 / (e^x + e^-x), written with e^-|x| so that it never overflows
        ("-out * tanh(x)",), "hyperbolic secant, 1/cosh(x), without overflow", positive=True,
        # derivative code may use 1/cosh (a call and a division, within 4 ulps of tanh's derivative); cosh
        # overflows past |u| = 710.47, where sech(u) is 2 e^-|u| to the last bit
        derivative_form=("1.0 / _f_cosh(__x__)", "2.0 * _f_exp(-abs(__x__))"),
    ),
    Op("asinh", 1, "math.asinh(x)", ("1 / hypot(x, 1)",), "inverse hyperbolic sine (also arsinh)",
       aliases=("arsinh",), keeps_inf=True),
    Op(
        "acosh", 1, "math.acosh(x)", ("1 / sqrt(x - 1) / sqrt(x + 1)",), "inverse hyperbolic cosine (also arcosh)",
        aliases=("arcosh",), note="no derivative at 1", nonnegative=True, keeps_inf=True,
        domain=(("not x >= 1", "{call} is undefined: acosh needs a number that is at least 1"),),
    ),
    Op(
        "atanh", 1, "math.atanh(x)", ("1 / ((1 - x) * (1 + x))",), "inverse hyperbolic tangent (also artanh)",
        aliases=("artanh",), domain=(("not -1 < x < 1", "{call} is undefined: atanh needs a number in (-1, 1)"),),
    ),
    # the normal distribution
    Op("erf", 1, "math.erf(x)", (f"{_TWO_OVER_SQRT_PI} * exp(-x * x)",), "error function"),
    Op(
        "erfc", 1, "math.erfc(x)", (f"-{_TWO_OVER_SQRT_PI} * exp(-x * x)",),
        "complementary error function 1 - erf(x), with its digits in the tail (erfc(10) is 2.09e-45)",
        positive=True,
    ),
    # activation functions
    Op(
        "sigmoid", 1,
        """
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        t = math.exp(x)
        return t / (1.0 + t)
        """,  # two branches so that exp never overflows and sigmoid(-40) keeps its digits
        ("out * sigmoid(-x)",), "logistic function 1/(1 + e^-x)", positive=True,
        note="derivative as sigmoid(x)*sigmoid(-x), accurate at both tails",
    ),
    Op(
        "softplus", 1, "max(x, 0.0) + math.log1p(math.exp(-abs(x)))",  # no overflow, no lost digits
        ("sigmoid(x)",), "log(1 + e^x), computed without overflow", positive=True,
    ),
    Op("relu", 1, "x if x > 0.0 else 0.0", ("step(x)",), "max(x, 0)", note="relu'(0) = 0, as in PyTorch",
       nonnegative=True, exact=True),
    Op(
        "leaky_relu", 2, "x if x > 0.0 else y * x", ("step(x) + (1 - step(x)) * y", "x - relu(x)"),
        "x for x > 0, else slope * x; leaky_relu(x) has slope 0.01, as in PyTorch",
        spellings=((1, "leaky_relu(x, 0.01)"),), roles=("argument", "slope"),
        note="the derivative at 0 is the slope, as in PyTorch",
    ),
    # the derivative as e^min(x, 0): out + 1 would cancel to 0 past x = -37 (expm1(-40) + 1)
    Op("elu", 1, "x if x > 0.0 else math.expm1(x)", ("exp(min(x, 0))",), "x for x > 0, else e^x - 1 (alpha 1)",
       note="elu'(0) = 1, as in PyTorch"),
    Op("silu", 1, "x * sigmoid(x)", ("sigmoid(x) * (1 + x * sigmoid(-x))",), "x * sigmoid(x) (also called swish)"),
    Op(
        "gelu", 1, f"0.5 * x * math.erfc(-x * {_SQRT1_2})",
        (f"0.5 * erfc(-x * {_SQRT1_2}) + {_ONE_OVER_SQRT_2PI} * x * exp(-0.5 * x * x)",),
        "x * Phi(x), Phi the normal distribution (PyTorch's exact form), through erfc to keep the left tail",
    ),
    Op("softsign", 1, "x / (1.0 + abs(x))", ("1 / (1 + abs(x)) / (1 + abs(x))",), "x / (1 + |x|)"),
    # piecewise functions
    Op("abs", 1, "math.fabs(x)", ("sign(x)",), "absolute value", note="abs'(0) = 0, as in PyTorch",
       nonnegative=True, exact=True, keeps_inf=True),
    Op("sign", 1, "1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)", ("0",), "-1, 0 or 1",
       note="derivative 0 everywhere, as in PyTorch", exact=True),
    Op("step", 1, "1.0 if x > 0.0 else 0.0", ("0",), "Heaviside step: 1 for x > 0, else 0",
       note="derivative 0 everywhere", nonnegative=True, exact=True),
    Op("floor", 1, "float(math.floor(x))", ("0",), "the largest whole number <= x",
       note="derivative 0 everywhere, as in PyTorch", exact=True, keeps_inf=True),
    Op("ceil", 1, "float(math.ceil(x))", ("0",), "the smallest whole number >= x",
       note="derivative 0 everywhere, as in PyTorch", exact=True, keeps_inf=True),
    Op(
        "max", 2, "x if x >= y else y", ("(1 + sign(x - y)) / 2", "(1 - sign(x - y)) / 2"),
        "the larger argument; max(a, b, c) is max(max(a, b), c)", exact=True,
        variadic=True, note="a tie of two splits the gradient evenly, as in PyTorch (folded pairwise beyond two)",
    ),
    Op(
        "min", 2, "x if x <= y else y", ("(1 - sign(x - y)) / 2", "(1 + sign(x - y)) / 2"),
        "the smaller argument; min(a, b, c) is min(min(a, b), c)", exact=True,
        variadic=True, note="a tie of two splits the gradient evenly, as in PyTorch (folded pairwise beyond two)",
    ),
]

# Named constants of the grammar.  They print by name and cannot be bound.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
