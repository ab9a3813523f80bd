"""Bluesky (any AT Protocol PDS) through XRPC, over the HTTP choke point.

The base URL is the account's PDS (default ``https://bsky.social``); ``app.bsky.*``
calls are proxied by the PDS to its AppView.

Credentials: ``identifier`` (handle, DID or email) and ``app_password``, plus the
optional session tokens ``access_jwt`` / ``refresh_jwt`` stored from a previous
run. With no tokens the connector calls ``com.atproto.server.createSession``;
given tokens are reused. When a call answers ``ExpiredToken`` (HTTP 400) or 401,
the connector calls ``com.atproto.server.refreshSession`` once with the refresh
token, falls back to ``createSession`` if that is refused, and repeats the call
once. New tokens are put in :attr:`updated_credentials` (``access_jwt``,
``refresh_jwt``) for the caller to store. A refused app password is an
``AuthError``. Tokens and passwords never appear in messages or reprs.

Options: ``limit``: notifications per page (1..100, default 50).

Cursor: compact JSON (sorted keys), one of

- ``{"hw":{"t":T,"u":[URI,...]},"v":1}``: idle. ``T`` is the newest
  ``indexedAt`` seen (UTC, microseconds, ``Z``) and ``u`` the notification URIs
  seen at exactly ``T``: a notification is *seen* when its ``indexedAt`` is
  before ``T``, or equal to ``T`` with its URI in ``u``;
- ``{"hw":{...},"v":1,"walk":{"next":C,"top":{"t":T2,"u":[...]}}}``: in the
  middle of a walk. ``next`` is the XRPC cursor of the next (older) page, ``top``
  the high-water mark of the walk's first (newest) page.

``listNotifications`` pages newest to oldest. ``fetch(None)`` reads the newest
page only (a bounded backfill) and keeps its newest notification as the mark.
``fetch(idle)`` reads the newest page; ``fetch(walk)`` reads the page at
``next``. Either returns the unseen notifications of that one page. When the
page reaches a seen notification, or is the last one, the walk is complete and
the mark moves to ``top`` (``has_more`` false); otherwise the cursor carries
the walk on (``has_more`` true) and the mark does not move. A run killed
mid-walk resumes from the stored cursor: ``next`` is the server's keyset cursor,
so the same page comes back (the caller dedupes on ``external_id``), and
notifications that arrive during a walk are newer than ``top``: the next walk
picks them up. Nothing is skipped, nothing is walked twice.

Rate limits: a 429 raises ``RateLimited`` with ``retry_at`` from ``RateLimit-Reset``
(epoch seconds), or ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

import requests

from ..errors import (
    AuthError,
    ConnectorError,
    NotFound,
    PayloadError,
    RateLimited,
    TransientError,
)
from ..hosts import valid_host
from ..http import json_object
from ..interaction import Author, Interaction, Kind, Network, Page, parse_datetime
from ..text import graphemes
from ..urls import clean_url
from .base import Connector, SkipItem, batched

NETWORK = "bluesky"
#: notification reasons we keep, and what they become
KINDS: dict[str, Kind] = {
    "like": Kind.LIKE,
    "repost": Kind.REPOST,
    "follow": Kind.FOLLOW,
    "mention": Kind.MENTION,
    "reply": Kind.REPLY,
    "quote": Kind.QUOTE,
}
#: reasons whose record is a post the notifying account wrote
_OWN_POST = frozenset({"mention", "reply", "quote"})
POST = "app.bsky.feed.post"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
#: app.bsky.feed.post text: maxGraphemes 300, maxLength 3000 (bytes)
MAX_TEXT_BYTES = 3000
WEB = "https://bsky.app"
CURSOR_VERSION = 1
#: at most this many notification URIs share one high-water timestamp in a cursor
MAX_MARK_URIS = 1000
#: tokens that mean "the access token is no good any more" on a 400
_EXPIRED = frozenset({"ExpiredToken", "InvalidToken"})

_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}$")
_HANDLE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_AT_URI = re.compile(
    r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/([A-Za-z0-9.-]{1,317})/([A-Za-z0-9._:~-]{1,512})$"
)
_CID = re.compile(r"^[A-Za-z0-9+/=_-]{8,256}$")
_API_CURSOR = re.compile(r"^[\x21-\x7e]{1,512}$")
#: ``@handle`` at the start, after a space or an opening parenthesis (as the app does)
_MENTION = re.compile(r"(?:^|(?<=[\s(]))@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)")
_LINK = re.compile(r"(?:^|(?<=[\s(]))https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_DID_SYNTAX = re.compile(r"did:(?:plc:[a-z2-7]{24}|web:[a-zA-Z0-9._:%-]+)")


class BlueskyConnector(Connector):
    code = "bluesky"
    label = "Bluesky"
    profile_hosts = frozenset({"bsky.app", "www.bsky.app"})
    handle_is_verified_domain = True
    rate_limit_prefix = "RateLimit"
    required_credentials = ("identifier",)
    max_text_length = 300
    text_length = staticmethod(graphemes)
    profile_batch_size = 25
    credential_keys = ("identifier", "app_password", "access_jwt", "refresh_jwt")
    default_base_url = "https://bsky.social"
    option_keys: ClassVar[tuple[str, ...]] = ("limit",)

    @classmethod
    def normalize_handle(cls, text: str, *, instance: str = "") -> str:
        """Lowercase handle without ``@``; DIDs (``did:plc:``, ``did:web:``) as-is."""
        if text.startswith("did:"):
            if not _DID_SYNTAX.fullmatch(text):
                raise ValueError(f"invalid Bluesky DID {text!r}")
            return text
        name = text.removeprefix("@").lower().rstrip(".")
        if not valid_host(name):
            raise ValueError(
                f"invalid Bluesky handle {text!r}: expected a domain like alice.bsky.social"
            )
        return name

    @classmethod
    def handle_from_profile_url(cls, host: str, segments: list[str]) -> str | None:
        if host not in cls.profile_hosts:
            return None
        if len(segments) < 2 or segments[0] != "profile":
            raise ValueError(f"{host} URL is not a profile (expected /profile/<handle>)")
        return cls.normalize_handle(segments[1])

    @classmethod
    def profile_url(cls, handle: str) -> str:
        return f"https://bsky.app/profile/{handle}" if handle else ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._access = str(self.credentials.get("access_jwt") or "").strip()
        self._refresh = str(self.credentials.get("refresh_jwt") or "").strip()
        self._did = ""
        self._handle = ""
        #: status and XRPC error name of the last failed response (never its body)
        self._failure: tuple[int, str] = (0, "")

    @property
    def limit(self) -> int:
        return self.option_int("limit", DEFAULT_LIMIT, MAX_LIMIT)

    # -- the one place HTTP is called ------------------------------------------------

    def _send(self, method: str, nsid: str, *, token: str = "", **kwargs: Any) -> requests.Response:
        self._failure = (0, "")
        return self._request(method, f"{self.base_url}/xrpc/{nsid}", token=token, **kwargs)

    def _note_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """The rate-limit budget, and the status and XRPC error name of a failure."""
        super()._note_response(response)
        if response.status_code < 400:
            return
        name = ""
        try:
            body = response.json()
        except (ValueError, RecursionError):  # not JSON, or nested too deep
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            name = body["error"][:100]
        self._failure = (response.status_code, name)

    def _xrpc(self, method: str, nsid: str, what: str, **kwargs: Any) -> dict:
        """One authenticated XRPC call; renews the session once if it expired."""
        fresh = False
        if not self._access:
            self._create_session()
            fresh = True
        try:
            response = self._send(method, nsid, token=self._access, **kwargs)
        except ConnectorError as exc:
            if fresh or not self._expired(exc):
                raise
            self._renew()
            response = self._send(method, nsid, token=self._access, **kwargs)
        return json_object(response, NETWORK, what)

    def _expired(self, exc: ConnectorError) -> bool:
        if isinstance(exc, (RateLimited, TransientError, NotFound, PayloadError)):
            return False
        status, name = self._failure
        return status == 401 or (status == 400 and name in _EXPIRED)

    def _refused(self, exc: ConnectorError) -> bool:
        if isinstance(exc, AuthError):
            return True
        return type(exc) is ConnectorError and self._failure[0] == 400

    # -- sessions ------------------------------------------------------------------

    def _renew(self) -> None:
        if self._refresh:
            try:
                response = self._send(
                    "POST", "com.atproto.server.refreshSession", token=self._refresh
                )
            except ConnectorError as exc:
                if not self._refused(exc):
                    raise
            else:
                self._take(json_object(response, NETWORK, "refreshSession"))
                return
        self._create_session()

    def _create_session(self) -> None:
        identifier = str(self.credentials.get("identifier") or "").strip()
        password = str(self.credentials.get("app_password") or "")
        if not identifier or not password:
            raise AuthError("bluesky: no valid session and no identifier / app password")
        try:
            response = self._send(
                "POST",
                "com.atproto.server.createSession",
                json={"identifier": identifier, "password": password},
            )
        except ConnectorError as exc:
            if self._refused(exc):
                raise AuthError(f"bluesky: sign-in refused: {exc}") from None
            raise
        self._take(json_object(response, NETWORK, "createSession"))

    def _take(self, body: Mapping[str, Any]) -> None:
        access, refresh = body.get("accessJwt"), body.get("refreshJwt")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise PayloadError("bluesky: the session has no tokens")
        self._access, self._refresh = access, refresh
        self.updated_credentials.update(access_jwt=access, refresh_jwt=refresh)
        self._remember(body)

    def _remember(self, body: Mapping[str, Any]) -> None:
        did, handle = str(body.get("did") or ""), str(body.get("handle") or "").lower()
        if _DID.match(did):
            self._did = did
            self._handle = handle if _HANDLE.match(handle) else ""

    def _whoami(self) -> tuple[str, str]:
        """The brand account's DID and handle (from the session, or getSession)."""
        if not self._did:
            self._remember(self._xrpc("GET", "com.atproto.server.getSession", "getSession"))
            if not self._did:
                raise PayloadError("bluesky: getSession has no usable did")
        return self._did, self._handle

    # -- reading -----------------------------------------------------------------

    def check(self) -> Author:
        body = self._xrpc("GET", "com.atproto.server.getSession", "getSession")
        self._remember(body)
        author = _author({"did": body.get("did"), "handle": body.get("handle")})
        if author is None:
            raise PayloadError("bluesky: getSession has no usable account")
        return author

    def fetch(self, cursor: str | None = None) -> Page:
        state = _load_cursor(cursor) if cursor is not None else None
        params: dict[str, str] = {"limit": str(self.limit)}
        walk = (state or {}).get("walk")
        if walk:
            params["cursor"] = walk["next"]
        body = self._xrpc(
            "GET", "app.bsky.notification.listNotifications", "notifications", params=params
        )
        raw_items = body.get("notifications")
        if not isinstance(raw_items, list):
            kind = type(raw_items).__name__
            raise PayloadError(f"bluesky: notifications should be a JSON list, got {kind}")
        next_cursor = body.get("cursor")
        if next_cursor is not None and not (
            isinstance(next_cursor, str) and _API_CURSOR.match(next_cursor)
        ):
            raise PayloadError("bluesky: notifications has an unusable cursor")

        mark = state["hw"] if state else None
        page_mark: dict[str, Any] | None = None
        reached = False
        items: list[tuple[datetime, Interaction]] = []
        problems: list[str] = []
        skipped = 0
        for raw in raw_items:
            indexed = _indexed_at(raw)
            uri = str(raw.get("uri") or "") if indexed is not None else ""
            if indexed is not None and _AT_URI.match(uri):  # only what can be named again
                if mark is not None and _seen(mark, indexed, uri):
                    reached = True
                    continue
                page_mark = _raise_mark(page_mark, indexed, uri)
            try:
                item = self._interaction(raw, indexed)
            except SkipItem as skip:
                skipped += 1
                problems.append(str(skip))
                continue
            items.append((indexed or item.created_at, item))
        items.sort(key=lambda pair: (pair[0], pair[1].external_id))

        top = walk["top"] if walk else page_mark
        if state is None:  # first run: the newest page only
            new_state = {"hw": page_mark} if page_mark else None
            has_more = False
        elif reached or not next_cursor or not raw_items:
            new_state = {"hw": _max_mark(mark, top)}
            has_more = False
        else:
            new_state = {"hw": mark, "walk": {"next": next_cursor, "top": top or mark}}
            has_more = True
        return Page(
            items=tuple(item for _, item in items),
            cursor=_dump_cursor(new_state) if new_state else None,
            has_more=has_more,
            skipped=skipped,
            problems=tuple(problems[:50]),
        )

    def _interaction(self, raw: Any, indexed: datetime | None) -> Interaction:
        if not isinstance(raw, dict):
            raise SkipItem(f"a notification is a {type(raw).__name__}, not an object")
        uri = str(raw.get("uri") or "")
        parts = _AT_URI.match(uri)
        if not parts:
            raise SkipItem("a notification without a valid uri")
        reason = str(raw.get("reason") or "")
        kind = KINDS.get(reason)
        if kind is None:
            raise SkipItem(f"notification {uri}: unknown reason {reason[:40]!r}")
        if indexed is None:
            raise SkipItem(f"notification {uri}: no valid indexedAt")
        author = _author(raw.get("author"))
        if author is None:
            raise SkipItem(f"notification {uri}: no usable author")
        record = raw.get("record")
        if not isinstance(record, dict):
            record = {}
        created_at = indexed
        try:
            written = parse_datetime(record.get("createdAt"))
        except (TypeError, ValueError):
            written = None
        if written is not None and written <= indexed:
            created_at = written  # when they did it, unless the client clock lies

        fields: dict[str, Any] = {
            "network": Network.BLUESKY,
            "external_id": uri,
            "kind": kind,
            "author": author,
            "created_at": created_at,
            "raw_kind": reason,
            "url": author.profile_url,
        }
        subject = _str_uri(raw.get("reasonSubject"))
        if reason in _OWN_POST:
            fields.update(_post_fields(raw, record, author, subject))
        elif reason in ("like", "repost"):
            ref = _strong_ref(record.get("subject"))
            fields["subject_id"] = subject or (ref["uri"] if ref else "")
        return Interaction(**fields)

    def profiles(self, ids: Iterable[str]) -> Iterator[Author]:
        """Look up actors (DIDs or handles) with getProfiles, 25 per request."""
        actors = []
        for given in ids:
            value = str(given or "").strip().lstrip("@")
            if _DID.match(value):
                actors.append(value)
            elif _HANDLE.match(value):
                actors.append(value.lower())
        for batch in batched(actors, self.profile_batch_size):
            body = self._xrpc(
                "GET",
                "app.bsky.actor.getProfiles",
                "profiles",
                params=[("actors", actor) for actor in batch],
            )
            found = body.get("profiles")
            if not isinstance(found, list):
                kind = type(found).__name__
                raise PayloadError(f"bluesky: profiles should be a JSON list, got {kind}")
            for raw in found:
                author = _author(raw)
                if author is not None:
                    yield author

    # -- writing -----------------------------------------------------------------

    def check_text(self, text: str) -> str:
        """Bluesky counts graphemes (300), not code points, and caps posts at 3000 bytes."""
        text = super().check_text(text)
        if len(text.encode()) > MAX_TEXT_BYTES:
            raise ValueError(f"{self.network.value} accepts at most {MAX_TEXT_BYTES} bytes")
        return text

    def reply(self, to: str, text: str) -> Interaction:
        """Answer the post whose ``reply_ref`` is ``to``, with mention and link facets."""
        text = self.check_text(text)
        thread = _load_reply_ref(to)
        facets = self._facets(text)
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": _now_iso(),
            "reply": thread,
        }
        if facets:
            record["facets"] = facets
        did, handle = self._whoami()
        posted = self._create_record(did, POST, record)
        rkey = posted["uri"].rsplit("/", 1)[-1]  # a valid at:// URI: its last part
        brand = _author({"did": did, "handle": handle}) or Author(
            network=Network.BLUESKY, external_id=did, handle=handle
        )
        return Interaction(
            network=Network.BLUESKY,
            external_id=posted["uri"],
            kind=Kind.REPLY,
            author=brand,
            created_at=parse_datetime(record["createdAt"]),
            text=text,
            url=post_url(handle or did, rkey),
            parent_id=thread["parent"]["uri"],
            root_id=thread["root"]["uri"],
            reply_ref=_compact({"root": thread["root"], "parent": posted}),
            raw_kind="post",
        )

    def like(self, to: str) -> None:
        self._subject_action(to, "app.bsky.feed.like")

    def repost(self, to: str) -> None:
        self._subject_action(to, "app.bsky.feed.repost")

    def _subject_action(self, to: str, collection: str) -> None:
        subject = _load_subject(to)
        did, _ = self._whoami()
        record = {"$type": collection, "subject": subject, "createdAt": _now_iso()}
        self._create_record(did, collection, record)

    def _create_record(self, did: str, collection: str, record: dict) -> dict[str, str]:
        body = self._xrpc(
            "POST",
            "com.atproto.repo.createRecord",
            "createRecord",
            json={"repo": did, "collection": collection, "record": record},
        )
        ref = _strong_ref(body)
        if ref is None:
            raise PayloadError("bluesky: createRecord has no valid uri / cid")
        return ref

    def _facets(self, text: str) -> list[dict[str, Any]]:
        """Mention facets (resolved handles) and link facets, in UTF-8 byte offsets."""
        facets: list[dict[str, Any]] = []
        resolved: dict[str, str] = {}
        for match in _MENTION.finditer(text):
            handle = match.group(1).rstrip(".").lower()
            if not _HANDLE.match(handle):
                continue
            if handle not in resolved:
                resolved[handle] = self._resolve(handle)
            if resolved[handle]:
                end = match.start() + 1 + len(handle)
                facets.append(_facet(text, match.start(), end, "mention", did=resolved[handle]))
        for match in _LINK.finditer(text):
            url = _trim_url(match.group(0))
            if not clean_url(url):
                continue
            end = match.start() + len(url)
            facets.append(_facet(text, match.start(), end, "link", uri=url))
        facets.sort(key=lambda f: f["index"]["byteStart"])
        return facets

    def _resolve(self, handle: str) -> str:
        """The DID of ``handle``, or "" when it does not resolve (no facet then)."""
        try:
            body = self._xrpc(
                "GET",
                "com.atproto.identity.resolveHandle",
                "resolveHandle",
                params={"handle": handle},
            )
        except NotFound:
            return ""
        except ConnectorError as exc:
            if type(exc) is ConnectorError and self._failure[0] == 400:
                return ""  # "Unable to resolve handle"
            raise
        did = str(body.get("did") or "")
        return did if _DID.match(did) else ""


# -- helpers -----------------------------------------------------------------------


def post_url(actor: str, rkey: str) -> str:
    return f"{WEB}/profile/{actor}/post/{rkey}"


def _post_fields(
    raw: Mapping[str, Any], record: Mapping[str, Any], author: Author, subject: str
) -> dict[str, Any]:
    """What a mention, reply or quote adds: text, url, thread refs, the quoted post."""
    uri, reason = str(raw["uri"]), str(raw["reason"])
    parts = _AT_URI.match(uri)
    if parts is None or parts.group(2) != POST:
        raise SkipItem(f"notification {uri}: the {reason} is not a post")
    cid = str(raw.get("cid") or "")
    if not _CID.match(cid):
        raise SkipItem(f"notification {uri}: the {reason} has no valid cid")
    text = record.get("text")
    own = {"uri": uri, "cid": cid}
    root, parent = own, None
    thread = record.get("reply")
    if isinstance(thread, dict):
        root = _strong_ref(thread.get("root")) or own
        parent = _strong_ref(thread.get("parent"))
    fields: dict[str, Any] = {
        "text": text if isinstance(text, str) else "",
        "url": post_url(author.handle or author.external_id, parts.group(3)),
        "root_id": root["uri"],
        # answering this post: the thread's root, and this post as the parent
        "reply_ref": _compact({"root": root, "parent": own}),
    }
    if parent:
        fields["parent_id"] = parent["uri"]
    if reason == "quote":
        fields["subject_id"] = subject or _quoted_uri(record)
    return fields


def _author(raw: Any) -> Author | None:
    if not isinstance(raw, dict):
        return None
    did = str(raw.get("did") or "")
    if not _DID.match(did):
        return None
    handle = str(raw.get("handle") or "").lower()
    if not _HANDLE.match(handle) or handle == "handle.invalid":
        handle = ""
    followers = raw.get("followersCount")
    website = ""
    if handle and not (handle == "bsky.social" or handle.endswith(".bsky.social")):
        website = f"https://{handle}"  # a domain handle is verified by DNS / .well-known
    return Author(
        network=Network.BLUESKY,
        external_id=did,
        handle=handle,
        display_name=str(raw.get("displayName") or handle or "")[:200],
        profile_url=f"{WEB}/profile/{handle or did}",
        followers_count=followers if isinstance(followers, int) and followers >= 0 else None,
        avatar_url=clean_url(raw.get("avatar"), https_only=True),
        website=website,
    )


def _str_uri(value: Any) -> str:
    return value if isinstance(value, str) and _AT_URI.match(value) else ""


def _strong_ref(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    uri, cid = value.get("uri"), value.get("cid")
    if not (isinstance(uri, str) and _AT_URI.match(uri)):
        return None
    if not (isinstance(cid, str) and _CID.match(cid)):
        return None
    return {"uri": uri, "cid": cid}


def _quoted_uri(record: Mapping[str, Any]) -> str:
    """The quoted post of a quote: ``embed.record`` or ``embed.record.record`` (with media)."""
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return ""
    inner = embed.get("record")
    if isinstance(inner, dict) and isinstance(inner.get("record"), dict):
        inner = inner["record"]
    ref = _strong_ref(inner)
    return ref["uri"] if ref else ""


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _load_json(value: Any, what: str) -> Any:
    if not isinstance(value, str) or not value.strip() or len(value) > 200_000:
        raise ValueError(f"bluesky: {what} is not compact JSON")
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError(f"bluesky: {what} is not compact JSON") from None


def _load_reply_ref(to: str) -> dict[str, dict[str, str]]:
    data = _load_json(to, "the reply reference")
    root = _strong_ref(data.get("root")) if isinstance(data, dict) else None
    parent = _strong_ref(data.get("parent")) if isinstance(data, dict) else None
    if root is None or parent is None:
        raise ValueError("bluesky: the reply reference needs root and parent uri / cid")
    return {"root": root, "parent": parent}


def _load_subject(to: str) -> dict[str, str]:
    """A post's strong ref: a ``reply_ref`` (its parent) or ``{"uri", "cid"}``."""
    data = _load_json(to, "the post reference")
    if isinstance(data, dict) and "parent" in data:
        data = data.get("parent")
    ref = _strong_ref(data)
    if ref is None:
        raise ValueError("bluesky: the post reference needs a uri and a cid")
    return ref


def _indexed_at(raw: Any) -> datetime | None:
    if not isinstance(raw, dict):
        return None
    try:
        return parse_datetime(raw.get("indexedAt"))
    except (TypeError, ValueError):
        return None


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _seen(mark: Mapping[str, Any], indexed: datetime, uri: str) -> bool:
    at = parse_datetime(mark["t"])
    return indexed < at or (indexed == at and uri in mark["u"])


def _raise_mark(mark: dict[str, Any] | None, indexed: datetime, uri: str) -> dict[str, Any]:
    """The high-water mark after seeing ``uri`` at ``indexed``."""
    stamp = _iso(indexed)
    if mark is None or indexed > parse_datetime(mark["t"]):
        return {"t": stamp, "u": [uri]}
    if indexed == parse_datetime(mark["t"]) and uri not in mark["u"]:
        return {"t": mark["t"], "u": sorted([*mark["u"], uri])}
    return mark


def _max_mark(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    if a is None or b is None:
        return a or b
    ta, tb = parse_datetime(a["t"]), parse_datetime(b["t"])
    if ta != tb:
        return a if ta > tb else b
    return {"t": a["t"], "u": sorted(set(a["u"]) | set(b["u"]))}


def _valid_mark(mark: Any) -> bool:
    if not isinstance(mark, dict) or set(mark) != {"t", "u"}:
        return False
    try:
        parse_datetime(mark["t"])
    except (TypeError, ValueError, AttributeError):
        return False
    uris = mark["u"]
    return (
        isinstance(uris, list)
        and 0 < len(uris) <= MAX_MARK_URIS
        and all(isinstance(u, str) and _AT_URI.match(u) for u in uris)
    )


def _load_cursor(cursor: str) -> dict[str, Any]:
    bad = ConnectorError("bluesky: the cursor is not a Bluesky sync cursor")
    try:
        state = _load_json(cursor, "the cursor")
    except ValueError:
        raise bad from None
    if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
        raise bad
    if not _valid_mark(state.get("hw")) or not set(state) <= {"v", "hw", "walk"}:
        raise bad
    walk = state.get("walk")
    if walk is not None:
        if not isinstance(walk, dict) or set(walk) != {"next", "top"}:
            raise bad
        if not (isinstance(walk["next"], str) and _API_CURSOR.match(walk["next"])):
            raise bad
        if not _valid_mark(walk["top"]):
            raise bad
    return state


def _dump_cursor(state: Mapping[str, Any]) -> str:
    return _compact({"v": CURSOR_VERSION, **state})


def _trim_url(url: str) -> str:
    """Drop trailing punctuation, and a closing parenthesis the URL did not open."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _facet(text: str, start: int, end: int, kind: str, **feature: str) -> dict[str, Any]:
    return {
        "index": {
            "byteStart": len(text[:start].encode()),
            "byteEnd": len(text[:end].encode()),
        },
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", **feature}],
    }
