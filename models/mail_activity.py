from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    social_crm_interaction_id = fields.Many2one(
        "social.crm.interaction",
        "Social interaction",
        readonly=True,
        index="btree_not_null",
        # erased or purged with the interaction it quotes
        ondelete="cascade",
    )
