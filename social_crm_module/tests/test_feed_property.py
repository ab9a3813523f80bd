"""Property: any well-formed feed whose N entries each carry an id or a link yields
exactly N items, paged or not, and nothing more on a re-fetch (issue 18).

The documents are built with lxml (XML) and ``json`` (JSON Feed) from generated
entries, so they are well-formed by construction; titles and names are arbitrary
text, including ``&``, ``<`` and characters outside the chosen encoding.
"""

import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from social_crm_module.connectors.feed import ATOM, RDF, RSS1, FeedConnector
from social_crm_module.testing import FakeServer

START = datetime(2020, 1, 1, tzinfo=timezone.utc)
SERVER = FakeServer()


def setup_module():
    SERVER.start()


def teardown_module():
    SERVER.stop()


FORMATS = ("rss2", "atom", "rdf", "json")
# text people write: XML 1.0 characters without control characters (C1 controls are
# never text: a feed labelled iso-8859-1 is read as windows-1252, as browsers do)
TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=40,
)


@st.composite
def entries(draw):
    count = draw(st.integers(0, 20))
    result = []
    for number in range(count):
        has = draw(st.sampled_from(("id", "link", "both")))
        slug = draw(st.from_regex(r"[a-z0-9_-]{0,12}", fullmatch=True))
        seconds = draw(st.none() | st.integers(0, 10**8))
        result.append(
            {
                "id": f"tag:feed.example,2026:{number}:{slug}" if has != "link" else "",
                "link": f"https://feed.example/{number}/{slug}" if has != "id" else "",
                "title": draw(TEXT),
                "author": draw(st.none() | TEXT),
                "date": None if seconds is None else START + timedelta(seconds=seconds),
            }
        )
    return result


def _sub(parent, tag, text=None, **attrs):
    child = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        child.text = text
    return child


def build(kind, items, encoding):
    if kind == "json":
        return json.dumps(json_feed(items)).encode(), "application/feed+json"
    root = {"rss2": rss2, "atom": atom, "rdf": rdf}[kind](items)
    return etree.tostring(root, xml_declaration=True, encoding=encoding), "application/xml"


def json_feed(items):
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "P", "items": []}
    for item in items:
        entry = {"title": item["title"], "content_text": item["title"]}
        if item["id"]:
            entry["id"] = item["id"]
        if item["link"]:
            entry["url"] = item["link"]
        if item["author"] is not None:
            entry["authors"] = [{"name": item["author"]}]
        if item["date"]:
            entry["date_published"] = item["date"].isoformat()
        doc["items"].append(entry)
    return doc


def rss2(items):
    root = etree.Element("rss", version="2.0")
    parent = _sub(root, "channel")
    _sub(parent, "title", "P")
    for item in items:
        el = _sub(parent, "item")
        _sub(el, "title", item["title"])
        if item["id"]:
            _sub(el, "guid", item["id"], isPermaLink="false")
        if item["link"]:
            _sub(el, "link", item["link"])
        if item["author"] is not None:
            _sub(el, "author", item["author"])
        if item["date"]:
            _sub(el, "pubDate", item["date"].strftime("%a, %d %b %Y %H:%M:%S +0000"))
    return root


def atom(items):
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _sub(root, f"{{{ATOM}}}title", "P")
    for item in items:
        el = _sub(root, f"{{{ATOM}}}entry")
        _sub(el, f"{{{ATOM}}}title", item["title"])
        if item["id"]:
            _sub(el, f"{{{ATOM}}}id", item["id"])
        if item["link"]:
            _sub(el, f"{{{ATOM}}}link", href=item["link"])
        if item["author"] is not None:
            _sub(_sub(el, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", item["author"])
        if item["date"]:
            _sub(el, f"{{{ATOM}}}updated", item["date"].isoformat())
    return root


def rdf(items):
    dc = "http://purl.org/dc/elements/1.1/"
    root = etree.Element(f"{{{RDF}}}RDF", nsmap={"rdf": RDF, None: RSS1, "dc": dc})
    _sub(_sub(root, f"{{{RSS1}}}channel"), f"{{{RSS1}}}title", "P")
    for item in items:
        attrs = {f"{{{RDF}}}about": item["id"]} if item["id"] else {}
        el = _sub(root, f"{{{RSS1}}}item", **attrs)
        _sub(el, f"{{{RSS1}}}title", item["title"])
        if item["link"]:
            _sub(el, f"{{{RSS1}}}link", item["link"])
        if item["author"] is not None:
            _sub(el, f"{{{dc}}}creator", item["author"])
        if item["date"]:
            _sub(el, f"{{{dc}}}date", item["date"].isoformat())
    return root


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    kind=st.sampled_from(FORMATS),
    items=entries(),
    encoding=st.sampled_from(("utf-8", "utf-16", "iso-8859-1", "windows-1252")),
    limit=st.integers(3, 30) | st.just(500),
)
def test_n_entries_with_an_id_or_a_link_give_n_items(kind, items, encoding, limit):
    body, content_type = build(kind, items, encoding)
    SERVER.reset()
    SERVER.add("GET", "/feed", body=body, headers={"Content-Type": content_type})
    connector = FeedConnector(base_url=SERVER.url + "/feed", options={"limit": limit}, timeout=5)

    pages = list(connector.iter_pages(None))
    got = [item for page in pages for item in page]
    assert all(page.skipped == 0 and not page.problems for page in pages)
    assert len(got) == len(items)
    assert {item.external_id for item in got} == {i["id"] or i["link"] for i in items}
    if kind in ("json", "atom"):  # text by definition (RSS titles may carry HTML)
        texts = sorted("".join(item.text.split()) for item in got)
        assert texts == sorted("".join(i["title"].split()) for i in items)

    again = connector.fetch(pages[-1].cursor)  # the same document again
    assert (len(again), again.has_more) == (0, False)
