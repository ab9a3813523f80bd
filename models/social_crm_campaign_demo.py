"""Demo campaigns: a thank-you sent to the best advocates, one of whom already
redeemed it on a confirmed order, and an always-on "follow us" campaign.

Called once from ``demo/social_crm_campaign_demo.xml`` (``noupdate``). Nothing is
delivered: the segment campaign uses email, which waits in Odoo's outgoing queue.
"""

from odoo import api, models


class SocialCrmCampaign(models.Model):
    _inherit = "social.crm.campaign"

    @api.model
    def _load_demo_campaigns(self):
        program = self.env.ref("social_crm_module.demo_loyalty_program_social")
        thanks = self.env.ref("social_crm_module.demo_campaign_thanks")
        if thanks.recipient_ids:
            return
        thanks.action_start()
        partners = self.env["res.partner"].search(thanks._segment_domain(), limit=6)
        recipients = self.env["social.crm.campaign.recipient"]._issue(
            thanks, [(partner, None, None) for partner in partners]
        )
        recipients._deliver()
        if not recipients:
            return
        first = recipients[0]
        product = self.env.ref("product.product_product_4", raise_if_not_found=False)
        if not product:
            return
        order = self.env["sale.order"].create(
            {
                "partner_id": first.partner_id.id,
                "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 2})],
            }
        )
        status = order._try_apply_code(first.coupon_id.code)
        if "error" not in status:
            for coupon, rewards in status.items():
                order._apply_program_reward(rewards[:1], coupon)
            order.action_confirm()
        self.env.ref("social_crm_module.demo_campaign_follow").action_start()
        return program
