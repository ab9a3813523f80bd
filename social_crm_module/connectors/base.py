"""The interface every connector has, whatever network is behind it.

A connector is built with everything it needs injected (base URL, credentials,
options, a ``requests.Session`` and a timeout), so the same class runs inside
Odoo, on the command line and in tests against a server on 127.0.0.1.

Cursor contract for :meth:`Connector.fetch`:

- ``fetch(None)`` starts from now (or a short, bounded backfill);
- ``fetch(page.cursor)`` returns what came after that page; the caller stores
  ``page.cursor`` in the same transaction as the page's records;
- calling ``fetch`` twice with the same cursor may return the same items again
  (the caller dedupes on ``external_id``) but never skips one;
- ``page.has_more`` says another page is ready now; otherwise wait for the
  next scheduled run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import requests

from .. import registry
from ..errors import NotSupported
from ..http import DEFAULT_TIMEOUT, RateLimit, new_session, rate_limit_from_headers, request
from ..interaction import Author, Interaction, Network, Page
from ..urls import clean_url


class Connector:
    """Base class: subclasses implement ``fetch``, ``profiles`` and ``reply``.

    A subclass with a ``code`` is a network: defining it registers it (see
    :mod:`..registry`). Its class attributes and class methods declare what the
    rest of the add-on needs to know about the network, in one place.
    """

    #: the network's code, stored on every record (``"x"``); set it to register
    code: ClassVar[str] = ""
    #: what people call the network (``"X"``, ``"RSS / Atom feed"``)
    label: ClassVar[str] = ""
    #: the network's code as a :class:`Network` (set on registration)
    network: ClassVar[Network]
    #: the longest text ``reply`` accepts, shown by the Odoo composer
    max_text_length: ClassVar[int] = 500
    #: how many ids ``profiles`` asks for per request
    profile_batch_size: ClassVar[int] = 100
    #: credential keys this connector reads (for forms and the command line)
    credential_keys: ClassVar[tuple[str, ...]] = ()
    #: the credential keys without which it cannot even read
    required_credentials: ClassVar[tuple[str, ...]] = ()
    #: option keys this connector reads from ``options``: the command line refuses
    #: any other, and each network's Odoo file sets no other (the suite checks it)
    option_keys: ClassVar[tuple[str, ...]] = ()
    #: the default base URL, if the network has one (then none has to be entered)
    default_base_url: ClassVar[str] = ""
    #: hosts whose profile pages belong to this network (``x.com``, ``bsky.app``)
    profile_hosts: ClassVar[frozenset[str]] = frozenset()
    #: profile URLs are tried network by network in this order (low first); a
    #: network that recognises profiles on any host (Mastodon) comes last
    profile_url_order: ClassVar[int] = 10
    #: the handle is a DNS name its owner proved to control (Bluesky): a handle
    #: equal to a contact's website domain is proof that it is them
    handle_is_verified_domain: ClassVar[bool] = False
    #: ``Author.verified_links`` were verified by the network (Mastodon rel=me)
    links_are_verified: ClassVar[bool] = False
    #: a network whose authors can never be linked automatically (feeds)
    suggestions_only: ClassVar[bool] = False
    #: the prefix of the rate-limit headers the network sends (``X-RateLimit``)
    rate_limit_prefix: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("code"):
            cls.network = Network._of(cls.code)
            registry.register(cls)

    # -- what the network is (class-level: no connection needed) ---------------------

    @classmethod
    def needs_base_url(cls) -> bool:
        """An account of this network must say its URL (an instance, a feed)."""
        return not cls.default_base_url

    @classmethod
    def capabilities(cls) -> frozenset[str]:
        """What the connector can do, from what it implements: ``check``,
        ``profiles``, ``reply``, ``dm``, ``like``, ``repost``, ``private_reply``."""
        methods = {
            "check": "check",
            "profiles": "profiles",
            "reply": "reply",
            "dm": "send_dm",
            "like": "like",
            "repost": "repost",
            "private_reply": "private_reply",
        }
        return frozenset(
            name
            for name, method in methods.items()
            if getattr(cls, method) is not getattr(Connector, method)
        )

    @classmethod
    def normalize_handle(cls, text: str, *, instance: str = "") -> str:
        """The canonical form of a handle someone typed (``text`` is stripped and
        non-empty); raise ``ValueError`` saying what is wrong. As typed by default."""
        return text

    @classmethod
    def handle_from_profile_url(cls, host: str, segments: list[str]) -> str | None:
        """The normalised handle of a profile page on ``host`` whose path is
        ``segments``; ``None`` when the URL is not this network's; ``ValueError``
        when it is this network's host but not a profile."""
        return None

    @classmethod
    def profile_url(cls, handle: str) -> str:
        """The public profile page of ``handle``, or ``""`` when there is none."""
        return ""

    def __init__(
        self,
        *,
        base_url: str = "",
        credentials: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.credentials = dict(credentials or {})
        self.options = dict(options or {})
        self.session = session if session is not None else new_session()
        self.timeout = timeout
        label = self.code or type(self).__name__
        if not clean_url(self.base_url):
            raise ValueError(f"{label}: the base URL must be an http(s) URL, without credentials")
        if not self.timeout or self.timeout <= 0:
            raise ValueError("a positive timeout is required")
        #: the rate-limit budget of the last response that said it, for the caller
        self.rate_limit: RateLimit | None = None
        #: credentials the connector refreshed while working (e.g. Bluesky session
        #: tokens); the caller persists them and passes them back next time
        self.updated_credentials: dict[str, str] = {}

    def __repr__(self) -> str:  # never show credentials
        return f"<{type(self).__name__} {self.base_url or self.network.value}>"

    # -- reading ---------------------------------------------------------------

    def check(self) -> Author:
        """Verify the credentials and return the brand's own profile."""
        raise NotSupported(f"{self.network.value}: check is not implemented")

    def fetch(self, cursor: str | None = None) -> Page:
        """Return the next page of interactions after ``cursor``."""
        raise NotImplementedError

    def iter_pages(self, cursor: str | None = None, max_pages: int | None = None) -> Iterator[Page]:
        """Walk pages lazily while ``has_more``; memory stays at one page."""
        count = 0
        while True:
            page = self.fetch(cursor)
            yield page
            count += 1
            cursor = page.cursor
            if not page.has_more or (max_pages is not None and count >= max_pages):
                return

    def profiles(self, ids: Iterable[str]) -> Iterator[Author]:
        """Look up authors by handle or id, ``profile_batch_size`` per request."""
        raise NotSupported(f"{self.network.value}: profile lookup is not supported")

    # -- writing ---------------------------------------------------------------

    def reply(self, to: str, text: str) -> Interaction:
        """Post ``text`` as a threaded reply to the interaction whose ``reply_ref`` is ``to``.

        Returns the posted reply (its ``url`` links to it).
        """
        raise NotSupported(f"{self.network.value}: replies are not supported")

    def send_dm(self, author_id: str, text: str) -> Interaction:
        """Send a private message to an author (by external id)."""
        raise NotSupported(f"{self.network.value}: direct messages are not supported")

    def private_reply(self, to: str, text: str, created_at: datetime | None = None) -> Interaction:
        """Answer a public comment (its ``reply_ref``) with one private message to its
        author (Meta's Private Replies); ``created_at`` is when the comment was made,
        when the caller knows it."""
        raise NotSupported(f"{self.network.value}: private replies are not supported")

    def like(self, to: str) -> None:
        raise NotSupported(f"{self.network.value}: likes are not supported")

    def repost(self, to: str) -> None:
        raise NotSupported(f"{self.network.value}: reposts are not supported")

    # -- helpers for subclasses --------------------------------------------------

    def _request(
        self, method: str, url: str, *, token: str = "", **kwargs: Any
    ) -> requests.Response:
        """The connector's one HTTP call: JSON accepted, a bearer ``token`` when
        given, the timeout as a total deadline, the body read within its cap, never a
        redirect (credentials do not follow one), the rate-limit budget noted."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        headers.update(kwargs.pop("headers", None) or {})
        return request(
            self.session,
            method,
            url,
            timeout=self.timeout,
            network=self.code,
            headers=headers,
            hooks={"response": self._note_response},
            allow_redirects=False,
            **kwargs,
        )

    def _note_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if self.rate_limit_prefix:
            budget = rate_limit_from_headers(response.headers, self.rate_limit_prefix)
            self.rate_limit = budget or self.rate_limit

    def option_int(self, key: str, default: int, maximum: int, minimum: int = 1) -> int:
        """An integer option, clamped to ``minimum..maximum``; ``default`` when it is
        missing or not a number."""
        try:
            value = int(self.options.get(key) or default)
        except (TypeError, ValueError):
            value = default
        return max(minimum, min(maximum, value))

    @staticmethod
    def text_length(text: str) -> int:
        """The length of ``text`` as the network counts it against
        :attr:`max_text_length` (see :mod:`..text`); code points by default."""
        return len(text)

    def check_text(self, text: str) -> str:
        text = (text or "").strip()
        if not text:
            raise ValueError("the text is empty")
        length = self.text_length(text)
        if length > self.max_text_length:
            raise ValueError(
                f"{self.network.value} accepts at most {self.max_text_length} characters, "
                f"this text has {length}"
            )
        return text


class SkipItem(Exception):
    """One item of a page that cannot become an interaction: the connector counts
    it in ``Page.skipped`` with its message in ``Page.problems``; never fatal."""


def batched(values: Iterable[str], size: int) -> Iterator[list[str]]:
    """Yield lists of at most ``size`` distinct, non-empty values, in order."""
    seen: set[str] = set()
    batch: list[str] = []
    for value in values:
        if not value or value in seen:
            continue
        seen.add(value)
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
