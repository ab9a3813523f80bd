"""Training the learned model (scikit-learn: a development and test requirement only;
the add-on never imports this module at run time).

The training rows:

1. ``data/training_posts.csv``: the corpus written for training (see data/README.md);
2. the ``dev`` split of ``data/labelled_posts.csv`` (its ``test`` split is never
   trained on: any training row whose text is a ``test`` post is dropped);
3. any number of extra CSV files in the :data:`EXTRA_COLUMNS` format, e.g. the
   corrections a company's staff made in Odoo's classifier review. A text given
   again replaces the earlier row (the correction wins) and extra rows weigh
   :data:`EXTRA_WEIGHT` times a corpus row.

Everything is deterministic: the same rows give byte-identical weights.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import sentiment
from . import features, linear

TRAINING_POSTS = Path(__file__).resolve().parent.parent / "data" / "training_posts.csv"
#: posts written blind to the corpus, never trained on (see data/README.md)
BLIND_POSTS = TRAINING_POSTS.with_name("blind_posts.csv")
#: the columns of an extra training CSV (UTF-8, a header row; other columns are ignored)
EXTRA_COLUMNS = ("text", "intent", "polarity_label", "lang")
#: how much a row from an extra CSV (a company's correction) weighs against a corpus row
EXTRA_WEIGHT = 3.0
#: inverse regularisation strength of both logistic regressions
C = 4.0
FOLDS = 5
SEED = 15


@dataclass
class Row:
    text: str
    intent: str
    label: str
    lang: str = ""
    weight: float = 1.0
    source: str = ""


def read_csv(path: Path, *, source: str = "", weight: float = 1.0) -> list[Row]:
    """Rows of a training CSV; raises ``ValueError`` naming the first bad line."""
    rows = []
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(EXTRA_COLUMNS[:3]) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{Path(path).name}: missing column(s) {', '.join(sorted(missing))}")
        for line, record in enumerate(reader, start=2):
            text = (record.get("text") or "").strip()
            intent = (record.get("intent") or "").strip()
            label = (record.get("polarity_label") or "").strip()
            if not text:
                continue
            if intent not in sentiment.INTENTS:
                raise ValueError(f"{Path(path).name}:{line}: unknown intent {intent!r}")
            if label not in sentiment.LABELS:
                raise ValueError(f"{Path(path).name}:{line}: unknown polarity_label {label!r}")
            lang = (record.get("lang") or "").strip()
            rows.append(Row(text, intent, label, lang, weight, record.get("source") or source))
    return rows


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def held_out_texts() -> set[str]:
    """Texts never trained on: the ``test`` split of the labelled set, and the blind
    sets (written by people who never saw the training corpus)."""
    return {_key(row["text"]) for row in sentiment.labelled_posts("test")} | {
        _key(row.text) for row in blind_rows()
    }


def blind_rows(name: str | None = None) -> list[Row]:
    """The rows of ``data/blind_posts.csv`` (``blind1``, ``blind2`` or both)."""
    with BLIND_POSTS.open(encoding="utf-8", newline="") as handle:
        return [
            Row(r["text"], r["intent"], r["polarity_label"], r["lang"], 1.0, r["set"])
            for r in csv.DictReader(handle)
            if name is None or r["set"] == name
        ]


def corpus(extra: Iterable[Path] = (), *, base: Path | None = TRAINING_POSTS) -> list[Row]:
    """All training rows, in a fixed order, without held-out posts or duplicates."""
    rows = read_csv(base, source="corpus") if base else []
    rows += [
        Row(r["text"], r["intent"], r["polarity_label"], r["lang"], 1.0, "labelled_posts:dev")
        for r in sentiment.labelled_posts("dev")
    ]
    for path in extra:
        rows += read_csv(path, source=Path(path).name, weight=EXTRA_WEIGHT)
    held_out, by_text = held_out_texts(), {}
    for row in rows:
        if _key(row.text) not in held_out:
            by_text.pop(_key(row.text), None)  # a later row (a correction) replaces it
            by_text[_key(row.text)] = row
    return list(by_text.values())


# ----------------------------------------------------------------- fitting


def _vader() -> sentiment.VaderModel:
    return sentiment.VaderModel()


def vectorize(texts: Sequence[str], vader: sentiment.VaderModel | None = None):
    """A CSR matrix of the texts' feature vectors."""
    from scipy.sparse import csr_matrix  # noqa: PLC0415 - training only

    vader = vader or _vader()
    data, indices, indptr = [], [], [0]
    for text in texts:
        vector = features.featurize(text, vader.polarity_scores, vader.cues)
        for position in sorted(vector):
            indices.append(position)
            data.append(vector[position])
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(texts), features.DIM))


def _fit_head(matrix, targets, classes, weights, c):
    import numpy as np  # noqa: PLC0415 - training only
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    present = sorted(set(targets), key=classes.index)
    used = np.unique(matrix.indices)  # fit on the columns that occur: much faster
    head = LogisticRegression(C=c, solver="newton-cg", max_iter=500, tol=1e-4)
    head.fit(matrix[:, used], targets, sample_weight=weights)
    coef = np.zeros((len(classes), matrix.shape[1]))
    full = np.zeros((head.coef_.shape[0], matrix.shape[1]))
    full[:, used] = head.coef_
    bias = np.full(len(classes), -30.0)  # a class never seen is never predicted
    if len(present) == 2:  # scikit-learn keeps one row for two classes
        coef[classes.index(present[1])] = full[0]
        bias[classes.index(present[1])] = head.intercept_[0]
        bias[classes.index(present[0])] = 0.0
        coef[classes.index(present[0])] = 0.0
    else:
        for row, name in enumerate(head.classes_):
            coef[classes.index(name)] = full[row]
            bias[classes.index(name)] = head.intercept_[row]
    return coef, bias


def fit(rows: Sequence[Row], *, c: float = C, matrix=None, meta=None) -> linear.LinearModel:
    """Fit both heads on ``rows`` and return the model (weights rounded as saved)."""
    import numpy as np  # noqa: PLC0415 - training only

    if matrix is None:
        matrix = vectorize([row.text for row in rows])
    weights = np.array([row.weight for row in rows])
    coef_i, bias_i = _fit_head(
        matrix, [row.intent for row in rows], list(linear.INTENTS), weights, c
    )
    coef_l, bias_l = _fit_head(matrix, [row.label for row in rows], list(linear.LABELS), weights, c)
    both = np.vstack([coef_i, coef_l])
    columns = np.flatnonzero(np.any(both != 0.0, axis=0))
    scale = float(np.abs(both).max()) / linear.QUANT or 1.0
    quantised = np.round(both[:, columns] / scale) * scale  # as the file stores them
    table = {int(j): tuple(float(w) for w in quantised[:, n]) for n, j in enumerate(columns)}
    bias = [round(float(b), 6) for b in [*bias_i, *bias_l]]
    return linear.LinearModel(table, bias, meta)


# ----------------------------------------------------------------- measuring


@dataclass
class Scores:
    n: int = 0
    intent_correct: int = 0
    label_correct: int = 0
    complaints_as_praise: int = 0
    complaints: int = 0
    intent_confusion: Counter = field(default_factory=Counter)
    label_confusion: Counter = field(default_factory=Counter)
    #: (confidence, intent right, label right) per prediction
    confidences: list = field(default_factory=list)
    #: (row, classification) of every post whose intent or label was wrong
    misses: list = field(default_factory=list)
    #: per language: [posts, intent right, label right]
    by_lang: dict = field(default_factory=dict)

    def add(self, row: Row, got: sentiment.Classification) -> None:
        self.n += 1
        self.intent_correct += got.intent == row.intent
        self.label_correct += got.label == row.label
        self.complaints += row.intent == "complaint"
        self.complaints_as_praise += row.intent == "complaint" and got.intent == "praise"
        self.intent_confusion[row.intent, got.intent] += 1
        self.label_confusion[row.label, got.label] += 1
        self.confidences.append((got.confidence, got.intent == row.intent, got.label == row.label))
        if got.intent != row.intent or got.label != row.label:
            self.misses.append((row, got))
        lang = self.by_lang.setdefault(row.lang or "?", [0, 0, 0])
        lang[0] += 1
        lang[1] += got.intent == row.intent
        lang[2] += got.label == row.label

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.n if self.n else 0.0

    @property
    def label_accuracy(self) -> float:
        return self.label_correct / self.n if self.n else 0.0

    def above(self, threshold: float) -> tuple[float, float, float]:
        """Share of posts at or above ``threshold``, and their intent and label accuracy."""
        kept = [c for c in self.confidences if c[0] >= threshold]
        if not kept:
            return 0.0, 0.0, 0.0
        return (
            len(kept) / len(self.confidences),
            sum(c[1] for c in kept) / len(kept),
            sum(c[2] for c in kept) / len(kept),
        )

    def accuracy_table(self) -> list[str]:
        """The markdown table of the figures the bench scripts print."""
        share, intent, label = self.above(sentiment.CONFIDENT_AT)
        return [
            "| | accuracy |",
            "|---|---:|",
            f"| intent (5 classes) | {self.intent_accuracy:.1%} |",
            f"| polarity label (3 classes) | {self.label_accuracy:.1%} |",
            f"| complaints read as praise | {self.complaints_as_praise} of {self.complaints} |",
            f"| confident (>= {sentiment.CONFIDENT_AT}) | {share:.0%} of posts: "
            f"intent {intent:.1%}, polarity {label:.1%} |",
        ]


def markdown_matrix(confusion, keys) -> list[str]:
    """A confusion matrix (``{(expected, predicted): count}``) as a markdown table."""
    lines = [
        "| expected \\ predicted | " + " | ".join(keys) + " |",
        "|---|" + "---:|" * len(keys),
    ]
    for expected in keys:
        cells = [str(confusion.get((expected, got), 0)) for got in keys]
        lines.append(f"| **{expected}** | " + " | ".join(cells) + " |")
    return lines


def predict(model: linear.LinearModel, texts: Sequence[str], vader=None):
    from .learned import LearnedModel  # noqa: PLC0415

    learned = LearnedModel(model, vader or _vader())
    return [learned(text) for text in texts]


def folds(rows: Sequence[Row], k: int = FOLDS, seed: int = SEED) -> list[int]:
    """A fold number per row, stratified by intent, from a fixed seed."""
    by_intent: dict[str, list[int]] = {}
    for position, row in enumerate(rows):
        by_intent.setdefault(row.intent, []).append(position)
    fold = [0] * len(rows)
    rng = random.Random(seed)  # noqa: S311 - folds, not secrets
    for intent in sorted(by_intent):
        positions = by_intent[intent]
        rng.shuffle(positions)
        for n, position in enumerate(positions):
            fold[position] = n % k
    return fold


def cross_validate(rows: Sequence[Row], k: int = FOLDS, *, c: float = C) -> Scores:
    """Out-of-fold predictions for every row, scored (extra rows included)."""
    vader = _vader()
    matrix = vectorize([row.text for row in rows], vader)
    assignment = folds(rows, k)
    scores = Scores()
    for fold in range(k):
        train = [n for n, f in enumerate(assignment) if f != fold]
        test = [n for n, f in enumerate(assignment) if f == fold]
        model = fit([rows[n] for n in train], c=c, matrix=matrix[train])
        for n, got in zip(test, predict(model, [rows[n].text for n in test], vader), strict=True):
            scores.add(rows[n], got)
    return scores


def score(model: linear.LinearModel, rows: Sequence[Row]) -> Scores:
    scores = Scores()
    for row, got in zip(rows, predict(model, [row.text for row in rows]), strict=True):
        scores.add(row, got)
    return scores


def held_out_rows() -> list[Row]:
    return [
        Row(r["text"], r["intent"], r["polarity_label"], r["lang"], 1.0, "labelled_posts:test")
        for r in sentiment.labelled_posts("test")
    ]
