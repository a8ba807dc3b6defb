"""Small numerical pieces of training: naive-Bayes weights, a bounded logistic regression, and
threshold search. Pure Python; every problem here has a handful of parameters.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from operator import mul
from typing import Optional

ALPHA = 0.3
KEEP_WEIGHTS = 100
ETA = 4.0  # the first step of fit_softmax (0.5 to 8 cross-validated by log loss)
SKIP_GRADIENT = 1e-3  # and the smallest gradient of a class it follows


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def heaviest(q: Mapping[str, float], keep: int = KEEP_WEIGHTS) -> set[str]:
    """The features of ``q`` that :func:`log_ratio` considers beside the positives' own: a caller
    that scores many tags against one sum finds them once (a scan of the whole vocabulary)."""
    return {f for f, _ in heapq.nlargest(4 * keep, q.items(), key=lambda item: item[1])}


def log_ratio(p: Mapping[str, float], q: Mapping[str, float], vocab_size: int, keep: int = KEEP_WEIGHTS, minus: Sequence[Mapping[str, float]] = (), heavy: Optional[set[str]] = None) -> dict[str, float]:
    """Naive-Bayes log-count ratio per feature from summed positive (``p``) and negative vectors,
    pruned to the ``keep`` strongest. The negatives are ``q`` minus each of ``minus`` (so that
    callers need not copy large sums); only features of ``p`` and the heaviest of ``q``
    (``heavy``, found here unless given) can make the cut, so only those are computed."""
    q_get = q.get
    gets = [d.get for d in minus]

    def negative(f: str) -> float:
        taken = 0.0
        for get in gets:
            taken += get(f, 0.0)
        n = q_get(f, 0.0) - taken
        return n if n > 0.0 else 0.0

    p_total = ALPHA * vocab_size + sum(p.values())
    q_total = ALPHA * vocab_size + max(sum(q.values()) - sum(sum(d.values()) for d in minus), 0.0)
    shift = math.log(q_total / p_total)
    log = math.log
    p_get = p.get
    candidates = set(p) | (heaviest(q, keep) if heavy is None else heavy)
    ratio = [(abs(r), f, r) for f in candidates for r in (log((p_get(f, 0.0) + ALPHA) / (negative(f) + ALPHA)) + shift,)]
    return {f: round(r, 4) for _, f, r in heapq.nlargest(keep, ratio)}


def add_into(total: dict[str, float], vector: Mapping[str, float], scale: float = 1.0) -> None:
    get = total.get
    if scale == 1.0:
        for f, v in vector.items():
            total[f] = get(f, 0.0) + v
    else:
        for f, v in vector.items():
            total[f] = get(f, 0.0) + scale * v


def dot(weights: Mapping[str, float], vector: Mapping[str, float]) -> float:
    get = weights.get
    return sum([v * get(f, 0.0) for f, v in vector.items()])


def fit_logistic(
    rows: Sequence[Sequence[float]],
    labels: Sequence[int],
    *,
    weights: Optional[Sequence[float]] = None,
    l2: float = 0.3,
    center: Optional[Sequence[float]] = None,
    nonnegative: Iterable[int] = (),
    smooth: bool = True,
) -> list[float]:
    """Logistic regression (coefficients, then intercept) by Newton's method.

    The L2 penalty pulls coefficients towards ``center`` (zeros by default): a tag with few
    papers stays close to what all tags share. Coefficients listed in ``nonnegative`` are kept
    at or above zero (a score that points to a tag never counts against it): any that would go
    negative is fixed at zero and the rest refitted. Platt's smoothed targets avoid certainty
    from a handful of examples.
    """
    k = len(rows[0]) if rows else 0
    sample = list(weights) if weights is not None else [1.0] * len(rows)
    pos = sum(w for w, y in zip(sample, labels) if y)
    neg = sum(w for w, y in zip(sample, labels) if not y)
    hi, lo = ((pos + 1) / (pos + 2), 1 / (neg + 2)) if smooth else (1.0, 0.0)
    targets = [hi if y else lo for y in labels]
    middle = list(center) if center is not None else [0.0] * k
    free = list(range(k))
    bounded = set(nonnegative)
    while True:
        w = _newton(rows, targets, sample, l2, middle, free)
        bad = [i for i in free if i in bounded and w[i] < 0]
        if not bad:
            return w
        free = [i for i in free if i not in bad]


def _newton(rows: Sequence[Sequence[float]], targets: Sequence[float], sample: Sequence[float], l2: float, center: Sequence[float], free: Sequence[int]) -> list[float]:
    """Newton's method with backtracking, column-wise so the inner sums run in C."""
    k = len(center)
    n = len(rows)
    cols = [[row[i] for row in rows] for i in free] + [[1.0] * n]  # the intercept is always free
    m = len(cols)
    total = sum(sample)
    rate = min(max(sum(map(mul, targets, sample)) / total, 1e-3), 1 - 1e-3) if total else 0.5
    w = [center[i] for i in free] + [math.log(rate / (1 - rate))]
    middle = [center[i] for i in free]

    def logits(weights: Sequence[float]) -> list[float]:
        z = [weights[-1]] * n
        for wj, col in zip(weights, cols[:-1]):
            z = [a + wj * b for a, b in zip(z, col)]
        return z

    def loss(weights: Sequence[float], z: Sequence[float]) -> float:
        penalty = 0.5 * l2 * sum((wi - mi) ** 2 for wi, mi in zip(weights, middle))
        # log(1 + e^z) - t z, computed without overflow
        return penalty + sum(s * ((v if v > 0 else 0.0) + math.log1p(math.exp(-abs(v))) - t * v) for v, t, s in zip(z, targets, sample))

    z = logits(w)
    current = loss(w, z)
    for _ in range(60):
        p = [sigmoid(v) for v in z]
        g = [s * (pi - t) for pi, t, s in zip(p, targets, sample)]
        h = [s * pi * (1 - pi) for pi, s in zip(p, sample)]
        grad = [sum(map(mul, g, col)) for col in cols]
        hcols = [list(map(mul, h, col)) for col in cols]
        hess = [[sum(map(mul, hcols[a], cols[b])) for b in range(m)] for a in range(m)]
        for a in range(m - 1):
            grad[a] += l2 * (w[a] - middle[a])
            hess[a][a] += l2
        hess[-1][-1] += 1e-9
        step = solve(hess, grad)
        scale = 1.0
        for _ in range(30):  # backtrack until the penalised loss goes down: Newton alone can oscillate
            trial = [wi - scale * si for wi, si in zip(w, step)]
            z_trial = logits(trial)
            trial_loss = loss(trial, z_trial)
            if trial_loss <= current + 1e-12:
                break
            scale /= 2
        w, z, current = trial, z_trial, trial_loss
        if max(abs(scale * si) for si in step) < 1e-6:
            break
    out = [0.0] * (k + 1)
    for a, i in enumerate(free):
        out[i] = w[a]
    out[k] = w[-1]
    return out


def fit_choice(rows: Sequence[tuple[Sequence[Sequence[float]], int]], center: Sequence[float], l2: float) -> list[float]:
    """A conditional logit: weights of the features each option has (``rows``: every option's
    features, and the index of the option chosen), by damped Newton steps, pulled towards ``center``."""
    w = list(center)
    k = len(w)
    for _ in range(30):
        grad = [l2 * (wi - ci) for wi, ci in zip(w, center)]
        hess = [[l2 if i == j else 0.0 for j in range(k)] for i in range(k)]
        for xs, y in rows:
            z = [sum(wi * xi for wi, xi in zip(w, x)) for x in xs]
            top = max(z)
            e = [math.exp(v - top) for v in z]
            total = sum(e)
            p = [v / total for v in e]
            mean = [sum(pj * x[i] for pj, x in zip(p, xs)) for i in range(k)]
            for i in range(k):
                grad[i] += mean[i] - xs[y][i]
                for j in range(k):
                    hess[i][j] += sum(pj * x[i] * x[j] for pj, x in zip(p, xs)) - mean[i] * mean[j]
        step = solve(hess, grad)
        largest = max(abs(si) for si in step)
        if largest > 0.5:  # damped: the likelihood is flat where the scores saturate
            step = [si * 0.5 / largest for si in step]
        w = [wi - si for wi, si in zip(w, step)]
        if largest < 1e-6:
            break
    return w


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [row[:] + [bi] for row, bi in zip(a, b)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        if abs(m[col][col]) < 1e-12:
            m[col][col] = 1e-12
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [x - factor * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def best_threshold(probs: Sequence[float], labels: Sequence[int]) -> float:
    """The score that maximises F1 when everything at or above it is suggested (one sorted pass)."""
    pairs = sorted(zip(probs, labels), key=lambda pair: -pair[0])
    positives = sum(labels)
    best, best_f1 = 0.5, -1.0
    tp = fp = 0
    for i, (p, y) in enumerate(pairs):
        tp += y
        fp += 1 - y
        if i + 1 < len(pairs) and pairs[i + 1][0] == p:
            continue
        f1 = 2 * tp / (tp + fp + positives) if tp else 0.0
        if f1 > best_f1 or (f1 == best_f1 and abs(p - 0.5) < abs(best - 0.5)):
            best, best_f1 = p, f1
    return min(max(round(best, 3), 0.05), 0.95)


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """ROC AUC by ranks (ties count half): the chance a positive outranks a negative."""
    if not positives or not negatives:
        return float("nan")
    scored = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(scored):
        j = i
        while j + 1 < len(scored) and scored[j + 1][0] == scored[i][0]:
            j += 1
        ranks = (i + j) / 2 + 1
        rank_sum += ranks * sum(y for _, y in scored[i : j + 1])
        i = j + 1
    n1, n0 = len(positives), len(negatives)
    return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0)


def fit_softmax(vectors: Sequence[Mapping[str, float]], labels: Sequence[int], classes: int, *, epochs: int, alpha: float, seed: int = 0) -> tuple[dict[str, list[float]], list[float]]:
    """A multinomial logistic regression over sparse vectors, by stochastic gradient descent with
    an L2 penalty ``alpha`` (kept lazily, as one scale shared by every weight) and a step that
    decays as ETA / (1 + ETA * alpha * t), so ``alpha`` must stay below 1 / ETA. Each class keeps a dense row over the features, so a
    document's scores are sums at C speed; a class whose gradient is below ``SKIP_GRADIENT`` is
    not updated (most are, once the fit is under way). A full solver in pure Python would cost
    seconds; a few passes are enough here."""
    if not 0.0 <= ETA * alpha < 1.0:
        raise ValueError(f"fit_softmax: alpha must be in [0, {1 / ETA}), not {alpha}")
    index: dict[str, int] = {}
    docs = []
    for vector in vectors:
        docs.append(([index.setdefault(f, len(index)) for f in vector], list(vector.values())))
    rows = [[0.0] * len(index) for _ in range(classes)]
    bias = [0.0] * classes
    scale = 1.0
    order = list(range(len(docs)))
    shuffle = random.Random(seed).shuffle
    exp = math.exp
    t = 0
    for _ in range(epochs):
        shuffle(order)
        for i in order:
            features, values = docs[i]
            eta = ETA / (1.0 + ETA * alpha * t)
            t += 1
            z = [b + scale * sum(map(mul, map(row.__getitem__, features), values)) for b, row in zip(bias, rows)]
            top = max(z)
            e = [exp(v - top) for v in z]
            total = sum(e)
            g = [v / total for v in e]
            g[labels[i]] -= 1.0
            scale *= 1.0 - eta * alpha
            step = eta / scale
            for row, gc in zip(rows, g):
                if -SKIP_GRADIENT < gc < SKIP_GRADIENT:
                    continue
                gx = step * gc
                for j, x in zip(features, values):
                    row[j] -= gx * x
            bias = [b - eta * gc for b, gc in zip(bias, g)]
            if scale < 1e-6:  # fold the scale in before the weights lose precision
                for row in rows:
                    row[:] = [w * scale for w in row]
                scale = 1.0
    return {f: [row[j] * scale for row in rows] for f, j in index.items()}, bias


def log_softmax(z: Sequence[float]) -> list[float]:
    """Log probabilities from scores, without overflow."""
    top = max(z)
    lse = top + math.log(sum(math.exp(v - top) for v in z))
    return [v - lse for v in z]


def softmax_logits(model: tuple[Mapping[str, Sequence[float]], Sequence[float]], vector: Mapping[str, float]) -> list[float]:
    """A :func:`fit_softmax` model's scores of a vector (the scoring hot path adds the same weights
    through the lexicon instead)."""
    weights, bias = model
    z = list(bias)
    for f, x in vector.items():
        row = weights.get(f)
        if row is not None:
            z = [zc + rc * x for zc, rc in zip(z, row)]
    return z
