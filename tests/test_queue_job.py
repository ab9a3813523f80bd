"""The job path: the same units of background work as jobs of OCA queue_job.

These tests carry the tag ``scrm_queue_job``: bin/odoo_suite.py runs them only in
its job mode (``SCRM_QUEUE_JOB=1``), on a database where ``queue_job`` is
installed next to the add-on, and leaves them out of the cron-path run. Run
anywhere else they fail: a job test that cannot run is not a pass.
"""

from contextlib import nullcontext
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import TransactionCase

from .test_campaign import CampaignCase, FakeMastodon
from .test_sync import FakeConnector, page


def load_job(env, uuid):
    """queue_job's Job for a queue.job record (imported here: the module is optional)."""
    from odoo.addons.queue_job.job import Job  # noqa: PLC0415

    return Job.load(env, uuid)


class QueueJobMixin:
    def perform(self, env, job_record):
        """Run a job as the job runner would. Our units commit (page by page, before
        each network call), so their job function must allow it, or queue_job refuses
        to run them. Allowed, queue_job runs them on a cursor of their own; here on the
        test's cursor (bench/bench_scaleout.py runs them on their own, in a real job
        runner with two workers)."""
        job = load_job(env, job_record.uuid)
        self.assertTrue(
            job.job_config.allow_commit,
            f"{job_record.method_name} commits: queue_job would refuse to run it",
        )
        with patch.object(type(job), "in_temporary_env", lambda job: nullcontext()):
            job.perform()

    def assertQueueJobInstalled(self):
        self.assertIn(
            "queue.job",
            self.env.registry,
            "OCA queue_job is not installed in this database: run these tests with "
            "SCRM_QUEUE_JOB=1 bin/odoo_suite.py (or bin/test), which installs it",
        )


@tagged("post_install", "-at_install", "scrm_queue_job")
class TestSyncJobs(QueueJobMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.env.ref("social_crm_module.demo_account_mastodon")

    def setUp(self):
        super().setUp()
        self.assertQueueJobInstalled()

    def _seam(self, connector):
        return patch.object(
            type(self.env["social.crm.account"]), "_get_connector", lambda account: connector
        )

    def test_each_account_is_one_job_queued_once(self):
        Account = self.env["social.crm.account"]
        Job = self.env["queue.job"]
        Account.search([]).write({"state": "paused"})
        other = Account.create(
            {"name": "other", "network": "mastodon", "base_url": "https://o.example"}
        )
        (self.account | other).write({"state": "connected", "next_sync_at": False})
        before = Job.search([("method_name", "=", "_sync")])
        Account._cron_sync()
        Account._cron_sync()  # the same units, still waiting: not queued twice
        jobs = Job.search([("method_name", "=", "_sync")]) - before
        self.assertEqual(len(jobs), 2)
        self.assertEqual(sorted(job.records.ids for job in jobs), [self.account.ids, other.ids])
        self.assertTrue(all(jobs.mapped("identity_key")))
        self.assertEqual(set(jobs.mapped("state")), {"pending"})
        # a job runs the same unit as the cron: the account's pages, committed per page
        job = jobs.filtered(lambda j: j.records == self.account)
        connector = FakeConnector({self.account.cursor or None: page(0, 2, "p9")})
        with self._seam(connector):
            self.perform(self.env, job)
        self.assertEqual(self.account.cursor, "p9")
        self.assertEqual(len(connector.calls), 1)


@tagged("post_install", "-at_install", "scrm_queue_job")
class TestDeliveryJobs(QueueJobMixin, CampaignCase):
    def setUp(self):
        super().setUp()
        self.assertQueueJobInstalled()

    def test_deliveries_are_jobs_by_batch(self):
        env = self.env(context=dict(self.env.context, social_crm_inline=False))
        Recipient, Job = env["social.crm.campaign.recipient"], env["queue.job"]
        Recipient.search([("social_state", "=", "queued")]).social_state = "skipped"
        campaign = self._campaign()
        recipients = Recipient._issue(campaign, [(p, None, None) for p in self.alice | self.bob])
        self.assertEqual(len(recipients), 2)
        before = Job.search([("method_name", "=", "_deliver")])
        connector = FakeMastodon()
        with self.seam(connector):
            Recipient._cron_deliver(limit=1)
            Recipient._cron_deliver(limit=1)  # the same batches, still waiting
        jobs = Job.search([("method_name", "=", "_deliver")]) - before
        self.assertEqual(sorted(job.records.ids for job in jobs), [[r.id] for r in recipients])
        self.assertEqual(connector.dms, [], "nothing sent before the jobs run")
        with self.seam(connector):
            for job in jobs:
                self.perform(env, job)
        self.assertEqual(len(connector.dms), 2)
        self.assertEqual(set(recipients.mapped("social_state")), {"sent"})
