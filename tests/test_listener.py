import json
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tests.common import TransactionCase

from ..cli.social_listen import AccountListener, Listener, _LostLease
from ..social_crm_module.connectors.bluesky import BlueskyConnector
from ..social_crm_module.interaction import Author, Network
from ..social_crm_module.testing import FakeWebSocketServer

BRAND = "did:plc:brandacme2222222222222222"
ALICE = "did:plc:alicecust3333333333333333"
# the events come after the stream connects (a first connection's cursor is its time)
T = int(time.time() * 1_000_000) + 600_000_000


def commit(rkey, text, t, **record):
    return json.dumps(
        {
            "did": ALICE,
            "time_us": t,
            "kind": "commit",
            "commit": {
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": rkey,
                "cid": f"bafyreifake{rkey}",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": text,
                    "createdAt": "2026-12-02T05:06:40.000Z",
                    "langs": ["en"],
                    **record,
                },
            },
        }
    )


MENTION = commit(
    "3lmention0001",
    "@acme.test my order is late, terrible",
    T + 1,
    facets=[
        {
            "index": {"byteStart": 0, "byteEnd": 10},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BRAND}],
        }
    ],
)
HEARD = commit("3llisten00001", "The RoastMaster 3000 broke after a week", T + 2)


class _Connector(BlueskyConnector):
    """The brand's session and profiles without a network (the stream is real)."""

    lookups = 0

    def check(self):
        return Author(network=Network.BLUESKY, external_id=BRAND, handle="acme.test")

    def profiles(self, ids):
        type(self).lookups += 1
        for did in ids:
            yield Author(network=Network.BLUESKY, external_id=did, handle="alice.test")


@tagged("post_install", "-at_install")
class TestListener(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["social.crm.account"].create(
            {"name": "Brand", "network": "bluesky", "stream_enabled": True, "state": "connected"}
        )
        cls.env["social.crm.listening.query"].create(
            {"name": "RoastMaster", "account_id": cls.account.id, "products": "RoastMaster 3000"}
        )
        cls.alice = cls.env["res.partner"].create({"name": "Alice"})
        cls.env["social.crm.identity"].create(
            {
                "network": "bluesky",
                "external_id": ALICE,
                "handle": "alice.test",
                "partner_id": cls.alice.id,
                "link_state": "confirmed",
                "match_reason": "manual",
            }
        )
        cls.Stream = cls.env["social.crm.stream"]

    def setUp(self):
        super().setUp()
        _Connector.lookups = 0
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)
        patcher = patch.object(
            type(self.env["social.crm.account"]),
            "_get_connector",
            lambda account: _Connector(base_url="http://127.0.0.1"),
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def _stream_row(self):
        return self.Stream.search([("account_id", "=", self.account.id)])

    def test_one_holder_at_a_time_and_a_lapsed_lease_is_taken_back(self):
        Stream, aid = self.Stream, self.account.id
        self.assertTrue(Stream._acquire(aid, "a:1", 30))
        self.assertFalse(Stream._acquire(aid, "b:2", 30), "held by a")
        self.assertTrue(Stream._acquire(aid, "a:1", 30), "a renews its own")
        self.assertTrue(Stream._fence(aid, "a:1", 30))
        self.assertFalse(Stream._fence(aid, "b:2", 30))
        # a dies: its lease lapses, b takes the account, a is fenced out
        self._stream_row().flush_recordset()
        self.env.cr.execute(
            "UPDATE social_crm_stream SET lease_until = %s WHERE account_id = %s",
            [fields.Datetime.now() - timedelta(seconds=1), aid],
        )
        self.assertTrue(Stream._acquire(aid, "b:2", 30))
        self.assertFalse(Stream._fence(aid, "a:1", 30))
        self.assertEqual(self._stream_row().holder, "b:2")
        Stream._release(aid, "b:2")
        self.assertTrue(Stream._acquire(aid, "c:3", 30), "a released account is free")

    def test_the_listener_stores_each_batch_with_its_cursor(self):
        self.assertEqual(self.account._social_crm_streaming_accounts(), self.account)
        with FakeWebSocketServer([[("send", MENTION), ("send", HEARD), ("hold",)]]) as server:
            self.account.sudo().stream_url = server.url
            self.env.flush_all()  # the listener reads through its own cursor
            listener = Listener(self.env.cr.dbname, lease=30, idle=0.2)
            self.assertTrue(self.Stream._acquire(self.account.id, listener.holder, 30))
            worker = AccountListener(listener, self.account.id, None)
            stream, replays = worker._open()
            self.assertTrue(replays)
            frames = 0
            for batch in stream.batches():
                worker._store(batch)
                frames += batch.frames
                if frames >= 2:
                    break
            stream.close()
            self.assertIn("wantedCollections", server.connections[0]["path"])
        found = self.env["social.crm.interaction"].search([("account_id", "=", self.account.id)])
        self.assertEqual(sorted(found.mapped("kind")), ["listening", "mention"])
        mention = found.filtered(lambda i: i.kind == "mention")
        self.assertEqual(mention.external_id, f"at://{ALICE}/app.bsky.feed.post/3lmention0001")
        self.assertEqual(mention.partner_id, self.alice)
        self.assertTrue(mention.message_id, "in the chatter")
        self.assertEqual(
            found.filtered(lambda i: i.kind == "listening").listening_query_id.name, "RoastMaster"
        )
        row = self._stream_row()
        self.assertEqual(row.cursor, str(T + 2))
        self.assertEqual((row.state, row.events), ("connected", 2))
        self.assertTrue(row.connected_since and row.last_event_at)
        self.assertFalse(self.account.cursor, "the pull's own cursor is left alone")
        self.account.invalidate_recordset()
        self.assertEqual(self.account.stream_state, "connected")
        self.assertEqual(self.account.stream_events, 2)
        self.assertEqual(_Connector.lookups, 0, "Alice is known: no profile lookup")

    def test_a_listener_that_lost_its_lease_stores_nothing(self):
        with FakeWebSocketServer([[("send", MENTION), ("hold",)]]) as server:
            self.account.sudo().stream_url = server.url
            self.env.flush_all()  # the listener reads through its own cursor
            listener = Listener(self.env.cr.dbname, lease=30, idle=0.2)
            self.assertTrue(self.Stream._acquire(self.account.id, listener.holder, 30))
            worker = AccountListener(listener, self.account.id, None)
            stream, _replays = worker._open()
            batch = next(b for b in stream.batches() if b.frames)
            stream.close()
        self.env.cr.execute(
            "UPDATE social_crm_stream SET holder = 'other:9' WHERE account_id = %s",
            [self.account.id],
        )
        with self.assertRaises(_LostLease):
            worker._store(batch)
        self.assertFalse(
            self.env["social.crm.interaction"].search([("account_id", "=", self.account.id)])
        )

    def test_a_new_authors_handle_is_looked_up(self):
        bob = "did:plc:bobcustom4444444444444444"
        frame = json.loads(MENTION)
        frame["did"] = bob
        with FakeWebSocketServer([[("send", json.dumps(frame)), ("hold",)]]) as server:
            self.account.sudo().stream_url = server.url
            self.env.flush_all()
            listener = Listener(self.env.cr.dbname, lease=30, idle=0.2)
            self.assertTrue(self.Stream._acquire(self.account.id, listener.holder, 30))
            worker = AccountListener(listener, self.account.id, None)
            stream, _replays = worker._open()
            worker._store(next(b for b in stream.batches() if b.frames))
            stream.close()
        identity = self.env["social.crm.identity"].search([("external_id", "=", bob)])
        self.assertEqual(identity.handle, "alice.test", "the handle the lookup answered")
        self.assertEqual(_Connector.lookups, 1)


@tagged("post_install", "-at_install")
class TestListenerCatchUp(TransactionCase):
    """A stream that keeps no position (Mastodon): the pull runs once after each
    connection, the socket already open, so nothing falls between the two."""

    def setUp(self):
        super().setUp()
        self.registry.enter_test_mode(self.cr)
        self.addCleanup(self.registry.leave_test_mode)

    def test_the_pull_catches_up_once_connected(self):
        from ..social_crm_module.connectors.mastodon import MastodonConnector  # noqa: PLC0415

        class Brand(MastodonConnector):
            def check(self):
                return Author(network=Network.MASTODON, external_id="acme@m.example", handle="a")

        account = self.env["social.crm.account"].create(
            {
                "name": "Brand",
                "network": "mastodon",
                "base_url": "https://m.example",
                "stream_enabled": True,
                "state": "connected",
            }
        )
        account.sudo().access_token = "t0ken"
        events = []
        Account = type(account)
        with (
            FakeWebSocketServer([[("hold",)]]) as server,
            patch.object(
                Account,
                "_get_connector",
                lambda a: Brand(base_url="https://m.example", credentials={"access_token": "x"}),
            ),
            patch.object(Account, "_sync", lambda a, max_pages=None: events.append("pull")),
        ):
            account.sudo().stream_url = server.url
            self.env.flush_all()
            listener = Listener(self.env.cr.dbname, lease=30, idle=0.2)
            self.assertTrue(self.env["social.crm.stream"]._acquire(account.id, listener.holder, 30))
            worker = AccountListener(listener, account.id, None)
            original = worker._store

            def store(batch):
                events.append(f"connected:{len(server.connections)}")
                original(batch)
                if len(events) >= 4:
                    listener.stop.set()

            worker._store = store
            worker._follow()
        self.assertEqual(events[:2], ["connected:1", "pull"])
        self.assertEqual(events.count("pull"), 1, "once per connection, not per batch")
        self.assertEqual(
            self.env["social.crm.stream"].search([("account_id", "=", account.id)]).state,
            "connected",
        )
