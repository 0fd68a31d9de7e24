"""The notation people type, beyond the grammar's core: names, superscripts, other spellings.

Standard library only (the command line reads bindings with it before lark is loaded):
which text is a variable name, what a superscript exponent is worth, the aliases of
the op table's functions, and the "did you mean" suggestions for an unknown function,
which name only the same function under another spelling or a plain typo of one.
"""

from __future__ import annotations

import functools
import re

from . import ops

# Superscript digits and signs: x² is x^2, x⁻¹ is x^-1.  (Their code points are scattered:
# ¹²³ come from Latin-1, the others from the superscripts block.)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")
SUPERSCRIPT_CHARACTERS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻"

# A variable name, as the grammar's NAME reads it: a letter (Unicode letters too), then letters,
# digits, subscript digits (x₁, θ₀) and underscores; never a superscript digit, which is a power.
# Keep in step with NAME in grammars/expression.lark.
NAME_PATTERN = r"[^\W\d\u00b2\u00b3\u00b9\u2070-\u209f][^\W\u00b2\u00b3\u00b9\u2070-\u207e]*"


@functools.cache
def name_regex() -> re.Pattern[str]:
    """NAME_PATTERN compiled, on first use: its classes of non-Latin-1 characters cost a one-shot
    command about a millisecond to compile, so is_name does without it."""
    return re.compile(NAME_PATTERN)


# is_name's character classes, the same sets as NAME_PATTERN's (\w is str.isalnum() or '_', \d
# str.isdecimal(), as Python's re defines them for str patterns; test_notation checks every character)
_NOT_FIRST = frozenset("\u00b2\u00b3\u00b9" + "".join(map(chr, range(0x2070, 0x20A0))))
_NOT_NEXT = frozenset("\u00b2\u00b3\u00b9" + "".join(map(chr, range(0x2070, 0x207F))))

# Other spellings of constants: π is pi (PI is not: names are case-sensitive, and PI may be a variable).
CONSTANT_SPELLINGS: dict[str, str] = {"π": "pi"}


def is_name(text: str) -> bool:
    """Whether text is a variable name the grammar reads as one (so that it can be bound).

    The same answer as name_regex().fullmatch(text), without compiling it."""
    if not text or text[0].isdecimal() or text[0] in _NOT_FIRST:
        return False
    return all((ch.isalnum() or ch == "_") and ch not in _NOT_NEXT for ch in text)


def superscript_value(text: str) -> float:
    """The exponent a run of superscript characters stands for: '²' is 2, '⁻¹' is -1."""
    return float(text.translate(_SUPERSCRIPTS))


def aliases() -> dict[str, str]:
    """Other spellings of the table's functions, read from the table: {'ln': 'log', ...}."""
    return dict(ops.ALIASES)


def function_name(name: str) -> str | None:
    """The op table's name for a function spelt `name` (its own name or an alias), else None."""
    op = ops.lookup(name)
    return None if op is None else op.name


# Same functions under names the table does not take: suggested, never read silently.  A target
# the table lacks (asinh, before it is added) is simply not suggested.
OTHER_SPELLINGS: dict[str, str] = {
    "sgn": "sign", "signum": "sign", "heaviside": "step", "fabs": "abs", "logistic": "sigmoid",
    "power": "pow", "maximum": "max", "minimum": "min", "lb": "log2", "ld": "log2",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "arsh": "asinh", "arch": "acosh", "arth": "atanh",
    "sine": "sin", "cosine": "cos", "tangent": "tan", "squareroot": "sqrt",
}

# Functions of mathematics that are not the table's and sit one keystroke from one of its names
# (sec and sech, cot and cos, elu and relu): never "corrected" into a different function.
DIFFERENT_FUNCTIONS = frozenset(
    "sec csc cot coth csch asec acsc acot asech acsch acoth arcsec arccsc arccot arsech arcsch arcoth "
    "asinh acosh atanh arsinh arcosh artanh sinc cbrt sqr square exp2 expm1 expi log1p erf erfc gamma lgamma "
    "beta floor ceil round trunc mod fmod hypot atan2 elu selu gelu silu celu swish mish softmax logit sn cn".split()
)


def suggestion(name: str) -> str:
    """The hint for an unknown function `name`: '(did you mean sin?)', or a pointer to the list."""
    spellings = {n: n for n in ops.FUNCTIONS} | {a: f for a, f in aliases().items() if f in ops.FUNCTIONS}
    if name.lower() in spellings and name not in spellings:
        return f" (names are case-sensitive: did you mean {name.lower()}?)"
    target = OTHER_SPELLINGS.get(name) or OTHER_SPELLINGS.get(name.lower())
    if target in ops.FUNCTIONS:
        return f" (did you mean {target}? {target} is the same function)"
    if (base := re.fullmatch(r"log_?(\d+)", name)) and ops.sugar_tree("log", 2) is not None:
        return f" (for the base-{base.group(1)} logarithm write log(x, {base.group(1)}))"
    if name in DIFFERENT_FUNCTIONS or name.lower() in DIFFERENT_FUNCTIONS or len(name) < 3:
        return " (autodiff functions lists the functions there are)"
    guess = _typo_of(name, spellings)
    if guess is not None:
        return f" (did you mean {guess}?)"
    return " (autodiff functions lists the functions there are)"


def _typo_of(name: str, spellings: dict[str, str]) -> str | None:
    """The one spelling that `name` is a plain typo of (a key doubled, dropped, swapped or hit beside
    another), or None when there is none or more than one, or when the difference carries meaning:
    an h more or less (sin, sinh), an a in front (sin, asin), a digit (log2, log10)."""
    found: dict[int, set[str]] = {}
    for spelling in spellings:
        kind = _edit(name, spelling)
        if kind is None or _meaningful(name, spelling):
            continue
        found.setdefault(kind, set()).add(spelling)
    for kind in sorted(found):
        if len(found[kind]) == 1:
            return found[kind].pop()
        return None  # several equally close: no guess
    return None


def _edit(typed: str, spelling: str) -> int | None:
    """How `typed` differs from `spelling` by one keystroke, ranked (0 best: a doubled key), or None."""
    if typed == spelling:
        return None
    if len(typed) == len(spelling) + 1:  # a key too many: doubled (sinn) or stray (sixn)
        dropped = [i for i in range(len(typed)) if typed[:i] + typed[i + 1 :] == spelling]
        if not dropped:
            return None
        return 0 if any(i > 0 and typed[i] == typed[i - 1] for i in dropped) else 2
    if len(typed) == len(spelling) - 1:  # a key dropped (sqr is in DIFFERENT_FUNCTIONS: sqrt stays safe)
        return 2 if any(spelling[:i] + spelling[i + 1 :] == typed for i in range(len(spelling))) else None
    if len(typed) == len(spelling):
        diff = [i for i in range(len(typed)) if typed[i] != spelling[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == spelling[diff[1]] \
                and typed[diff[1]] == spelling[diff[0]]:
            return 1  # two keys swapped: tnah
        if len(diff) == 1:
            return 2  # one key for another
    return None


def _meaningful(typed: str, spelling: str) -> bool:
    """Whether the one-key difference changes the function: an h (hyperbolic), an a (inverse), a digit."""
    if typed + "h" == spelling or (spelling + "h" == typed and not spelling.endswith("h")):
        return True
    if typed == "a" + spelling or (spelling == "a" + typed and not typed.startswith("a")):
        return True
    return [c for c in typed if c.isdigit()] != [c for c in spelling if c.isdigit()]
