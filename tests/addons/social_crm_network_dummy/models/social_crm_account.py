"""The Odoo side of the dummy network: its selection value, its administrator-only
secret and which credentials its connector gets. Nothing else names it."""

from odoo import fields, models

from odoo.addons.social_crm_module.social_crm_module.connectors import connector_class

CODE = "dummy"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
    dummy_token = fields.Char(groups="base.group_system", copy=False)

    def _social_crm_credential_fields(self):
        if self.network != CODE:
            return super()._social_crm_credential_fields()
        return {"dummy_token": "token"}
