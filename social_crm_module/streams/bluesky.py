"""Bluesky in real time: Jetstream (JSON) and the repository event stream (CBOR).

Both streams turn each created record into the *same* interaction the pull makes
from the notification it causes: the record is dressed as a notification and
handed to :class:`~..connectors.bluesky.BlueskyConnector`'s own normaliser, so
the external id is the record's ``at://`` URI in both, and the ingest stores the
post once whichever path brought it first.

What becomes what (``brand`` is the brand account's DID):

- a post replying to a post of the brand (parent or root): ``reply``;
- a post quoting a post of the brand: ``quote``;
- a post with a mention facet of the brand: ``mention``;
- a like or repost of a post of the brand: ``like`` / ``repost``;
- a follow of the brand: ``follow``;
- any other post that a listening query matches: ``listening``;
- the brand's own records, deletions and everything else: read, not kept.

Cursors: Jetstream's is ``time_us`` of the last event read (it replays from there
on reconnect; the ingest drops the repeat), and the time of the first connection
before any event; the repository stream's is ``seq``, unknown until the first event
arrives: a listener that dies before storing one starts again from the live head
(the pull, the safety net, covers mentions in that window).

Authors come with their DID only (the streams carry no handle); the ingest keeps
a known identity's handle, and the listener may look new ones up.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..connectors.base import SkipItem
from ..connectors.bluesky import _AT_URI, _CID, _DID, BlueskyConnector
from ..errors import PayloadError, TransientError
from ..interaction import Interaction, Kind, Page
from .base import Batch, Stream, frame_size, ws_connect, ws_frames
from .listening import ListeningQuery, first_match

POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
FOLLOW = "app.bsky.graph.follow"
COLLECTIONS = (POST, LIKE, REPOST, FOLLOW)
_MENTION_FEATURE = "app.bsky.richtext.facet#mention"
_TIME_US = re.compile(rb'"time_us"\s*:\s*([0-9]{1,19})')
_MAX_PROBLEMS = 50


class _Ignore(Exception):
    """A well-formed event that is none of the brand's business."""


def _did_of(uri: Any) -> str:
    match = _AT_URI.match(uri) if isinstance(uri, str) else None
    return match.group(1) if match else ""


def _ref_uri(value: Any) -> str:
    return value.get("uri", "") if isinstance(value, dict) else ""


def _quoted(record: Mapping[str, Any]) -> str:
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return ""
    inner = embed.get("record")
    if isinstance(inner, dict) and isinstance(inner.get("record"), dict):
        inner = inner["record"]
    return _ref_uri(inner)


def _mentions(record: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    facets = record.get("facets")
    if not isinstance(facets, list):
        return found
    for facet in facets[:100]:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else ():
            if isinstance(feature, dict) and feature.get("$type") == _MENTION_FEATURE:
                did = feature.get("did")
                if isinstance(did, str):
                    found.add(did)
    return found


def _tags(record: Mapping[str, Any]) -> list[str]:
    tags = [t for t in record.get("tags") or () if isinstance(t, str)]
    for facet in record.get("facets") or ():
        for feature in (facet.get("features") or ()) if isinstance(facet, dict) else ():
            if isinstance(feature, dict) and isinstance(feature.get("tag"), str):
                tags.append(feature["tag"])
    return tags[:100]


class BlueskyEvents:
    """Turns created records into interactions for one brand (shared by both streams)."""

    def __init__(
        self,
        brand_did: str,
        queries: Sequence[ListeningQuery] = (),
        connector: BlueskyConnector | None = None,
    ) -> None:
        if not _DID.match(brand_did or ""):
            raise ValueError("bluesky stream: the brand's DID is required")
        self.brand = brand_did
        self.queries = tuple(q for q in queries if not q.empty)
        # only the normaliser is used: no request is ever sent through it
        self._normaliser = connector or BlueskyConnector(base_url="http://127.0.0.1")

    def interaction(
        self,
        did: str,
        collection: str,
        *,
        rkey: str,
        cid: str,
        record: Any,
        at: datetime,
    ) -> tuple[Interaction, str | None]:
        """The interaction a created record makes, and the listening query it
        matched; ``_Ignore`` when it is not the brand's business, ``SkipItem`` when
        it is malformed."""
        if not _DID.match(did or ""):
            raise SkipItem("an event without a valid did")
        if did == self.brand:
            raise _Ignore("the brand's own record")
        if collection not in COLLECTIONS:
            raise _Ignore(collection)
        uri = f"at://{did}/{collection}/{rkey}"
        if not _AT_URI.match(uri):
            raise SkipItem(f"an event with an invalid record key ({rkey[:40]!r})")
        if not isinstance(record, dict):
            raise SkipItem(f"{uri}: the record is not an object")
        reason, query = self._reason(collection, record)
        notification = {
            "uri": uri,
            "cid": cid,
            "reason": "mention" if reason == "listening" else reason,
            "author": {"did": did},
            "record": record,
            "indexedAt": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        if reason in ("reply", "quote", "mention", "listening") and not _CID.match(cid or ""):
            raise SkipItem(f"{uri}: the post has no valid cid")
        item = self._normaliser._interaction(notification, at)
        if reason == "listening":
            item = replace(item, kind=Kind.LISTENING, raw_kind="listening")
        return item, query

    def _reason(self, collection: str, record: Mapping[str, Any]) -> tuple[str, str | None]:
        brand = self.brand
        if collection == FOLLOW:
            if record.get("subject") == brand:
                return "follow", None
            raise _Ignore("a follow of someone else")
        if collection in (LIKE, REPOST):
            if _did_of(_ref_uri(record.get("subject"))) == brand:
                return ("like" if collection == LIKE else "repost"), None
            raise _Ignore("about someone else's post")
        thread = record.get("reply")
        if isinstance(thread, dict) and brand in (
            _did_of(_ref_uri(thread.get("parent"))),
            _did_of(_ref_uri(thread.get("root"))),
        ):
            return "reply", None
        if _did_of(_quoted(record)) == brand:
            return "quote", None
        if brand in _mentions(record):
            return "mention", None
        text = record.get("text")
        if self.queries and isinstance(text, str):
            langs = [lang for lang in record.get("langs") or () if isinstance(lang, str)]
            key = first_match(self.queries, text, langs=langs[:10], tags=_tags(record))
            if key is not None:
                return "listening", key
        raise _Ignore("a post that is not about the brand")


class _Collector:
    """Gathers one batch's interactions, skips and listening matches."""

    def __init__(self) -> None:
        self.items: list[Interaction] = []
        self.listening: dict[str, str] = {}
        self.problems: list[str] = []
        self.skipped = 0
        self.last_event_at: float | None = None

    def skip(self, reason: str) -> None:
        self.skipped += 1
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(reason[:300])

    def add(self, item: Interaction, query: str | None) -> None:
        self.items.append(item)
        if query is not None:
            self.listening[item.external_id] = query

    def batch(self, cursor: str | None, frames: int) -> Batch:
        page = Page(
            items=tuple(self.items),
            skipped=self.skipped,
            problems=tuple(self.problems),
        )
        return Batch(
            page=page,
            cursor=cursor,
            listening=dict(self.listening),
            frames=frames,
            last_event_at=self.last_event_at,
        )


class JetstreamStream(Stream):
    """Jetstream's JSON events over a websocket (``/subscribe``).

    ``url`` is the instance (``wss://jetstream2.us-east.bsky.network``);
    ``wanted_dids`` narrows the stream to those repositories (none: all of them).
    The server is asked for the four collections that can concern the brand and
    for frames no bigger than ``max_frame``.
    """

    name = "jetstream"

    def __init__(
        self,
        url: str,
        events: BlueskyEvents,
        *,
        wanted_dids: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError("jetstream: the URL must be ws:// or wss://")
        self.url = url.rstrip("/")
        self.events = events
        self.wanted_dids = tuple(d for d in wanted_dids if _DID.match(d))[:10000]
        self._ws = None

    def subscribe_url(self) -> str:
        params: list[tuple[str, str]] = [("wantedCollections", c) for c in COLLECTIONS]
        params += [("wantedDids", d) for d in self.wanted_dids]
        params.append(("maxMessageSizeBytes", str(self.max_frame)))
        if self.cursor:
            params.append(("cursor", self.cursor))
        path = "" if self.url.endswith("/subscribe") else "/subscribe"
        return f"{self.url}{path}?{urlencode(params)}"

    def batches(self) -> Iterator[Batch]:
        if self.cursor is not None and not str(self.cursor).isdigit():
            raise PayloadError("jetstream: the cursor is not a time_us")
        if self.cursor is None:
            # Jetstream's cursor is a time: a first connection starts at "now" as a
            # position, so a listener that dies before its first event resumes here
            self.cursor = str(int(time.time() * 1_000_000))
        self._ws = ws_connect(
            self.subscribe_url(),
            headers=None,
            open_timeout=self.open_timeout,
            max_frame=self.max_frame,
        )
        for frames in ws_frames(self._ws, idle=self.idle, max_batch=self.max_batch):
            collector = _Collector()
            for frame in frames:
                self._read(frame, collector)
            yield collector.batch(self.cursor, len(frames))

    def _read(self, frame: str | bytes, out: _Collector) -> None:  # noqa: PLR0911 - one exit per bad frame
        raw = frame if isinstance(frame, bytes) else frame.encode()
        if frame_size(frame) > self.max_frame:
            found = _TIME_US.search(raw[:4096])
            self._advance(int(found.group(1)) if found else None, out)
            out.skip(f"jetstream: a frame of {len(raw)} bytes is over the limit")
            return
        try:
            event = json.loads(raw)
        except ValueError:
            out.skip("jetstream: a frame that is not JSON")
            return
        if not isinstance(event, dict):
            out.skip("jetstream: a frame that is not an object")
            return
        time_us = event.get("time_us")
        if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us <= 0:
            out.skip("jetstream: an event without time_us")
            return
        self._advance(time_us, out)
        commit = event.get("commit")
        if event.get("kind") != "commit" or not isinstance(commit, dict):
            return  # identity and account events: nothing to store
        if commit.get("operation") != "create":
            return
        at = datetime.fromtimestamp(time_us / 1e6, tz=timezone.utc)
        try:
            item, query = self.events.interaction(
                str(event.get("did") or ""),
                str(commit.get("collection") or ""),
                rkey=str(commit.get("rkey") or ""),
                cid=str(commit.get("cid") or ""),
                record=commit.get("record"),
                at=at,
            )
        except _Ignore:
            return
        except SkipItem as skip:
            out.skip(f"jetstream: {skip}")
            return
        out.add(item, query)

    def _advance(self, time_us: int | None, out: _Collector) -> None:
        if time_us is None:
            return
        if self.cursor is None or time_us > int(self.cursor):
            self.cursor = str(time_us)
        out.last_event_at = time_us / 1e6

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()


class FirehoseStream(Stream):
    """A PDS's or relay's ``com.atproto.sync.subscribeRepos`` (DAG-CBOR frames).

    Each frame is a header (``op``, ``t``) and a body; ``#commit`` bodies carry
    ``seq``, ``repo``, ``time``, ``ops`` and the new blocks as a CAR file, decoded
    with ``libipld``. ``#info`` and other types move nothing; an error frame
    (``op`` -1) ends the connection. The cursor is the last ``seq`` read.
    """

    name = "firehose"

    def __init__(self, url: str, events: BlueskyEvents, **kwargs: Any) -> None:
        kwargs.setdefault("max_frame", 2 * 1024 * 1024)
        super().__init__(**kwargs)
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError("firehose: the URL must be ws:// or wss://")
        base = url.rstrip("/")
        if not base.endswith("/xrpc/com.atproto.sync.subscribeRepos"):
            base += "/xrpc/com.atproto.sync.subscribeRepos"
        self.url = base
        self.events = events
        self._ws = None

    def batches(self) -> Iterator[Batch]:
        import libipld  # noqa: PLC0415 - only the firehose needs it

        self._libipld = libipld
        if self.cursor is not None and not str(self.cursor).isdigit():
            raise PayloadError("firehose: the cursor is not a seq")
        url = self.url + (f"?{urlencode({'cursor': self.cursor})}" if self.cursor else "")
        self._ws = ws_connect(
            url, headers=None, open_timeout=self.open_timeout, max_frame=self.max_frame
        )
        for frames in ws_frames(self._ws, idle=self.idle, max_batch=self.max_batch):
            collector = _Collector()
            failed = None
            read = 0
            for frame in frames:
                failed = self._read(frame, collector)
                if failed:
                    break
                read += 1
            # what came before an error frame is yielded (and stored) first
            yield collector.batch(self.cursor, read)
            if failed:
                raise TransientError(failed)

    def _read(self, frame: str | bytes, out: _Collector) -> str | None:
        """Read one frame into ``out``; the reason when it is an error frame."""
        if not isinstance(frame, bytes):
            out.skip("firehose: a text frame")
            return
        if len(frame) > self.max_frame:
            out.skip(f"firehose: a frame of {len(frame)} bytes is over the limit")
            return
        try:
            header, body = self._libipld.decode_dag_cbor_multi(frame)[:2]
        except (ValueError, TypeError):
            out.skip("firehose: a frame that is not DAG-CBOR")
            return
        if not isinstance(header, dict) or not isinstance(body, dict):
            out.skip("firehose: a frame whose header or body is not a map")
            return
        if header.get("op") == -1:
            return f"firehose: error frame {str(body.get('error'))[:80]}"
        seq = body.get("seq")
        fresh = isinstance(seq, int) and not isinstance(seq, bool) and seq > 0
        if fresh and (self.cursor is None or seq > int(self.cursor)):
            self.cursor = str(seq)
        if header.get("t") != "#commit":
            return
        try:
            at = datetime.fromisoformat(str(body.get("time")).replace("Z", "+00:00"))
            if at.tzinfo is None:
                at = at.replace(tzinfo=timezone.utc)
        except ValueError:
            at = datetime.now(timezone.utc)
        out.last_event_at = at.timestamp()
        self._commit(body, at, out)

    def _commit(self, body: Mapping[str, Any], at: datetime, out: _Collector) -> None:
        did = str(body.get("repo") or "")
        ops = body.get("ops")
        if not isinstance(ops, list):
            out.skip("firehose: a commit without ops")
            return
        creates = [
            op
            for op in ops[:200]
            if isinstance(op, dict)
            and op.get("action") == "create"
            and str(op.get("path") or "").split("/", 1)[0] in COLLECTIONS
        ]
        if not creates or did == self.events.brand:
            return
        try:
            _root, blocks = self._libipld.decode_car(body.get("blocks") or b"")
        except (ValueError, TypeError):
            out.skip(f"firehose: commit {body.get('seq')}: blocks are not a CAR file")
            return
        for op in creates:
            collection, _, rkey = str(op["path"]).partition("/")
            link = op.get("cid")
            cid = self._cid(link)
            # libipld keys the CAR's blocks by the CID's bytes, as it decodes links
            record = blocks.get(link) if isinstance(link, bytes) else None
            try:
                item, query = self.events.interaction(
                    did, collection, rkey=rkey, cid=cid, record=record, at=at
                )
            except _Ignore:
                continue
            except SkipItem as skip:
                out.skip(f"firehose: {skip}")
                continue
            out.add(item, query)

    def _cid(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            try:
                return self._libipld.encode_cid(value)
            except (ValueError, TypeError):
                return ""
        return ""

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()
