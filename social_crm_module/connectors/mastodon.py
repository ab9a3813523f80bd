"""Mastodon (any instance) through its REST API, over the HTTP choke point.

Credentials: ``access_token`` (an application token of the brand's account, sent
as ``Authorization: Bearer``). Options:

- ``instance_domain``: the domain local accounts belong to (``user@<domain>``);
  defaults to the host of the base URL;
- ``reply_visibility``: ``public`` (default), ``unlisted`` or ``private``; a reply
  is never more public than what it answers (a direct message stays direct);
- ``limit``: notifications per page (1..80, default 40).

Cursor: the id of the newest notification seen, as a plain string. ``fetch(None)``
reads the newest page only (a bounded backfill) and remembers its newest id.
``fetch(cursor)`` asks for ``min_id=cursor``: Mastodon then returns the
notifications *immediately newer* than that id, so pages come oldest-to-newest
with no gap and no repeat; the new cursor is the ``min_id`` of the response's
``Link: <...>; rel="prev"`` (the newest id of the page), or the newest id read.
Only that id is taken from the Link header: we never follow a URL a server gave
us with our token. ``has_more`` is true when the page was full.

Rate limits: every response's ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``
are kept on :attr:`MastodonConnector.rate_limit`; a 429 raises ``RateLimited``
with ``retry_at`` from ``X-RateLimit-Reset`` (or ``Retry-After``), or ``None``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import requests

from ..errors import AuthError, ConnectorError, NotFound, PayloadError
from ..hosts import registrable_domain, valid_host
from ..http import json_body
from ..interaction import Author, Interaction, Kind, Network, Page, parse_datetime
from ..text import html_to_text, mastodon_length, parse_html
from ..urls import clean_url
from .base import Connector, SkipItem, batched

NETWORK = "mastodon"
#: the notification types we ask for, and what they become
KINDS: dict[str, Kind] = {
    "mention": Kind.MENTION,
    "reblog": Kind.REPOST,
    "favourite": Kind.LIKE,
    "follow": Kind.FOLLOW,
    "status": Kind.POST,
    "quote": Kind.QUOTE,
}
#: types whose notification is about a status the notifying account wrote
_OWN_STATUS = frozenset({"mention", "status", "quote"})
VISIBILITIES = ("public", "unlisted", "private", "direct")  # most to least public
DEFAULT_LIMIT = 40
MAX_LIMIT = 80
_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
# Mastodon usernames: letters, digits, underscores; dots and dashes inside (remote
# servers allow them).
_USER = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]{0,62}[a-z0-9_])?")
#: sites that also put people at ``/@name`` but are not Mastodon
_NOT_MASTODON = frozenset(
    {
        "medium.com",
        "youtube.com",
        "tiktok.com",
        "threads.net",
        "threads.com",
        "substack.com",
        "pixiv.net",
    }
)


def _instance_host(instance: str) -> str:
    """``mastodon.social``, ``https://Mastodon.Social/`` -> ``mastodon.social``."""
    text = (instance or "").strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.strip("/").rstrip(".")
    if not valid_host(text):
        raise ValueError(f"invalid Mastodon instance {instance!r}")
    return text


_NUMERIC = re.compile(r"^[0-9]{1,25}$")
_ACCT = re.compile(r"^@?([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?:@([A-Za-z0-9.-]+))?$")


class MastodonConnector(Connector):
    code = "mastodon"
    label = "Mastodon"
    #: any host may be a Mastodon instance: tried after the networks with fixed hosts
    profile_url_order = 100
    links_are_verified = True
    rate_limit_prefix = "X-RateLimit"
    max_text_length = 500
    profile_batch_size = 40
    credential_keys = ("access_token",)
    option_keys: ClassVar[tuple[str, ...]] = ("instance_domain", "reply_visibility", "limit")
    text_length = staticmethod(mastodon_length)
    required_credentials = ("access_token",)

    @classmethod
    def normalize_handle(cls, text: str, *, instance: str = "") -> str:
        """``user@instance`` lowercase; ``@user@instance`` is accepted, and a bare
        ``user`` is completed with ``instance`` when one is given."""
        user, sep, host = text.removeprefix("@").partition("@")
        user = user.lower()
        if not _USER.fullmatch(user):
            raise ValueError(f"invalid Mastodon username in {text!r}")
        if sep:
            host = host.lower().rstrip(".")
            if not valid_host(host):
                raise ValueError(f"invalid Mastodon instance in {text!r}")
            return f"{user}@{host}"
        if instance:
            return f"{user}@{_instance_host(instance)}"
        return user

    @classmethod
    def handle_from_profile_url(cls, host: str, segments: list[str]) -> str | None:
        """``https://<instance>/@user``, ``/@user@other`` and ``/users/user``."""
        if not valid_host(host) or registrable_domain(host) in _NOT_MASTODON:
            return None
        if segments and segments[0].startswith("@") and len(segments[0]) > 1:
            acct = segments[0][1:]
            return cls.normalize_handle(acct if "@" in acct else f"{acct}@{host}")
        if len(segments) >= 2 and segments[0] == "users":
            return cls.normalize_handle(segments[1], instance=host)
        return None

    @classmethod
    def profile_url(cls, handle: str) -> str:
        user, _sep, host = handle.partition("@")
        return f"https://{host}/@{user}" if user and host else ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._batch_lookup = True  # GET /api/v1/accounts?id[]= (Mastodon >= 4.3)

    # -- options -------------------------------------------------------------------

    @property
    def instance_domain(self) -> str:
        domain = str(self.options.get("instance_domain") or "").strip().lower()
        if "://" in domain:
            domain = urlsplit(domain).hostname or ""
        return (domain or urlsplit(self.base_url).hostname or "").strip("/").rstrip(".")

    @property
    def limit(self) -> int:
        return self.option_int("limit", DEFAULT_LIMIT, MAX_LIMIT)

    @property
    def reply_visibility(self) -> str:
        value = str(self.options.get("reply_visibility") or "public").strip().lower()
        if value not in VISIBILITIES[:3]:
            raise ConnectorError("mastodon: reply_visibility must be public, unlisted or private")
        return value

    # -- the one place HTTP is called ------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        token = str(self.credentials.get("access_token") or "").strip()
        if not token:
            raise AuthError("mastodon: no access token")
        return self._request(method, self.base_url + path, token=token, **kwargs)

    def _json(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return json_body(self._send(method, path, **kwargs), NETWORK, what)

    def _object(self, method: str, path: str, what: str, **kwargs: Any) -> dict:
        body = self._json(method, path, what, **kwargs)
        if not isinstance(body, dict):
            kind = type(body).__name__
            raise PayloadError(f"mastodon: {what} should be a JSON object, got {kind}")
        return body

    # -- reading -----------------------------------------------------------------

    def check(self) -> Author:
        body = self._object("GET", "/api/v1/accounts/verify_credentials", "verify_credentials")
        author = self._author(body)
        if author is None:
            raise PayloadError("mastodon: verify_credentials has no usable account")
        return author

    def fetch(self, cursor: str | None = None) -> Page:
        if cursor is not None and not _ID.match(str(cursor)):
            raise ConnectorError("mastodon: the cursor is not a notification id")
        params: list[tuple[str, str]] = [("types[]", t) for t in KINDS]
        params.append(("limit", str(self.limit)))
        if cursor:
            params.append(("min_id", cursor))
        response = self._send("GET", "/api/v1/notifications", params=params)
        body = json_body(response, NETWORK, "notifications")
        if not isinstance(body, list):
            kind = type(body).__name__
            raise PayloadError(f"mastodon: notifications should be a JSON list, got {kind}")

        items: list[Interaction] = []
        problems: list[str] = []
        skipped = 0
        newest = cursor or ""
        for raw in body:
            note_id = str(raw.get("id") or "") if isinstance(raw, dict) else ""
            if _ID.match(note_id) and _id_key(note_id) > _id_key(newest):
                newest = note_id
            try:
                items.append(self._interaction(raw))
            except SkipItem as skip:
                skipped += 1
                problems.append(str(skip))

        linked = _link_param(response, "prev", "min_id")
        if linked and _id_key(linked) > _id_key(newest):
            newest = linked
        items.sort(key=lambda i: _id_key(i.external_id))
        return Page(
            items=tuple(items),
            cursor=newest or None,
            has_more=bool(cursor) and len(body) >= self.limit,
            skipped=skipped,
            problems=tuple(problems[:50]),
        )

    def _interaction(self, raw: Any) -> Interaction:
        if not isinstance(raw, dict):
            raise SkipItem(f"a notification is a {type(raw).__name__}, not an object")
        note_id = str(raw.get("id") or "")
        if not _ID.match(note_id):
            raise SkipItem("a notification without a valid id")
        kind_name = str(raw.get("type") or "")
        kind = KINDS.get(kind_name)
        if kind is None:
            raise SkipItem(f"notification {note_id}: unknown type {kind_name[:40]!r}")
        try:
            created_at = parse_datetime(raw.get("created_at"))
        except (TypeError, ValueError):
            raise SkipItem(f"notification {note_id}: no valid created_at") from None
        author = self._author(raw.get("account"))
        if author is None:
            raise SkipItem(f"notification {note_id}: no usable account")

        fields: dict[str, Any] = {
            "network": Network.MASTODON,
            "external_id": note_id,
            "kind": kind,
            "author": author,
            "created_at": created_at,
            "raw_kind": kind_name,
            "url": author.profile_url,
        }
        fields.update(_status_fields(note_id, kind_name, raw.get("status")))
        return Interaction(**fields)

    def _author(self, raw: Any) -> Author | None:
        if not isinstance(raw, dict):
            return None
        acct = self._acct(raw.get("acct"))
        if not acct:
            return None
        website = ""
        verified: list[str] = []
        for field_ in raw.get("fields") or ():
            if not isinstance(field_, dict):
                continue
            link = _field_url(field_.get("value"))
            if not link:
                continue
            website = website or link
            if field_.get("verified_at"):
                verified.append(link)
        followers = raw.get("followers_count")
        return Author(
            network=Network.MASTODON,
            external_id=acct,
            handle=acct,
            display_name=str(raw.get("display_name") or raw.get("username") or "")[:200],
            profile_url=clean_url(raw.get("url"), https_only=True),
            followers_count=followers if isinstance(followers, int) and followers >= 0 else None,
            avatar_url=clean_url(raw.get("avatar"), https_only=True),
            website=website,
            verified_links=tuple(verified),
        )

    def _acct(self, value: Any) -> str:
        """``user`` / ``user@instance`` as Mastodon sends it -> ``user@instance``."""
        match = _ACCT.match(str(value or "").strip())
        if not match:
            return ""
        user, domain = match.group(1), match.group(2) or self.instance_domain
        if not domain:
            return ""
        return f"{user}@{domain}".lower()

    def profiles(self, ids: Iterable[str]) -> Iterator[Author]:
        """Look up accounts by instance-local id (in batches) or by ``user@instance``."""
        numeric: list[str] = []
        handles: list[str] = []
        for given in ids:
            value = str(given or "").strip()
            if _NUMERIC.match(value):
                numeric.append(value)
            elif value:
                acct = self._acct(value)
                if acct:
                    handles.append(acct)
        for batch in batched(numeric, self.profile_batch_size):
            yield from self._accounts_by_id(batch)
        local = "@" + self.instance_domain.lower()
        for acct in dict.fromkeys(handles):
            query = acct[: -len(local)] if acct.endswith(local) else acct
            try:
                body = self._object(
                    "GET", "/api/v1/accounts/lookup", "account lookup", params={"acct": query}
                )
            except NotFound:
                continue
            author = self._author(body)
            if author is not None:
                yield author

    def _accounts_by_id(self, batch: list[str]) -> Iterator[Author]:
        if self._batch_lookup:
            try:
                body = self._json(
                    "GET", "/api/v1/accounts", "accounts", params=[("id[]", i) for i in batch]
                )
            except NotFound:
                self._batch_lookup = False  # before Mastodon 4.3: one request per id
            else:
                if not isinstance(body, list):
                    kind = type(body).__name__
                    raise PayloadError(f"mastodon: accounts should be a JSON list, got {kind}")
                for raw in body:
                    author = self._author(raw)
                    if author is not None:
                        yield author
                return
        for account_id in batch:
            try:
                body = self._object("GET", f"/api/v1/accounts/{account_id}", "account")
            except NotFound:
                continue
            author = self._author(body)
            if author is not None:
                yield author

    # -- writing -----------------------------------------------------------------

    def reply(self, to: str, text: str) -> Interaction:
        """Answer the status ``to`` (an interaction's ``reply_ref``), mentioning its author.

        The reply is never more public than the status it answers, nor than the
        ``reply_visibility`` option. The Idempotency-Key derived from (to, text)
        makes a retried reply land once.
        """
        text = self.check_text(text)
        to = str(to or "").strip()
        if not _ID.match(to):
            raise ValueError("mastodon: reply needs the id of the status to answer")
        default = self.reply_visibility
        original = self._object("GET", f"/api/v1/statuses/{quote(to)}", "status")
        account = original.get("account")
        acct = str(account.get("acct") or "") if isinstance(account, dict) else ""
        if not _ACCT.match(acct):
            raise PayloadError("mastodon: the status to answer has no author acct")
        visibility = _narrowest(default, str(original.get("visibility") or "public"))
        body = {
            "status": self._with_mention(acct.lstrip("@"), text),
            "in_reply_to_id": to,
            "visibility": visibility,
        }
        posted = self._post_status(body, idempotency=("reply", to, text))
        return self._posted(posted, Kind.REPLY, body, parent_id=to)

    def send_dm(self, author_id: str, text: str) -> Interaction:
        """A status with visibility ``direct`` that mentions ``author_id`` (user@instance)."""
        text = self.check_text(text)
        acct = self._acct(author_id)
        if not acct:
            raise ValueError("mastodon: a direct message needs the account as user@instance")
        local = "@" + self.instance_domain.lower()
        mention = acct[: -len(local)] if acct.endswith(local) else acct
        body = {"status": self._with_mention(mention, text), "visibility": "direct"}
        posted = self._post_status(body, idempotency=("dm", acct, text))
        return self._posted(posted, Kind.DM, body)

    def like(self, to: str) -> None:
        self._status_action(to, "favourite")

    def repost(self, to: str) -> None:
        self._status_action(to, "reblog")

    def _status_action(self, to: str, action: str) -> None:
        to = str(to or "").strip()
        if not _ID.match(to):
            raise ValueError(f"mastodon: {action} needs a status id")
        self._object("POST", f"/api/v1/statuses/{quote(to)}/{action}", action)

    def _with_mention(self, acct: str, text: str) -> str:
        """Prefix ``@acct`` unless the text already mentions that account."""
        user, _, domain = acct.partition("@")
        local = not domain or domain.lower() == self.instance_domain.lower()
        pattern = re.escape(user) + (
            rf"(?:@{re.escape(self.instance_domain)})?" if local else "@" + re.escape(domain)
        )
        if re.search(rf"(?<![\w@/.])@{pattern}(?![\w@.-]*[\w])", text, re.IGNORECASE):
            result = text
        else:
            result = f"@{acct} {text}"
        if self.text_length(result) > self.max_text_length:
            raise ValueError(
                f"mastodon accepts at most {self.max_text_length} characters, "
                f"this text has {self.text_length(result)} with the mention"
            )
        return result

    def _post_status(self, body: Mapping[str, str], idempotency: tuple[str, ...]) -> dict:
        key = hashlib.sha256("\n".join(idempotency).encode()).hexdigest()
        posted = self._object(
            "POST", "/api/v1/statuses", "post", json=dict(body), headers={"Idempotency-Key": key}
        )
        if not _ID.match(str(posted.get("id") or "")):
            raise PayloadError("mastodon: the posted status has no id")
        return posted

    def _posted(
        self, posted: dict, kind: Kind, sent: Mapping[str, str], parent_id: str = ""
    ) -> Interaction:
        status_id = str(posted["id"])
        author = self._author(posted.get("account")) or Author(
            network=Network.MASTODON, external_id="", handle=""
        )
        try:
            created_at = parse_datetime(posted.get("created_at"))
        except (TypeError, ValueError):
            created_at = datetime.now(timezone.utc)
        content = html_to_text(posted.get("content"))
        return Interaction(
            network=Network.MASTODON,
            external_id=f"status:{status_id}",
            kind=kind,
            author=author,
            created_at=created_at,
            text=content or sent["status"],
            url=clean_url(posted.get("url")) or clean_url(posted.get("uri")),
            parent_id=parent_id,
            reply_ref=status_id,
            raw_kind="status",
        )


# -- helpers -----------------------------------------------------------------------


def _id_key(value: str) -> tuple[int, str]:
    """Order Mastodon ids (numeric strings of growing length) without int overflow."""
    return (len(value), value)


def _link_param(response: requests.Response, rel: str, name: str) -> str:
    """One query parameter of one ``Link`` relation; never the URL itself."""
    link = response.links.get(rel) or {}
    url = link.get("url") or ""
    try:
        values = parse_qs(urlsplit(url).query).get(name) or []
    except ValueError:
        return ""
    value = values[0] if values else ""
    return value if _ID.match(value) else ""


def _field_url(value: Any) -> str:
    """The URL of a profile field: its link's href, or its text if that is a URL."""
    if not isinstance(value, str) or not value:
        return ""
    parser = parse_html(value)
    for href in parser.hrefs:
        url = clean_url(href)
        if url:
            return url
    return clean_url(parser.text())


def _status_fields(note_id: str, kind_name: str, status: Any) -> dict[str, Any]:
    """What a notification's status adds to its interaction (text, ids, url, kind)."""
    if status is not None and not isinstance(status, dict):
        raise SkipItem(f"notification {note_id}: status is not an object")
    if not status:
        if kind_name in _OWN_STATUS:
            # they deleted what they wrote: we keep only what people chose to leave up
            raise SkipItem(f"notification {note_id}: the {kind_name} status was deleted")
        return {}
    status_id = str(status.get("id") or "")
    if not _ID.match(status_id):
        raise SkipItem(f"notification {note_id}: status without a valid id")
    fields: dict[str, Any] = {}
    url = clean_url(status.get("url")) or clean_url(status.get("uri"))
    if url:
        fields["url"] = url
    if kind_name not in _OWN_STATUS:  # reblog / favourite: the brand's status
        fields["subject_id"] = status_id
        return fields
    fields["text"] = html_to_text(status.get("content"))
    fields["reply_ref"] = status_id
    parent = str(status.get("in_reply_to_id") or "")
    if _ID.match(parent):
        fields["parent_id"] = parent
        if kind_name == "mention":
            fields["kind"] = Kind.REPLY
    if kind_name == "mention" and status.get("visibility") == "direct":
        fields["kind"] = Kind.DM
    if kind_name == "quote":
        fields["subject_id"] = _quoted_id(status)
    return fields


def _quoted_id(status: Mapping[str, Any]) -> str:
    """The id of the status a quote quotes (Mastodon 4.5 ``quote`` / ShallowQuote)."""
    quoted = status.get("quote")
    if isinstance(quoted, dict):
        inner = quoted.get("quoted_status")
        value = inner.get("id") if isinstance(inner, dict) else quoted.get("quoted_status_id")
        if _ID.match(str(value or "")):
            return str(value)
    return ""


def _narrowest(*visibilities: str) -> str:
    ranks = [VISIBILITIES.index(v) for v in visibilities if v in VISIBILITIES]
    return VISIBILITIES[max(ranks)] if ranks else "public"
