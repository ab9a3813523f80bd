"""Handle normalisation and author -> partner matching rules (pure functions).

Matching is verifiable or it is a suggestion:

- a link is *confirmed* only on a signal the network itself vouches for, as its
  connector declares it: an email address it exposes, a handle that is a domain
  its owner proved to control (Bluesky) and the partner's website domain, a profile
  link the network verified (Mastodon rel=me) to the partner's website domain;
- a network that vouches for nothing (feeds) only ever suggests;
- a website is a site only when one party controls it (see :func:`site_of`): a
  public suffix (``co.uk``, and the hosting suffixes of the Public Suffix List's
  private section: ``github.io``, ``blogspot.com``, ``netlify.app`` ...) is nobody's,
  and a person's page on a shared host (``linktr.ee/name``, ``github.com/name``,
  ``instance.example/@name``) proves nothing about the host;
- a same-name match is only a *suggestion* (``confirmed=False``) that a user
  confirms or rejects;
- when a signal points at more than one partner, nobody is linked.

Nothing here touches a database or a network: the Odoo layer builds a
:class:`PartnerIndex` once per page of interactions and asks it about each author.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import getaddresses
from urllib.parse import unquote, urlsplit

from publicsuffixlist import PublicSuffixList

from . import registry
from .connectors.base import Connector
from .hosts import domain_of, host_and_path, valid_host
from .interaction import Author, Network

# -- handles ------------------------------------------------------------------------


def _connector(network: Network | str):
    return registry.get(str(network))


def normalize_handle(network: Network | str, handle: str, *, instance: str = "") -> str:
    """Return the canonical form of ``handle`` on ``network``, by that network's own
    rule (``Connector.normalize_handle``): ``@Acme_Co`` -> ``acme_co`` on X,
    ``user@instance`` on Mastodon, a lowercase domain or a DID on Bluesky, ...

    Raises ``ValueError`` naming the problem for empty or invalid handles and
    unknown networks.
    """
    cls = _connector(network)
    if not isinstance(handle, str):
        raise ValueError(f"a {cls.code} handle must be a string, got {type(handle).__name__}")
    text = handle.strip()
    if not text:
        raise ValueError(f"empty {cls.code} handle")
    if cls.normalize_handle.__func__ is not Connector.normalize_handle.__func__ and any(
        ch.isspace() for ch in text
    ):
        raise ValueError(f"a {cls.code} handle cannot contain spaces: {handle!r}")
    return cls.normalize_handle(text, instance=instance)


def _split_profile_url(url: str) -> tuple[str, str]:
    """Check that ``url`` is a plain http(s) URL; return (host, path)."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("empty profile URL")
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ValueError("not a valid URL") from None  # never echoed: it may hold a password
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"only http(s) profile URLs are accepted, not {scheme or 'no scheme'!r}")
    if not host:
        raise ValueError("the URL has no host")
    if parts.username or parts.password:
        raise ValueError("profile URLs must not carry a user name or password")
    return host, parts.path


def parse_profile_url(url: str) -> tuple[Network, str]:
    """Turn a profile URL into ``(network, normalised handle)``.

    Each registered network is asked in turn (``Connector.handle_from_profile_url``,
    networks with fixed hosts first): ``x.com/<user>``, ``bsky.app/profile/<handle>``,
    ``https://<instance>/@user``, ... Raises ``ValueError`` naming what was wrong for
    anything no network recognises.
    """
    host, path = _split_profile_url(url)
    host = host.lower()
    segments = [unquote(s) for s in path.split("/") if s]
    if any(ch.isspace() or not ch.isprintable() for s in segments[:2] for ch in s):
        # decoded, "acme%0A" would be stripped into a valid-looking "acme"
        raise ValueError("a profile URL's path cannot contain spaces or control characters")
    for cls in sorted(registry.connectors(), key=lambda c: c.profile_url_order):
        handle = cls.handle_from_profile_url(host, segments)
        if handle:
            return cls.network, handle
    if not valid_host(host):
        raise ValueError(f"invalid host {host!r}")
    names = ", ".join(cls.label for cls in registry.connectors() if not cls.suggestions_only)
    raise ValueError(f"not a recognised profile URL ({names}): {host}")


#: The Public Suffix List as the library ships it (never fetched at run time), with
#: and without its private section (the hosting platforms' suffixes).
_PSL = PublicSuffixList()
_PSL_ICANN = PublicSuffixList(only_icann=True)

#: Shared hosts the Public Suffix List cannot know, because people get *paths* on
#: them, not subdomains: link-in-bio services, and the big platforms where a
#: person's page is ``host/name``. A path on one of them (by registrable domain)
#: proves nothing about the host; subdomain-shared hosts (``github.io``,
#: ``blogspot.com``, ``netlify.app`` ...) come from the PSL, not from here.
PATH_SHARED_HOSTS = frozenset(
    {
        # link-in-bio services
        "linktr.ee",
        "lnk.bio",
        "bio.link",
        "beacons.ai",
        "taplink.cc",
        "about.me",
        "campsite.bio",
        "solo.to",
        "msha.ke",
        "linkin.bio",
        "allmylinks.com",
        "hoo.be",
        # platforms with one page per person (or per site: sites.google.com/view/x)
        "google.com",
        "github.com",
        "gitlab.com",
        "bitbucket.org",
        "codeberg.org",
        "facebook.com",
        "instagram.com",
        "linkedin.com",
        "x.com",
        "twitter.com",
        "threads.net",
        "threads.com",
        "youtube.com",
        "tiktok.com",
        "reddit.com",
        "pinterest.com",
        "medium.com",
        "substack.com",
        "patreon.com",
        "ko-fi.com",
        "buymeacoffee.com",
        "bsky.app",
        "t.me",
        "wordpress.com",
        "tumblr.com",
    }
)
#: first path segments that are a person's page on any multi-user site
_PERSON_SEGMENTS = frozenset({"users", "user", "u", "profile", "people", "members", "member"})


def site_of(url_or_host: str) -> str:
    """The host a website (or a verified link) can prove, or ``""`` if it proves nothing.

    - the host must be under a public suffix of the Public Suffix List, and not be
      one itself: ``co.uk``, ``github.io``, ``netlify.app`` are nobody's site, while
      ``alice.github.io`` is Alice's (on a hosting suffix from the PSL's private
      section the label under the suffix is the unit; another label is another site);
    - a person's page on a shared host proves nothing about the host: any path on a
      :data:`PATH_SHARED_HOSTS` host, and ``/@name``, ``/~name``, ``/users/name``
      (and the like) on any host;
    - IP addresses, ``localhost`` and non-http(s) URLs prove nothing.
    """
    host, path = host_and_path(url_or_host)
    if not host or _PSL.privatesuffix(host) is None:
        return ""
    registrable = _PSL_ICANN.privatesuffix(host) or ""
    segments = [unquote(part) for part in path.split("?", 1)[0].split("/") if part]
    if registrable in PATH_SHARED_HOSTS and (segments or "?" in path):
        return ""
    if segments and (segments[0][:1] in ("@", "~") or segments[0].lower() in _PERSON_SEGMENTS):
        return ""
    return host


__all__ = ["PartnerIndex", "domain_of", "normalize_handle", "parse_profile_url", "site_of"]


def name_key(name: str) -> str:
    """A key for same-name comparison: casefolded, no accents, words only."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[\W_]+", " ", text)
    return " ".join(text.split())


# -- partners -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A partner as matching sees it."""

    partner_id: int
    name: str
    email: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """Which partner an author is, why, and whether that is proven or a suggestion."""

    partner_id: int
    reason: str
    confirmed: bool


REASON_EMAIL = "email"
#: the handle is a domain its owner proved to control (Bluesky), and the contact's
REASON_HANDLE_DOMAIN = "handle_domain"
#: a link the network verified (Mastodon rel=me) goes to the contact's website
REASON_VERIFIED_LINK = "verified_link"
REASON_SAME_NAME = "same_name"


def _emails(value: str) -> set[str]:
    if not value:
        return set()
    return {
        addr.strip().lower()
        for _name, addr in getaddresses([value.replace(";", ",")])
        if addr and "@" in addr
    }


def _add(index: dict[str, set[int]], key: str, partner_id: int) -> None:
    if key:
        index.setdefault(key, set()).add(partner_id)


def _only(ids: set[int] | None) -> int | None:
    if ids and len(ids) == 1:
        return next(iter(ids))
    return None


class PartnerIndex:
    """Candidates indexed by email, website domain and name key; O(1) per author."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self._by_email: dict[str, set[int]] = {}
        self._by_domain: dict[str, set[int]] = {}
        self._by_name: dict[str, set[int]] = {}
        for cand in candidates:
            for email in _emails(cand.email):
                _add(self._by_email, email, cand.partner_id)
            _add(self._by_domain, site_of(cand.website), cand.partner_id)
            key = name_key(cand.name)
            if len(key.split()) >= 2:
                _add(self._by_name, key, cand.partner_id)

    def match(self, author: Author) -> Match | None:
        """The partner ``author`` is, on verifiable signals, or a same-name suggestion."""
        try:
            network = _connector(author.network)
        except ValueError:
            return None
        if network.suggestions_only:  # a feed vouches for nothing, not even an email
            return self._same_name(author)

        for email in _emails(author.email):
            pid = _only(self._by_email.get(email))
            if pid is not None:
                return Match(pid, REASON_EMAIL, True)

        if network.handle_is_verified_domain:
            pid = self._domain_handle(network, author.handle)
            if pid is not None:
                return Match(pid, REASON_HANDLE_DOMAIN, True)

        if network.links_are_verified and author.verified_links:
            found: set[int] = set()
            for link in author.verified_links:
                if not isinstance(link, str) or not link.strip().lower().startswith(
                    ("http://", "https://")
                ):
                    continue
                ids = self._by_domain.get(site_of(link))
                if ids:
                    found |= ids
            pid = _only(found)
            if pid is not None:
                return Match(pid, REASON_VERIFIED_LINK, True)
        return self._same_name(author)

    def _same_name(self, author: Author) -> Match | None:
        key = name_key(author.display_name)
        if len(key.split()) >= 2:
            pid = _only(self._by_name.get(key))
            if pid is not None:
                return Match(pid, REASON_SAME_NAME, False)
        return None

    def _domain_handle(self, network: type[Connector], handle: str) -> int | None:
        try:
            normalized = network.normalize_handle((handle or "").strip())
        except ValueError:
            return None
        if not valid_host(normalized) or site_of(normalized) != normalized:
            return None  # a DID, or a hosting suffix itself (no one's site)
        return _only(self._by_domain.get(normalized))
