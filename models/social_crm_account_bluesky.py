"""Bluesky as a network of the add-on: its selection value, app password and the
session tokens the connector refreshes."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class

CODE = "bluesky"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
    app_password = fields.Char(groups="base.group_system", copy=False)
    session_access_jwt = fields.Char(groups="base.group_system", copy=False)
    session_refresh_jwt = fields.Char(groups="base.group_system", copy=False)

    def _social_crm_credential_fields(self):
        if self.network != CODE:
            return super()._social_crm_credential_fields()
        return {
            "login": "identifier",
            "app_password": "app_password",
            "session_access_jwt": "access_jwt",
            "session_refresh_jwt": "refresh_jwt",
        }
