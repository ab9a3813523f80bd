from ast import literal_eval
from datetime import datetime, timedelta, timezone

from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase

from ..social_crm_module.interaction import Author, Interaction, Kind, Network, Page

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def heard(n, who, text="The RoastMaster 3000 broke after a week, terrible."):
    return Interaction(
        network=Network.MASTODON,
        external_id=f"status:{n}",
        kind=Kind.LISTENING,
        author=Author(network=Network.MASTODON, external_id=who, handle=who),
        created_at=NOW + timedelta(seconds=n),
        text=text,
        url=f"https://m.example/@x/{n}",
        reply_ref=str(n),
        raw_kind="listening",
    )


@tagged("post_install", "-at_install")
class TestListening(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["social.crm.account"].create(
            {"name": "Brand", "network": "mastodon", "base_url": "https://m.example"}
        )
        cls.query = cls.env["social.crm.listening.query"].create(
            {
                "name": "RoastMaster",
                "account_id": cls.account.id,
                "products": "RoastMaster 3000",
                "languages": "en",
                "exclusions": "giveaway",
                "hourly_cap": 3,
            }
        )
        cls.carla = cls.env["res.partner"].create({"name": "Carla Customer"})
        cls.env["social.crm.identity"].create(
            {
                "network": "mastodon",
                "external_id": "carla@m.example",
                "handle": "carla@m.example",
                "partner_id": cls.carla.id,
                "link_state": "confirmed",
                "match_reason": "manual",
            }
        )

    def _ingest(self, items):
        page = Page(items=tuple(items))
        listening = {i.external_id: str(self.query.id) for i in items}
        return self.account._ingest_page(page, listening)

    def test_a_heard_post_is_a_classified_routed_listening_interaction(self):
        Activity = self.env["mail.activity"]
        before = Activity.search_count([("res_model", "=", "res.partner")])
        created = self._ingest([heard(1, "carla@m.example")])
        self.assertEqual(len(created), 1)
        self.assertEqual(created.kind, "listening")
        self.assertEqual(created.listening_query_id, self.query)
        self.assertEqual(created.partner_id, self.carla, "on the author's identity")
        self.assertEqual(created.intent, "complaint")
        self.assertTrue(created.message_id, "a note on the contact's chatter")
        self.assertIn("Listening", created.message_id.body)
        self.assertEqual(
            Activity.search_count([("res_model", "=", "res.partner")]),
            before + 1,
            "a complaint about the product still becomes a to-do",
        )
        self.assertEqual(self.query.interaction_count, 1)
        action = self.query.action_view_interactions()
        self.assertEqual(self.env["social.crm.interaction"].search(action["domain"]), created)

    def test_the_hourly_cap_drops_and_counts(self):
        first = self._ingest([heard(n, f"p{n}@m.example") for n in range(1, 6)])
        self.assertEqual(len(first), 3)
        self.assertEqual(self.query.dropped_count, 2)
        # the same posts again (a stream replay) neither store nor count anything
        self.assertFalse(self._ingest([heard(n, f"p{n}@m.example") for n in range(1, 4)]))
        self.assertEqual(self.query.dropped_count, 2)
        # the hour is full: new posts are dropped and counted
        self.assertFalse(self._ingest([heard(10, "p10@m.example")]))
        self.assertEqual(self.query.dropped_count, 3)
        # a new hour: room again
        self.query.window_start = self.query.window_start - timedelta(minutes=61)
        self.assertEqual(len(self._ingest([heard(11, "p11@m.example")])), 1)
        self.assertEqual(self.query.window_count, 1)
        # a mention in the same page is never capped
        mention = Interaction(
            network=Network.MASTODON,
            external_id="n99",
            kind=Kind.MENTION,
            author=Author(network=Network.MASTODON, external_id="z@m.example", handle="z"),
            created_at=NOW,
            text="hi",
        )
        self.query.hourly_cap = 1
        created = self._ingest([mention, heard(12, "p12@m.example")])
        self.assertEqual(sorted(created.mapped("kind")), ["mention"])
        self.assertEqual(self.query.dropped_count, 4)

    def test_do_not_track_and_erase_hold_for_listening(self):
        self.carla.social_do_not_track = True
        self.assertFalse(self._ingest([heard(1, "carla@m.example")]))
        self.carla.social_do_not_track = False
        created = self._ingest([heard(2, "carla@m.example")])
        self.assertEqual(len(created), 1)
        manager = new_test_user(
            self.env, "listen_mgr", groups="social_crm_module.group_social_crm_manager"
        )
        self.carla.with_user(manager).action_social_erase()
        self.assertFalse(created.exists())
        self.assertFalse(
            self.env["social.crm.interaction"].search([("kind", "=", "listening")]),
        )

    def test_the_engine_query_is_built_from_the_record(self):
        (query,) = self.query._engine_queries()
        self.assertEqual(query.key, str(self.query.id))
        self.assertTrue(query.matches("my roastmaster 3000 is loud", langs=["en"]))
        self.assertFalse(query.matches("roastmaster 3000 giveaway", langs=["en"]))
        self.assertFalse(query.matches("roastmaster 3000 est bruyant", langs=["fr"]))

    def test_the_listening_menu_shows_listening_only(self):
        self._ingest([heard(1, "carla@m.example")])
        self.account._ingest_page(
            Page(
                items=(
                    Interaction(
                        network=Network.MASTODON,
                        external_id="n1",
                        kind=Kind.MENTION,
                        author=Author(
                            network=Network.MASTODON, external_id="carla@m.example", handle="c"
                        ),
                        created_at=NOW,
                        text="@brand hello",
                    ),
                )
            )
        )
        action = self.env.ref("social_crm_module.social_crm_listening_action")
        found = self.env["social.crm.interaction"].search(literal_eval(action.domain))
        self.assertEqual(found.mapped("kind"), ["listening"])
        self.assertTrue(self.env.ref("social_crm_module.social_crm_listening_menu").action)
