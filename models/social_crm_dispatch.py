"""Background work in small idempotent units (one account's sync, one batch of
coupon deliveries), dispatched to where they run.

Cron runs the units by default. When OCA's ``queue_job`` is installed in the
database, the same units are enqueued as jobs instead, one per unit, with an
identity key so that a unit already waiting is not queued twice; every Odoo
node running job workers then shares the work. Nothing here depends on
``queue_job``: it is detected at run time.
"""

from odoo import models


class SocialCrmDispatch(models.AbstractModel):
    _name = "social.crm.dispatch"
    _description = "Social CRM background units: run now or as queue_job jobs"

    def _as_jobs(self):
        """Whether units become jobs: OCA queue_job is installed in this database
        and the context does not ask for an inline run (``social_crm_inline``: a
        button a person waits for, a test)."""
        return (
            not self.env.context.get("social_crm_inline")
            and "queue.job" in self.env.registry
            and hasattr(self, "with_delay")
        )

    def _run_unit(self, records, method, description):
        """Run ``records.method()`` now, or enqueue it as one job under queue_job
        (not queued again while the same unit is still waiting)."""
        if not records:
            return None
        if not self._as_jobs():
            return getattr(records, method)()
        # optional module, present only when _as_jobs() says so
        from odoo.addons.queue_job.job import identity_exact  # noqa: PLC0415

        self._allow_commit(records._name, method)
        delayable = records.with_delay(description=description, identity_key=identity_exact)
        return getattr(delayable, method)()

    def _allow_commit(self, model_name, method):
        """Tell queue_job that this unit commits (a sync page by page, a delivery
        before each network call): queue_job forbids commits in a job unless its
        job function allows them, and then runs it on a cursor of its own. The add-on
        does not depend on queue_job, so the job function is declared here, once."""
        JobFunction = self.env["queue.job.function"].sudo()
        name = JobFunction.job_function_name(model_name, method)
        if JobFunction.job_config(name).allow_commit:
            return
        function = JobFunction.search([("name", "=", name)], limit=1)
        if function:
            function.allow_commit = True
        else:
            JobFunction.create(
                {
                    "model_id": self.env["ir.model"]._get_id(model_name),
                    "method": method,
                    "allow_commit": True,
                }
            )
