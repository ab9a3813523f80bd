"""Instagram as a network of the add-on: its selection value and the professional
account's id (administrators only); the token and Page are the linked Page's."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class

CODE = "instagram"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
    meta_ig_user_id = fields.Char(
        "Instagram account ID",
        groups="base.group_system",
        copy=False,
        help="The Instagram professional account's id; filled by Connect.",
    )

    def _social_crm_credential_fields(self):
        if self.network != CODE:
            return super()._social_crm_credential_fields()
        return {
            "meta_page_access_token": "page_access_token",
            "meta_ig_user_id": "ig_user_id",
            "meta_page_id": "page_id",
        }

    def _social_crm_options(self):
        if self.network != CODE:
            return super()._social_crm_options()
        return {"posts": self.meta_posts, "backfill_days": self.meta_backfill_days}
