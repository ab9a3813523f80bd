"""The learned classifier behind the :class:`..sentiment.Classifier` interface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import sentiment
from . import features, linear


class LearnedModel:
    """Intent, polarity and confidence from :mod:`.linear`, with VADER and the
    intent rules of :class:`..sentiment.VaderModel` as features."""

    def __init__(self, model: linear.LinearModel, vader: sentiment.VaderModel | None = None):
        self.model = model
        self.vader = vader or sentiment.VaderModel()

    @classmethod
    def load(cls, path: Path | None = None, vader=None) -> LearnedModel:
        return cls(linear.load_weights(path or linear.WEIGHTS), vader)

    def vector(self, text: str) -> dict[int, float]:
        return features.featurize(text, self.vader.polarity_scores, self.vader.cues)

    def __call__(self, text: str, lang: str | None = None) -> sentiment.Classification:
        if not text or not text.strip():
            return sentiment.EMPTY
        whole = self.vader.polarity_scores(text)

        def scores(part: str) -> dict:  # VADER once for the whole text
            return whole if part is text else self.vader.polarity_scores(part)

        vector, words, weight = features.featurize_split(text, scores, self.vader.cues)
        intent, label, share, _p_intent, p_label = linear.decode(
            self.model.scores_split(vector, words, weight)
        )
        compound = float(whole["compound"])
        confidence = share * (0.5 + 0.5 * self.model.coverage(text))
        return sentiment.Classification(
            intent,
            linear.polarity_for(label, p_label, compound),
            label,
            confidence=round(min(1.0, max(0.0, confidence)), 4),
        )

    def classify_many(
        self, texts: Sequence[str | None], langs: Sequence[str | None]
    ) -> list[sentiment.Classification]:
        return [self(text, lang) for text, lang in zip(texts, langs, strict=True)]
