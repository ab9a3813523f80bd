from odoo import fields, models


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "social.crm.partner.mixin"]

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
    social_interaction_id = fields.Many2one(
        "social.crm.interaction", "Social interaction", readonly=True, index="btree_not_null"
    )
    social_identity_id = fields.Many2one(
        related="social_interaction_id.identity_id",
        string="Social identity",
        compute_sudo=False,
    )
    social_advocate_score = fields.Float(related="partner_id.advocate_score", compute_sudo=False)
