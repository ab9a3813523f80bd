"""X as a network of the add-on: its selection value, secrets and options."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class
from ..social_crm_module.streams.x import XFilteredStream

CODE = "x"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
    search_query = fields.Char(help="Optional keyword or hashtag search (X).")
    x_filtered_stream = fields.Boolean(
        "Filtered stream",
        help="The account's X access level includes the v2 filtered stream (Pro and up); "
        "its rules (one per listening query, tagged with the query's id) are kept on X.",
    )
    access_token = fields.Char(groups="base.group_system", copy=False)
    x_consumer_key = fields.Char("X API key", groups="base.group_system", copy=False)
    x_consumer_secret = fields.Char("X API secret", groups="base.group_system", copy=False)
    x_user_access_token = fields.Char("X user access token", groups="base.group_system", copy=False)
    x_user_access_secret = fields.Char(
        "X user access secret", groups="base.group_system", copy=False
    )

    def _social_crm_credential_fields(self):
        if self.network != CODE:
            return super()._social_crm_credential_fields()
        return {
            "access_token": "bearer_token",
            "x_consumer_key": "consumer_key",
            "x_consumer_secret": "consumer_secret",
            "x_user_access_token": "access_token",
            "x_user_access_secret": "access_token_secret",
        }

    def _social_crm_options(self):
        if self.network != CODE:
            return super()._social_crm_options()
        return {"user_id": self.login or "", "query": self.search_query or ""}

    # -- real time ------------------------------------------------------------------

    def _social_crm_stream_kind(self):
        if self.network != CODE:
            return super()._social_crm_stream_kind()
        return "filtered" if self.x_filtered_stream else None

    def _social_crm_stream(self, connector, cursor):
        if self.network != CODE:
            return super()._social_crm_stream(connector, cursor)
        return XFilteredStream(connector, self._social_crm_listening_queries(), cursor=cursor)
