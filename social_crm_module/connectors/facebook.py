"""Facebook Pages through Meta's Graph API (see :mod:`._graph` for the HTTP layer,
the errors, the usage headers and the walk).

Credentials: ``page_access_token`` (a Page token, from the Connect flow) and
``page_id``. Options: ``posts`` (recent posts read per cycle, default 10),
``backfill_days`` (first run, default 3), ``reactions`` (read who reacted to the
recent posts, default on), ``graph_version`` (default v21.0).

What comes in, per cycle:

- comments and replies on the Page's recent posts
  (``/{post}/comments?filter=stream&order=reverse_chronological``), for posts
  updated since the last cycle;
- who reacted to those posts (``/{post}/reactions``; Meta gives no time, so a
  reaction is dated when first read; one per person and post);
- posts the Page is tagged in (``/{page}/tagged``);
- Messenger conversations (``/{page}/conversations?platform=messenger``) and their
  new messages.

Authors are Page-scoped: ``<page id>:<id>``. A comment's ``reply_ref`` is
``c:<comment>`` (``c:<reply>><top comment>`` for a reply: Meta threads replies to a
reply under the top comment); a message's is ``dm:<psid>``.

Writing: ``reply`` comments (``POST /{comment}/comments``) or answers a message
within the 24-hour window; ``like`` (``POST /{object}/likes``); ``private_reply``
(``POST /{page}/messages`` with ``recipient.comment_id``, within 7 days);
``send_dm`` within the 24-hour window. Comments up to 8000 characters, messages up
to 2000, counted as Meta does (code points).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..errors import PayloadError
from ..interaction import Author, Interaction, Kind
from ._graph import MetaConnector, Skip, Step, valid_id, when

#: Meta's reaction types; each is a "like" in the CRM's words
REACTIONS = frozenset({"LIKE", "LOVE", "WOW", "HAHA", "SAD", "ANGRY", "THANKFUL", "PRIDE", "CARE"})
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},permalink_url"


class FacebookConnector(MetaConnector):
    code = "facebook"
    label = "Facebook Page"
    profile_hosts = frozenset({"facebook.com", "www.facebook.com", "m.facebook.com"})
    credential_keys = ("page_access_token", "page_id")
    required_credentials = ("page_access_token", "page_id")
    option_keys = (*MetaConnector.option_keys, "reactions")
    max_text_length = 8000
    max_dm_length = 2000
    platform = "messenger"

    @classmethod
    def handle_from_profile_url(cls, host: str, segments: list[str]) -> str | None:
        # Facebook profile URLs name global ids or vanity names; our authors are
        # Page-scoped ids: a URL can never be matched to them
        return None

    @property
    def reactions(self) -> bool:
        value = self.options.get("reactions", True)
        return str(value).lower() not in ("0", "false", "no", "off", "")

    # -- reading -------------------------------------------------------------------------

    def check(self) -> Author:
        body = self.graph.call(
            "GET", self.page_id or "me", "page", params={"fields": "id,name,link"}
        )
        page = valid_id(body.get("id"))
        if not page:
            raise PayloadError("facebook: the Page has no id")
        name = body.get("name") if isinstance(body.get("name"), str) else page
        link = body.get("link") if isinstance(body.get("link"), str) else ""
        return Author(
            network=self.network,
            external_id=page,
            handle=name,
            display_name=name,
            profile_url=link if link.startswith("https://") else "",
        )

    def _seed(self) -> list[dict[str, Any]]:
        return [{"k": "posts"}, {"k": "tagged"}, {"k": "convs"}]

    def _task_posts(self, task: dict[str, Any], since: int) -> Step:
        """The recent posts (one page, newest first) -> comment and reaction tasks."""
        body = self.graph.call(
            "GET",
            f"{self.page_id}/published_posts",
            "posts",
            params={"fields": "id,created_time,updated_time,permalink_url", "limit": self.posts},
        )
        rows = body.get("data")
        if not isinstance(rows, list):
            raise PayloadError("facebook: posts has no data list")
        step = Step()
        for row in rows:
            post = valid_id(row.get("id")) if isinstance(row, dict) else ""
            try:
                updated = when(row.get("updated_time") or row.get("created_time")) if post else None
            except (TypeError, ValueError):
                updated = None
            if updated is None:
                step.problems.append("a post without a usable id or time")
                continue
            if int(updated.timestamp()) >= since:
                step.tasks.append({"k": "comments", "id": post})
            if self.reactions:
                step.tasks.append({"k": "reactions", "id": post})
        return step

    def _task_comments(self, task: dict[str, Any], since: int) -> Step:
        rows, after = self._list(
            f"{task['id']}/comments",
            "comments",
            task,
            fields=COMMENT_FIELDS,
            filter="stream",
            order="reverse_chronological",
            limit=100,
        )
        step = Step()
        for row in rows:
            try:
                item = self._comment(row, task["id"])
            except Skip as skip:
                step.problems.append(str(skip))
                continue
            if item is None:
                continue
            if int(item.created_at.timestamp()) < since:
                return step  # newest first: the rest is older
            step.items.append(item)
        step.after = after
        return step

    def _comment(self, row: Any, post: str) -> Interaction | None:
        head = self._comment_head(row, self.page_id, "created_time")
        if head is None:
            return None  # the Page's own comment
        comment, person, sender, created = head
        parent = row.get("parent") if isinstance(row.get("parent"), dict) else {}
        return self._comment_item(
            comment=comment,
            post=post,
            parent=valid_id(parent.get("id")),
            person=person,
            sender=sender,
            created=created,
            row=row,
        )

    def _comment_item(
        self,
        *,
        comment: str,
        post: str,
        parent: str,
        person: str,
        sender: Mapping[str, Any],
        created: datetime,
        row: Mapping[str, Any],
    ) -> Interaction:
        url = row.get("permalink_url")
        return Interaction(
            network=self.network,
            external_id=comment,
            kind=Kind.REPLY if parent else Kind.COMMENT,
            author=self._author(person, sender),
            created_at=created,
            text=row.get("message") if isinstance(row.get("message"), str) else "",
            url=url if isinstance(url, str) and url.startswith("https://") else "",
            parent_id=parent or post,
            root_id=post,
            subject_id=post,
            reply_ref=f"c:{comment}>{parent}" if parent else f"c:{comment}",
            raw_kind="comment",
        )

    def _task_reactions(self, task: dict[str, Any], since: int) -> Step:
        rows, after = self._list(
            f"{task['id']}/reactions", "reactions", task, fields="id,name,type", limit=100
        )
        step = Step(after=after)
        now = self.clock()
        for row in rows:
            person = valid_id(row.get("id")) if isinstance(row, dict) else ""
            if not person:
                step.problems.append("a reaction without a usable person")
                continue
            if person == self.page_id:
                continue
            step.items.append(
                self._reaction(task["id"], person, row, str(row.get("type") or ""), now)
            )
        return step

    def _reaction(
        self, subject: str, person: str, raw: Mapping[str, Any], kind: str, created: datetime
    ) -> Interaction:
        return Interaction(
            network=self.network,
            # one per person and post: a changed reaction is the same one
            external_id=f"{subject}/reaction/{person}",
            kind=Kind.LIKE,
            author=self._author(person, raw),
            created_at=created,
            subject_id=subject,
            raw_kind=kind.lower() if kind.upper() in REACTIONS else "reaction",
        )

    def _task_tagged(self, task: dict[str, Any], since: int) -> Step:
        rows, after = self._list(
            f"{self.page_id}/tagged",
            "tagged posts",
            task,
            fields="id,message,created_time,from{id,name},permalink_url",
            limit=25,
        )
        step = Step()
        for row in rows:
            try:
                item = self._mention(row)
            except Skip as skip:
                step.problems.append(str(skip))
                continue
            if item is None:
                continue
            if int(item.created_at.timestamp()) < since:
                return step
            step.items.append(item)
        step.after = after
        return step

    def _mention(self, row: Any) -> Interaction | None:
        if not isinstance(row, dict):
            raise Skip("a tagged post is not an object")
        post = valid_id(row.get("id"))
        sender = row.get("from") if isinstance(row.get("from"), dict) else {}
        person = valid_id(sender.get("id"))
        if not post or not person:
            raise Skip("a tagged post without a usable id or author")
        if person == self.page_id:
            return None
        try:
            created = when(row.get("created_time"))
        except (TypeError, ValueError):
            raise Skip(f"tagged post {post}: no usable time") from None
        url = row.get("permalink_url")
        return Interaction(
            network=self.network,
            external_id=post,
            kind=Kind.MENTION,
            author=self._author(person, sender),
            created_at=created,
            text=row.get("message") if isinstance(row.get("message"), str) else "",
            url=url if isinstance(url, str) and url.startswith("https://") else "",
            reply_ref=f"c:{post}",
            raw_kind="tag",
        )

    def _author(self, person: str, raw: Mapping[str, Any]) -> Author:
        name = raw.get("name") if isinstance(raw.get("name"), str) else ""
        return Author(
            network=self.network,
            external_id=self.scoped(person),
            handle=name[:200] or person,
            display_name=name[:200],
        )

    # -- webhooks (object "page") ----------------------------------------------------------

    def _webhook_change(self, name: str, value: Mapping[str, Any]) -> Interaction | None:
        if name == "feed":
            return self._webhook_feed(value)
        if name == "mention":
            return self._webhook_mention(value)
        return None

    def _webhook_feed(self, value: Mapping[str, Any]) -> Interaction | None:
        item, verb = value.get("item"), value.get("verb")
        if verb != "add" or item not in ("comment", "reaction"):
            return None  # edits, removals, the Page's own posts
        sender = value.get("from") if isinstance(value.get("from"), dict) else {}
        person, post = valid_id(sender.get("id")), valid_id(value.get("post_id"))
        if not person or not post:
            raise Skip(f"a feed {item} without a usable author or post")
        if person == self.page_id:
            return None
        try:
            created = when(value.get("created_time"))
        except (TypeError, ValueError):
            raise Skip(f"a feed {item} without a usable time") from None
        if item == "reaction":
            if value.get("comment_id"):
                return None  # the pull reads reactions to posts only: keep them alike
            kind = str(value.get("reaction_type") or "")
            return self._reaction(post, person, sender, kind, created)
        comment = valid_id(value.get("comment_id"))
        if not comment:
            raise Skip("a feed comment without a usable id")
        parent = valid_id(value.get("parent_id"))
        row = {"message": value.get("message"), "permalink_url": value.get("permalink_url")}
        # a top comment's parent is the post itself
        return self._comment_item(
            comment=comment,
            post=post,
            parent="" if parent == post else parent,
            person=person,
            sender=sender,
            created=created,
            row=row,
        )

    def _webhook_mention(self, value: Mapping[str, Any]) -> Interaction | None:
        if value.get("verb") != "add" or value.get("item") != "post":
            return None  # mentions in comments arrive as feed comments
        person, post = valid_id(value.get("sender_id")), valid_id(value.get("post_id"))
        if not person or not post:
            raise Skip("a mention without a usable author or post")
        try:
            created = when(value.get("created_time"))
        except (TypeError, ValueError):
            raise Skip("a mention without a usable time") from None
        return self._mention(
            {
                "id": post,
                "from": {"id": person, "name": value.get("sender_name")},
                "created_time": created.isoformat(),
                "message": value.get("message"),
            }
        )

    # -- writing ---------------------------------------------------------------------------

    def _reply_path(self, thread: str) -> str:
        return f"{thread}/comments"

    def like(self, to: str) -> None:
        comment, _thread = self._target(to)
        self.graph.call("POST", f"{comment}/likes", "like")

    def _comment_time(self, comment: str) -> datetime:
        body = self.graph.call("GET", comment, "comment", params={"fields": "created_time"})
        try:
            return when(body.get("created_time"))
        except (TypeError, ValueError):
            raise PayloadError("facebook: the comment has no usable time") from None
