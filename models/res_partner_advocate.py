import json

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..social_crm_module import scoring

TIERS = [
    ("none", "None"),
    ("bronze", "Bronze"),
    ("silver", "Silver"),
    ("gold", "Gold"),
    ("ambassador", "Ambassador"),
]
PARAMS_KEY = "social_crm_module.scoring_params"


class ResPartner(models.Model):
    """The advocate score, stored per contact and recomputed set-based in SQL.

    The formula is the engine's (``social_crm_module/scoring.py``): the SQL below is
    assembled from the engine's own SQL fragments, and a test checks it against the
    Python reference on random data.
    """

    _inherit = "res.partner"

    advocate_score = fields.Float(digits=(5, 2), readonly=True, index=True, copy=False)
    advocate_tier = fields.Selection(TIERS, default="none", readonly=True, index=True, copy=False)
    advocate_rank = fields.Integer(readonly=True, index=True, copy=False)
    advocate_engagement = fields.Float("Engagement", digits=(7, 3), readonly=True, copy=False)
    advocate_reach = fields.Float("Reach", digits=(7, 3), readonly=True, copy=False)
    advocate_sentiment = fields.Float("Sentiment", digits=(7, 3), readonly=True, copy=False)
    advocate_recency = fields.Float("Recency", digits=(7, 3), readonly=True, copy=False)
    advocate_referrals = fields.Float("Referrals", digits=(7, 3), readonly=True, copy=False)
    advocate_redemptions = fields.Float("Redemptions", digits=(7, 3), readonly=True, copy=False)
    advocate_scored_at = fields.Datetime("Scored at", readonly=True, copy=False)
    #: inputs fed by coupon campaigns (referrals by others, coupons redeemed)
    advocate_referral_count = fields.Integer("Referrals made", readonly=True, copy=False)
    advocate_redemption_count = fields.Integer("Coupons redeemed", readonly=True, copy=False)
    advocate_networks = fields.Char("Networks", compute="_compute_advocate_networks")
    advocate_explanation = fields.Text("Why this score", compute="_compute_advocate_explanation")

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
        # the score's own split: polarity < 0 is negative, everything else engagement
        Interaction = self.env["social.crm.interaction"]
        domain = [("partner_id", "in", self.ids)]
        kinds, negatives = {}, {}
        for partner, kind, count in Interaction._read_group(
            domain, ["partner_id", "kind"], ["__count"]
        ):
            kinds.setdefault(partner.id, {})[kind] = count
        negative_domain = [*domain, ("polarity", "<", 0)]
        for partner, kind, count in Interaction._read_group(
            negative_domain, ["partner_id", "kind"], ["__count"]
        ):
            negatives[partner.id] = negatives.get(partner.id, 0) + count
            kinds[partner.id][kind] -= count
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
        """Recompute scores in one statement; log tier changes once; re-rank.

        ``partner_ids`` limits the work to those contacts (the form button); ``None``
        recomputes everyone who has interactions, inputs, or a score to reset.
        Returns the number of contacts whose tier changed.
        """
        params = self._advocate_params()
        sql = scoring.sql_expressions(params)
        now = now or fields.Datetime.now()
        self.flush_model()
        self.env["social.crm.interaction"].flush_model()
        self.env["social.crm.identity"].flush_model()
        only = "AND i.partner_id = ANY(%(ids)s)" if partner_ids is not None else ""
        only_p = "AND p.id = ANY(%(ids)s)" if partner_ids is not None else ""
        query = f"""
            WITH ev AS (
                SELECT i.partner_id AS pid,
                       {sql["event_engagement"]} AS engagement,
                       {sql["event_sentiment"]} AS sentiment,
                       {sql["event_recency"]} AS recency
                  FROM (SELECT partner_id, kind,
                               GREATEST(EXTRACT(EPOCH FROM (%(now)s - date)) / 86400.0, 0)
                                   AS age_days,
                               COALESCE(polarity, 0) AS polarity
                          FROM social_crm_interaction i
                         WHERE partner_id IS NOT NULL {only}) i
              GROUP BY i.partner_id
            ), reach AS (
                SELECT partner_id AS pid, MAX(COALESCE(followers_count, 0)) AS followers
                  FROM social_crm_identity
                 WHERE partner_id IS NOT NULL AND link_state = 'confirmed'
              GROUP BY partner_id
            ), inputs AS ({self._advocate_input_sql()}
            ), base AS (
                SELECT p.id AS pid, p.advocate_tier AS old_tier,
                       COALESCE(ev.engagement, 0) AS engagement,
                       COALESCE(ev.sentiment, 0) AS sentiment,
                       COALESCE(ev.recency, 0) AS recency,
                       COALESCE(reach.followers, 0) AS followers,
                       COALESCE(inputs.referrals, 0) AS referrals,
                       COALESCE(inputs.redemptions, 0) AS redemptions
                  FROM res_partner p
             LEFT JOIN ev ON ev.pid = p.id
             LEFT JOIN reach ON reach.pid = p.id
             LEFT JOIN inputs ON inputs.partner_id = p.id
                 WHERE (ev.pid IS NOT NULL OR inputs.partner_id IS NOT NULL
                        OR p.advocate_score > 0) {only_p}
            ), comp AS (
                SELECT pid, old_tier,
                       {sql["engagement"]} AS engagement,
                       {sql["reach"]} AS reach,
                       {sql["sentiment"]} AS sentiment,
                       {sql["recency"]} AS recency,
                       {sql["referrals"]} AS referrals,
                       {sql["redemptions"]} AS redemptions
                  FROM base
            ), scored AS (
                SELECT comp.*, {sql["total"]} AS total FROM comp
            ), tiered AS (
                SELECT scored.*, {sql["tier"]} AS tier FROM scored
            )
            UPDATE res_partner p
               SET advocate_score = t.total,
                   advocate_tier = t.tier,
                   advocate_engagement = t.engagement,
                   advocate_reach = t.reach,
                   advocate_sentiment = t.sentiment,
                   advocate_recency = t.recency,
                   advocate_referrals = t.referrals,
                   advocate_redemptions = t.redemptions,
                   advocate_scored_at = %(now)s
              FROM tiered t
             WHERE p.id = t.pid
         RETURNING p.id, t.old_tier, t.tier
        """  # noqa: S608 - fragments come from the engine, values are parameters
        self.env.cr.execute(query, {"now": now, "ids": list(partner_ids or [])})
        changed = {
            pid: tier for pid, old, tier in self.env.cr.fetchall() if (old or "none") != tier
        }
        self._advocate_rerank()
        self.invalidate_model(
            [
                "advocate_score",
                "advocate_tier",
                "advocate_rank",
                "advocate_engagement",
                "advocate_reach",
                "advocate_sentiment",
                "advocate_recency",
                "advocate_referrals",
                "advocate_redemptions",
                "advocate_scored_at",
            ]
        )
        self._advocate_log_tier_changes(changed)
        return len(changed)

    @api.model
    def _advocate_rerank(self):
        """Competition ranking (1, 2, 2, 4) by score among scored contacts; 0 otherwise."""
        self.env.cr.execute(
            """
            UPDATE res_partner p SET advocate_rank = r.rank
              FROM (SELECT id, CASE WHEN advocate_score > 0
                                    THEN RANK() OVER (ORDER BY advocate_score DESC)
                                    ELSE 0 END AS rank
                      FROM res_partner
                     WHERE advocate_score > 0 OR advocate_rank <> 0) r
             WHERE p.id = r.id AND p.advocate_rank IS DISTINCT FROM r.rank
            """
        )

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
        partners._message_log_batch(bodies)
