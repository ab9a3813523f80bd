from odoo import fields, models


class SocialCrmCampaignRefusal(models.Model):
    """A coupon a trigger refused to issue, and why: the campaign's abuse limits
    at work, visible on the campaign."""

    _name = "social.crm.campaign.refusal"
    _description = "Social Campaign Refusal"
    _order = "id desc"
    _rec_name = "identity_id"

    campaign_id = fields.Many2one(
        "social.crm.campaign", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    # erased with the person: an identity erased or purged takes its refusals along
    identity_id = fields.Many2one(
        "social.crm.identity", required=True, index=True, ondelete="cascade", readonly=True
    )
    interaction_id = fields.Many2one(
        "social.crm.interaction", index="btree_not_null", ondelete="cascade", readonly=True
    )
    reason = fields.Selection(
        [
            ("followers", "Too few followers"),
            ("rate", "Too many new contacts this hour"),
        ],
        required=True,
        readonly=True,
    )
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
