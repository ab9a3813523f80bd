from odoo import fields, models

TIERS = [
    ("none", "None"),
    ("bronze", "Bronze"),
    ("silver", "Silver"),
    ("gold", "Gold"),
    ("ambassador", "Ambassador"),
]


class ResPartner(models.Model):
    """The advocate score, stored per contact and recomputed set-based."""

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
