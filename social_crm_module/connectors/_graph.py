"""What Facebook Pages and Instagram share: Meta's Graph API over the engine's
HTTP choke point, its errors, its usage headers, and the walk behind ``fetch``.

Not a network (its name starts with ``_``): :mod:`.facebook` and
:mod:`.instagram` build on it.

Errors. The Graph API answers errors as ``{"error": {"code", "error_subcode",
"message", "type", "fbtrace_id"}}``, usually with HTTP 400 or 403 whatever the
cause; the code says what happened, so the code decides (see :func:`graph_error`):

- 4, 17, 32, 613, 80001-80014 (business use case throttling), 341 ->
  :class:`RateLimited`, with ``retry_at`` from ``X-Business-Use-Case-Usage``'s
  ``estimated_time_to_regain_access`` (minutes), or ``Retry-After``;
- 190 and 102 (token expired, revoked, password changed) -> :class:`AuthError`;
- 10 and 200-299 (a permission missing or removed) -> :class:`AuthError` saying
  which kind; 10 with subcode 2018278 (a message outside the 24-hour window) and
  551 (the person cannot be messaged) -> :class:`NotSupported`, nothing was sent;
- 100 with subcode 33 (the object is gone or not visible) -> :class:`NotFound`;
- 1 and 2 (Meta's own temporary trouble) -> :class:`TransientError`.

Usage. Every answer's ``X-App-Usage`` / ``X-Page-Usage`` /
``X-Business-Use-Case-Usage`` is read into :attr:`GraphClient.usage` (the highest
percentage seen); at 100% a *successful* answer still raises nothing, but the
next walk step is refused with :class:`RateLimited` before it calls (Meta blocks
calls made past the limit and lengthens the block).

Why the engine's own ``requests`` layer and not ``python-facebook-api``: every
call we make is a plain GET/POST/DELETE of a Graph path; the library would add a
second HTTP stack with its own sessions, retries and sleeping on rate limits
(forbidden here), and would hide the usage headers and error codes we map.
:func:`..http.request` is the one choke point: timeout always, no retry, byte
cap on bodies, no secrets in messages.

Walk (the cursor contract of :mod:`.base`). A *cycle* is a list of tasks, each one
Graph list read page by page (``paging.cursors.after``): the seed tasks (recent
posts or media, tags, conversations) add per-post and per-conversation tasks as
they are read. Each ``fetch`` runs exactly one request of the first task and
returns a cursor holding the remaining tasks and the task's ``after``; reading
the same cursor again repeats the same request (the caller dedupes by id). The
cycle started at ``t0``; when its last task is done, the next cycle reads from
``t0 - OVERLAP``: anything created after the previous cycle began is read again,
so a comment written on a post the walk had already passed is picked up next
time. Nothing is skipped; repeats are dropped by id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import requests

from ..errors import (
    AuthError,
    ConnectorError,
    NotFound,
    NotSupported,
    PayloadError,
    RateLimited,
    TransientError,
)
from ..http import json_object, new_session, request, retry_at_from_headers
from ..interaction import Author, Interaction, Kind, Page, parse_datetime
from .base import Connector, SkipItem

GRAPH_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"
#: how far back the next cycle reads before the previous cycle's start (clock skew,
#: Meta's indexing delays)
OVERLAP = timedelta(minutes=5)
#: the first run reads this many days back, unless the ``backfill_days`` option says
DEFAULT_BACKFILL_DAYS = 3
#: most tasks one cursor may carry (a cycle over a huge page stays bounded)
MAX_TASKS = 500
CURSOR_VERSION = 1
#: Graph error codes that mean "slow down"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
AUTH_CODES = frozenset({102, 190})
#: the person cannot be messaged now (outside the window, unavailable)
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2018108, 2534022})
_ID = re.compile(r"^[0-9A-Za-z_.:=-]{1,256}$")
_AFTER = re.compile(r"^[\x21-\x7e]{1,2048}$")


@dataclass
class GraphFailure:
    """What the last failed Graph answer said (never its headers or tokens)."""

    status: int = 0
    code: int = 0
    subcode: int = 0
    message: str = ""
    retry_at: datetime | None = None


def graph_error(network: str, failure: GraphFailure) -> ConnectorError:  # noqa: PLR0911 - one answer per code family
    """The engine error for a Graph error body (see the module docstring)."""
    code, subcode = failure.code, failure.subcode
    text = f"{network}: Graph error {code}" + (f"/{subcode}" if subcode else "")
    if failure.message:
        text += f" ({failure.message})"
    if code in RATE_LIMIT_CODES:
        return RateLimited(text, retry_at=failure.retry_at)
    if code in AUTH_CODES:
        return AuthError(f"{text}: the access token expired or was revoked; reconnect the account")
    if (code == 10 and subcode in OUTSIDE_WINDOW_SUBCODES) or code == 551:
        return NotSupported(
            f"{text}: Meta allows no message to this person now (outside the 24-hour "
            "window, or they cannot be reached); nothing was sent"
        )
    if code == 10 or 200 <= code <= 299:
        return AuthError(
            f"{text}: a permission is missing or was removed; reconnect the account and "
            "grant every permission asked for"
        )
    if code == 100 and subcode == 33:
        return NotFound(f"{text}: the object is gone or not visible any more")
    if code in (1, 2) or failure.status >= 500:
        return TransientError(text)
    if failure.status in (401,):
        return AuthError(text)
    if failure.status == 404:
        return NotFound(text)
    if failure.status == 429:
        return RateLimited(text, retry_at=failure.retry_at)
    return ConnectorError(text)


def usage_percent(headers: Mapping[str, str]) -> int | None:
    """The highest percentage in Meta's usage headers, or ``None`` if absent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    best: int | None = None
    for name in ("x-app-usage", "x-page-usage", "x-ad-account-usage"):
        data = _json_header(lowered.get(name))
        if isinstance(data, dict):
            best = _max_percent(best, data)
    data = _json_header(lowered.get("x-business-use-case-usage"))
    if isinstance(data, dict):
        for entries in data.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    best = _max_percent(best, entry)
    return best


def regain_at(headers: Mapping[str, str], now: datetime | None = None) -> datetime | None:
    """When Meta says access comes back: ``estimated_time_to_regain_access``
    (minutes) of ``X-Business-Use-Case-Usage``, else ``Retry-After``."""
    now = now or datetime.now(timezone.utc)
    lowered = {k.lower(): v for k, v in headers.items()}
    minutes = 0
    data = _json_header(lowered.get("x-business-use-case-usage"))
    if isinstance(data, dict):
        for entries in data.values():
            for entry in entries if isinstance(entries, list) else []:
                value = (
                    entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else 0
                )
                if isinstance(value, int) and not isinstance(value, bool):
                    minutes = max(minutes, value)
    if minutes > 0:
        return now + timedelta(minutes=minutes)
    return retry_at_from_headers(headers, now)


def _json_header(value: str | None) -> Any:
    if not value or len(value) > 8192:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _max_percent(best: int | None, data: Mapping[str, Any]) -> int | None:
    for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            best = max(best or 0, int(value))
    return best


class GraphClient:
    """Graph API calls with one access token, through :func:`..http.request`."""

    def __init__(
        self,
        *,
        session: requests.Session,
        base_url: str,
        token: str,
        timeout: float,
        network: str,
        version: str = GRAPH_VERSION,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"{network}: the Graph API URL must be http(s)")
        if not timeout or timeout <= 0:
            raise ValueError("a positive timeout is required")
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.version = version
        self._token = token
        self.timeout = timeout
        self.network = network
        self.failure = GraphFailure()
        #: highest usage percentage Meta reported in the last answer that had one
        self.usage: int | None = None

    def __repr__(self) -> str:  # never the token
        return f"<GraphClient {self.network} {self.base_url}>"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        token: bool = True,
    ) -> dict:
        """One Graph call; returns its JSON object or raises the mapped error."""
        headers = {"Accept": "application/json"}
        if token:
            if not self._token:
                raise AuthError(f"{self.network}: no access token; connect the account")
            headers["Authorization"] = f"Bearer {self._token}"
        self.failure = GraphFailure()
        try:
            response = request(
                self.session,
                method,
                self.url(path),
                timeout=self.timeout,
                network=self.network,
                headers=headers,
                params=dict(params or {}),
                json=json_body,
                hooks={"response": self._note},
                allow_redirects=False,
            )
        except ConnectorError as exc:
            if self.failure.status:
                raise graph_error(self.network, self.failure) from None
            raise exc from None
        body = json_object(response, self.network, what)
        if isinstance(body.get("error"), dict):  # an error in a 200 (batch-style answers)
            self._read_error(body["error"], 200, response.headers)
            raise graph_error(self.network, self.failure)
        return body

    def _note(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        usage = usage_percent(response.headers)
        if usage is not None:
            self.usage = usage
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        self._read_error(
            error if isinstance(error, dict) else {}, response.status_code, response.headers
        )

    def _read_error(
        self, error: Mapping[str, Any], status: int, headers: Mapping[str, str]
    ) -> None:
        message = error.get("message")
        self.failure = GraphFailure(
            status=status,
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            # Meta's own words, short; they never echo the token
            message=message[:200] if isinstance(message, str) else "",
            retry_at=regain_at(headers),
        )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# -- webhook signatures ------------------------------------------------------------------


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>`` checked in constant time."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256=") :].strip().lower())


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta would send for ``body`` (for tests and tools)."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


# -- the walk ----------------------------------------------------------------------------


#: an item that cannot be read: counted on the page, never sinks it
Skip = SkipItem


@dataclass
class Step:
    """What one task's request gave: items, more tasks, and whether it goes on."""

    items: list[Interaction] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    after: str | None = None
    problems: list[str] = field(default_factory=list)


def load_cursor(cursor: str, network: str) -> dict[str, Any]:
    try:
        state = json.loads(cursor)
    except ValueError:
        raise PayloadError(f"{network}: the stored cursor is not valid JSON") from None
    if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
        raise PayloadError(f"{network}: the stored cursor has an unknown version")
    since, t0, tasks = state.get("since"), state.get("t0"), state.get("q", [])
    if not isinstance(since, int) or not isinstance(t0, int) or not isinstance(tasks, list):
        raise PayloadError(f"{network}: the stored cursor is malformed")
    for task in tasks:
        if not (isinstance(task, dict) and isinstance(task.get("k"), str)):
            raise PayloadError(f"{network}: the stored cursor has a malformed task")
        if task.get("id") is not None and not _ID.match(str(task["id"])):
            raise PayloadError(f"{network}: the stored cursor has a malformed id")
        if task.get("a") is not None and not _AFTER.match(str(task["a"])):
            raise PayloadError(f"{network}: the stored cursor has a malformed paging cursor")
    return state


def dump_cursor(state: Mapping[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


def walk(
    cursor: str | None,
    *,
    network: str,
    backfill_days: int,
    seed: Callable[[], list[dict[str, Any]]],
    run: Callable[[dict[str, Any], int], Step],
    usage: Callable[[], int | None],
    now: datetime | None = None,
) -> Page:
    """One step of the cycle described in the module docstring.

    ``seed()`` gives a new cycle's first tasks; ``run(task, since)`` reads one page
    of one task (``since`` in epoch seconds) and says what it found.
    """
    now = now or datetime.now(timezone.utc)
    state = load_cursor(cursor, network) if cursor else None
    if state is None:
        since = int((now - timedelta(days=backfill_days)).timestamp())
        state = {"v": CURSOR_VERSION, "since": since, "t0": int(now.timestamp()), "q": []}
    if not state["q"]:  # a new cycle
        if cursor:
            state["since"] = int(state["t0"] - OVERLAP.total_seconds())
        state["t0"] = int(now.timestamp())
        state["q"] = seed()
    current = usage()
    if current is not None and current >= 100:
        raise RateLimited(f"{network}: Meta reports {current}% of the usage limit", retry_at=None)
    if not state["q"]:
        return Page(cursor=dump_cursor(state), has_more=False)
    task = dict(state["q"][0])
    step = run(task, state["since"])
    rest = list(state["q"][1:])
    if step.after:
        rest.insert(0, {**task, "a": step.after})
    rest.extend(step.tasks)
    state["q"] = rest[:MAX_TASKS]
    items = sorted(step.items, key=lambda item: (item.created_at, item.external_id))
    return Page(
        items=tuple(items),
        cursor=dump_cursor(state),
        has_more=bool(state["q"]),
        skipped=len(step.problems),
        problems=tuple(step.problems[:50]),
    )


def page_items(body: Mapping[str, Any], network: str, what: str) -> tuple[list[Any], str | None]:
    """A Graph list's ``data`` and the ``after`` cursor, when there is a next page."""
    data = body.get("data")
    if not isinstance(data, list):
        raise PayloadError(f"{network}: {what} has no data list")
    paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
    after = cursors.get("after")
    if not paging.get("next") or not isinstance(after, str) or not _AFTER.match(after):
        after = None
    return data, after if data else None


def when(value: Any) -> datetime:
    """Graph times: ISO 8601 with ``+0000``, or epoch seconds (webhooks) or ms."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 10**11:
        value = value / 1000  # milliseconds (messaging webhooks)
    return parse_datetime(value)


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def valid_id(value: Any) -> str:
    text = str(value or "")
    return text if _ID.match(text) else ""


# -- what Facebook and Instagram connectors share -------------------------------------

#: a private reply must be sent within this long of the comment
PRIVATE_REPLY_WINDOW = timedelta(days=7)
#: a message may answer a person within this long of their last message
MESSAGING_WINDOW = timedelta(hours=24)
DEFAULT_POSTS = 10
MAX_POSTS = 50


class MetaConnector(Connector):
    """Common ground of the Page and Instagram connectors (not a network itself:
    it has no ``code``). Subclasses say which ids they read and how items look."""

    default_base_url = GRAPH_URL
    #: Meta exposes no email and its ids are scoped to one Page or IG account: a
    #: link is a person's or staff's confirmation, never automatic
    suggestions_only = True
    option_keys = ("posts", "backfill_days", "graph_version")
    #: the longest direct message, as Meta counts it (subclasses)
    max_dm_length = 2000
    #: ``messenger`` or ``instagram``: the conversations' platform
    platform = "messenger"

    @staticmethod
    def _comment_head(row: Any, own_id: str, time_key: str) -> tuple | None:
        """``(comment id, author id, author dict, created)`` of a comment row, ``None``
        for the account's own comment; :class:`Skip` when the row is unusable."""
        if not isinstance(row, dict):
            raise Skip("a comment is not an object")
        comment = valid_id(row.get("id"))
        sender = row.get("from") if isinstance(row.get("from"), dict) else {}
        person = valid_id(sender.get("id"))
        if not comment:
            raise Skip("a comment without a usable id")
        if not person:
            raise Skip(f"comment {comment}: Meta did not say who wrote it")
        if person == own_id:
            return None
        try:
            created = when(row.get(time_key))
        except (TypeError, ValueError):
            raise Skip(f"comment {comment}: no usable time") from None
        return comment, person, sender, created

    def __init__(self, *, clock: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: what time it is (tests give a fixed one; the 24-hour and 7-day windows use it)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        version = str(self.options.get("graph_version") or GRAPH_VERSION)
        if not re.fullmatch(r"v\d{1,2}\.\d", version):
            raise ValueError(f"{self.network.value}: graph_version looks like v21.0")
        self.page_id = valid_id(self.credentials.get("page_id"))
        self.graph = GraphClient(
            session=self.session,
            base_url=self.base_url,
            token=str(self.credentials.get("page_access_token") or ""),
            timeout=self.timeout,
            network=self.network.value,
            version=version,
        )

    # -- options ---------------------------------------------------------------------

    @property
    def posts(self) -> int:
        return self.option_int("posts", DEFAULT_POSTS, MAX_POSTS)

    @property
    def backfill_days(self) -> int:
        return self.option_int("backfill_days", DEFAULT_BACKFILL_DAYS, 90, minimum=0)

    @property
    def owner_id(self) -> str:
        """The id authors are scoped to (the Page, the IG account)."""
        return self.page_id

    def scoped(self, person_id: str) -> str:
        """``<owner id>:<page- or IG-scoped id>``: scoped ids are not global."""
        return f"{self.owner_id}:{person_id}"

    def unscoped(self, author_id: str) -> str:
        owner, _, person = str(author_id or "").partition(":")
        if owner != self.owner_id or not valid_id(person):
            raise NotSupported(
                f"{self.network.value}: {author_id!r} is not a person of this account"
            )
        return person

    # -- reading ---------------------------------------------------------------------

    def fetch(self, cursor: str | None = None) -> Page:
        if not self.owner_id:
            raise AuthError(f"{self.network.value}: the account has no id; connect it first")
        return walk(
            cursor,
            network=self.network.value,
            backfill_days=self.backfill_days,
            seed=self._seed,
            run=self._run,
            usage=lambda: self.graph.usage,
            now=self.clock(),
        )

    def _seed(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _run(self, task: dict[str, Any], since: int) -> Step:
        handler = getattr(self, f"_task_{task['k']}", None)
        if handler is None:
            raise PayloadError(f"{self.network.value}: the cursor has an unknown task")
        return handler(task, since)

    def _list(
        self, path: str, what: str, task: Mapping[str, Any], **params: Any
    ) -> tuple[list, str | None]:
        if task.get("a"):
            params["after"] = task["a"]
        body = self.graph.call("GET", path, what, params=params)
        return page_items(body, self.network.value, what)

    def _task_convs(self, task: dict[str, Any], since: int) -> Step:
        """Conversations updated since ``since`` (newest first) -> one task each."""
        rows, after = self._list(
            f"{self.page_id}/conversations",
            "conversations",
            task,
            platform=self.platform,
            fields="id,updated_time",
            limit=25,
        )
        step = Step()
        for row in rows:
            conv = valid_id(row.get("id")) if isinstance(row, dict) else ""
            try:
                updated = when(row.get("updated_time")) if conv else None
            except (TypeError, ValueError):
                updated = None
            if updated is None:
                step.problems.append("a conversation without a usable id or time")
                continue
            if epoch(updated) < since:
                return step  # older ones have nothing new
            step.tasks.append({"k": "msgs", "id": conv})
        step.after = after
        return step

    def _task_msgs(self, task: dict[str, Any], since: int) -> Step:
        rows, after = self._list(
            f"{task['id']}/messages",
            "messages",
            task,
            fields="id,message,created_time,from,to",
            limit=100,
        )
        step = Step()
        for row in rows:
            try:
                item = self._message_item(row)
            except Skip as skip:
                step.problems.append(str(skip))
                continue
            if item is None:
                continue
            if epoch(item.created_at) < since:
                return step
            step.items.append(item)
        step.after = after
        return step

    def _message_item(self, row: Any) -> Interaction | None:
        if not isinstance(row, dict):
            raise Skip("a message is not an object")
        mid = valid_id(row.get("id"))
        sender = row.get("from") if isinstance(row.get("from"), dict) else {}
        person = valid_id(sender.get("id"))
        if not mid or not person:
            raise Skip("a message without a usable id or sender")
        if person in (self.page_id, self.owner_id):
            return None  # the brand's own message
        try:
            created = when(row.get("created_time"))
        except (TypeError, ValueError):
            raise Skip(f"message {mid}: no usable time") from None
        return self._dm(mid, person, sender, created, row.get("message"))

    def _dm(
        self, mid: str, person: str, sender: Mapping[str, Any], created: datetime, text: Any
    ) -> Interaction:
        return Interaction(
            network=self.network,
            external_id=mid,
            kind=Kind.DM,
            author=self._author(person, sender),
            created_at=created,
            text=text if isinstance(text, str) else "",
            reply_ref=f"dm:{person}",
            raw_kind="message",
        )

    def _author(self, person: str, raw: Mapping[str, Any]) -> Author:
        raise NotImplementedError

    # -- webhooks --------------------------------------------------------------------

    def webhook_items(self, entry: Mapping[str, Any]) -> Page:
        """The interactions of one webhook ``entry`` addressed to this account, as
        the pull would have read them (same ids, so the two make one)."""
        items: list[Interaction] = []
        problems: list[str] = []
        for event in entry.get("messaging") or []:
            try:
                item = self._webhook_message(event)
            except Skip as skip:
                problems.append(str(skip))
                continue
            if item is not None:
                items.append(item)
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                problems.append("a change without a value")
                continue
            try:
                item = self._webhook_change(str(change.get("field") or ""), change["value"])
            except Skip as skip:
                problems.append(str(skip))
                continue
            if item is not None:
                items.append(item)
        items.sort(key=lambda item: (item.created_at, item.external_id))
        return Page(items=tuple(items), skipped=len(problems), problems=tuple(problems[:50]))

    def _webhook_message(self, event: Any) -> Interaction | None:
        if not isinstance(event, dict):
            raise Skip("a messaging event is not an object")
        message = event.get("message")
        if not isinstance(message, dict) or message.get("is_echo"):
            return None  # reads, deliveries, echoes of our own messages
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        person, mid = valid_id(sender.get("id")), valid_id(message.get("mid"))
        if not person or not mid:
            raise Skip("a message event without a usable sender or mid")
        if person in (self.page_id, self.owner_id):
            return None
        try:
            created = when(event.get("timestamp"))
        except (TypeError, ValueError):
            raise Skip(f"message {mid}: no usable timestamp") from None
        return self._dm(mid, person, sender, created, message.get("text"))

    def _webhook_change(self, name: str, value: Mapping[str, Any]) -> Interaction | None:
        raise NotImplementedError

    # -- writing ---------------------------------------------------------------------

    def _target(self, to: str) -> tuple[str, str]:
        """``c:<comment>[><thread>]`` -> (the comment, where a reply goes)."""
        kind, _, rest = str(to or "").partition(":")
        comment, _, thread = rest.partition(">")
        if kind != "c" or not valid_id(comment) or (thread and not valid_id(thread)):
            raise NotSupported(f"{self.network.value}: {to!r} is not a comment to answer")
        return comment, thread or comment

    def reply(self, to: str, text: str) -> Interaction:
        if str(to).startswith("dm:"):
            return self.send_dm(self.scoped(to[3:]), text)
        comment, thread = self._target(to)
        text = self.check_text(text)
        body = self.graph.call(
            "POST", self._reply_path(thread), "reply", json_body={"message": text}
        )
        posted = valid_id(body.get("id"))
        if not posted:
            raise PayloadError(f"{self.network.value}: the reply has no id")
        return Interaction(
            network=self.network,
            external_id=posted,
            kind=Kind.REPLY,
            author=self._brand(),
            created_at=datetime.now(timezone.utc),
            text=text,
            parent_id=comment,
            raw_kind="comment",
        )

    def _reply_path(self, thread: str) -> str:
        raise NotImplementedError

    def check_dm_text(self, text: str) -> str:
        text = self.check_text(text)
        length = self.dm_length(text)
        if length > self.max_dm_length:
            raise ValueError(
                f"{self.network.value} accepts at most {self.max_dm_length} characters in "
                f"a message, this text has {length}"
            )
        return text

    @staticmethod
    def dm_length(text: str) -> int:
        return len(text)

    def last_message_from(self, person: str) -> datetime | None:
        """When ``person`` last wrote to us (the 24-hour window), or ``None``."""
        body = self.graph.call(
            "GET",
            f"{self.page_id}/conversations",
            "conversation",
            params={
                "platform": self.platform,
                "user_id": person,
                "fields": "messages.limit(25){created_time,from}",
            },
        )
        rows, _ = page_items(body, self.network.value, "conversation")
        latest = None
        for conv in rows:
            messages = conv.get("messages") if isinstance(conv, dict) else None
            for row in (messages or {}).get("data") or [] if isinstance(messages, dict) else []:
                sender = row.get("from") if isinstance(row, dict) else None
                if isinstance(sender, dict) and str(sender.get("id")) == person:
                    try:
                        created = when(row.get("created_time"))
                    except (TypeError, ValueError):
                        continue
                    latest = created if latest is None or created > latest else latest
        return latest

    def send_dm(self, author_id: str, text: str) -> Interaction:
        """A message within Meta's 24-hour window; outside it, nothing is sent."""
        person = self.unscoped(author_id)
        text = self.check_dm_text(text)
        last = self.last_message_from(person)
        if last is None or self.clock() - last > MESSAGING_WINDOW:
            raise NotSupported(
                f"{self.network.value}: this person has not written to us in the last 24 "
                "hours; Meta allows no message outside that window. Nothing was sent."
            )
        return self._send_message({"id": person}, text, person)

    def private_reply(self, to: str, text: str, created_at: datetime | None = None) -> Interaction:
        """One private message to a comment's author, within 7 days of the comment."""
        comment, _thread = self._target(to)
        text = self.check_dm_text(text)
        if created_at is None:
            created_at = self._comment_time(comment)
        if self.clock() - created_at > PRIVATE_REPLY_WINDOW:
            raise NotSupported(
                f"{self.network.value}: the comment is more than 7 days old; Meta allows "
                "no private reply to it. Nothing was sent."
            )
        return self._send_message({"comment_id": comment}, text, "")

    def _comment_time(self, comment: str) -> datetime:
        raise NotImplementedError

    def _send_message(self, recipient: Mapping[str, str], text: str, person: str) -> Interaction:
        if not self.page_id:
            raise AuthError(f"{self.network.value}: messages need the Page id; connect the account")
        payload: dict[str, Any] = {"recipient": dict(recipient), "message": {"text": text}}
        if "id" in recipient:
            payload["messaging_type"] = "RESPONSE"
        body = self.graph.call("POST", f"{self.page_id}/messages", "message", json_body=payload)
        mid = valid_id(body.get("message_id"))
        if not mid:
            raise PayloadError(f"{self.network.value}: the message has no id")
        person = person or valid_id(body.get("recipient_id"))
        return Interaction(
            network=self.network,
            external_id=mid,
            kind=Kind.DM,
            author=self._brand(),
            created_at=datetime.now(timezone.utc),
            text=text,
            reply_ref=f"dm:{person}" if person else "",
            raw_kind="message",
        )

    def _brand(self) -> Author:
        return Author(network=self.network, external_id=self.owner_id, handle=self.owner_id)


# -- Connect (OAuth 2.0 with Meta's login dialog) ---------------------------------------

DIALOG_URL = "https://www.facebook.com"
#: what an account asks Meta for (Pages, Messenger, Instagram comments and Direct)
SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
    "pages_manage_metadata",
    "pages_messaging",
    "instagram_basic",
    "instagram_manage_comments",
    "instagram_manage_messages",
)
#: what the Page subscribes our app to, for the webhooks
PAGE_FIELDS = ("feed", "mention", "messages")


@dataclass(frozen=True)
class MetaPage:
    """A Page the person granted, with its token and its linked Instagram account."""

    page_id: str
    name: str
    access_token: str = field(repr=False)
    ig_user_id: str = ""
    ig_username: str = ""


class MetaOAuth:
    """The Connect flow's calls, over :class:`GraphClient` (the engine's HTTP layer).

    Why not requests-oauthlib or authlib: what they do for us is building one URL;
    Meta's steps after it (a GET token exchange, the long-lived ``fb_exchange_token``
    grant, the Page tokens) are Meta's own and outside OAuth 2.0, the ``state`` is
    stored and checked by Odoo, and every call must go through the one HTTP choke
    point (timeouts, byte caps, no secrets in messages).
    """

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        graph_url: str = GRAPH_URL,
        dialog_url: str = DIALOG_URL,
        version: str = GRAPH_VERSION,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not app_id or not app_secret:
            raise AuthError("meta: set the Meta app id and secret in Settings first")
        self.app_id, self._secret = app_id, app_secret
        self.dialog_url = dialog_url.rstrip("/")
        self.version = version
        self._session = session or new_session()
        self._graph_url, self._timeout = graph_url, timeout

    def __repr__(self) -> str:
        return f"<MetaOAuth app {self.app_id}>"

    def client(self, token: str = "") -> GraphClient:
        return GraphClient(
            session=self._session,
            base_url=self._graph_url,
            token=token,
            timeout=self._timeout,
            network="meta",
            version=self.version,
        )

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "client_id": self.app_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(SCOPES),
            }
        )
        return f"{self.dialog_url}/{self.version}/dialog/oauth?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> str:
        """The code for a short-lived user token, then that for a long-lived one."""
        params = {"client_id": self.app_id, "client_secret": self._secret}
        graph = self.client()
        short = graph.call(
            "GET",
            "oauth/access_token",
            "token",
            params={**params, "redirect_uri": redirect_uri, "code": code},
            token=False,
        ).get("access_token")
        if not isinstance(short, str) or not short:
            raise PayloadError("meta: the code exchange gave no token")
        long_lived = graph.call(
            "GET",
            "oauth/access_token",
            "token",
            params={**params, "grant_type": "fb_exchange_token", "fb_exchange_token": short},
            token=False,
        ).get("access_token")
        if not isinstance(long_lived, str) or not long_lived:
            raise PayloadError("meta: the long-lived token exchange gave no token")
        return long_lived

    def me(self, user_token: str) -> str:
        body = self.client(user_token).call("GET", "me", "user", params={"fields": "id"})
        return valid_id(body.get("id"))

    def pages(self, user_token: str) -> list[MetaPage]:
        """The Pages the person granted (their Page tokens never expire while the
        user token is long-lived) and each one's Instagram professional account."""
        graph, found, after = self.client(user_token), [], None
        for _ in range(20):  # 20 x 100 Pages at most
            params: dict[str, Any] = {
                "fields": "id,name,access_token,instagram_business_account{id,username}",
                "limit": 100,
            }
            if after:
                params["after"] = after
            rows, after = page_items(
                graph.call("GET", "me/accounts", "pages", params=params), "meta", "pages"
            )
            for row in rows:
                page = valid_id(row.get("id")) if isinstance(row, dict) else ""
                token = row.get("access_token") if isinstance(row, dict) else None
                if not page or not isinstance(token, str) or not token:
                    continue
                ig = row.get("instagram_business_account")
                ig = ig if isinstance(ig, dict) else {}
                name = row.get("name") if isinstance(row.get("name"), str) else page
                username = ig.get("username") if isinstance(ig.get("username"), str) else ""
                found.append(
                    MetaPage(page, name[:200], token, valid_id(ig.get("id")), username[:30])
                )
            if not after:
                break
        return found

    def subscribe_page(self, page_id: str, page_token: str) -> None:
        self.client(page_token).call(
            "POST",
            f"{page_id}/subscribed_apps",
            "subscription",
            params={"subscribed_fields": ",".join(PAGE_FIELDS)},
        )

    def unsubscribe_page(self, page_id: str, page_token: str) -> None:
        self.client(page_token).call("DELETE", f"{page_id}/subscribed_apps", "subscription")

    def revoke(self, user_id: str) -> None:
        """Take back every permission the person granted the app (app token)."""
        self.client(f"{self.app_id}|{self._secret}").call(
            "DELETE", f"{valid_id(user_id) or 'me'}/permissions", "revoke"
        )
