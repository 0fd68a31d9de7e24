"""Which parser an expression needs: the scalar one (as always) or the tensor language.

Standard library only, and cheap: the command line asks this on every run, before it
loads anything, so that a scalar expression with scalar bindings never loads the tensor
code, NumPy or the tensor parser (tests/test_startup.py).  A yes when in doubt costs only
speed (the tensor language runs every scalar expression too, with 0-d tensors); a no
for tensor syntax would send it to the scalar parser, which refuses it clearly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["TENSOR_FUNCTIONS", "wants_tensors"]

# The functions only the tensor language has (max, min and the op table's functions are in both)
TENSOR_FUNCTIONS = frozenset({
    "sum", "mean", "prod", "dot", "outer", "norm", "trace", "softmax", "log_softmax", "logsumexp", "reshape",
    "concat", "stack", "where", "det", "inv", "logdet", "T",
})

# Patterns compiled on first use, not on import
_CALL = (r"(?<![\w.])(sum|mean|prod|dot|outer|norm|trace|softmax|log_softmax|logsumexp|reshape|concat|stack|where"
         r"|det|inv|logdet|T)\s*\(")
# x.T, (a+b).T, x[0].T, 7 .T, 2.5.T: every '.T' but the one in 2.T, which is 2. times T (a number directly
# before a name multiplies it; the lexer takes "2." as the number)
_TRANSPOSE = r"\.T(?!\w)"
_NOT_TRANSPOSE = r"(?<![\w.])\d+\.T(?!\w)"
# a name then '=' (not '=='), as in axis=0
_KEYWORD = r"[^\W\d]\w*\s*=(?!=)"


def wants_tensors(text: str, values: Mapping[str, str]) -> bool:
    """True when the expression or a binding needs the tensor language.

    The expression: an array literal or indexing ('['), '@', a transpose (x.T), a keyword
    argument inside a call (sum(A, axis=0)), or a call of a tensor-only function (sum, mean,
    ..., det, T).  A binding: an array ('[...') or a file or stdin ('@...').
    """
    for value in values.values():
        head = value.lstrip()[:1]
        if head == "[" or head == "@":
            return True
    if "[" in text or "@" in text:
        return True
    if ".T" in text and len(re.findall(_TRANSPOSE, text)) > len(re.findall(_NOT_TRANSPOSE, text)):
        return True
    if "=" in text and _keyword_in_call(text):
        return True
    return "(" in text and re.search(_CALL, text) is not None


def _keyword_in_call(text: str) -> bool:
    """A name followed by '=' inside parentheses: a keyword argument (y = x^2 at the top is an equation)."""
    for found in re.finditer(_KEYWORD, text):
        before = text[: found.start()]
        if before.count("(") > before.count(")"):
            return True
    return False
