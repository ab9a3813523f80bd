"""Issue 11: no lower role crosses a boundary the add-on promises, and one company
never sees another's social data. One test (or more) per finding."""

from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from ..social_crm_module.errors import AuthError
from .common import SocialCrmCase, make_author, make_interaction, make_page
from .test_campaign import FakeMastodon


@tagged("post_install", "-at_install")
class TestBoundaries(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.account_a = cls.make_account(
            "A on Mastodon",
            base_url="https://a.example",
            access_token="token-of-a",
            company_id=cls.company_a.id,
        )
        cls.account_b = cls.make_account(
            "B on Mastodon",
            base_url="https://b.example",
            access_token="token-of-b",
            company_id=cls.company_b.id,
        )
        cls.manager = new_test_user(
            cls.env,
            login="scrm_bound_manager",
            groups="social_crm_module.group_social_crm_manager",
        )
        cls.user_a = new_test_user(
            cls.env,
            login="scrm_bound_user_a",
            groups="social_crm_module.group_social_crm_user,sales_team.group_sale_salesman",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.user_b = new_test_user(
            cls.env,
            login="scrm_bound_user_b",
            groups="social_crm_module.group_social_crm_user,sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.salesman = new_test_user(
            cls.env, login="scrm_bound_sales", groups="sales_team.group_sale_salesman"
        )
        cls.employee = new_test_user(cls.env, login="scrm_bound_employee", groups="base.group_user")

    def _ingest(self, account, items):
        return account.with_company(account.company_id)._ingest_page(make_page(items))

    # -- 1. credentials go only where an administrator pointed them ----------------------

    def test_a_manager_moving_an_account_clears_its_credentials(self):
        account = self.account_a.with_user(self.manager)
        account.write({"base_url": "https://attacker.example"})
        self.assertFalse(self.account_a.access_token, "the token must not follow the URL")
        self.assertIn("credentials were cleared", self.account_a.message_ids[:1].body)
        # an administrator may re-point an account and keep its token
        self.account_b.write({"base_url": "https://b2.example"})
        self.assertEqual(self.account_b.access_token, "token-of-b")

    def test_a_manager_changing_network_or_login_clears_credentials_too(self):
        self.account_a.with_user(self.manager).write({"login": "someone-else"})
        self.assertFalse(self.account_a.access_token)

    def test_credentials_travel_over_https_only(self):
        with self.assertRaisesRegex(ValidationError, "https"):
            self.account_b.write({"base_url": "http://b.example"})
        # a server on this machine (a local PDS, the tests) may be plain http
        self.account_b.write({"base_url": "http://127.0.0.1:8080"})
        with self.assertRaisesRegex(ValidationError, "https"):
            self.env["social.crm.account"].create(
                {
                    "name": "Leaky",
                    "network": "mastodon",
                    "base_url": "http://public.example",
                    "access_token": "t",
                }
            )

    # -- 2. company walls --------------------------------------------------------------

    def test_the_same_author_in_two_companies_is_two_people(self):
        """A DM to company B never lands in a company A contact's chatter; neither
        company sees the other's text, identities, scores, leads or activities."""
        Partner = self.env["res.partner"]
        ann_a = Partner.create(
            {"name": "Ann Shared", "email": "ann@x.example", "company_id": self.company_a.id}
        )
        ann_b = Partner.create(
            {"name": "Ann Shared", "email": "ann@x.example", "company_id": self.company_b.id}
        )
        who = make_author("ann@x.example", display_name="Ann Shared", email="ann@x.example")
        routing = self.env["social.crm.routing.rule"]
        routing.search([]).write({"active": False})
        routing.create(
            {
                "name": "B complaints",
                "intent": "complaint",
                "action": "activity",
                "company_id": self.company_b.id,
                "user_id": self.user_b.id,
            }
        )
        routing.create(
            {
                "name": "B leads",
                "intent": "purchase_intent",
                "action": "lead",
                "only_prospects": False,
                "company_id": self.company_b.id,
                "user_id": self.user_b.id,
            }
        )
        # a complaint to A: B's complaint rule must not route it
        self._ingest(
            self.account_a,
            [
                make_interaction(
                    "a1",
                    who,
                    minutes=5,
                    text="My parcel arrived broken, terrible service",
                    reply_ref="a1",
                    url="https://m.example/a1",
                )
            ],
        )
        self._ingest(
            self.account_b,
            [
                make_interaction(
                    "b1",
                    who,
                    "dm",
                    minutes=3,
                    text="My secret order 4711 arrived broken, terrible",
                    reply_ref="b1",
                ),
                make_interaction(
                    "b2",
                    who,
                    minutes=1,
                    text="How much is the blue one? I want to buy it",
                    reply_ref="b2",
                    url="https://m.example/b2",
                ),
            ],
        )
        Identity = self.env["social.crm.identity"]
        ident_a = Identity.search(
            [("company_id", "=", self.company_a.id), ("handle", "=", who.handle)]
        )
        ident_b = Identity.search(
            [("company_id", "=", self.company_b.id), ("handle", "=", who.handle)]
        )
        self.assertEqual((len(ident_a), len(ident_b)), (1, 1))
        self.assertEqual((ident_a.partner_id, ident_b.partner_id), (ann_a, ann_b))
        # each company's chatter has its own interactions only
        self.assertFalse(ann_a.message_ids.filtered(lambda m: "4711" in (m.body or "")))
        self.assertFalse(ann_a.message_ids.filtered(lambda m: "Direct message" in (m.body or "")))
        self.assertTrue(ann_b.message_ids.filtered(lambda m: "Direct message" in (m.body or "")))
        # as the users of each company
        for user, mine, theirs in ((self.user_a, "a1", "b1"), (self.user_b, "b1", "a1")):
            env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
            found = env["social.crm.interaction"].search([("external_id", "in", ["a1", "b1"])])
            self.assertEqual(found.mapped("external_id"), [mine], user.login)
            idents = env["social.crm.identity"].search([("handle", "=", who.handle)])
            self.assertEqual(idents.company_id, user.company_id)
            self.assertNotIn(theirs, env["social.crm.interaction"].search([]).mapped("external_id"))
        # scores: each company's contact has its own, and sees only its own
        self.env["res.partner"]._advocate_recompute()
        scored = self.env["social.crm.advocate"].search([("partner_id", "in", (ann_a | ann_b).ids)])
        self.assertIn(ann_b, scored.partner_id)
        for user, mine in ((self.user_a, ann_a), (self.user_b, ann_b)):
            env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
            seen = env["social.crm.advocate"].search([("partner_id", "in", (ann_a | ann_b).ids)])
            self.assertEqual(seen.partner_id, scored.partner_id & mine, user.login)
        # B's routing made B's activity and B's lead, in company B, nothing in A
        lead = self.env["crm.lead"].search([("social_interaction_id.external_id", "=", "b2")])
        self.assertEqual(lead.company_id, self.company_b)
        env_a = self.env(user=self.user_a, context={"allowed_company_ids": self.company_a.ids})
        self.assertFalse(env_a["crm.lead"].search([("id", "=", lead.id)]))
        activity = self.env["mail.activity"].search(
            [("social_crm_interaction_id.external_id", "=", "b1")]
        )
        self.assertEqual(activity.user_id, self.user_b)
        self.assertFalse(
            self.env["mail.activity"].search(
                [("social_crm_interaction_id.external_id", "in", ["a1", "b2"])]
            )
        )

    def test_matching_reads_only_the_accounts_company_and_shared_contacts(self):
        self.env["res.partner"].create(
            {"name": "Only In B", "email": "onlyb@x.example", "company_id": self.company_b.id}
        )
        shared = self.env["res.partner"].create({"name": "Shared Sam", "email": "sam@x.example"})
        olga = make_author("onlyb@x.example", email="onlyb@x.example")
        sam = make_author("sam@x.example", email="sam@x.example")
        created = self._ingest(
            self.account_a,
            [
                make_interaction("m1", olga, text="hi", reply_ref="m1", url="https://m.example/m1"),
                make_interaction("m2", sam, text="hi", reply_ref="m2", url="https://m.example/m2"),
            ],
        )
        by_id = {i.external_id: i for i in created}
        self.assertFalse(by_id["m1"].identity_id.partner_id, "B's contact is not A's to link")
        self.assertEqual(by_id["m2"].identity_id.partner_id, shared)

    def test_the_cron_runs_each_account_in_its_company(self):
        seen = []

        def record(account, *args, **kwargs):
            seen.append((account.id, account.env.company.id))
            return 0, 0

        self.env["social.crm.account"].search([]).write({"state": "paused"})
        (self.account_a | self.account_b).write({"state": "connected"})
        with patch.object(type(self.env["social.crm.account"]), "_sync", record):
            self.env["social.crm.account"]._cron_sync()
        self.assertEqual(
            sorted(seen),
            sorted(
                [(self.account_a.id, self.company_a.id), (self.account_b.id, self.company_b.id)]
            ),
        )

    # -- 3. related and computed fields are read as the user ---------------------------

    def test_the_reply_wizard_shows_nothing_the_user_may_not_read(self):
        who = make_author("zed@x.example")
        (b_dm,) = self._ingest(
            self.account_b,
            [make_interaction("b9", who, "dm", text="B's private words", reply_ref="b9")],
        )
        env_a = self.env(user=self.user_a, context={"allowed_company_ids": self.company_a.ids})
        with self.assertRaises(AccessError):
            env_a["social.crm.reply.wizard"].create({"interaction_id": b_dm.id, "text": "hi"})
        # and a related field read on a record the rules hide raises, never leaks
        wizard = self.env["social.crm.reply.wizard"].create({"interaction_id": b_dm.id})
        with self.assertRaises(AccessError):
            wizard.with_env(env_a).read(["original_text"])

    def test_lead_and_order_history_is_read_as_the_user(self):
        partner = self.env["res.partner"].create({"name": "Cross Company Carl"})
        who = make_author("carl@x.example")
        self.make_identity(
            partner, who.handle, external_id=who.external_id, company_id=self.company_b.id
        )
        self._ingest(
            self.account_b,
            [
                make_interaction(
                    "c1", who, text="Carl talks to B", reply_ref="c1", url="https://m.example/c1"
                )
            ],
        )
        env_a = self.env(user=self.user_a, context={"allowed_company_ids": self.company_a.ids})
        lead = env_a["crm.lead"].create({"name": "Carl", "partner_id": partner.id})
        (values,) = lead.web_read({"social_recent_interaction_ids": {"fields": {"text": {}}}})
        self.assertEqual(values["social_recent_interaction_ids"], [])

    # -- 5. answering as the brand is a right ---------------------------------------------

    def test_a_salesperson_answers_as_the_brand_only_when_granted(self):
        who = make_author("pat@x.example")
        (post,) = self._ingest(
            self.account_a,
            [
                make_interaction(
                    "p1", who, text="hello brand", reply_ref="p1", url="https://m.example/p1"
                )
            ],
        )
        connector = FakeMastodon()
        connector.likes = []
        connector.like = connector.likes.append
        seam = self.seam(connector)
        as_sales = post.with_user(self.salesman)
        self.assertFalse(as_sales.can_answer)
        with seam:
            for action in (
                as_sales.action_like,
                as_sales.action_repost,
                as_sales.action_open_reply,
            ):
                with self.assertRaises(AccessError):
                    action()
            with self.assertRaises(AccessError):
                self.env["social.crm.reply.wizard"].with_user(self.salesman).create(
                    {"interaction_id": post.id, "text": "hi"}
                )
        self.assertEqual(connector.likes, [])
        # an administrator grants it on the account
        self.account_a.answer_user_ids = [(4, self.salesman.id)]
        post.invalidate_recordset()
        with seam:
            post.with_user(self.salesman).action_like()
        self.assertEqual(connector.likes, ["p1"])
        # a manager cannot grant it (administrators only)
        with self.assertRaises(AccessError):
            self.account_a.with_user(self.manager).write(
                {"answer_user_ids": [(4, self.employee.id)]}
            )

    # -- 8. a DM's words are not in the chatter of every internal user ----------------------

    def test_a_dm_note_says_one_arrived_and_links_to_it(self):
        partner = self.env["res.partner"].create({"name": "Dana Direct"})
        who = make_author("dana@x.example")
        self.make_identity(
            partner, who.handle, external_id=who.external_id, company_id=self.company_a.id
        )
        (message,) = self._ingest(
            self.account_a,
            [make_interaction("d1", who, "dm", text="my card ends 4242", reply_ref="d1")],
        )
        note = message.message_id
        self.assertNotIn("4242", note.body)
        self.assertIn(f"/odoo/social.crm.interaction/{message.id}", note.body)
        # an internal user without Social CRM or sales rights reads the note, not the words
        as_employee = partner.with_user(self.employee)
        bodies = as_employee.message_ids.mapped("body")
        self.assertFalse([b for b in bodies if "4242" in b])
        with self.assertRaises(AccessError):
            message.with_user(self.employee).read(["text"])

    # -- 14. network error text is text in the to-do ------------------------------------

    def test_a_network_error_is_escaped_in_the_admins_todo(self):
        self.account_a._sync_failed(AuthError('<img src=x onerror="alert(1)">refused'))
        note = self.account_a.activity_ids.note
        self.assertNotIn("<img", note)
        self.assertIn("&lt;img", note)

    # -- 18. notes are built from Markup.format only ------------------------------------

    def test_hostile_name_handle_url_and_text_come_out_escaped(self):
        partner = self.env["res.partner"].create({"name": "Hostile Harry"})
        handle = 'h<script>alert("handle")</script>@x.example'
        who = make_author(
            handle,
            external_id="harry@x.example",
            display_name='<b onmouseover="alert(1)">Harry</b>',
        )
        self.make_identity(
            partner, handle, external_id=who.external_id, company_id=self.company_a.id
        )
        item = make_interaction(
            "h1",
            who,
            text='<iframe src="https://evil.example"></iframe>&amp; "quoted"',
            url='https://m.example/h1?a="><script>alert(2)</script>',
        )
        (row,) = self._ingest(self.account_a, [item])
        body = row.message_id.body
        for raw in ("<script", "<iframe", "<b onmouseover", '"><'):
            self.assertNotIn(raw, body)
        self.assertIn("&lt;iframe", body)
        self.assertIn("&lt;script&gt;", body)
        self.assertIn("&amp;amp;", body)
