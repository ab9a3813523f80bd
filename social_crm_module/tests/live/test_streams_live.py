"""Live tier: the repository event stream of a real PDS on 127.0.0.1.

Customers post through plain XRPC; the brand reads the PDS's
``com.atproto.sync.subscribeRepos`` with :class:`FirehoseStream`, and the pull
(``listNotifications`` through the AppView) for comparison.
"""

import time

import pytest

from social_crm_module.connectors.bluesky import BlueskyConnector
from social_crm_module.interaction import Kind
from social_crm_module.streams import ListeningQuery
from social_crm_module.streams.bluesky import BlueskyEvents, FirehoseStream

from .test_bluesky_connector_live import _create, _mention, _now, _poll

pytestmark = pytest.mark.live


def _ws(url):
    return "ws://" + url.removeprefix("http://")


def _read_until(stream, want, deadline=20.0):
    items, listening, end = [], {}, time.monotonic() + deadline
    for batch in stream.batches():
        items += batch.items
        listening.update(batch.listening)
        if want(items) or time.monotonic() > end:
            break
    stream.close()
    return items, listening


def test_firehose_mention_and_listening_from_the_pds(devnet):
    pds, accounts = devnet["pds"], devnet["accounts"]
    brand, alice, bob = accounts["brand"], accounts["alice"], accounts["bob"]
    mention = _mention(pds, alice, brand, f"@{brand['handle']} my RoastMaster order is late")
    heard = _create(
        pds,
        bob,
        "app.bsky.feed.post",
        {"text": "The RoastMaster 3000 is loud", "langs": ["en"], "createdAt": _now()},
    )
    ignored = _create(pds, bob, "app.bsky.feed.post", {"text": "nice day", "createdAt": _now()})
    query = ListeningQuery.build("q1", products="RoastMaster 3000", languages="en")
    stream = FirehoseStream(_ws(pds), BlueskyEvents(brand["did"], [query]), cursor="0", idle=0.5)
    items, listening = _read_until(
        stream, lambda got: {heard["uri"], mention["uri"]} <= {i.external_id for i in got}
    )
    by_id = {i.external_id: i for i in items}
    assert by_id[mention["uri"]].kind is Kind.MENTION
    assert by_id[heard["uri"]].kind is Kind.LISTENING
    assert listening == {heard["uri"]: "q1"}
    assert ignored["uri"] not in by_id
    assert int(stream.cursor) > 0

    # the pull sees the same mention under the same external id: one interaction
    pull = BlueskyConnector(
        base_url=pds,
        credentials={"identifier": brand["handle"], "app_password": brand["password"]},
        timeout=15,
    )
    pulled = _poll(
        lambda: list(pull.fetch(None).items),
        lambda got: mention["uri"] in {i.external_id for i in got},
    )
    twin = next(i for i in pulled if i.external_id == mention["uri"])
    assert (twin.kind, twin.reply_ref, twin.text) == (
        Kind.MENTION,
        by_id[mention["uri"]].reply_ref,
        by_id[mention["uri"]].text,
    )

    # resuming from the stream's cursor replays nothing already read
    again = FirehoseStream(_ws(pds), BlueskyEvents(brand["did"], [query]), cursor=stream.cursor)
    later = _create(
        pds,
        bob,
        "app.bsky.feed.post",
        {"text": "RoastMaster 3000 again", "langs": ["en"], "createdAt": _now()},
    )
    items, _ = _read_until(again, lambda got: later["uri"] in {i.external_id for i in got})
    assert [i.external_id for i in items] == [later["uri"]]
