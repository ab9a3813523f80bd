from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import SocialCrmCase


@tagged("post_install", "-at_install")
class TestSecurity(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account(
            "Brand on Mastodon",
            base_url="https://mastodon.example",
            access_token="test-token-value",
        )
        cls.salesman = new_test_user(
            cls.env, login="scrm_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.social_manager = new_test_user(
            cls.env,
            login="scrm_manager",
            groups="social_crm_module.group_social_crm_manager",
        )

    def test_salesperson_cannot_read_token(self):
        account = self.account.with_user(self.salesman)
        with self.assertRaises(AccessError):
            account.read(["access_token"])

    def test_social_manager_is_not_system_and_cannot_read_token(self):
        account = self.account.with_user(self.social_manager)
        self.assertEqual(account.read(["name"])[0]["name"], "Brand on Mastodon")
        with self.assertRaises(AccessError):
            account.read(["access_token"])

    def test_admin_reads_token_and_copy_drops_it(self):
        self.assertEqual(self.account.access_token, "test-token-value")
        self.assertFalse(self.account.copy().access_token)

    def test_salesperson_cannot_write_accounts(self):
        with self.assertRaises(AccessError):
            self.account.with_user(self.salesman).write({"name": "x"})


@tagged("post_install", "-at_install")
class TestCampaignRights(SocialCrmCase):
    """What a Social CRM user may do with campaigns and coupons, and what only a
    manager may (issue 11, finding 4), plus the company walls of finding 15."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = cls.env["loyalty.program"].create(
            {"name": "Rights 10%", "program_type": "coupons", "trigger": "with_code"}
        )
        cls.user = new_test_user(
            cls.env, login="scrm_rights_user", groups="social_crm_module.group_social_crm_user"
        )
        cls.manager = new_test_user(
            cls.env,
            login="scrm_rights_manager",
            groups="social_crm_module.group_social_crm_manager",
        )
        cls.alice = cls.env["res.partner"].create({"name": "Alice", "email": "a@example.com"})
        cls.mallory = cls.env["res.partner"].create({"name": "Mallory", "email": "m@example.com"})
        cls.campaign = cls.env["social.crm.campaign"].create(
            {
                "name": "Rights",
                "program_id": cls.program.id,
                "send_social": False,
                "send_email": True,
            }
        )
        cls.campaign.action_start()
        cls.recipient = cls.env["social.crm.campaign.recipient"]._issue(
            cls.campaign, [(cls.alice, None, None)]
        )

    def test_user_cannot_repoint_a_coupon_or_fake_its_delivery(self):
        recipient = self.recipient.with_user(self.user)
        self.assertEqual(recipient.code, self.recipient.coupon_id.code, "the user reads it")
        for values in (
            {"partner_id": self.mallory.id},
            {"email_state": "sent"},
            {"social_state": "skipped"},
            {"coupon_id": False},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                recipient.write(values)
        with self.assertRaises(AccessError):
            self.env["social.crm.campaign.recipient"].with_user(self.user).create(
                {"campaign_id": self.campaign.id, "partner_id": self.mallory.id, "slot": 1}
            )
        self.assertEqual(self.recipient.partner_id, self.alice)

    def test_manager_also_changes_coupons_only_through_buttons(self):
        with self.assertRaises(AccessError):
            self.recipient.with_user(self.manager).write({"partner_id": self.mallory.id})

    def test_user_may_retry_a_failed_delivery(self):
        self.recipient.sudo().write({"email_state": "failed"})
        self.recipient.with_user(self.user).action_retry()
        self.assertEqual(self.recipient.email_state, "queued")

    def test_coupon_value_starting_and_sending_are_managers_rights(self):
        campaign = self.campaign.with_user(self.user)
        for values in (
            {"points_granted": 1000000},
            {"validity_days": 0},
            {"limit_per_person": 50},
            {"coupon_kind": "referral"},
            {"state": "draft"},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                campaign.write(values)
        self.assertEqual(self.campaign.points_granted, 1.0)
        with self.assertRaises(AccessError):
            campaign.action_send()
        with self.assertRaises(AccessError):
            campaign.action_done()
        Campaign = self.env["social.crm.campaign"].with_user(self.user)
        with self.assertRaises(AccessError):
            Campaign.create(
                {"name": "Big", "program_id": self.program.id, "points_granted": 1000000}
            )
        with self.assertRaises(AccessError):
            Campaign.create({"name": "Live", "program_id": self.program.id, "state": "running"})
        # a user drafts a campaign; a manager starts it
        draft = Campaign.create({"name": "Draft", "program_id": self.program.id})
        draft.write({"message_template": "Hello {name}: {code}"})
        with self.assertRaises(AccessError):
            draft.action_start()
        draft.with_user(self.manager).action_start()
        self.assertEqual(draft.state, "running")
        draft.with_user(self.manager).write({"points_granted": 2})
        with self.assertRaises(AccessError):
            draft.write({"name": "Renamed while running"})

    def test_group_descriptions_say_what_each_may_do(self):
        user = self.env.ref("social_crm_module.group_social_crm_user").comment
        manager = self.env.ref("social_crm_module.group_social_crm_manager").comment
        self.assertIn("draft", user)
        self.assertIn("start", manager.lower())
        self.assertIn("coupon value", manager)

    def test_deleting_a_contact_with_a_coupon_is_refused(self):
        """Deleting Alice would drop her coupon line and unbind the coupon: anyone
        could then use it. Odoo users archive contacts that hold sales records."""
        with self.assertRaisesRegex(UserError, "archive"):
            self.alice.unlink()
        self.assertTrue(self.recipient.exists())
        self.alice.action_archive()
        order = self.env["sale.order"].create({"partner_id": self.mallory.id})
        status = order._try_apply_code(self.recipient.coupon_id.code)
        self.assertIn("issued to another customer", status["error"])

    def test_advocates_and_routing_rules_stay_in_their_company(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        stranger = self.env["res.partner"].create({"name": "Stranger", "company_id": other.id})
        advocate = self.env["social.crm.advocate"].create(
            {"partner_id": stranger.id, "score": 50, "tier": "gold"}
        )
        self.assertEqual(advocate.company_id, other, "a score lives in its contact's company")
        rule = self.env["social.crm.routing.rule"].create(
            {"name": "Other rule", "intent": "question", "company_id": other.id}
        )
        Advocate = self.env["social.crm.advocate"].with_user(self.user)
        Rule = self.env["social.crm.routing.rule"].with_user(self.user)
        self.assertNotIn(advocate, Advocate.search([]))
        self.assertNotIn(rule, Rule.search([]))
        with self.assertRaises(AccessError):
            advocate.with_user(self.user).read(["score"])
        with self.assertRaises(AccessError):
            rule.with_user(self.user).read(["name"])
