from odoo import api, fields, models
from odoo.tools import SQL, sql

from ..social_crm_module import scoring

TIERS = [
    ("none", "None"),
    ("bronze", "Bronze"),
    ("silver", "Silver"),
    ("gold", "Gold"),
    ("ambassador", "Ambassador"),
]


class SocialCrmAdvocate(models.Model):
    """One contact's advocate score: the leaderboard's rows.

    Scores live in this narrow table rather than on ``res_partner`` (a wide table
    with some thirty indexes), so the nightly set-based recompute of 100k contacts
    rewrites small rows. The contact shows them through computed fields.

    The table is the add-on's own (:meth:`init`), not the ORM's: it has no foreign
    key to ``res_partner``. A first placement inserts a row per scored contact, and
    each row's foreign-key check locks its contact's row: 0.4 s of 2 s for 100k
    contacts, 6.9 s of 25 s for a million (``EXPLAIN ANALYZE``). The rows are
    derived data, written by the recompute only from contacts it just read; a
    contact deleted through the ORM takes its row along (``res.partner.unlink``),
    and the nightly run drops any row whose contact is gone another way.
    """

    _name = "social.crm.advocate"
    _description = "Advocate score"
    _order = "rank, id"
    _auto = False
    # rows written by the scoring job only: ``scored_at`` says when; no
    # create/write uid and date columns (and no two foreign-key checks per row)
    _log_access = False
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        # UNIQUE(partner_id) below is its index
        "res.partner",
        required=True,
        ondelete="cascade",
        readonly=True,
    )
    # no index on score, tier or rank: every recompute rewrites them (an index
    # would forbid HOT updates), and sorting this narrow table is fast
    score = fields.Float(digits=(5, 2), readonly=True, help="From 0 to 100.")
    tier = fields.Selection(TIERS, default="none", required=True, readonly=True)
    rank = fields.Integer(readonly=True)
    # the points: double precision columns, the type the recompute computes them
    # in (a numeric column cost 100k conversions each way and a nightly rewrite
    # of rows whose values had not changed); the views show three decimals
    engagement = fields.Float(readonly=True)
    reach = fields.Float(readonly=True)
    sentiment = fields.Float(readonly=True)
    recency = fields.Float(readonly=True)
    referrals = fields.Float(readonly=True)
    redemptions = fields.Float(readonly=True)
    scored_at = fields.Datetime(readonly=True)
    # the contact's company: its record rule walls the leaderboard per company
    # (one score per contact: a contact shared by companies has one score)
    company_id = fields.Many2one(related="partner_id.company_id", string="Company")
    # shown on the leaderboard
    avatar_url = fields.Char(compute="_compute_avatar_url")
    user_id = fields.Many2one(related="partner_id.user_id", string="Salesperson")
    networks = fields.Char(related="partner_id.advocate_networks")
    last_interaction_at = fields.Datetime(related="partner_id.social_last_interaction_at")
    redemption_count = fields.Integer(related="partner_id.advocate_redemption_count")
    referral_count = fields.Integer(related="partner_id.advocate_referral_count")
    explanation = fields.Text(related="partner_id.advocate_explanation")

    # added by init() (the ORM does not make this table), declared here so that
    # Odoo keeps them on upgrade and words their errors
    _sql_constraints = [
        ("partner_unique", "UNIQUE(partner_id)", "A contact has one advocate score."),
        ("score_range", "CHECK(score >= 0 AND score <= 100)", "A score lies between 0 and 100."),
    ]

    def _compute_avatar_url(self):
        for advocate in self:
            advocate.avatar_url = f"/web/image/res.partner/{advocate.partner_id.id}/avatar_128"

    def init(self):
        """The table as the ORM makes it from the fields (Odoo's own helpers), minus
        the foreign key (see the class): created on install, a field's column added
        when it is new, the key dropped on upgrade."""
        cr = self.env.cr
        columns = [
            (name, field.column_type[1] + (" NOT NULL" if field.required else ""), field.string)
            for name, field in self._fields.items()
            if name != "id" and field.store and field.column_type
        ]
        if not sql.table_exists(cr, self._table):
            sql.create_model_table(cr, self._table, self._description, columns)
        for name, _type, comment in columns:
            if not sql.column_exists(cr, self._table, name):
                sql.create_column(cr, self._table, name, self._fields[name].column_type[1], comment)
        cr.execute(
            """
            ALTER TABLE social_crm_advocate
                DROP CONSTRAINT IF EXISTS social_crm_advocate_partner_id_fkey;
            DELETE FROM ir_model_constraint
             WHERE name = 'social_crm_advocate_partner_id_fkey' AND type = 'f';
            """
        )
        for key, definition, _message in self._sql_constraints:
            name = f"{self._table}_{key}"
            if not sql.constraint_definition(cr, self._table, name):
                sql.add_constraint(cr, self._table, name, definition)
        # room on each page for the nightly rewrite of every row to stay on its
        # page (HOT update: no index entry to add, little table bloat)
        cr.execute("ALTER TABLE social_crm_advocate SET (fillfactor = 70)")

    @api.model
    def _drop_orphans(self):
        """Drop the rows of contacts deleted without the ORM (it takes them along)."""
        self.env.cr.execute(
            """
            DELETE FROM social_crm_advocate a
             WHERE NOT EXISTS (SELECT FROM res_partner p WHERE p.id = a.partner_id)
            """
        )
        if self.env.cr.rowcount:
            self.invalidate_model()

    def action_open_partner(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.partner_id.id,
            "view_mode": "form",
        }

    def action_recompute(self):
        self.ensure_one()
        self.partner_id.action_advocate_recompute()
        return True

    @api.model
    def _recompute(self, partner_ids=None, now=None):
        """Recompute scores in one statement; return {partner_id: new tier} of changes.

        Tier changes are movements between recomputes: the very first recompute
        (an empty table) places everyone without a change to report.

        One statement: CTEs aggregate the interactions per contact (the engine's
        SQL fragments), reach from confirmed identities and campaign inputs, then
        an UPDATE rewrites the rows whose values changed and an INSERT places the
        contacts scored for the first time. ``partner_ids`` limits the work (the
        contact form's button).
        """
        Partner = self.env["res.partner"]
        params = Partner._advocate_params()
        sql = scoring.sql_expressions(params)
        now = now or fields.Datetime.now()
        for model in ("res.partner", "social.crm.interaction", "social.crm.identity", self._name):
            self.env[model].flush_model()
        ids = list(partner_ids or [])
        limited = partner_ids is not None
        # the first recompute after installation places everyone: not a tier change
        self.env.cr.execute("SELECT NOT EXISTS (SELECT 1 FROM social_crm_advocate)")
        first_run = self.env.cr.fetchone()[0]
        # the partial run's filters: their interactions and identities, and them
        only_their_rows = SQL("AND partner_id = ANY(%s)", ids) if limited else SQL()
        only_them = SQL("AND p.id = ANY(%s)", ids) if limited else SQL()
        formula = {key: SQL(value) for key, value in sql.items()}  # numbers only (engine)
        query = SQL(
            """
            WITH ev AS (
                SELECT pid,
                       %(event_engagement)s AS engagement,
                       %(event_sentiment)s AS sentiment,
                       %(event_recency)s AS recency
                  FROM (SELECT pid, kind, polarity, %(decay)s AS decay
                          FROM (SELECT partner_id AS pid, kind,
                                       GREATEST(date_part('epoch', %(now)s - date)
                                                / 86400.0, 0.0) AS age_days,
                                       COALESCE(polarity, 0)::float8 AS polarity
                                  FROM social_crm_interaction
                                 WHERE partner_id IS NOT NULL %(only_their_rows)s) aged
                        -- a fence: the decay is computed once a row, not once per
                        -- aggregate that reads it (the planner would inline it)
                        OFFSET 0) rows
              GROUP BY pid
            ), reach AS (
                SELECT partner_id AS pid, MAX(COALESCE(followers_count, 0))::float8 AS followers
                  FROM social_crm_identity
                 WHERE partner_id IS NOT NULL AND link_state = 'confirmed' %(only_their_rows)s
              GROUP BY partner_id
            ), inputs AS (%(inputs)s
            ), base AS (
                SELECT p.id AS pid, a.tier AS old_tier,
                       COALESCE(ev.engagement, 0.0) AS engagement,
                       COALESCE(ev.sentiment, 0.0) AS sentiment,
                       COALESCE(ev.recency, 0.0) AS recency,
                       COALESCE(reach.followers, 0.0) AS followers,
                       COALESCE(inputs.referrals, 0)::float8 AS referrals,
                       COALESCE(inputs.redemptions, 0)::float8 AS redemptions
                  FROM res_partner p
             LEFT JOIN social_crm_advocate a ON a.partner_id = p.id
             LEFT JOIN ev ON ev.pid = p.id
             LEFT JOIN reach ON reach.pid = p.id
             LEFT JOIN inputs ON inputs.partner_id = p.id
                 WHERE (ev.pid IS NOT NULL OR inputs.partner_id IS NOT NULL
                        OR a.id IS NOT NULL) %(only_them)s
            ), comp AS (
                SELECT pid, old_tier,
                       %(engagement)s AS engagement, %(reach)s AS reach,
                       %(sentiment)s AS sentiment, %(recency)s AS recency,
                       %(referrals)s AS referrals, %(redemptions)s AS redemptions
                  FROM base
            ), scored AS (
                SELECT comp.*, %(total)s AS total FROM comp
            ), tiered AS (
                SELECT scored.*, %(tier)s AS tier,
                       CASE WHEN total > 0 THEN RANK() OVER (ORDER BY total DESC) ELSE 0 END
                           AS rank
                  FROM scored
            ), updated AS (
                UPDATE social_crm_advocate a
                   SET score = t.total, tier = t.tier, engagement = t.engagement,
                       reach = t.reach, sentiment = t.sentiment, recency = t.recency,
                       referrals = t.referrals, redemptions = t.redemptions,
                       rank = %(rank_update)s, scored_at = %(now)s
                  FROM tiered t
                 WHERE a.partner_id = t.pid AND t.old_tier IS NOT NULL
                   AND (a.score, a.tier, a.rank, a.engagement, a.reach, a.sentiment,
                        a.recency, a.referrals, a.redemptions)
                       IS DISTINCT FROM
                       (t.total, t.tier, %(rank_update)s, t.engagement, t.reach, t.sentiment,
                        t.recency, t.referrals, t.redemptions)
            ), inserted AS (
                INSERT INTO social_crm_advocate AS a
                       (partner_id, score, tier, engagement, reach, sentiment, recency,
                        referrals, redemptions, scored_at, rank)
                SELECT pid, total, tier, engagement, reach, sentiment, recency,
                       referrals, redemptions, %(now)s, %(rank_insert)s
                  FROM tiered
                 WHERE total > 0 AND old_tier IS NULL
                    -- a concurrent recompute placed this contact first: keep its row
                    ON CONFLICT (partner_id) DO NOTHING
            )
            SELECT pid, tier FROM tiered
             WHERE COALESCE(old_tier, 'none') <> tier AND %(log_changes)s
            """,
            now=now,
            # a full run ranks everyone in the statement; a partial one re-ranks after
            rank_insert=SQL("rank") if not limited else SQL("0"),
            rank_update=SQL("t.rank") if not limited else SQL("a.rank"),
            log_changes=not first_run,
            only_their_rows=only_their_rows,
            only_them=only_them,
            inputs=SQL(Partner._advocate_input_sql()),
            **formula,
        )
        # one batch statement over every interaction: let its hash aggregate stay
        # in memory instead of spilling to disk (SET LOCAL ends with the transaction)
        self.env.cr.execute("SET LOCAL work_mem = '128MB'")
        # nor JIT-compile it: on a database whose statistics know the table's size,
        # compiling the statement's expressions cost more than running them (2.1 s
        # without, 2.8-3.6 s with it at 1M interactions)
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute(query)
        changed = dict(self.env.cr.fetchall())
        if limited:
            self._rerank()
        self.invalidate_model()
        return changed

    @api.model
    def _rerank(self):
        """Competition ranking (1, 2, 2, 4) by score among positive scores; 0 otherwise."""
        self.env.cr.execute(
            """
            UPDATE social_crm_advocate a SET rank = r.rank
              FROM (SELECT id, CASE WHEN score > 0
                                    THEN RANK() OVER (ORDER BY score DESC) ELSE 0 END AS rank
                      FROM social_crm_advocate) r
             WHERE a.id = r.id AND a.rank IS DISTINCT FROM r.rank
            """
        )
