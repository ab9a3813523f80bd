"""Instagram professional accounts through Meta's Graph API (Instagram API with
Facebook Login; see :mod:`._graph`).

Credentials: ``page_access_token`` (the token of the Facebook Page the account is
linked to), ``ig_user_id`` (the Instagram professional account) and ``page_id``
(for Instagram Direct, which Meta serves through the Page). Options: ``posts``
(recent media, posts and reels, read per cycle, default 10), ``backfill_days``,
``graph_version``.

What comes in, per cycle:

- comments and their replies on the recent media
  (``/{media}/comments?fields=...,replies{...}``);
- media the account is tagged in (``/{ig-user}/tags``); Meta names their authors
  by username only, so those authors are keyed ``<ig id>:@<username>``;
- Instagram Direct conversations (``/{page}/conversations?platform=instagram``).

Meta does not say who liked a media (only a count): no reactions here.

Authors are Instagram-scoped: ``<ig user id>:<igsid>``. Writing: ``reply``
(``POST /{comment}/replies``, 2200 characters), messages within the 24-hour window
and private replies within 7 days, both through the Page, text up to 1000 bytes
(UTF-8) as Meta counts it. Instagram has no like through the API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..errors import PayloadError
from ..interaction import Author, Interaction, Kind
from ._graph import MetaConnector, Skip, Step, valid_id, when

_USERNAME = re.compile(r"^[A-Za-z0-9._]{1,30}$")
_COMMENT = "id,text,timestamp,username,from{id,username},parent_id"
COMMENT_FIELDS = f"{_COMMENT},replies{{{_COMMENT}}}"


class InstagramConnector(MetaConnector):
    code = "instagram"
    label = "Instagram"
    profile_hosts = frozenset({"instagram.com", "www.instagram.com"})
    credential_keys = ("page_access_token", "ig_user_id", "page_id")
    required_credentials = ("page_access_token", "ig_user_id")
    max_text_length = 2200
    max_dm_length = 1000
    platform = "instagram"

    @classmethod
    def normalize_handle(cls, text: str, *, instance: str = "") -> str:
        name = text.removeprefix("@").lower()
        if not _USERNAME.match(name):
            raise ValueError(f"invalid Instagram username {text!r}")
        return name

    @classmethod
    def handle_from_profile_url(cls, host: str, segments: list[str]) -> str | None:
        if host not in cls.profile_hosts:
            return None
        if not segments or segments[0] in ("p", "reel", "explore", "stories"):
            raise ValueError(f"{host} URL is not a profile (expected /<username>)")
        return cls.normalize_handle(segments[0])

    @classmethod
    def profile_url(cls, handle: str) -> str:
        return f"https://www.instagram.com/{handle}/" if handle else ""

    @staticmethod
    def dm_length(text: str) -> int:
        """Instagram Direct counts the text's UTF-8 bytes (1000 at most)."""
        return len(text.encode("utf-8"))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ig_user_id = valid_id(self.credentials.get("ig_user_id"))

    @property
    def owner_id(self) -> str:
        return self.ig_user_id

    # -- reading -------------------------------------------------------------------------

    def check(self) -> Author:
        body = self.graph.call(
            "GET", self.ig_user_id or "me", "account", params={"fields": "id,username,name"}
        )
        account = valid_id(body.get("id"))
        if not account:
            raise PayloadError("instagram: the account has no id")
        username = body.get("username") if isinstance(body.get("username"), str) else ""
        return Author(
            network=self.network,
            external_id=account,
            handle=username or account,
            display_name=body.get("name") if isinstance(body.get("name"), str) else "",
            profile_url=self.profile_url(username) if _USERNAME.match(username) else "",
        )

    def _seed(self) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = [{"k": "media"}, {"k": "tags"}]
        if self.page_id:
            tasks.append({"k": "convs"})
        return tasks

    def _task_media(self, task: dict[str, Any], since: int) -> Step:
        body = self.graph.call(
            "GET",
            f"{self.ig_user_id}/media",
            "media",
            params={
                "fields": "id,timestamp,permalink,comments_count,media_product_type",
                "limit": self.posts,
            },
        )
        rows = body.get("data")
        if not isinstance(rows, list):
            raise PayloadError("instagram: media has no data list")
        step = Step()
        for row in rows:
            media = valid_id(row.get("id")) if isinstance(row, dict) else ""
            if not media:
                step.problems.append("a media without a usable id")
                continue
            if row.get("comments_count") == 0:
                continue
            link = row.get("permalink")
            task_row = {"k": "comments", "id": media}
            if isinstance(link, str) and link.startswith("https://") and len(link) < 300:
                task_row["u"] = link
            step.tasks.append(task_row)
        return step

    def _task_comments(self, task: dict[str, Any], since: int) -> Step:
        """Every page of a media's comments (Meta promises no order): the new ones."""
        rows, after = self._list(
            f"{task['id']}/comments", "comments", task, fields=COMMENT_FIELDS, limit=50
        )
        step = Step(after=after)
        url = str(task.get("u") or "")
        for row in rows:
            replies = row.get("replies") if isinstance(row, dict) else None
            nested = replies.get("data") if isinstance(replies, dict) else None
            for raw in [row, *(nested if isinstance(nested, list) else [])]:
                try:
                    item = self._comment(raw, task["id"], url)
                except Skip as skip:
                    step.problems.append(str(skip))
                    continue
                if item is not None and int(item.created_at.timestamp()) >= since:
                    step.items.append(item)
        return step

    def _comment(self, row: Any, media: str, url: str = "") -> Interaction | None:
        head = self._comment_head(row, self.ig_user_id, "timestamp")
        if head is None:
            return None  # the account's own comment
        comment, person, sender, created = head
        parent = valid_id(row.get("parent_id"))
        if "username" not in sender and isinstance(row.get("username"), str):
            sender = {**sender, "username": row["username"]}
        return Interaction(
            network=self.network,
            external_id=comment,
            kind=Kind.REPLY if parent else Kind.COMMENT,
            author=self._author(person, sender),
            created_at=created,
            text=row.get("text") if isinstance(row.get("text"), str) else "",
            url=url,
            parent_id=parent or media,
            root_id=media,
            subject_id=media,
            reply_ref=f"c:{comment}>{parent}" if parent else f"c:{comment}",
            raw_kind="comment",
        )

    def _task_tags(self, task: dict[str, Any], since: int) -> Step:
        rows, after = self._list(
            f"{self.ig_user_id}/tags",
            "tags",
            task,
            fields="id,caption,timestamp,username,permalink",
            limit=25,
        )
        step = Step()
        for row in rows:
            media = valid_id(row.get("id")) if isinstance(row, dict) else ""
            username = row.get("username") if isinstance(row, dict) else None
            if not media or not isinstance(username, str) or not _USERNAME.match(username):
                step.problems.append("a tagged media without a usable id or username")
                continue
            try:
                created = when(row.get("timestamp"))
            except (TypeError, ValueError):
                step.problems.append(f"tagged media {media}: no usable time")
                continue
            if int(created.timestamp()) < since:
                return step  # newest first
            link = row.get("permalink")
            step.items.append(
                Interaction(
                    network=self.network,
                    external_id=media,
                    kind=Kind.MENTION,
                    # Meta gives no scoped id for a tag's author: keyed by username
                    author=self._author(f"@{username.lower()}", {"username": username}),
                    created_at=created,
                    text=row.get("caption") if isinstance(row.get("caption"), str) else "",
                    url=link if isinstance(link, str) and link.startswith("https://") else "",
                    raw_kind="tag",
                )
            )
        step.after = after
        return step

    def _author(self, person: str, raw: Mapping[str, Any]) -> Author:
        username = raw.get("username") if isinstance(raw.get("username"), str) else ""
        username = username if _USERNAME.match(username) else ""
        return Author(
            network=self.network,
            external_id=self.scoped(person),
            handle=username.lower() or person,
            display_name=username,
            profile_url=self.profile_url(username.lower()) if username else "",
        )

    # -- webhooks (object "instagram") -----------------------------------------------------

    def _webhook_change(self, name: str, value: Mapping[str, Any]) -> Interaction | None:
        if name == "comments":
            media = value.get("media") if isinstance(value.get("media"), dict) else {}
            row = {
                "id": value.get("id"),
                "text": value.get("text"),
                "from": value.get("from"),
                "parent_id": value.get("parent_id"),
                # Meta's comment webhooks carry no time: the time it told us
                "timestamp": value.get("timestamp") or self._webhook_time,
            }
            return self._comment(row, valid_id(media.get("id")))
        return None  # mentions need a lookup: the pull reads tags

    #: the entry's ``time``, set while reading one entry
    _webhook_time: Any = None

    def webhook_items(self, entry: Mapping[str, Any]):
        self._webhook_time = entry.get("time")
        try:
            return super().webhook_items(entry)
        finally:
            self._webhook_time = None

    # -- writing ---------------------------------------------------------------------------

    def _reply_path(self, thread: str) -> str:
        return f"{thread}/replies"

    def _comment_time(self, comment: str) -> datetime:
        body = self.graph.call("GET", comment, "comment", params={"fields": "timestamp"})
        try:
            return when(body.get("timestamp"))
        except (TypeError, ValueError):
            raise PayloadError("instagram: the comment has no usable time") from None
