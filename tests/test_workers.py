"""Several workers at once: crons, jobs on other nodes, a person's button.

A unit of background work (one account's sync, one coupon's delivery) holds its
row for its transaction and skips what another worker holds, so running units
side by side never reads a page twice or sends a code twice. Under OCA
queue_job the same units become jobs: test_queue_job.py.
"""

from contextlib import contextmanager

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SocialCrmCase
from .test_sync import FakeConnector, page


@contextmanager
def held_by_another_worker(env, record):
    """Lock one committed row from a second connection, as another worker would."""
    with env.registry.cursor() as other:
        # NOWAIT: fail at once rather than wait for this test's own transaction
        other.execute(
            f'SELECT id FROM "{record._table}" WHERE id = %s FOR UPDATE NOWAIT',  # noqa: S608
            [record.id],
        )
        try:
            yield
        finally:
            other.rollback()


@tagged("post_install", "-at_install")
class TestWorkers(SocialCrmCase):
    # no inline run: under queue_job the units must become jobs
    social_crm_context = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a demo account: committed at install, so a second connection can lock it
        cls.account = cls.env.ref("social_crm_module.demo_account_mastodon")

    def test_an_account_another_worker_holds_is_left_to_it(self):
        # a write that waits for the other worker's lock fails instead of hanging
        self.env.cr.execute("SET LOCAL lock_timeout = '3s'")
        cursor = self.account.cursor or None
        connector = FakeConnector({cursor: page(0, 3, "p1")})
        with self.seam(connector), held_by_another_worker(self.env, self.account):
            self.assertEqual(self.account._sync(), (0, 0))
            with self.assertRaisesRegex(UserError, "being synced right now"):
                self.account.action_sync_now()
        self.assertEqual(connector.calls, [], "the network was not asked")
        # once the other worker is done, the account syncs from the stored cursor
        with self.seam(connector):
            self.assertEqual(self.account._sync(), (1, 3))
        self.assertEqual(connector.calls, [cursor])
        self.assertEqual(self.account.cursor, "p1")
