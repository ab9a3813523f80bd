from odoo import api, fields, models
from odoo.exceptions import UserError
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


class SocialCrmCampaign(models.Model):
    _inherit = "social.crm.campaign"

    max_referrals_per_advocate = fields.Integer(
        "Referrals per advocate",
        default=10,
        help="The most referrals one advocate is credited for in this campaign; each "
        "counts once the order is paid, once per customer. 0 means no cap.",
    )
    uncredited_count = fields.Integer("Referrals not credited", compute="_compute_uncredited_count")

    _sql_constraints = [
        (
            "max_referrals_positive",
            "CHECK(max_referrals_per_advocate >= 0)",
            "The cap of referrals cannot be negative.",
        )
    ]

    def _uncredited_domain(self):
        return [
            ("campaign_id", "in", self.ids),
            ("is_referral", "=", True),
            ("paid", "=", True),
            ("credited", "=", False),
        ]

    def _compute_uncredited_count(self):
        counts = dict(
            self.env["social.crm.campaign.redemption"]._read_group(
                self._uncredited_domain(), ["campaign_id"], ["__count"]
            )
        )
        for campaign in self:
            campaign.uncredited_count = counts.get(campaign, 0)

    def action_view_uncredited(self):
        self.ensure_one()
        return self._open(
            "social.crm.campaign.redemption",
            self.env._("Referrals not credited"),
            self._uncredited_domain(),
            "list",
        )


class AccountMove(models.Model):
    _inherit = "account.move"

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        orders = self.line_ids.sale_line_ids.order_id
        if orders:
            orders._social_crm_mark_paid()
        return result


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _social_crm_is_paid(self):
        """Invoiced in full, and every posted customer invoice paid (or in payment)."""
        self.ensure_one()
        invoices = self.invoice_ids.filtered(
            lambda move: move.state == "posted" and move.move_type == "out_invoice"
        )
        return (
            self.invoice_status == "invoiced"
            and bool(invoices)
            and all(move.payment_state in ("paid", "in_payment") for move in invoices)
        )

    def _social_crm_mark_paid(self):
        redemptions = self.sudo().social_crm_redemption_ids.filtered(lambda r: not r.paid)
        paid = redemptions.filtered(lambda r: r.order_id._social_crm_is_paid())
        if paid:
            paid.write({"paid": True})
            paid._refresh_advocate_counts(paid.advocate_id)

    social_crm_redemption_ids = fields.One2many(
        "social.crm.campaign.redemption", "order_id", readonly=True
    )

    def _social_crm_campaign_coupons(self):
        """Campaign recipients whose coupons this order uses."""
        self.ensure_one()
        coupons = self.applied_coupon_ids | self.order_line.coupon_id
        if not coupons:
            return self.env["social.crm.campaign.recipient"]
        return (
            self.env["social.crm.campaign.recipient"]
            .sudo()
            .search([("coupon_id", "in", coupons.ids)])
        )

    def _social_crm_foreign_coupon(self, recipients):
        """The first personal coupon of ``recipients`` issued to someone else."""
        self.ensure_one()
        buyer = self.partner_id.commercial_partner_id
        for recipient in recipients:
            if (
                recipient.campaign_id.coupon_kind == "personal"
                and recipient.partner_id.commercial_partner_id != buyer
            ):
                return recipient
        return recipients.browse()

    def _social_crm_foreign_message(self, recipient):
        return self.env._(
            "The coupon %(code)s was issued to another customer by the campaign "
            "%(campaign)s; it cannot be used on an order for %(customer)s.",
            code=recipient.coupon_id.code,
            campaign=recipient.campaign_id.name,
            customer=self.partner_id.display_name,
        )

    def _try_apply_code(self, code):
        card = self.env["loyalty.card"].sudo().search([("code", "=", code)], limit=1)
        if card:
            recipient = (
                self.env["social.crm.campaign.recipient"]
                .sudo()
                .search([("coupon_id", "=", card.id)], limit=1)
            )
            if self._social_crm_foreign_coupon(recipient):
                return {"error": self._social_crm_foreign_message(recipient)}
        return super()._try_apply_code(code)

    def action_confirm(self):
        # the customer may have changed after the code was applied: check again
        for order in self:
            foreign = order._social_crm_foreign_coupon(order._social_crm_campaign_coupons())
            if foreign:
                raise UserError(order._social_crm_foreign_message(foreign))
        result = super().action_confirm()
        self._social_crm_attribute()
        return result

    def _social_crm_attribute(self):
        """Credit the campaign (utm), the network and the advocate for each campaign
        coupon this confirmed order uses."""
        Redemption = self.env["social.crm.campaign.redemption"].sudo()
        Utm = self.env["utm.mixin"]
        medium = Utm._find_or_create_record("utm.medium", "Social")
        networks = dict(network_selection(self))
        values, credited = [], self.env["res.partner"]
        for order in self:
            recipients = order._social_crm_campaign_coupons()
            done = order.social_crm_redemption_ids.recipient_id
            buyer = order.partner_id.commercial_partner_id
            for recipient in recipients - done:
                advocate = recipient.partner_id
                values.append(
                    {
                        "campaign_id": recipient.campaign_id.id,
                        "recipient_id": recipient.id,
                        "order_id": order.id,
                        "buyer_id": order.partner_id.id,
                        "advocate_id": advocate.id,
                        "is_referral": advocate.commercial_partner_id != buyer,
                        "network": recipient.network,
                        "advocate_tier": advocate.advocate_tier,
                        "amount_untaxed": order.amount_untaxed,
                        "paid": order._social_crm_is_paid(),
                    }
                )
                credited |= order.partner_id | advocate
            if recipients:
                first = recipients[0]
                source = (
                    Utm._find_or_create_record("utm.source", networks[first.network])
                    if first.network
                    else Utm._find_or_create_record("utm.source", "Email")
                )
                order.write(
                    {
                        "campaign_id": first.campaign_id.utm_campaign_id.id,
                        "source_id": source.id,
                        "medium_id": medium.id
                        if first.network
                        else Utm._find_or_create_record("utm.medium", "Email").id,
                    }
                )
        if values:
            Redemption.create(values)
            Redemption._refresh_advocate_counts(credited)

    def _action_cancel(self):
        """A cancelled order no longer counts for the campaign or the advocate."""
        redemptions = self.sudo().social_crm_redemption_ids
        partners = redemptions.buyer_id | redemptions.advocate_id
        result = super()._action_cancel()
        if redemptions:
            redemptions.unlink()
            self.env["social.crm.campaign.redemption"]._refresh_advocate_counts(partners)
        return result
