"""RSS 2.0 / Atom 1.0 feed connector against feed-shaped fixtures on 127.0.0.1."""

import hashlib
import json
import resource
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from social_crm_module import errors
from social_crm_module.connectors import connector_class, make_connector
from social_crm_module.connectors import feed as feed_module
from social_crm_module.connectors.feed import (
    MAX_BODY,
    FeedConnector,
    html_to_text,
    http_url,
    parse_any_date,
    parse_feed,
)
from social_crm_module.http import resolve_host
from social_crm_module.interaction import Kind, Network
from social_crm_module.testing import FakeServer

FIXTURES = Path(__file__).parent / "fixtures" / "feed"
PATH = "/feed.xml"
TIMEOUT = 2.0


def load(name):
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def make(server, *, timeout=TIMEOUT, **options):
    return FeedConnector(base_url=server.url + PATH, options=options, timeout=timeout)


def serve(server, name, **kwargs):
    headers = {"Content-Type": "application/rss+xml", **kwargs.pop("headers", {})}
    return server.add("GET", PATH, body=load(name), headers=headers, **kwargs)


def ids(page):
    return [item.external_id for item in page]


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def scoped(server, key, path=PATH):
    """The id a feed author gets: the key, prefixed by a digest of the feed's URL."""
    digest = hashlib.sha256((server.url + path).encode()).hexdigest()[:16]
    return f"feed:{digest}:{key}"


# -- basics ---------------------------------------------------------------------------


def test_registered_and_described():
    assert connector_class(Network.FEED) is FeedConnector
    assert connector_class("feed").credential_keys == ()
    connector = make_connector("feed", base_url="https://reviews.example/feed.rss")
    assert isinstance(connector, FeedConnector)
    assert connector.base_url == "https://reviews.example/feed.rss"


def test_bad_base_url_timeout_or_kind_refused():
    with pytest.raises(ValueError, match="http"):
        FeedConnector(base_url="file:///etc/passwd")
    with pytest.raises(ValueError, match="http"):
        FeedConnector()
    with pytest.raises(ValueError, match="timeout"):
        FeedConnector(base_url="https://reviews.example/f", timeout=0)
    connector = FeedConnector(base_url="https://reviews.example/f", options={"kind": "like"})
    with pytest.raises(errors.ConnectorError, match="kind"):
        connector.fetch(None)


def test_profiles_and_reply_not_supported():
    connector = FeedConnector(base_url="https://reviews.example/f")
    with pytest.raises(errors.NotSupported):
        list(connector.profiles(["someone"]))
    with pytest.raises(errors.NotSupported):
        connector.reply("x", "hello")


# -- formats --------------------------------------------------------------------------


def test_rss2_entries_oldest_first_with_authors_and_plain_text(server):
    serve(server, "rss2.xml", headers={"ETag": '"v1"'})
    page = make(server).fetch(None)

    assert ids(page) == [
        "https://reviews.example/acme/r/1001",  # no guid: the link
        "https://reviews.example/acme/r/1002",
        "review-1003",
    ]
    assert (page.has_more, page.skipped) == (False, 0)
    mugs, grinder, roast = page.items
    assert roast.network is Network.FEED
    assert (roast.kind, roast.raw_kind) == (Kind.POST, "item")
    assert roast.created_at == utc(2026, 11, 21, 8, 30)  # +0100 converted
    assert (
        roast.text
        == "Great roast, fast delivery\n\nFive stars. The Ethiopian roast is lovely & fresh."
    )
    assert roast.url == "https://reviews.example/acme/r/1003"
    assert roast.author.handle == "Hannah K."
    assert roast.author.external_id == scoped(server, "Hannah K.")  # not the bare name
    assert roast.author.email == ""
    assert roast.reply_ref == ""

    assert grinder.created_at == utc(2026, 11, 20, 18, 0)
    assert grinder.text.endswith("Support answered quickly though.\n\nTwo stars.")
    assert grinder.author.display_name == "Douglas F."
    assert grinder.author.email == ""  # an address in a feed proves nothing
    assert grinder.author.handle == "Douglas F."

    assert mugs.text == "Nice mugs\n\nSturdy and pretty."  # content:encoded
    assert mugs.author.display_name == "Verified Buyer 8812"
    assert mugs.author.email == ""  # noreply@ is not a person

    (sent,) = server.requests
    assert "If-None-Match" not in sent.headers
    assert "If-Modified-Since" not in sent.headers
    assert "rss+xml" in sent.headers["Accept"]


def test_atom_entries_links_authors_and_xhtml(server):
    serve(server, "atom.xml")
    page = make(server, kind="comment").fetch(None)

    team, switch = page.items
    assert switch.external_id == "tag:blog.example,2026:post-2"
    assert (switch.kind, switch.raw_kind) == (Kind.COMMENT, "entry")
    assert switch.created_at == utc(2026, 11, 21, 8, 0)  # published wins over updated
    assert switch.url == server.url + "/posts/switch"  # relative to the feed's URL
    assert switch.text == "Why I switched to Acme\n\nBetter beans, better mornings."
    assert "alert" not in switch.text  # the script in the xhtml summary is dropped
    author = switch.author
    assert author.profile_url == "https://lucas.example/"
    assert author.external_id == scoped(server, "https://lucas.example/")
    assert (author.handle, author.display_name) == ("Lucas Moreau", "Lucas Moreau")
    assert author.email == ""  # <email> in an Atom entry is never passed on

    assert team.created_at == utc(2026, 11, 20, 9, 0)  # only <updated>
    assert team.text == "Team post without its own author\n\nPlain & simple <not a tag>."
    assert team.author.display_name == "Acme Blog Team"  # the feed's author
    assert team.author.external_id == scoped(server, "https://blog.example/team")


def test_youtube_channel_feed(server):
    serve(server, "youtube.xml")
    (video,) = make(server).fetch(None).items
    assert video.external_id == "yt:video:aBcDeFgHiJk"
    assert video.url == "https://www.youtube.com/watch?v=aBcDeFgHiJk"
    assert video.created_at == utc(2026, 11, 20, 15, 0, 6)
    assert video.text == (
        "Morning routine in 20 m² (with Acme coffee)\n\n"
        "How we make coffee in a tiny kitchen. Beans: Acme Ethiopian."
    )
    channel = "https://www.youtube.com/channel/UCtinyhometours0000000000"
    assert video.author.profile_url == channel
    assert video.author.external_id == scoped(server, channel)
    assert video.author.display_name == "Tiny Home Tours"


def test_reddit_rss_users_and_deleted(server):
    serve(server, "reddit.rss")
    removed, post = make(server).fetch(None).items
    assert post.external_id == "t3_1gxyz12"
    assert post.url == "https://www.reddit.com/r/coffee/comments/1gxyz12/acme_grinder/"
    assert post.text.startswith("Acme grinder: worth it?\n\nHas anyone tried the Acme grinder?")
    assert "SC_OFF" not in post.text  # HTML comments are not text
    assert post.author.handle == "addisonolson"  # /u/ stripped
    assert post.author.profile_url == "https://www.reddit.com/user/addisonolson"
    # a deleted account is no person: the entry is the feed's
    assert removed.author.external_id == server.url + PATH
    assert removed.author.handle == "r/coffee: search results - acme"


def test_empty_feed(server):
    serve(server, "empty.xml", headers={"ETag": '"e1"'})
    page = make(server).fetch(None)
    assert (len(page), page.skipped, page.has_more) == (0, 0, False)
    assert json.loads(page.cursor) == {"e": '"e1"', "m": "", "s": []}


def test_entries_without_a_readable_date_are_dated_when_first_seen(server, monkeypatch):
    serve(server, "no_date.xml", headers={"ETag": '"d1"'}, times=1)
    serve(server, "no_date.xml", headers={"ETag": '"d2"'})  # same document, new ETag
    before = datetime.now(timezone.utc).replace(microsecond=0)
    page = make(server).fetch(None)
    # dated ones by their date, oldest first; the two dateless ones seen now, last
    assert ids(page) == ["d-1", "d-4", "d-3", "d-2"]
    assert (page.skipped, page.problems) == (0, ())
    first_seen = page.items[2].created_at
    assert page.items[3].created_at == first_seen
    assert before <= first_seen <= datetime.now(timezone.utc)
    state = json.loads(page.cursor)
    assert len(state["d"]) == 2 and set(state["d"]) <= set(state["s"])

    again = make(server).fetch(page.cursor)
    assert ids(again) == []  # never a second interaction
    assert json.loads(again.cursor)["d"] == state["d"]  # the first-seen times kept


def test_first_seen_date_survives_paging(server, monkeypatch):
    serve(server, "no_date.xml")
    clock = [1_800_000_000]
    monkeypatch.setattr(feed_module, "_now", lambda: clock[0])
    connector = make(server, limit=3)
    first = connector.fetch(None)
    assert ids(first) == ["d-1", "d-4", "d-3"]
    clock[0] += 3600  # an hour later, the rest of the backlog
    second = connector.fetch(first.cursor)
    assert ids(second) == ["d-2"]
    assert second.items[0].created_at == first.items[2].created_at == utc(2027, 1, 15, 8, 0)


def test_javascript_and_data_links_are_never_urls(server):
    serve(server, "javascript_link.xml")
    page = make(server).fetch(None)
    assert ids(page) == ["js-1", "js-3"]
    assert page.items[0].url == ""  # javascript: dropped, the entry kept
    assert page.items[1].url == server.url + "/reviews/3"
    assert page.skipped == 1  # data: link and no guid: nothing to identify it
    for item in page:
        assert "javascript" not in item.url
        assert "data:" not in item.url


def test_html_and_script_in_summaries_become_plain_text(server):
    serve(server, "html_summary.xml")
    (item,) = make(server).fetch(None).items
    assert item.text == 'Bold title\n\nLoved it\n\n5 < 6 & "ok"'
    for bad in ("<", "script", "cookie", "onerror", "display:none", "steal"):
        assert bad not in item.text.replace("5 < 6", "")


# -- conditional GET and the cursor ---------------------------------------------------


def test_etag_round_trip_then_304_keeps_cursor(server):
    serve(
        server,
        "rss2.xml",
        times=1,
        headers={"ETag": '"v1"', "Last-Modified": "Sat, 21 Nov 2026 10:00:00 GMT"},
    )
    server.add("GET", PATH, status=304, headers={"ETag": '"v1"'})
    connector = make(server)

    first = connector.fetch(None)
    assert len(first) == 3
    state = json.loads(first.cursor)
    assert state["e"] == '"v1"'
    assert state["m"] == "Sat, 21 Nov 2026 10:00:00 GMT"
    assert len(state["s"]) == 3
    assert first.cursor == json.dumps(state, separators=(",", ":"))  # compact

    second = connector.fetch(first.cursor)
    assert (len(second), second.cursor, second.has_more) == (0, first.cursor, False)
    sent = server.requests[-1]
    assert sent.headers["If-None-Match"] == '"v1"'
    assert sent.headers["If-Modified-Since"] == "Sat, 21 Nov 2026 10:00:00 GMT"


def test_refetch_returns_only_new_entries_no_gap_no_repeat(server):
    serve(server, "rss2.xml", times=1, headers={"ETag": '"v1"'})
    serve(server, "rss2_updated.xml", times=2, headers={"ETag": '"v2"'})
    connector = make(server)

    first = connector.fetch(None)
    second = connector.fetch(first.cursor)
    assert ids(second) == ["review-1004"]
    assert second.items[0].author.handle == "Gemini Furniture"
    state = json.loads(second.cursor)
    assert state["e"] == '"v2"'
    # 1001 dropped out of the document: the cursor forgets it, stays bounded
    assert len(state["s"]) == 3

    third = connector.fetch(second.cursor)  # same document again (server ignored ETag)
    assert ids(third) == []
    assert third.cursor == second.cursor
    seen = ids(first) + ids(second) + ids(third)
    assert len(seen) == len(set(seen)) == 4


def test_limit_pages_a_big_backlog_without_gaps(server):
    serve(server, "rss2_updated.xml", headers={"ETag": '"v2"'})
    connector = make(server, limit=2)
    pages = list(connector.iter_pages(None))
    assert [ids(p) for p in pages] == [
        ["https://reviews.example/acme/r/1002", "review-1003"],
        ["review-1004"],
    ]
    assert pages[0].has_more is True
    assert json.loads(pages[0].cursor)["e"] == ""  # next fetch is unconditional
    assert json.loads(pages[1].cursor)["e"] == '"v2"'
    assert "If-None-Match" not in server.requests[1].headers


@pytest.mark.parametrize("cursor", ["not json", "[1, 2]", '{"e": 3}'])
def test_foreign_cursor_refused(server, cursor):
    with pytest.raises(errors.ConnectorError, match="cursor"):
        make(server).fetch(cursor)
    assert server.requests == []


# -- hostile and broken documents -----------------------------------------------------


def _maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml"])
def test_entity_feeds_refused_quickly_without_memory_growth(server, name):
    serve(server, name)
    before = _maxrss_mb()
    started = time.perf_counter()
    with pytest.raises(errors.PayloadError, match="declares entities") as info:
        make(server).fetch(None)
    assert time.perf_counter() - started < 1.0
    assert _maxrss_mb() - before < 20
    assert "root:" not in str(info.value)


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml"])
def test_entity_declarations_refused_by_the_parser_too(name, monkeypatch):
    # with the byte pre-check disabled, lxml/libxml2 and the DTD check still refuse
    monkeypatch.setattr(feed_module, "_refuse_entities", lambda body: None)
    started = time.perf_counter()
    with pytest.raises(errors.PayloadError, match="entit"):
        parse_feed(load(name))
    assert time.perf_counter() - started < 1.0


def test_entities_hidden_in_utf16_refused():
    body = load("xxe.xml").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    with pytest.raises(errors.PayloadError, match="declares entities"):
        parse_feed(body.encode("utf-16"))


def test_doctype_without_entities_is_fine():
    body = load("empty.xml").replace(
        b"<rss",
        b'<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss',
        1,
    )
    assert parse_feed(body).tag == "rss"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("truncated.xml", "not well-formed XML"),
        ("not_xml.html", "not well-formed XML"),
        ("not_a_feed.xml", "not an RSS, Atom or JSON feed"),
    ],
)
def test_broken_documents_are_payload_errors(server, name, reason):
    serve(server, name)
    with pytest.raises(errors.PayloadError, match=reason):
        make(server).fetch(None)


def test_non_xml_and_empty_bodies(server):
    server.add("GET", PATH, body='{"items": []}', times=1)
    server.add("GET", PATH, body="", times=1)
    server.add("GET", PATH, body="plain words", times=1)
    with pytest.raises(errors.PayloadError, match="not a JSON Feed"):
        make(server).fetch(None)
    with pytest.raises(errors.PayloadError, match="empty"):
        make(server).fetch(None)
    with pytest.raises(errors.PayloadError, match="not well-formed XML"):
        make(server).fetch(None)


def test_oversized_body_refused(server):
    big = b"<rss><channel>" + b" " * (MAX_BODY + 10) + b"</channel></rss>"
    server.add("GET", PATH, body=big)
    with pytest.raises(errors.PayloadError, match="larger than"):
        make(server).fetch(None)


# -- HTTP errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, errors.AuthError),
        (403, errors.AuthError),
        (404, errors.NotFound),
        (500, errors.TransientError),
        (503, errors.TransientError),
    ],
)
def test_status_maps_to_error(server, status, error):
    server.add("GET", PATH, status=status, body="<html>nope</html>")
    with pytest.raises(error, match=f"HTTP {status}"):
        make(server).fetch(None)


def test_429_with_and_without_retry_after(server):
    server.add("GET", PATH, status=429, headers={"Retry-After": "120"}, times=1)
    server.add("GET", PATH, status=429, times=1)
    before = datetime.now(timezone.utc)
    with pytest.raises(errors.RateLimited) as info:
        make(server).fetch(None)
    assert 110 <= (info.value.retry_at - before).total_seconds() <= 130
    with pytest.raises(errors.RateLimited) as info:
        make(server).fetch(None)
    assert info.value.retry_at is None


def test_timeout_is_transient_and_fast(server):
    serve(server, "rss2.xml", delay=1.0)
    started = time.perf_counter()
    with pytest.raises(errors.TransientError, match="no answer"):
        make(server, timeout=0.2).fetch(None)
    assert time.perf_counter() - started < 0.9


# -- helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example/x", "https://a.example/x"),
        ("HTTP://a.example/", "HTTP://a.example/"),
        ("javascript:alert(1)", ""),
        (" JavaScript:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("file:///etc/passwd", ""),
        ("//evil.example/x", ""),
        ("https://", ""),
    ],
)
def test_http_url(value, expected):
    assert http_url(value) == expected


def test_dates_rfc822_and_iso():
    assert parse_any_date("Sat, 21 Nov 2026 09:30:00 +0100") == utc(2026, 11, 21, 8, 30)
    assert parse_any_date("Sat, 21 Nov 2026 09:30:00 GMT") == utc(2026, 11, 21, 9, 30)
    assert parse_any_date("2026-11-21T09:30:00Z") == utc(2026, 11, 21, 9, 30)
    assert parse_any_date("2026-11-21T09:30:00-05:00") == utc(2026, 11, 21, 14, 30)
    with pytest.raises(ValueError):
        parse_any_date("yesterday")


def test_html_to_text():
    assert html_to_text("<p>a</p><script>x()</script><p>b &amp; c</p>") == "a\n\nb & c"
    assert html_to_text("no markup") == "no markup"


# -- redirects (issue 11, finding 7: SSRF) ----------------------------------------------

PUBLIC = "93.184.215.14"


def pretend_public(connector, **extra):
    """Make the connector believe the FakeServer's 127.0.0.1 is a public host."""
    names = {"127.0.0.1": [PUBLIC], **extra}

    def resolver(host, port):
        if host in names:
            return list(names[host])
        return resolve_host(host, port)

    connector.resolver = resolver
    return connector


def test_loopback_feed_follows_its_redirects(server):
    server.add("GET", "/old.xml", status=301, headers={"Location": PATH})
    serve(server, "rss2.xml")
    connector = FeedConnector(base_url=server.url + "/old.xml", timeout=TIMEOUT)
    page = connector.fetch(None)
    assert len(page) == 3
    assert [r.path for r in server.requests] == ["/old.xml", PATH]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local address: refused"),
        ("http://10.0.0.7/feed.xml", "private address: refused"),
        ("http://inward.example:{port}/feed.xml", "loopback address: refused"),
        ("file:///etc/passwd", "only http"),
    ],
)
def test_public_feed_redirecting_inward_is_refused(server, location, reason):
    port = server.url.rsplit(":", 1)[1]
    server.add("GET", "/moved.xml", status=302, headers={"Location": location.format(port=port)})
    serve(server, "rss2.xml")
    connector = FeedConnector(base_url=server.url + "/moved.xml", timeout=TIMEOUT)
    pretend_public(connector, **{"inward.example": ["127.0.0.1"]})
    with pytest.raises(errors.ConnectorError, match=reason) as info:
        connector.fetch(None)
    assert not isinstance(info.value, errors.TransientError)  # refused, not "try later"
    assert [r.path for r in server.requests] == ["/moved.xml"]


def test_public_feed_redirecting_to_public_is_followed(server):
    server.add("GET", "/moved.xml", status=307, headers={"Location": PATH})
    serve(server, "rss2.xml")
    connector = pretend_public(FeedConnector(base_url=server.url + "/moved.xml", timeout=TIMEOUT))
    assert len(connector.fetch(None)) == 3


def test_feed_configured_on_an_internal_address_is_refused():
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/feed.xml"):
        with pytest.raises(errors.ConnectorError, match="refused"):
            FeedConnector(base_url=url, timeout=TIMEOUT).fetch(None)
