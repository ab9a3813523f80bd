from odoo import fields, models

from .res_partner_privacy import RETENTION_KEY


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    social_retention_days = fields.Integer(
        "Keep social interactions (days)",
        config_parameter=RETENTION_KEY,
        help="Interactions older than this, and their chatter notes, are purged every "
        "night. 0 keeps them.",
    )
