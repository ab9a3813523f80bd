"""X (Twitter) through tweepy's v2 ``Client``.

Reading uses the app-only bearer token when there is one, otherwise the OAuth 1.0a
user-context keys; writing (reply, like, repost, DM) always uses the user context.

How tweepy is tamed, without patching it:

- **Timeout, size cap and base URL.** ``tweepy.Client`` builds its own
  ``requests.Session``, sets no timeout and hardcodes ``https://api.twitter.com``.
  We replace ``client.session`` with :class:`_XSession`, a thin wrapper around the
  injected session whose ``request()`` sends every call through
  :func:`..http.send` (a total deadline of ``self.timeout``, the body read within
  its byte cap, no redirects followed: the credentials go only to ``base_url``) and
  swaps tweepy's host for ``base_url`` (so tests point it at 127.0.0.1). The OAuth
  1.0a signature is computed by requests on the rewritten URL, i.e. on the URL that
  is really sent.
- **No sleeping.** ``wait_on_rate_limit=False``: tweepy raises ``TooManyRequests``,
  which becomes :class:`~..errors.RateLimited` with ``retry_at`` read from
  ``x-rate-limit-reset``.
- **No secrets in logs.** tweepy logs request headers at DEBUG level, bearer token
  included; a filter on the ``tweepy.client`` logger redacts it.

Cursor: compact JSON, one state per stream (``mentions``, ``search``)::

    {"mentions": {"since": "<id>", "next": "<pagination token>", "top": "<id>"}, "search": {...}}

Cursors stored before the streams had these names say ``m`` and ``s``: they are
read as ``mentions`` and ``search``, and the next cursor uses the new names.

A sweep reads everything newer than ``since``, newest first, page by page with
``next``; ``top`` remembers the newest id seen in the sweep and becomes ``since``
once the last page is read. So a crash mid-sweep resumes at the same token (no
gap), pages never overlap (no repeat), and tweets posted during a sweep are read
by the next one. The very first fetch (no cursor) reads one page only and starts
from there: a short, bounded backfill. When both streams find the same tweet in
one fetch it is returned once; across fetches the caller dedupes on
``external_id``. Tweets by the brand itself are left out. A cursor X refuses
(stale pagination token, ``since_id`` older than recent search's 7 days) is
repaired rather than left stuck (see :func:`_recover`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

import requests
import tweepy

from ..errors import (
    AuthError,
    ConnectorError,
    NotFound,
    PayloadError,
    RateLimited,
    TransientError,
)
from ..http import retry_at_from_headers, send
from ..interaction import Author, Interaction, Kind, Network, Page, parse_datetime
from ..text import x_length
from ..urls import clean_url
from .base import Connector, SkipItem, batched

#: the host tweepy's Client hardcodes in ``BaseClient.request``
TWEEPY_HOST = "https://api.twitter.com"
WEB = "https://x.com"

TWEET_FIELDS = (
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "note_tweet",
)
USER_FIELDS = (
    "username",
    "name",
    "public_metrics",
    "profile_image_url",
    "url",
    "entities",
    "verified",
)
EXPANSIONS = (
    "author_id",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
    "in_reply_to_user_id",
)

#: the two streams a fetch reads, by their name in the cursor and in messages
MENTIONS, SEARCH = "mentions", "search"
#: the names older cursors gave them
_OLD_STREAM_KEYS = {MENTIONS: "m", SEARCH: "s"}
#: what X accepts as a username
_USERNAME = re.compile(r"[a-z0-9_]{1,15}")
#: first path segments on x.com / twitter.com that are pages, not people
_RESERVED_PATHS = frozenset(
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
_ID = re.compile(r"^[0-9]{1,25}$")
#: an X username: 1 to 15 letters, digits or underscores (nothing else is a user)
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


class _RedactBearer(logging.Filter):
    """tweepy logs ``Headers: {... 'Authorization': 'Bearer ...'}`` at DEBUG level."""

    _bearer = re.compile(r"(Bearer\s+)[^\s'\",}]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Bearer" in message:
            record.msg = self._bearer.sub(r"\1[redacted]", message)
            record.args = ()
        return True


_tweepy_log = logging.getLogger("tweepy.client")
if not any(isinstance(f, _RedactBearer) for f in _tweepy_log.filters):
    _tweepy_log.addFilter(_RedactBearer())


class _XSession:
    """What tweepy sees as ``client.session``: the injected session behind the HTTP
    choke point (total deadline, byte cap, no redirects), with tweepy's fixed host
    replaced by the connector's base URL."""

    def __init__(self, session: requests.Session, base_url: str, timeout: float) -> None:
        self.session = session
        self.base_url = base_url
        self.timeout = timeout

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if url.startswith(TWEEPY_HOST + "/") and self.base_url != TWEEPY_HOST:
            url = self.base_url + url[len(TWEEPY_HOST) :]
        timeout = kwargs.pop("timeout", None) or self.timeout
        kwargs["allow_redirects"] = False
        return send(self.session, method, url, timeout=timeout, network="x", **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


class XConnector(Connector):
    code = "x"
    label = "X"
    max_text_length = 280
    text_length = staticmethod(x_length)
    profile_batch_size = 100
    credential_keys = (
        "bearer_token",
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
    )
    default_base_url = TWEEPY_HOST
    #: options: ``user_id`` (the brand's numeric id, required for fetch), ``query``
    #: (recent search, e.g. "#brand OR brand"), ``max_results`` (10..100), and
    #: ``username`` (the brand's handle, used for the URLs of what it posts)
    option_keys: ClassVar[tuple[str, ...]] = ("user_id", "query", "max_results", "username")
    required_credentials = ("bearer_token",)
    profile_hosts = frozenset(
        {
            "x.com",
            "www.x.com",
            "mobile.x.com",
            "twitter.com",
            "www.twitter.com",
            "mobile.twitter.com",
        }
    )

    @classmethod
    def normalize_handle(cls, text: str, *, instance: str = "") -> str:
        """Without the leading ``@``, lowercase: ``@Acme_Co`` -> ``acme_co``."""
        name = text.removeprefix("@").lower()
        if not _USERNAME.fullmatch(name):
            raise ValueError(f"invalid X handle {text!r}: 1 to 15 letters, digits or underscores")
        return name

    @classmethod
    def handle_from_profile_url(cls, host: str, segments: list[str]) -> str | None:
        if host not in cls.profile_hosts:
            return None
        if not segments:
            raise ValueError(f"{host} URL has no user name in its path")
        first = segments[0]
        if first.lstrip("@").lower() in _RESERVED_PATHS:
            raise ValueError(f"{host}/{first} is not a profile page")
        return cls.normalize_handle(first)

    @classmethod
    def profile_url(cls, handle: str) -> str:
        return f"{WEB}/{handle}" if handle else ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        username = str(self.options.get("username") or "").strip().lstrip("@")
        if username and not _HANDLE.match(username):
            raise ValueError("x: the option username must be an X handle (1-15 letters, digits, _)")
        creds = self.credentials
        self.client = tweepy.Client(
            bearer_token=creds.get("bearer_token") or None,
            consumer_key=creds.get("consumer_key") or None,
            consumer_secret=creds.get("consumer_secret") or None,
            access_token=creds.get("access_token") or None,
            access_token_secret=creds.get("access_token_secret") or None,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        self.client.session = _XSession(self.session, self.base_url, self.timeout)

    # -- options and credentials ---------------------------------------------------

    @property
    def user_id(self) -> str:
        value = str(self.options.get("user_id") or "").strip()
        if not _ID.match(value):
            raise ConnectorError("x: the option user_id (the brand's numeric id) is required")
        return value

    @property
    def query(self) -> str:
        return str(self.options.get("query") or "").strip()

    def _max_results(self, low: int) -> int:
        try:
            value = int(self.options.get("max_results") or 100)
        except (TypeError, ValueError):
            value = 100
        return max(low, min(100, value))

    def _has_user_context(self) -> bool:
        keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        return all(self.credentials.get(k) for k in keys)

    def _read_auth(self) -> bool:
        """``user_auth`` for reads: app-only bearer if present, else user context."""
        if self.credentials.get("bearer_token"):
            return False
        if self._has_user_context():
            return True
        raise AuthError("x: no credentials (a bearer token or the OAuth 1.0a user keys)")

    def _write_auth(self) -> None:
        if not self._has_user_context():
            raise AuthError(
                "x: posting needs the OAuth 1.0a user-context keys "
                "(consumer key/secret, access token/secret)"
            )

    # -- the one place tweepy is called ------------------------------------------

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict:
        """Call a tweepy ``Client`` method; map everything to the error tree.

        Messages name the call, the status and X's own error text; never headers.
        """
        try:
            return self._call_x(what, method, *args, **kwargs)
        except _BadRequest as exc:
            raise ConnectorError(str(exc)) from exc.__cause__

    def _call_x(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict:
        """:meth:`_call`, but a 400 raises :class:`_BadRequest` (fetch repairs some)."""
        try:
            body = method(*args, **kwargs)
        except tweepy.HTTPException as exc:
            raise _http_error(what, exc) from exc
        except requests.Timeout as exc:
            raise TransientError(f"x: {what}: no answer within {self.timeout:g}s") from exc
        except (ValueError, RecursionError) as exc:  # not JSON (or nested too deep)
            raise PayloadError(f"x: {what} response is not valid JSON") from exc
        except requests.ConnectionError as exc:
            reason = type(exc).__name__
            raise TransientError(f"x: {what}: connection failed ({reason})") from exc
        except requests.RequestException as exc:
            reason = type(exc).__name__
            raise ConnectorError(f"x: {what}: request failed ({reason})") from exc
        except AttributeError as exc:  # tweepy reading an error body that is not an object
            raise PayloadError(f"x: {what}: unreadable error response") from exc
        if not isinstance(body, dict):
            kind = type(body).__name__
            raise PayloadError(f"x: {what} response should be a JSON object, got {kind}")
        return body

    # -- reading -----------------------------------------------------------------

    def check(self) -> Author:
        if self._has_user_context():
            body = self._call(
                "get_me", self.client.get_me, user_auth=True, user_fields=list(USER_FIELDS)
            )
        else:
            body = self._call(
                "get_user",
                self.client.get_user,
                id=self.user_id,
                user_auth=self._read_auth(),
                user_fields=list(USER_FIELDS),
            )
        data = body.get("data")
        author = _author(data) if isinstance(data, dict) else None
        if author is None:
            raise NotFound(f"x: the brand account was not found{_errors_note(body)}")
        return author

    def fetch(self, cursor: str | None = None) -> Page:
        state = _load_cursor(cursor)
        streams = [MENTIONS] + ([SEARCH] if self.query else [])
        search_state = state.get(SEARCH)
        if search_state and search_state.get("q") != self.query:
            # the query changed: its pagination token means nothing any more
            search_state.pop("next", None)
            search_state.pop("top", None)
            search_state["q"] = self.query
        pending = [s for s in streams if state.get(s, {}).get("next")]
        active = pending or streams

        found: dict[str, Interaction] = {}
        skipped = 0
        problems: list[str] = []
        for stream in active:
            st = state.setdefault(stream, {})
            try:
                body = self._read_stream(stream, st)
            except _BadRequest as exc:
                if not _recover(st, str(exc)):
                    raise ConnectorError(str(exc)) from exc.__cause__
                problems.append(str(exc))
                continue
            data, users, tweets = _unpack(body, stream)
            for raw in data:
                try:
                    item = self._interaction(raw, users, tweets, stream, problems)
                except SkipItem as skip:
                    skipped += 1
                    problems.append(str(skip))
                    continue
                if item is not None and item.external_id not in found:
                    found[item.external_id] = item
            if not data and body.get("errors"):
                if "meta" not in body and _about_user(body):
                    raise NotFound(f"x: {stream}:{_errors_note(body)}")
                problems.append(f"{stream}:{_errors_note(body)}")
            _advance(st, body, data)
            if stream == SEARCH:
                st["q"] = self.query

        items = sorted(found.values(), key=lambda i: int(i.external_id))
        has_more = any(state.get(s, {}).get("next") for s in streams)
        return Page(
            items=tuple(items),
            cursor=_dump_cursor(state),
            has_more=has_more,
            skipped=skipped,
            problems=tuple(problems[:50]),
        )

    def _read_stream(self, stream: str, st: dict[str, str]) -> dict:
        params: dict[str, Any] = {
            "expansions": list(EXPANSIONS),
            "tweet_fields": list(TWEET_FIELDS),
            "user_fields": list(USER_FIELDS),
            "user_auth": self._read_auth(),
        }
        if st.get("since"):
            params["since_id"] = st["since"]
        if stream == MENTIONS:
            if st.get("next"):
                params["pagination_token"] = st["next"]
            params["max_results"] = self._max_results(5)
            return self._call_x("mentions", self.client.get_users_mentions, self.user_id, **params)
        if st.get("next"):
            params["next_token"] = st["next"]
        params["max_results"] = self._max_results(10)
        return self._call_x("search", self.client.search_recent_tweets, self.query, **params)

    def _interaction(
        self,
        raw: Any,
        users: Mapping[str, dict],
        tweets: Mapping[str, dict],
        stream: str,
        problems: list[str],
    ) -> Interaction | None:
        if not isinstance(raw, dict):
            raise SkipItem(f"an item is a {type(raw).__name__}, not a tweet")
        tweet_id = str(raw.get("id") or "")
        if not _ID.match(tweet_id):
            raise SkipItem("a tweet without a valid id")
        author_id = str(raw.get("author_id") or "")
        if not _ID.match(author_id):
            raise SkipItem(f"tweet {tweet_id}: no author id")
        brand = str(self.options.get("user_id") or "")
        if author_id == brand:
            return None  # the brand's own tweet, found by the search: not an interaction
        try:
            created_at = parse_datetime(raw.get("created_at"))
        except (TypeError, ValueError):
            raise SkipItem(f"tweet {tweet_id}: no valid created_at") from None

        author = _author(users.get(author_id))
        if author is None:
            problems.append(f"tweet {tweet_id}: author {author_id} missing from includes")
            author = Author(
                network=Network.X,
                external_id=author_id,
                handle="",
                profile_url=f"{WEB}/i/user/{author_id}",
            )

        refs: dict[str, str] = {}
        for ref in raw.get("referenced_tweets") or ():
            if isinstance(ref, dict) and _ID.match(str(ref.get("id") or "")):
                refs.setdefault(str(ref.get("type") or ""), str(ref["id"]))
        parent_id = refs.get("replied_to", "")
        kind, raw_kind, subject_id = Kind.MENTION, "mention" if stream == MENTIONS else "search", ""
        if "retweeted" in refs:
            kind, raw_kind, subject_id = Kind.REPOST, "retweeted", refs["retweeted"]
        elif parent_id and (
            str(raw.get("in_reply_to_user_id") or "") == brand
            or _tweet_author(tweets, parent_id) == brand
        ):
            kind, raw_kind, subject_id = Kind.REPLY, "replied_to", parent_id
        elif "quoted" in refs and _tweet_author(tweets, refs["quoted"]) == brand:
            kind, raw_kind, subject_id = Kind.QUOTE, "quoted", refs["quoted"]

        conversation = str(raw.get("conversation_id") or "")
        note = raw.get("note_tweet")
        text = note.get("text") if isinstance(note, dict) else None
        if not isinstance(text, str):
            text = raw.get("text") if isinstance(raw.get("text"), str) else ""
        return Interaction(
            network=Network.X,
            external_id=tweet_id,
            kind=kind,
            author=author,
            created_at=created_at,
            text=text,
            url=_tweet_url(author.handle, tweet_id),
            parent_id=parent_id,
            root_id=conversation if conversation != tweet_id and _ID.match(conversation) else "",
            subject_id=subject_id,
            reply_ref=tweet_id,
            raw_kind=raw_kind,
        )

    def profiles(self, ids: Iterable[str]) -> Iterator[Author]:
        """Look up users by numeric id or by handle (``@name`` or ``name``)."""
        numeric: list[str] = []
        names: list[str] = []
        for given in ids:
            value = str(given or "").strip().lstrip("@")
            if _ID.match(value):
                numeric.append(value)
            elif _HANDLE.match(value):
                names.append(value.lower())
        auth = self._read_auth() if numeric or names else False
        for batch in batched(numeric, self.profile_batch_size):
            yield from self._lookup(ids=batch, user_auth=auth)
        for batch in batched(names, self.profile_batch_size):
            yield from self._lookup(usernames=batch, user_auth=auth)

    def _lookup(self, **params: Any) -> Iterator[Author]:
        body = self._call(
            "users lookup", self.client.get_users, user_fields=list(USER_FIELDS), **params
        )
        data = body.get("data") or []
        if not isinstance(data, list):
            raise PayloadError("x: users lookup: 'data' should be a list")
        for raw in data:
            author = _author(raw)
            if author is not None:
                yield author

    # -- writing -----------------------------------------------------------------

    def reply(self, to: str, text: str) -> Interaction:
        text = self.check_text(text)
        to = str(to or "").strip()
        if not _ID.match(to):
            raise ValueError("x: reply needs the id of the tweet to answer")
        self._write_auth()
        body = self._call(
            "reply", self.client.create_tweet, text=text, in_reply_to_tweet_id=to, user_auth=True
        )
        data = body.get("data")
        tweet_id = str(data.get("id") or "") if isinstance(data, dict) else ""
        if not _ID.match(tweet_id):
            raise PayloadError(f"x: reply response has no tweet id{_errors_note(body)}")
        posted = data.get("text")
        return Interaction(
            network=Network.X,
            external_id=tweet_id,
            kind=Kind.REPLY,
            author=self._brand(),
            created_at=datetime.now(timezone.utc),
            text=posted if isinstance(posted, str) else text,
            url=_tweet_url(self._brand().handle, tweet_id),
            parent_id=to,
            reply_ref=tweet_id,
            raw_kind="replied_to",
        )

    def like(self, to: str) -> None:
        self._write_auth()
        self._call("like", self.client.like, str(to), user_auth=True)

    def repost(self, to: str) -> None:
        self._write_auth()
        self._call("repost", self.client.retweet, str(to), user_auth=True)

    def send_dm(self, author_id: str, text: str) -> Interaction:
        text = (text or "").strip()
        if not text:
            raise ValueError("the text is empty")
        author_id = str(author_id or "").strip()
        if not _ID.match(author_id):
            raise ValueError("x: a direct message needs the recipient's numeric id")
        self._write_auth()
        body = self._call(
            "direct message",
            self.client.create_direct_message,
            participant_id=author_id,
            text=text,
            user_auth=True,
        )
        data = body.get("data")
        event_id = str(data.get("dm_event_id") or "") if isinstance(data, dict) else ""
        if not event_id:
            raise PayloadError(f"x: direct message response has no dm_event_id{_errors_note(body)}")
        return Interaction(
            network=Network.X,
            external_id=f"dm:{event_id}",
            kind=Kind.DM,
            author=self._brand(),
            created_at=datetime.now(timezone.utc),
            text=text,
            parent_id=str(data.get("dm_conversation_id") or ""),
            raw_kind="dm",
        )

    def _brand(self) -> Author:
        handle = str(self.options.get("username") or "").strip().lstrip("@")
        brand_id = str(self.options.get("user_id") or "")
        return Author(
            network=Network.X,
            external_id=brand_id or handle,
            handle=handle,
            profile_url=f"{WEB}/{handle}" if handle else "",
        )


# -- helpers -----------------------------------------------------------------------


class _BadRequest(ConnectorError):
    """HTTP 400: our request was refused as invalid (still a plain ConnectorError)."""


def _recover(st: dict[str, str], message: str) -> bool:
    """Repair a stream state X refused with a 400, so the cursor never gets stuck.

    - a pagination token X no longer accepts: restart the sweep from ``since``
      (some tweets may come again, none is skipped);
    - a ``since_id`` older than recent search reaches (7 days): start afresh, as on a
      first run; what is older than that cannot be read any more anyway.

    Nothing is re-requested now: the stream is empty on this page and the next
    fetch uses the repaired state.
    """
    text = message.lower()
    if st.get("next") and ("next_token" in text or "pagination_token" in text):
        st.pop("next", None)
        st.pop("top", None)
        return True
    if st.get("since") and "since_id" in text:
        for key in ("since", "next", "top"):
            st.pop(key, None)
        return True
    return False


def _http_error(what: str, exc: tweepy.HTTPException) -> ConnectorError:
    """tweepy's HTTP errors as ours (tweepy has already refused to sleep on 429)."""
    message = _message(what, exc)
    if isinstance(exc, (tweepy.Unauthorized, tweepy.Forbidden)):
        return AuthError(message)
    if isinstance(exc, tweepy.TooManyRequests):
        return RateLimited(message, retry_at=retry_at_from_headers(exc.response.headers))
    if isinstance(exc, tweepy.NotFound) or getattr(exc.response, "status_code", None) == 410:
        return NotFound(message)
    if isinstance(exc, tweepy.TwitterServerError):
        return TransientError(message)
    if isinstance(exc, tweepy.BadRequest):
        return _BadRequest(message)
    return ConnectorError(message)


def _message(what: str, exc: tweepy.HTTPException) -> str:
    status = getattr(exc.response, "status_code", "?")
    parts = [m for m in exc.api_messages if isinstance(m, str) and m]
    if not parts:  # X v2 problem bodies: {"title": ..., "detail": ...}
        try:
            body = exc.response.json()
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict):
            parts = [body[k] for k in ("title", "detail") if isinstance(body.get(k), str)]
            parts = [p for i, p in enumerate(parts) if p and p not in parts[:i]]
    detail = "; ".join(parts)[:200]
    return f"x: {what}: HTTP {status}" + (f" ({detail})" if detail else "")


def _errors_note(body: Mapping[str, Any]) -> str:
    """X's own error titles/details from a 200 body's ``errors`` (ids, never secrets)."""
    notes = []
    for error in body.get("errors") or ():
        if isinstance(error, dict):
            note = error.get("detail") or error.get("title") or error.get("message")
            if isinstance(note, str):
                notes.append(note)
    return (" (" + "; ".join(notes)[:200] + ")") if notes else ""


def _unpack(body: Mapping[str, Any], what: str) -> tuple[list, dict[str, dict], dict[str, dict]]:
    """``data``, includes users by id and includes tweets by id, or PayloadError."""
    data = body.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise PayloadError(f"x: {what} response: 'data' should be a list")
    includes = body.get("includes")
    if includes is None:
        includes = {}
    if not isinstance(includes, dict):
        raise PayloadError(f"x: {what} response: 'includes' should be an object")
    meta = body.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise PayloadError(f"x: {what} response: 'meta' should be an object")
    found: dict[str, dict[str, dict]] = {}
    for key in ("users", "tweets"):
        values = includes.get(key)
        if values is None:
            values = []
        if not isinstance(values, list):
            raise PayloadError(f"x: {what} response: 'includes.{key}' should be a list")
        found[key] = {str(v["id"]): v for v in values if isinstance(v, dict) and v.get("id")}
    return data, found["users"], found["tweets"]


def _about_user(body: Mapping[str, Any]) -> bool:
    """Whether a 200 ``errors`` body says the user the timeline belongs to is gone."""
    return any(
        isinstance(e, dict) and e.get("resource_type") == "user" and e.get("parameter") == "id"
        for e in body.get("errors") or ()
    )


def _advance(st: dict[str, str], body: Mapping[str, Any], data: list) -> None:
    """Move one stream's state past the page just read (see the module docstring)."""
    meta = body.get("meta") or {}
    ids = [str(t.get("id")) for t in data if isinstance(t, dict) and _ID.match(str(t.get("id")))]
    newest = meta.get("newest_id")
    if newest is not None and _ID.match(str(newest)):
        ids.append(str(newest))
    top = _max_id(st.get("top"), *ids)
    token = meta.get("next_token")
    token = token if isinstance(token, str) and token else None
    if not st.get("since") and not st.get("next"):
        # first run: one page of backfill, then follow from its newest tweet
        if top:
            st["since"] = top
        st.pop("top", None)
        return
    if token:
        st["next"] = token
        if top:
            st["top"] = top
        return
    st.pop("next", None)
    st.pop("top", None)
    if top:
        st["since"] = _max_id(st.get("since"), top) or top


def _max_id(*values: str | None) -> str | None:
    ids = [v for v in values if v and _ID.match(v)]
    return max(ids, key=int) if ids else None


def _load_cursor(cursor: str | None) -> dict[str, dict[str, str]]:
    if not cursor:
        return {}
    try:
        raw = json.loads(cursor)
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        raise ConnectorError("x: the cursor is not one this connector wrote")
    state: dict[str, dict[str, str]] = {}
    for stream in (MENTIONS, SEARCH):
        value = raw.get(stream, raw.get(_OLD_STREAM_KEYS[stream]))
        if value is None:
            continue
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConnectorError("x: the cursor is not one this connector wrote")
        for key in ("since", "top"):
            if key in value and not _ID.match(value[key]):
                raise ConnectorError("x: the cursor is not one this connector wrote")
        state[stream] = dict(value)
    return state


def _dump_cursor(state: Mapping[str, Mapping[str, str]]) -> str | None:
    clean = {k: dict(v) for k, v in state.items() if v and any(x != "q" for x in v)}
    if not clean:
        return None
    return json.dumps(clean, separators=(",", ":"), sort_keys=True)


def _tweet_author(tweets: Mapping[str, dict], tweet_id: str) -> str:
    tweet = tweets.get(tweet_id)
    return str(tweet.get("author_id") or "") if tweet else ""


def _tweet_url(handle: str, tweet_id: str) -> str:
    if handle:
        return f"{WEB}/{handle}/status/{tweet_id}"
    return f"{WEB}/i/web/status/{tweet_id}"


def _author(raw: Any) -> Author | None:
    """An X v2 user object as an :class:`Author`, or None without a valid id; a
    username that is not an X handle is dropped (the person is then known by id)."""
    if not isinstance(raw, dict):
        return None
    user_id = str(raw.get("id") or "")
    if not _ID.match(user_id):
        return None
    username = raw.get("username")
    if not isinstance(username, str) or not _HANDLE.match(username):
        username = ""  # not an X username: the person is known by id only
    metrics = raw.get("public_metrics")
    followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
    website = ""
    entities = raw.get("entities")
    url_entity = entities.get("url") if isinstance(entities, dict) else None
    urls = url_entity.get("urls") if isinstance(url_entity, dict) else None
    for entry in urls if isinstance(urls, list) else ():
        if isinstance(entry, dict):
            website = clean_url(entry.get("expanded_url")) or clean_url(entry.get("url"))
            if website:
                break
    if not website:
        website = clean_url(raw.get("url"))
    name = raw.get("name")
    return Author(
        network=Network.X,
        external_id=user_id,
        handle=username,
        display_name=name if isinstance(name, str) else "",
        profile_url=f"{WEB}/{username}" if username else f"{WEB}/i/user/{user_id}",
        followers_count=followers if isinstance(followers, int) else None,
        avatar_url=clean_url(raw.get("profile_image_url"), https_only=True),
        website=website,
    )
