"""Streams against scripted servers on 127.0.0.1: Jetstream, the repository event
stream, Mastodon streaming and X's filtered stream, with malformed, cut and
oversized frames; the backoff and the reconnect loop."""

import hashlib
import json
import socket
import struct
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_crm_module import errors
from social_crm_module.connectors.bluesky import BlueskyConnector
from social_crm_module.connectors.mastodon import MastodonConnector
from social_crm_module.interaction import Kind
from social_crm_module.streams import Batch, ListeningQuery, Stream, backoff, reconnecting
from social_crm_module.streams.bluesky import BlueskyEvents, FirehoseStream, JetstreamStream
from social_crm_module.streams.mastodon import MastodonStream
from social_crm_module.testing import FakeWebSocketServer

FIXTURES = Path(__file__).parent / "fixtures"
BRAND = "did:plc:brandacme2222222222222222"
ALICE = "did:plc:alicecust3333333333333333"
BOB = "did:plc:bobcustom4444444444444444"
T = 1796188000000000
TOKEN = "stream-test-token"


def lines(name):
    return (FIXTURES / "streams" / name).read_text().splitlines()


def product_query(key="q7"):
    return ListeningQuery.build(
        key,
        products="RoastMaster 3000",
        hashtags="#roastmaster",
        languages="en",
        exclusions="giveaway",
    )


def take(stream, count):
    """The first ``count`` batches that carried frames, then close the stream."""
    out = []
    for batch in stream.batches():
        if batch.frames:
            out.append(batch)
        if len(out) == count:
            break
    stream.close()
    return out


def half_frame(payload: bytes) -> bytes:
    """A server-to-client text frame header announcing ``payload`` and only half of it."""
    header = bytes([0x81, 126]) + struct.pack("!H", len(payload))
    return header + payload[: len(payload) // 2]


# -- backoff ------------------------------------------------------------------------


def test_backoff_grows_exponentially_up_to_the_cap_with_full_jitter():
    top = [backoff(n, base=0.5, cap=8, rand=lambda: 1.0) for n in range(1, 8)]
    assert top == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff(4, base=0.5, cap=8, rand=lambda: 0.0) == 0.0
    assert backoff(4, base=0.5, cap=8, rand=lambda: 0.25) == 1.0
    assert backoff(0) == 0.0
    assert backoff(10_000, cap=60, rand=lambda: 1.0) == 60.0  # no overflow


class _Flaky(Stream):
    """Fails with the given errors in turn, then yields one batch per connection."""

    def __init__(self, failures):
        super().__init__()
        self.failures = list(failures)
        self.opened = 0

    def batches(self):
        self.opened += 1
        if self.failures:
            raise self.failures.pop(0)
        yield Batch(cursor=str(self.opened), frames=1)
        raise errors.TransientError("dropped")


def test_reconnecting_waits_with_backoff_and_resets_after_a_frame():
    stream = _Flaky([errors.TransientError("a"), errors.TransientError("b")])
    waits, told = [], []
    batches = reconnecting(
        stream,
        sleep=waits.append,
        rand=lambda: 1.0,
        base=1,
        cap=30,
        on_error=lambda e, n, d: told.append((str(e), n)),
    )
    first = next(batches)
    assert first.cursor == "3"
    assert waits == [1, 2]  # two failures in a row: 1 s then 2 s
    second = next(batches)  # dropped after a frame: the count starts again
    assert second.cursor == "4"
    assert waits == [1, 2, 1]
    assert told[0] == ("a", 1)


def test_reconnecting_gives_up_on_refused_credentials():
    stream = _Flaky([errors.TransientError("a"), errors.AuthError("no")])
    waits = []
    with pytest.raises(errors.AuthError):
        next(reconnecting(stream, sleep=waits.append, rand=lambda: 0.5))
    assert len(waits) == 1


# -- listening ----------------------------------------------------------------------


def test_listening_query_terms_words_languages_and_exclusions():
    query = product_query()
    assert query.matches("the roastmaster 3000 broke", langs=["en-GB"])
    assert query.matches("loving it", langs=["en"], tags=["RoastMaster"])
    assert query.matches("my #RoastMaster", langs=["en"])
    assert not query.matches("the roastmaster 30000 broke", langs=["en"])  # whole words
    assert not query.matches("the roastmaster 3000 broke", langs=["fr"])
    assert not query.matches("the roastmaster 3000 broke")  # no language: filtered out
    assert not query.matches("RoastMaster 3000 GIVEAWAY", langs=["en"])
    assert not ListeningQuery.build("empty").matches("anything")
    assert ListeningQuery.build("k", keywords="acme, coffee\nbeans").keywords == (
        "acme",
        "coffee",
        "beans",
    )


# -- Jetstream ------------------------------------------------------------------------


def jetstream(server, **kwargs):
    kwargs.setdefault("cursor", str(T))  # the fixtures' events come after T
    events = BlueskyEvents(BRAND, [product_query()])
    return JetstreamStream(server.url, events, idle=0.2, **kwargs)


def test_jetstream_maps_events_like_the_pull_and_moves_the_cursor():
    frames = [("send", line) for line in lines("jetstream.jsonl")]
    with FakeWebSocketServer([[*frames, ("hold",)]]) as server:
        stream = jetstream(server, wanted_dids=[ALICE, "not a did"], cursor=str(T))
        batches = []
        for batch in stream.batches():
            batches.append(batch)
            if sum(b.frames for b in batches) >= 14:
                break
        stream.close()
        path = server.connections[0]["path"]
    assert "wantedCollections=app.bsky.feed.post" in path
    assert "wantedCollections=app.bsky.graph.follow" in path
    assert f"wantedDids={ALICE.replace(':', '%3A')}" in path
    assert "not+a+did" not in path
    assert f"cursor={T}" in path
    items = [item for batch in batches for item in batch.items]
    kinds = {item.external_id.rsplit("/", 1)[-1]: item.kind for item in items}
    assert kinds == {
        "3lmention0001": Kind.MENTION,
        "3lreply000001": Kind.REPLY,
        "3lquote000001": Kind.QUOTE,
        "3llike0000001": Kind.LIKE,
        "3lrepost00001": Kind.REPOST,
        "3lfollow00001": Kind.FOLLOW,
        "3llisten00001": Kind.LISTENING,
    }
    listening = {k: v for batch in batches for k, v in batch.listening.items()}
    assert listening == {f"at://{ALICE}/app.bsky.feed.post/3llisten00001": "q7"}
    assert batches[-1].cursor == str(T + 14) == stream.cursor  # identity events move it too
    assert sum(b.page.skipped for b in batches) == 0


def test_jetstream_mention_is_the_same_interaction_as_the_pulls_notification():
    event = json.loads(lines("jetstream.jsonl")[0])
    with FakeWebSocketServer([[("send", json.dumps(event)), ("hold",)]]) as server:
        (batch,) = take(jetstream(server), 1)
    (streamed,) = batch.items
    commit = event["commit"]
    notification = {  # what listNotifications says about the same post
        "uri": f"at://{ALICE}/app.bsky.feed.post/{commit['rkey']}",
        "cid": commit["cid"],
        "author": {"did": ALICE, "handle": "alice.test"},
        "reason": "mention",
        "record": commit["record"],
        "indexedAt": "2026-12-02T05:06:41.000Z",
    }
    pulled = BlueskyConnector(base_url="http://127.0.0.1")._interaction(
        notification, datetime(2026, 12, 2, 5, 6, 41, tzinfo=timezone.utc)
    )
    for name in ("external_id", "kind", "text", "reply_ref", "root_id", "created_at"):
        assert getattr(streamed, name) == getattr(pulled, name), name
    assert streamed.author.external_id == pulled.author.external_id


def test_jetstream_counts_malformed_frames_and_skips_oversized_ones():
    big = json.dumps(
        {
            "did": ALICE,
            "time_us": T + 50,
            "kind": "commit",
            "commit": {"operation": "create", "record": {"text": "x" * 3000}},
        }
    )
    script = [
        ("send", "not json {"),
        ("send", "[1, 2]"),
        ("send", json.dumps({"kind": "commit"})),  # no time_us
        ("send", b"\x00\x01binary"),
        (
            "send",
            json.dumps(
                {
                    "did": "nope",
                    "time_us": T + 1,
                    "kind": "commit",
                    "commit": {
                        "operation": "create",
                        "collection": "app.bsky.feed.post",
                        "rkey": "3lx",
                        "cid": "bafyx",
                        "record": {"text": "RoastMaster 3000"},
                    },
                }
            ),
        ),
        ("send", big),
        ("send", lines("jetstream.jsonl")[0]),
        ("hold",),
    ]
    with FakeWebSocketServer([script]) as server:
        stream = jetstream(server, max_frame=2048)
        batches = []
        for batch in stream.batches():
            batches.append(batch)
            if sum(b.frames for b in batches) >= 7:
                break
        stream.close()
    assert sum(b.page.skipped for b in batches) == 6
    problems = " ".join(p for b in batches for p in b.page.problems)
    assert "not JSON" in problems and "over the limit" in problems
    assert "RoastMaster" not in problems and "x" * 50 not in problems
    assert [i.kind for b in batches for i in b.items] == [Kind.MENTION]
    assert stream.cursor == str(T + 50)  # the oversized frame's time_us is passed


def test_jetstream_frame_over_twice_the_limit_closes_and_the_next_dial_resumes():
    first = lines("jetstream.jsonl")[0]
    huge = json.dumps({"time_us": T + 99, "pad": "y" * 10_000})
    scripts = [[("send", first), ("send", huge), ("hold",)], [("hold",)]]
    with FakeWebSocketServer(scripts) as server:
        stream = jetstream(server, max_frame=2048)
        got = []
        with pytest.raises(errors.TransientError, match="size limit"):
            for batch in stream.batches():
                got.extend(batch.items)
        assert [i.kind for i in got] == [Kind.MENTION]
        assert stream.cursor == str(T + 1)
        stream.close()
        waits = []
        batches = reconnecting(stream, sleep=waits.append, rand=lambda: 0.0)
        next(batches)  # an idle heartbeat of the second connection
        stream.close()
        assert f"cursor={T + 1}" in server.connections[1]["path"]
        assert "maxMessageSizeBytes=2048" in server.connections[1]["path"]


def test_jetstream_disconnect_mid_frame_keeps_what_was_read_before():
    first, second = lines("jetstream.jsonl")[:2]
    script = [("send", first), ("sleep", 0.3), ("cut", half_frame(second.encode()))]
    with FakeWebSocketServer([script]) as server:
        stream = jetstream(server)
        got = []
        with pytest.raises(errors.TransientError):
            for batch in stream.batches():
                got.extend(batch.items)
    assert [i.external_id.rsplit("/", 1)[-1] for i in got] == ["3lmention0001"]
    assert stream.cursor == str(T + 1)


def test_jetstream_idle_connection_yields_heartbeats_and_refuses_bad_cursor():
    with FakeWebSocketServer([[("hold",)]]) as server:
        stream = jetstream(server, cursor=str(T))
        batch = next(stream.batches())
        stream.close()
        assert (batch.frames, batch.items, batch.cursor) == (0, (), str(T))
        # a first connection has a position at once: the time it connected
        fresh = jetstream(server, cursor=None)
        before = time.time()
        batch = next(fresh.batches())
        fresh.close()
        assert before - 1 <= int(batch.cursor) / 1e6 <= time.time()
        assert f"cursor={batch.cursor}" in server.connections[1]["path"]
    with pytest.raises(errors.PayloadError):
        next(JetstreamStream("ws://127.0.0.1:9", BlueskyEvents(BRAND), cursor="x").batches())


def test_stream_connection_refused_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stream = JetstreamStream(f"ws://127.0.0.1:{port}", BlueskyEvents(BRAND), open_timeout=1)
    with pytest.raises(errors.TransientError):
        next(stream.batches())


# -- the repository event stream (DAG-CBOR) ----------------------------------------------


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _link(raw):
    """A CBOR CID link (tag 42, identity multibase prefix) for the raw CID bytes."""
    return b"\xd8\x2a\x58" + bytes([len(raw) + 1, 0]) + raw


def _with_links(encoded, raws):
    """Turn byte strings holding raw CIDs into CID links (libipld encodes no links)."""
    for raw in raws:
        encoded = encoded.replace(b"\x58" + bytes([len(raw)]) + raw, _link(raw))
    return encoded


def firehose_frame(seq, did, records, *, t="#commit"):
    libipld = pytest.importorskip("libipld")
    blocks, ops = [], []
    for collection, rkey, record in records:
        block = libipld.encode_dag_cbor(record)
        raw = bytes([0x01, 0x71, 0x12, 0x20]) + hashlib.sha256(block).digest()
        blocks.append((raw, block))
        ops.append({"action": "create", "path": f"{collection}/{rkey}", "cid": raw})
    raws = [raw for raw, _ in blocks]
    header = _with_links(libipld.encode_dag_cbor({"version": 1, "roots": raws[:1]}), raws)
    car = _varint(len(header)) + header
    for raw, block in blocks:
        car += _varint(len(raw) + len(block)) + raw + block
    body = {"seq": seq, "repo": did, "time": "2026-12-02T05:06:40.000Z", "ops": ops}
    # inside the CAR a CID follows a varint, never a 0x58 byte-string header
    body["blocks"] = car
    encoded = _with_links(libipld.encode_dag_cbor(body), raws)
    return libipld.encode_dag_cbor({"op": 1, "t": t}) + encoded


def test_firehose_commit_frames_become_interactions_and_move_seq():
    libipld = pytest.importorskip("libipld")
    mention = {
        "$type": "app.bsky.feed.post",
        "text": "@acme.test hello",
        "createdAt": "2026-12-02T05:06:40.000Z",
        "facets": [
            {
                "index": {"byteStart": 0, "byteEnd": 10},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BRAND}],
            }
        ],
    }
    listen = {
        "$type": "app.bsky.feed.post",
        "text": "RoastMaster 3000 is loud",
        "langs": ["en"],
        "createdAt": "2026-12-02T05:06:41.000Z",
    }
    try:
        frames = [
            firehose_frame(11, ALICE, [("app.bsky.feed.post", "3lfm1", mention)]),
            libipld.encode_dag_cbor({"op": 1, "t": "#identity"})
            + libipld.encode_dag_cbor({"seq": 12, "did": ALICE}),
            b"\xff\x00 not cbor",
            "a text frame",
            firehose_frame(13, BOB, [("app.bsky.feed.post", "3lfl1", listen)]),
        ]
    except (TypeError, ValueError) as exc:  # pragma: no cover - libipld API drift
        pytest.skip(f"cannot build a CBOR fixture with this libipld: {exc}")
    script = [*(("send", f) for f in frames), ("hold",)]
    with FakeWebSocketServer([script]) as server:
        stream = FirehoseStream(
            server.url, BlueskyEvents(BRAND, [product_query()]), idle=0.2, cursor="10"
        )
        batches = []
        for batch in stream.batches():
            batches.append(batch)
            if sum(b.frames for b in batches) >= 5:
                break
        stream.close()
        assert server.connections[0]["path"].endswith(
            "/xrpc/com.atproto.sync.subscribeRepos?cursor=10"
        )
    items = [i for b in batches for i in b.items]
    assert [(i.external_id, i.kind) for i in items] == [
        (f"at://{ALICE}/app.bsky.feed.post/3lfm1", Kind.MENTION),
        (f"at://{BOB}/app.bsky.feed.post/3lfl1", Kind.LISTENING),
    ]
    assert stream.cursor == "13"
    assert sum(b.page.skipped for b in batches) == 2


# -- Mastodon streaming ---------------------------------------------------------------


def mastodon_stream(server, **kwargs):
    connector = MastodonConnector(
        base_url="https://brand.example",
        credentials={"access_token": TOKEN},
        options={"instance_domain": "brand.example"},
    )
    http_url = server.url.replace("ws://", "http://")
    return MastodonStream(
        connector,
        [product_query()],
        brand_acct="acme@brand.example",
        streaming_url=http_url,
        idle=0.2,
        **kwargs,
    )


def test_mastodon_stream_user_notifications_and_hashtag_listening():
    frames = [("send", line) for line in lines("mastodon.jsonl")]
    with FakeWebSocketServer([[("recv",), ("recv",), *frames, ("hold",)]]) as server:
        stream = mastodon_stream(server)
        batches = []
        for batch in stream.batches():
            batches.append(batch)
            if sum(b.frames for b in batches) >= 7:
                break
        stream.close()
        conn = server.connections[0]
    assert conn["path"] == "/api/v1/streaming"  # the token is never in the URL
    assert conn["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert [json.loads(m) for m in conn["received"]] == [
        {"type": "subscribe", "stream": "user"},
        {"type": "subscribe", "stream": "hashtag", "tag": "roastmaster"},
    ]
    items = [i for b in batches for i in b.items]
    notification = json.loads(json.loads(lines("mastodon.jsonl")[0])["payload"])
    pulled = MastodonConnector(
        base_url="https://brand.example", credentials={"access_token": TOKEN}
    )._interaction(notification)
    assert items[0] == pulled  # the pull's own normaliser: one interaction
    assert [(i.external_id, i.kind) for i in items[1:]] == [("status:7001", Kind.LISTENING)]
    assert items[1].text == "My #RoastMaster stopped working"
    assert {k: v for b in batches for k, v in b.listening.items()} == {"status:7001": "q7"}
    assert stream.cursor == notification["id"]
    assert sum(b.page.skipped for b in batches) == 0


def test_mastodon_stream_malformed_oversized_and_cut_frames():
    script = [
        ("send", "{not json"),
        ("send", json.dumps({"event": "update", "payload": "{broken"})),
        ("send", json.dumps({"stream": ["user"]})),
        ("send", json.dumps({"event": "notification", "payload": json.dumps({"id": "x y"})})),
        ("send", json.dumps({"event": "update", "payload": "z" * 5000})),
        ("send", lines("mastodon.jsonl")[0]),
        ("sleep", 0.3),
        ("cut", half_frame(lines("mastodon.jsonl")[1].encode())),
    ]
    with FakeWebSocketServer([script]) as server:
        stream = mastodon_stream(server, max_frame=4096)
        batches = []
        with pytest.raises(errors.TransientError):
            for batch in stream.batches():
                batches.append(batch)
    assert sum(b.page.skipped for b in batches) == 5
    assert [i.kind for b in batches for i in b.items] == [Kind.DM]  # the fixture's direct mention
    assert TOKEN not in " ".join(p for b in batches for p in b.page.problems)


def test_mastodon_stream_refused_token_is_an_auth_error():
    from websockets.sync.server import serve  # noqa: PLC0415

    def refuse(connection, request):
        return connection.respond(401, "Unauthorized\n")

    server = serve(lambda ws: None, "127.0.0.1", 0, process_request=refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.socket.getsockname()[1]
        connector = MastodonConnector(
            base_url=f"http://127.0.0.1:{port}", credentials={"access_token": TOKEN}
        )
        with pytest.raises(errors.AuthError) as info:
            next(MastodonStream(connector, open_timeout=2).batches())
        assert TOKEN not in str(info.value)
    finally:
        server.shutdown()
        thread.join(5)


# -- X filtered stream ----------------------------------------------------------------


class _RawHTTP:
    """Answers one GET with a 200 and a close-delimited body written in the given
    chunks, then drops the connection (as X does when it ends a stream)."""

    def __init__(self, chunks, status=200):
        self.chunks, self.status = chunks, status
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.request = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        self.thread.join(5)

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            while b"\r\n\r\n" not in self.request:
                self.request += conn.recv(65536)
            reason = b"OK" if self.status == 200 else b"Nope"
            conn.sendall(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                % (self.status, reason)
            )
            for chunk in self.chunks:
                conn.sendall(chunk)
                threading.Event().wait(0.05)


def x_stream(server, **kwargs):
    from social_crm_module.connectors.x import XConnector  # noqa: PLC0415
    from social_crm_module.streams.x import XFilteredStream  # noqa: PLC0415

    connector = XConnector(
        base_url=server.url,
        credentials={"bearer_token": TOKEN},
        options={"user_id": "9001"},
        timeout=2,
    )
    return XFilteredStream(connector, [product_query()], read_timeout=2, **kwargs)


def test_x_filtered_stream_mentions_listening_keepalives_and_a_cut_line():
    pytest.importorskip("tweepy")
    tweets = [line.encode() + b"\r\n" for line in lines("x_filtered.jsonl")]
    chunks = [
        b"\r\n",  # keep-alive
        tweets[0] + tweets[1][:40],  # a line split across two chunks
        tweets[1][40:] + b"{not json}\r\n" + b"[1]\r\n",
        b"z" * 3000 + b"\r\n",  # oversized line
        tweets[2] + tweets[3] + tweets[4],
        tweets[0][:50],  # cut by the disconnect: never parsed
    ]
    with _RawHTTP(chunks) as server:
        stream = x_stream(server, max_frame=2048)
        batches = []
        with pytest.raises(errors.TransientError, match="closed"):
            for batch in stream.batches():
                batches.append(batch)
    assert b"GET /2/tweets/search/stream?" in server.request
    assert b"Bearer " + TOKEN.encode() in server.request
    items = [i for b in batches for i in b.items]
    assert [(i.external_id, i.kind) for i in items] == [
        ("1870000000000000001", Kind.MENTION),
        ("1870000000000000002", Kind.LISTENING),
    ]
    # giveaway excluded, French filtered out, the brand's own tweet dropped
    assert {k: v for b in batches for k, v in b.listening.items()} == {"1870000000000000002": "q7"}
    assert sum(b.page.skipped for b in batches) == 3  # not JSON, not an object, oversized
    assert stream.cursor == "1870000000000000004"


def test_x_filtered_stream_refused_token_is_an_auth_error():
    pytest.importorskip("tweepy")
    with (
        _RawHTTP([b'{"title": "Unauthorized"}'], status=401) as server,
        pytest.raises(errors.AuthError),
    ):
        next(x_stream(server).batches())


def test_firehose_error_frame_ends_the_connection_after_what_came_before():
    libipld = pytest.importorskip("libipld")
    post = {
        "$type": "app.bsky.feed.post",
        "text": "RoastMaster 3000 is loud",
        "langs": ["en"],
        "createdAt": "2026-12-02T05:06:41.000Z",
    }
    frames = [
        firehose_frame(21, BOB, [("app.bsky.feed.post", "3lfe1", post)]),
        libipld.encode_dag_cbor({"op": -1})
        + libipld.encode_dag_cbor({"error": "ConsumerTooSlow", "message": "bye"}),
        firehose_frame(22, BOB, [("app.bsky.feed.post", "3lfe2", post)]),
    ]
    with FakeWebSocketServer([[*(("send", f) for f in frames), ("hold",)]]) as server:
        stream = FirehoseStream(server.url, BlueskyEvents(BRAND, [product_query()]), idle=0.3)
        got = []
        with pytest.raises(errors.TransientError, match="ConsumerTooSlow"):
            for batch in stream.batches():
                got.extend(batch.items)
        stream.close()
    assert [i.external_id.rsplit("/", 1)[-1] for i in got] == ["3lfe1"]
    assert stream.cursor == "21"
