"""Live tier: the Bluesky connector against a real PDS + AppView on 127.0.0.1."""

import time

import pytest
import requests

pytestmark = pytest.mark.live


def _post(pds, acct, record, collection="app.bsky.feed.post"):
    r = requests.post(
        f"{pds}/xrpc/com.atproto.repo.createRecord",
        headers={"Authorization": f"Bearer {acct['jwt']}"},
        json={"repo": acct["did"], "collection": collection, "record": record},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()  # {uri, cid}


def _poll(fn, deadline=15.0):
    end = time.monotonic() + deadline
    while True:
        got = fn()
        if got or time.monotonic() > end:
            return got
        time.sleep(0.1)


def test_network_is_up_and_seeded(devnet):
    for name in ("brand", "alice", "bob"):
        acct = devnet["accounts"][name]
        r = requests.get(
            f"{devnet['pds']}/xrpc/com.atproto.repo.describeRepo",
            params={"repo": acct["did"]},
            timeout=10,
        )
        assert r.status_code == 200
        assert r.json()["handle"] == acct["handle"]


def test_mention_reaches_brand_notifications(devnet):
    brand, alice = devnet["accounts"]["brand"], devnet["accounts"]["alice"]
    text = f"hello @{brand['handle']}"
    start = text.index("@")
    _post(
        devnet["pds"],
        alice,
        {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "facets": [
                {
                    "index": {"byteStart": start, "byteEnd": len(text.encode())},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": brand["did"]}],
                }
            ],
        },
    )

    def mentions():
        r = requests.get(
            f"{devnet['pds']}/xrpc/app.bsky.notification.listNotifications",
            headers={"Authorization": f"Bearer {brand['jwt']}"},
            timeout=10,
        )
        r.raise_for_status()
        return [
            n
            for n in r.json()["notifications"]
            if n["reason"] == "mention" and n["author"]["did"] == alice["did"]
        ]

    assert _poll(mentions), "alice's mention never reached the brand"
