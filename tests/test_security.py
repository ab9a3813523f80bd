from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase


@tagged("post_install", "-at_install")
class TestSecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env["social.crm.account"].create(
            {
                "name": "Brand on Mastodon",
                "network": "mastodon",
                "base_url": "https://mastodon.example",
                "access_token": "test-token-value",
            }
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
