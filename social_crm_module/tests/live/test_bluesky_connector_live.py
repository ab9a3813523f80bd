"""Live tier: the real BlueskyConnector against PLC + PDS + AppView on 127.0.0.1.

The customers act through plain XRPC (as the Bluesky app would); the brand's side is
only ever the connector under test.
"""

import json
import time

import pytest
import requests

from social_crm_module.connectors.bluesky import BlueskyConnector
from social_crm_module.interaction import Kind

pytestmark = pytest.mark.live


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _create(pds, acct, collection, record):
    r = requests.post(
        f"{pds}/xrpc/com.atproto.repo.createRecord",
        headers={"Authorization": f"Bearer {acct['jwt']}"},
        json={
            "repo": acct["did"],
            "collection": collection,
            "record": {"$type": collection, **record},
        },
        timeout=30,
    )
    r.raise_for_status()
    return r.json()  # {uri, cid}


def _mention(pds, author, target, text):
    byte_start = len(text[: text.index("@")].encode())  # facets count UTF-8 bytes
    byte_end = byte_start + len(("@" + target["handle"]).encode())
    return _create(
        pds,
        author,
        "app.bsky.feed.post",
        {
            "text": text,
            "createdAt": _now(),
            "facets": [
                {
                    "index": {"byteStart": byte_start, "byteEnd": byte_end},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#mention", "did": target["did"]}
                    ],
                }
            ],
        },
    )


def _poll(fetch_once, want, deadline=20.0):
    """Fetch until ``want(items)`` holds or the deadline passes (the AppView indexes
    within ~0.1 s when busy and ~1 s after an idle spell)."""
    items, end = [], time.monotonic() + deadline
    while True:
        items += fetch_once()
        if want(items) or time.monotonic() > end:
            return items
        time.sleep(0.2)


@pytest.fixture(scope="module")
def brand(devnet):
    acct = devnet["accounts"]["brand"]
    return BlueskyConnector(
        base_url=devnet["pds"],
        credentials={"identifier": acct["handle"], "app_password": acct["password"]},
        timeout=15,
    )


def test_every_kind_arrives_normalised_and_cursor_resumes(devnet, brand):
    pds = devnet["pds"]
    b, alice, bob = (devnet["accounts"][n] for n in ("brand", "alice", "bob"))
    post = _create(
        pds, b, "app.bsky.feed.post", {"text": "Our new desk is out", "createdAt": _now()}
    )
    strong = {"uri": post["uri"], "cid": post["cid"]}
    _mention(pds, alice, b, f"Loving the desk from @{b['handle']}")
    _create(
        pds,
        alice,
        "app.bsky.feed.post",
        {
            "text": "Congrats on the launch!",
            "createdAt": _now(),
            "reply": {"root": strong, "parent": strong},
        },
    )
    _create(pds, bob, "app.bsky.feed.like", {"subject": strong, "createdAt": _now()})
    _create(pds, bob, "app.bsky.feed.repost", {"subject": strong, "createdAt": _now()})
    _create(pds, bob, "app.bsky.graph.follow", {"subject": b["did"], "createdAt": _now()})
    _create(
        pds,
        alice,
        "app.bsky.feed.post",
        {
            "text": "This one is worth it",
            "createdAt": _now(),
            "embed": {"$type": "app.bsky.embed.record", "record": strong},
        },
    )

    state = {"cursor": None}

    def fetch_once():
        page = brand.fetch(state["cursor"])
        state["cursor"] = page.cursor
        return list(page.items)

    wanted = {Kind.MENTION, Kind.REPLY, Kind.LIKE, Kind.REPOST, Kind.FOLLOW, Kind.QUOTE}
    items = _poll(fetch_once, lambda got: wanted <= {i.kind for i in got})
    kinds = {i.kind: i for i in items}
    assert wanted <= set(kinds), sorted(k.value for k in kinds)
    assert len({i.external_id for i in items}) == len(items), "a notification came twice"
    assert kinds[Kind.MENTION].author.external_id == alice["did"]
    assert kinds[Kind.MENTION].author.handle == alice["handle"]
    assert "Loving the desk" in kinds[Kind.MENTION].text
    assert kinds[Kind.REPLY].text == "Congrats on the launch!"
    assert kinds[Kind.LIKE].subject_id == post["uri"]
    assert kinds[Kind.REPOST].subject_id == post["uri"]
    assert kinds[Kind.FOLLOW].author.external_id == bob["did"]
    assert kinds[Kind.QUOTE].text == "This one is worth it"
    assert kinds[Kind.MENTION].url.startswith("https://bsky.app/profile/")

    # resume from the stored cursor: only what is new, nothing seen before
    seen = {i.external_id for i in items}
    later = _mention(pds, bob, b, f"Question for @{b['handle']}: do you ship to Lyon?")
    more = _poll(fetch_once, lambda got: any(i.external_id == later["uri"] for i in got))
    assert [i.external_id for i in more] == [later["uri"]]
    assert not seen & {i.external_id for i in more}

    # the connector's reply lands in the customer's notifications, threaded
    reply = brand.reply(kinds[Kind.MENTION].reply_ref, f"Thank you @{alice['handle']}!")
    assert reply.url.startswith("https://bsky.app/profile/")

    def alice_notifications():
        r = requests.get(
            f"{pds}/xrpc/app.bsky.notification.listNotifications",
            headers={"Authorization": f"Bearer {alice['jwt']}"},
            timeout=10,
        )
        r.raise_for_status()
        return [
            n
            for n in r.json()["notifications"]
            if n["reason"] in ("reply", "mention") and n["author"]["did"] == b["did"]
        ]

    got = _poll(alice_notifications, bool)
    assert got, "the brand's reply never reached the customer"
    record = got[0]["record"]
    ref = json.loads(kinds[Kind.MENTION].reply_ref)
    assert record["reply"]["parent"]["uri"] == ref["parent"]["uri"]
    assert record["reply"]["root"]["uri"] == ref["root"]["uri"]


def test_profiles_report_followers(devnet, brand):
    b, bob = devnet["accounts"]["brand"], devnet["accounts"]["bob"]

    def lookup():
        return [a for a in brand.profiles([b["did"], bob["handle"]]) if a.followers_count]

    authors = _poll(lookup, bool)
    by_did = {a.external_id: a for a in brand.profiles([b["did"], bob["handle"]])}
    assert by_did[b["did"]].followers_count >= 1, authors
    assert by_did[bob["did"]].handle == bob["handle"]
