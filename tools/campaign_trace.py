"""Follow one always-on campaign from a synced follow to revenue, on a demo database.

Runs in ``odoo shell`` and rolls everything back; the network is a stand-in
connector (nothing leaves the machine):

    python3 -m odoo shell --addons-path=... -d scrm_demo --no-http < tools/campaign_trace.py
"""

# ruff: noqa: F821 - ``env`` is given by odoo shell
from datetime import datetime, timezone
from unittest.mock import patch

from odoo.addons.social_crm_module.social_crm_module.connectors.base import Connector
from odoo.addons.social_crm_module.social_crm_module.interaction import Network, Page
from odoo.addons.social_crm_module.social_crm_module.testing import make_author, make_interaction


class Fake(Connector):
    network = Network.MASTODON
    sent = []

    def fetch(self, cursor=None):
        who = make_author(
            "lena@fosstodon.example", external_id="114000000000999", display_name="Lena Trace"
        )
        now = datetime.now(timezone.utc)
        follow = make_interaction("notif-trace-1", who, "follow", now=now)
        return Page(items=(follow,), cursor="c-trace")

    def send_dm(self, author_id, text):
        Fake.sent.append((author_id, text))
        return make_interaction(
            "dm-1",
            make_author("brand"),
            "dm",
            now=datetime.now(timezone.utc),
            text=text,
            url="https://mastodon.example.social/@yourcompany/dm-1",
        )


account = env["social.crm.account"].search([("network", "=", "mastodon")], limit=1)
account.state = "connected"
campaign = env.ref("social_crm_module.demo_campaign_follow")
print("campaign:", campaign.name, campaign.state, "utm:", campaign.utm_campaign_id.name)
# the cron commits page by page; here nothing is committed, so the trace leaves
# the demo database as it found it
with (
    patch.object(type(account), "_get_connector", lambda self: Fake()),
    patch.object(type(account), "_sync_commit", lambda self: None),
):
    account._sync()
r = campaign.recipient_ids
print("interaction:", r.interaction_id.kind, r.interaction_id.identity_id.handle)
print(
    "contact created:",
    r.partner_id.name,
    "| created by campaign:",
    r.partner_id.social_crm_campaign_id.name,
)
print(
    "coupon:",
    r.coupon_id.code,
    "bound to",
    r.coupon_id.partner_id.name,
    "| history rows:",
    len(r.coupon_id.history_ids),
)
print("DM sent:", Fake.sent, "| state:", r.social_state, r.social_url)
product = env.ref("product.product_product_4")
order = env["sale.order"].create(
    {
        "partner_id": r.partner_id.id,
        "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})],
    }
)
other = env["sale.order"].create(
    {
        "partner_id": env.ref("base.res_partner_2").id,
        "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1})],
    }
)
print("same code on another customer's order:", other._try_apply_code(r.coupon_id.code))
status = order._try_apply_code(r.coupon_id.code)
for coupon, rewards in status.items():
    order._apply_program_reward(rewards[:1], coupon)
order.action_confirm()
print(
    "order:",
    order.name,
    order.state,
    "untaxed",
    order.amount_untaxed,
    "| utm:",
    order.campaign_id.name,
    "/",
    order.source_id.name,
    "/",
    order.medium_id.name,
)
campaign.invalidate_recordset()
print(
    "dashboard: issued",
    campaign.issued_count,
    "delivered",
    campaign.delivered_count,
    "failed",
    campaign.failed_count,
    "redeemed",
    campaign.redeemed_count,
    f"rate {campaign.redemption_rate:.1f}%",
    "revenue",
    campaign.revenue,
)
r.partner_id.invalidate_recordset()
print("advocate redemption count:", r.partner_id.advocate_redemption_count)
env["res.partner"]._advocate_recompute(partner_ids=r.partner_id.ids)
print(
    "score:",
    r.partner_id.advocate_score,
    r.partner_id.advocate_tier,
    "| redemptions component:",
    r.partner_id.advocate_redemptions,
)
env.cr.rollback()
