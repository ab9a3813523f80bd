"""What a new administrator meets first, through the forms of the web client."""

from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tests.common import TransactionCase


@tagged("post_install", "-at_install")
class TestFirstContact(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_env = cls.env(user=cls.env.ref("base.user_admin"))
        cls.program = cls.env["loyalty.program"].create(
            {"name": "Thank-you coupons", "program_type": "coupons"}
        )

    def test_a_new_campaign_saves_with_utm_campaign_left_empty(self):
        form = Form(self.admin_env["social.crm.campaign"])
        form.name = "Spring advocates"
        form.program_id = self.program
        self.assertFalse(form.utm_campaign_id)
        campaign = form.save()
        # the help says so: created with the campaign, named after it
        self.assertEqual(campaign.utm_campaign_id.name, "Spring advocates")
        # once saved it is shown, read-only
        self.assertTrue(Form(campaign)._get_modifier("utm_campaign_id", "readonly"))

    def test_bluesky_needs_no_base_url_mastodon_does(self):
        Account = self.admin_env["social.crm.account"]
        form = Form(Account)
        form.name = "Brand on Bluesky"
        form.network = "bluesky"
        self.assertFalse(form._get_modifier("base_url", "required"))
        bluesky = form.save()
        self.assertFalse(bluesky.base_url)
        bluesky._check_network_ready()  # the connector's default, https://bsky.social
        self.assertEqual(bluesky._get_connector().base_url, "https://bsky.social")

        form = Form(Account)
        form.name = "Brand on Mastodon"
        form.network = "mastodon"
        self.assertTrue(form._get_modifier("base_url", "required"))
        form.base_url = "https://mastodon.example"
        mastodon = form.save()
        mastodon.base_url = False
        with self.assertRaisesRegex(UserError, "needs a base URL"):
            mastodon._check_network_ready()
