"""One place that decides whether a URL from a network may be kept.

Text from a network is untrusted, and so are its URLs: a ``javascript:`` link, a
``data:`` image, ``https://bank.example@evil.example/`` or an avatar served over
plain http (loaded by every browser that opens the contact) must never reach a
record. Every connector cleans every URL it keeps with :func:`clean_url`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

#: longer URLs are refused rather than stored (browsers and proxies choke past ~2k)
MAX_URL_LENGTH = 2048
_FORBIDDEN = frozenset("\x00\t\n\r\x0b\x0c ")


def clean_url(value: Any, *, https_only: bool = False, base: str = "") -> str:
    """``value`` as an absolute http(s) URL, or ``""`` when it cannot be kept.

    - only a string; surrounding whitespace is dropped, inner whitespace or control
      characters refuse it;
    - a relative URL is resolved against ``base`` when one is given (feeds),
      otherwise refused;
    - the scheme is ``https`` (or ``http`` unless ``https_only``), there is a
      host, a valid port if any, and no ``user:password@`` part;
    - at most :data:`MAX_URL_LENGTH` characters.

    The URL is returned as written (not re-encoded), so what was proven stays what
    was seen.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_URL_LENGTH or any(ch in _FORBIDDEN for ch in text):
        return ""
    schemes = ("https",) if https_only else ("https", "http")
    try:
        if base and not _has_scheme(text):
            # a relative URL: only against a base that is itself acceptable
            text = urljoin(base, text) if clean_url(base, https_only=https_only) else ""
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return ""
    acceptable = (
        parts.scheme.lower() in schemes
        and bool(parts.hostname)
        and "@" not in parts.netloc  # no user:password@, no bank.example@evil.example
        and len(text) <= MAX_URL_LENGTH
    )
    return text if acceptable else ""


def _has_scheme(text: str) -> bool:
    head = text.split("/", 1)[0]
    return ":" in head and not head.startswith(":")
