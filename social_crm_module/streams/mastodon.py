"""Mastodon in real time: the streaming API over one websocket.

``/api/v1/streaming`` with the brand's token (``Authorization: Bearer`` on the
handshake, never in the URL), subscribed to the ``user`` stream (the brand's
notifications) and to one ``hashtag`` stream per hashtag of the listening
queries (plus ``public`` when the ``listen_public`` option is set, for keywords).

- a ``notification`` event's payload is the same JSON the pull reads from
  ``/api/v1/notifications``: it goes through the pull connector's own normaliser,
  so its external id (the notification id) is the pull's;
- an ``update`` on a listening stream is a status; one that a query matches, that
  does not mention the brand and is not the brand's own, becomes a ``listening``
  interaction with the external id ``status:<id>``;
- the streaming API keeps no position: what happened while the socket was down is
  caught up by the pull (``since_id`` through its cursor) when the listener
  reconnects, so the stream's cursor is only the newest notification id read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..connectors.base import SkipItem
from ..connectors.mastodon import _ID, MastodonConnector
from ..errors import AuthError
from ..interaction import Interaction, Kind, Network, parse_datetime
from ..text import html_to_text
from .base import Batch, Stream, frame_size, ws_connect, ws_frames
from .bluesky import _Collector
from .listening import ListeningQuery, first_match


class MastodonStream(Stream):
    name = "mastodon"

    def __init__(
        self,
        connector: MastodonConnector,
        queries: Sequence[ListeningQuery] = (),
        *,
        brand_acct: str = "",
        streaming_url: str = "",
        listen_public: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.connector = connector
        self.queries = tuple(q for q in queries if not q.empty)
        self.brand_acct = (brand_acct or "").lower()
        base = streaming_url or connector.base_url
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
            raise ValueError("mastodon stream: the instance URL must be http(s) or ws(s)")
        scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
        self.url = f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/api/v1/streaming"
        self.listen_public = listen_public
        self._ws = None

    def subscriptions(self) -> list[dict[str, str]]:
        subs = [{"type": "subscribe", "stream": "user"}]
        tags = sorted({tag for query in self.queries for tag in query.hashtags})
        subs += [{"type": "subscribe", "stream": "hashtag", "tag": tag} for tag in tags[:100]]
        if self.listen_public and self.queries:
            subs.append({"type": "subscribe", "stream": "public"})
        return subs

    def batches(self) -> Iterator[Batch]:
        token = str(self.connector.credentials.get("access_token") or "").strip()
        if not token:
            raise AuthError("mastodon: no access token")
        self._ws = ws_connect(
            self.url,
            headers={"Authorization": f"Bearer {token}"},
            open_timeout=self.open_timeout,
            max_frame=self.max_frame,
        )
        for sub in self.subscriptions():
            self._ws.send(json.dumps(sub))
        for frames in ws_frames(self._ws, idle=self.idle, max_batch=self.max_batch):
            out = _Collector()
            for frame in frames:
                self._read(frame, out)
            yield out.batch(self.cursor, len(frames))

    def _read(self, frame: str | bytes, out: _Collector) -> None:
        if frame_size(frame) > self.max_frame:
            out.skip(f"mastodon: a frame of {frame_size(frame)} bytes is over the limit")
            return
        try:
            message = json.loads(frame)
            payload = message.get("payload") if isinstance(message, dict) else None
            event = message.get("event") if isinstance(message, dict) else None
            if isinstance(payload, str):
                payload = json.loads(payload)
        except ValueError:
            out.skip("mastodon: a frame that is not JSON")
            return
        if not isinstance(message, dict) or not isinstance(event, str):
            out.skip("mastodon: a frame without an event")
            return
        if event == "notification":
            self._notification(payload, out)
        elif event in ("update", "status.update"):
            self._status(payload, out)
        # delete, filters_changed, announcement, conversation...: nothing to store

    def _notification(self, payload: Any, out: _Collector) -> None:
        try:
            item = self.connector._interaction(payload)
        except SkipItem as skip:
            out.skip(f"mastodon: {skip}")
            return
        note_id = item.external_id
        if self.cursor is None or (len(note_id), note_id) > (len(self.cursor), self.cursor):
            self.cursor = note_id
        out.last_event_at = item.created_at.timestamp()
        out.add(item, None)

    def _status(self, status: Any, out: _Collector) -> None:  # noqa: PLR0911 - one exit per reason
        if not self.queries:
            return
        if not isinstance(status, dict):
            out.skip("mastodon: an update that is not a status")
            return
        status_id = str(status.get("id") or "")
        if not _ID.match(status_id):
            out.skip("mastodon: a status without a valid id")
            return
        author = self.connector._author(status.get("account"))
        if author is None:
            out.skip(f"mastodon: status {status_id}: no usable account")
            return
        if status.get("reblog") or status.get("visibility") not in ("public", "unlisted"):
            return
        if author.external_id == self.brand_acct:
            return
        mentioned = {
            self.connector._acct(m.get("acct"))
            for m in status.get("mentions") or ()
            if isinstance(m, dict)
        }
        if self.brand_acct and self.brand_acct in mentioned:
            return  # tagged: the user stream brings it as a mention
        try:
            created_at = parse_datetime(status.get("created_at"))
        except (TypeError, ValueError):
            out.skip(f"mastodon: status {status_id}: no valid created_at")
            return
        text = html_to_text(status.get("content"))
        tags = [t.get("name") for t in status.get("tags") or () if isinstance(t, dict)]
        lang = status.get("language")
        key = first_match(
            self.queries,
            text,
            langs=[lang] if isinstance(lang, str) else [],
            tags=[t for t in tags if isinstance(t, str)],
        )
        if key is None:
            return
        out.last_event_at = created_at.timestamp()
        parent = str(status.get("in_reply_to_id") or "")
        item = Interaction(
            network=Network.MASTODON,
            external_id=f"status:{status_id}",
            kind=Kind.LISTENING,
            author=author,
            created_at=created_at,
            text=text,
            url=_http(status.get("url")) or _http(status.get("uri")) or author.profile_url,
            parent_id=parent if _ID.match(parent) else "",
            reply_ref=status_id,
            raw_kind="listening",
        )
        out.add(item, key)

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()


def _http(value: Any) -> str:
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value if not any(c.isspace() for c in value) else ""
    return ""
