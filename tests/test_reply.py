from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged

from ..social_crm_module.errors import AuthError, NotFound, RateLimited, TransientError
from .common import NOW, SocialCrmCase, make_author, make_interaction, make_page
from .test_campaign import FakeMastodon


class Recording(FakeMastodon):
    def __init__(self, errors=None):
        super().__init__(errors=errors)
        self.likes = []
        self.reposts = []

    def like(self, to):
        self._maybe_fail()
        self.likes.append(to)

    def repost(self, to):
        self._maybe_fail()
        self.reposts.append(to)


@tagged("post_install", "-at_install")
class TestReply(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account(base_url="https://brand.example")
        cls.mia = cls.env["res.partner"].create({"name": "Mia Mention"})
        cls.make_identity(cls.mia, "mia@m.example")
        who = make_author("mia@m.example")
        items = (
            make_interaction(
                "s1",
                who,
                text="Where is my order?",
                url="https://m.example/@mia/s1",
                reply_ref="s1",
            ),
            make_interaction("f1", who, "follow", 1),
        )
        interactions = cls.account._ingest_page(make_page(items))
        cls.mention = interactions.filtered(lambda i: i.kind == "mention")
        cls.follow = interactions.filtered(lambda i: i.kind == "follow")
        cls.salesman = new_test_user(
            cls.env, login="scrm_reply_sales", groups="sales_team.group_sale_salesman"
        )
        # answering as the brand is a right an administrator grants sales staff
        cls.account.answer_user_ids = [(4, cls.salesman.id)]

    def _compose(self, text, user=None):
        env = self.env(user=user) if user else self.env
        action = self.mention.with_env(env).action_open_reply()
        form = Form(env[action["res_model"]].with_context(**action["context"]))
        form.text = text
        return form.save()

    def _notes(self):
        return self.mia.message_ids.filtered(lambda m: "replied" in (m.body or ""))

    def test_reply_goes_out_threaded_and_is_logged(self):
        connector = Recording()
        wizard = self._compose("Sorry Mia, it ships today!", user=self.salesman)
        self.assertEqual((wizard.max_length, wizard.text_length), (500, 26))
        with self.seam(connector):
            wizard.action_send()
        self.assertEqual(connector.replies, [("s1", "Sorry Mia, it ships today!")])
        self.assertEqual(self.mention.answered_by_id, self.salesman)
        self.assertTrue(self.mention.answered_at)
        self.assertEqual(self.mention.answer_url, "https://brand.example/@brand/r1")
        note = self._notes()
        self.assertEqual(len(note), 1)
        self.assertIn("https://brand.example/@brand/r1", note.body)
        self.assertIn("Sorry Mia, it ships today!", note.body)

    def test_failures_are_clear_and_log_nothing(self):
        cases = [
            (RateLimited("429", retry_at=NOW + timedelta(minutes=7)), "try again after"),
            (AuthError("401"), "ask an administrator to reconnect"),
            (NotFound("404"), "The post is gone"),
            (TransientError("timed out"), "not recorded as sent"),
        ]
        for error, message in cases:
            with self.subTest(error=type(error).__name__):
                wizard = self._compose("Hello")
                with (
                    self.seam(Recording(errors=[error])),
                    self.assertRaisesRegex(UserError, message),
                ):
                    wizard.action_send()
                self.assertFalse(self.mention.answered_at)
                self.assertFalse(self._notes())

    def test_too_long_is_refused_before_the_network(self):
        connector = Recording()
        wizard = self._compose("x" * 501)
        self.assertTrue(wizard.too_long)
        with self.seam(connector), self.assertRaisesRegex(UserError, "accepts 500 characters"):
            wizard.action_send()
        self.assertEqual(connector.replies, [])

    def test_the_composer_counts_as_the_network_does(self):
        """Mastodon counts a link as 23 characters, however long it is."""
        link = "https://shop.example/orders/" + "x" * 600
        wizard = self._compose(f"Track it here: {link}")
        self.assertEqual(wizard.text_length, len("Track it here: ") + 23)
        self.assertFalse(wizard.too_long)
        connector = Recording()
        with self.seam(connector):
            wizard.action_send()
        self.assertEqual(len(connector.replies), 1)

    def test_a_follow_cannot_be_answered(self):
        self.assertFalse(self.follow.can_answer)
        with self.assertRaisesRegex(UserError, "cannot be answered"):
            self.follow.action_open_reply()

    def test_a_direct_message_is_answered_not_liked(self):
        who = make_author("mia@m.example")
        item = make_interaction("d1", who, "dm", text="Can you check my invoice?", reply_ref="d1")
        dm = self.account._ingest_page(make_page([item]))
        self.assertEqual((dm.can_answer, dm.can_react), (True, False))
        connector = Recording()
        with self.seam(connector), self.assertRaisesRegex(UserError, "not liked or reposted"):
            dm.action_like()
        self.assertEqual(connector.likes, [])
        self.assertFalse(dm.liked_at)

    def test_like_and_repost_once(self):
        connector = Recording()
        with self.seam(connector):
            self.mention.action_like()
            self.mention.action_repost()
            with self.assertRaisesRegex(UserError, "Already done"):
                self.mention.action_like()
        self.assertEqual((connector.likes, connector.reposts), (["s1"], ["s1"]))
        self.assertTrue(self.mention.liked_at and self.mention.reposted_at)
        with self.seam(Recording(errors=[NotFound("gone")])):
            self.mention.reposted_at = False
            with self.assertRaisesRegex(UserError, "The post is gone"):
                self.mention.action_repost()
        self.assertFalse(self.mention.reposted_at)

    def test_no_dm_to_opted_out_people(self):
        identity = self.mention.identity_id
        connector = Recording()
        with self.seam(connector):
            self.account._social_crm_send_dm(identity, "Hi there")
            self.mia.social_opt_out = True
            with self.assertRaisesRegex(UserError, "opted out"):
                self.account._social_crm_send_dm(identity, "Hi again")
        self.assertEqual(connector.dms, [("mia@m.example", "Hi there")])

    def test_privacy_lookup_finds_handle_only_identities(self):
        stranger = self.env["social.crm.identity"].create(
            {"network": "x", "external_id": "777", "handle": "quietfox"}
        )
        wizard = self.env["privacy.lookup.wizard"].create(
            {"name": "@QuietFox", "email": "nobody@example.com"}
        )
        wizard.action_lookup()
        found = wizard.line_ids.filtered(lambda line: line.res_model == "social.crm.identity")
        self.assertEqual(found.mapped("res_id"), stranger.ids)

    def test_erase_removes_tier_notes_by_subtype(self):
        self.env["res.partner"]._advocate_log_tier_changes({self.mia.id: "gold"})
        tier = self.env.ref("social_crm_module.mt_advocate_tier")
        self.assertTrue(self.mia.message_ids.filtered(lambda m: m.subtype_id == tier))
        self.mia.action_social_erase()
        self.assertFalse(self.mia.message_ids.filtered(lambda m: m.subtype_id == tier))

    def test_recent_interactions_latest_first_in_one_query(self):
        """The Social tab's latest ten, for a whole list of contacts at once."""
        who = make_author("mia@m.example")
        self.account._ingest_page(
            make_page(
                make_interaction(f"old{n}", who, minutes=24 * 60 + n, text=f"older {n}")
                for n in range(12)
            )
        )
        everyone = self.env["res.partner"].search([("social_interaction_ids", "!=", False)])
        self.assertGreater(len(everyone), 1)
        everyone.invalidate_recordset(["social_recent_interaction_ids"])
        with self.assertQueryCount(__system__=1):
            everyone.mapped("social_recent_interaction_ids")
        recent = self.mia.social_recent_interaction_ids
        expected = self.env["social.crm.interaction"].search(
            [("partner_id", "=", self.mia.id)], order="date desc, id desc", limit=10
        )
        self.assertEqual(recent.ids, expected.ids)
        self.assertEqual(recent[0], self.mention, "the newest first")

    def test_lead_and_order_show_the_contacts_history_and_answer_it(self):
        """Sales staff see the person's latest interactions on the lead and the order,
        with the advocate tier, and can reply from there."""
        self.env["social.crm.advocate"].create(
            {"partner_id": self.mia.id, "score": 61.0, "tier": "gold", "rank": 1}
        )
        env = self.env(user=self.salesman)
        lead = env["crm.lead"].create({"name": "Mia's office", "partner_id": self.mia.id})
        order = env["sale.order"].create({"partner_id": self.mia.id})
        for document in (lead, order):
            spec = {
                "social_advocate_tier": {},
                "social_interaction_count": {},
                "social_recent_interaction_ids": {
                    "fields": {"kind": {}, "text": {}, "can_answer": {}}
                },
            }
            (values,) = document.web_read(spec)
            self.assertEqual(values["social_advocate_tier"], "gold")
            self.assertEqual(values["social_interaction_count"], 2)
            rows = values["social_recent_interaction_ids"]
            self.assertEqual(
                [(r["kind"], r["text"], r["can_answer"]) for r in rows],
                [("mention", "Where is my order?", True), ("follow", "", False)],
            )
            arch = document.get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertIn('name="social_recent_interaction_ids"', arch)
            self.assertIn('name="action_open_reply"', arch)
        # the reply button in the lead's list opens the same composer
        action = env["social.crm.interaction"].browse(rows[0]["id"]).action_open_reply()
        self.assertEqual(action["res_model"], "social.crm.reply.wizard")
        # a document without a contact shows nothing, not an error
        (values,) = env["crm.lead"].create({"name": "Nobody"}).web_read(spec)
        self.assertEqual(values["social_recent_interaction_ids"], [])
        self.assertEqual(values["social_advocate_tier"], False)
