from odoo import api, fields, models
from odoo.tools import SQL

from .social_crm_account import network_selection
from .social_crm_advocate import TIERS


class SocialCrmCampaignRedemption(models.Model):
    """A confirmed sale order that used a campaign's coupon: the campaign's revenue."""

    _name = "social.crm.campaign.redemption"
    _description = "Social Campaign Redemption"
    _order = "date desc, id desc"
    _rec_name = "order_id"

    campaign_id = fields.Many2one(
        "social.crm.campaign", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    recipient_id = fields.Many2one(
        "social.crm.campaign.recipient", required=True, index=True, ondelete="cascade"
    )
    order_id = fields.Many2one("sale.order", required=True, index=True, ondelete="cascade")
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    buyer_id = fields.Many2one("res.partner", "Customer", readonly=True, index=True)
    advocate_id = fields.Many2one(
        "res.partner", readonly=True, index=True, help="Who the coupon was issued to."
    )
    is_referral = fields.Boolean(
        "Referral", readonly=True, help="Someone else used the advocate's referral code."
    )
    paid = fields.Boolean(
        readonly=True, help="The order is invoiced in full and its invoices are paid."
    )
    credited = fields.Boolean(
        "Referral credited",
        readonly=True,
        help="A referral counts for its advocate once the order is paid, once per "
        "customer, up to the campaign's cap per advocate.",
    )
    network = fields.Selection(network_selection, readonly=True)
    advocate_tier = fields.Selection(
        TIERS, "Advocate tier", readonly=True, help="The advocate's tier when the order came."
    )
    currency_id = fields.Many2one(related="order_id.currency_id")
    amount_untaxed = fields.Monetary("Revenue", readonly=True, currency_field="currency_id")

    _sql_constraints = [
        (
            "order_recipient_unique",
            "UNIQUE(order_id, recipient_id)",
            "This order was already credited to this coupon.",
        )
    ]

    @api.model
    def _refresh_advocate_counts(self, partners):
        """Coupons redeemed and referrals made, counted from the redemptions in one
        UPDATE: re-running it, or cancelling an order, cannot inflate a score.

        A referral is credited only for a paid order, once per customer (the first
        paid order of each), and up to the campaign's cap per advocate: referral
        codes cannot be farmed with sockpuppet orders nobody pays."""
        if not partners:
            return
        self.flush_model()
        self.env["social.crm.campaign"].flush_model(["max_referrals_per_advocate"])
        self.env.cr.execute(
            SQL(
                """
                WITH firsts AS (
                    SELECT DISTINCT ON (campaign_id, advocate_id, buyer_id)
                           id, campaign_id, advocate_id, date
                      FROM social_crm_campaign_redemption
                     WHERE advocate_id = ANY(%(ids)s) AND is_referral AND paid
                  ORDER BY campaign_id, advocate_id, buyer_id, date, id
                ), numbered AS (
                    SELECT f.id, COALESCE(c.max_referrals_per_advocate, 0) AS cap,
                           row_number() OVER (PARTITION BY f.campaign_id, f.advocate_id
                                              ORDER BY f.date, f.id) AS n
                      FROM firsts f JOIN social_crm_campaign c ON c.id = f.campaign_id
                )
                UPDATE social_crm_campaign_redemption r
                   SET credited = r.id IN (SELECT id FROM numbered WHERE cap = 0 OR n <= cap)
                 WHERE r.advocate_id = ANY(%(ids)s) AND r.is_referral
                   AND r.credited IS DISTINCT FROM
                       (r.id IN (SELECT id FROM numbered WHERE cap = 0 OR n <= cap))
                """,
                ids=list(partners.ids),
            )
        )
        self.invalidate_model(["credited"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET advocate_redemption_count = (
                           SELECT count(*) FROM social_crm_campaign_redemption r
                            WHERE r.buyer_id = p.id AND NOT r.is_referral),
                       advocate_referral_count = (
                           SELECT count(*) FROM social_crm_campaign_redemption r
                            WHERE r.advocate_id = p.id AND r.is_referral AND r.credited)
                 WHERE p.id = ANY(%s)
                """,
                list(partners.ids),
            )
        )
        partners.invalidate_recordset(["advocate_redemption_count", "advocate_referral_count"])
