from odoo import fields, models


class LinkTracker(models.Model):
    _inherit = "link.tracker"

    social_crm_campaign_id = fields.Many2one(
        "social.crm.campaign", index="btree_not_null", ondelete="cascade"
    )
