"""Demo history of the Facebook Page and the Instagram account: webhook events as
Meta sends them, read by the connectors' own normaliser and stored by the real
ingest (``_ingest_page``), so the chatter shows them as a live Page would.

Loaded once from ``demo/social_crm_meta_demo.xml`` (``noupdate``); idempotent
anyway (identities are looked up first, the ingest dedupes by id).
"""

from datetime import timedelta

from odoo import fields

from odoo.addons.social_crm_module.social_crm_module.interaction import Page, utc

PAGE = "104000000000099"
IG = "17841400000000099"
POST = f"{PAGE}_900000000000002"
REEL = "17900000000000002"
#: (network, scoped person id, name or username, partner xml id)
PEOPLE = {
    "fb_priya": ("facebook", "6100000000000001", "Priya Raman",
                 "social_crm_module.demo_partner_priya_raman"),
    "fb_lucas": ("facebook", "6100000000000002", "Lucas Moreau",
                 "social_crm_module.demo_partner_lucas_moreau"),
    "ig_hannah": ("instagram", "9100000000000001", "hannah.kowal",
                  "social_crm_module.demo_partner_hannah_kowalski"),
}  # fmt: skip


def load(env):
    now = utc(fields.Datetime.now())
    facebook = env.ref("social_crm_module.demo_account_facebook", False)
    instagram = env.ref("social_crm_module.demo_account_instagram", False)
    if not facebook or not instagram:
        return True
    _link_identities(env)

    def at(hours):
        return int((now - timedelta(hours=hours)).timestamp())

    def comment(cid, person, name, text, hours):
        return {
            "field": "feed",
            "value": {
                "from": {"id": person, "name": name},
                "post_id": POST,
                "comment_id": f"900000000000002_{cid}",
                "parent_id": POST,
                "message": text,
                "created_time": at(hours),
                "item": "comment",
                "verb": "add",
            },
        }

    fb_entries = [
        {
            "id": PAGE,
            "changes": [
                comment("7001", "6100000000000001", "Priya Raman",
                        "My new corner setup, thanks to you! #deskgoals", 50),
                comment("7002", "6100000000000002", "Lucas Moreau",
                        "Does the Corner Desk come in oak?", 30),
                {
                    "field": "feed",
                    "value": {
                        "from": {"id": "6100000000000002", "name": "Lucas Moreau"},
                        "post_id": POST,
                        "created_time": at(29),
                        "item": "reaction",
                        "reaction_type": "love",
                        "verb": "add",
                    },
                },
            ],
        },
        {
            "id": PAGE,
            "messaging": [
                {
                    "sender": {"id": "6100000000000002"},
                    "recipient": {"id": PAGE},
                    "timestamp": at(6) * 1000,
                    "message": {"mid": "m_demoLucas0001",
                                "text": "Hi! Could I see the oak sample in your Lyon showroom?"},
                },
                {
                    "sender": {"id": "6100000000000002"},
                    "recipient": {"id": PAGE},
                    "timestamp": at(5) * 1000,
                    "message": {"mid": "m_demoLucas0002",
                                "text": "Saturday morning would suit me best."},
                },
            ],
        },
    ]  # fmt: skip
    ig_entries = [
        {
            "id": IG,
            "time": at(20),
            "changes": [
                {
                    "field": "comments",
                    "value": {
                        "from": {"id": "9100000000000001", "username": "hannah.kowal"},
                        "media": {"id": REEL, "media_product_type": "REELS"},
                        "id": "17950000000000001",
                        "text": "That cable tray is genius. Link?",
                    },
                }
            ],
        },
        {
            "id": IG,
            "messaging": [
                {
                    "sender": {"id": "9100000000000001"},
                    "recipient": {"id": IG},
                    "timestamp": at(3) * 1000,
                    "message": {"mid": "aWdfZAG1demohannah01",
                                "text": "Do you ship the cable tray to Chicago?"},
                }
            ],
        },
    ]  # fmt: skip
    for account, entries in ((facebook, fb_entries), (instagram, ig_entries)):
        connector = account._get_connector()
        for entry in entries:
            account._ingest_page(Page(items=connector.webhook_items(entry).items))
        account.write({"state": "paused", "next_sync_at": False})
    # started after the history: the demo queues no delivery a paused account cannot send
    campaign = env.ref("social_crm_module.demo_campaign_comment_to_dm", False)
    if campaign and campaign.state == "draft":
        campaign.action_start()
    return True


def _link_identities(env):
    """People staff already confirmed: Meta exposes no email, a link is a person's word."""
    Identity = env["social.crm.identity"]
    owners = {"facebook": PAGE, "instagram": IG}
    for network, person, name, xmlid in PEOPLE.values():
        partner = env.ref(xmlid, False)
        external_id = f"{owners[network]}:{person}"
        if not partner or Identity.search_count(
            [("network", "=", network), ("external_id", "=", external_id)]
        ):
            continue
        Identity.create(
            {
                "network": network,
                "external_id": external_id,
                "handle": name,
                "display_name_network": name,
                "partner_id": partner.id,
                "link_state": "confirmed",
                "match_reason": "manual",
            }
        )
