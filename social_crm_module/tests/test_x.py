"""X connector (tweepy v2 Client) against X-shaped fixtures on 127.0.0.1."""

import json
import logging
import re
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from social_crm_module import errors
from social_crm_module.connectors import connector_class
from social_crm_module.connectors.x import XConnector, _author, _XSession
from social_crm_module.interaction import Kind, Network
from social_crm_module.testing import FakeServer
from social_crm_module.text import x_length

FIXTURES = Path(__file__).parent / "fixtures" / "x"
BRAND = "9001"
MENTIONS = f"/2/users/{BRAND}/mentions"
SEARCH = "/2/tweets/search/recent"
TIMEOUT = 2.5
BEARER = "test-bearer"
USER_KEYS = {
    "consumer_key": "test-consumer-key",
    "consumer_secret": "test-consumer-secret",
    "access_token": f"{BRAND}-test-access-token",
    "access_token_secret": "test-access-secret",
}
FAKE_SECRETS = (BEARER, *USER_KEYS.values())


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


class RecordingSession(requests.Session):
    """A real session that remembers the timeout every request was sent with."""

    def __init__(self):
        super().__init__()
        self.timeouts = []

    def request(self, method, url, *args, **kwargs):
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def make(server, *, credentials=None, timeout=TIMEOUT, **options):
    opts = {"user_id": BRAND, "username": "acmebrand", **options}
    creds = {"bearer_token": BEARER, **USER_KEYS} if credentials is None else credentials
    return XConnector(
        base_url=server.url,
        credentials=creds,
        options=opts,
        session=RecordingSession(),
        timeout=timeout,
    )


def cursor_state(cursor):
    return json.loads(cursor)


def ids(page):
    return [item.external_id for item in page]


# -- basics ---------------------------------------------------------------------------


def test_registered_and_described():
    assert connector_class("x") is XConnector
    assert XConnector.network is Network.X
    assert XConnector.max_text_length == 280
    assert XConnector.profile_batch_size == 100
    assert XConnector.default_base_url == "https://api.twitter.com"
    assert set(XConnector.credential_keys) == {"bearer_token", *USER_KEYS}
    connector = XConnector(credentials={"bearer_token": BEARER}, options={"user_id": BRAND})
    assert connector.base_url == "https://api.twitter.com"
    assert BEARER not in repr(connector)
    assert connector.client.wait_on_rate_limit is False


def test_session_wrapper_rewrites_host_and_sets_timeout():
    class Spy:
        def __init__(self):
            self.calls = []

        def request(self, method, url, **kwargs):
            self.calls.append((method, url, kwargs["timeout"], kwargs["allow_redirects"]))
            assert callable(kwargs["hooks"]["response"][0])  # the bounded body reader
            return "response"

    spy = Spy()
    _XSession(spy, "http://127.0.0.1:8080", 1.5).request(
        "GET", "https://api.twitter.com/2/users/me?x=1"
    )
    _XSession(spy, "https://api.twitter.com", 1.5).request(
        "GET", "https://api.twitter.com/2/users/me", timeout=9
    )
    assert spy.calls == [
        ("GET", "http://127.0.0.1:8080/2/users/me?x=1", 1.5, False),
        ("GET", "https://api.twitter.com/2/users/me", 9, False),
    ]


def test_bad_base_url_or_timeout_refused():
    with pytest.raises(ValueError, match="http"):
        XConnector(base_url="file:///etc", options={"user_id": BRAND})
    with pytest.raises(ValueError, match="timeout"):
        XConnector(options={"user_id": BRAND}, timeout=0)


# -- fetch: mentions --------------------------------------------------------------------


def test_first_page_kinds_authors_and_request_fields(server):
    server.add("GET", MENTIONS, json=load("mentions_page1"))
    connector = make(server)
    page = connector.fetch(None)

    assert ids(page) == [
        "1860000000000000107",
        "1860000000000000108",
        "1860000000000000109",
        "1860000000000000110",
    ]
    by_id = {item.external_id: item for item in page}
    reply = by_id["1860000000000000110"]
    assert reply.kind is Kind.REPLY
    assert reply.raw_kind == "replied_to"
    assert reply.parent_id == "1850000000000000001"
    assert reply.root_id == "1850000000000000001"
    assert reply.subject_id == "1850000000000000001"
    assert reply.reply_ref == "1860000000000000110"
    assert reply.url == "https://x.com/alice/status/1860000000000000110"
    assert reply.created_at == datetime(2026, 11, 22, 10, 5, tzinfo=timezone.utc)
    assert reply.text == "@acmebrand love it, when does it ship?"
    assert reply.author.external_id == "1001"
    assert reply.author.handle == "alice"
    assert reply.author.display_name == "Alice Person"
    assert reply.author.followers_count == 120
    assert reply.author.website == "https://alice.example/blog"
    assert reply.author.profile_url == "https://x.com/alice"
    assert reply.author.avatar_url.startswith("https://pbs.twimg.com/")

    quote = by_id["1860000000000000109"]
    assert (quote.kind, quote.subject_id, quote.parent_id) == (
        Kind.QUOTE,
        "1850000000000000001",
        "",
    )
    assert quote.author.website == ""
    repost = by_id["1860000000000000108"]
    assert (repost.kind, repost.raw_kind, repost.subject_id) == (
        Kind.REPOST,
        "retweeted",
        "1850000000000000001",
    )
    mention = by_id["1860000000000000107"]
    assert (mention.kind, mention.raw_kind, mention.root_id) == (Kind.MENTION, "mention", "")
    assert mention.text.endswith("(long version of the tweet)")  # note_tweet wins

    # first run: one page of bounded backfill, then follow from its newest tweet
    assert page.has_more is False
    assert page.skipped == 0
    assert cursor_state(page.cursor) == {"mentions": {"since": "1860000000000000110"}}

    (sent,) = server.requests_to(MENTIONS)
    assert "since_id" not in sent.query
    assert "pagination_token" not in sent.query
    assert sent.query["max_results"] == ["100"]
    assert set(sent.query["expansions"][0].split(",")) >= {
        "author_id",
        "referenced_tweets.id",
        "referenced_tweets.id.author_id",
    }
    assert set(sent.query["user.fields"][0].split(",")) >= {
        "username",
        "name",
        "public_metrics",
        "profile_image_url",
        "url",
        "entities",
        "verified",
    }
    assert set(sent.query["tweet.fields"][0].split(",")) >= {
        "created_at",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
        "entities",
    }
    assert sent.headers["Authorization"] == f"Bearer {BEARER}"  # app-only reads


def test_sweep_first_next_last_page_then_resume(server):
    since = "1860000000000000100"
    server.add(
        "GET", MENTIONS, json=load("mentions_page2"), query={"pagination_token": "next-page-2"}
    )
    server.add(
        "GET", MENTIONS, json=load("mentions_page3"), query={"pagination_token": "next-page-3"}
    )
    server.add("GET", MENTIONS, json=load("mentions_page1"), query={"since_id": since}, times=1)
    server.add(
        "GET", MENTIONS, json=load("mentions_empty"), query={"since_id": "1860000000000000110"}
    )
    connector = make(server)
    start = json.dumps({"mentions": {"since": since}})

    first = connector.fetch(start)
    assert len(first) == 4
    assert first.has_more is True
    assert cursor_state(first.cursor) == {
        "mentions": {"since": since, "next": "next-page-2", "top": "1860000000000000110"}
    }

    second = connector.fetch(first.cursor)
    assert second.has_more is True
    by_id = {item.external_id: item for item in second}
    # quoting a deleted tweet: nobody to compare with the brand, so a mention
    deleted_quote = by_id["1860000000000000106"]
    assert (deleted_quote.kind, deleted_quote.subject_id) == (Kind.MENTION, "")
    # an unknown reference type is ignored, not fatal
    assert by_id["1860000000000000105"].kind is Kind.MENTION
    # author missing from includes, replying to the brand's (deleted) tweet
    orphan = by_id["1860000000000000104"]
    assert orphan.kind is Kind.REPLY
    assert orphan.parent_id == "1840000000000000998"
    assert orphan.author.external_id == "1999"
    assert orphan.author.handle == ""
    assert orphan.url == "https://x.com/i/web/status/1860000000000000104"
    assert second.skipped == 0
    assert any("author 1999 missing" in p for p in second.problems)
    assert cursor_state(second.cursor)["mentions"]["next"] == "next-page-3"
    assert cursor_state(second.cursor)["mentions"]["top"] == "1860000000000000110"

    last = connector.fetch(second.cursor)
    assert ids(last) == ["1860000000000000103"]
    assert last.skipped == 2  # no created_at; no id
    assert any("created_at" in p for p in last.problems)
    assert last.has_more is False
    # the sweep is over: follow from the newest tweet of its first page
    assert cursor_state(last.cursor) == {"mentions": {"since": "1860000000000000110"}}

    again = connector.fetch(last.cursor)
    assert len(again) == 0
    assert again.has_more is False
    assert again.cursor == last.cursor

    sent = server.requests_to(MENTIONS)
    assert [r.query.get("pagination_token") for r in sent] == [
        None,
        ["next-page-2"],
        ["next-page-3"],
        None,
    ]
    assert [r.query["since_id"] for r in sent] == [[since]] * 3 + [["1860000000000000110"]]


def test_empty_page_keeps_cursor(server):
    server.add("GET", MENTIONS, json=load("mentions_empty"))
    connector = make(server)
    cursor = json.dumps({"mentions": {"since": "1860000000000000050"}})
    page = connector.fetch(cursor)
    assert page.items == ()
    assert page.has_more is False
    assert page.skipped == 0
    assert cursor_state(page.cursor) == {"mentions": {"since": "1860000000000000050"}}
    # a first run on an empty timeline has nothing to remember yet
    assert connector.fetch(None).cursor is None


def test_resume_after_crash_no_gaps_no_repeats(server):
    since = "1860000000000000100"
    server.add(
        "GET", MENTIONS, json=load("mentions_page2"), query={"pagination_token": "next-page-2"}
    )
    server.add(
        "GET", MENTIONS, json=load("mentions_page3"), query={"pagination_token": "next-page-3"}
    )
    server.add("GET", MENTIONS, json=load("mentions_page1"), query={"since_id": since})
    new_tweet = {
        "data": [
            {
                "id": "1860000000000000111",
                "text": "@acmebrand posted during the sweep",
                "author_id": "1001",
                "created_at": "2026-11-22T10:06:00.000Z",
            }
        ],
        "includes": {"users": load("mentions_page1")["includes"]["users"]},
        "meta": {"newest_id": "1860000000000000111", "result_count": 1},
    }
    server.add("GET", MENTIONS, json=new_tweet, query={"since_id": "1860000000000000110"})
    connector = make(server)

    stored = json.dumps({"mentions": {"since": since}})  # what the caller committed
    seen = []
    crashed = False
    while True:
        page = connector.fetch(stored)
        if page.cursor and "next-page-3" in page.cursor and not crashed:
            crashed = True  # killed before the transaction committed: run again
            continue
        seen.extend(ids(page))
        stored = page.cursor
        if not page.has_more:
            break
    page = connector.fetch(stored)  # the next scheduled run
    seen.extend(ids(page))

    assert crashed
    assert len(seen) == len(set(seen))
    assert sorted(seen, key=int) == [f"18600000000000001{n:02d}" for n in (3, *range(4, 12))]
    # page 2 was asked for twice (the crash), everything else once
    tokens = [(r.query.get("pagination_token") or [None])[0] for r in server.requests_to(MENTIONS)]
    assert tokens == [None, "next-page-2", "next-page-2", "next-page-3", None]


def test_iter_pages_walks_the_sweep(server):
    server.add(
        "GET", MENTIONS, json=load("mentions_page2"), query={"pagination_token": "next-page-2"}
    )
    server.add(
        "GET", MENTIONS, json=load("mentions_page3"), query={"pagination_token": "next-page-3"}
    )
    server.add("GET", MENTIONS, json=load("mentions_page1"))
    connector = make(server)
    pages = list(connector.iter_pages(json.dumps({"mentions": {"since": "1"}})))
    assert [len(p) for p in pages] == [4, 3, 1]


# -- fetch: recent search -----------------------------------------------------------------


def test_search_stream_dedupes_and_skips_brand_own_tweets(server):
    mentions = load("mentions_page1")
    del mentions["meta"]["next_token"]
    server.add("GET", MENTIONS, json=mentions)
    search = load("search_page1")
    search["meta"]["next_token"] = "search-page-2"
    server.add("GET", SEARCH, json=load("mentions_empty"), query={"next_token": "search-page-2"})
    server.add("GET", SEARCH, json=search)
    connector = make(server, query="#acme OR acmebrand", max_results=50)
    cursor = json.dumps(
        {"mentions": {"since": "1"}, "search": {"since": "1", "q": "#acme OR acmebrand"}}
    )

    page = connector.fetch(cursor)
    # 110 arrives through both streams, once; 119 is the brand's own tweet
    assert ids(page) == [
        "1860000000000000107",
        "1860000000000000108",
        "1860000000000000109",
        "1860000000000000110",
        "1860000000000000120",
    ]
    assert {i.external_id: i.raw_kind for i in page}["1860000000000000120"] == "search"
    assert page.has_more is True
    state = cursor_state(page.cursor)
    assert state["search"] == {
        "since": "1",
        "next": "search-page-2",
        "top": "1860000000000000120",
        "q": "#acme OR acmebrand",
    }
    assert state["mentions"] == {"since": "1860000000000000110"}
    (first_search,) = server.requests_to(SEARCH)
    assert first_search.query["query"] == ["#acme OR acmebrand"]
    assert first_search.query["since_id"] == ["1"]
    assert first_search.query["max_results"] == ["50"]
    assert "author_id" in first_search.query["expansions"][0]

    # only the stream with a pending token is continued
    page2 = connector.fetch(page.cursor)
    assert len(server.requests_to(MENTIONS)) == 1
    assert server.requests_to(SEARCH)[-1].query["next_token"] == ["search-page-2"]
    assert page2.has_more is False
    assert cursor_state(page2.cursor)["search"]["since"] == "1860000000000000120"


def test_changed_query_drops_its_pagination_token(server):
    server.add("GET", MENTIONS, json=load("mentions_empty"))
    server.add("GET", SEARCH, json=load("mentions_empty"))
    connector = make(server, query="#newbrand")
    cursor = json.dumps(
        {"search": {"since": "5", "next": "old-token", "top": "9", "q": "#oldbrand"}}
    )
    page = connector.fetch(cursor)
    (sent,) = server.requests_to(SEARCH)
    assert "next_token" not in sent.query
    assert sent.query["since_id"] == ["5"]
    assert cursor_state(page.cursor)["search"] == {"since": "5", "q": "#newbrand"}


def invalid_request(parameter, value, message):
    """An X v2 400 body (invalid-request problem with its errors array)."""
    return {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def test_since_id_too_old_for_search_restarts_the_stream(server):
    server.add("GET", MENTIONS, json=load("mentions_empty"))
    old = "1700000000000000000"
    server.add(
        "GET",
        SEARCH,
        status=400,
        json=invalid_request(
            "since_id",
            old,
            f"Invalid 'since_id':'{old}'. 'since_id' must be a tweet id created after "
            "2026-11-15T10:00:00.000Z.",
        ),
        query={"since_id": old},
    )
    server.add("GET", SEARCH, json=load("search_page1"))
    connector = make(server, query="#acme")
    cursor = json.dumps({"mentions": {"since": "5"}, "search": {"since": old, "q": "#acme"}})

    page = connector.fetch(cursor)
    assert page.items == ()
    assert any("HTTP 400" in p and "since_id" in p for p in page.problems)
    assert cursor_state(page.cursor) == {"mentions": {"since": "5"}}  # search starts afresh
    # the next run is a first run for search: one page, then follow from it
    page2 = connector.fetch(page.cursor)
    assert "since_id" not in server.requests_to(SEARCH)[-1].query
    assert "1860000000000000120" in ids(page2)
    assert cursor_state(page2.cursor)["search"]["since"] == "1860000000000000120"


def test_expired_pagination_token_restarts_the_sweep(server):
    server.add(
        "GET",
        MENTIONS,
        status=400,
        json=invalid_request(
            "pagination_token",
            "stale",
            "The `pagination_token` query parameter value [stale] is not valid",
        ),
        query={"pagination_token": "stale"},
    )
    server.add("GET", MENTIONS, json=load("mentions_page3"))
    connector = make(server)
    cursor = json.dumps({"mentions": {"since": "5", "next": "stale", "top": "1860000000000000150"}})
    page = connector.fetch(cursor)
    assert page.items == ()
    assert cursor_state(page.cursor) == {"mentions": {"since": "5"}}
    page2 = connector.fetch(page.cursor)
    assert ids(page2) == ["1860000000000000103"]
    assert cursor_state(page2.cursor) == {"mentions": {"since": "1860000000000000103"}}


def test_other_400_is_raised(server):
    server.add(
        "GET",
        SEARCH,
        status=400,
        json=invalid_request("query", "((", "There were errors processing your request: bad query"),
    )
    server.add("GET", MENTIONS, json=load("mentions_empty"))
    with pytest.raises(errors.ConnectorError) as info:
        make(server, query="((").fetch(json.dumps({"search": {"since": "5", "q": "(("}}))
    assert type(info.value) is errors.ConnectorError
    assert str(info.value) == (
        "x: search: HTTP 400 (There were errors processing your request: bad query)"
    )


def test_bad_cursor_is_refused(server):
    connector = make(server)
    for bad in ("not json", "[1]", '{"mentions": {"since": "abc"}}', '{"mentions": 3}'):
        with pytest.raises(errors.ConnectorError, match="cursor"):
            connector.fetch(bad)
    assert server.requests == []


def test_fetch_needs_user_id(server):
    connector = make(server, user_id="")
    with pytest.raises(errors.ConnectorError, match="user_id"):
        connector.fetch(None)


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fixture", "error", "detail"),
    [
        (401, "error_401", errors.AuthError, "Unauthorized"),
        (403, "error_403", errors.AuthError, "Forbidden"),
        (500, "error_500", errors.TransientError, "Internal Server Error"),
        (503, None, errors.TransientError, ""),
        (404, None, errors.NotFound, ""),
        (400, None, errors.ConnectorError, ""),
        (410, None, errors.NotFound, ""),
    ],
)
def test_http_errors_map_to_ours(server, status, fixture, error, detail):
    if fixture:
        server.add("GET", MENTIONS, status=status, json=load(fixture))
    else:
        server.add("GET", MENTIONS, status=status, body="<html>oops</html>")
    connector = make(server)
    with pytest.raises(error) as info:
        connector.fetch(None)
    assert type(info.value) is error
    message = str(info.value)
    assert message.startswith(f"x: mentions: HTTP {status}")
    assert detail in message
    formatted = "".join(traceback.format_exception(info.value))
    for secret in FAKE_SECRETS:
        assert secret not in formatted


def test_429_with_reset_header(server):
    reset = 1795348800
    server.add(
        "GET",
        MENTIONS,
        status=429,
        json=load("error_429"),
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    started = time.monotonic()
    with pytest.raises(errors.RateLimited) as info:
        make(server).fetch(None)
    assert time.monotonic() - started < 1.0  # never sleeps
    assert info.value.retry_at == datetime.fromtimestamp(reset, tz=timezone.utc)
    assert "HTTP 429" in str(info.value)
    assert len(server.requests) == 1  # never retries


def test_429_without_reset_header(server):
    server.add("GET", MENTIONS, status=429, json=load("error_429"))
    with pytest.raises(errors.RateLimited) as info:
        make(server).fetch(None)
    assert info.value.retry_at is None
    assert len(server.requests) == 1


def test_timeout_is_transient_and_fast(server):
    server.add("GET", MENTIONS, json=load("mentions_empty"), delay=0.6)
    connector = make(server, timeout=0.15)
    started = time.monotonic()
    with pytest.raises(errors.TransientError, match=r"no answer within 0\.15s"):
        connector.fetch(None)
    assert time.monotonic() - started < 0.5
    assert connector.session.timeouts == [0.15]


def test_connection_refused_is_transient():
    connector = XConnector(
        base_url="http://127.0.0.1:9",
        credentials={"bearer_token": BEARER},
        options={"user_id": BRAND},
        timeout=1,
    )
    with pytest.raises(errors.TransientError, match="connection failed"):
        connector.fetch(None)


def test_truncated_json_is_payload_error(server):
    text = (FIXTURES / "mentions_page1.json").read_text()
    server.add(
        "GET", MENTIONS, body=text[: len(text) // 2], headers={"Content-Type": "application/json"}
    )
    with pytest.raises(errors.PayloadError, match="mentions response is not valid JSON"):
        make(server).fetch(None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "should be a JSON object, got list"),
        ({"data": {"id": "1"}}, "'data' should be a list"),
        ({"data": [], "includes": []}, "'includes' should be an object"),
        ({"data": [], "includes": {"users": {}}}, "'includes.users' should be a list"),
        ({"data": [], "meta": "x"}, "'meta' should be an object"),
    ],
)
def test_malformed_page_names_what_is_wrong(server, body, message):
    server.add("GET", MENTIONS, json=body)
    with pytest.raises(errors.PayloadError, match=re.escape(message)):
        make(server).fetch(None)


def test_error_body_that_is_not_an_object(server):
    server.add("GET", MENTIONS, status=500, json=["oops"])
    with pytest.raises(errors.PayloadError, match="mentions: unreadable error response"):
        make(server).fetch(None)


def test_malformed_items_are_skipped_not_fatal(server):
    body = load("mentions_page1")
    body["data"] = [*body["data"][:1], "garbage", {"id": "12", "created_at": "2026-11-22T10:00Z"}]
    server.add("GET", MENTIONS, json=body)
    page = make(server).fetch(None)
    assert ids(page) == ["1860000000000000110"]
    assert page.skipped == 2
    assert len(page.problems) == 2


def test_body_with_only_errors_for_the_brand_is_not_found(server):
    server.add("GET", MENTIONS, json=load("mentions_user_gone"))
    with pytest.raises(errors.NotFound, match=r"Could not find user with id: \[9001\]"):
        make(server).fetch(None)


# -- profiles ------------------------------------------------------------------------------


def test_profiles_in_batches_of_100(server):
    def payload(path_ids):
        return {"data": [{"id": i, "username": f"user{i}", "name": f"User {i}"} for i in path_ids]}

    all_ids = [str(100000 + n) for n in range(250)]
    server.add("GET", "/2/users", json=payload(all_ids[:100]), times=1)
    server.add("GET", "/2/users", json=payload(all_ids[100:200]), times=1)
    server.add("GET", "/2/users", json=payload(all_ids[200:]), times=1)
    connector = make(server)
    authors = list(connector.profiles([*all_ids, all_ids[0], ""]))  # duplicates and blanks
    assert [a.external_id for a in authors] == all_ids
    sent = server.requests_to("/2/users")
    assert len(sent) == 3
    assert [len(r.query["ids"][0].split(",")) for r in sent] == [100, 100, 50]
    assert sent[2].query["ids"][0].split(",") == all_ids[200:]
    assert "public_metrics" in sent[0].query["user.fields"][0]


def test_profiles_by_handle_map_authors(server):
    server.add("GET", "/2/users/by", json=load("users_lookup"))
    authors = list(make(server).profiles(["@Alice", "bob", "acmebrand", "ghost_account", "no way"]))
    (request,) = server.requests_to("/2/users/by")
    assert request.query["usernames"] == ["alice,bob,acmebrand,ghost_account"]
    assert [a.handle for a in authors] == ["alice", "bob", "acmebrand"]
    alice, bob, brand = authors
    assert (alice.followers_count, alice.website) == (120, "https://alice.example/blog")
    assert (bob.followers_count, bob.website) == (7, "")
    assert brand.website == "https://acme.example"
    assert brand.network is Network.X


def test_profiles_body_with_only_errors_yields_nothing(server):
    server.add("GET", "/2/users", json=load("users_only_errors"))
    assert list(make(server).profiles(["4242"])) == []
    assert len(server.requests) == 1


def test_profiles_of_nothing_sends_nothing(server):
    assert list(make(server).profiles([])) == []
    assert server.requests == []


# -- writing -----------------------------------------------------------------------------


def test_reply_request_body_and_result(server):
    server.add("POST", "/2/tweets", status=201, json=load("create_tweet"))
    connector = make(server)
    posted = connector.reply("1860000000000000110", "@alice Thanks! It ships next week.")
    (sent,) = server.requests_to("/2/tweets")
    assert sent.json() == {
        "text": "@alice Thanks! It ships next week.",
        "reply": {"in_reply_to_tweet_id": "1860000000000000110"},
    }
    auth = sent.headers["Authorization"]
    assert auth.startswith("OAuth ")  # user context, signed
    assert 'oauth_consumer_key="test-consumer-key"' in auth
    assert posted.external_id == "1860000000000000200"
    assert posted.kind is Kind.REPLY
    assert posted.parent_id == "1860000000000000110"
    assert posted.url == "https://x.com/acmebrand/status/1860000000000000200"
    assert posted.author.external_id == BRAND
    assert posted.created_at.tzinfo is not None


def test_reply_refuses_bad_input_without_a_request(server):
    connector = make(server)
    with pytest.raises(ValueError, match="280"):
        connector.reply("1860000000000000110", "x" * 281)
    with pytest.raises(ValueError, match="empty"):
        connector.reply("1860000000000000110", "   ")
    with pytest.raises(ValueError, match="id"):
        connector.reply("not-an-id", "hello")
    bearer_only = make(server, credentials={"bearer_token": BEARER})
    with pytest.raises(errors.AuthError, match="user-context"):
        bearer_only.reply("1860000000000000110", "hello")
    assert server.requests == []


def test_reply_to_deleted_tweet(server):
    server.add(
        "POST",
        "/2/tweets",
        status=403,
        json={
            "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
        },
    )
    with pytest.raises(errors.AuthError, match="deleted or not visible"):
        make(server).reply("1840000000000000999", "hello")


def test_reply_200_with_only_errors_is_payload_error(server):
    server.add(
        "POST", "/2/tweets", json={"errors": [{"title": "Not Found Error", "detail": "tweet gone"}]}
    )
    with pytest.raises(errors.PayloadError, match=r"no tweet id \(tweet gone\)"):
        make(server).reply("1840000000000000999", "hello")


def test_like_repost_and_dm(server):
    server.add("POST", f"/2/users/{BRAND}/likes", json=load("like"))
    server.add("POST", f"/2/users/{BRAND}/retweets", json=load("retweet"))
    server.add("POST", "/2/dm_conversations/with/1001/messages", status=201, json=load("dm_create"))
    connector = make(server)
    connector.like("1860000000000000110")
    connector.repost("1860000000000000110")
    dm = connector.send_dm("1001", "Here is your coupon: ACME-10")
    assert server.requests_to(f"/2/users/{BRAND}/likes")[0].json() == {
        "tweet_id": "1860000000000000110"
    }
    assert server.requests_to(f"/2/users/{BRAND}/retweets")[0].json() == {
        "tweet_id": "1860000000000000110"
    }
    (sent,) = server.requests_to("/2/dm_conversations/with/1001/messages")
    assert sent.json() == {"text": "Here is your coupon: ACME-10"}
    assert (dm.kind, dm.external_id, dm.parent_id) == (
        Kind.DM,
        "dm:1860000000000000300",
        "1001-9001",
    )


def test_check_with_user_context_and_with_bearer_only(server):
    server.add("GET", "/2/users/me", json=load("users_me"))
    server.add("GET", f"/2/users/{BRAND}", json=load("users_me"))
    me = make(server).check()
    assert (me.external_id, me.handle, me.followers_count) == (BRAND, "acmebrand", 5000)
    assert server.requests_to("/2/users/me")[0].headers["Authorization"].startswith("OAuth ")
    app = make(server, credentials={"bearer_token": BEARER}).check()
    assert app.handle == "acmebrand"
    (sent,) = server.requests_to(f"/2/users/{BRAND}")
    assert sent.headers["Authorization"] == f"Bearer {BEARER}"


def test_check_401(server):
    server.add("GET", "/2/users/me", status=401, json=load("error_401"))
    with pytest.raises(errors.AuthError, match="get_me: HTTP 401"):
        make(server).check()


def test_no_credentials_at_all(server):
    with pytest.raises(errors.AuthError, match="no credentials"):
        make(server, credentials={}).fetch(None)
    assert server.requests == []


# -- timeouts and secrets ---------------------------------------------------------------------


def test_every_request_carried_the_timeout(server):
    server.add("GET", MENTIONS, json=load("mentions_page1"))
    server.add("GET", SEARCH, json=load("search_page1"))
    server.add("GET", "/2/users", json=load("users_lookup"))
    server.add("GET", "/2/users/by", json=load("users_lookup"))
    server.add("GET", "/2/users/me", json=load("users_me"))
    server.add("POST", "/2/tweets", json=load("create_tweet"))
    server.add("POST", f"/2/users/{BRAND}/likes", json=load("like"))
    server.add("POST", f"/2/users/{BRAND}/retweets", json=load("retweet"))
    server.add("POST", "/2/dm_conversations/with/1001/messages", json=load("dm_create"))
    connector = make(server, query="#acme")
    connector.fetch(None)
    list(connector.profiles(["1001", "alice"]))
    connector.check()
    connector.reply("1860000000000000110", "thanks")
    connector.like("1860000000000000110")
    connector.repost("1860000000000000110")
    connector.send_dm("1001", "hi")
    assert len(server.requests) == 9
    assert connector.session.timeouts == [TIMEOUT] * 9


def test_tweepy_debug_log_never_shows_the_bearer(server, caplog):
    server.add("GET", MENTIONS, json=load("mentions_empty"))
    with caplog.at_level(logging.DEBUG, logger="tweepy.client"):
        make(server).fetch(None)
    assert "Making API request" in caplog.text
    assert "Bearer [redacted]" in caplog.text
    assert BEARER not in caplog.text


def test_reply_length_is_counted_the_way_x_counts_it():
    assert x_length("a" * 280) == 280
    assert x_length("é") == 1  # NFC: e + combining acute is one light character
    assert x_length("e\u0301") == 1
    assert x_length("日本") == 4  # CJK counts 2
    assert x_length("see https://example.com/a/very/long/path?with=query&and=more") == 4 + 23
    assert x_length("\U0001f468\u200d\U0001f469\u200d\U0001f467") == 2  # one emoji, 5 code points
    assert x_length("\U0001f44d\U0001f3fd ok") == 5
    assert x_length("\u2014 \u201cquoted\u201d") == 10  # dash and curly quotes are light
    connector = XConnector(credentials={"bearer_token": "t"})
    assert connector.check_text("日" * 140) == "日" * 140
    with pytest.raises(ValueError, match="at most 280 characters, this text has 282"):
        connector.check_text("日" * 141)


# -- bounded responses (issue 11) ----------------------------------------------------------


def test_oversized_response_is_a_payload_error(server):
    # tweepy reads through the injected session: the cap applies to it too
    body = b'{"data": [], "meta": {"pad": "' + b"x" * (6 * 1024 * 1024) + b'"}}'
    server.add("GET", MENTIONS, body=body, chunked=True)
    with pytest.raises(errors.PayloadError, match="larger than"):
        make(server).fetch(None)


def test_slow_drip_hits_the_total_deadline(server):
    body = json.dumps(load("mentions_empty")).encode() + b" " * 200
    server.add("GET", MENTIONS, body=body, drip=0.2, headers={"Content-Type": "application/json"})
    started = time.monotonic()
    with pytest.raises(errors.TransientError, match=r"no answer within 1s"):
        make(server, timeout=1).fetch(None)
    assert time.monotonic() - started < 1.8


def test_redirects_are_not_followed(server):
    # the credentials go only where the base URL points, never where a 3xx says
    server.add("GET", MENTIONS, status=302, headers={"Location": server.url + "/elsewhere"})
    with pytest.raises(errors.ConnectorError):
        make(server).fetch(None)
    assert [r.path for r in server.requests] == [MENTIONS]


# -- usernames (issue 11, finding 17) --------------------------------------------------------


@pytest.mark.parametrize(
    "username", ["a" * 16, "no way", "../i/flow", "<script>", "jöhn", "", "john-doe", 42]
)
def test_author_with_an_invalid_username_has_no_handle(username):
    author = _author({"id": "42", "username": username, "name": "Someone"})
    assert author is not None and author.external_id == "42"
    assert author.handle == ""
    assert author.profile_url == "https://x.com/i/user/42"


def test_author_keeps_a_valid_username_as_written():
    author = _author({"id": "42", "username": "Alice_99", "name": "Alice"})
    assert (author.handle, author.profile_url) == ("Alice_99", "https://x.com/Alice_99")


def test_profiles_never_ask_for_an_invalid_username(server):
    server.add("GET", "/2/users/by", json={"data": []})
    list(make(server).profiles(["a" * 16, "@" + "b" * 20, "x.com/home", "ok_name"]))
    (request,) = server.requests_to("/2/users/by")
    assert request.query["usernames"] == ["ok_name"]


def test_brand_username_option_must_be_an_x_handle(server):
    with pytest.raises(ValueError, match="username"):
        make(server, username="acme/../../evil")
    with pytest.raises(ValueError, match="username"):
        make(server, username="a" * 16)
    assert make(server, username="@AcmeBrand")._brand().handle == "AcmeBrand"


def test_deeply_nested_json_is_a_payload_error(server):
    server.add("GET", MENTIONS, body=b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(errors.PayloadError):
        make(server).fetch(None)
    server.reset()
    server.add("GET", MENTIONS, status=401, body=b"[" * 60_000)
    with pytest.raises(errors.ConnectorError):
        make(server).fetch(None)


def test_a_cursor_stored_with_the_old_stream_names_is_read(server):
    """Cursors stored before the streams were named ``mentions``/``search`` say
    ``m``/``s``: the sweep goes on from them, and the next cursor is in the new names."""
    server.add("GET", MENTIONS, json=load("mentions_empty"))
    server.add("GET", SEARCH, json=load("mentions_empty"))
    old = {
        "m": {"since": "1860000000000000050"},
        "s": {"since": "1860000000000000040", "q": "#acme"},
    }
    page = make(server, query="#acme").fetch(json.dumps(old))
    (mentions,) = server.requests_to(MENTIONS)
    (search,) = server.requests_to(SEARCH)
    assert mentions.query["since_id"] == ["1860000000000000050"]
    assert search.query["since_id"] == ["1860000000000000040"]
    assert cursor_state(page.cursor) == {
        "mentions": {"since": "1860000000000000050"},
        "search": {"since": "1860000000000000040", "q": "#acme"},
    }
