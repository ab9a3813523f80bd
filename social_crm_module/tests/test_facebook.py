"""Facebook Page connector against Graph-shaped fixtures on 127.0.0.1."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from social_crm_module import errors
from social_crm_module.connectors import connector_class
from social_crm_module.connectors._graph import (
    OVERLAP,
    MetaOAuth,
    load_cursor,
    regain_at,
    sign,
    signature_valid,
    usage_percent,
)
from social_crm_module.connectors.facebook import FacebookConnector
from social_crm_module.interaction import Kind
from social_crm_module.testing import FakeServer

FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
PAGE = "104000000000001"
POST = f"{PAGE}_900000000000002"
OLD_POST = f"{PAGE}_900000000000001"
V = "/v21.0"
TOKEN = "test-page-token"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def make(server, *, now=NOW, token=TOKEN, **options):
    return FacebookConnector(
        base_url=server.url,
        credentials={"page_access_token": token, "page_id": PAGE} if token else {"page_id": PAGE},
        options=options,
        timeout=2.0,
        clock=lambda: now,
    )


def script(server, *, reactions=True):
    """The whole Page, as Meta would answer it."""
    server.add("GET", f"{V}/{PAGE}/published_posts", json=load("published_posts"))
    server.add(
        "GET", f"{V}/{POST}/comments", json=load("comments_page2"), query={"after": "QVFIUca1"}
    )
    server.add("GET", f"{V}/{POST}/comments", json=load("comments_page1"))
    if reactions:
        server.add("GET", f"{V}/{POST}/reactions", json=load("reactions"))
        server.add("GET", f"{V}/{OLD_POST}/reactions", json=load("reactions_post1"))
    server.add("GET", f"{V}/{PAGE}/tagged", json=load("tagged"))
    server.add("GET", f"{V}/{PAGE}/conversations", json=load("conversations"))
    server.add("GET", f"{V}/t_100000000000077/messages", json=load("messages"))


def walk_all(connector, cursor=None):
    pages = list(connector.iter_pages(cursor, max_pages=50))
    return pages, [item for page in pages for item in page]


# -- what the network declares ---------------------------------------------------------


def test_registered_with_what_it_declares():
    cls = connector_class("facebook")
    assert cls is FacebookConnector
    assert cls.capabilities() == {"check", "reply", "dm", "like", "private_reply"}
    assert cls.suggestions_only
    assert not cls.needs_base_url()
    assert set(cls.required_credentials) == {"page_access_token", "page_id"}
    assert cls.handle_from_profile_url("facebook.com", ["brandcoffee"]) is None


# -- reading ---------------------------------------------------------------------------


def test_a_first_walk_reads_comments_reactions_tags_and_messages(server):
    script(server)
    pages, items = walk_all(make(server))
    assert not pages[-1].has_more
    by_id = {item.external_id: item for item in items}
    assert set(by_id) == {
        "900000000000002_7001",
        "900000000000002_7003",
        f"{POST}/reaction/6100000000000001",
        f"{POST}/reaction/6100000000000004",
        "6100000000000004_500000000000009",
        "m_fakeMid0001",
    }
    top, reply = by_id["900000000000002_7001"], by_id["900000000000002_7003"]
    assert top.kind is Kind.COMMENT and top.reply_ref == "c:900000000000002_7001"
    assert top.subject_id == POST and top.root_id == POST
    assert reply.kind is Kind.REPLY and reply.parent_id == "900000000000002_7001"
    assert reply.reply_ref == "c:900000000000002_7003>900000000000002_7001"
    # ids are Page-scoped, never global
    assert top.author.external_id == f"{PAGE}:6100000000000001"
    assert top.author.display_name == "Alice Arabica"
    love = by_id[f"{POST}/reaction/6100000000000001"]
    assert love.kind is Kind.LIKE and love.raw_kind == "love" and love.subject_id == POST
    assert by_id["6100000000000004_500000000000009"].kind is Kind.MENTION
    dm = by_id["m_fakeMid0001"]
    assert dm.kind is Kind.DM and dm.reply_ref == "dm:6100000000000001"
    # the comment without an author is counted, not invented
    assert sum(page.skipped for page in pages) == 1
    # the old post was not updated since the backfill: no comment request for it
    assert not server.requests_to(f"{V}/{OLD_POST}/comments")
    # the stream of comments, newest first, second page by its after cursor
    first, second = server.requests_to(f"{V}/{POST}/comments")
    assert first.query["filter"] == ["stream"]
    assert first.query["order"] == ["reverse_chronological"]
    assert second.query["after"] == ["QVFIUca1"]
    # the older conversation was not opened; the token travels in a header only
    assert not server.requests_to(f"{V}/t_100000000000066/messages")
    for recorded in server.requests:
        assert recorded.headers["Authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in json.dumps(recorded.query)


def test_the_pages_own_comments_messages_and_reactions_are_left_out(server):
    script(server)
    _pages, items = walk_all(make(server))
    assert all(not item.author.external_id.endswith(f":{PAGE}") for item in items)
    assert "900000000000002_7002" not in {item.external_id for item in items}


def test_a_cursor_read_again_repeats_its_page_and_skips_nothing(server):
    script(server)
    connector = make(server)
    page1 = connector.fetch(None)
    page2 = connector.fetch(page1.cursor)
    again = connector.fetch(page1.cursor)
    assert [i.external_id for i in again] == [i.external_id for i in page2]
    # resumed from any stored cursor, the walk reaches the same set
    _, from_start = walk_all(make(server))
    _, resumed = walk_all(make(server), page1.cursor)
    seen = {i.external_id for i in page1} | {i.external_id for i in resumed}
    assert seen == {i.external_id for i in from_start}


def test_the_next_cycle_reads_from_the_previous_start_less_the_overlap(server):
    script(server)
    pages, _ = walk_all(make(server))
    idle = load_cursor(pages[-1].cursor, "facebook")
    assert idle["q"] == [] and idle["t0"] == int(NOW.timestamp())
    later = NOW + timedelta(hours=1)
    page = make(server, now=later).fetch(pages[-1].cursor)
    state = load_cursor(page.cursor, "facebook")
    assert state["since"] == int((NOW - OVERLAP).timestamp())
    assert state["t0"] == int(later.timestamp())
    # nothing on the Page was updated since: only the reactions are read again
    assert [task["k"] for task in state["q"]] == ["tagged", "convs", "reactions", "reactions"]


def test_a_malformed_cursor_is_a_payload_error(server):
    with pytest.raises(errors.PayloadError):
        make(server).fetch('{"v": 1, "since": "x"}')
    with pytest.raises(errors.PayloadError):
        make(server).fetch('{"v":1,"since":1,"t0":1,"q":[{"k":"msgs","id":"../../me"}]}')


def test_without_a_page_id_nothing_is_read(server):
    connector = FacebookConnector(
        base_url=server.url, credentials={"page_access_token": TOKEN}, timeout=2.0
    )
    with pytest.raises(errors.AuthError):
        connector.fetch(None)
    assert server.requests == []


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "status", "error", "words"),
    [
        ("error_4", 403, errors.RateLimited, "limit"),
        ("error_17", 403, errors.RateLimited, "limit"),
        ("error_32", 403, errors.RateLimited, "limit"),
        ("error_613", 403, errors.RateLimited, "rate limit"),
        ("error_80001", 400, errors.RateLimited, "too many calls"),
        ("error_190", 400, errors.AuthError, "expired or was revoked"),
        ("error_102", 400, errors.AuthError, "expired or was revoked"),
        ("error_10", 403, errors.AuthError, "permission is missing"),
        ("error_200", 403, errors.AuthError, "permission is missing"),
        ("error_100_33", 400, errors.NotFound, "gone"),
        ("error_2", 500, errors.TransientError, "unexpected"),
        ("error_window", 400, errors.NotSupported, "24-hour"),
    ],
)
def test_graph_errors_map_onto_the_error_tree(server, fixture, status, error, words):
    server.add("GET", f"{V}/{PAGE}/published_posts", status=status, json=load(fixture))
    with pytest.raises(error) as caught:
        make(server).fetch(None)
    assert type(caught.value) is error
    assert words.lower() in str(caught.value).lower()
    assert TOKEN not in str(caught.value)


def test_a_rate_limit_says_when_access_comes_back(server):
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    server.add(
        "GET",
        f"{V}/{PAGE}/published_posts",
        status=400,
        json=load("error_80001"),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    before = datetime.now(timezone.utc)
    with pytest.raises(errors.RateLimited) as caught:
        make(server).fetch(None)
    assert before + timedelta(minutes=6) < caught.value.retry_at
    assert caught.value.retry_at < datetime.now(timezone.utc) + timedelta(minutes=8)


def test_usage_headers_are_read():
    headers = {"X-App-Usage": '{"call_count": 42, "total_cputime": 97, "total_time": 10}'}
    assert usage_percent(headers) == 97
    assert usage_percent({}) is None
    assert usage_percent({"X-App-Usage": "not json"}) is None
    assert regain_at({"Retry-After": "60"}, NOW) == NOW + timedelta(seconds=60)
    assert regain_at({}, NOW) is None


def test_at_full_usage_the_walk_stops_before_the_next_call(server):
    script(server)
    server.routes.insert(
        0,
        server.add(
            "GET",
            f"{V}/{PAGE}/published_posts",
            json=load("published_posts"),
            headers={"X-App-Usage": '{"call_count": 100, "total_cputime": 5, "total_time": 5}'},
        ),
    )
    connector = make(server)
    page = connector.fetch(None)
    calls = len(server.requests)
    with pytest.raises(errors.RateLimited):
        connector.fetch(page.cursor)
    assert len(server.requests) == calls


def test_a_timeout_is_transient(server):
    server.add("GET", f"{V}/{PAGE}/published_posts", json=load("published_posts"), delay=1.0)
    connector = FacebookConnector(
        base_url=server.url,
        credentials={"page_access_token": TOKEN, "page_id": PAGE},
        timeout=0.2,
    )
    with pytest.raises(errors.TransientError):
        connector.fetch(None)


def test_a_body_that_is_not_json_is_a_payload_error(server):
    server.add("GET", f"{V}/{PAGE}/published_posts", body="<html>oops</html>")
    with pytest.raises(errors.PayloadError):
        make(server).fetch(None)


def test_the_token_is_never_in_the_repr(server):
    connector = make(server)
    assert TOKEN not in repr(connector) and TOKEN not in repr(connector.graph)


# -- writing -----------------------------------------------------------------------------


def test_a_reply_to_a_reply_goes_to_its_thread(server):
    server.add("POST", f"{V}/900000000000002_7001/comments", json=load("posted_comment"))
    posted = make(server).reply("c:900000000000002_7003>900000000000002_7001", "Yes, free!")
    assert posted.external_id == "900000000000002_7010"
    (sent,) = server.requests_to(f"{V}/900000000000002_7001/comments")
    assert sent.json() == {"message": "Yes, free!"}


def test_a_reply_to_something_that_is_no_comment_is_refused(server):
    with pytest.raises(errors.NotSupported):
        make(server).reply("at://whatever", "hi")
    assert server.requests == []


def test_like(server):
    server.add("POST", f"{V}/900000000000002_7001/likes", json=load("success"))
    make(server).like("c:900000000000002_7001")
    assert len(server.requests_to(f"{V}/900000000000002_7001/likes")) == 1


def test_a_message_within_the_24_hour_window_is_sent(server):
    server.add("GET", f"{V}/{PAGE}/conversations", json=load("conversation_of_user"))
    server.add("POST", f"{V}/{PAGE}/messages", json=load("sent_message"))
    sent = make(server).send_dm(f"{PAGE}:6100000000000001", "Here is your code")
    assert sent.external_id == "m_fakeSent0001"
    (lookup,) = server.requests_to(f"{V}/{PAGE}/conversations")
    assert lookup.query["user_id"] == ["6100000000000001"]
    (post,) = server.requests_to(f"{V}/{PAGE}/messages")
    assert post.json() == {
        "recipient": {"id": "6100000000000001"},
        "message": {"text": "Here is your code"},
        "messaging_type": "RESPONSE",
    }


@pytest.mark.parametrize("fixture", ["conversation_of_user", "conversation_empty"])
def test_outside_the_window_nothing_is_sent(server, fixture):
    server.add("GET", f"{V}/{PAGE}/conversations", json=load(fixture))
    server.add("POST", f"{V}/{PAGE}/messages", json=load("sent_message"))
    with pytest.raises(errors.NotSupported) as caught:
        make(server, now=NOW + timedelta(days=2)).send_dm(f"{PAGE}:6100000000000001", "Hi")
    assert "24 hours" in str(caught.value)
    assert not server.requests_to(f"{V}/{PAGE}/messages")


def test_meta_refusing_a_message_outside_its_window_is_not_supported(server):
    server.add("GET", f"{V}/{PAGE}/conversations", json=load("conversation_of_user"))
    server.add("POST", f"{V}/{PAGE}/messages", status=400, json=load("error_window"))
    with pytest.raises(errors.NotSupported):
        make(server).send_dm(f"{PAGE}:6100000000000001", "Hi")


def test_a_message_to_someone_of_another_page_is_refused(server):
    with pytest.raises(errors.NotSupported):
        make(server).send_dm("999:6100000000000001", "Hi")
    assert server.requests == []


def test_answering_a_message_is_a_message(server):
    server.add("GET", f"{V}/{PAGE}/conversations", json=load("conversation_of_user"))
    server.add("POST", f"{V}/{PAGE}/messages", json=load("sent_message"))
    sent = make(server).reply("dm:6100000000000001", "Hello")
    assert sent.kind is Kind.DM


def test_a_private_reply_within_7_days(server):
    server.add("GET", f"{V}/900000000000002_7001", json=load("comment_time"))
    server.add("POST", f"{V}/{PAGE}/messages", json=load("sent_message"))
    sent = make(server).private_reply("c:900000000000002_7001", "Your code: X1")
    assert sent.external_id == "m_fakeSent0001"
    (post,) = server.requests_to(f"{V}/{PAGE}/messages")
    assert post.json() == {
        "recipient": {"comment_id": "900000000000002_7001"},
        "message": {"text": "Your code: X1"},
    }


def test_a_private_reply_after_7_days_sends_nothing(server):
    server.add("POST", f"{V}/{PAGE}/messages", json=load("sent_message"))
    created = NOW - timedelta(days=8)
    with pytest.raises(errors.NotSupported):
        make(server).private_reply("c:900000000000002_7001", "Code", created_at=created)
    assert server.requests == []


def test_text_limits_as_meta_counts_them(server):
    connector = make(server)
    assert connector.max_text_length == 8000
    assert connector.check_text("é" * 8000)
    with pytest.raises(ValueError, match="8000"):
        connector.reply("c:1_2", "x" * 8001)
    with pytest.raises(ValueError, match="2000"):
        connector.send_dm(f"{PAGE}:6100000000000001", "x" * 2001)
    assert server.requests == []


# -- webhooks ----------------------------------------------------------------------------


def test_webhook_events_are_the_items_the_pull_reads(server):
    script(server)
    _pages, pulled = walk_all(make(server))
    pulled = {item.external_id: item for item in pulled}
    connector = make(server)
    pushed = []
    for name in ("webhook_feed", "webhook_mention", "webhook_messages"):
        for entry in load(name)["entry"]:
            pushed.extend(connector.webhook_items(entry))
    ids = [item.external_id for item in pushed]
    # removals, echoes of our own messages and read receipts are not interactions
    assert sorted(ids) == sorted(
        [
            "900000000000002_7001",
            f"{POST}/reaction/6100000000000004",
            "6100000000000004_500000000000009",
            "m_fakeMid0001",
        ]
    )
    for item in pushed:
        twin = pulled[item.external_id]
        assert item.author.external_id == twin.author.external_id
        assert item.kind is twin.kind
        if item.kind is not Kind.LIKE:  # a pulled reaction is dated when read
            assert item.created_at == twin.created_at
            assert item.reply_ref == twin.reply_ref


def test_signatures_are_checked_in_constant_time():
    body = b'{"object":"page"}'
    header = sign("test-app-secret", body)
    assert signature_valid("test-app-secret", body, header)
    assert not signature_valid("test-app-secret", body + b" ", header)
    assert not signature_valid("another-secret", body, header)
    assert not signature_valid("test-app-secret", body, None)
    assert not signature_valid("test-app-secret", body, header.replace("sha256=", "sha1="))
    assert not signature_valid("", body, header)


# -- Connect -----------------------------------------------------------------------------


def oauth(server):
    return MetaOAuth(
        app_id="1234567890",
        app_secret="test-app-secret",
        graph_url=server.url,
        dialog_url="https://dialog.example",
        timeout=2.0,
    )


def test_connect_builds_the_dialog_url_and_exchanges_for_a_long_lived_token(server):
    flow = oauth(server)
    url = flow.authorize_url("https://odoo.example/social_crm/meta/callback", "test-state")
    assert url.startswith("https://dialog.example/v21.0/dialog/oauth?client_id=1234567890&")
    assert "state=test-state" in url and "pages_messaging" in url
    server.add(
        "GET", f"{V}/oauth/access_token", json={"access_token": "fake-short"}, query={"code": "c1"}
    )
    server.add(
        "GET",
        f"{V}/oauth/access_token",
        json={"access_token": "fake-long"},
        query={"grant_type": "fb_exchange_token", "fb_exchange_token": "fake-short"},
    )
    assert flow.exchange_code("c1", "https://odoo.example/cb") == "fake-long"
    first, _second = server.requests_to(f"{V}/oauth/access_token")
    assert first.query["redirect_uri"] == ["https://odoo.example/cb"]
    assert "Authorization" not in first.headers


def test_connect_lists_every_page_across_pages_of_results(server):
    flow = oauth(server)
    server.add(
        "GET",
        f"{V}/me/accounts",
        json={
            "data": [{"id": "2", "name": "Tea", "access_token": "fake-2"}],
            "paging": {"cursors": {"after": "end"}},
        },
        query={"after": "p2"},
    )
    server.add(
        "GET",
        f"{V}/me/accounts",
        json={
            "data": [
                {
                    "id": PAGE,
                    "name": "Brand Coffee",
                    "access_token": "fake-1",
                    "instagram_business_account": {"id": "178", "username": "brandcoffee"},
                },
                {"id": "3", "name": "No token"},
            ],
            "paging": {"cursors": {"after": "p2"}, "next": "https://graph.example/next"},
        },
    )
    pages = flow.pages("fake-user")
    assert [(p.page_id, p.ig_user_id, p.ig_username) for p in pages] == [
        (PAGE, "178", "brandcoffee"),
        ("2", "", ""),
    ]
    assert "fake-1" not in repr(pages[0])


def test_connect_without_app_settings_is_refused():
    with pytest.raises(errors.AuthError, match="Settings"):
        MetaOAuth(app_id="", app_secret="x")
