from odoo import api, fields, models
from odoo.tools import SQL

from .social_crm_interaction import KINDS

#: the tally's triggers on social_crm_interaction: statement-level, so a page of the
#: ingest (one INSERT) adds one row per (contact, company, kind) it holds
TRIGGERS = {
    "social_crm_partner_tally_insert": ("INSERT", "NEW TABLE AS new_rows"),
    "social_crm_partner_tally_update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "social_crm_partner_tally_delete": ("DELETE", "OLD TABLE AS old_rows"),
}

#: a contact with more rows than this is folded by the nightly run (``_compact``)
COMPACT_ABOVE = 2 * len(KINDS)

#: (partner, company, kind) groups of rows, with the sign of polarity as the score
#: reads it (no polarity counts as neutral, not negative), times ``sign``
_GROUPED = """
    SELECT {row}.partner_id, {row}.company_id, {row}.kind,
           {sign} * COUNT(*) FILTER (WHERE COALESCE({row}.polarity, 0) >= 0),
           {sign} * COUNT(*) FILTER (WHERE {row}.polarity < 0)
      FROM {rows} WHERE {row}.partner_id IS NOT NULL
  GROUP BY 1, 2, 3
"""
_APPEND = """
    INSERT INTO social_crm_partner_tally (partner_id, company_id, kind, positives, negatives)
    {grouped};
"""
#: an UPDATE moves only the rows whose contact, company, kind or sign changed: most
#: updates (routing's, a corrected intent) move none
_MOVED = """old_rows o JOIN new_rows n ON n.id = o.id
     AND (o.partner_id, o.company_id, o.kind, COALESCE(o.polarity, 0) < 0)
         IS DISTINCT FROM (n.partner_id, n.company_id, n.kind, COALESCE(n.polarity, 0) < 0)"""


def _append(rows, row, sign):
    return _APPEND.format(grouped=_GROUPED.format(rows=rows, row=row, sign=sign))


class SocialCrmPartnerTally(models.Model):
    """How many interactions of each kind a contact has, per company: a ledger
    PostgreSQL triggers on the interactions append to, so every way a row comes,
    moves or goes (the ingest's SQL, the ORM, a contact deleted, an erasure, the
    retention purge) keeps the sums exact. A contact's count is the sum of its
    rows; the nightly scoring folds a contact's many rows into one per kind.

    Rows are only ever appended (a deletion appends a negative count): a row per
    contact and kind updated in place cost a page of the ingest 3.5 ms (an upsert
    per group), and two workers adding to the same contact would wait for each
    other; appending costs it 0.4-0.6 ms. The contact form explains a score with
    these counts: it reads a few rows instead of counting a contact's 10,000
    interactions each time it opens.
    """

    _name = "social.crm.partner.tally"
    _description = "Interactions per contact and kind"
    _log_access = False
    _rec_name = "partner_id"

    # plain numbers, not many2one fields: the foreign-key checks of the rows a page
    # appends cost the ingest 1.5 ms a page of 100 (three times the rest of the
    # trigger); the rows of a deleted contact are dropped by the nightly compaction
    partner_id = fields.Integer("Contact ID", required=True, readonly=True, index=True)
    company_id = fields.Integer("Company ID", readonly=True)
    kind = fields.Selection(KINDS, required=True, readonly=True)
    positives = fields.Integer(readonly=True, help="Interactions with no negative polarity.")
    negatives = fields.Integer(readonly=True, help="Interactions with a negative polarity.")

    def init(self):
        cr = self.env.cr
        cr.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s) AND NOT tgisinternal",
            [list(TRIGGERS)],
        )
        installed = cr.fetchone()[0] == len(TRIGGERS)
        self._create_trigger_functions()
        if installed:
            return
        # first installation (or a trigger was dropped): count what is there, then
        # let the triggers keep it, in this transaction
        for name in TRIGGERS:
            cr.execute(
                SQL("DROP TRIGGER IF EXISTS %s ON social_crm_interaction", SQL.identifier(name))
            )
        cr.execute("DELETE FROM social_crm_partner_tally")
        # the statements are this module's constants: no value from outside in them
        cr.execute(SQL(_append("social_crm_interaction", "social_crm_interaction", 1)))
        for name, (event, referencing) in TRIGGERS.items():
            cr.execute(
                SQL(
                    """
                    CREATE TRIGGER %s AFTER %s ON social_crm_interaction
                    REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION %s()
                    """,
                    SQL.identifier(name),
                    SQL(event),
                    SQL(referencing),
                    SQL.identifier(name),
                )
            )

    def _create_trigger_functions(self):
        bodies = {
            "social_crm_partner_tally_insert": _append("new_rows", "new_rows", 1),
            "social_crm_partner_tally_delete": _append("old_rows", "old_rows", -1),
            "social_crm_partner_tally_update": _append(_MOVED, "o", -1) + _append(_MOVED, "n", 1),
        }
        for name, body in bodies.items():
            self.env.cr.execute(
                SQL(
                    """
                    CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $body$
                    BEGIN
                        %s
                        RETURN NULL;
                    END
                    $body$
                    """,
                    SQL.identifier(name),
                    SQL(body),
                )
            )

    @api.model
    def _compact(self, above=COMPACT_ABOVE):
        """Fold the rows of every contact that has more than ``above`` into one per
        (company, kind), and drop those of deleted contacts, in one statement (rows
        appended meanwhile by other transactions are left for the next time);
        return how many contacts."""
        self.env.cr.execute(
            """
            WITH many AS (
                SELECT partner_id FROM social_crm_partner_tally
              GROUP BY partner_id HAVING COUNT(*) > %s
                 UNION
                SELECT partner_id FROM social_crm_partner_tally t
                 WHERE NOT EXISTS (SELECT 1 FROM res_partner p WHERE p.id = t.partner_id)
            ), gone AS (
                DELETE FROM social_crm_partner_tally t USING many
                 WHERE t.partner_id = many.partner_id
             RETURNING t.partner_id, t.company_id, t.kind, t.positives, t.negatives
            ), folded AS (
                INSERT INTO social_crm_partner_tally
                       (partner_id, company_id, kind, positives, negatives)
                SELECT partner_id, company_id, kind, SUM(positives), SUM(negatives)
                  FROM gone
                 WHERE EXISTS (SELECT 1 FROM res_partner p WHERE p.id = gone.partner_id)
              GROUP BY 1, 2, 3
                HAVING SUM(positives) <> 0 OR SUM(negatives) <> 0
            )
            SELECT COUNT(*) FROM many
            """,
            [above],
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _rule_filter(self):
        """The interactions' record rules for this user as a condition on the
        tally's company, or None when they are more than the company rule (an
        administrator added one): then the interactions themselves are counted."""
        if self.env.su:
            return SQL()
        domain = self.env["ir.rule"]._compute_domain("social.crm.interaction", "read")
        companies = self.env.companies.ids
        if not domain:
            return SQL()
        if list(domain) == [("company_id", "in", companies)]:
            return SQL("AND company_id = ANY(%s)", companies)
        return None

    @api.model
    def _counts(self, partner_ids):
        """{partner_id: {kind: (interactions counted as engagement, negative ones)}}
        over the interactions the user may read, or None (see :meth:`_rule_filter`)."""
        rule = self._rule_filter()
        if rule is None:
            return None
        self.env["social.crm.interaction"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT partner_id, kind, SUM(positives), SUM(negatives)
                  FROM social_crm_partner_tally
                 WHERE partner_id = ANY(%s) %s
              GROUP BY partner_id, kind
                """,
                list(partner_ids),
                rule,
            )
        )
        counts = {}
        for partner_id, kind, positive, negative in self.env.cr.fetchall():
            counts.setdefault(partner_id, {})[kind] = (positive, negative)
        return counts
