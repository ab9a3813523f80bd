"""Feeds as they are in the wild: RSS 0.9x / 1.0 (RDF) / 2.0, Atom 0.3 / 1.0 and
JSON Feed 1.0 / 1.1 (YouTube channel feeds, Reddit ``.rss``, review sites, blogs).

The base URL is the feed's URL. No credentials. Options:

- ``kind``: what an entry becomes, ``post`` (default) or ``comment`` (also
  ``mention``, ``reply``, ``quote``);
- ``limit``: new entries per page (1..500, default 500).

Fetching is a conditional GET through the HTTP choke point: the cursor's ETag and
Last-Modified go out as ``If-None-Match`` / ``If-Modified-Since``; a ``304 Not
Modified`` is an empty page with the cursor unchanged. Redirects are followed by
hand, at most :data:`~..http.MAX_HOPS`, and every hop's URL is checked first
(:func:`~..http.check_url_target`): http(s) only, public addresses only, loopback
only when the feed's own URL is on loopback.

Parsing is defensive, because a feed is a document anyone can write:

- lxml with ``resolve_entities=False, no_network=True, load_dtd=False,
  huge_tree=False``: no entity is expanded, no DTD or URL is ever opened;
- a document whose DOCTYPE declares entities (external entities such as
  ``file:///etc/passwd``, billion-laughs bombs) is refused before it is parsed, and
  again after, with :class:`PayloadError`;
- HTML named references that XML does not define (``&nbsp;``, ``&mdash;``: every
  HTML5 name) are rewritten to numeric character references before parsing, an
  unknown name or a bare ``&`` becomes text; nothing is ever looked up in a DTD;
- the character set comes from a byte-order mark, else the bytes when they are
  valid UTF-8, else the HTTP ``charset``, the XML declaration, detection
  (``charset_normalizer``, which ``requests`` installs, or ``chardet``, which Odoo
  requires) and finally windows-1252; the document is parsed as UTF-8;
- the body is read in chunks and refused past :data:`MAX_BODY` bytes.

Entries without a date, or with one nobody can read, are dated when the connector
first saw them; that moment is kept in the cursor while the entry is in the feed.

Authors: a feed confirms nothing. An email address in an entry is never passed on
(``Author.email`` stays empty, so matching only ever suggests), and an author's
``external_id`` is scoped to the feed (``feed:<digest of the feed URL>:<uri or
name>``): the same name in two feeds is two people until someone links them.

Cursor: compact JSON ``{"e": etag, "m": last_modified, "s": [ids...], "d": {id:
epoch}}`` where ``s`` holds short digests of the entry ids already returned that
are still in the feed (at most :data:`MAX_SEEN`) and ``d`` the first-seen time of
the dateless entries still in the feed (at most as many). A feed is a sliding
window, so "new" means "in the document and not seen": a re-fetch returns only the
new entries, oldest first, with no gap and no repeat. When more new entries than
``limit`` are waiting, the page is full, ``has_more`` is true and the next fetch is
unconditional.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from html.entities import html5
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from lxml import etree

from ..errors import ConnectorError, PayloadError, TransientError
from ..http import request_following, resolve_host
from ..interaction import Author, Interaction, Kind, Network, Page, parse_datetime, utc
from ..text import html_to_text, tidy
from ..urls import clean_url
from .base import Connector

try:  # a dependency of requests >= 2.26
    from charset_normalizer import from_bytes as _detect_normalizer
except ImportError:  # pragma: no cover - depends on the installation
    _detect_normalizer = None
try:  # required by Odoo itself
    from chardet import detect as _detect_chardet
except ImportError:  # pragma: no cover - depends on the installation
    _detect_chardet = None

NETWORK = "feed"
#: the largest feed body we read (bytes, after decompression)
MAX_BODY = 5 * 1024 * 1024
#: the most entries one document may contribute (the newest are kept)
MAX_ENTRIES = 500
#: the most entry digests the cursor remembers
MAX_SEEN = MAX_ENTRIES
#: the longest text kept for an entry (characters)
MAX_TEXT = 20_000
#: the most per-entry problems a page reports (the rest are counted)
MAX_PROBLEMS = 20
KINDS = ("post", "comment", "mention", "reply", "quote")

ATOM = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
RSS1 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
YT = "http://www.youtube.com/xml/schemas/2015"
XHTML = "http://www.w3.org/1999/xhtml"
JSONFEED = ("https://jsonfeed.org/version/1", "http://jsonfeed.org/version/1")

_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_RSS_AUTHOR = re.compile(r"^\s*(\S+@\S+)\s*\((.*)\)\s*$")
_NOT_A_PERSON = re.compile(
    r"^(no-?reply|do-?not-?reply|nobody|noemail|none|null|invalid|example)$", re.IGNORECASE
)
_REDDIT_USER = re.compile(r"^/?u(?:ser)?/([A-Za-z0-9_-]{1,40})/?$")
#: author names networks use for an account that no longer exists
_GONE = frozenset({"[deleted]", "/u/[deleted]", "u/[deleted]", "[removed]"})


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


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry as read from any format, before it is dated and becomes an item."""

    external_id: str
    url: str
    text: str
    created_at: datetime | None
    author: Author | None
    raw_kind: str


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed feed: its title, link, fallback author and its entries (lazily)."""

    title: str
    link: str
    author: Author | None
    #: (number, Entry or the reason it was skipped), in document order
    entries: Iterable[tuple[int, Entry | str]]


class FeedConnector(Connector):
    code = "feed"
    label = "RSS / Atom feed"
    #: nothing in a feed is proof of who wrote it
    suggestions_only = True
    credential_keys = ()
    option_keys: ClassVar[tuple[str, ...]] = ("kind", "limit")
    #: host name -> addresses, for the redirect and address checks (tests replace it)
    resolver = staticmethod(resolve_host)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    # -- options -------------------------------------------------------------------

    @property
    def kind(self) -> Kind:
        value = str(self.options.get("kind") or "post").strip().lower()
        if value not in KINDS:
            raise ConnectorError(f"feed: kind must be one of {', '.join(KINDS)}")
        return Kind(value)

    @property
    def limit(self) -> int:
        return self.option_int("limit", MAX_ENTRIES, MAX_ENTRIES)

    # -- reading ---------------------------------------------------------------------

    def check(self) -> Author:
        """Fetch the feed once and describe it (the feed stands for the brand)."""
        got = self._get({})
        if got is None:  # pragma: no cover - no conditional headers were sent
            raise PayloadError("feed: the server answered 304 to an unconditional request")
        body, _etag, _modified, content_type, final_url = got
        doc = parse_document(body, content_type, base=final_url, scope=self.base_url)
        return Author(
            network=Network.FEED,
            external_id=self.base_url,
            handle=doc.title or self.base_url,
            display_name=doc.title,
            profile_url=doc.link,
        )

    def fetch(self, cursor: str | None = None) -> Page:
        state = _load_cursor(cursor)
        kind = self.kind  # a bad option fails before any request
        headers = {}
        if state["e"]:
            headers["If-None-Match"] = state["e"]
        if state["m"]:
            headers["If-Modified-Since"] = state["m"]
        got = self._get(headers)
        if got is None:  # 304 Not Modified
            return Page(items=(), cursor=cursor, has_more=False)
        body, etag, modified, content_type, final_url = got
        del got  # the body is let go as soon as it is parsed
        doc = parse_document(body, content_type, base=final_url, scope=self.base_url)
        del body
        entries: list[Any]
        entries, skipped, problems = _collect(doc)
        fallback = doc.author or self._feed_as_author(doc)
        del doc

        now = _now()
        seen = set(state["s"])
        first_seen: dict[str, int] = state["d"]
        in_doc: dict[str, None] = {}  # digests of this document's entries, in order
        dated: dict[str, int] = {}  # first-seen times of the dateless ones
        fresh: list[tuple[datetime, int, str, Interaction]] = []
        for position, entry in enumerate(entries):
            entries[position] = None  # each entry is let go as its item is made
            digest = _digest(entry.external_id)
            if digest in in_doc:
                continue  # the same id twice in one document
            in_doc[digest] = None
            created = entry.created_at
            if created is None:
                dated[digest] = first_seen.get(digest, now)
                created = datetime.fromtimestamp(dated[digest], tz=timezone.utc)
            if digest not in seen:
                item = Interaction(
                    network=Network.FEED,
                    external_id=entry.external_id,
                    kind=kind,
                    author=entry.author or fallback,
                    created_at=created,
                    text=entry.text,
                    url=entry.url,
                    raw_kind=entry.raw_kind,
                )
                # oldest first; at the same time, later in the document (older) first
                fresh.append((created, -position, digest, item))
        del entries
        fresh.sort(key=lambda row: (row[0], row[1]))
        has_more = len(fresh) > self.limit
        fresh = fresh[: self.limit]

        returned = {row[2] for row in fresh}
        kept = [d for d in in_doc if d in seen or d in returned][:MAX_SEEN]
        new_state: dict[str, Any] = {"e": "", "m": "", "s": kept}
        if dated:
            new_state["d"] = dict(list(dated.items())[:MAX_SEEN])
        if not has_more:  # only skip the download next time when nothing is waiting
            new_state["e"], new_state["m"] = etag, modified
        return Page(
            items=tuple(row[3] for row in fresh),
            cursor=json.dumps(new_state, separators=(",", ":")),
            has_more=has_more,
            skipped=skipped,
            problems=tuple(problems),
        )

    def _feed_as_author(self, doc: Document) -> Author:
        """Who an entry without an author is attributed to when the feed names nobody."""
        return Author(
            network=Network.FEED,
            external_id=self.base_url,
            handle=doc.title or self.base_url,
            display_name=doc.title,
            profile_url=doc.link,
        )

    # -- HTTP ------------------------------------------------------------------------

    def _get(self, headers: dict[str, str]) -> tuple[bytes, str, str, str, str] | None:
        """The body, ETag, Last-Modified, Content-Type and final URL; ``None`` on 304."""
        headers = {
            "Accept": "application/atom+xml, application/rss+xml, application/feed+json, "
            "application/xml;q=0.9, text/xml;q=0.8, application/json;q=0.8, */*;q=0.1",
            **headers,
        }
        response, final_url = request_following(
            self.session,
            self.base_url,
            timeout=self.timeout,
            network=NETWORK,
            resolver=self.resolver,
            headers=headers,
            stream=True,
        )
        try:
            if response.status_code == 304:
                return None
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
            content_type = response.headers.get("Content-Type", "")[:200]
        except PayloadError:
            raise
        except requests.RequestException as exc:  # dropped while reading the body
            raise TransientError(f"feed: reading the body failed ({type(exc).__name__})") from exc
        finally:
            response.close()
        return b"".join(chunks), etag, modified, content_type, final_url


def _now() -> int:
    """Now, in whole seconds since the epoch (the tests move it)."""
    return int(datetime.now(timezone.utc).timestamp())


def _collect(doc: Document) -> tuple[list[Entry], int, list[str]]:
    """The document's entries (at most :data:`MAX_ENTRIES`, the newest), the number
    skipped and why, per entry."""
    entries: list[Entry] = []
    skipped = 0
    problems: list[str] = []
    for number, entry in doc.entries:
        if isinstance(entry, Entry):
            entries.append(entry)
            continue
        skipped += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(f"entry {number} skipped: {entry}")
    if skipped > MAX_PROBLEMS:
        problems.append(f"{skipped - MAX_PROBLEMS} more entries skipped")
    if len(entries) > MAX_ENTRIES:
        latest = datetime.max.replace(tzinfo=timezone.utc)  # dateless: seen now
        order = sorted(
            range(len(entries)),
            key=lambda i: entries[i].created_at or latest,
            reverse=True,
        )
        keep = set(order[:MAX_ENTRIES])
        dropped = len(entries) - MAX_ENTRIES
        entries = [entry for i, entry in enumerate(entries) if i in keep]
        skipped += dropped
        problems.append(f"{dropped} older entries beyond {MAX_ENTRIES} left out")
    return entries, skipped, problems


# -- parsing ---------------------------------------------------------------------------


def parse_document(body: bytes, content_type: str = "", *, base: str, scope: str) -> Document:
    """Parse an XML or JSON feed safely, or raise :class:`PayloadError` saying why not.

    ``base`` resolves relative links (the URL the document came from); ``scope`` is
    the feed's configured URL, which author ids are scoped to.
    """
    if not body or not body.strip():
        raise PayloadError("feed: the document is empty")
    if len(body) > MAX_BODY:
        raise PayloadError(f"feed: the document is larger than {MAX_BODY} bytes")
    mime, charset = _content_type(content_type)
    if _is_json(body, mime):
        return _json_document(body, base, _scope(scope))
    root = parse_feed(body, charset)
    return _xml_document(root, base, _scope(scope))


def _content_type(value: str) -> tuple[str, str]:
    """The media type and the ``charset`` parameter of a Content-Type header."""
    mime, _sep, params = (value or "").partition(";")
    charset = ""
    for param in params.split(";"):
        key, _eq, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'")[:40]
    return mime.strip().lower(), charset


def _is_json(body: bytes, mime: str) -> bool:
    """JSON by its first character, else by its declared type (``application/feed+json``)."""
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return True
    if head.startswith(b"<"):
        return False
    return mime in ("application/feed+json", "application/json")


def parse_feed(body: bytes, charset: str = "") -> etree._Element:
    """Parse an XML feed safely, or raise :class:`PayloadError` saying why not.

    The root is returned in the shape the rest of the module reads: namespaced RSS
    2.0 without its namespace, RSS 0.90 as RSS 1.0, Atom 0.3 as Atom 1.0.
    """
    if not body or not body.strip():
        raise PayloadError("feed: the document is empty")
    if len(body) > MAX_BODY:
        raise PayloadError(f"feed: the document is larger than {MAX_BODY} bytes")
    body = _to_utf8(body, charset)
    _refuse_entities(body)
    body = _fix_references(body)
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
    _normalize_dialect(root)
    if root.tag not in ("rss", f"{{{ATOM}}}feed", f"{{{RDF}}}RDF"):
        raise PayloadError(
            f"feed: not an RSS, Atom or JSON feed (root element {_local(root.tag)!r})"
        )
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


# -- character sets ----------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: ``<?xml`` in UTF-16/32 without a byte-order mark (XML 1.0, appendix F)
_NUL_STARTS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
_DECLARATION = re.compile(rb"^\s*<\?xml\b[^>]{0,200}?\?>")
_DECLARED = re.compile(rb"""encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._:-]{0,39})["']""")
_TEXT_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]{0,200}?\?>")
#: labels that mean windows-1252 in practice (WHATWG Encoding), and codecs never used
_AS_1252 = frozenset({"latin-1", "iso8859-1", "ascii", "cp1252"})
_NEVER = frozenset({"utf-7", "utf_7"})
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _codec(label: str | bytes | None) -> str:
    """The Python codec for a charset label, or ``""`` when it is unknown or unwanted."""
    if not label:
        return ""
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    try:
        name = codecs.lookup(label.strip()).name
    except (LookupError, ValueError):
        return ""
    if name in _NEVER:
        return ""
    return "cp1252" if name in _AS_1252 else name


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _detect(body: bytes) -> str:
    """The character set a detector believes in, or ``""``."""
    sample = body[: 256 * 1024]
    if _detect_normalizer is not None:
        best = _detect_normalizer(sample).best()
        if best is not None:
            return _codec(best.encoding)
    if _detect_chardet is not None:  # pragma: no cover - charset_normalizer answered
        return _codec((_detect_chardet(sample) or {}).get("encoding"))
    return ""  # pragma: no cover


def _to_utf8(body: bytes, charset: str = "") -> bytes:
    """The document re-encoded as UTF-8 without an encoding declaration.

    Order: a byte-order mark (or UTF-16/32 ``<?xml`` bytes); UTF-8 when the bytes are
    valid UTF-8 (a multi-byte sequence is no accident); the HTTP ``charset``; the XML
    declaration; a detector; windows-1252. A UTF-8 document is returned as it is.
    """
    encoding = ""
    for bom, name in _BOMS:
        if body.startswith(bom):
            encoding = name
            break
    else:
        for start, name in _NUL_STARTS:
            if body.startswith(start):
                encoding = name
                break
    match = _DECLARATION.match(body)
    declared = _DECLARED.search(match.group()) if match else None
    declared_codec = _codec(declared.group(1)) if declared else ""
    if not encoding:
        if body.isascii() or _decodes(body, "utf-8"):
            if declared is None or declared_codec == "utf-8":
                return _strip_controls(body)  # the common case: nothing copied
            encoding = "utf-8"
        else:
            encoding = _first_decoding(
                body, (lambda: _codec(charset), lambda: declared_codec, lambda: _detect(body))
            )
    text = body.decode(encoding, "replace")
    text = _TEXT_DECLARATION.sub("", text, count=1)
    return _strip_controls(text.encode("utf-8"))


def _first_decoding(body: bytes, candidates: Iterable[Any]) -> str:
    """The first candidate (asked lazily: detection is slow) that decodes ``body``."""
    for candidate in candidates:
        encoding = candidate()
        if encoding and encoding != "utf-8" and _decodes(body, encoding):
            return encoding
    return "cp1252" if _decodes(body, "cp1252") else "latin-1"  # every byte a character


def _strip_controls(body: bytes) -> bytes:
    """Control characters XML 1.0 forbids (common in the wild) are dropped."""
    if _CONTROL.search(body):
        return _CONTROL.sub(b"", body)
    return body


# -- references ---------------------------------------------------------------------------

#: an ``&`` that does not start a reference XML itself knows
_SUSPECT = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")
_SCAN = re.compile(rb"<!\[CDATA\[|<!--|&")
_REFERENCE = re.compile(rb"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{0,47}));")
_XML_NAMES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def _fix_references(body: bytes) -> bytes:
    """HTML named references as numeric ones; unknown names and bare ``&`` as text.

    Only references XML leaves undefined are touched: ``&nbsp;`` becomes ``&#160;``,
    ``&bogus;`` and a lone ``&`` become ``&amp;...``, numeric references to characters
    XML forbids become U+FFFD. CDATA sections and comments are left as they are. The
    scan is linear and nothing is copied when there is nothing to fix.
    """
    if not _SUSPECT.search(body) and b"&#" not in body:
        return body
    out: list[bytes] = []
    pos = 0  # what is copied to ``out`` so far
    scan = 0  # where the next search starts
    while True:
        found = _SCAN.search(body, scan)
        if found is None:
            break
        token = found.group()
        if token != b"&":
            close = b"]]>" if token.startswith(b"<![") else b"-->"
            end = body.find(close, found.end())
            if end < 0:
                break  # unterminated: the parser will say so
            scan = end + len(close)
            continue
        out.append(body[pos : found.start()])
        reference = _REFERENCE.match(body, found.start())
        if reference is None:
            out.append(b"&amp;")
            pos = scan = found.end()
            continue
        out.append(_reference(reference))
        pos = scan = reference.end()
    if not out:
        return body
    out.append(body[pos:])
    return b"".join(out)


def _reference(match: re.Match[bytes]) -> bytes:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name in _XML_NAMES:
            return match.group()
        value = html5.get(name.decode("ascii") + ";")
        if value is None:
            return b"&amp;" + name + b";"
        return "".join(f"&#{ord(ch)};" for ch in value).encode("ascii")
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if 0x80 <= code <= 0x9F:  # windows-1252 bytes written as references (HTML does this)
        char = bytes([code]).decode("cp1252", "ignore")
        code = ord(char) if char else 0xFFFD
    if not _xml_char(code):
        code = 0xFFFD
    return f"&#{code};".encode("ascii")


def _xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


# -- dialects ------------------------------------------------------------------------------

#: Atom 0.3 element names that Atom 1.0 renamed
_ATOM03_NAMES = {
    "issued": "published",
    "modified": "updated",
    "url": "uri",
    "tagline": "subtitle",
    "copyright": "rights",
}


def _normalize_dialect(root: etree._Element) -> None:
    """Rewrite older or namespaced dialects, in place, into the shapes read below."""
    namespace = etree.QName(root).namespace if isinstance(root.tag, str) else None
    local = _local(root.tag)
    if local == "rss" and namespace:  # RSS 2.0 (or 0.9x) with a default namespace
        _rename(root, namespace, lambda name: name)
    elif local == "feed" and namespace == ATOM03:
        _rename(root, ATOM03, lambda name: f"{{{ATOM}}}{_ATOM03_NAMES.get(name, name)}")
        for content in root.iter(f"{{{ATOM}}}content", f"{{{ATOM}}}summary"):
            if (content.get("mode") or "").lower() == "base64":
                content.text = ""  # not decoded: binary more often than text
                del content[:]
    elif root.tag == f"{{{RDF}}}RDF":
        _rename(root, RSS090, lambda name: f"{{{RSS1}}}{name}")


def _rename(root: etree._Element, namespace: str, new: Any) -> None:
    prefix = f"{{{namespace}}}"
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag.startswith(prefix):
            element.tag = new(tag[len(prefix) :])


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _entry_elements(root: etree._Element) -> Iterable[etree._Element]:
    if root.tag == f"{{{ATOM}}}feed":
        return root.iterchildren(f"{{{ATOM}}}entry")
    if root.tag == f"{{{RDF}}}RDF":
        # RSS 1.0 puts items beside the channel; some writers put them inside it
        return root.iter(f"{{{RSS1}}}item")
    # RSS 0.9x/2.0 items are in the channel; a few writers put them beside it
    return (el for el in root.iter("item") if _local(el.getparent().tag) in ("channel", "rss"))


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


def _date(element: etree._Element) -> datetime | None:
    """The entry's date, or ``None`` when it has none anyone can read."""
    for path in (
        f"{{{ATOM}}}published",
        f"{{{ATOM}}}updated",
        "pubDate",
        f"{{{DC}}}date",
        f"{{{ATOM}}}created",
        f"{{{ATOM}}}modified",
        "date",
    ):
        value = _text(element.find(path))
        if value:
            try:
                return parse_any_date(value)
            except ValueError:
                continue
    return None


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
            url = clean_url(link.get("href") or "", base=base)
            if url:
                return url
    url = clean_url(
        _text(element.find("link")) or _text(element.find(f"{{{RSS1}}}link")), base=base
    )
    if url:
        return url
    guid = element.find("guid")
    if guid is not None and (guid.get("isPermaLink") or "true").lower() == "true":
        return clean_url(_text(guid), base=base)
    return ""


def _content_text(element: etree._Element | None) -> str:
    """Plain text of a title / summary / content element; markup is dropped."""
    if element is None:
        return ""
    kind = (element.get("type") or "").lower()
    if kind in ("xhtml", "application/xhtml+xml") or len(element):
        parts: list[str] = []
        _walk(element, parts)
        return tidy("".join(parts))
    raw = element.text or ""
    if kind in ("text", "text/plain"):
        return tidy(raw)
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


def _join(title: str, summary: str) -> str:
    text = "\n\n".join(part for part in (title, summary if summary != title else "") if part)
    return text[:MAX_TEXT]


def _entry_id(external_id: str, url: str) -> str:
    external_id = external_id.strip() or url
    if not external_id:
        raise ValueError("no id and no http(s) link")
    if len(external_id) > 255:
        external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
    return external_id


# -- XML feeds -----------------------------------------------------------------------------


def _xml_document(root: etree._Element, base: str, scope: str) -> Document:
    title, link = _feed_title_link(root, base)
    author = _atom_person(root, base, scope) if root.tag == f"{{{ATOM}}}feed" else None
    return Document(title, link, author, _xml_entries(root, base, scope))


def _xml_entries(root: etree._Element, base: str, scope: str) -> Iterable[tuple[int, Any]]:
    for number, element in enumerate(_entry_elements(root), 1):
        try:
            yield number, _entry(element, base, scope)
        except ValueError as exc:
            yield number, str(exc)


def _entry(element: etree._Element, base: str, scope: str) -> Entry:
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
    if summary_el is None:
        summary_el = element.find(f"{{{MEDIA}}}description")
    return Entry(
        external_id=_entry_id(external_id, url),
        url=url,
        text=_join(_content_text(title_el), _content_text(summary_el)),
        created_at=_date(element),
        author=_entry_author(element, base, scope),
        raw_kind="entry" if atom else "item",
    )


def _atom_person(container: etree._Element, base: str, scope: str) -> Author | None:
    person = container.find(f"{{{ATOM}}}author")
    if person is None:
        return None
    return _person(
        _text(person.find(f"{{{ATOM}}}name")),
        _text(person.find(f"{{{ATOM}}}uri")),
        _text(person.find(f"{{{ATOM}}}email")),
        base,
        scope,
    )


def _entry_author(element: etree._Element, base: str, scope: str) -> Author | None:
    author = _atom_person(element, base, scope)
    if author is not None:
        return author
    creator = _text(element.find(f"{{{DC}}}creator"))
    if creator:
        return _person(creator, "", "", base, scope)
    raw = _text(element.find("author"))
    if raw:
        match = _RSS_AUTHOR.match(raw)
        if match:  # "email@example.com (Name)"
            return _person(match.group(2), "", match.group(1), base, scope)
        if "@" in raw and " " not in raw:
            return _person("", "", raw, base, scope)
        return _person(raw, "", "", base, scope)
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


# -- JSON Feed -----------------------------------------------------------------------------


def _json_document(body: bytes, base: str, scope: str) -> Document:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PayloadError(f"feed: the document is not valid JSON ({type(exc).__name__})") from exc
    if not isinstance(data, dict):
        raise PayloadError("feed: not a JSON Feed (the document is not a JSON object)")
    version = data.get("version")
    if not isinstance(version, str) or not version.startswith(JSONFEED):
        raise PayloadError("feed: not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise PayloadError("feed: not a JSON Feed (no list of items)")
    title = tidy(_string(data.get("title")))
    link = clean_url(_string(data.get("home_page_url")), base=base)
    author = _json_author(data, base, scope)
    return Document(title, link, author, _json_entries(items, base, scope))


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_entries(items: list, base: str, scope: str) -> Iterable[tuple[int, Any]]:
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            yield number, "not a JSON object"
            continue
        try:
            yield number, _json_entry(item, base, scope)
        except ValueError as exc:
            yield number, str(exc)


def _json_entry(item: dict, base: str, scope: str) -> Entry:
    raw_id = item.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int, float)):
        raw_id = ""  # JSON Feed 1.0 allowed numbers; anything else is no id
    url = clean_url(_string(item.get("url")), base=base) or clean_url(
        _string(item.get("external_url")), base=base
    )
    body = _string(item.get("content_text"))
    if body:
        body = tidy(body)
    else:
        body = html_to_text(_string(item.get("content_html"))) or tidy(_string(item.get("summary")))
    created = None
    for key in ("date_published", "date_modified"):
        value = _string(item.get(key))
        if value:
            try:
                created = parse_any_date(value)
                break
            except ValueError:
                continue
    return Entry(
        external_id=_entry_id(str(raw_id), url),
        url=url,
        text=_join(tidy(_string(item.get("title"))), body),
        created_at=created,
        author=_json_author(item, base, scope),
        raw_kind="item",
    )


def _json_author(container: dict, base: str, scope: str) -> Author | None:
    """The first usable person of ``authors`` (1.1), else ``author`` (1.0)."""
    people = container.get("authors")
    people = people[:10] if isinstance(people, list) else []
    people.append(container.get("author"))
    for person in people:
        if isinstance(person, dict):
            author = _person(
                _string(person.get("name")), _string(person.get("url")), "", base, scope
            )
            if author is not None:
                return author
    return None


# -- authors -------------------------------------------------------------------------------


def _scope(feed_url: str) -> str:
    """The prefix of this feed's author ids: ``feed:`` and a digest of its URL."""
    return "feed:" + hashlib.sha256(feed_url.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _person(name: str, uri: str, email: str, base: str, scope: str) -> Author | None:
    """An author of this feed, or ``None`` when nothing names them.

    The ``email`` an entry carries is never passed on (anyone can write anyone's
    address in a feed, so it proves nothing): for an author known by nothing else it
    gives the handle (the part before ``@``) and, as a digest, the key. The id is
    scoped to the feed.
    """
    name = " ".join(name.split())[:200]
    if name.lower() in _GONE:
        name = ""
    profile = clean_url(uri, base=base)
    email = email.strip()
    if "@" not in email or any(ch.isspace() for ch in email):
        email = ""
    elif _NOT_A_PERSON.match(email.split("@", 1)[0]):
        email = ""  # noreply@...: a mailbox, not an author
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
    key = profile or name
    if not key and email:  # only a digest: the address is neither shown nor stored
        key = "email-sha256:" + hashlib.sha256(email.lower().encode("utf-8", "replace")).hexdigest()
    if not key:
        return None
    if len(key) > 200:
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return Author(
        network=Network.FEED,
        external_id=f"{scope}:{key}",
        handle=handle or key,
        display_name=name if not reddit else handle,
        profile_url=profile,
    )


# -- cursor ----------------------------------------------------------------------------


def _digest(external_id: str) -> str:
    raw = hashlib.sha256(external_id.encode("utf-8", "surrogatepass")).digest()[:9]
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"e": "", "m": "", "s": [], "d": {}}
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
    dates = data.get("d", {})
    if not isinstance(dates, dict):
        raise ConnectorError("feed: the cursor is not one this connector wrote")
    state["d"] = {
        key: value
        for key, value in list(dates.items())[:MAX_SEEN]
        if isinstance(key, str) and isinstance(value, int) and not isinstance(value, bool)
    }
    return state
