"""X in real time: the v2 filtered stream (``GET /2/tweets/search/stream``).

Only where the account's access level allows it (Pro and up); the rules live on X
(``/2/tweets/search/stream/rules``): one per listening query, tagged with the
query's key, plus one for ``@brand`` mentions. The body is newline-delimited
JSON with a keep-alive ``\\r\\n`` about every 20 seconds; each line is
``{"data": tweet, "includes": {...}, "matching_rules": [{"id", "tag"}]}``.

- a tweet that mentions the brand, replies to it or quotes it goes through the
  pull connector's own normaliser: same external id (the tweet id) and kind;
- any other tweet whose rule is a listening query's (its tag), and that the
  query's local filters (language, exclusions) keep, is ``listening``;
- the stream has no position: the cursor is the newest tweet id read, and the
  pull catches up through its ``since_id`` when the listener reconnects.

Lines are bounded (``max_frame``); a line cut by a dropped connection is dropped
with it and never parsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import requests

from ..connectors.base import SkipItem
from ..connectors.x import _ID, MENTIONS, XConnector, _unpack
from ..errors import AuthError, PayloadError, RateLimited, TransientError
from ..http import raise_for_status
from ..interaction import Kind
from .base import Batch, Stream
from .bluesky import _Collector
from .listening import ListeningQuery

PATH = "/2/tweets/search/stream"


class XFilteredStream(Stream):
    name = "x"

    def __init__(
        self,
        connector: XConnector,
        queries: Sequence[ListeningQuery] = (),
        *,
        read_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if read_timeout <= 0:
            raise ValueError("a positive read timeout is required")
        self.connector = connector
        self.queries = {q.key: q for q in queries}
        self.read_timeout = read_timeout
        self._response: requests.Response | None = None

    def batches(self) -> Iterator[Batch]:
        token = str(self.connector.credentials.get("bearer_token") or "").strip()
        if not token:
            raise AuthError("x: the filtered stream needs a bearer token")
        from ..connectors.x import EXPANSIONS, TWEET_FIELDS, USER_FIELDS  # noqa: PLC0415

        try:
            response = self.connector.session.get(
                self.connector.base_url + PATH,
                params={
                    "expansions": ",".join(EXPANSIONS),
                    "tweet.fields": ",".join(TWEET_FIELDS),
                    "user.fields": ",".join(USER_FIELDS),
                },
                headers={"Authorization": f"Bearer {token}"},
                stream=True,
                timeout=(self.open_timeout, self.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise TransientError(f"x: stream connection failed ({type(exc).__name__})") from None
        self._response = response
        try:
            raise_for_status(response, "x")
        except (AuthError, RateLimited):
            raise
        except PayloadError:
            raise TransientError(f"x: stream answered HTTP {response.status_code}") from None
        yield from self._lines(response)

    def _lines(self, response: requests.Response) -> Iterator[Batch]:
        buffer = b""
        dropping = False  # inside a line already over the limit
        try:
            for chunk in response.iter_content(chunk_size=None):
                out = _Collector()
                frames = 0
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    if dropping:
                        dropping = False
                        continue
                    frames += 1
                    self._read(line.strip(), out)
                if len(buffer) > self.max_frame:
                    out.skip(f"x: a line over {self.max_frame} bytes")
                    buffer, dropping = b"", True
                yield out.batch(self.cursor, frames)
        except requests.RequestException as exc:
            raise TransientError(f"x: stream interrupted ({type(exc).__name__})") from None
        # the server ended the body: whatever is left in the buffer was cut short
        raise TransientError("x: stream closed")

    def _read(self, line: bytes, out: _Collector) -> None:  # noqa: PLR0911 - one exit per bad line
        if not line:
            return  # keep-alive
        if len(line) > self.max_frame:
            out.skip(f"x: a line over {self.max_frame} bytes")
            return
        try:
            body = json.loads(line)
        except ValueError:
            out.skip("x: a line that is not JSON")
            return
        if not isinstance(body, dict):
            out.skip("x: a line that is not an object")
            return
        if "data" not in body and body.get("errors"):
            # operational disconnect notices come as an errors line before the close
            out.skip("x: the stream sent an error notice")
            return
        raw = body.get("data")
        try:
            _data, users, tweets = _unpack({**body, "data": [raw]}, "stream")
            problems: list[str] = []
            item = self.connector._interaction(raw, users, tweets, MENTIONS, problems)
        except (SkipItem, PayloadError) as skip:
            out.skip(f"x: {skip}")
            return
        if item is None:
            return  # the brand's own tweet
        tweet_id = item.external_id
        if self.cursor is None or (len(tweet_id), tweet_id) > (len(self.cursor), self.cursor):
            self.cursor = tweet_id if _ID.match(tweet_id) else self.cursor
        out.last_event_at = item.created_at.timestamp()
        if item.kind is not Kind.MENTION or self._tags_brand(raw):
            out.add(item, None)
            return
        key = self._listening_key(body, item.text, raw)
        if key is not None:
            out.add(replace(item, kind=Kind.LISTENING, raw_kind="listening"), key)

    def _tags_brand(self, raw: dict) -> bool:
        brand = str(self.connector.options.get("user_id") or "")
        entities = raw.get("entities")
        mentions = entities.get("mentions") if isinstance(entities, dict) else None
        for mention in mentions if isinstance(mentions, list) else ():
            if isinstance(mention, dict) and str(mention.get("id") or "") == brand:
                return True
        return bool(brand) and str(raw.get("in_reply_to_user_id") or "") == brand

    def _listening_key(self, body: dict, text: str, raw: dict) -> str | None:
        rules = body.get("matching_rules")
        lang = raw.get("lang")
        for rule in rules if isinstance(rules, list) else ():
            tag = str(rule.get("tag") or "") if isinstance(rule, dict) else ""
            query = self.queries.get(tag)
            if query is None:
                continue
            # X matched the rule's terms; the query still applies its own filters
            if query.allows(text, langs=[lang] if isinstance(lang, str) else []):
                return tag
        return None

    def close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()
