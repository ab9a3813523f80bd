"""RSS 2.0 / Atom 1.0 feeds (YouTube channel feeds, Reddit ``.rss``, review sites).

The base URL is the feed's URL. No credentials. Options:

- ``kind``: what an entry becomes, ``post`` (default) or ``comment`` (also
  ``mention``, ``reply``, ``quote``);
- ``limit``: new entries per page (1..500, default 500).

Fetching is a conditional GET through the HTTP choke point: the cursor's ETag and
Last-Modified go out as ``If-None-Match`` / ``If-Modified-Since``; a ``304 Not
Modified`` is an empty page with the cursor unchanged.

Parsing is defensive, because a feed is a document anyone can write:

- lxml with ``resolve_entities=False, no_network=True, load_dtd=False,
  huge_tree=False``: no entity is expanded, no DTD or URL is ever opened;
- a document whose DOCTYPE declares entities (external entities such as
  ``file:///etc/passwd``, billion-laughs bombs) is refused before it is parsed, and
  again after, with :class:`PayloadError`;
- the body is read in chunks and refused past :data:`MAX_BODY` bytes.

Cursor: compact JSON ``{"e": etag, "m": last_modified, "s": [ids...]}`` where ``s``
holds short digests of the entry ids already returned that are still in the feed
(at most :data:`MAX_SEEN`). A feed is a sliding window, so "new" means "in the
document and not seen": a re-fetch returns only the new entries, oldest first,
with no gap and no repeat. When more new entries than ``limit`` are waiting, the
page is full, ``has_more`` is true and the next fetch is unconditional.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import requests
from lxml import etree

from ..errors import ConnectorError, PayloadError, TransientError
from ..http import request
from ..interaction import Author, Interaction, Kind, Network, Page, parse_datetime, utc
from .base import Connector

NETWORK = "feed"
#: the largest feed body we read (bytes, after decompression)
MAX_BODY = 5 * 1024 * 1024
#: the most entries one document may contribute (the newest are kept)
MAX_ENTRIES = 500
#: the most entry digests the cursor remembers
MAX_SEEN = MAX_ENTRIES
#: the longest text kept for an entry (characters)
MAX_TEXT = 20_000
KINDS = ("post", "comment", "mention", "reply", "quote")

ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
YT = "http://www.youtube.com/xml/schemas/2015"
XHTML = "http://www.w3.org/1999/xhtml"

_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_RSS_AUTHOR = re.compile(r"^\s*(\S+@\S+)\s*\((.*)\)\s*$")
_NOT_A_PERSON = re.compile(
    r"^(no-?reply|do-?not-?reply|nobody|noemail|none|null|invalid|example)$", re.IGNORECASE
)
_REDDIT_USER = re.compile(r"^/?u(?:ser)?/([A-Za-z0-9_-]{1,40})/?$")
#: author names networks use for an account that no longer exists
_GONE = frozenset({"[deleted]", "/u/[deleted]", "u/[deleted]", "[removed]"})
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_pis=True,
        dtd_validation=False,
        attribute_defaults=False,
        remove_comments=True,
    )


class FeedConnector(Connector):
    code = "feed"
    label = "RSS / Atom feed"
    #: nothing in a feed is proof of who wrote it
    suggestions_only = True
    credential_keys = ()
    option_keys: ClassVar[tuple[str, ...]] = ("kind", "limit")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("feed: the base URL (the feed's URL) must be http(s)")
        if not self.timeout or self.timeout <= 0:
            raise ValueError("a positive timeout is required")

    # -- options -------------------------------------------------------------------

    @property
    def kind(self) -> Kind:
        value = str(self.options.get("kind") or "post").strip().lower()
        if value not in KINDS:
            raise ConnectorError(f"feed: kind must be one of {', '.join(KINDS)}")
        return Kind(value)

    @property
    def limit(self) -> int:
        try:
            value = int(self.options.get("limit") or MAX_ENTRIES)
        except (TypeError, ValueError):
            value = MAX_ENTRIES
        return max(1, min(MAX_ENTRIES, value))

    # -- reading ---------------------------------------------------------------------

    def check(self) -> Author:
        """Fetch the feed once and describe it (the feed stands for the brand)."""
        body, _etag, _modified = self._get({})
        if body is None:  # pragma: no cover - no conditional headers were sent
            raise PayloadError("feed: the server answered 304 to an unconditional request")
        root = parse_feed(body)
        title, link = _feed_title_link(root, self.base_url)
        return Author(
            network=Network.FEED,
            external_id=self.base_url,
            handle=title or self.base_url,
            display_name=title,
            profile_url=link,
        )

    def fetch(self, cursor: str | None = None) -> Page:
        state = _load_cursor(cursor)
        kind = self.kind  # a bad option fails before any request
        headers = {}
        if state["e"]:
            headers["If-None-Match"] = state["e"]
        if state["m"]:
            headers["If-Modified-Since"] = state["m"]
        body, etag, modified = self._get(headers)
        if body is None:  # 304 Not Modified
            return Page(items=(), cursor=cursor, has_more=False)
        root = parse_feed(body)
        del body
        entries, skipped, problems = self._entries(root, kind)
        del root

        seen = set(state["s"])
        in_doc: dict[str, None] = {}  # digests of this document's entries, in order
        fresh: list[tuple[str, Interaction]] = []
        for item in entries:
            digest = _digest(item.external_id)
            if digest in in_doc:
                continue  # the same id twice in one document
            in_doc[digest] = None
            if digest not in seen:
                fresh.append((digest, item))
        del entries
        fresh.sort(key=lambda pair: pair[1].created_at)  # oldest first, stable
        has_more = len(fresh) > self.limit
        fresh = fresh[: self.limit]

        returned = {digest for digest, _item in fresh}
        kept = [d for d in in_doc if d in seen or d in returned][:MAX_SEEN]
        new_state = {"e": "", "m": "", "s": kept}
        if not has_more:  # only skip the download next time when nothing is waiting
            new_state["e"], new_state["m"] = etag, modified
        return Page(
            items=tuple(item for _digest, item in fresh),
            cursor=json.dumps(new_state, separators=(",", ":")),
            has_more=has_more,
            skipped=skipped,
            problems=tuple(problems),
        )

    # -- HTTP ------------------------------------------------------------------------

    def _get(self, headers: dict[str, str]) -> tuple[bytes | None, str, str]:
        headers = {
            "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, "
            "text/xml;q=0.8, */*;q=0.1",
            **headers,
        }
        response = request(
            self.session,
            "GET",
            self.base_url,
            timeout=self.timeout,
            network=NETWORK,
            headers=headers,
            stream=True,
        )
        try:
            if response.status_code == 304:
                return None, "", ""
            if response.status_code != 200:
                raise PayloadError(f"feed: unexpected HTTP {response.status_code}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_BODY:
                raise PayloadError(f"feed: the document is larger than {MAX_BODY} bytes")
            chunks = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_BODY:
                    raise PayloadError(f"feed: the document is larger than {MAX_BODY} bytes")
                chunks.append(chunk)
            etag = response.headers.get("ETag", "")[:200]
            modified = response.headers.get("Last-Modified", "")[:100]
        except PayloadError:
            raise
        except requests.RequestException as exc:  # dropped while reading the body
            raise TransientError(f"feed: reading the body failed ({type(exc).__name__})") from exc
        finally:
            response.close()
        return b"".join(chunks), etag, modified

    # -- entries ---------------------------------------------------------------------

    def _entries(
        self, root: etree._Element, kind: Kind
    ) -> tuple[list[Interaction], int, list[str]]:
        fallback = _feed_author(root, self.base_url)
        items: list[Interaction] = []
        skipped = 0
        problems: list[str] = []
        for number, element in enumerate(_entry_elements(root), 1):
            try:
                items.append(_entry(element, kind, self.base_url, fallback))
            except ValueError as exc:
                skipped += 1
                if len(problems) < 20:
                    problems.append(f"entry {number}: {exc}")
        if len(items) > MAX_ENTRIES:
            items.sort(key=lambda item: item.created_at, reverse=True)
            dropped = len(items) - MAX_ENTRIES
            del items[MAX_ENTRIES:]
            skipped += dropped
            problems.append(f"{dropped} older entries beyond {MAX_ENTRIES} left out")
        return items, skipped, problems


# -- parsing ---------------------------------------------------------------------------


def parse_feed(body: bytes) -> etree._Element:
    """Parse a feed document safely, or raise :class:`PayloadError` saying why not."""
    if not body or not body.strip():
        raise PayloadError("feed: the document is empty")
    if len(body) > MAX_BODY:
        raise PayloadError(f"feed: the document is larger than {MAX_BODY} bytes")
    _refuse_entities(body)
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        reason = str(exc.msg or "syntax error").splitlines()[0][:120]
        raise PayloadError(f"feed: the document is not well-formed XML ({reason})") from exc
    except ValueError as exc:  # e.g. an encoding declaration lxml refuses
        raise PayloadError(f"feed: the document cannot be parsed ({exc})") from exc
    if root is None:
        raise PayloadError("feed: the document has no root element")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise PayloadError("feed: the DOCTYPE declares entities (refused: entity declarations)")
    if root.tag not in ("rss", f"{{{ATOM}}}feed", f"{{{RDF}}}RDF"):
        raise PayloadError(f"feed: not an RSS or Atom feed (root element {_local(root.tag)!r})")
    return root


def _refuse_entities(body: bytes) -> None:
    """Refuse a DOCTYPE that declares entities, before any parser sees it."""
    head = body
    if b"\x00" in body[:4] or body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        for encoding in ("utf-16", "utf-32"):
            try:
                head = body.decode(encoding).encode("utf-8", "replace")
                break
            except UnicodeDecodeError:
                continue
    doctype = _DOCTYPE.search(head)
    if doctype and _ENTITY.search(head, doctype.start()):
        raise PayloadError(
            "feed: the DOCTYPE declares entities (refused: external entities and entity "
            "expansion are never processed)"
        )


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _entry_elements(root: etree._Element) -> Iterable[etree._Element]:
    if root.tag == f"{{{ATOM}}}feed":
        return root.iterchildren(f"{{{ATOM}}}entry")
    if root.tag == f"{{{RDF}}}RDF":
        return root.iterchildren(f"{{{RSS1}}}item")
    channel = root.find("channel")
    return channel.iterchildren("item") if channel is not None else ()


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _first(element: etree._Element, *paths: str) -> etree._Element | None:
    for path in paths:
        found = element.find(path)
        if found is not None:
            return found
    return None


def http_url(value: str, base: str = "") -> str:
    """``value`` as an absolute http(s) URL, or ``""`` (javascript:, data:, ...)."""
    value = (value or "").strip()
    if not value or any(ch in value for ch in "\x00\r\n\t "):
        return ""
    if base and not value.lower().startswith(("http://", "https://")):
        try:
            value = urljoin(base, value)
        except ValueError:
            return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return value


def _date(element: etree._Element) -> datetime:
    for path in (
        f"{{{ATOM}}}published",
        f"{{{ATOM}}}updated",
        "pubDate",
        f"{{{DC}}}date",
        f"{{{ATOM}}}modified",
    ):
        value = _text(element.find(path))
        if value:
            return parse_any_date(value)
    raise ValueError("no date")


def parse_any_date(value: str) -> datetime:
    """RFC 822 (RSS ``pubDate``) or ISO 8601 (Atom), always timezone-aware UTC."""
    value = value.strip()
    try:
        return parse_datetime(value)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        parsed = None
    if parsed is None:
        raise ValueError(f"unreadable date {value[:40]!r}")
    return utc(parsed)


def _link(element: etree._Element, base: str) -> str:
    for link in element.iterchildren(f"{{{ATOM}}}link"):
        if (link.get("rel") or "alternate") == "alternate":
            url = http_url(link.get("href") or "", base)
            if url:
                return url
    url = http_url(_text(element.find("link")) or _text(element.find(f"{{{RSS1}}}link")), base)
    if url:
        return url
    guid = element.find("guid")
    if guid is not None and (guid.get("isPermaLink") or "true").lower() == "true":
        return http_url(_text(guid), base)
    return ""


def _content_text(element: etree._Element | None) -> str:
    """Plain text of a title / summary / content element; markup is dropped."""
    if element is None:
        return ""
    kind = (element.get("type") or "").lower()
    if kind == "xhtml" or len(element):
        parts: list[str] = []
        _walk(element, parts)
        return _tidy("".join(parts))
    raw = element.text or ""
    if kind in ("text", "text/plain"):
        return _tidy(raw)
    # RSS descriptions and Atom type="html" carry escaped HTML: strip it
    return html_to_text(raw)


_SKIP_XML = frozenset({"script", "style", "template", "noscript", "iframe", "object"})


def _walk(node: etree._Element, parts: list[str]) -> None:
    if node.text:
        parts.append(node.text)
    for child in node:
        if isinstance(child.tag, str) and _local(child.tag) not in _SKIP_XML:
            _walk(child, parts)
        if child.tail:
            parts.append(child.tail)


class _Stripper(HTMLParser):
    _SKIP = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
    _BREAK = frozenset({"br", "p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "tr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Text of an HTML fragment: tags, scripts and styles dropped, whitespace tidied."""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    stripper = _Stripper()
    stripper.feed(html)
    stripper.close()
    return _tidy("".join(stripper.parts))


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _entry(element: etree._Element, kind: Kind, base: str, fallback: Author) -> Interaction:
    atom = element.tag == f"{{{ATOM}}}entry"
    url = _link(element, base)
    if atom:
        external_id = _text(element.find(f"{{{ATOM}}}id"))
        title_el = element.find(f"{{{ATOM}}}title")
        summary_el = _first(element, f"{{{ATOM}}}summary", f"{{{ATOM}}}content")
    else:
        external_id = _text(element.find("guid")) or element.get(f"{{{RDF}}}about", "")
        title_el = _first(element, "title", f"{{{RSS1}}}title")
        summary_el = _first(
            element, "description", f"{{{RSS1}}}description", f"{{{CONTENT}}}encoded"
        )
    if summary_el is None:
        summary_el = element.find(f"{{{MEDIA}}}group/{{{MEDIA}}}description")
    external_id = external_id.strip() or url
    if not external_id:
        raise ValueError("no id and no http(s) link")
    if len(external_id) > 255:
        external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
    created_at = _date(element)
    title = _content_text(title_el)
    summary = _content_text(summary_el)
    text = "\n\n".join(part for part in (title, summary if summary != title else "") if part)
    return Interaction(
        network=Network.FEED,
        external_id=external_id,
        kind=kind,
        author=_entry_author(element, base) or fallback,
        created_at=created_at,
        text=text[:MAX_TEXT],
        url=url,
        raw_kind="entry" if atom else "item",
    )


def _person(name: str, uri: str, email: str, base: str) -> Author | None:
    name = " ".join(name.split())[:200]
    if name.lower() in _GONE:
        name = ""
    profile = http_url(uri, base)
    email = email.strip()
    if not _real_email(email):
        email = ""
    handle = name
    reddit = _REDDIT_USER.match(name)
    if reddit:
        handle = reddit.group(1)
    elif profile:
        path = urlsplit(profile).path
        match = _REDDIT_USER.match(path)
        if match and "reddit" in (urlsplit(profile).hostname or ""):
            handle = match.group(1)
    if not handle:
        handle = email.split("@", 1)[0] if email else ""
    external_id = profile or name or email
    if not external_id:
        return None
    return Author(
        network=Network.FEED,
        external_id=external_id,
        handle=handle or external_id,
        display_name=name if not reddit else handle,
        profile_url=profile,
        email=email,
    )


def _real_email(value: str) -> bool:
    if not value or len(value) > 254 or not _EMAIL.match(value):
        return False
    local, domain = value.rsplit("@", 1)
    if _NOT_A_PERSON.match(local):
        return False
    return domain.lower() not in ("example.com", "example.org", "example.net", "localhost")


def _atom_person(container: etree._Element, base: str) -> Author | None:
    person = container.find(f"{{{ATOM}}}author")
    if person is None:
        return None
    return _person(
        _text(person.find(f"{{{ATOM}}}name")),
        _text(person.find(f"{{{ATOM}}}uri")),
        _text(person.find(f"{{{ATOM}}}email")),
        base,
    )


def _entry_author(element: etree._Element, base: str) -> Author | None:
    author = _atom_person(element, base)
    if author is not None:
        return author
    creator = _text(element.find(f"{{{DC}}}creator"))
    if creator:
        return _person(creator, "", "", base)
    raw = _text(element.find("author"))
    if raw:
        match = _RSS_AUTHOR.match(raw)
        if match:  # "email@example.com (Name)"
            return _person(match.group(2), "", match.group(1), base)
        if "@" in raw and " " not in raw:
            return _person("", "", raw, base) or None
        return _person(raw, "", "", base)
    return None


def _feed_title_link(root: etree._Element, base: str) -> tuple[str, str]:
    if root.tag == f"{{{ATOM}}}feed":
        return _content_text(root.find(f"{{{ATOM}}}title")), _link(root, base)
    channel = root.find("channel")
    if channel is None:
        channel = root.find(f"{{{RSS1}}}channel")
    if channel is None:
        return "", ""
    title = _content_text(_first(channel, "title", f"{{{RSS1}}}title"))
    return title, _link(channel, base)


def _feed_author(root: etree._Element, base: str) -> Author:
    """Who an entry without an author is attributed to: the feed's author, or the feed."""
    if root.tag == f"{{{ATOM}}}feed":
        author = _atom_person(root, base)
        if author is not None:
            return author
    title, link = _feed_title_link(root, base)
    return Author(
        network=Network.FEED,
        external_id=base,
        handle=title or base,
        display_name=title,
        profile_url=link,
    )


# -- cursor ----------------------------------------------------------------------------


def _digest(external_id: str) -> str:
    raw = hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).digest()[:9]
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"e": "", "m": "", "s": []}
    if not cursor:
        return state
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise ConnectorError("feed: the cursor is not one this connector wrote") from exc
    if not isinstance(data, dict):
        raise ConnectorError("feed: the cursor is not one this connector wrote")
    etag, modified, seen = data.get("e", ""), data.get("m", ""), data.get("s", [])
    if not isinstance(etag, str) or not isinstance(modified, str) or not isinstance(seen, list):
        raise ConnectorError("feed: the cursor is not one this connector wrote")
    state["e"], state["m"] = etag, modified
    state["s"] = [s for s in seen if isinstance(s, str)][:MAX_SEEN]
    return state
