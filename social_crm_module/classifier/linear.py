"""The learned model: two multinomial logistic regressions (intent, polarity label)
over the hashed features of :mod:`.features`, run in pure Python.

The weights live in ``data/classifier_weights.json.gz`` (see :func:`save_weights`
for the format); ``bench/train_classifier.py`` rebuilds them deterministically.

Decoding: the two softmaxes are combined into one distribution over (intent, label)
pairs, leaving out the pairs the labelling conventions exclude (praise is positive, a
complaint is negative), and the likeliest pair wins. ``confidence`` is that pair's
share of the distribution, times a coverage factor: the share of the post's words
the model met in training (``0.5 + 0.5 * coverage``), so gibberish and words never
seen are not confident. ``polarity`` is ``0.6 * (P(positive) - P(negative)) + 0.4 *
VADER's compound``, held inside the band of the chosen label so that ``label`` and
``polarity`` always agree.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path

from . import features

WEIGHTS = Path(__file__).resolve().parent.parent / "data" / "classifier_weights.json.gz"
FORMAT = "social_crm_module.linear/1"

INTENTS = ("praise", "complaint", "question", "purchase_intent", "other")
LABELS = ("positive", "neutral", "negative")
#: (intent, label) pairs the labelling conventions exclude
EXCLUDED = frozenset(
    {("praise", "negative"), ("praise", "neutral"), ("complaint", "positive"),
     ("complaint", "neutral")}
)  # fmt: skip
#: the cost of reading a complaint as praise is the one that matters most (a complaint
#: then goes nowhere): praise must be twenty times as likely as it would otherwise
#: need to be. From 0.5 it cuts the cross-validated complaints read as praise from
#: 8.5% to 2.4% for five points of intent accuracy, mostly angry-sounding praise read
#: as a complaint (readme/SENTIMENT.md has the table it was chosen from).
PRAISE_PRIOR = 0.05
#: weights are stored as integers: ``round(w / scale)`` with ``scale = max|w| / QUANT``
QUANT = 4095
#: the label's band for the polarity float
_BANDS = {"positive": (0.05, 1.0), "neutral": (-0.04, 0.04), "negative": (-1.0, -0.05)}


def _softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


class LinearModel:
    """Weights of the two heads: ``table[index] = (w_intent..., w_label...)``."""

    def __init__(self, table: dict[int, tuple[float, ...]], bias: Sequence[float], meta=None):
        width = len(INTENTS) + len(LABELS)  # 8: scores() is unrolled for it
        if len(bias) != width or any(len(row) != width for row in table.values()):
            raise ValueError(f"a weight row has {width} numbers: {INTENTS} then {LABELS}")
        self.table = table
        self.bias = tuple(bias)
        self.meta = dict(meta or {})
        #: word -> the summed weights of its character n-grams (None: none known)
        self._word_rows: dict[str, tuple[float, ...] | None] = {}

    @classmethod
    def from_dense(cls, coef_intent, bias_intent, coef_label, bias_label, meta=None):
        """From two ``(classes, DIM)`` matrices ordered as :data:`INTENTS` / :data:`LABELS`
        (lists of sparse-or-dense rows; zero columns are dropped)."""
        table: dict[int, tuple[float, ...]] = {}
        columns = len(coef_intent[0])
        for j in range(columns):
            row = tuple(float(coef_intent[k][j]) for k in range(len(INTENTS))) + tuple(
                float(coef_label[k][j]) for k in range(len(LABELS))
            )
            if any(row):
                table[j] = row
        return cls(table, [*map(float, bias_intent), *map(float, bias_label)], meta)

    def scores(self, vector: dict[int, float]) -> list[float]:
        """``bias + W x``: the five intent scores, then the three label scores."""
        get = self.table.get
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
        for position, x in vector.items():
            row = get(position)
            if row is not None:  # unrolled: this loop is most of the time a post takes
                w0, w1, w2, w3, w4, w5, w6, w7 = row
                s0 += w0 * x
                s1 += w1 * x
                s2 += w2 * x
                s3 += w3 * x
                s4 += w4 * x
                s5 += w5 * x
                s6 += w6 * x
                s7 += w7 * x
        return [b + s for b, s in zip(self.bias, (s0, s1, s2, s3, s4, s5, s6, s7), strict=True)]

    def scores_split(self, vector: dict[int, float], words: Sequence[str], weight: float):
        """:meth:`scores` of a vector from :func:`features.featurize_split`: the same
        numbers as ``scores(featurize(text))``, the n-grams summed a word at a time."""
        scores = self.scores(vector)
        if not words:
            return scores
        rows = self._word_rows
        acc = [0.0] * len(scores)
        for word in words:
            if word not in rows:
                if len(rows) > self.WORD_CACHE:
                    rows.clear()
                rows[word] = self._sum_rows(features.char_grams(word))
            row = rows[word]
            if row is not None:
                for k, w in enumerate(row):
                    acc[k] += w
        return [s + weight * a for s, a in zip(scores, acc, strict=True)]

    #: how many words' n-gram sums are kept (about 10 MiB at most)
    WORD_CACHE = 1 << 16

    def _sum_rows(self, names) -> tuple[float, ...] | None:
        total, found = [0.0] * (len(INTENTS) + len(LABELS)), False
        for name in names:
            row = self.table.get(features.index(name))
            if row is not None:
                found = True
                for k, w in enumerate(row):
                    total[k] += w
        return tuple(total) if found else None

    def coverage(self, text: str) -> float:
        """The share of the post's words whose feature the model has a weight for."""
        names = features.word_names(text)
        if not names:
            return 0.0
        return sum(features.index(name) in self.table for name in names) / len(names)


def decode(scores: Sequence[float]) -> tuple[str, str, float, list[float], list[float]]:
    """The likeliest allowed (intent, label), its share, and the two softmaxes."""
    p_intent = _softmax(scores[: len(INTENTS)])
    p_label = _softmax(scores[len(INTENTS) :])
    best, best_p, total = None, -1.0, 0.0
    for i, intent in enumerate(INTENTS):
        prior = PRAISE_PRIOR if intent == "praise" else 1.0
        for j, label in enumerate(LABELS):
            if (intent, label) in EXCLUDED:
                continue
            joint = prior * p_intent[i] * p_label[j]
            total += joint
            if joint > best_p:
                best, best_p = (intent, label), joint
    return best[0], best[1], best_p / total, p_intent, p_label


def polarity_for(label: str, p_label: Sequence[float], compound: float) -> float:
    signed = p_label[LABELS.index("positive")] - p_label[LABELS.index("negative")]
    low, high = _BANDS[label]
    return round(min(high, max(low, 0.6 * signed + 0.4 * compound)), 4)


# -------------------------------------------------------------------- the file


def save_weights(model: LinearModel, path: Path = WEIGHTS) -> None:
    """Write the weights as gzip'd JSON, byte for byte the same for the same model.

    ``{"format", "dim", "intents", "labels", "bias", "scale", "index", "weights",
    "meta"}``: ``index`` lists the non-zero columns, each as the gap from the
    previous one; ``weights`` has ``len(intents) + len(labels)`` integers per column,
    to be multiplied by ``scale``.
    """
    positions = sorted(model.table)
    biggest = max((abs(w) for row in model.table.values() for w in row), default=1.0)
    scale = biggest / QUANT
    flat, gaps, previous = [], [], 0
    for position in positions:
        gaps.append(position - previous)
        previous = position
        flat.extend(round(w / scale) for w in model.table[position])
    payload = {
        "format": FORMAT,
        "dim": features.DIM,
        "intents": list(INTENTS),
        "labels": list(LABELS),
        "bias": [round(b, 6) for b in model.bias],
        "scale": scale,
        "index": gaps,
        "weights": flat,
        "meta": model.meta,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as handle,
    ):
        handle.write(text.encode("utf-8"))


def load_weights(path: Path = WEIGHTS) -> LinearModel:
    # some 80k rows, all kept: a garbage collection pass while they are made finds
    # nothing to free and, in a process as big as Odoo's, costs more than the rows
    with _no_collection():
        return _load_weights(path)


@contextlib.contextmanager
def _no_collection():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_weights(path: Path) -> LinearModel:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        payload = json.load(handle)
    if payload.get("format") != FORMAT or payload.get("dim") != features.DIM:
        raise ValueError(f"{path.name}: not a {FORMAT} weights file for DIM={features.DIM}")
    if tuple(payload["intents"]) != INTENTS or tuple(payload["labels"]) != LABELS:
        raise ValueError(f"{path.name}: classes differ from {INTENTS} / {LABELS}")
    width, scale = len(INTENTS) + len(LABELS), float(payload["scale"])
    flat, gaps = payload["weights"], payload["index"]
    if len(flat) != width * len(gaps):
        raise ValueError(f"{path.name}: {len(flat)} weights for {len(gaps)} columns")
    # the rows cut from one list by zip over one iterator, width at a time: a third
    # of the time of a slice and a tuple per column (a worker's first sync waits on it)
    weights = iter([w * scale for w in flat])
    table = dict(zip(itertools.accumulate(gaps), zip(*[weights] * width, strict=True), strict=True))
    return LinearModel(table, payload["bias"], payload.get("meta"))
