from datetime import datetime, timedelta, timezone

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import SocialCrmCase, make_author, make_interaction, make_page


@tagged("post_install", "-at_install")
class TestPrivacy(SocialCrmCase):
    # tracking stays on: erasure must reach tracking values too
    social_crm_context = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account()
        cls.erin = cls.env["res.partner"].create({"name": "Erin Erase"})
        cls.other = cls.env["res.partner"].create({"name": "Olga Other"})
        for partner, handle in ((cls.erin, "erin@m.example"), (cls.other, "olga@m.example")):
            cls.make_identity(partner, handle)
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
            items.append(
                make_interaction(
                    f"e{n}",
                    make_author(handle),
                    created_at=now - timedelta(days=100 * (n % 2)),
                    text=f"post {n} by {handle}",
                )
            )
        cls.account._ingest_page(make_page(items))
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
        who = make_author("erin@m.example")
        now = datetime.now(timezone.utc)
        posts = {
            "eq": "How do I change the email address on my account in Canada?",
            "ep": "Where can I buy the standing desk? I want to order two.",
        }
        self.account._ingest_page(
            make_page(make_interaction(key, who, now=now, text=text) for key, text in posts.items())
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
        traces = [("body", "ilike", "erin@m.example")], [("body", "ilike", "account in Canada")]
        self.assertTrue(any(self.env["mail.message"].search_count(t) for t in traces))

        self.erin.with_user(self.manager).action_social_erase()

        for words in ("erin@m.example", "account in Canada", "standing desk"):
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

    # -- issue 11, finding 9: what erase finds by links, and what it keeps out ------

    def _post(self, handle, external_id, text, display_name=""):
        who = make_author(handle, display_name=display_name or handle)
        now = datetime.now(timezone.utc)
        item = make_interaction(external_id, who, now=now, text=text, reply_ref=external_id)
        return self.account._ingest_page(make_page([item]))

    def test_erase_finds_done_todos_by_link_not_by_their_text(self):
        """Her to-do's summary was edited before it was marked done (the handle is
        not in the message any more); another person's handle matches hers as an
        ilike pattern ('_' is a wildcard): hers goes, the other's stays."""
        erin_identity = self.env["social.crm.identity"].search([("partner_id", "=", self.erin.id)])
        erin_identity.handle = "e_n@m.example"
        enzo = self.env["res.partner"].create({"name": "Enzo"})
        self.make_identity(enzo, "ern@m.example")
        self._post(
            "erin@m.example", "q-erin", "How do I change my delivery address in Peru in the app?"
        )
        self._post(
            "ern@m.example", "q-enzo", "How do I change my delivery address in Chile in the app?"
        )
        mine, his = self.erin.activity_ids, enzo.activity_ids
        self.assertEqual((len(mine), len(his)), (1, 1))
        mine.summary = "Call back"
        mine.action_feedback(feedback="done")
        his.action_feedback(feedback="done")
        self.erin.with_user(self.manager).action_social_erase()
        self.assertFalse(self.env["mail.message"].search([("body", "ilike", "address in Peru")]))
        self.assertTrue(
            self.env["mail.message"].search([("body", "ilike", "address in Chile")]),
            "Enzo's done to-do is his, not hers",
        )

    def test_erase_finds_notes_on_the_account_chatter(self):
        """A like made before the author was linked to her went to the brand
        account's chatter; once the author is hers, erase removes it too."""

        class Fake:
            def like(self, ref):
                return None

        post = self._post("stranger@m.example", "s1", "Nice shoes")
        self.assertFalse(post.partner_id)
        with self.seam(Fake()):
            post.action_like()
        notes = self.account.message_ids.filtered(lambda m: "Liked on" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        post.identity_id.write({"partner_id": self.erin.id, "link_state": "confirmed"})
        self.erin.with_user(self.manager).action_social_erase()
        self.assertFalse(notes.exists())
        self.assertFalse(post.exists())

    def test_erase_reaches_lead_notifications_and_record_names(self):
        seller = new_test_user(
            self.env, login="scrm_priv_seller", groups="sales_team.group_sale_salesman"
        )
        self.env.ref("social_crm_module.routing_rule_purchase_intent").user_id = seller
        self._post(
            "erin@m.example", "buy1", "Where can I buy the standing desk? I want to order two."
        )
        lead = self.env["crm.lead"].search([("social_interaction_id.external_id", "=", "buy1")])
        self.assertTrue(lead)
        on_lead = self.env["mail.message"].search(
            [("model", "=", "crm.lead"), ("res_id", "=", lead.id)]
        )
        self.assertTrue(
            on_lead.filtered(lambda m: "erin@m.example" in (m.record_name or "")),
            "Odoo stores the lead's name on its messages",
        )
        self.erin.with_user(self.manager).action_social_erase()
        self.assertFalse(
            self.env["mail.message"].search(
                [
                    "|",
                    ("record_name", "ilike", "erin@m.example"),
                    ("body", "ilike", "erin@m.example"),
                ]
            )
        )

    def test_erase_removes_coupon_notes_and_emails(self):
        program = self.env["loyalty.program"].create(
            {"name": "Erase 10%", "program_type": "coupons", "trigger": "with_code"}
        )
        self.erin.email = "erin@example.com"
        campaign = self.env["social.crm.campaign"].create(
            {"name": "Erase", "program_id": program.id, "send_social": False, "send_email": True}
        )
        campaign.action_start()
        recipient = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(self.erin, None, None)]
        )
        recipient._deliver()
        code = recipient.coupon_id.code
        self.assertTrue(self.env["mail.message"].search([("body", "ilike", code)]))
        self.erin.with_user(self.manager).action_social_erase()
        self.assertFalse(self.env["mail.message"].search([("body", "ilike", code)]))
        self.assertTrue(recipient.coupon_id.exists(), "the coupon is the company's: kept")

    def test_after_erase_the_next_sync_stores_nothing_of_her(self):
        self.erin.with_user(self.manager).action_social_erase()
        Erased = self.env["social.crm.erased"]
        self.assertEqual(
            Erased._erased_keys([("mastodon", "erin@m.example"), ("mastodon", "olga@m.example")]),
            {("mastodon", "erin@m.example")},
        )
        self.assertFalse(Erased.search([("key", "ilike", "erin")]), "only a salted hash is kept")
        self.assertTrue(self.env["ir.config_parameter"].get_param("social_crm_module.erase_salt"))
        stored = self._post("erin@m.example", "back1", "I am back")
        self.assertFalse(stored)
        self.assertFalse(
            self.env["social.crm.identity"].search([("external_id", "=", "erin@m.example")])
        )
        self.assertTrue(self._post("newbie@m.example", "n1", "hello"), "others still come in")

    def test_deleting_an_identity_cleans_up_like_erase(self):
        self._post(
            "erin@m.example", "buy2", "Where can I buy the standing desk? I want to order two."
        )
        lead = self.env["crm.lead"].search([("social_interaction_id.external_id", "=", "buy2")])
        identity = self.env["social.crm.identity"].search([("external_id", "=", "erin@m.example")])
        identity.unlink()
        self.assertFalse(self.env["mail.message"].search([("body", "ilike", "standing desk")]))
        self.assertFalse(self.env["crm.lead"].search([("description", "ilike", "standing desk")]))
        self.assertTrue(lead.exists())

    def test_retention_leaves_no_identity_or_lead_text_behind(self):
        self.env["ir.config_parameter"].set_param("social_crm_module.retention_days", 30)
        old = self._post(
            "oldie@m.example", "old1", "Where can I buy the standing desk? I want to order two."
        )
        lead = old.lead_id
        self.assertTrue(lead)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE social_crm_interaction SET date = now() - interval '90 days' WHERE id = %s",
            [old.id],
        )
        old.invalidate_recordset()
        identity = old.identity_id
        kept = self.env["social.crm.identity"].search([("external_id", "=", "erin@m.example")])
        self.env["res.partner"]._cron_social_retention()
        self.assertFalse(old.exists())
        self.assertFalse(identity.exists(), "an identity with no interaction left goes too")
        self.assertTrue(kept.exists(), "Erin still has a recent interaction")
        self.assertNotIn("oldie", lead.name)
        self.assertFalse(lead.description)
