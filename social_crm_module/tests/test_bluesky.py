"""Bluesky connector against lexicon-shaped XRPC fixtures on 127.0.0.1."""

import json
import re
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from social_crm_module import errors
from social_crm_module.connectors import connector_class
from social_crm_module.connectors.bluesky import BlueskyConnector, graphemes
from social_crm_module.http import RateLimit
from social_crm_module.interaction import Kind, Network
from social_crm_module.testing import FakeServer

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
XRPC = "/xrpc/"
CREATE = XRPC + "com.atproto.server.createSession"
REFRESH = XRPC + "com.atproto.server.refreshSession"
GET_SESSION = XRPC + "com.atproto.server.getSession"
NOTIFICATIONS = XRPC + "app.bsky.notification.listNotifications"
PROFILES = XRPC + "app.bsky.actor.getProfiles"
RESOLVE = XRPC + "com.atproto.identity.resolveHandle"
CREATE_RECORD = XRPC + "com.atproto.repo.createRecord"
PASSWORD = "test-app-password"
ACCESS = "stored-access-jwt"
REFRESH_JWT = "stored-refresh-jwt"
TIMEOUT = 2.0
BRAND = "did:plc:acmecoffeebrand222222222"
ALICE = "did:plc:alicemartin3333333333333"
BOB = "did:plc:bobremote44444444444444"
CAROL = "did:plc:carolfoss555555555555555"
BRAND_POST = f"at://{BRAND}/app.bsky.feed.post/3lbrandpost22"


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def note_uri(did, n, collection="app.bsky.feed.post"):
    return f"at://{did}/{collection}/3lnote{n:07d}"


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def make(server, *, tokens=True, password=PASSWORD, timeout=TIMEOUT, **options):
    credentials = {"identifier": "acme.example"}
    if password is not None:
        credentials["app_password"] = password
    if tokens:
        credentials.update(access_jwt=ACCESS, refresh_jwt=REFRESH_JWT)
    return BlueskyConnector(
        base_url=server.url + "/", credentials=credentials, options=options, timeout=timeout
    )


def ids(page):
    return [item.external_id for item in page]


def bearer(recorded):
    return recorded.headers.get("Authorization", "")


def decode(cursor):
    return json.loads(cursor)


# -- basics ---------------------------------------------------------------------------


def test_registered_and_described():
    assert connector_class(Network.BLUESKY) is BlueskyConnector
    assert BlueskyConnector.max_text_length == 300
    assert BlueskyConnector.profile_batch_size == 25
    connector = BlueskyConnector(
        credentials={"identifier": "acme.example", "app_password": PASSWORD, "access_jwt": ACCESS}
    )
    assert connector.base_url == "https://bsky.social"
    assert connector.network is Network.BLUESKY
    assert PASSWORD not in repr(connector)
    assert ACCESS not in repr(connector)


def test_bad_base_url_or_timeout_refused():
    with pytest.raises(ValueError, match="http"):
        BlueskyConnector(base_url="ftp://pds.example")
    with pytest.raises(ValueError, match="timeout"):
        BlueskyConnector(timeout=0)


def test_send_dm_is_not_supported(server):
    with pytest.raises(errors.NotSupported):
        make(server).send_dm(ALICE, "hi")
    assert server.requests == []


# -- sessions -------------------------------------------------------------------------


def test_session_is_created_without_tokens(server):
    server.add("POST", CREATE, json=load("session_created"))
    server.add("GET", NOTIFICATIONS, json=load("notifications_empty"))
    connector = make(server, tokens=False)
    connector.fetch(None)

    create, listed = server.requests
    assert create.path == CREATE
    assert create.json() == {"identifier": "acme.example", "password": PASSWORD}
    assert "Authorization" not in create.headers
    assert bearer(listed) == "Bearer fake-access-jwt"
    assert connector.updated_credentials == {
        "access_jwt": "fake-access-jwt",
        "refresh_jwt": "fake-refresh-jwt",
    }
    # a second call reuses the session
    connector.fetch(None)
    assert len(server.requests_to(CREATE)) == 1


def test_stored_tokens_are_reused(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_empty"))
    connector = make(server)
    connector.fetch(None)
    (listed,) = server.requests
    assert bearer(listed) == f"Bearer {ACCESS}"
    assert connector.updated_credentials == {}


@pytest.mark.parametrize(
    ("status", "fixture"),
    [(400, "error_expired"), (400, "error_invalid_token"), (401, "error_401")],
)
def test_expired_token_is_refreshed_once(server, status, fixture):
    server.add("GET", NOTIFICATIONS, status=status, json=load(fixture), times=1)
    server.add("POST", REFRESH, json=load("session_refreshed"))
    server.add("GET", NOTIFICATIONS, json=load("notifications_first"))
    connector = make(server)
    page = connector.fetch(None)

    assert len(page) == 3
    first, refresh, again = server.requests
    assert bearer(first) == f"Bearer {ACCESS}"
    assert (refresh.path, bearer(refresh)) == (REFRESH, f"Bearer {REFRESH_JWT}")
    assert refresh.body == b""
    assert bearer(again) == "Bearer fake-access-jwt-2"
    assert connector.updated_credentials == {
        "access_jwt": "fake-access-jwt-2",
        "refresh_jwt": "fake-refresh-jwt-2",
    }
    assert server.requests_to(CREATE) == []


def test_refused_refresh_falls_back_to_create_session(server):
    server.add("GET", NOTIFICATIONS, status=400, json=load("error_expired"), times=1)
    server.add("POST", REFRESH, status=400, json=load("error_expired"))
    server.add("POST", CREATE, json=load("session_created"))
    server.add("GET", NOTIFICATIONS, json=load("notifications_empty"))
    connector = make(server)
    connector.fetch(None)
    assert [r.path for r in server.requests] == [NOTIFICATIONS, REFRESH, CREATE, NOTIFICATIONS]
    assert bearer(server.requests[-1]) == "Bearer fake-access-jwt"
    assert connector.updated_credentials["access_jwt"] == "fake-access-jwt"


def test_refused_password_is_auth_error_without_secrets(server):
    server.add("GET", NOTIFICATIONS, status=400, json=load("error_expired"))
    server.add("POST", REFRESH, status=400, json=load("error_expired"))
    server.add("POST", CREATE, status=401, json=load("error_401"))
    connector = make(server)
    with pytest.raises(errors.AuthError, match="Invalid identifier or password") as info:
        connector.fetch(None)
    message = str(info.value)
    for secret in (PASSWORD, ACCESS, REFRESH_JWT):
        assert secret not in message
    assert [r.path for r in server.requests] == [NOTIFICATIONS, REFRESH, CREATE]
    assert connector.updated_credentials == {}


def test_refused_password_on_first_sign_in(server):
    server.add("POST", CREATE, status=401, json=load("error_401"))
    with pytest.raises(errors.AuthError, match="sign-in refused"):
        make(server, tokens=False).fetch(None)
    assert [r.path for r in server.requests] == [CREATE]


def test_still_expired_after_renewal_is_not_a_loop(server):
    server.add("GET", NOTIFICATIONS, status=401, json=load("error_401"))
    server.add("POST", REFRESH, json=load("session_refreshed"))
    with pytest.raises(errors.AuthError):
        make(server).fetch(None)
    assert [r.path for r in server.requests] == [NOTIFICATIONS, REFRESH, NOTIFICATIONS]


def test_fresh_session_refused_is_not_renewed(server):
    server.add("POST", CREATE, json=load("session_created"))
    server.add("GET", NOTIFICATIONS, status=401, json=load("error_401"))
    with pytest.raises(errors.AuthError):
        make(server, tokens=False).fetch(None)
    assert [r.path for r in server.requests] == [CREATE, NOTIFICATIONS]


def test_refresh_rate_limited_does_not_sign_in_again(server):
    server.add("GET", NOTIFICATIONS, status=400, json=load("error_expired"))
    server.add("POST", REFRESH, status=429, json=load("error_429"))
    with pytest.raises(errors.RateLimited):
        make(server).fetch(None)
    assert server.requests_to(CREATE) == []


def test_no_credentials_is_auth_error_without_a_request(server):
    with pytest.raises(errors.AuthError, match="app password"):
        make(server, tokens=False, password=None).fetch(None)
    assert server.requests == []


def test_other_400_is_not_a_session_problem(server):
    server.add(
        "GET",
        NOTIFICATIONS,
        status=400,
        json={"error": "InvalidRequest", "message": "Invalid cursor"},
    )
    with pytest.raises(errors.ConnectorError, match="Invalid cursor") as info:
        make(server).fetch(None)
    assert not isinstance(info.value, errors.AuthError)
    assert len(server.requests) == 1


# -- fetch ----------------------------------------------------------------------------


def test_first_page_maps_kinds_authors_and_request(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_first"))
    page = make(server).fetch(None)

    assert ids(page) == [
        note_uri(CAROL, 1, "app.bsky.graph.follow"),
        note_uri(BOB, 2, "app.bsky.feed.like"),
        note_uri(ALICE, 3),
    ]  # oldest to newest
    assert page.has_more is False  # first run: the newest page only
    assert page.skipped == 0
    assert decode(page.cursor) == {
        "v": 1,
        "hw": {"t": "2026-11-21T08:03:00.000000Z", "u": [note_uri(ALICE, 3)]},
    }
    assert " " not in page.cursor  # compact

    (sent,) = server.requests
    assert sent.query == {"limit": ["50"]}  # no server cursor: the newest page

    follow, like, mention = page.items
    assert (follow.kind, follow.raw_kind, follow.text, follow.reply_ref) == (
        Kind.FOLLOW,
        "follow",
        "",
        "",
    )
    assert follow.url == "https://bsky.app/profile/carol.bsky.social"
    assert follow.created_at == datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)

    assert (like.kind, like.subject_id, like.text) == (Kind.LIKE, BRAND_POST, "")
    assert like.reply_ref == ""

    assert mention.kind is Kind.MENTION
    assert mention.text == "Hello @acme.example, love the new roast! 🌱"
    assert mention.url == "https://bsky.app/profile/alice.example.com/post/3lnote0000003"
    own = {"uri": note_uri(ALICE, 3), "cid": "bafyreifakecid0103post"}
    assert mention.reply_ref == json.dumps(
        {"parent": own, "root": own}, separators=(",", ":"), sort_keys=True
    )
    assert json.loads(mention.reply_ref) == {"root": own, "parent": own}
    assert (mention.root_id, mention.parent_id) == (own["uri"], "")

    alice = mention.author
    assert alice.network is Network.BLUESKY
    assert alice.external_id == ALICE
    assert alice.handle == "alice.example.com"
    assert alice.display_name == "Alice Martin"
    assert alice.profile_url == "https://bsky.app/profile/alice.example.com"
    assert alice.avatar_url.startswith("https://cdn.bsky.app/img/avatar/")
    assert alice.website == "https://alice.example.com"  # a domain handle
    assert alice.followers_count is None  # notifications carry basic profiles

    bob = like.author
    assert bob.handle == "bob.bsky.social"
    assert bob.website == ""  # under bsky.social: says nothing
    assert bob.display_name == "bob.bsky.social"


def test_walk_first_next_last_then_empty(server):
    first_cursor = json.dumps(
        {"hw": {"t": "2026-11-21T08:03:00.000000Z", "u": [note_uri(ALICE, 3)]}, "v": 1}
    )
    server.add(
        "GET",
        NOTIFICATIONS,
        query={"cursor": "2026-11-21T09:06:00.000Z"},
        json=load("notifications_page2"),
    )
    server.add("GET", NOTIFICATIONS, json=load("notifications_page1"), times=1)
    server.add("GET", NOTIFICATIONS, json=load("notifications_page1"), times=1)
    connector = make(server, limit=3)

    first = connector.fetch(first_cursor)
    assert ids(first) == [
        note_uri(BOB, 6),
        note_uri(ALICE, 7, "app.bsky.graph.follow"),
        note_uri(CAROL, 8),
    ]
    assert first.has_more is True
    state = decode(first.cursor)
    assert state == {
        "v": 1,
        "hw": {"t": "2026-11-21T08:03:00.000000Z", "u": [note_uri(ALICE, 3)]},  # not moved
        "walk": {
            "next": "2026-11-21T09:06:00.000Z",
            "top": {"t": "2026-11-21T09:08:00.000000Z", "u": [note_uri(CAROL, 8)]},
        },
    }
    quote = first.items[0]
    assert (quote.kind, quote.subject_id, quote.text) == (Kind.QUOTE, BRAND_POST, "Worth a try.")

    last = connector.fetch(first.cursor)
    # n3 was seen on the first run: the walk stops there, without it
    assert ids(last) == [note_uri(CAROL, 4, "app.bsky.feed.repost"), note_uri(ALICE, 5)]
    assert last.has_more is False
    assert decode(last.cursor) == {
        "v": 1,
        "hw": {"t": "2026-11-21T09:08:00.000000Z", "u": [note_uri(CAROL, 8)]},
    }
    repost, reply = last.items
    assert (repost.kind, repost.subject_id) == (Kind.REPOST, BRAND_POST)
    assert reply.kind is Kind.REPLY
    assert reply.text == "@acme.example when does it ship to Canada?"
    assert reply.parent_id == BRAND_POST
    assert reply.root_id == f"at://{CAROL}/app.bsky.feed.post/3lcarolroot22"
    assert json.loads(reply.reply_ref) == {
        "root": {"uri": reply.root_id, "cid": "bafyreifakecid0002post"},
        "parent": {"uri": note_uri(ALICE, 5), "cid": "bafyreifakecid0105post"},
    }

    # nothing new since: the newest page holds only seen notifications
    again = connector.fetch(last.cursor)
    assert (ids(again), again.has_more, again.skipped) == ([], False, 0)
    assert again.cursor == last.cursor

    sent = [r.query.get("cursor") for r in server.requests_to(NOTIFICATIONS)]
    assert sent == [None, ["2026-11-21T09:06:00.000Z"], None]
    assert all(r.query["limit"] == ["3"] for r in server.requests)


def test_empty_pages(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_empty"))
    connector = make(server)
    first = connector.fetch(None)
    assert (first.items, first.cursor, first.has_more) == ((), None, False)

    cursor = json.dumps({"v": 1, "hw": {"t": "2026-11-21T08:03:00Z", "u": [note_uri(ALICE, 3)]}})
    idle = connector.fetch(cursor)
    assert (ids(idle), idle.has_more) == ([], False)
    assert decode(idle.cursor)["hw"]["u"] == [note_uri(ALICE, 3)]
    assert "walk" not in decode(idle.cursor)

    # a walk whose next page is empty is complete: the mark moves to its top
    walking = json.dumps(
        {
            "v": 1,
            "hw": {"t": "2026-11-21T08:03:00Z", "u": [note_uri(ALICE, 3)]},
            "walk": {
                "next": "abc",
                "top": {"t": "2026-11-21T09:08:00Z", "u": [note_uri(CAROL, 8)]},
            },
        }
    )
    done = connector.fetch(walking)
    assert done.has_more is False
    assert decode(done.cursor) == {
        "v": 1,
        "hw": {"t": "2026-11-21T09:08:00Z", "u": [note_uri(CAROL, 8)]},
    }


def test_crash_mid_walk_resumes_without_gaps_or_repeats(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_first"), times=1)
    server.add(
        "GET",
        NOTIFICATIONS,
        query={"cursor": "2026-11-21T09:06:00.000Z"},
        json=load("notifications_page2"),
    )
    server.add("GET", NOTIFICATIONS, json=load("notifications_page1"))

    stored = []  # what the caller committed: (items, cursor) per transaction
    first = make(server, limit=3).fetch(None)
    stored.append((ids(first), first.cursor))

    # run two: page one is committed, then the process dies
    walk = make(server, limit=3).fetch(stored[-1][1])
    assert walk.has_more is True
    stored.append((ids(walk), walk.cursor))

    # run three (a new process) resumes from the stored cursor and finishes the walk
    resumed = list(make(server, limit=3).iter_pages(stored[-1][1], max_pages=5))
    for page in resumed:
        stored.append((ids(page), page.cursor))
    assert [page.has_more for page in resumed] == [False]  # the walk ends on its next page

    # and the run after that finds nothing new
    idle = make(server, limit=3).fetch(stored[-1][1])
    stored.append((ids(idle), idle.cursor))

    seen = [uri for items, _ in stored for uri in items]
    assert len(seen) == len(set(seen)) == 8  # no repeats
    assert sorted(int(uri[-7:]) for uri in seen) == list(range(1, 9))  # no gaps


def test_crash_before_the_walk_cursor_was_stored_restarts_the_walk(server):
    cursor = json.dumps({"v": 1, "hw": {"t": "2026-11-21T08:03:00Z", "u": [note_uri(ALICE, 3)]}})
    server.add(
        "GET",
        NOTIFICATIONS,
        query={"cursor": "2026-11-21T09:06:00.000Z"},
        json=load("notifications_page2"),
    )
    server.add("GET", NOTIFICATIONS, json=load("notifications_page1"))
    lost = make(server, limit=3).fetch(cursor)  # never committed
    again = make(server, limit=3).fetch(cursor)
    assert ids(again) == ids(lost)
    assert again.cursor == lost.cursor


def test_same_timestamp_ties_are_not_lost(server):
    body = load("notifications_page2")
    for item in body["notifications"]:
        item["indexedAt"] = "2026-11-21T08:03:00.000Z"  # n3, n4, n5 all at once
    server.add("GET", NOTIFICATIONS, json=body)
    cursor = json.dumps({"v": 1, "hw": {"t": "2026-11-21T08:03:00Z", "u": [note_uri(ALICE, 3)]}})
    page = make(server, limit=3).fetch(cursor)
    assert set(ids(page)) == {note_uri(CAROL, 4, "app.bsky.feed.repost"), note_uri(ALICE, 5)}
    assert decode(page.cursor)["hw"] == {
        "t": "2026-11-21T08:03:00Z",
        "u": sorted(
            [note_uri(ALICE, 3), note_uri(CAROL, 4, "app.bsky.feed.repost"), note_uri(ALICE, 5)]
        ),
    }


def test_like_of_a_deleted_post_is_still_a_like(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_deleted"))
    page = make(server).fetch(None)
    gone = f"at://{BRAND}/app.bsky.feed.post/3lbranddeleted"
    like, repost = page.items
    assert (like.kind, like.subject_id, like.text) == (Kind.LIKE, gone, "")
    # no reasonSubject: the subject comes from the record's strong ref
    assert (repost.kind, repost.subject_id) == (Kind.REPOST, gone)
    assert page.skipped == 0


def test_unknown_reasons_are_skipped_and_counted(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_unknown"))
    page = make(server).fetch(None)
    assert ids(page) == [note_uri(CAROL, 24, "app.bsky.feed.like")]
    assert page.skipped == 3
    assert any("unknown reason 'verified'" in p for p in page.problems)
    assert any("unknown reason 'like-via-repost'" in p for p in page.problems)
    assert any("unknown reason 'starterpack-joined'" in p for p in page.problems)
    # a skipped notification still counts for the high-water mark
    assert decode(page.cursor)["hw"]["t"] == "2026-11-21T11:04:00.000000Z"


def test_unknown_reason_as_newest_still_moves_the_mark(server):
    body = load("notifications_unknown")
    body["notifications"][1]["indexedAt"] = "2026-11-21T12:00:00.000Z"
    server.add("GET", NOTIFICATIONS, json=body)
    page = make(server).fetch(None)
    assert decode(page.cursor)["hw"]["t"] == "2026-11-21T12:00:00.000000Z"


def test_malformed_items_are_skipped_not_fatal(server):
    body = load("notifications_first")
    follow, like, mention = (
        body["notifications"][2],
        body["notifications"][1],
        body["notifications"][0],
    )
    like["author"] = {"did": "not a did"}
    del mention["cid"]
    body["notifications"] = [mention, like, follow, "junk"]
    server.add("GET", NOTIFICATIONS, json=body)
    page = make(server).fetch(None)
    assert ids(page) == [follow["uri"]]
    assert page.skipped == 3
    assert page.problems == (
        f"notification {mention['uri']}: the mention has no valid cid",
        f"notification {like['uri']}: no usable author",
        "a notification is a str, not an object",
    )


def test_invalid_handle_and_quote_with_media(server):
    body = load("notifications_page1")
    quote = body["notifications"][2]
    quote["author"] = {**quote["author"], "handle": "handle.invalid", "displayName": ""}
    del quote["reasonSubject"]
    quote["record"]["embed"] = {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"record": {"uri": BRAND_POST, "cid": "bafyreifakecid0001post"}},
        "media": {"$type": "app.bsky.embed.images", "images": []},
    }
    server.add("GET", NOTIFICATIONS, json=body)
    item = make(server).fetch(None).items[0]
    assert (item.kind, item.subject_id) == (Kind.QUOTE, BRAND_POST)
    assert (item.author.handle, item.author.website) == ("", "")
    assert item.author.profile_url == f"https://bsky.app/profile/{BOB}"
    assert item.url == f"https://bsky.app/profile/{BOB}/post/3lnote0000006"


def test_malformed_newest_item_does_not_poison_the_cursor(server):
    body = load("notifications_first")
    body["notifications"][0]["uri"] = "https://not.an.at.uri/x"
    body["notifications"][0]["indexedAt"] = "2026-11-21T12:00:00.000Z"
    server.add("GET", NOTIFICATIONS, json=body)
    connector = make(server)
    page = connector.fetch(None)
    assert page.skipped == 1
    assert decode(page.cursor)["hw"] == {
        "t": "2026-11-21T08:02:00.000000Z",
        "u": [note_uri(BOB, 2, "app.bsky.feed.like")],
    }
    again = connector.fetch(page.cursor)  # the cursor it gave is one it takes back
    assert ids(again) == []


def test_bad_cursor_is_refused_without_a_request(server):
    connector = make(server)
    bad = [
        "",
        "123",
        "not json",
        json.dumps({"v": 2, "hw": {"t": "2026-11-21T08:03:00Z", "u": [note_uri(ALICE, 3)]}}),
        json.dumps({"v": 1, "hw": {"t": "yesterday", "u": [note_uri(ALICE, 3)]}}),
        json.dumps({"v": 1, "hw": {"t": "2026-11-21T08:03:00Z", "u": ["https://x"]}}),
        json.dumps(
            {
                "v": 1,
                "hw": {"t": "2026-11-21T08:03:00Z", "u": [note_uri(ALICE, 3)]},
                "walk": {
                    "next": "a b",
                    "top": {"t": "2026-11-21T08:03:00Z", "u": [note_uri(ALICE, 3)]},
                },
            }
        ),
    ]
    for cursor in bad:
        with pytest.raises(errors.ConnectorError, match="cursor"):
            connector.fetch(cursor)
    assert server.requests == []


def test_limit_option_is_clamped(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_empty"))
    make(server, limit=500).fetch(None)
    make(server, limit="nonsense").fetch(None)
    assert [r.query["limit"] for r in server.requests] == [["100"], ["50"]]


def test_notifications_not_a_list_is_payload_error(server):
    server.add("GET", NOTIFICATIONS, json={"notifications": {"uri": "x"}})
    with pytest.raises(errors.PayloadError, match="notifications should be a JSON list, got dict"):
        make(server).fetch(None)


def test_truncated_json_is_payload_error(server):
    text = json.dumps(load("notifications_first"))
    server.add(
        "GET",
        NOTIFICATIONS,
        body=text[: len(text) // 2],
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(errors.PayloadError, match="notifications is not valid JSON"):
        make(server).fetch(None)


# -- errors and rate limits -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fixture", "error", "detail"),
    [
        (403, "error_403", errors.AuthError, "Forbidden; Bad token scope"),
        (500, "error_500", errors.TransientError, "InternalServerError"),
        (502, None, errors.TransientError, "HTTP 502"),
    ],
)
def test_http_errors_map_to_ours(server, status, fixture, error, detail):
    if fixture:
        server.add("GET", NOTIFICATIONS, status=status, json=load(fixture))
    else:
        server.add("GET", NOTIFICATIONS, status=status, body="<html>Bad gateway</html>")
    with pytest.raises(error) as info:
        make(server).fetch(None)
    message = str(info.value)
    assert message.startswith(f"bluesky: HTTP {status}")
    assert detail in message
    assert ACCESS not in message
    assert len(server.requests) == 1  # no refresh, no retry


def test_401_after_refresh_fails_is_auth_error(server):
    server.add("GET", NOTIFICATIONS, status=401, json=load("error_401"))
    server.add("POST", REFRESH, status=400, json=load("error_expired"))
    with pytest.raises(errors.AuthError):
        make(server, password=None).fetch(None)
    assert [r.path for r in server.requests] == [NOTIFICATIONS, REFRESH]


def test_429_with_ratelimit_reset(server):
    server.add(
        "GET",
        NOTIFICATIONS,
        status=429,
        json=load("error_429"),
        headers={
            "RateLimit-Limit": "3000",
            "RateLimit-Remaining": "0",
            "RateLimit-Reset": "1795342500",
            "RateLimit-Policy": "3000;w=300",
        },
    )
    connector = make(server)
    with pytest.raises(errors.RateLimited) as info:
        connector.fetch(None)
    reset = datetime.fromtimestamp(1795342500, tz=timezone.utc)
    assert info.value.retry_at == reset
    assert "RateLimitExceeded" in str(info.value)
    assert len(server.requests) == 1
    assert connector.rate_limit == RateLimit(limit=3000, remaining=0, reset=reset)


def test_rate_limit_headers_are_exposed_on_success(server):
    server.add(
        "GET",
        NOTIFICATIONS,
        json=load("notifications_empty"),
        headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "2999"},
    )
    connector = make(server)
    assert connector.rate_limit is None
    connector.fetch(None)
    assert connector.rate_limit == RateLimit(limit=3000, remaining=2999, reset=None)


def test_429_without_ratelimit_reset(server):
    server.add("GET", NOTIFICATIONS, status=429, json=load("error_429"))
    with pytest.raises(errors.RateLimited) as info:
        make(server).fetch(None)
    assert info.value.retry_at is None
    assert len(server.requests) == 1  # no retry


def test_timeout_is_transient_and_fast(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_empty"), delay=0.6)
    started = time.monotonic()
    with pytest.raises(errors.TransientError, match=r"no answer within 0\.2s"):
        make(server, timeout=0.2).fetch(None)
    assert time.monotonic() - started < 0.55
    assert len(server.requests) == 1


def test_connection_refused_is_transient():
    connector = BlueskyConnector(
        base_url="http://127.0.0.1:9", credentials={"access_jwt": ACCESS}, timeout=1
    )
    with pytest.raises(errors.TransientError, match="connection failed"):
        connector.fetch(None)


# -- profiles and check -------------------------------------------------------------------


def test_profiles_in_batches_of_25(server):
    server.add("GET", PROFILES, json=load("profiles"))
    actors = [f"did:plc:actor{n:020d}" for n in range(60)]
    authors = list(make(server).profiles([*actors, actors[0], "", "not a handle!"]))
    assert len(authors) == 9  # the fixture answers three profiles per request
    sent = server.requests_to(PROFILES)
    assert [len(r.query["actors"]) for r in sent] == [25, 25, 10]
    assert [a for r in sent for a in r.query["actors"]] == actors

    alice, bob, carol = authors[:3]
    assert (alice.external_id, alice.handle, alice.followers_count) == (
        ALICE,
        "alice.example.com",
        120,
    )
    assert alice.website == "https://alice.example.com"
    assert (bob.followers_count, bob.website) == (3400, "")
    assert carol.display_name == "Carol"


def test_profiles_accept_handles(server):
    server.add("GET", PROFILES, json=load("profiles"))
    list(make(server).profiles(["@Alice.Example.com", ALICE]))
    (sent,) = server.requests
    assert sent.query["actors"] == ["alice.example.com", ALICE]


def test_profiles_of_nothing_sends_nothing(server):
    assert list(make(server).profiles([])) == []
    assert server.requests == []


def test_check(server):
    server.add("GET", GET_SESSION, json=load("get_session"))
    brand = make(server).check()
    assert (brand.external_id, brand.handle) == (BRAND, "acme.example")
    assert brand.profile_url == "https://bsky.app/profile/acme.example"
    assert brand.email == ""


def test_check_expired_refreshes(server):
    server.add("GET", GET_SESSION, status=400, json=load("error_expired"), times=1)
    server.add("POST", REFRESH, json=load("session_refreshed"))
    server.add("GET", GET_SESSION, json=load("get_session"))
    assert make(server).check().handle == "acme.example"


# -- writing ------------------------------------------------------------------------------


REPLY_REF = json.dumps(
    {
        "root": {
            "uri": f"at://{CAROL}/app.bsky.feed.post/3lcarolroot22",
            "cid": "bafyreifakecid0002post",
        },
        "parent": {"uri": note_uri(ALICE, 5), "cid": "bafyreifakecid0105post"},
    }
)


def test_reply_record_refs_and_facets_with_byte_offsets(server):
    server.add("GET", GET_SESSION, json=load("get_session"))
    server.add("GET", RESOLVE, query={"handle": "alice.example.com"}, json=load("resolve_alice"))
    server.add("POST", CREATE_RECORD, json=load("created_post"))
    text = "🌱 Thanks @alice.example.com! Details: https://acme.example/ship?to=ca."
    posted = make(server).reply(REPLY_REF, text)

    (sent,) = server.requests_to(CREATE_RECORD)
    body = sent.json()
    assert body["repo"] == BRAND
    assert body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["createdAt"])
    assert record["reply"] == json.loads(REPLY_REF)

    raw = text.encode()
    mention, link = record["facets"]
    start = raw.index(b"@alice")
    assert (text.index("@"), start) == (9, 12)  # the emoji is 4 bytes, not 1 character
    assert mention["index"] == {"byteStart": start, "byteEnd": start + len(b"@alice.example.com")}
    assert mention["features"] == [{"$type": "app.bsky.richtext.facet#mention", "did": ALICE}]
    ms, me = mention["index"]["byteStart"], mention["index"]["byteEnd"]
    assert raw[ms:me].decode() == "@alice.example.com"
    ls, le = link["index"]["byteStart"], link["index"]["byteEnd"]
    assert raw[ls:le].decode() == "https://acme.example/ship?to=ca"  # trailing dot left out
    assert link["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.example/ship?to=ca"}
    ]

    assert posted.kind is Kind.REPLY
    assert posted.external_id == f"at://{BRAND}/app.bsky.feed.post/3lbrandreply2"
    assert posted.url == "https://bsky.app/profile/acme.example/post/3lbrandreply2"
    assert posted.parent_id == note_uri(ALICE, 5)
    assert posted.root_id == f"at://{CAROL}/app.bsky.feed.post/3lcarolroot22"
    assert json.loads(posted.reply_ref) == {
        "root": json.loads(REPLY_REF)["root"],
        "parent": {"uri": posted.external_id, "cid": "bafyreifakecid0009post"},
    }
    assert posted.author.external_id == BRAND
    assert posted.text == text


def test_reply_to_a_top_level_mention_uses_the_post_as_root(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_first"))
    server.add("POST", CREATE, json=load("session_created"))
    server.add("POST", CREATE_RECORD, json=load("created_post"))
    connector = make(server, tokens=False)
    mention = connector.fetch(None).items[-1]
    connector.reply(mention.reply_ref, "Thank you!")
    record = server.requests_to(CREATE_RECORD)[0].json()["record"]
    own = {"uri": mention.external_id, "cid": "bafyreifakecid0103post"}
    assert record["reply"] == {"root": own, "parent": own}
    assert "facets" not in record
    assert server.requests_to(GET_SESSION) == []  # the session told us who we are


def test_unresolvable_mention_gets_no_facet(server):
    server.add("GET", GET_SESSION, json=load("get_session"))
    server.add("GET", RESOLVE, query={"handle": "bob.bsky.social"}, json=load("resolve_bob"))
    server.add("GET", RESOLVE, status=400, json=load("error_resolve"))
    server.add("POST", CREATE_RECORD, json=load("created_post"))
    text = "@ghost.example.org and @bob.bsky.social, mail@acme.example ok"
    make(server).reply(REPLY_REF, text)
    record = server.requests_to(CREATE_RECORD)[0].json()["record"]
    (facet,) = record["facets"]
    assert facet["features"][0]["did"] == BOB
    start = text.index("@bob")
    assert facet["index"] == {"byteStart": start, "byteEnd": start + len("@bob.bsky.social")}
    assert [r.query["handle"] for r in server.requests_to(RESOLVE)] == [
        ["ghost.example.org"],
        ["bob.bsky.social"],
    ]  # an email address is not a mention


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("see (https://acme.example/a_(b)) now", ["https://acme.example/a_(b)"]),
        (
            "see https://acme.example/x, and http://b.example!",
            ["https://acme.example/x", "http://b.example"],
        ),
        ("not a link: https:// or xhttps://acme.example", []),
        ("ünïcode https://acme.example/é ok", ["https://acme.example/é"]),
    ],
)
def test_link_facets(server, text, links):
    server.add("GET", GET_SESSION, json=load("get_session"))
    server.add("POST", CREATE_RECORD, json=load("created_post"))
    make(server).reply(REPLY_REF, text)
    record = server.requests_to(CREATE_RECORD)[0].json()["record"]
    raw = text.encode()
    found = []
    for facet in record.get("facets", []):
        (feature,) = facet["features"]
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        assert raw[start:end].decode() == feature["uri"]
        found.append(feature["uri"])
    assert found == links
    assert server.requests_to(RESOLVE) == []


def test_reply_refuses_bad_input_without_a_request(server):
    connector = make(server)
    with pytest.raises(ValueError, match="empty"):
        connector.reply(REPLY_REF, "   ")
    with pytest.raises(ValueError, match="at most 300"):
        connector.reply(REPLY_REF, "x" * 301)
    with pytest.raises(ValueError, match="reply reference"):
        connector.reply("6002", "hi")
    with pytest.raises(ValueError, match="root and parent"):
        connector.reply(json.dumps({"root": {"uri": "https://x", "cid": "y"}}), "hi")
    assert server.requests == []


def test_reply_to_deleted_post_error_is_surfaced(server):
    server.add("GET", GET_SESSION, json=load("get_session"))
    server.add(
        "POST",
        CREATE_RECORD,
        status=400,
        json={"error": "InvalidRequest", "message": "Record/parent not found"},
    )
    with pytest.raises(errors.ConnectorError, match="parent not found"):
        make(server).reply(REPLY_REF, "hello")


def test_like_and_repost(server):
    server.add("GET", GET_SESSION, json=load("get_session"))
    server.add("POST", CREATE_RECORD, json=load("created_like"))
    connector = make(server)
    assert connector.like(REPLY_REF) is None
    subject = {"uri": BRAND_POST, "cid": "bafyreifakecid0001post"}
    assert connector.repost(json.dumps(subject)) is None
    like, repost = (r.json() for r in server.requests_to(CREATE_RECORD))
    assert like["collection"] == "app.bsky.feed.like"
    assert like["repo"] == BRAND
    assert like["record"]["$type"] == "app.bsky.feed.like"
    assert like["record"]["subject"] == json.loads(REPLY_REF)["parent"]
    assert repost["collection"] == "app.bsky.feed.repost"
    assert repost["record"]["subject"] == subject
    assert len(server.requests_to(GET_SESSION)) == 1  # who we are is remembered
    with pytest.raises(ValueError, match="uri and a cid"):
        connector.like(json.dumps({"uri": BRAND_POST}))


# -- fixtures ----------------------------------------------------------------------------


def test_timestamps_are_real_utc(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_first"))
    (follow, *_) = make(server).fetch(None).items
    assert follow.created_at.utcoffset() == timedelta(0)


def test_graphemes_count_what_people_see():
    assert graphemes("hello") == 5
    assert graphemes("e\u0301") == 1  # e + combining acute
    assert graphemes("\U0001f44d\U0001f3fd") == 1  # thumbs up, skin tone
    assert graphemes("\U0001f468\u200d\U0001f469\u200d\U0001f467") == 1  # family (ZWJ)
    assert graphemes("\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea") == 2  # FR DE flags
    assert graphemes("\u2764\ufe0f!") == 2
    assert graphemes("a\r\nb") == 3


def test_reply_length_is_counted_in_graphemes(server):
    connector = make(server)
    accented = "e\u0301\u0327"  # 1 grapheme, 3 code points, 5 bytes
    assert connector.check_text(accented * 300) == accented * 300
    with pytest.raises(ValueError, match="at most 300 characters, this text has 301"):
        connector.check_text(accented * 301)
    # 300 graphemes of 18 bytes each: over the lexicon's 3000-byte cap
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    with pytest.raises(ValueError, match="3000 bytes"):
        connector.check_text(family * 300)
    assert server.requests == []


# -- bounded responses (issue 11) ----------------------------------------------------------


def test_oversized_response_is_a_payload_error(server):
    body = b'{"notifications": [], "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    server.add("GET", NOTIFICATIONS, body=body, chunked=True)
    with pytest.raises(errors.PayloadError, match="larger than"):
        make(server).fetch(None)


def test_slow_drip_hits_the_total_deadline(server):
    server.add("GET", NOTIFICATIONS, body=b'{"notifications": []}' + b" " * 200, drip=0.2)
    started = time.monotonic()
    with pytest.raises(errors.TransientError, match=r"no answer within 1s"):
        make(server, timeout=1).fetch(None)
    assert time.monotonic() - started < 1.8


def test_huge_error_body_is_not_read_whole(server):
    # the connector's own look at error bodies (the XRPC error name) is bounded too
    body = b'{"error": "InvalidRequest", "message": "' + b"m" * 20_000_000 + b'"}'
    server.add("GET", NOTIFICATIONS, status=400, body=body, chunked=True)
    tracemalloc.start()
    try:
        with pytest.raises(errors.ConnectorError):
            make(server).fetch(None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_deeply_nested_error_body_is_not_a_crash(server):
    server.add("GET", NOTIFICATIONS, status=400, body=b"[" * 60_000)
    with pytest.raises(errors.ConnectorError):
        make(server).fetch(None)
