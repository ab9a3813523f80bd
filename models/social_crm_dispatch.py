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

        delayable = records.with_delay(description=description, identity_key=identity_exact)
        return getattr(delayable, method)()
