"""The normalised records every connector produces: one schema for every network.

The records are frozen dataclasses, so a page can be handed around, hashed and
compared without anyone mutating what a network said. Text is kept exactly as the
network sent it: it is untrusted, and escaping is the job of whoever renders it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .urls import clean_url

#: the longest text an interaction keeps (characters); a network's own limits are
#: far below it, so only a hostile or broken server is cut
MAX_TEXT = 20_000
#: the longest display name an author keeps (characters)
MAX_NAME = 200

_NETWORKS: dict[str, Network] = {}


class _NetworkType(type):
    """``Network.X`` and ``iter(Network)`` read the registry: no network is named here."""

    def __getattr__(cls, name: str) -> Network:
        if name.isupper():
            from . import registry  # noqa: PLC0415 - the registry imports the connectors

            if registry.is_registered(name.lower()):
                return cls(name.lower())
        raise AttributeError(name)

    def __iter__(cls) -> Iterator[Network]:
        from . import registry  # noqa: PLC0415

        return iter([cls(code) for code in registry.codes()])


class Network(str, metaclass=_NetworkType):
    """A network's code (``"x"``, ``"mastodon"``, ...) as its connector registered it.

    A plain ``str`` that only admits registered codes: ``Network("x") == "x"``.
    Networks are plug-ins (see :mod:`.registry`); this type names none of them.
    """

    __slots__ = ()

    def __new__(cls, code: object) -> Network:
        if isinstance(code, Network):
            return code
        from . import registry  # noqa: PLC0415

        if not registry.is_registered(str(code)):
            raise ValueError(f"unknown network {code!r}")
        return cls._of(str(code))

    @classmethod
    def _of(cls, code: str) -> Network:
        """The one instance of ``code`` (so ``is`` compares networks as it did)."""
        try:
            return _NETWORKS[code]
        except KeyError:
            return _NETWORKS.setdefault(code, super().__new__(cls, code))

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def label(self) -> str:
        from . import registry  # noqa: PLC0415

        return registry.get(self).label

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Network({str.__str__(self)!r})"


class Kind(str, enum.Enum):
    """What an interaction is, whatever the network calls it."""

    MENTION = "mention"
    REPLY = "reply"
    QUOTE = "quote"
    COMMENT = "comment"
    DM = "dm"
    REPOST = "repost"
    LIKE = "like"
    FOLLOW = "follow"
    POST = "post"
    #: a public post that names the brand or its products without tagging it
    LISTENING = "listening"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Author:
    """A person (or organisation) on one network, as that network describes them.

    ``external_id`` is the network's stable id (X user id, Mastodon account URI or
    ``user@instance``, Bluesky DID, feed author URI or name); ``handle`` is what
    people type. The last four fields are the *verifiable* signals a profile
    carries; matching only ever links a contact automatically through them.
    """

    network: Network
    external_id: str
    handle: str
    display_name: str = ""
    profile_url: str = ""
    followers_count: int | None = None
    avatar_url: str = ""
    #: the website the person put on their profile (not verified by the network)
    website: str = ""
    #: links the network verified as belonging to the person (Mastodon rel=me)
    verified_links: tuple[str, ...] = ()
    #: an email address the network itself exposes (rare: some feeds, some APIs)
    email: str = ""

    def __post_init__(self) -> None:
        # the browser loads the avatar and people open the profile from the CRM:
        # https only, whatever a connector passed (anything else becomes "")
        for name in ("profile_url", "avatar_url"):
            value = getattr(self, name)
            if value:
                object.__setattr__(self, name, clean_url(value, https_only=True))
        if len(self.display_name) > MAX_NAME:
            object.__setattr__(self, "display_name", self.display_name[:MAX_NAME])


@dataclass(frozen=True, slots=True)
class Interaction:
    """One thing one person did towards, or about, the brand.

    ``external_id`` is unique per brand account. ``parent_id`` / ``root_id`` place
    replies in their thread; ``subject_id`` is the brand's own post that was liked,
    reposted or quoted, when there is one. ``reply_ref`` is an opaque string the
    same connector needs to answer this interaction (a status id, a tweet id, a
    Bluesky root/parent strong-ref pair): store it, hand it back to ``reply``.
    """

    network: Network
    external_id: str
    kind: Kind
    author: Author
    created_at: datetime
    text: str = ""
    url: str = ""
    parent_id: str = ""
    root_id: str = ""
    subject_id: str = ""
    reply_ref: str = ""
    #: the network's own word for the kind ("favourite", "reblog", ...)
    raw_kind: str = ""

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("an interaction needs an external id")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")
        if len(self.text) > MAX_TEXT:
            object.__setattr__(self, "text", self.text[:MAX_TEXT])


@dataclass(frozen=True, slots=True)
class Page:
    """One page of interactions and the cursor that resumes right after it.

    ``cursor`` is opaque: store it in the same transaction as the page's records
    and pass it back to ``fetch``. ``has_more`` says whether another page is
    ready now. ``skipped`` counts items that were malformed and left out; a bad
    item never sinks the page.
    """

    items: tuple[Interaction, ...] = ()
    cursor: str | None = None
    has_more: bool = False
    skipped: int = 0
    #: free-form notes about skipped items (never secrets), for the account log
    problems: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[Interaction]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime (naive values are taken as UTC)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def parse_datetime(value: str | int | float | None) -> datetime:
    """Parse the timestamps networks send: ISO 8601 (with ``Z``) or epoch seconds.

    Raises ``ValueError`` for anything else, so a connector can count the item as
    skipped rather than invent a date.
    """
    if value is None or value == "":
        raise ValueError("missing timestamp")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return utc(datetime.fromisoformat(text))
