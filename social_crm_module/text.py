"""Text as networks send it: how long it is against a network's limit, and the
plain text of an HTML fragment.

Three rules, one per network family: Bluesky counts graphemes (what a person sees
as one character); Mastodon counts code points with every URL as 23 and a remote
mention as its user part only; X weighs each character (1 for most Latin, Greek,
Cyrillic and punctuation, 2 for CJK and everything else, 2 for an emoji however
many code points it has, 23 for a URL) after NFC normalisation, as its
``twitter-text`` library does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser

#: what Mastodon and X count a URL as, whatever its length
URL_LENGTH = 23
URL_IN_TEXT = re.compile(r"https?://\S+")
_MENTION_IN_TEXT = re.compile(r"@([A-Za-z0-9_][A-Za-z0-9_.-]*)@[A-Za-z0-9.-]+[A-Za-z0-9]")
#: code point ranges X counts as 1 (twitter-text v3 configuration); the rest count 2
_X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


def clusters(text: str) -> Iterator[str]:
    """Split into user-perceived characters, close enough to Unicode's extended
    grapheme clusters.

    Combining marks, variation selectors, skin-tone modifiers, emoji tags and
    whatever follows a zero-width joiner extend the previous character; regional
    indicators pair up into one flag; CR LF is one.
    """
    current = ""
    joined = pending_flag = False
    previous = ""
    for char in text:
        code = ord(char)
        extends = bool(current) and (
            joined
            or code == 0x200D
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
            or unicodedata.category(char) in ("Mn", "Me", "Mc")
            or (char == "\n" and previous == "\r")
        )
        if 0x1F1E6 <= code <= 0x1F1FF:
            if pending_flag:
                extends, pending_flag = True, False
            else:
                pending_flag = not extends
        elif not extends:
            pending_flag = False
        if extends:
            current += char
        else:
            if current:
                yield current
            current = char
        joined = code == 0x200D
        previous = char
    if current:
        yield current


def graphemes(text: str) -> int:
    """How many characters a person sees (Bluesky's count)."""
    return sum(1 for _cluster in clusters(text))


def mastodon_length(text: str) -> int:
    """Length as Mastodon counts it: URLs are 23, remote mentions count their user only."""
    text = URL_IN_TEXT.sub("x" * URL_LENGTH, text)
    text = _MENTION_IN_TEXT.sub(lambda m: "@" + m.group(1), text)
    return len(text)


def _is_emoji(cluster: str) -> bool:
    return any(
        ord(c) >= 0x1F000 or ord(c) in (0x200D, 0xFE0F) or 0x2600 <= ord(c) <= 0x27BF
        for c in cluster
    )


def _x_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in _X_LIGHT) else 2


def x_length(text: str) -> int:
    """Length as X counts it against 280 (its "weighted length")."""
    text = unicodedata.normalize("NFC", text)
    urls = len(URL_IN_TEXT.findall(text))
    total = URL_LENGTH * urls
    for cluster in clusters(URL_IN_TEXT.sub("", text)):
        total += 2 if _is_emoji(cluster) else sum(_x_weight(c) for c in cluster)
    return total


# -- HTML to text ----------------------------------------------------------------------

_SPACES = re.compile(r"[^\S\n]+")  # any white space but a line break
_BLANK_LINES = re.compile(r"\n\s*\n+")


class HTMLText(HTMLParser):
    """Collects the text of an HTML fragment, and its links' targets; drops markup,
    scripts and styles.

    ``html.parser`` never fetches anything: character references are decoded from
    its own table, and there are no external entities to resolve.
    """

    SKIP = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
    BREAK = frozenset({"br"})
    BLOCK = frozenset({"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BREAK:
            self.parts.append("\n")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)

    def text(self) -> str:
        return tidy("".join(self.parts))


def parse_html(value: object) -> HTMLText:
    parser = HTMLText()
    if isinstance(value, str) and value:
        parser.feed(value)
        parser.close()
    return parser


def html_to_text(value: object) -> str:
    """Plain text of an HTML fragment: text kept, markup dropped, whitespace tidied.

    The result is still untrusted text (``&lt;b&gt;`` becomes ``<b>``): whoever
    renders it escapes it.
    """
    if not isinstance(value, str) or not value:
        return ""
    if "<" not in value and "&" not in value:
        return tidy(value)
    return parse_html(value).text()


def tidy(text: str) -> str:
    """Runs of spaces folded, lines stripped, at most one blank line in a row."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
