"""Mastodon as a network of the add-on: its selection value and access token."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class

CODE = "mastodon"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
    access_token = fields.Char(groups="base.group_system", copy=False)

    def _social_crm_credential_fields(self):
        if self.network != CODE:
            return super()._social_crm_credential_fields()
        return {"access_token": "access_token"}
