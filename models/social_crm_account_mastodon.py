"""Mastodon as a network of the add-on: its selection value and access token."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class
from ..social_crm_module.streams.mastodon import MastodonStream

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

    # -- real time ------------------------------------------------------------------

    def _social_crm_stream_kind(self):
        if self.network != CODE:
            return super()._social_crm_stream_kind()
        return "streaming"

    def _social_crm_stream(self, connector, cursor):
        if self.network != CODE:
            return super()._social_crm_stream(connector, cursor)
        brand = connector.check()  # the brand's user@instance: its mentions are not listening
        return MastodonStream(
            connector,
            self._social_crm_listening_queries(),
            brand_acct=brand.external_id,
            streaming_url=(self.sudo().stream_url or "").strip(),
            cursor=cursor,
        )
