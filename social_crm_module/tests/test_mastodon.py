"""Mastodon connector against Mastodon-shaped fixtures on 127.0.0.1."""

import hashlib
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_crm_module import errors
from social_crm_module.connectors import connector_class
from social_crm_module.connectors.mastodon import MastodonConnector
from social_crm_module.http import RateLimit
from social_crm_module.interaction import Kind, Network
from social_crm_module.testing import FakeServer
from social_crm_module.text import html_to_text, mastodon_length

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
NOTIFICATIONS = "/api/v1/notifications"
STATUSES = "/api/v1/statuses"
TOKEN = "test-token"
TIMEOUT = 2.0
TYPES = ["mention", "reblog", "favourite", "follow", "status", "quote"]


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def link(server, newest, oldest):
    base = server.url + NOTIFICATIONS
    return f'<{base}?max_id={oldest}>; rel="next", <{base}?min_id={newest}>; rel="prev"'


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def make(server, *, token=TOKEN, timeout=TIMEOUT, **options):
    opts = {"instance_domain": "brand.example", **options}
    return MastodonConnector(
        base_url=server.url + "/",
        credentials={"access_token": token} if token is not None else {},
        options=opts,
        timeout=timeout,
    )


def ids(page):
    return [item.external_id for item in page]


# -- basics ---------------------------------------------------------------------------


def test_registered_and_described():
    assert connector_class(Network.MASTODON) is MastodonConnector
    assert connector_class("mastodon").max_text_length == 500
    assert MastodonConnector.profile_batch_size == 40
    assert MastodonConnector.credential_keys == ("access_token",)
    connector = MastodonConnector(base_url="https://social.example/", credentials={"a": "b"})
    assert connector.base_url == "https://social.example"
    assert connector.instance_domain == "social.example"
    assert "b" not in repr(connector)


def test_bad_base_url_or_timeout_refused():
    with pytest.raises(ValueError, match="http"):
        MastodonConnector(base_url="ftp://social.example")
    with pytest.raises(ValueError, match="http"):
        MastodonConnector()
    with pytest.raises(ValueError, match="timeout"):
        MastodonConnector(base_url="https://social.example", timeout=0)


# -- fetch ----------------------------------------------------------------------------


def test_first_page_maps_kinds_authors_and_request(server):
    server.add(
        "GET",
        NOTIFICATIONS,
        json=load("notifications_first"),
        headers={"Link": link(server, 208, 206)},
    )
    page = make(server).fetch(None)

    assert ids(page) == ["206", "207", "208"]  # oldest to newest
    assert page.cursor == "208"
    assert page.has_more is False  # first run: newest page only
    assert page.skipped == 0

    (sent,) = server.requests
    assert sent.query["types[]"] == TYPES
    assert sent.query["limit"] == ["40"]
    assert "min_id" not in sent.query
    assert "max_id" not in sent.query
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"

    post, quote, dm = page.items
    assert post.kind is Kind.POST
    assert post.raw_kind == "status"
    assert post.text == "Brewing my first cup of the day."
    assert post.reply_ref == "6003"
    assert post.url == "https://brand.example/@alice/6003"
    assert post.created_at == datetime(2026, 11, 21, 8, 25, tzinfo=timezone.utc)

    assert quote.kind is Kind.QUOTE
    assert quote.subject_id == "5001"
    assert quote.reply_ref == "6004"
    assert quote.text == "Worth a try."

    assert dm.kind is Kind.DM
    assert dm.raw_kind == "mention"
    assert dm.text == "@acme my order number is 1234, can you check?"

    alice = post.author
    assert alice.network is Network.MASTODON
    assert alice.external_id == alice.handle == "alice@brand.example"  # local account
    assert alice.display_name == "Alice Martin"
    assert alice.followers_count == 120
    assert alice.profile_url == "https://brand.example/@alice"
    assert alice.avatar_url == "https://brand.example/system/accounts/avatars/1001/original/me.png"
    assert alice.website == "https://alice.example"
    assert alice.verified_links == ("https://alice.example",)
    assert alice.email == ""

    bob = quote.author
    assert bob.handle == "bob@remote.example"
    assert bob.followers_count == 3400
    assert bob.website == "https://bob.blog.example/"  # first field that is a URL
    assert bob.verified_links == ("https://shop.example",)  # verified, and http(s) only


def test_walk_pages_with_min_id_first_next_last_then_empty(server):
    server.add(
        "GET",
        NOTIFICATIONS,
        query={"min_id": "200"},
        json=load("notifications_after_200"),
        headers={"Link": link(server, 203, 201)},
    )
    server.add(
        "GET",
        NOTIFICATIONS,
        query={"min_id": "203"},
        json=load("notifications_after_203"),
        headers={"Link": link(server, 206, 204)},
    )
    server.add(
        "GET",
        NOTIFICATIONS,
        query={"min_id": "206"},
        json=load("notifications_after_206"),
        headers={"Link": link(server, 208, 207)},
    )
    server.add("GET", NOTIFICATIONS, query={"min_id": "208"}, json=load("notifications_empty"))
    connector = make(server, limit=3)

    first = connector.fetch("200")
    assert ids(first) == ["201", "202", "203"]
    assert (first.cursor, first.has_more) == ("203", True)
    mention, like, repost = first.items
    assert (mention.kind, mention.raw_kind) == (Kind.MENTION, "mention")
    assert mention.text == "Hello @acme, love the new roast!"
    assert mention.parent_id == ""
    assert (like.kind, like.raw_kind, like.subject_id) == (Kind.LIKE, "favourite", "5001")
    assert like.reply_ref == ""
    assert like.text == ""
    assert like.author.handle == "bob@remote.example"
    assert (repost.kind, repost.subject_id) == (Kind.REPOST, "5001")
    assert repost.author.handle == "carol@fosstodon.example"
    assert repost.author.display_name == "carol"  # no display name: the username
    assert repost.author.website == ""
    assert repost.author.verified_links == ()

    second = connector.fetch(first.cursor)
    assert ids(second) == ["204", "205", "206"]
    assert (second.cursor, second.has_more) == ("206", True)
    reply, follow, _post = second.items
    assert (reply.kind, reply.parent_id, reply.reply_ref) == (Kind.REPLY, "5001", "6002")
    assert reply.text == "@acme when does it ship to Canada?"
    assert (follow.kind, follow.subject_id, follow.reply_ref) == (Kind.FOLLOW, "", "")
    assert follow.url == "https://fosstodon.example/@carol"

    last = connector.fetch(second.cursor)
    assert ids(last) == ["207", "208"]
    assert (last.cursor, last.has_more) == ("208", False)

    empty = connector.fetch(last.cursor)
    assert ids(empty) == []
    assert (empty.cursor, empty.has_more, empty.skipped) == ("208", False, 0)

    sent = [r.query["min_id"] for r in server.requests_to(NOTIFICATIONS)]
    assert sent == [["200"], ["203"], ["206"], ["208"]]
    assert all(r.query["limit"] == ["3"] for r in server.requests)


def test_cursor_resume_without_gaps_or_repeats(server):
    pages = {"200": ("after_200", 203), "203": ("after_203", 206), "206": ("after_206", 208)}
    for min_id, (name, newest) in pages.items():
        server.add(
            "GET",
            NOTIFICATIONS,
            query={"min_id": min_id},
            json=load(f"notifications_{name}"),
            headers={"Link": link(server, newest, 0)},
        )
    server.add("GET", NOTIFICATIONS, query={"min_id": "208"}, json=[])

    seen = [i.external_id for page in make(server, limit=3).iter_pages("200") for i in page]
    assert seen == [str(n) for n in range(201, 209)]

    # a run killed after page one was stored resumes at page two: same items again
    # for the same cursor, nothing skipped, nothing twice
    again = make(server, limit=3).fetch("203")
    assert ids(again) == ["204", "205", "206"]
    assert again.cursor == "206"


def test_cursor_without_link_header_is_the_newest_id_read(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_after_203"))
    page = make(server, limit=3).fetch("203")
    assert page.cursor == "206"
    assert page.has_more is True


def test_link_header_only_gives_an_id_never_a_url(server):
    hostile = '<https://elsewhere.example/steal?min_id=999>; rel="prev"'
    server.add(
        "GET", NOTIFICATIONS, json=load("notifications_after_203"), headers={"Link": hostile}
    )
    page = make(server, limit=3).fetch("203")
    assert page.cursor == "999"
    assert len(server.requests) == 1  # nothing followed


def test_empty_first_run_keeps_no_cursor(server):
    server.add("GET", NOTIFICATIONS, json=[])
    page = make(server).fetch(None)
    assert (page.items, page.cursor, page.has_more) == ((), None, False)


def test_deleted_status(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_deleted"))
    page = make(server).fetch("300")
    # a favourite of a brand post since deleted is still a like; a mention whose
    # status is gone is left out (counted)
    assert ids(page) == ["302"]
    (like,) = page.items
    assert (like.kind, like.subject_id, like.text) == (Kind.LIKE, "", "")
    assert page.skipped == 1
    assert page.problems == ("notification 301: the mention status was deleted",)
    assert page.cursor == "302"


def test_unknown_types_are_skipped_and_counted(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_unknown"))
    page = make(server).fetch("400")
    assert ids(page) == ["403"]
    assert page.skipped == 2
    assert any("unknown type 'poll'" in p for p in page.problems)
    assert any("unknown type 'admin.sign_up'" in p for p in page.problems)
    assert page.cursor == "403"


def test_unknown_type_as_newest_still_advances_the_cursor(server):
    body = load("notifications_unknown")
    body[1]["id"], body[0]["id"] = "404", "402"
    server.add("GET", NOTIFICATIONS, json=body)
    page = make(server).fetch("400")
    assert page.cursor == "404"


def test_malformed_items_are_skipped_not_fatal(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_malformed"))
    page = make(server).fetch("500")
    assert ids(page) == ["503"]
    assert page.skipped == 3
    assert page.problems == (
        "notification 502: no valid created_at",
        "notification 501: no usable account",
        "a notification is a str, not an object",
    )


def test_html_is_stripped_to_text(server):
    server.add("GET", NOTIFICATIONS, json=load("notifications_html"))
    (item,) = make(server).fetch("600").items
    assert item.text == (
        "Hi @acme & friends <3\n\n"
        "Line two\n"
        "next https://evil.example/\n\n"
        "<script>alert(3)</script> 'quoted' été"
    )
    assert "pwned" not in item.text
    assert "color" not in item.text
    assert "alert(2)" not in item.text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("", ""),
        (None, ""),
        ("plain", "plain"),
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("<script>never()", ""),
        ("<p>x<script/>y</p>", "xy"),
        ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_html_to_text_never_resolves_declared_entities():
    text = html_to_text('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]><p>&e;</p>')
    assert text.endswith("&e;")  # left as written: nothing read, nothing fetched
    assert "file:" not in text


def test_non_list_body_is_payload_error(server):
    server.add("GET", NOTIFICATIONS, json=load("error_object"))
    with pytest.raises(errors.PayloadError, match="notifications should be a JSON list, got dict"):
        make(server).fetch(None)


def test_truncated_json_is_payload_error(server):
    text = json.dumps(load("notifications_first"))
    server.add(
        "GET", NOTIFICATIONS, body=text[: len(text) // 2], headers={"Content-Type": "text/json"}
    )
    with pytest.raises(errors.PayloadError, match="notifications is not valid JSON"):
        make(server).fetch(None)


def test_bad_cursor_is_refused_without_a_request(server):
    connector = make(server)
    for bad in ("12 3", "../admin", "x" * 65, "1&limit=80"):
        with pytest.raises(errors.ConnectorError, match="cursor"):
            connector.fetch(bad)
    assert server.requests == []


def test_limit_option_is_clamped(server):
    server.add("GET", NOTIFICATIONS, json=[])
    make(server, limit=500).fetch(None)
    make(server, limit="nonsense").fetch(None)
    assert [r.query["limit"] for r in server.requests] == [["80"], ["40"]]


# -- errors and rate limits -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fixture", "error", "detail"),
    [
        (401, "error_401", errors.AuthError, "The access token is invalid"),
        (403, "error_403", errors.AuthError, "outside the authorized scopes"),
        (500, "error_500", errors.TransientError, "something went wrong"),
        (502, None, errors.TransientError, "HTTP 502"),
        (404, "error_404", errors.NotFound, "Record not found"),
    ],
)
def test_http_errors_map_to_ours(server, status, fixture, error, detail):
    if fixture:
        server.add("GET", NOTIFICATIONS, status=status, json=load(fixture))
    else:
        server.add("GET", NOTIFICATIONS, status=status, body="<html>Bad gateway</html>")
    with pytest.raises(error) as info:
        make(server).fetch("100")
    message = str(info.value)
    assert message.startswith(f"mastodon: HTTP {status}")
    assert detail in message
    assert TOKEN not in message


def test_429_with_reset_header(server):
    server.add(
        "GET",
        NOTIFICATIONS,
        status=429,
        json=load("error_429"),
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2026-11-22T10:35:00.123456Z",
        },
    )
    connector = make(server)
    with pytest.raises(errors.RateLimited) as info:
        connector.fetch("100")
    reset = datetime(2026, 11, 22, 10, 35, 0, 123456, tzinfo=timezone.utc)
    assert info.value.retry_at == reset
    assert "Too many requests" in str(info.value)
    assert connector.rate_limit == RateLimit(limit=300, remaining=0, reset=reset)


def test_429_without_reset_header(server):
    server.add("GET", NOTIFICATIONS, status=429, json=load("error_429"))
    connector = make(server)
    with pytest.raises(errors.RateLimited) as info:
        connector.fetch("100")
    assert info.value.retry_at is None
    assert connector.rate_limit is None
    assert len(server.requests) == 1  # no retry


def test_rate_limit_headers_are_exposed_on_success(server):
    server.add(
        "GET",
        NOTIFICATIONS,
        json=[],
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "297",
            "X-RateLimit-Reset": "2026-11-22T10:35:00.000Z",
        },
    )
    connector = make(server)
    assert connector.rate_limit is None
    connector.fetch(None)
    assert connector.rate_limit == RateLimit(
        limit=300, remaining=297, reset=datetime(2026, 11, 22, 10, 35, tzinfo=timezone.utc)
    )


def test_timeout_is_transient_and_fast(server):
    server.add("GET", NOTIFICATIONS, json=[], delay=0.6)
    started = time.monotonic()
    with pytest.raises(errors.TransientError, match=r"no answer within 0\.2s"):
        make(server, timeout=0.2).fetch(None)
    assert time.monotonic() - started < 0.55
    assert len(server.requests) == 1


def test_connection_refused_is_transient():
    connector = MastodonConnector(
        base_url="http://127.0.0.1:9", credentials={"access_token": TOKEN}, timeout=1
    )
    with pytest.raises(errors.TransientError, match="connection failed"):
        connector.fetch(None)


def test_no_token_is_auth_error_without_a_request(server):
    with pytest.raises(errors.AuthError, match="no access token"):
        make(server, token="").fetch(None)
    assert server.requests == []


def test_redirects_are_not_followed(server):
    server.add("GET", NOTIFICATIONS, status=302, headers={"Location": "https://elsewhere.example/"})
    with pytest.raises(errors.PayloadError):
        make(server).fetch(None)
    assert len(server.requests) == 1


# -- profiles and check -------------------------------------------------------------------


def test_profiles_in_batches_of_40(server):
    server.add("GET", "/api/v1/accounts", json=load("accounts_batch"))
    numeric = [str(n) for n in range(1001, 1046)]
    authors = list(make(server).profiles([*numeric, "1001", ""]))
    assert [a.handle for a in authors] == [
        "alice@brand.example",
        "bob@remote.example",
        "carol@fosstodon.example",
    ] * 2
    sent = server.requests_to("/api/v1/accounts")
    assert [len(r.query["id[]"]) for r in sent] == [40, 5]
    assert sent[0].query["id[]"] == numeric[:40]
    assert sent[1].query["id[]"] == numeric[40:]


def test_profiles_fall_back_to_one_request_per_id_on_old_servers(server):
    server.add("GET", "/api/v1/accounts", status=404, json=load("error_404"))
    server.add("GET", "/api/v1/accounts/1001", json=load("account_alice"))
    server.add("GET", "/api/v1/accounts/1009", status=404, json=load("error_404"))
    connector = make(server)
    assert [a.handle for a in connector.profiles(["1001", "1009"])] == ["alice@brand.example"]
    assert [a.handle for a in connector.profiles(["1001"])] == ["alice@brand.example"]
    # the batch endpoint is asked once, then remembered as missing
    assert len(server.requests_to("/api/v1/accounts")) == 1


def test_profiles_by_handle_use_lookup(server):
    server.add(
        "GET", "/api/v1/accounts/lookup", query={"acct": "alice"}, json=load("account_alice")
    )
    server.add(
        "GET",
        "/api/v1/accounts/lookup",
        query={"acct": "carol@fosstodon.example"},
        json=load("account_carol"),
    )
    server.add("GET", "/api/v1/accounts/lookup", status=404, json=load("error_404"))
    handles = ["@Alice@brand.example", "carol@fosstodon.example", "ghost@nowhere.example", "a b"]
    authors = list(make(server).profiles(handles))
    assert [a.handle for a in authors] == ["alice@brand.example", "carol@fosstodon.example"]
    sent = [r.query["acct"] for r in server.requests_to("/api/v1/accounts/lookup")]
    assert sent == [["alice"], ["carol@fosstodon.example"], ["ghost@nowhere.example"]]


def test_profiles_of_nothing_sends_nothing(server):
    assert list(make(server).profiles([])) == []
    assert server.requests == []


def test_profiles_batch_not_a_list(server):
    server.add("GET", "/api/v1/accounts", json=load("account_alice"))
    with pytest.raises(errors.PayloadError, match="accounts should be a JSON list"):
        list(make(server).profiles(["1001"]))


def test_check(server):
    server.add("GET", "/api/v1/accounts/verify_credentials", json=load("verify_credentials"))
    brand = make(server).check()
    assert brand.handle == "acme@brand.example"
    assert brand.display_name == "ACME Coffee"
    assert brand.verified_links == ("https://acme.example",)


def test_check_401(server):
    server.add("GET", "/api/v1/accounts/verify_credentials", status=401, json=load("error_401"))
    with pytest.raises(errors.AuthError, match="access token is invalid"):
        make(server).check()


# -- writing ------------------------------------------------------------------------------


def idempotency(*parts):
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def test_reply_request_body_and_result(server):
    server.add("GET", f"{STATUSES}/6002", json=load("status_public"))
    server.add("POST", STATUSES, json=load("posted_reply"))
    posted = make(server).reply("6002", "Next week!")

    (sent,) = server.requests_to(STATUSES)
    assert sent.json() == {
        "status": "@Bob@Remote.Example Next week!",
        "in_reply_to_id": "6002",
        "visibility": "public",
    }
    assert sent.headers["Idempotency-Key"] == idempotency("reply", "6002", "Next week!")
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"

    assert posted.kind is Kind.REPLY
    assert posted.external_id == "status:7001"
    assert posted.reply_ref == "7001"
    assert posted.parent_id == "6002"
    assert posted.text == "@Bob Next week!"
    assert posted.url == "https://brand.example/@acme/7001"
    assert posted.author.handle == "acme@brand.example"


def test_retried_reply_sends_the_same_idempotency_key(server):
    server.add("GET", f"{STATUSES}/6002", json=load("status_public"))
    server.add("POST", STATUSES, status=503, json={"error": "busy"}, times=1)
    server.add("POST", STATUSES, json=load("posted_reply"))
    connector = make(server)
    with pytest.raises(errors.TransientError):
        connector.reply("6002", "Next week!")
    connector.reply("6002", "Next week!")
    connector.reply("6002", "Another answer")
    keys = [r.headers["Idempotency-Key"] for r in server.requests_to(STATUSES)]
    assert keys[0] == keys[1] != keys[2]


def test_reply_keeps_an_existing_mention(server):
    server.add("GET", f"{STATUSES}/6002", json=load("status_public"))
    server.add("POST", STATUSES, json=load("posted_reply"))
    make(server).reply("6002", "Thanks @bob@remote.example, next week!")
    (sent,) = server.requests_to(STATUSES)
    assert sent.json()["status"] == "Thanks @bob@remote.example, next week!"


def test_reply_to_a_direct_message_stays_direct(server):
    server.add("GET", f"{STATUSES}/6005", json=load("status_direct"))
    server.add("POST", STATUSES, json=load("posted_dm"))
    make(server).reply("6005", "Checking order 1234.")
    (sent,) = server.requests_to(STATUSES)
    assert sent.json() == {
        "status": "@alice Checking order 1234.",
        "in_reply_to_id": "6005",
        "visibility": "direct",
    }


@pytest.mark.parametrize(
    ("original", "option", "expected"),
    [
        ("status_public", None, "public"),
        ("status_public", "unlisted", "unlisted"),
        ("status_unlisted", None, "unlisted"),
        ("status_unlisted", "private", "private"),
        ("status_direct", "public", "direct"),
    ],
)
def test_reply_visibility_is_never_wider_than_the_original(server, original, option, expected):
    body = load(original)
    server.add("GET", f"{STATUSES}/{body['id']}", json=body)
    server.add("POST", STATUSES, json=load("posted_reply"))
    options = {"reply_visibility": option} if option else {}
    make(server, **options).reply(body["id"], "ok")
    assert server.requests_to(STATUSES)[0].json()["visibility"] == expected


def test_reply_visibility_option_is_checked(server):
    with pytest.raises(errors.ConnectorError, match="reply_visibility"):
        make(server, reply_visibility="direct").reply("6002", "hi")
    assert server.requests == []


def test_reply_refuses_bad_input_without_a_request(server):
    connector = make(server)
    with pytest.raises(ValueError, match="empty"):
        connector.reply("6002", "   ")
    with pytest.raises(ValueError, match="at most 500"):
        connector.reply("6002", "x" * 501)
    with pytest.raises(ValueError, match="status to answer"):
        connector.reply("../../admin", "hi")
    assert server.requests == []


def test_reply_too_long_once_the_mention_is_added(server):
    server.add("GET", f"{STATUSES}/6002", json=load("status_public"))
    with pytest.raises(ValueError, match="with the mention"):
        make(server).reply("6002", "x" * 499)
    assert server.requests_to(STATUSES) == []


def test_reply_to_deleted_status(server):
    server.add("GET", f"{STATUSES}/6099", status=404, json=load("error_404"))
    with pytest.raises(errors.NotFound):
        make(server).reply("6099", "hello")
    assert server.requests_to(STATUSES) == []


def test_send_dm(server):
    server.add("POST", STATUSES, json=load("posted_dm"))
    connector = make(server)
    dm = connector.send_dm("alice@brand.example", "Thanks, checking now.")
    connector.send_dm("bob@remote.example", "Hello there")
    first, second = server.requests_to(STATUSES)
    assert first.json() == {"status": "@alice Thanks, checking now.", "visibility": "direct"}
    assert first.headers["Idempotency-Key"] == idempotency(
        "dm", "alice@brand.example", "Thanks, checking now."
    )
    assert second.json() == {"status": "@bob@remote.example Hello there", "visibility": "direct"}
    assert dm.kind is Kind.DM
    assert dm.external_id == "status:7002"
    assert dm.text == "@alice Thanks, checking now."


def test_send_dm_needs_an_account(server):
    with pytest.raises(ValueError, match="user@instance"):
        make(server).send_dm("not an account!", "hi")
    assert server.requests == []


def test_like_and_repost(server):
    server.add("POST", f"{STATUSES}/6002/favourite", json=load("favourited"))
    server.add("POST", f"{STATUSES}/6002/reblog", json=load("reblogged"))
    connector = make(server)
    assert connector.like("6002") is None
    assert connector.repost("6002") is None
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", f"{STATUSES}/6002/favourite"),
        ("POST", f"{STATUSES}/6002/reblog"),
    ]
    with pytest.raises(ValueError, match="status id"):
        connector.like("")


def test_like_of_deleted_status(server):
    server.add("POST", f"{STATUSES}/6099/favourite", status=404, json=load("error_404"))
    with pytest.raises(errors.NotFound):
        make(server).like("6099")


def test_mastodon_length_counts_like_mastodon():
    assert mastodon_length("@bob@remote.example hi") == len("@bob hi")
    assert mastodon_length("see https://example.com/a/very/long/path/indeed/yes") == 4 + 23


# -- fixtures ----------------------------------------------------------------------------


# -- bounded responses (issue 11) ----------------------------------------------------------


def test_oversized_response_is_a_payload_error(server):
    body = b'[{"pad": "' + b"x" * (6 * 1024 * 1024) + b'"}]'
    server.add("GET", NOTIFICATIONS, body=body, chunked=True)
    with pytest.raises(errors.PayloadError, match="larger than"):
        make(server).fetch(None)


def test_slow_drip_hits_the_total_deadline(server):
    server.add("GET", NOTIFICATIONS, body=b"[" + b" " * 200 + b"]", drip=0.2)
    started = time.monotonic()
    with pytest.raises(errors.TransientError, match=r"no answer within 1s"):
        make(server, timeout=1).fetch(None)
    assert time.monotonic() - started < 1.8
