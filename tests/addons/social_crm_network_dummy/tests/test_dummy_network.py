"""A network added by another module, through the plug-in shape only: Test
connection, a sync into the chatter, a reply and a coupon delivery by DM, with no
file of social_crm_module knowing the network exists."""

from odoo.tests import tagged

from odoo.addons.social_crm_module.social_crm_module import registry
from odoo.addons.social_crm_module.social_crm_module.testing import FakeServer
from odoo.addons.social_crm_module.tests.common import SocialCrmCase

ME = {"id": "u0", "handle": "brand", "name": "The Brand"}
ANN = {"id": "u1", "handle": "ann", "name": "Ann Dummy"}


@tagged("post_install", "-at_install")
class TestDummyNetwork(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["social.crm.campaign"].search([("state", "=", "running")]).action_done()
        cls.server = FakeServer()
        cls.server.__enter__()
        cls.addClassCleanup(cls.server.__exit__, None, None, None)
        cls.account = cls.make_account(
            "Brand on Dummy", "dummy", base_url=cls.server.url, dummy_token="dummy-test-token"
        )
        cls.ann = cls.env["res.partner"].create({"name": "Ann Dummy", "email": "ann@example.com"})
        cls.make_identity(cls.ann, "ann", "dummy", external_id="u1")

    def test_the_network_is_known_from_its_own_files_only(self):
        self.assertIn("dummy", registry.codes())
        Account = self.env["social.crm.account"]
        self.assertIn(("dummy", "Dummy network"), Account._fields["network"].selection)
        for model in ("social.crm.identity", "social.crm.interaction"):
            selection = self.env[model]._fields["network"]._description_selection(self.env)
            self.assertIn(("dummy", "Dummy network"), selection)
        self.assertEqual(self.account.network_capabilities, "check,dm,reply")
        self.assertTrue(self.account.needs_base_url)
        # no icon of its own: a generic one, never a broken image
        self.assertTrue(self.account.network_icon_url.endswith("/network_generic.svg"))

    def test_connect_sync_reply_and_deliver_a_coupon(self):
        server = self.server
        server.add("GET", "/me", json=ME)
        self.account.action_test_connection()
        self.assertEqual(self.account.state, "connected")
        self.assertEqual(server.requests[-1].headers["Authorization"], "Token dummy-test-token")

        event = {
            "id": "e1",
            "kind": "mention",
            "author": ANN,
            "at": "2026-11-30T10:00:00Z",
            "text": "@brand <b>love</b> it",
        }
        server.add("GET", "/events", json={"events": [event], "cursor": "c1"})
        self.account._sync()
        interaction = self.account.interaction_ids
        self.assertEqual((interaction.kind, interaction.partner_id), ("mention", self.ann))
        self.assertEqual(self.account.cursor, "c1")
        note = interaction.message_id
        self.assertEqual((note.model, note.res_id), ("res.partner", self.ann.id))
        self.assertIn("&lt;b&gt;love&lt;/b&gt;", note.body)
        self.assertIn("Dummy network", note.body)

        posted = {"id": "r1", "author": ME, "at": "2026-11-30T10:01:00Z", "url": ""}
        server.add("POST", "/reply", json=posted)
        wizard = self.env["social.crm.reply.wizard"].create(
            {"interaction_id": interaction.id, "text": "Thank you Ann!"}
        )
        self.assertEqual(wizard.max_length, 200)
        wizard.action_send()
        self.assertEqual(server.requests[-1].json(), {"to": "e1", "text": "Thank you Ann!"})
        self.assertTrue(interaction.answered_at)

        program = self.env["loyalty.program"].create(
            {
                "name": "Dummy 10%",
                "program_type": "coupons",
                "trigger": "with_code",
                "reward_ids": [(0, 0, {"discount": 10, "required_points": 1})],
            }
        )
        campaign = self.env["social.crm.campaign"].create(
            {
                "name": "Dummy advocates",
                "program_id": program.id,
                "account_ids": [(6, 0, self.account.ids)],
                "social_mode": "dm",
            }
        )
        campaign.action_start()
        server.add("POST", "/dm", json=dict(posted, id="d1"))
        campaign.action_send()
        self.env["social.crm.campaign.recipient"]._cron_deliver()
        recipient = campaign.recipient_ids.filtered(lambda r: r.partner_id == self.ann)
        self.assertEqual(recipient.network, "dummy")
        self.assertEqual(recipient.social_state, "sent")
        dm = server.requests[-1]
        self.assertEqual((dm.path, dm.json()["to"]), ("/dm", "u1"))
        self.assertIn(recipient.coupon_id.code, dm.json()["text"])
