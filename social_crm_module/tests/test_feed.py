"""RSS 2.0 / Atom 1.0 feed connector against feed-shaped fixtures on 127.0.0.1."""

import hashlib
import json
import resource
import time
from datetime import datetime, timezone
from html.entities import html5
from pathlib import Path

import pytest

from social_crm_module import errors
from social_crm_module.connectors import connector_class, make_connector
from social_crm_module.connectors import feed as feed_module
from social_crm_module.connectors.feed import (
    MAX_BODY,
    FeedConnector,
    html_to_text,
    parse_any_date,
    parse_feed,
)
from social_crm_module.http import resolve_host
from social_crm_module.interaction import Kind, Network
from social_crm_module.matching import REASON_SAME_NAME, Candidate, PartnerIndex
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
    assert grinder.text.endswith("Support answered quickly though.\nTwo stars.")
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


# -- feeds as they are in the wild (issue 18) -------------------------------------------


def test_shop_reviews_with_html_entities_and_no_dates(server):
    serve(server, "shop_reviews.rss")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    page = make(server).fetch(None)

    # no dates: all seen now; oldest first means the document's order reversed
    assert ids(page) == [
        "review-7779",
        "https://shop.example/acme/reviews/7780?ref=rss&utm_source=feed",
        "review-7781",
    ]
    assert page.skipped == 1
    assert page.problems == ("entry 3 skipped: no id and no http(s) link",)
    mugs, grinder, roast = page.items
    assert {item.created_at for item in page} == {roast.created_at}
    assert before <= roast.created_at <= datetime.now(timezone.utc)
    assert roast.text == (
        "Ethiopian roast \u2014 5 stars\u2026\n\n"
        "Caf\u00e9 quality at home. Tom & Jerry approve \u2615"
    )
    assert roast.author.display_name == "Ren\u00e9e B."
    assert roast.url == "https://shop.example/acme/reviews/7781"
    assert grinder.text == (
        "Grinder \u2013 \u00abtoo loud\u00bb & slow\n\n"
        "Two stars \u2013 &bogus; entity \u2013 and a cp1252 dash"
    )
    assert grinder.author.display_name == "Marc \u00d8stergaard"
    assert grinder.url == "https://shop.example/acme/reviews/7780?ref=rss&utm_source=feed"
    assert mugs.text == "Mugs\n\nNice mugs & saucers"  # white space folded, as everywhere
    assert mugs.author.handle == "Acme Coffee \u2014 Customer reviews"  # the feed itself


def test_reddit_comment_atom_feed(server):
    serve(server, "reddit_comments.atom", headers={"Content-Type": "application/atom+xml"})
    post, comment, deleted = make(server, kind="comment").fetch(None).items
    assert (post.external_id, comment.external_id) == ("t3_1gxyz12", "t1_lz9k2ab")
    assert comment.created_at == utc(2026, 11, 21, 19, 30)  # only <updated>
    assert comment.text == (
        "/u/lucas_m on Acme grinder: worth it?\n\n"
        "Mine is fine after the firmware update & a cleaning."
    )
    assert comment.author.handle == "lucas_m"
    assert comment.author.profile_url == "https://www.reddit.com/user/lucas_m"
    assert deleted.author.handle == "Acme grinder: worth it? : Coffee"  # the thread


def test_json_feed_1_1(server):
    server.add(
        "GET",
        PATH,
        body=load("jsonfeed_1_1.json"),
        headers={"Content-Type": "application/feed+json"},
    )
    before = datetime.now(timezone.utc).replace(microsecond=0)
    page = make(server).fetch(None)
    assert ids(page) == [
        "https://notes.example/2026/11/email-author",
        "https://notes.example/2026/11/acme-v60",
        "micro-2026-11-21-2",
        "micro-undated",
    ]
    assert page.skipped == 2
    assert page.problems == (
        "entry 4 skipped: no id and no http(s) link",
        "entry 5 skipped: not a JSON object",
    )
    claim, v60, micro, undated = page.items
    assert v60.created_at == utc(2026, 11, 21, 6, 45)
    assert v60.text == "Acme beans in a V60\n\nBright and sweet \u2014 recommended."
    assert v60.raw_kind == "item"
    assert (v60.author.display_name, v60.author.profile_url) == (
        "Priya Natarajan",
        "https://notes.example/priya",
    )
    assert micro.url == server.url + "/micro/2026-11-21-2"  # relative to the feed
    assert micro.created_at == utc(2026, 11, 21, 12, 0)
    assert micro.author.display_name == "Brewing Notes"  # the feed's authors
    assert undated.created_at >= before
    assert (claim.author.handle, claim.author.profile_url, claim.author.email) == (
        "Jane Doe",
        "",  # mailto: is no profile
        "",
    )


def test_json_feed_1_0_sniffed_without_its_content_type(server):
    server.add("GET", PATH, body=load("jsonfeed_1_0.json"), headers={"Content-Type": "text/plain"})
    first, second = make(server).fetch(None).items
    assert (first.external_id, second.external_id) == ("1", "2")  # 1.0 allowed numbers
    assert first.text == "First post & hello"
    assert first.author.display_name == "Guest Writer"
    assert second.author.display_name == "Sam Lee"  # the feed's author (1.0 spelling)
    assert second.url == ""


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', "no list of items"),
        (b'["https://jsonfeed.org/version/1.1"]', "not a JSON object"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_broken_json_feeds_are_payload_errors(server, body, reason):
    server.add("GET", PATH, body=body, headers={"Content-Type": "application/feed+json"})
    with pytest.raises(errors.PayloadError, match=reason):
        make(server).fetch(None)


def test_atom_0_3(server):
    serve(server, "atom03.xml", headers={"Content-Type": "application/atom+xml"})
    espresso, guest = make(server).fetch(None).items
    assert espresso.external_id == "tag:diary.example,2026:/2026/11/acme-espresso"
    assert espresso.created_at == utc(2026, 11, 20, 8, 0)  # <issued>
    assert espresso.text == "Dialing in the Acme espresso blend\n\n18 g in, 36 g out, 28 s. Lovely."
    assert espresso.url == "https://diary.example/2026/11/acme-espresso"
    assert espresso.raw_kind == "entry"
    noor = espresso.author  # the feed's author, <url> read as <uri>, no email
    assert (noor.display_name, noor.profile_url, noor.email) == (
        "Noor Haddad",
        "https://diary.example/about",
        "",
    )
    assert guest.created_at == utc(2026, 11, 21, 8, 0)  # only <modified>
    assert guest.text == "A guest post\n\nPlain summary <not a tag>"
    assert guest.url == server.url + "/2026/11/guest"
    assert guest.author.display_name == "Guest Barista"


def test_rss_1_0_rdf(server):
    serve(server, "rss1_rdf.xml", headers={"Content-Type": "application/rdf+xml"})
    roast, subscription = make(server).fetch(None).items
    assert roast.external_id == roast.url == "https://forum.example/t/811"
    assert roast.created_at == utc(2026, 11, 20, 8, 0)
    assert roast.text == "Roast dates on Acme bags\n\nMine said roasted 3 days ago."
    assert roast.author.display_name == "Mo Adeyemi"
    assert subscription.author.handle == "kettle_kid"


def test_rss_0_90_items_are_read_and_dated_when_first_seen(server):
    serve(server, "rss090.rdf")
    page = make(server).fetch(None)
    assert ids(page) == ["https://oldnews.example/acme-race", "https://oldnews.example/acme-shop"]
    assert page.items[0].author.display_name == "Old news"


def test_rss_2_0_with_a_default_namespace(server):
    serve(server, "rss2_namespaced.xml")
    (item,) = make(server).fetch(None).items
    assert item.external_id == "https://log.example/2026/11/21"
    assert item.created_at == utc(2026, 11, 21, 6, 0)
    assert item.text == "Acme green beans arrived"
    assert item.author.display_name == "Ines Carvalho"


WINDOWS_1252_TITLE = "\u201cTr\u00e8s bon caf\u00e9\u201d, livr\u00e9 \u00e0 l\u2019heure"


@pytest.mark.parametrize(
    ("declaration", "content_type"),
    [
        ('encoding="windows-1252"', "application/rss+xml"),  # the XML declaration
        ('encoding="iso-8859-1"', "application/rss+xml"),  # latin-1 label, 1252 bytes
        ("", "application/rss+xml; charset=windows-1252"),  # the HTTP header only
        ('encoding="UTF-8"', "text/xml; charset=Windows-1252"),  # header beats a wrong one
        ("", "application/rss+xml"),  # nothing said: detected
        ('encoding="UTF-8"', "application/rss+xml"),  # a wrong declaration: detected
    ],
)
def test_windows_1252_feed(server, declaration, content_type):
    body = load("windows1252.xml").replace(b'encoding="windows-1252"', declaration.encode())
    server.add("GET", PATH, body=body, headers={"Content-Type": content_type})
    (item,) = make(server).fetch(None).items
    assert item.text.startswith(WINDOWS_1252_TITLE + "\n\n")
    assert item.text.endswith("cr\u00e8me br\u00fbl\u00e9e \u2013 5 \u20ac")
    assert item.author.display_name == "Am\u00e9lie Poulain"


def test_utf8_bytes_win_over_a_wrong_single_byte_label(server):
    body = load("windows1252.xml").decode("cp1252")
    body = body.encode("utf-8")  # still declares windows-1252
    server.add("GET", PATH, body=body, headers={"Content-Type": "text/xml; charset=iso-8859-1"})
    (item,) = make(server).fetch(None).items
    assert item.text.startswith(WINDOWS_1252_TITLE)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_feeds(server, encoding):
    text = load("windows1252.xml").decode("cp1252").replace("windows-1252", encoding)
    server.add("GET", PATH, body=text.encode(encoding))
    (item,) = make(server).fetch(None).items
    assert item.text.startswith(WINDOWS_1252_TITLE)


def test_control_characters_and_bad_references_do_not_sink_a_feed(server):
    body = load("rss2.xml").replace(b"Great roast", b"Great\x0b roast&#0;&#xD800;", 1)
    server.add("GET", PATH, body=body)
    page = make(server).fetch(None)
    assert page.items[-1].text.startswith("Great roast\ufffd\ufffd, fast delivery")


def test_html_entities_never_open_the_door_to_declared_ones():
    # an HTML name is rewritten to a character reference, never looked up anywhere;
    # a name declared in the DOCTYPE is still refused as a declaration
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#38;#60;script&#62;">]>'
        b"<rss><channel><title>a&nbsp;b</title></channel></rss>"
    )
    with pytest.raises(errors.PayloadError, match="declares entities"):
        parse_feed(body)


def test_every_html5_name_reads_as_its_characters():
    names = sorted({name.rstrip(";") for name in html5 if name.endswith(";")})
    title = "".join(f"&{name};" for name in names)
    root = parse_feed(f"<rss><channel><title>{title}</title></channel></rss>".encode())
    expected = "".join(html5[name + ";"] for name in names)
    assert root.findtext("channel/title") == expected


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


# -- identity (issue 11, finding 6: a feed proves nothing) ------------------------------


def test_an_address_in_an_entry_is_never_proof_of_identity(server):
    serve(server, "rss2.xml")  # "douglas.fletcher@mail.test (Douglas F.)"
    server.add("GET", "/atom.xml", body=load("atom.xml"))  # <email>lucas.moreau@...
    grinder = make(server).fetch(None).items[1]
    lucas = FeedConnector(base_url=server.url + "/atom.xml", timeout=TIMEOUT).fetch(None).items[1]
    index = PartnerIndex(
        [
            Candidate(7, "Douglas Fletcher", email="douglas.fletcher@mail.test"),
            Candidate(8, "Lucas Moreau", email="lucas.moreau@lucas.example"),
        ]
    )
    assert index.match(grinder.author) is None  # the address matched nobody
    match = index.match(lucas.author)  # the same name is a suggestion, nothing more
    assert (match.partner_id, match.reason, match.confirmed) == (8, REASON_SAME_NAME, False)


def test_the_same_author_name_in_two_feeds_is_two_authors(server):
    serve(server, "rss2.xml")
    server.add("GET", "/other.xml", body=load("rss2.xml"))
    here = make(server).fetch(None).items[2].author
    there = FeedConnector(base_url=server.url + "/other.xml", timeout=TIMEOUT)
    there = there.fetch(None).items[2].author
    assert here.handle == there.handle == "Hannah K."
    assert here.external_id != there.external_id
    assert here.external_id == scoped(server, "Hannah K.")
    assert there.external_id == scoped(server, "Hannah K.", "/other.xml")


def test_every_skipped_entry_says_why_and_is_counted(server):
    nameless = "".join(f"<item><title>t{n}</title></item>" for n in range(25))
    body = f"<rss><channel><title>S</title>{nameless}<item><guid>ok</guid></item></channel></rss>"
    server.add("GET", PATH, body=body)
    page = make(server).fetch(None)
    assert ids(page) == ["ok"]
    assert page.skipped == 25
    assert page.problems[0] == "entry 1 skipped: no id and no http(s) link"
    assert page.problems[19] == "entry 20 skipped: no id and no http(s) link"
    assert page.problems[20:] == ("5 more entries skipped",)


def test_a_noreply_address_is_nobody(server):
    body = (
        "<rss><channel><title>Shop</title><item><guid>n-1</guid>"
        "<author>noreply@shop.example</author></item>"
        "<item><guid>n-2</guid><author>jane@shop.example</author></item></channel></rss>"
    )
    server.add("GET", PATH, body=body)
    jane, nobody = make(server).fetch(None).items
    assert nobody.author.external_id == server.url + PATH  # the feed itself
    assert (jane.author.handle, jane.author.email) == ("jane", "")
    digest = hashlib.sha256(b"jane@shop.example").hexdigest()
    assert jane.author.external_id == scoped(server, f"email-sha256:{digest}")
    assert "jane@" not in jane.author.external_id
