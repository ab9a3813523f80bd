from odoo import fields, models


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "social.crm.partner.mixin"]

    social_identity_ids = fields.One2many(related="partner_id.social_identity_ids")
    social_interaction_count = fields.Integer(related="partner_id.social_interaction_count")
