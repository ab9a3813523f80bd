from datetime import datetime, timedelta, timezone

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase

from ..social_crm_module.interaction import Author, Interaction, Kind, Network, Page


@tagged("post_install", "-at_install")
class TestPrivacy(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["social.crm.account"].create(
            {"name": "Brand", "network": "mastodon", "base_url": "https://m.example"}
        )
        cls.erin = cls.env["res.partner"].create({"name": "Erin Erase"})
        cls.other = cls.env["res.partner"].create({"name": "Olga Other"})
        for partner, handle in ((cls.erin, "erin@m.example"), (cls.other, "olga@m.example")):
            cls.env["social.crm.identity"].create(
                {
                    "network": "mastodon",
                    "external_id": handle,
                    "handle": handle,
                    "partner_id": partner.id,
                    "link_state": "confirmed",
                    "match_reason": "manual",
                }
            )
        # an identity someone said is NOT Erin keeps that memory until she is erased
        cls.env["social.crm.identity"].create(
            {
                "network": "x",
                "external_id": "99",
                "handle": "notErin",
                "rejected_partner_ids": [(4, cls.erin.id)],
            }
        )
        now = datetime.now(timezone.utc)
        items = []
        for n, handle in enumerate(["erin@m.example"] * 3 + ["olga@m.example"] * 2):
            who = Author(network=Network.MASTODON, external_id=handle, handle=handle)
            items.append(
                Interaction(
                    network=Network.MASTODON,
                    external_id=f"e{n}",
                    author=who,
                    kind=Kind.MENTION,
                    text=f"post {n} by {handle}",
                    created_at=now - timedelta(days=100 * (n % 2)),
                )
            )
        cls.account._ingest_page(Page(items=tuple(items)))
        cls.env["res.partner"]._advocate_recompute()
        cls.manager = new_test_user(
            cls.env,
            login="scrm_priv_manager",
            groups="base.group_user,social_crm_module.group_social_crm_manager",
        )
        cls.user = new_test_user(
            cls.env,
            login="scrm_priv_user",
            groups="base.group_user,social_crm_module.group_social_crm_user",
        )

    def _social_of(self, partner):
        subtype = self.env.ref("social_crm_module.mt_social_interaction")
        return {
            "identities": self.env["social.crm.identity"].search_count(
                ["|", ("partner_id", "=", partner.id), ("rejected_partner_ids", "in", partner.ids)]
            ),
            "interactions": self.env["social.crm.interaction"].search_count(
                [("partner_id", "=", partner.id)]
            ),
            "notes": self.env["mail.message"].search_count(
                [
                    ("model", "=", "res.partner"),
                    ("res_id", "=", partner.id),
                    ("subtype_id", "=", subtype.id),
                ]
            ),
            "score": self.env["social.crm.advocate"].search_count(
                [("partner_id", "=", partner.id)]
            ),
            "handle in messages": self.env["mail.message"].search_count(
                [
                    ("model", "=", "res.partner"),
                    ("res_id", "=", partner.id),
                    ("body", "ilike", "erin@m.example"),
                ]
            ),
        }

    def test_erase_leaves_nothing_but_one_anonymous_note(self):
        before = self._social_of(self.erin)
        self.assertEqual(before["interactions"], 3)
        self.assertEqual(before["notes"], 3)
        self.assertEqual(before["identities"], 2)
        other_before = self._social_of(self.other)
        self.erin.with_user(self.manager).action_social_erase()
        self.assertEqual(self._social_of(self.erin), dict.fromkeys(before, 0))
        self.assertFalse(
            self.env["social.crm.identity"].search([("handle", "=", "erin@m.example")])
        )
        self.assertFalse(self.env["social.crm.interaction"].search([("text", "ilike", "erin@")]))
        erased = self.erin.message_ids.filtered(lambda m: "Social data erased" in (m.body or ""))
        self.assertEqual(len(erased), 1)
        self.assertNotIn("erin@", erased.body)
        self.assertEqual(self._social_of(self.other), other_before, "nobody else is touched")
        self.assertTrue(self.env["social.crm.identity"].search([("handle", "=", "notErin")]))

    def test_erase_reaches_what_routing_made_of_her_posts(self):
        """Her question became a to-do (marked done: its summary and note are in the
        chatter), her buying signal a lead: after erasure no message, to-do, lead or
        tracking value anywhere still holds her handle or her words."""
        who = Author(
            network=Network.MASTODON, external_id="erin@m.example", handle="erin@m.example"
        )
        now = datetime.now(timezone.utc)
        posts = {
            "eq": "Do you ship to Canada? How long does it take?",
            "ep": "Where can I buy the standing desk? I want to order two.",
        }
        self.account._ingest_page(
            Page(
                items=tuple(
                    Interaction(
                        network=Network.MASTODON,
                        external_id=key,
                        author=who,
                        kind=Kind.MENTION,
                        text=text,
                        created_at=now,
                    )
                    for key, text in posts.items()
                )
            )
        )
        todo = self.erin.activity_ids
        self.assertEqual(len(todo), 1)
        self.assertFalse(
            self.env["mail.message"].search(
                [("message_type", "=", "user_notification"), ("body", "ilike", "erin@m.example")]
            ),
            "no assignment notification copies her words",
        )
        todo.action_feedback(feedback="Answered: yes, 5 days.")
        lead = self.env["crm.lead"].search([("social_interaction_id.external_id", "=", "ep")])
        self.assertIn("erin@m.example", lead.name)
        traces = [("body", "ilike", "erin@m.example")], [("body", "ilike", "ship to Canada")]
        self.assertTrue(any(self.env["mail.message"].search_count(t) for t in traces))

        self.erin.with_user(self.manager).action_social_erase()

        for words in ("erin@m.example", "ship to Canada", "standing desk"):
            with self.subTest(words=words):
                self.assertFalse(self.env["mail.message"].search([("body", "ilike", words)]))
                self.assertFalse(
                    self.env["mail.activity"].search(
                        ["|", ("summary", "ilike", words), ("note", "ilike", words)]
                    )
                )
                self.assertFalse(
                    self.env["crm.lead"].search(
                        ["|", ("name", "ilike", words), ("description", "ilike", words)]
                    )
                )
                self.assertFalse(
                    self.env["mail.tracking.value"].search(
                        [
                            "|",
                            ("old_value_char", "ilike", words),
                            ("new_value_char", "ilike", words),
                        ]
                    )
                )
        self.assertTrue(lead.exists(), "the lead is the company's: kept, without her words")
        self.assertEqual(lead.name, "Purchase intent (social data erased)")

    def test_only_managers_erase(self):
        with self.assertRaises(AccessError):
            self.erin.with_user(self.user).action_social_erase()
        self.assertEqual(self._social_of(self.erin)["interactions"], 3)

    def test_retention_purges_old_interactions_and_their_notes(self):
        self.assertEqual(self.env["res.partner"]._cron_social_retention(), 0)  # off by default
        self.env["ir.config_parameter"].set_param("social_crm_module.retention_days", 30)
        Interaction = self.env["social.crm.interaction"]
        cutoff = datetime.now() - timedelta(days=30)
        every_old = Interaction.search_count([("date", "<", cutoff)])  # demo data included
        old = Interaction.search([("date", "<", cutoff), ("account_id", "=", self.account.id)])
        old_notes = old.message_id
        self.assertEqual(len(old), 2)
        self.assertEqual(len(old_notes), 2)
        self.assertEqual(self.env["res.partner"]._cron_social_retention(), every_old)
        self.assertFalse(old.exists())
        self.assertFalse(old_notes.exists())
        self.assertEqual(
            self.env["social.crm.interaction"].search_count([("account_id", "=", self.account.id)]),
            3,
        )
