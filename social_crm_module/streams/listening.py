"""Listening queries: which public posts name the brand or its products.

Pure and network-free. A query matches a post when

- one of its terms (keywords, product names, hashtags) occurs in the text, as
  whole words, case-insensitively (``#tag`` also matches the post's own tags);
- none of its exclusions occurs (same rule);
- its languages, when it has some, include one of the post's languages (a post
  that declares none does not pass a language filter).

Posts that tag the brand are not listening: the streams make them mentions,
replies or quotes, as the pull does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: a query with more terms than this is cut (each term is a regex alternative)
MAX_TERMS = 200
MAX_TERM_LENGTH = 100


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def split_terms(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Terms from a comma- or newline-separated string (or a list), folded, deduped."""
    if not value:
        return ()
    parts = re.split(r"[,\n]", value) if isinstance(value, str) else list(value)
    seen: dict[str, None] = {}
    for part in parts:
        term = _fold(str(part)).strip()
        if term and len(term) <= MAX_TERM_LENGTH:
            seen.setdefault(term, None)
    return tuple(seen)[:MAX_TERMS]


def _pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    # whole words: no letter, digit or underscore on either side (works for #tags too)
    return re.compile(rf"(?<![\w#@])(?:{alternatives})(?!\w)")


@dataclass(frozen=True)
class ListeningQuery:
    """One listening query; ``key`` names it back to its owner (an Odoo id)."""

    key: str
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        key: str,
        *,
        keywords: str | Iterable[str] | None = None,
        hashtags: str | Iterable[str] | None = None,
        products: str | Iterable[str] | None = None,
        languages: str | Iterable[str] | None = None,
        exclusions: str | Iterable[str] | None = None,
    ) -> ListeningQuery:
        tags = tuple(t.lstrip("#") for t in split_terms(hashtags) if t.lstrip("#"))
        langs = tuple(lang.split("-")[0] for lang in split_terms(languages))
        return cls(
            key=str(key),
            keywords=split_terms(keywords),
            hashtags=tags,
            products=split_terms(products),
            languages=langs,
            exclusions=split_terms(exclusions),
        )

    def __post_init__(self) -> None:
        terms = [*self.keywords, *self.products, *(f"#{t}" for t in self.hashtags)]
        object.__setattr__(self, "_terms", _pattern(terms))
        object.__setattr__(self, "_exclusions", _pattern(self.exclusions))

    @property
    def empty(self) -> bool:
        return not (self.keywords or self.hashtags or self.products)

    def allows(self, text: str, *, langs: Iterable[str] = ()) -> bool:
        """The query's filters alone (exclusions, languages): for a post a network
        already matched against the query's terms (X's filtered-stream rules)."""
        if self._exclusions is not None and self._exclusions.search(_fold(text or "")):
            return False
        if self.languages:
            post_langs = {_fold(lang).split("-")[0] for lang in langs if lang}
            return bool(post_langs & set(self.languages))
        return True

    def matches(self, text: str, *, langs: Iterable[str] = (), tags: Iterable[str] = ()) -> bool:
        if self.empty:
            return False
        folded = _fold(text or "")
        own_tags = {_fold(t).lstrip("#") for t in tags}
        hit = bool(self._terms.search(folded)) or bool(own_tags & set(self.hashtags))
        return hit and self.allows(text, langs=langs)


def first_match(
    queries: Sequence[ListeningQuery],
    text: str,
    *,
    langs: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> str | None:
    """The key of the first query that matches, or ``None``."""
    langs, tags = tuple(langs), tuple(tags)
    for query in queries:
        if query.matches(text, langs=langs, tags=tags):
            return query.key
    return None
