"""An account's stream: who holds it (a lease), where it is (its cursor), how it is.

One row per streaming account. A listener (``bin/listen``, see ``cli/``) holds an
account by holding its lease: ``holder`` names the listener, ``lease_until`` is
when the lease lapses unless renewed. Every batch is stored in one transaction
that first renews the lease *only if this listener still holds it* (the row lock
of that UPDATE also orders two listeners on one account), then ingests the batch,
then moves the cursor. A listener that dies stops renewing; once ``lease_until``
passes, any other listener takes the account over and resumes from the last
committed cursor: nothing is lost, and the unique (account, external id) stores
nothing twice.
"""

from odoo import api, fields, models
from odoo.tools import SQL

STATES = [
    ("connected", "Connected"),
    ("reconnecting", "Reconnecting"),
    ("stopped", "Stopped"),
    ("error", "Error"),
]


class SocialCrmStream(models.Model):
    _name = "social.crm.stream"
    _description = "Social CRM account stream (lease, cursor, health)"
    _rec_name = "account_id"

    account_id = fields.Many2one(
        "social.crm.account", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    holder = fields.Char("Held by", readonly=True, help="host:pid of the listener holding it")
    lease_until = fields.Datetime(readonly=True)
    cursor = fields.Char(readonly=True, help="Where the stream resumes (its own position).")
    state = fields.Selection(STATES, default="stopped", readonly=True)
    connected_since = fields.Datetime(readonly=True)
    last_event_at = fields.Datetime(readonly=True, help="The network's time of the last event.")
    last_batch_at = fields.Datetime(readonly=True)
    lag = fields.Float(
        "Lag (s)",
        digits=(16, 3),
        readonly=True,
        help="From the event on the network to its commit.",
    )
    reconnects = fields.Integer(readonly=True)
    events = fields.Integer("Events read", readonly=True)
    last_error = fields.Char(readonly=True)

    _sql_constraints = [
        ("account_unique", "UNIQUE(account_id)", "An account has one stream."),
    ]

    # -- the lease ------------------------------------------------------------------------

    @api.model
    def _acquire(self, account_id, holder, ttl):
        """Take the lease of ``account_id`` for ``holder`` if it is free, lapsed or
        already its own; return the stream's id and cursor, or ``None``. The caller
        commits."""
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_crm_stream
                       (account_id, holder, lease_until, state, reconnects, events,
                        create_uid, create_date, write_uid, write_date)
                VALUES (%(account)s, %(holder)s,
                        (now() AT TIME ZONE 'UTC') + %(ttl)s * interval '1 second',
                        'reconnecting', 0, 0, %(uid)s, now() AT TIME ZONE 'UTC',
                        %(uid)s, now() AT TIME ZONE 'UTC')
                ON CONFLICT (account_id) DO UPDATE
                   SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until,
                       state = 'reconnecting', write_date = EXCLUDED.write_date
                 WHERE social_crm_stream.holder IS NULL
                    OR social_crm_stream.holder = EXCLUDED.holder
                    OR social_crm_stream.lease_until IS NULL
                    OR social_crm_stream.lease_until < (now() AT TIME ZONE 'UTC')
                RETURNING id, cursor
                """,
                account=account_id,
                holder=holder,
                ttl=ttl,
                uid=self.env.uid,
            )
        )
        row = self.env.cr.fetchone()
        self.invalidate_model()
        return row

    @api.model
    def _fence(self, account_id, holder, ttl):
        """Renew the lease if ``holder`` still holds it, and lock the row for the
        rest of the transaction; ``False`` when another listener took it."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_stream
                   SET lease_until = (now() AT TIME ZONE 'UTC') + %(ttl)s * interval '1 second'
                 WHERE account_id = %(account)s AND holder = %(holder)s
                RETURNING id
                """,
                account=account_id,
                holder=holder,
                ttl=ttl,
            )
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _release(self, account_id, holder, state="stopped", error=None):
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_stream
                   SET holder = NULL, lease_until = NULL, state = %(state)s,
                       last_error = COALESCE(%(error)s, last_error)
                 WHERE account_id = %(account)s AND holder = %(holder)s
                """,
                account=account_id,
                holder=holder,
                state=state,
                error=error,
            )
        )
        self.invalidate_model()

    # -- health -------------------------------------------------------------------------

    @api.model
    def _record(self, account_id, holder, **values):
        """Write health values (and the cursor) on the stream the holder holds."""
        allowed = {
            "cursor",
            "state",
            "connected_since",
            "last_event_at",
            "last_batch_at",
            "lag",
            "last_error",
        }
        sets = [
            SQL("%s = %s", SQL.identifier(name), value)
            for name, value in values.items()
            if name in allowed
        ]
        if values.get("reconnected"):
            sets.append(SQL("reconnects = reconnects + 1"))
        if values.get("frames"):
            sets.append(SQL("events = events + %s", int(values["frames"])))
        if not sets:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE social_crm_stream SET %s WHERE account_id = %s AND holder = %s",
                SQL(", ").join(sets),
                account_id,
                holder,
            )
        )
        self.invalidate_model()
