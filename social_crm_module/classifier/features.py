"""The features of one post, as a sparse vector ``{index: value}`` (the hashing trick).

Shared by training (``bench/train_classifier.py``) and inference, so both see the
same numbers. Pure Python: ``zlib.crc32`` names a feature's index, stable across
processes and Python versions (``hash()`` is salted per process and would not be).

What a post becomes (each group is scaled to unit length, so a long post does not
outvote a short one):

- ``w:`` word unigrams and ``b:`` bigrams of the normalised text (lower-case; URLs,
  @mentions and digits folded; a letter repeated three times or more kept twice:
  "soooo" -> "soo"); emojis are words of their own;
- ``n:`` the words in the scope of a negation ("not", "never", "n't", "pas", "nicht",
  "no", "non", "niet", "não", ...; three words on), so "not good" is not "good";
- ``l:`` the words of the last clause (after the last "but", "though", "pero", "mais",
  "aber", "ma", "maar", "mas" or sentence end): "Nice fabric, terrible fit" ends on
  the complaint;
- ``c:`` character 2- to 5-grams inside each word (typos, inflections, other
  languages: "amazng" still shares most of its n-grams with "amazing"), counted
  (not binary) so that a model can sum them word by word;
- ``d:`` dense lexicon and rule features: VADER's compound, positive and negative
  shares for the whole post, its first and its last clause; which intent the VADER
  rules would say; the cue patterns behind those rules (buying signal, strong and weak
  complaint cues, question, praise phrase, something we are blamed for); the
  "then and now" cue ("used to", "anymore", "since the update", "früher", "antes era",
  ...); eye-roll emojis; all capitals; emoji-only; length buckets.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
import zlib
from collections.abc import Callable

#: the size of the hashed space (indices are ``crc32(name) % DIM``)
DIM = 1 << 18

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
_REPEAT = re.compile(r"(\w)\1{2,}")
#: a word, or one pictograph (emoji), or a run of ?/! marks
_TOKEN = re.compile(
    r"[^\W\d_](?:[\w'\u2019-]*\w)?|0|[\u2600-\u27bf\U0001f000-\U0001faff]|[?!¿¡]+|…|\.\.\.",
    re.UNICODE,
)
_EMOJI = re.compile(r"[\u2600-\u27bf\U0001f000-\U0001faff]")
_EMOJI_JOINERS = re.compile(r"[\ufe0f\u200d\U0001f3fb-\U0001f3ff]")

_NEGATOR_WORDS = """not no never nothing nobody none cannot cant can't don't dont doesn't
    doesnt didn't didnt won't wont isn't isnt wasn't aren't ain't hardly without n't
    pas jamais rien personne ni nicht kein keine keinen nie niemals nichts niemand
    nunca nada nadie tampoco nem não nao nenhum ninguém non mai nessuno niente
    niet geen nooit niets niemand"""
_NEGATORS = frozenset(_NEGATOR_WORDS.split())
_CLAUSE_BREAK = re.compile(
    r"[.!?;]+\s+|\s+(?:but|though|although|however|except|yet|pero|aunque|sin\s+embargo|"
    r"mais|cependant|aber|jedoch|doch|ma|però|maar|mas|porém|embora)\s+",
    re.IGNORECASE,
)
#: "used to be great", "not anymore": a complaint about how things went
_THEN_AND_NOW = re.compile(
    r"\bused\s+to\b|\banymore\b|\bany\s+more\b|\bno\s+longer\b|\bnot\s+what\s+it\s+(was|used)\b"
    r"|\bsince\s+the\s+(update|new|change|redesign)|\bgone\s+downhill\b|\bonce\s+(the|my|a)\b"
    r"|\bremember\s+when\b|\bthe\s+old\b|\bsolía\b|\bantes\s+(era|eran|era\s+mi)\b|\bya\s+no\b"
    r"|\bautrefois\b|\bavant\s+c'était\b|\bc'était\s+(ma|mon|le|la)\b|\bdepuis\s+(la|le)\b"
    r"|\bfrüher\b|\bseit\s+dem\s+update\b|\bnicht\s+mehr\b|\buna\s+volta\b|\bnon\s+più\b"
    r"|\bvroeger\b|\bniet\s+meer\b|\bantes\s+era\b|\bnão\s+é\s+mais\b|\bjá\s+foi\b",
    re.IGNORECASE,
)
#: words for something that went wrong; under positive words they point to sarcasm
_PROBLEM = re.compile(
    r"\b(crash\w*|outage|down|broke\w*|broken|cancel\w*|missed|missing|lost|late|delay\w*"
    r"|wait\w*|hold|queue|stuck|fail\w*|error|bug\w*|dead|dies|died|cracked|leak\w*"
    r"|wrong|cold|stale|refund|fee|fees|charg\w*|overcharg\w*|increase|again"
    r"|nobody|no\s+one|ignor\w*|ghost\w*|logged\s+(me\s+)?out|signed\s+(me\s+)?out"
    r"|mould|hair|joke|knockoff|cardboard|worse|pills|shrank"
    r"|roto|rota|tarde|espera\w*|cancelad\w*|otra\s+vez|de\s+nuevo|cassé\w*|attente"
    r"|annulé\w*|encore|retard|kaputt|warte\w*|warteschleife|gestrichen|schon\s+wieder"
    r"|spät|schlecht\w*|quebrad\w*|esperando|atrasad\w*|de\s+novo|rott[oa]|attesa"
    r"|ritardo|di\s+nuovo|cancellat\w*|kapot|wacht\w*|geannuleerd|weer|te\s+laat"
    r"|slecht\w*|mauvais\w*|mala|malo|péssim\w*|pessim\w*)\b",
    re.IGNORECASE,
)
#: words of buying, in the seven languages: with a question they are purchase intent
_BUY = re.compile(
    r"\b(price[sd]?|pricing|cost|costs|cheap\w*|deal|deals|discount\w*|sale|buy\w*|purchas\w*"
    r"|order(ing)?|pre-?order|subscri\w*|plan|quote|financing|reserve|in\s+stock|size"
    r"|ship\s+to|deliver\s+to|available|afford|checkout|basket|cart|for\s+sale|get\s+one"
    r"|precio|cuesta|cu[aá]nto|vale|compr\w*|pedir|venta|descuento|oferta|tienen|talla"
    r"|prix|co[uû]te?|combien|achet\w*|command\w*|abonnement|r[ée]duction|promo|dispo\w*"
    r"|taille|preis|kost\w*|wie\s?viel|kauf\w*|bestell\w*|vorbestell\w*|rabatt|angebot"
    r"|gr[öo](ß|ss)e|pre[cç]o|quanto|custa|sai|encomend\w*|desconto|tamanho|prezzo|costa"
    r"|ordin\w*|sconto|taglia|prijs|kopen|korting|aanbieding|maat|abonnement)\b",
    re.IGNORECASE,
)
_EYE_ROLL = frozenset("\U0001f643\U0001f644\U0001f612\U0001f611\U0001f610\U0001f480\U0001f921")
_LAUGH = re.compile(r"\b(lol|lmao|lmfao|rofl|haha\w*|jaja\w*|kkk+|mdr|ahah\w*|xd)\b", re.I)


@functools.lru_cache(maxsize=1 << 17)
def index(name: str) -> int:
    """The hashed index of a feature's name (cached: n-grams repeat across posts)."""
    return zlib.crc32(name.encode("utf-8")) % DIM


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _EMOJI_JOINERS.sub("", text)
    text = _URL.sub(" url ", text)
    text = _MENTION.sub(" @user ", text)
    text = _DIGITS.sub("0", text)
    text = _REPEAT.sub(r"\1\1", text)
    return text.lower()


def tokens(text: str) -> list[str]:
    """Words, emojis and ?/! runs of normalised text (``normalise`` first)."""
    return [t.replace("\u2019", "'") for t in _TOKEN.findall(text)]


def _clauses(text: str) -> list[str]:
    return [part for part in _CLAUSE_BREAK.split(text) if part and part.strip()]


def _problems(text: str) -> int:
    """How many problem words, leaving out negated ones ("never had a broken one")."""
    count = 0
    for match in _PROBLEM.finditer(text):
        before = tokens(text[: match.start()].lower())[-3:]
        if not any(w in _NEGATORS or w.endswith("n't") for w in before):
            count += 1
    return count


def _add_group(vector: dict[int, float], names: list[str]) -> None:
    """Add a group of binary features scaled to unit length."""
    unique = set(names)
    if not unique:
        return
    weight = 1.0 / math.sqrt(len(unique))
    for name in unique:
        position = index(name)
        vector[position] = vector.get(position, 0.0) + weight


@functools.lru_cache(maxsize=16)
def _normalised_words(text: str) -> tuple[str, tuple[str, ...]]:
    """``normalise(text)`` and its tokens, kept for the few texts last seen: a
    classifier featurizes a post and then measures its coverage on the same words."""
    norm = normalise(text)
    return norm, tuple(tokens(norm))


def word_names(text: str) -> list[str]:
    """The ``w:`` names of a post's words (what the model's coverage is measured on)."""
    return ["w:" + token for token in _normalised_words(text)[1] if token[0] not in "?!¿¡."]


def featurize(
    text: str,
    polarity_scores: Callable[[str], dict],
    rules: Callable[[str, float], dict[str, bool | str]],
) -> dict[int, float]:
    """The sparse feature vector of ``text``.

    ``polarity_scores`` is VADER's (``{"compound", "pos", "neg", "neu"}``) and ``rules``
    gives the rule cues and the rule intent for a text and its compound (see
    :meth:`..sentiment.VaderModel.cues`).
    """
    vector, words, weight = featurize_split(text, polarity_scores, rules)
    for word in words:
        for name in char_grams(word):
            position = index(name)
            vector[position] = vector.get(position, 0.0) + weight
    return vector


def featurize_split(
    text: str,
    polarity_scores: Callable[[str], dict],
    rules: Callable[[str, float], dict[str, bool | str]],
) -> tuple[dict[int, float], list[str], float]:
    """:func:`featurize` in two parts: the vector without the character n-grams, and
    the words those come from with the weight of each n-gram occurrence. A model
    sums each word's n-gram weights once and keeps the sum (words repeat across
    posts), so the n-grams, most of a post's features, cost one lookup a word."""
    vector: dict[int, float] = {}
    norm, words = _normalised_words(text)
    clauses = _clauses(norm)
    _lexical(vector, words, clauses)
    dense = _dense(text, words, len(clauses) > 1, polarity_scores, rules)
    for name, value in dense.items():
        position = index("d:" + name)
        vector[position] = vector.get(position, 0.0) + value
    vector[index("d:bias")] = 1.0
    gram_words = [w for w in words if len(w) > 1 and w[0] not in ".?!¿¡"]
    count = sum(len(char_grams(w)) for w in gram_words)
    return vector, gram_words, (1.0 / math.sqrt(count) if count else 0.0)


def _lexical(vector: dict[int, float], words: list[str], clauses: list[str]) -> None:
    """Words, bigrams, negated words, the last clause's words (the character n-grams
    are added by :func:`featurize`)."""
    _add_group(vector, ["w:" + w for w in words])
    _add_group(
        vector, [f"b:{a} {b}" for a, b in zip(["<s>", *words], [*words, "</s>"], strict=True)]
    )
    negated, left = [], 0
    for word in words:
        if word in _NEGATORS or word.endswith("n't"):
            left = 3
            continue
        if left:
            negated.append("n:" + word)
            left -= 1
        if word[0] in ".?!¿¡":
            left = 0
    _add_group(vector, negated)
    if len(clauses) > 1:
        _add_group(vector, ["l:" + w for w in tokens(clauses[-1])])


@functools.lru_cache(maxsize=1 << 16)
def char_grams(word: str) -> tuple[str, ...]:
    """The ``c:`` names of one word, every occurrence (the n-gram group counts
    occurrences, scaled to unit length over the post: see :func:`featurize_split`)."""
    padded = f" {word} "
    return tuple("c:" + padded[i : i + n] for n in (2, 3, 4, 5) for i in range(len(padded) - n + 1))


def _dense(text, words, several_clauses, polarity_scores, rules) -> dict[str, float]:
    """Lexicon (VADER) and rule features, by name."""
    dense: dict[str, float] = {}
    whole = polarity_scores(text)
    compound = float(whole["compound"])
    dense["vader"] = compound
    dense["vader_pos"] = float(whole["pos"])
    dense["vader_neg"] = float(whole["neg"])
    dense["vader+"] = max(compound, 0.0)
    dense["vader-"] = min(compound, 0.0)
    raw = _clauses(text) if several_clauses else []
    if len(raw) > 1:
        first_c = float(polarity_scores(raw[0])["compound"])
        last_c = float(polarity_scores(raw[-1])["compound"])
        dense["first_clause"] = first_c
        dense["last_clause"] = last_c
        dense["turns_sour"] = float(first_c > 0.05 and last_c < -0.05)
        dense["turns_sweet"] = float(first_c < -0.05 and last_c > 0.05)
    for name, value in rules(text, compound).items():
        if isinstance(value, str):
            dense[f"rule_{name}={value}"] = 1.0
        elif value:
            dense[f"rule_{name}"] = 1.0
    dense.update(_cues(text, compound))
    emojis = _EMOJI.findall(text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 6 and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        dense["all_caps"] = 1.0
    if emojis and not letters:
        dense["emoji_only"] = 1.0
        dense["emoji_only_x_vader"] = compound
    if "?" in text or "¿" in text:
        dense["question_mark"] = 1.0
        dense["question_x_vader-"] = min(compound, 0.0)
    count = len([w for w in words if w[0] not in ".?!¿¡"])
    bucket = "1" if count <= 1 else "2-3" if count <= 3 else "4-8" if count <= 8 else "9+"
    dense[f"len={bucket}"] = 1.0
    return dense


def _cues(text: str, compound: float) -> dict[str, float]:
    """Problem words, buying words, "then and now", eye-roll emojis, laughter."""
    cues: dict[str, float] = {}
    problems = _problems(text)
    if problems:
        cues["problem"] = min(problems, 3) / 3
        cues["problem_x_vader+"] = max(compound, 0.0) * min(problems, 3) / 3
    buying = len(_BUY.findall(text))
    if buying:
        cues["buy"] = min(buying, 2) / 2
        if "?" in text or "¿" in text:
            cues["buy_x_question"] = 1.0
    if _THEN_AND_NOW.search(text):
        cues["then_and_now"] = 1.0
    emojis = _EMOJI.findall(text)
    if any(e in _EYE_ROLL for e in emojis):
        cues["eye_roll"] = 1.0
        cues["eye_roll_x_vader+"] = max(compound, 0.0)
    if _LAUGH.search(text):
        cues["laugh"] = 1.0
        cues["laugh_x_vader"] = compound
    return cues
