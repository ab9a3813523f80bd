"""RSS and Atom feeds as a network of the add-on: no credentials, the base URL is
the feed's URL."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class

CODE = "feed"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
