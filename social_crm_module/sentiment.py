"""Intent and sentiment of a short social post, behind one function: :func:`classify`.

``classify(text, lang=None) -> Classification(intent, polarity, label, confidence)``:

- ``intent``: ``praise``, ``complaint``, ``question``, ``purchase_intent`` or ``other``;
- ``polarity``: a float in [-1, 1] (the score's sentiment component uses it as is);
- ``label``: ``positive`` (polarity >= 0.05), ``negative`` (<= -0.05) or ``neutral``;
- ``confidence``: in [0, 1]; ``confidence >= CONFIDENT_AT`` (``.confident``) is the
  line callers use: route on confident classifications, offer the others for review.
  A model that does not say gets 1.0, so older models and callers keep working.

Models (the registry below; :func:`use_model` picks one for every caller):

- ``"learned"``, the default: a linear model trained on about 4,900 labelled posts in
  seven languages (:mod:`.classifier`: hashed word and character n-grams, plus VADER
  and the rules below as features), pure Python, weights in
  ``data/classifier_weights.json.gz``, well under a millisecond a post. If the weights
  cannot be read it falls back to ``"vader"`` (and logs a warning).
- ``"vader"``: VADER and the intent rules below; its confidence is always
  :data:`RULES_CONFIDENCE` (below :data:`CONFIDENT_AT`).
- a remote model, if a company configures one:
  :class:`.classifier.remote.RemoteClassifier` (an OpenAI-compatible endpoint; the
  learned model is its fallback).

The rules model (``"vader"``) runs offline on a CPU in well under a millisecond a
post. Polarity is VADER's compound score (lexicon and rules made for social media:
emojis, negation such as "not bad", ALL-CAPS words among lower-case ones, "!!!",
"but", degree words), with a small added lexicon of common Spanish, French, German,
Portuguese, Italian and Dutch words. Then, in this order:

1. empty or blank text: ``other``, 0, ``neutral``;
2. a buying signal not negated by one of the three words before it ("where can I
   buy", "how much", "price", "want to order", "take my money", "in stock",
   wholesale/bulk, and a few in six languages): ``purchase_intent``;
3. a strong complaint cue ("never arrived", "charged twice", "not impressed",
   "broken", "still waiting", ...), or a weak one ("late", "refund", "worst", ...)
   under a polarity below 0.5, or polarity <= -0.5 about us or a product or service:
   ``complaint``. A strong cue under positive words is read as sarcasm ("Great, it
   arrived broken. Just perfect."): the polarity is turned negative
   (:data:`SARCASM_FLIP`), and a complaint is never above :data:`COMPLAINT_FLOOR`;
4. a question mark or a leading question word (wh-words, auxiliaries, ``¿``,
   "est-ce que", ...): ``question``;
5. a praise phrase ("above and beyond", "kudos", ...), or polarity >= 0.3 about us,
   a product or a service, or polarity >= :data:`PRAISE_ANYWAY`: ``praise``;
   otherwise ``other``.

In a question or a buying signal, mild polarity is about the thing asked ("is it
free?") and is shrunk by :data:`QUESTION_DEAD_ZONE`; an eager buying signal ("take
my money") is at least :data:`EAGER_FLOOR`. ``lang`` is accepted for models that use
it; the default model reads every language with the same lexicon.

The rules were tuned on the ``dev`` split of ``data/labelled_posts.csv`` only;
``bench/sentiment_accuracy.py`` reports the held-out ``test`` split and the learned
model's cross-validated figures (see ``readme/SENTIMENT.md``, including where it
fails).

Plugging in a better model: any callable ``(text, lang) -> Classification`` (the
:class:`Classifier` protocol). ``register_model("name", model)`` then
``use_model("name")`` makes every caller of :func:`classify` use it; nothing else
changes. :func:`classify_many` lets a model batch (a model with a ``classify_many``
attribute gets the whole list at once).
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

_logger = logging.getLogger(__name__)

INTENTS = ("praise", "complaint", "question", "purchase_intent", "other")
LABELS = ("positive", "neutral", "negative")

#: VADER's usual cut-offs for the label
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


def label_for(polarity: float) -> str:
    if polarity >= POSITIVE_AT:
        return "positive"
    if polarity <= NEGATIVE_AT:
        return "negative"
    return "neutral"


#: a classification whose ``confidence`` is at least this is "confident": routing acts
#: on it; below it, the post is left for a person (the classifier review). Chosen on
#: the cross-validated predictions of the learned model (see readme/SENTIMENT.md).
CONFIDENT_AT = 0.5
#: the confidence of the VADER rules alone (below :data:`CONFIDENT_AT`: a post they
#: classify is always offered for review)
RULES_CONFIDENCE = 0.4


@dataclass(frozen=True)
class Classification:
    """One post's ``intent``, ``polarity`` in [-1, 1], ``label``, and ``confidence`` in
    [0, 1] (1.0 when a model does not say: old models and callers keep working)."""

    intent: str
    polarity: float
    label: str
    confidence: float = 1.0

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT_AT

    def __post_init__(self):
        if self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}; expected one of {INTENTS}")
        if self.label not in LABELS:
            raise ValueError(f"unknown label {self.label!r}; expected one of {LABELS}")
        if not (math.isfinite(self.polarity) and -1.0 <= self.polarity <= 1.0):
            raise ValueError(f"polarity must lie in [-1, 1], not {self.polarity}")
        if not (math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0):
            raise ValueError(f"confidence must lie in [0, 1], not {self.confidence}")


EMPTY = Classification("other", 0.0, "neutral")


@runtime_checkable
class Classifier(Protocol):
    def __call__(self, text: str, lang: str | None = None) -> Classification: ...


# ---------------------------------------------------------------- the registry

_MODELS: dict[str, Classifier] = {}
_current = "learned"


def register_model(name: str, model: Classifier, *, replace: bool = False) -> None:
    """Make ``model`` available under ``name`` (refuses to shadow one unless ``replace``)."""
    if not callable(model):
        raise TypeError("a model is a callable (text, lang) -> Classification")
    if name in _MODELS and not replace:
        raise ValueError(f"a model called {name!r} is already registered")
    _MODELS[name] = model


def use_model(name: str) -> None:
    """Route every :func:`classify` call to the model registered as ``name``."""
    global _current  # noqa: PLW0603 - the one process-wide choice, by design
    if name not in _MODELS:
        raise ValueError(f"no model called {name!r}; registered: {', '.join(sorted(_MODELS))}")
    _current = name


def model_in_use() -> str:
    return _current


def get_model(name: str) -> Classifier:
    """The model registered as ``name`` (e.g. ``"learned"``, the fallback of a remote one)."""
    if name not in _MODELS:
        raise ValueError(f"no model called {name!r}; registered: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]


def classify(text: str | None, lang: str | None = None) -> Classification:
    """Intent, polarity and label of one post, by the model in use."""
    if not text or not text.strip():
        return EMPTY
    result = _MODELS[_current](text, lang)
    if not isinstance(result, Classification):
        raise TypeError(f"model {_current!r} returned {type(result).__name__}, not Classification")
    return result


def classify_many(
    texts: Iterable[str | None], lang: str | Sequence[str | None] | None = None
) -> list[Classification]:
    """Classify a batch; ``lang`` is one language for all or one per text."""
    texts = list(texts)
    langs = [lang] * len(texts) if lang is None or isinstance(lang, str) else list(lang)
    if len(langs) != len(texts):
        raise ValueError("give one language per text, or one for all")
    batch = getattr(_MODELS[_current], "classify_many", None)
    if batch is not None:
        results = list(batch(texts, langs))
        for text, position in zip(texts, range(len(results)), strict=True):
            if not text or not text.strip():
                results[position] = EMPTY
        return results
    return [classify(text, one) for text, one in zip(texts, langs, strict=True)]


# ----------------------------------------------------------- the default model

#: A few common sentiment words in the other languages we meet, on VADER's scale
#: (-4..4). VADER lower-cases a word before looking it up; accents are kept.
EXTRA_LEXICON = {
    # es
    "excelente": 3.2, "encanta": 3.0, "gracias": 1.9, "bueno": 1.9, "buen": 1.9,
    "genial": 3.0, "recomiendo": 2.0, "malo": -2.3, "mala": -2.3, "pésimo": -3.2,
    "horrible": -2.5, "roto": -2.0,
    # fr
    "excellent": 3.2, "adore": 3.0, "merci": 1.9, "parfait": 3.0, "bravo": 2.5,
    "génial": 3.0, "nul": -2.5, "déçu": -2.5, "mauvais": -2.5,
    # de
    "toll": 2.8, "super": 2.9, "danke": 1.9, "zufrieden": 2.2, "gut": 1.9,
    "schlecht": -2.5, "kaputt": -2.5, "enttäuscht": -2.5,
    # pt
    "ótimo": 3.0, "obrigado": 1.9, "obrigada": 1.9, "adorei": 3.0, "bom": 1.9,
    "péssimo": -3.2, "ruim": -2.3,
    # it
    "ottimo": 3.0, "eccellente": 3.2, "fantastico": 3.0, "grazie": 1.9,
    "pessimo": -3.2, "rotto": -2.0,
    # nl
    "geweldig": 3.0, "bedankt": 1.9, "blij": 2.2, "slecht": -2.5,
    # more of each language, common in reviews and complaints
    "buenísimo": 3.0, "encantan": 3.0, "perfecto": 3.0, "precioso": 3.0, "rico": 2.0,
    "contenta": 2.2, "contento": 2.2, "fatal": -2.5, "malísima": -3.0, "malísimo": -3.0,
    "desastre": -2.8, "vergüenza": -2.5, "timo": -2.8, "estafa": -3.0, "mierda": -3.0,
    "decepcionado": -2.5, "decepcionada": -2.5, "lento": -1.5, "caro": -1.2,
    "top": 2.5, "adoré": 3.0, "superbe": 3.0, "délicieux": 3.0,
    "magnifique": 3.0, "inadmissible": -3.0, "honte": -2.5,
    "arnaque": -3.0, "lent": -1.5, "cher": -1.2, "relou": -2.0, "cata": -2.5,
    "spitze": 3.0, "lecker": 2.5, "begeistert": 3.0, "wunderschön": 3.0, "bequem": 2.0,
    "katastrophe": -3.0, "frechheit": -3.0, "abzocke": -3.0, "miserabel": -3.0,
    "ärgerlich": -2.2, "enttäuschend": -2.5, "nervt": -2.0, "teuer": -1.2,
    "maravilhoso": 3.0, "perfeito": 3.0, "lindo": 2.5, "delícia": 3.0, "amo": 3.0,
    "decepcionante": -2.5, "horrível": -3.0, "quebrado": -2.2, "piada": -2.0,
    "ottima": 3.0, "buonissimo": 3.0, "bellissimo": 3.0, "perfetto": 3.0, "adoro": 3.0,
    "pessima": -3.2, "schifo": -3.0, "vergogna": -2.5, "delusione": -2.5, "deluso": -2.5,
    "rotta": -2.0, "incubo": -2.5, "lekker": 2.5, "prachtig": 3.0, "aanrader": 2.8,
    "waardeloos": -3.0, "teleurgesteld": -2.5, "kapot": -2.5, "balen": -2.0,
    # English words VADER misses in reviews
    "smooth": 1.5, "solid": 1.5, "slaps": 2.0, "dank": 1.9, "nailed": 2.5,
}  # fmt: skip

#: Emojis VADER reads wrongly or not at all (it reads an emoji as its Unicode name:
#: "pouting face", "thumbs down", "fire" (-1.4), "broken heart" (+0.27)). Each gets a
#: word from VADER's lexicon that carries what the emoji means in a social post.
EMOJI_OVERRIDES = {
    "\U0001f621": "furious",  # pouting face
    "\U0001f624": "annoyed",  # face with steam from nose
    "\U0001f44e": "bad",  # thumbs down
    "\U0001f44d": "good",  # thumbs up
    "\U0001f525": "awesome",  # fire
    "\U0001f494": "heartbroken",  # broken heart
    "\U0001f4af": "great",  # hundred points
}

_WORD = r"[\w'\u2019]+"

# A buying signal. English, then es, pt, it, fr, de, nl.
_PURCHASE = re.compile(
    r"""
    \b(where|how)\s+(can|do|could|would|should)\s+i\s+(buy|get|order|purchase)\b
    | \b(how|hw)\s+much\b | \bprices?\b | \bpricing\b | \bcosts?\b | \bcheaper\b
    | \btake\s+my\s+money\b | \bcart\b | \babout\s+to\s+check\s?out\b
    | \b(want|wanna|gonna|going|like|need|ready|planning|looking|about)\s+(to\s+)?
        (buy|order|purchase)\b
    | \b(buy|buying|purchase)\b | \bpre-?order\b | \bin\s+stock\b | \bbulk\b | \bwholesale\b
    | \bsell\b | \bretailers?\b | \bstockists?\b | \binstall?ments?\b
    | \b(thinking\s+(of|about)|considering)\s+(getting|the)\b
    | \b(premium|pro|enterprise|family|annual|business)\s+(plan|subscription)\b
    | \bi\s+(want|need)\s+(this|these|it|one)\b
    | \bcu[aá]nto\s+(cuesta|vale)\b | \bquanto\s+(custa|costa)\b | \bcombien\b
    | \bwas\s+kostet\b | \bhoeveel\s+kost\b | \bcomprar(lo|la)?\b | \bquiero\b
    | \blo\s+voglio\b | \bacheter\b | \bcommander\b | \bkaufen\b | \bbestellen\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

#: a buying signal that is also an eager one: never less than mildly positive
_EAGER = re.compile(
    r"\btake\s+my\s+money\b|\bcart\b|\bi\s+(want|need)\s+(this|these|it)\b|\bgonna\s+buy\b"
    r"|\bit'?s\s+mine\b|\blo\s+voglio\b|\bneed\s+this\b",
    re.IGNORECASE,
)

# Complaint cues. Strong ones make a complaint whatever the words around them (the
# positive words are then sarcasm); weak ones only under a polarity below 0.5.
_COMPLAINT_STRONG = re.compile(
    r"""
    \bnever\s+(replied|answers?|came|comes|arrived|arrives)\b | \bhung\s+up\b
    | \bnot\s+(impressed|happy|worth|what\s+i\s+ordered)\b | \bsaid\s+nobody\b
    | \bcharged\s+(me\s+)?(twice|again|for)\b | \bstill\s+(waiting|not)\b
    | \b(broke|broken|breaks|cracks|damaged|leaks|peeling|soaked)\b
    | \bnobody\s+(answers|replies|can|responds|helps)\b | \bbeing\s+ignored\b
    | \bcobraron\b | \bno\s+funciona\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_COMPLAINT_WEAK = re.compile(
    r"""
    \b(late|delayed|lost|refund|returned|crash|crashes|crashing|slower|logged\s+me\s+out)\b
    | \b(worst|terrible|awful|horrible|disgusting|useless|ridiculous|unacceptable|rude)\b
    | \b(disappointed|frustrated|impossible|missing|ran\s+out|wrong|mid|smh)\b
    | \b(doesn'?t|won'?t|not)\s+work(s|ing)?\b | \bsuspended\b
    | \b(pésimo|roto|esperando|mala|malo)\b | \b(déçu|nul|jamais?|abîmé)\b
    | \b(kaputt|überfällig|verspätet|niemand|schlecht(er)?)\b
    | \b(péssimo|ninguém|errado)\b | \b(pessimo|rotto|mai\s+arrivato)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

#: a complaint cue right after one of these is not a complaint ("never had a problem")
_NEGATORS = {"not", "no", "never", "can't", "cant", "cannot", "without", "didn't", "zero"}

#: something a customer would praise or blame: us, the product, the service
_TARGET = re.compile(
    r"""
    \b(you|your|ur|u|we|our|this|these|it|they|them|team|staff|store|shop|service|support
      |product|quality|app|update|order|delivery|package|parcel|purchase|brand|customers?
      |design|collection|flavou?r|recipe|packaging|price|fit|recommend)\b | @\w+
    | \b(my|the)\s+new\b
    | \b(servicio|producto|pedido|equipo|diseño|atención|service|produit|commande|colis
      |livraison|équipe|produkt|lieferung|kundenservice|qualität|produto|atendimento
      |prodotto|servizio|ordine|bestelling|fiets)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

_PRAISE = re.compile(
    r"\babove\s+and\s+beyond\b|\bnever\s+going\s+back\b|\blistens\b|\bnailed\s+it\b"
    r"|\bwell\s+done\b|\bkudos\b|\bprops\b|\bshout\s?out\b|\b10/10\b",
    re.IGNORECASE,
)

_QUESTION_START = re.compile(
    r"""^\s*(?:@\w+\s+)*(?:hi|hello|hey)?[,!\s]*
    (what|what's|where|when|wen|why|how|hw|who|which|whose|is|are|do|does|did|can|could|
     will|would|should|any|anyone|wondering|est-ce|comment|quels?|quelles?|wann|wie|
     gibt|como|cómo|come|dove|quando|qual)\b""",
    re.IGNORECASE | re.VERBOSE,
)

#: a complaint under positive words (sarcasm) keeps this share of the magnitude, negated
SARCASM_FLIP = 0.6
#: a complaint is at least this negative
COMPLAINT_FLOOR = -0.25
#: in a question or a buying signal, |polarity| below this is about the thing asked
#: ("is it free?", "is it safe?"), not the author's mood, and is shrunk by it
QUESTION_DEAD_ZONE = 0.5
#: positive words about no one in particular are praise only from this polarity
#: ("Happy Friday everyone" is not praise; "LOVE LOVE LOVE my new sneakers" is)
PRAISE_ANYWAY = 0.7
#: an eager buying signal ("take my money") is at least this positive
EAGER_FLOOR = 0.4


def _found(pattern: re.Pattern, text: str) -> bool:
    """``pattern`` occurs in ``text`` without a negator in the three words before it."""
    for match in pattern.finditer(text):
        before = re.findall(_WORD, text[: match.start()].lower())[-3:]
        if not _NEGATORS.intersection(before):
            return True
    return False


def _rule_intent(text: str, polarity: float, found: dict[str, bool]) -> str:  # noqa: PLR0911
    """The intent rules, a ladder, over the cues :meth:`VaderModel.cues` found."""
    if found["purchase"]:
        return "purchase_intent"
    if found["complaint_strong"]:
        return "complaint"
    if polarity < 0.5 and found["complaint_weak"]:
        return "complaint"
    if polarity <= -0.5 and found["target"]:
        return "complaint"
    if "?" in text or "¿" in text or found["question_start"]:
        return "question"
    if found["praise_phrase"] and polarity >= 0:
        return "praise"
    if polarity >= PRAISE_ANYWAY or (polarity >= 0.3 and found["target"]):
        return "praise"
    return "other"


class VaderModel:
    """VADER polarity plus the intent rules described in the module docstring."""

    def __init__(self):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: PLC0415

        self._analyzer = SentimentIntensityAnalyzer()
        self._analyzer.lexicon.update(EXTRA_LEXICON)
        self._analyzer.emojis.update(EMOJI_OVERRIDES)

    def polarity(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])

    def polarity_scores(self, text: str) -> dict:
        """VADER's scores: ``compound`` in [-1, 1] and the ``pos``/``neg``/``neu`` shares."""
        return self._analyzer.polarity_scores(text)

    def cues(self, text: str, polarity: float) -> dict[str, bool | str]:
        """What the rules see in ``text``: each cue, and the intent they would give
        (the learned model reads these as features). Each pattern is searched once."""
        found = {
            "purchase": _found(_PURCHASE, text),
            "eager": bool(_EAGER.search(text)),
            "complaint_strong": _found(_COMPLAINT_STRONG, text),
            "complaint_weak": _found(_COMPLAINT_WEAK, text),
            "target": bool(_TARGET.search(text)),
            "praise_phrase": bool(_PRAISE.search(text)),
            "question_start": bool(_QUESTION_START.match(text)),
        }
        return {"intent": _rule_intent(text, polarity, found), **found}

    def intent(self, text: str, polarity: float) -> str:
        return self.cues(text, polarity)["intent"]

    def __call__(self, text: str, lang: str | None = None) -> Classification:
        polarity = self.polarity(text)
        intent = self.intent(text, polarity)
        if intent == "complaint":
            if polarity > 0:
                polarity = -SARCASM_FLIP * polarity
            polarity = min(polarity, COMPLAINT_FLOOR)
        elif intent in ("question", "purchase_intent"):
            shrunk = max(abs(polarity) - QUESTION_DEAD_ZONE, 0.0)
            polarity = math.copysign(shrunk, polarity)
            if intent == "purchase_intent" and _EAGER.search(text):
                polarity = max(polarity, EAGER_FLOOR)
        elif intent == "praise":
            polarity = max(polarity, 0.3)
        polarity = max(-1.0, min(1.0, round(polarity, 4)))
        return Classification(intent, polarity, label_for(polarity), RULES_CONFIDENCE)

    def classify_many(
        self, texts: Sequence[str | None], langs: Sequence[str | None]
    ) -> list[Classification]:
        return [
            self(text, lang) if text and text.strip() else EMPTY
            for text, lang in zip(texts, langs, strict=True)
        ]


class _Lazy:
    """Load the default model on first use: importing the engine stays cheap."""

    def __init__(self, factory: Callable[[], Classifier]):
        self._factory = factory
        self._model: Classifier | None = None

    def _get(self) -> Classifier:
        if self._model is None:
            self._model = self._factory()
        return self._model

    def __call__(self, text: str, lang: str | None = None) -> Classification:
        return self._get()(text, lang)

    def classify_many(self, texts, langs):
        return self._get().classify_many(texts, langs)


def _learned(path: Path | None = None) -> Classifier:
    """The learned model, or the VADER rules when its weights cannot be read."""
    from .classifier.learned import LearnedModel  # noqa: PLC0415 - it imports this module

    try:
        return LearnedModel.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _logger.warning("learned classifier unavailable (%s); using the VADER rules", exc)
        return VaderModel()


register_model("vader", _Lazy(VaderModel))
register_model("learned", _Lazy(_learned))


# ------------------------------------------------------------------ measuring

LABELLED_POSTS = Path(__file__).resolve().parent / "data" / "labelled_posts.csv"


def labelled_posts(split: str | None = None, path: Path = LABELLED_POSTS) -> list[dict]:
    """Rows of the labelled set (``text, intent, polarity_label, lang, tags, split``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["tags"] = [tag for tag in row["tags"].split(";") if tag]
    return [row for row in rows if split is None or row["split"] == split]


@dataclass
class Report:
    """Accuracy and confusion (``confusion[(expected, predicted)] = count``)."""

    n: int = 0
    intent_correct: int = 0
    label_correct: int = 0
    intent_confusion: Counter = field(default_factory=Counter)
    label_confusion: Counter = field(default_factory=Counter)

    @property
    def intent_accuracy(self) -> float:
        return self.intent_correct / self.n if self.n else 0.0

    @property
    def label_accuracy(self) -> float:
        return self.label_correct / self.n if self.n else 0.0

    def add(self, expected_intent, expected_label, got: Classification) -> None:
        self.n += 1
        self.intent_correct += got.intent == expected_intent
        self.label_correct += got.label == expected_label
        self.intent_confusion[expected_intent, got.intent] += 1
        self.label_confusion[expected_label, got.label] += 1


def evaluate(rows: Sequence[dict]) -> tuple[Report, dict[str, Report], list[tuple]]:
    """Classify labelled rows with the model in use: overall report, one per tag
    (plus ``lang:xx``), and the misses as ``(row, classification)``."""
    results = classify_many([row["text"] for row in rows], [row["lang"] for row in rows])
    overall, per_tag, misses = Report(), {}, []
    for row, got in zip(rows, results, strict=True):
        overall.add(row["intent"], row["polarity_label"], got)
        for tag in [*row["tags"], f"lang:{row['lang']}"]:
            per_tag.setdefault(tag, Report()).add(row["intent"], row["polarity_label"], got)
        if got.intent != row["intent"] or got.label != row["polarity_label"]:
            misses.append((row, got))
    return overall, per_tag, misses
