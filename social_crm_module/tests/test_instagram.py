"""Instagram connector against Graph-shaped fixtures on 127.0.0.1."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from social_crm_module import errors, matching
from social_crm_module.connectors import connector_class
from social_crm_module.connectors.instagram import InstagramConnector
from social_crm_module.interaction import Kind
from social_crm_module.testing import FakeServer

FIXTURES = Path(__file__).parent / "fixtures" / "instagram"
FB_FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
IG = "17841400000000001"
PAGE = "104000000000001"
REEL = "17900000000000002"
V = "/v21.0"
TOKEN = "test-page-token"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def load(name, folder=FIXTURES):
    return json.loads((folder / f"{name}.json").read_text())


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def make(server, *, now=NOW, page=PAGE, **options):
    credentials = {"page_access_token": TOKEN, "ig_user_id": IG}
    if page:
        credentials["page_id"] = page
    return InstagramConnector(
        base_url=server.url,
        credentials=credentials,
        options=options,
        timeout=2.0,
        clock=lambda: now,
    )


def script(server):
    server.add("GET", f"{V}/{IG}/media", json=load("media"))
    server.add(
        "GET", f"{V}/{REEL}/comments", json=load("comments_page2"), query={"after": "QVFIUc1"}
    )
    server.add("GET", f"{V}/{REEL}/comments", json=load("comments_page1"))
    server.add("GET", f"{V}/{IG}/tags", json=load("tags"))
    server.add("GET", f"{V}/{PAGE}/conversations", json=load("conversations"))
    server.add("GET", f"{V}/aWdfZAG06fakeconv/messages", json=load("messages"))


def walk_all(connector):
    pages = list(connector.iter_pages(None, max_pages=50))
    return pages, [item for page in pages for item in page]


def test_registered_with_what_it_declares():
    cls = connector_class("instagram")
    assert cls is InstagramConnector
    # Meta offers no like on Instagram through the API
    assert cls.capabilities() == {"check", "reply", "dm", "private_reply"}
    assert cls.suggestions_only
    assert cls.normalize_handle("@Alice.Arabica") == "alice.arabica"
    assert cls.handle_from_profile_url("instagram.com", ["alice.arabica"]) == "alice.arabica"
    with pytest.raises(ValueError):
        cls.handle_from_profile_url("www.instagram.com", ["p", "Cfake"])
    assert matching.parse_profile_url("https://www.instagram.com/Alice.Arabica/") == (
        "instagram",
        "alice.arabica",
    )


def test_a_walk_reads_comments_replies_tags_and_direct_messages(server):
    script(server)
    pages, items = walk_all(make(server))
    assert not pages[-1].has_more
    by_id = {item.external_id: item for item in items}
    assert set(by_id) == {
        "17950000000000001",
        "17950000000000004",
        "17900000000000077",
        "aWdfZAG1fakemid0001",
    }
    top, reply = by_id["17950000000000001"], by_id["17950000000000004"]
    assert top.kind is Kind.COMMENT and top.subject_id == REEL
    assert top.url == "https://www.instagram.com/reel/Cfakereel/"
    assert top.author.external_id == f"{IG}:9100000000000001"
    assert top.author.handle == "alice.arabica"
    assert reply.kind is Kind.REPLY and reply.reply_ref == "c:17950000000000004>17950000000000001"
    tag = by_id["17900000000000077"]
    assert tag.kind is Kind.MENTION and tag.author.external_id == f"{IG}:@dan.decaf"
    assert by_id["aWdfZAG1fakemid0001"].reply_ref == "dm:9100000000000001"
    # a media without comments is not opened; the comment without author is counted
    assert not server.requests_to(f"{V}/17900000000000001/comments")
    assert sum(page.skipped for page in pages) == 1
    (convs,) = server.requests_to(f"{V}/{PAGE}/conversations")
    assert convs.query["platform"] == ["instagram"]


def test_without_the_page_no_direct_messages_are_read(server):
    script(server)
    _pages, items = walk_all(make(server, page=""))
    assert not server.requests_to(f"{V}/{PAGE}/conversations")
    assert all(item.kind is not Kind.DM for item in items)


def test_an_expired_token_is_an_auth_error(server):
    server.add("GET", f"{V}/{IG}/media", status=400, json=load("error_190", FB_FIXTURES))
    with pytest.raises(errors.AuthError):
        make(server).fetch(None)


def test_a_reply_goes_to_the_top_comment(server):
    server.add("POST", f"{V}/17950000000000001/replies", json=load("posted_reply"))
    posted = make(server).reply("c:17950000000000004>17950000000000001", "Thank you!")
    assert posted.external_id == "17950000000000010"
    (sent,) = server.requests_to(f"{V}/17950000000000001/replies")
    assert sent.json() == {"message": "Thank you!"}


def test_a_direct_message_counts_utf8_bytes(server):
    connector = make(server)
    assert connector.dm_length("é") == 2
    with pytest.raises(ValueError, match="1000"):
        connector.send_dm(f"{IG}:9100000000000001", "é" * 501)
    with pytest.raises(ValueError, match="2200"):
        connector.reply("c:1", "x" * 2201)
    assert server.requests == []


def test_a_direct_message_within_the_window_goes_through_the_page(server):
    server.add("GET", f"{V}/{PAGE}/conversations", json=load("conversation_of_user"))
    server.add("POST", f"{V}/{PAGE}/messages", json=load("sent_message"))
    sent = make(server).send_dm(f"{IG}:9100000000000001", "On its way")
    assert sent.external_id == "aWdfZAG1fakesent0001"
    with pytest.raises(errors.NotSupported):
        make(server, now=NOW + timedelta(days=1)).send_dm(f"{IG}:9100000000000001", "Late")
    assert len(server.requests_to(f"{V}/{PAGE}/messages")) == 1


def test_a_private_reply_to_a_comment(server):
    server.add("POST", f"{V}/{PAGE}/messages", json=load("sent_message"))
    created = NOW - timedelta(days=1)
    make(server).private_reply("c:17950000000000001", "Code X", created_at=created)
    (post,) = server.requests_to(f"{V}/{PAGE}/messages")
    assert post.json()["recipient"] == {"comment_id": "17950000000000001"}


def test_webhook_events_are_the_items_the_pull_reads(server):
    script(server)
    _pages, pulled = walk_all(make(server))
    pulled = {item.external_id: item for item in pulled}
    connector = make(server)
    pushed = [
        item
        for name in ("webhook_comments", "webhook_messages")
        for entry in load(name)["entry"]
        for item in connector.webhook_items(entry)
    ]
    assert sorted(i.external_id for i in pushed) == ["17950000000000001", "aWdfZAG1fakemid0001"]
    for item in pushed:
        twin = pulled[item.external_id]
        assert (item.author.external_id, item.kind, item.created_at, item.reply_ref) == (
            twin.author.external_id,
            twin.kind,
            twin.created_at,
            twin.reply_ref,
        )
