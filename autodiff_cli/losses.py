"""Losses built from Values, each the mean over a batch, written so that nothing overflows.

Standard library and the engine only.  Predictions are Values (or lists of Values
for several classes); targets are plain numbers.

- mse(preds, targets): mean of (p - t)^2
- hinge(scores, labels): mean of relu(1 - y * s), labels -1 or +1 (micrograd's demo)
- bce_with_logits(logits, labels): binary cross-entropy of sigmoid(z), labels in [0, 1], via softplus
- cross_entropy(logits, classes): softmax cross-entropy over several classes, via log-sum-exp
- l2(params, alpha): alpha * sum of p^2, to add to any of them
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .engine import Value

__all__ = ["bce_with_logits", "cross_entropy", "hinge", "l2", "log_softmax", "mse", "softmax"]


def _mean(terms: list[Value]) -> Value:
    if not terms:
        raise ValueError("a loss needs at least one example")
    return sum(terms[1:], terms[0]) * (1.0 / len(terms))


def _pairs(preds: Sequence, targets: Sequence) -> Iterable[tuple]:
    if len(preds) != len(targets):
        raise ValueError(f"{len(preds)} predictions but {len(targets)} targets")
    return zip(preds, targets, strict=True)


def mse(preds: Sequence[Value], targets: Sequence[float]) -> Value:
    """Mean squared error: mean of (p - t)^2."""
    return _mean([(p - t) * (p - t) for p, t in _pairs(preds, targets)])


def hinge(scores: Sequence[Value], labels: Sequence[float]) -> Value:
    """The max-margin loss of micrograd's demo: mean of relu(1 - y * s), with labels -1 and +1."""
    for y in labels:
        if y not in (-1, 1):
            raise ValueError(f"hinge labels are -1 and +1, not {y!r}")
    return _mean([(1.0 - y * s).relu() for s, y in _pairs(scores, labels)])


def bce_with_logits(logits: Sequence[Value], labels: Sequence[float]) -> Value:
    """Binary cross-entropy of sigmoid(z) against labels in [0, 1], from the logits z.

    -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] = softplus(z) - y z, and softplus
    never overflows: no sigmoid is ever rounded to 0 or 1 and then logged.  For the
    labels 0 and 1 the same loss is softplus(z) and softplus(-z).
    """
    terms = []
    for z, y in _pairs(logits, labels):
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"binary cross-entropy labels are in [0, 1], not {y!r}")
        if y == 1:
            terms.append((-z).softplus())
        elif y == 0:
            terms.append(z.softplus())
        else:
            terms.append(z.softplus() - y * z)
    return _mean(terms)


def log_softmax(logits: Sequence[Value]) -> list[Value]:
    """log(softmax(z))_i = z_i - logsumexp(z), with the largest z subtracted first.

    The shift m is a plain number: logsumexp(z) = m + log(sum exp(z_j - m)) for any m,
    so its gradient (softmax) does not depend on it, and with m = max(z) no exp
    overflows and the sum is at least 1.
    """
    if not logits:
        raise ValueError("softmax needs at least one logit")
    m = max(z.data for z in logits)
    shifted = [z - m for z in logits]
    exps = [s.exp() for s in shifted]
    log_sum = sum(exps[1:], exps[0]).log()
    return [s - log_sum for s in shifted]


def softmax(logits: Sequence[Value]) -> list[Value]:
    """exp(z_i) / sum exp(z_j), computed as exp(z_i - max z) / sum exp(z_j - max z)."""
    if not logits:
        raise ValueError("softmax needs at least one logit")
    m = max(z.data for z in logits)
    exps = [(z - m).exp() for z in logits]
    total = sum(exps[1:], exps[0])
    return [e / total for e in exps]


def cross_entropy(logits: Sequence[Sequence[Value]], classes: Sequence[int]) -> Value:
    """Softmax cross-entropy: mean of -log_softmax(z)[c], for each example's logits z and class c."""
    terms = []
    for z, c in _pairs(logits, classes):
        if not (isinstance(c, int) and 0 <= c < len(z)):
            raise ValueError(f"class {c!r} is not an index into {len(z)} logits")
        terms.append(-log_softmax(z)[c])
    return _mean(terms)


def l2(params: Iterable[Value], alpha: float) -> Value:
    """L2 regularisation: alpha * sum of p^2 over the parameters."""
    params = list(params)
    if not params:
        return Value.constant(0.0)
    squares = [p * p for p in params]
    return sum(squares[1:], squares[0]) * alpha

