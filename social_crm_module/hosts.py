"""Host names and domains, shared by the networks' handle rules and matching."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def valid_host(host: str) -> bool:
    """A DNS host name with at least two labels (``example.com``), lowercase."""
    if not host or len(host) > 253:
        return False
    labels = host.split(".")
    if len(labels) < 2:
        return False
    return all(_HOST_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def domain_of(url_or_host: str) -> str:
    """``'https://www.Example.com:8080/x'`` -> ``'example.com'``; ``''`` if invalid."""
    return host_and_path(url_or_host)[0]


def host_and_path(url_or_host: str) -> tuple[str, str]:
    """(lowercase host without ``www.``, path with query) of an http(s) URL or a bare
    host; ``("", "")`` if it is neither."""
    text = url_or_host.strip() if isinstance(url_or_host, str) else ""
    if not text:
        return "", ""
    if "://" not in text:
        if ":" in text.split("/", 1)[0] and not re.match(r"^[^:/]+:\d+(?:/|$)", text):
            return "", ""  # another scheme (mailto:, javascript:, ...)
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return "", ""
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        return "", ""
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if not valid_host(host):
        return "", ""
    return host, parts.path + (f"?{parts.query}" if parts.query else "")


#: the domain a host belongs to, for "is this site that network" questions
registrable_domain = domain_of
