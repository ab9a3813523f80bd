"""Demo campaigns: a thank-you sent to the best advocates, one of whom already
redeemed it on a confirmed order, and an always-on "follow us" campaign.

Not a model: loaded only by ``social.crm.account._load_demo("social_crm_campaign_demo")``,
called once from ``demo/social_crm_campaign_demo.xml`` (``noupdate``). Nothing is
delivered: the segment campaign uses email, which waits in Odoo's outgoing queue.
"""


def load(env):
    program = env.ref("social_crm_module.demo_loyalty_program_social")
    thanks = env.ref("social_crm_module.demo_campaign_thanks")
    if thanks.recipient_ids:
        return
    thanks.action_start()
    partners = env["res.partner"].search(thanks._segment_domain(), limit=6)
    recipients = env["social.crm.campaign.recipient"]._issue(
        thanks, [(partner, None, None) for partner in partners]
    )
    recipients._deliver()
    if not recipients:
        return
    first = recipients[0]
    product = env.ref("product.product_product_4", raise_if_not_found=False)
    if not product:
        return
    order = env["sale.order"].create(
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
    env.ref("social_crm_module.demo_campaign_follow").action_start()
    return program
