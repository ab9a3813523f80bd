import json

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..social_crm_module import scoring
from .social_crm_advocate import TIERS

PARAMS_KEY = "social_crm_module.scoring_params"
SEARCH_OPERATORS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: b is not False and a < b,
    "<=": lambda a, b: b is not False and a <= b,
    ">": lambda a, b: b is not False and a > b,
    ">=": lambda a, b: b is not False and a >= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
#: partner field -> social.crm.advocate field
ADVOCATE_FIELDS = {
    "advocate_score": "score",
    "advocate_tier": "tier",
    "advocate_rank": "rank",
    "advocate_engagement": "engagement",
    "advocate_reach": "reach",
    "advocate_sentiment": "sentiment",
    "advocate_recency": "recency",
    "advocate_referrals": "referrals",
    "advocate_redemptions": "redemptions",
    "advocate_scored_at": "scored_at",
}


class ResPartner(models.Model):
    """The contact's advocate score, read from ``social.crm.advocate``.

    The formula is the engine's (``social_crm_module/scoring.py``); the recompute is
    one set-based statement in ``social.crm.advocate._recompute``, checked against
    the Python reference on random data.
    """

    _inherit = "res.partner"

    advocate_ids = fields.One2many("social.crm.advocate", "partner_id", readonly=True)
    advocate_score = fields.Float(
        digits=(5, 2),
        compute="_compute_advocate",
        search="_search_advocate_score",
        help="From 0 to 100.",
    )
    advocate_tier = fields.Selection(
        TIERS, compute="_compute_advocate", search="_search_advocate_tier"
    )
    advocate_rank = fields.Integer(compute="_compute_advocate", search="_search_advocate_rank")
    advocate_engagement = fields.Float("Engagement", digits=(7, 3), compute="_compute_advocate")
    advocate_reach = fields.Float("Reach", digits=(7, 3), compute="_compute_advocate")
    advocate_sentiment = fields.Float("Sentiment", digits=(7, 3), compute="_compute_advocate")
    advocate_recency = fields.Float("Recency", digits=(7, 3), compute="_compute_advocate")
    advocate_referrals = fields.Float("Referrals", digits=(7, 3), compute="_compute_advocate")
    advocate_redemptions = fields.Float("Redemptions", digits=(7, 3), compute="_compute_advocate")
    advocate_scored_at = fields.Datetime("Scored at", compute="_compute_advocate")
    advocate_referral_count = fields.Integer("Referrals made", readonly=True, copy=False)
    advocate_redemption_count = fields.Integer("Coupons redeemed", readonly=True, copy=False)
    advocate_networks = fields.Char("Networks", compute="_compute_advocate_networks")
    advocate_explanation = fields.Text("Why this score", compute="_compute_advocate_explanation")

    @api.depends("advocate_ids")
    def _compute_advocate(self):
        rows = {
            row.partner_id.id: row
            for row in self.env["social.crm.advocate"]
            .sudo()
            .search([("partner_id", "in", self.ids)])
        }
        defaults = dict.fromkeys(ADVOCATE_FIELDS, 0) | {
            "advocate_tier": "none",
            "advocate_scored_at": False,
        }
        for partner in self:
            row = rows.get(partner.id)
            partner.update(
                {name: row[column] for name, column in ADVOCATE_FIELDS.items()} if row else defaults
            )

    def _search_advocate_score(self, operator, value):
        return self._search_advocate_column("score", 0.0, operator, value)

    def _search_advocate_tier(self, operator, value):
        return self._search_advocate_column("tier", "none", operator, value)

    def _search_advocate_rank(self, operator, value):
        return self._search_advocate_column("rank", 0, operator, value)

    def _search_advocate_column(self, column, default, operator, value):
        """Contacts whose score row matches; contacts without a row have ``default``."""
        if operator not in SEARCH_OPERATORS:
            raise ValidationError(
                self.env._(
                    "Unsupported search on advocate %(column)s: %(operator)s",
                    column=column,
                    operator=operator,
                )
            )
        scored = self.env["social.crm.advocate"]._search([(column, operator, value)])
        domain = [("id", "in", scored.subselect("partner_id"))]
        if SEARCH_OPERATORS[operator](default, value):
            domain = ["|", ("advocate_ids", "=", False), *domain]
        return domain

    @api.depends("social_identity_ids.network")
    def _compute_advocate_networks(self):
        labels = dict(self.env["social.crm.identity"]._fields["network"].selection)
        groups = self.env["social.crm.identity"]._read_group(
            [("partner_id", "in", self.ids), ("link_state", "=", "confirmed")],
            ["partner_id", "network"],
        )
        networks = {}
        for partner, network in groups:
            networks.setdefault(partner.id, []).append(labels.get(network, network))
        for partner in self:
            partner.advocate_networks = ", ".join(sorted(networks.get(partner.id, [])))

    @api.depends(
        "advocate_score",
        "advocate_engagement",
        "advocate_reach",
        "advocate_sentiment",
        "advocate_recency",
        "advocate_referrals",
        "advocate_redemptions",
    )
    def _compute_advocate_explanation(self):
        params = self._advocate_params()
        tiers = dict(TIERS)
        kinds, negatives = self._advocate_kind_counts()
        for partner in self:
            breakdown = scoring.Breakdown(
                engagement=partner.advocate_engagement,
                reach=partner.advocate_reach,
                sentiment=partner.advocate_sentiment,
                recency=partner.advocate_recency,
                referrals=partner.advocate_referrals,
                redemptions=partner.advocate_redemptions,
                total=partner.advocate_score,
                tier=partner.advocate_tier or "none",
                kinds={k: n for k, n in kinds.get(partner.id, {}).items() if n},
                negatives=negatives.get(partner.id, 0),
            )
            lines = [
                self.env._(
                    "%(name)s is %(tier)s with %(score).1f / 100.",
                    name=partner.name or "",
                    tier=tiers.get(partner.advocate_tier or "none"),
                    score=partner.advocate_score,
                )
            ]
            lines += breakdown.explain(params)
            partner.advocate_explanation = "\n".join(lines)

    def _advocate_kind_counts(self):
        """Per contact: {kind: interactions counted as engagement} and the number of
        negative ones (polarity < 0), the score's own split, in one query."""
        Interaction = self.env["social.crm.interaction"]
        Interaction.flush_model(["partner_id", "kind", "polarity"])
        query = Interaction._search([("partner_id", "in", self.ids)])
        table = query.table
        self.env.cr.execute(
            SQL(
                """
                SELECT %(partner)s, %(kind)s, count(*), count(*) FILTER (WHERE %(polarity)s < 0)
                  FROM %(from)s WHERE %(where)s
              GROUP BY 1, 2
                """,
                partner=SQL.identifier(table, "partner_id"),
                kind=SQL.identifier(table, "kind"),
                polarity=SQL.identifier(table, "polarity"),
                **{"from": query.from_clause, "where": query.where_clause},
            )
        )
        kinds, negatives = {}, {}
        for partner_id, kind, count, negative in self.env.cr.fetchall():
            if count > negative:
                kinds.setdefault(partner_id, {})[kind] = count - negative
            negatives[partner_id] = negatives.get(partner_id, 0) + negative
        return kinds, negatives

    # -- actions ---------------------------------------------------------------------

    def action_advocate_recompute(self):
        self.ensure_one()
        self._advocate_recompute(self.ids)
        return True

    # -- business ----------------------------------------------------------------------

    @api.model
    def _advocate_params(self):
        raw = self.env["ir.config_parameter"].sudo().get_param(PARAMS_KEY)
        if not raw:
            return scoring.ScoringParams()
        try:
            return scoring.ScoringParams.from_mapping(json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                self.env._("The advocate scoring settings are invalid: %s", exc)
            ) from exc

    @api.model
    def _advocate_input_sql(self):
        """SQL yielding (partner_id, referrals, redemptions); campaigns may override."""
        return (
            "SELECT id AS partner_id, advocate_referral_count AS referrals, "
            "advocate_redemption_count AS redemptions FROM res_partner "
            "WHERE advocate_referral_count > 0 OR advocate_redemption_count > 0"
        )

    @api.model
    def _cron_advocate_recompute(self):
        self._advocate_recompute()

    @api.model
    def _advocate_recompute(self, partner_ids=None, now=None):
        """Recompute scores set-based, log tier changes once; return how many changed."""
        changed = self.env["social.crm.advocate"]._recompute(partner_ids, now=now)
        self.invalidate_model([*ADVOCATE_FIELDS, "advocate_explanation"])
        self._advocate_log_tier_changes(changed)
        return len(changed)

    @api.model
    def _advocate_log_tier_changes(self, changed):
        """One chatter note per contact whose tier changed, in one batch."""
        if not changed:
            return
        tiers = dict(TIERS)
        partners = self.browse(list(changed))
        bodies = {
            partner.id: self.env._(
                "%(name)s is now %(tier)s.",
                name=partner.name or "",
                tier=tiers.get(changed[partner.id], changed[partner.id]),
            )
            for partner in partners
        }
        self._social_crm_log_notes(bodies, subtype_xmlid="social_crm_module.mt_advocate_tier")
