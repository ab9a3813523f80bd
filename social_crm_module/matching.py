"""Handle normalisation and author -> partner matching rules (pure functions).

Matching is verifiable or it is a suggestion:

- a link is *confirmed* only on a signal the network itself vouches for: an email
  address it exposes, a Bluesky handle that is the partner's website domain, a
  Mastodon profile link verified (rel=me) to the partner's website domain;
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

from .interaction import Author, Network

# -- handles ------------------------------------------------------------------------

_X_HANDLE = re.compile(r"[a-z0-9_]{1,15}")
# Mastodon usernames: letters, digits, underscores; dots and dashes inside (remote
# servers allow them).
_MASTODON_USER = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,62}[a-z0-9_])?")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_DID = re.compile(r"did:(?:plc:[a-z2-7]{24}|web:[a-zA-Z0-9._:%-]+)")

#: first path segments on x.com / twitter.com that are pages, not people
_X_RESERVED = frozenset(
    {
        "home",
        "explore",
        "search",
        "i",
        "intent",
        "share",
        "settings",
        "notifications",
        "messages",
        "compose",
        "hashtag",
        "login",
        "logout",
        "signup",
        "tos",
        "privacy",
        "about",
        "account",
        "download",
        "jobs",
        "bookmarks",
        "lists",
        "communities",
        "premium",
        "premium_sign_up",
        "help",
        "rules",
        "oauth",
        "oauth2",
        "following",
        "followers",
        "trends",
        "topics",
        "moments",
        "spaces",
        "grok",
    }
)
_X_HOSTS = frozenset(
    {
        "x.com",
        "www.x.com",
        "mobile.x.com",
        "twitter.com",
        "www.twitter.com",
        "mobile.twitter.com",
    }
)
_BSKY_HOSTS = frozenset({"bsky.app", "www.bsky.app"})
#: sites that also put people at ``/@name`` but are not Mastodon
_NOT_MASTODON = frozenset(
    {
        "medium.com",
        "youtube.com",
        "m.youtube.com",
        "tiktok.com",
        "threads.net",
        "threads.com",
        "substack.com",
        "pixiv.net",
    }
)


def _network(network: Network | str) -> Network:
    try:
        return Network(network)
    except ValueError:
        raise ValueError(f"unknown network {network!r}") from None


def _valid_host(host: str) -> bool:
    """A DNS host name with at least two labels (``example.com``), lowercase."""
    if not host or len(host) > 253:
        return False
    labels = host.split(".")
    if len(labels) < 2:
        return False
    return all(_HOST_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def _instance_host(instance: str) -> str:
    """``mastodon.social``, ``https://Mastodon.Social/`` -> ``mastodon.social``."""
    text = (instance or "").strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.strip("/").rstrip(".")
    if not _valid_host(text):
        raise ValueError(f"invalid Mastodon instance {instance!r}")
    return text


def normalize_handle(network: Network | str, handle: str, *, instance: str = "") -> str:
    """Return the canonical form of ``handle`` on ``network``.

    - X: without the leading ``@``, lowercase (``@Acme_Co`` -> ``acme_co``);
    - Mastodon: ``user@instance`` lowercase; ``@user@instance`` is accepted, and a
      bare ``user`` is completed with ``instance`` when one is given;
    - Bluesky: lowercase handle without ``@``; DIDs (``did:plc:``, ``did:web:``) as-is;
    - Feed: the author URI or name, stripped.

    Raises ``ValueError`` naming the problem for empty or invalid handles.
    """
    net = _network(network)
    if not isinstance(handle, str):
        raise ValueError(f"a {net.value} handle must be a string, got {type(handle).__name__}")
    text = handle.strip()
    if not text:
        raise ValueError(f"empty {net.value} handle")
    if net is Network.FEED:
        return text
    if any(ch.isspace() for ch in text):
        raise ValueError(f"a {net.value} handle cannot contain spaces: {handle!r}")

    return _NORMALIZERS[net](text, handle, instance)


def _strip_at(text: str) -> str:
    return text[1:] if text.startswith("@") else text


def _normalize_x(text: str, original: str, _instance: str) -> str:
    name = _strip_at(text).lower()
    if not _X_HANDLE.fullmatch(name):
        raise ValueError(f"invalid X handle {original!r}: 1 to 15 letters, digits or underscores")
    return name


def _normalize_mastodon(text: str, original: str, instance: str) -> str:
    user, sep, host = _strip_at(text).partition("@")
    user = user.lower()
    if not _MASTODON_USER.fullmatch(user):
        raise ValueError(f"invalid Mastodon username in {original!r}")
    if sep:
        host = host.lower().rstrip(".")
        if not _valid_host(host):
            raise ValueError(f"invalid Mastodon instance in {original!r}")
        return f"{user}@{host}"
    if instance:
        return f"{user}@{_instance_host(instance)}"
    return user


def _normalize_bluesky(text: str, original: str, _instance: str) -> str:
    if text.startswith("did:"):
        if not _DID.fullmatch(text):
            raise ValueError(f"invalid Bluesky DID {original!r}")
        return text
    name = _strip_at(text).lower().rstrip(".")
    if not _valid_host(name):
        raise ValueError(
            f"invalid Bluesky handle {original!r}: expected a domain like alice.bsky.social"
        )
    return name


_NORMALIZERS = {
    Network.X: _normalize_x,
    Network.MASTODON: _normalize_mastodon,
    Network.BLUESKY: _normalize_bluesky,
}


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

    Understands ``x.com/<user>`` (and twitter.com, mobile.twitter.com, with or
    without ``@``), ``https://<instance>/@user``, ``https://<instance>/@user@other``
    and ``https://<instance>/users/user`` (Mastodon), ``https://bsky.app/profile/<handle
    or DID>``. Raises ``ValueError`` naming what was wrong for anything else.
    """
    host, path = _split_profile_url(url)
    segments = [unquote(s) for s in path.split("/") if s]
    if any(ch.isspace() or not ch.isprintable() for s in segments[:2] for ch in s):
        # decoded, "acme%0A" would be stripped into a valid-looking "acme"
        raise ValueError("a profile URL's path cannot contain spaces or control characters")

    if host in _X_HOSTS:
        if not segments:
            raise ValueError(f"{host} URL has no user name in its path")
        first = segments[0]
        if first.lstrip("@").lower() in _X_RESERVED:
            raise ValueError(f"{host}/{first} is not a profile page")
        return Network.X, normalize_handle(Network.X, first)

    if host in _BSKY_HOSTS:
        if len(segments) < 2 or segments[0] != "profile":
            raise ValueError(f"{host} URL is not a profile (expected /profile/<handle>)")
        return Network.BLUESKY, normalize_handle(Network.BLUESKY, segments[1])

    if not _valid_host(host):
        raise ValueError(f"invalid host {host!r}")
    if domain_of(host) in _NOT_MASTODON:
        raise ValueError(f"{host} is not a supported network (X, Mastodon or Bluesky)")
    if segments and segments[0].startswith("@") and len(segments[0]) > 1:
        acct = segments[0][1:]
        if "@" not in acct:
            acct = f"{acct}@{host}"
        return Network.MASTODON, normalize_handle(Network.MASTODON, acct)
    if len(segments) >= 2 and segments[0] == "users":
        return Network.MASTODON, normalize_handle(Network.MASTODON, segments[1], instance=host)
    raise ValueError(f"not a recognised profile URL (X, Mastodon or Bluesky): {host}")


def domain_of(url_or_host: str) -> str:
    """``'https://www.Example.com:8080/x'`` -> ``'example.com'``; ``''`` if invalid."""
    return _host_and_path(url_or_host)[0]


def _host_and_path(url_or_host: str) -> tuple[str, str]:
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
    if not _valid_host(host):
        return "", ""
    return host, parts.path + (f"?{parts.query}" if parts.query else "")


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
    host, path = _host_and_path(url_or_host)
    if not host or _PSL.privatesuffix(host) is None:
        return ""
    registrable = _PSL_ICANN.privatesuffix(host) or ""
    segments = [unquote(part) for part in path.split("?", 1)[0].split("/") if part]
    if registrable in PATH_SHARED_HOSTS and (segments or "?" in path):
        return ""
    if segments and (segments[0][:1] in ("@", "~") or segments[0].lower() in _PERSON_SEGMENTS):
        return ""
    return host


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
REASON_BLUESKY_DOMAIN = "bluesky_domain"
REASON_MASTODON_VERIFIED_LINK = "mastodon_verified_link"
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
        for email in _emails(author.email):
            pid = _only(self._by_email.get(email))
            if pid is not None:
                return Match(pid, REASON_EMAIL, True)

        if author.network is Network.BLUESKY:
            pid = self._bluesky_domain(author.handle)
            if pid is not None:
                return Match(pid, REASON_BLUESKY_DOMAIN, True)

        if author.network is Network.MASTODON and author.verified_links:
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
                return Match(pid, REASON_MASTODON_VERIFIED_LINK, True)

        key = name_key(author.display_name)
        if len(key.split()) >= 2:
            pid = _only(self._by_name.get(key))
            if pid is not None:
                return Match(pid, REASON_SAME_NAME, False)
        return None

    def _bluesky_domain(self, handle: str) -> int | None:
        try:
            normalized = normalize_handle(Network.BLUESKY, handle or "")
        except ValueError:
            return None
        if normalized.startswith("did:") or site_of(normalized) != normalized:
            return None  # a DID, or a hosting suffix itself (no one's site)
        return _only(self._by_domain.get(normalized))
