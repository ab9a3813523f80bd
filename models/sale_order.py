from odoo import fields, models
from odoo.exceptions import UserError

from .social_crm_account import network_selection


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "social.crm.partner.mixin"]

    social_identity_ids = fields.One2many(
        related="partner_id.social_identity_ids", compute_sudo=False
    )
    social_interaction_count = fields.Integer(
        related="partner_id.social_interaction_count", compute_sudo=False
    )
    social_recent_interaction_ids = fields.Many2many(
        related="partner_id.social_recent_interaction_ids", compute_sudo=False
    )
    social_advocate_tier = fields.Selection(related="partner_id.advocate_tier", compute_sudo=False)
    social_advocate_score = fields.Float(related="partner_id.advocate_score", compute_sudo=False)

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
