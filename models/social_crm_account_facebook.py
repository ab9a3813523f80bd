"""Facebook Pages as a network of the add-on: its selection value, the Page's id
and token (administrators only), and what to read. The Page id and token are
shared with Instagram, whose messages Meta serves through the linked Page."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class

CODE = "facebook"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
    meta_page_id = fields.Char(
        "Facebook Page ID",
        groups="base.group_system",
        copy=False,
        help="The Page's numeric id; filled by Connect.",
    )
    meta_page_access_token = fields.Char(
        "Page access token",
        groups="base.group_system",
        copy=False,
        help="Filled by Connect: a Page token derived from a long-lived user token.",
    )
    meta_user_id = fields.Char(
        "Connected by (Meta user id)",
        groups="base.group_system",
        copy=False,
        help="The Meta user who granted the permissions; Disconnect revokes them.",
    )
    meta_posts = fields.Integer(
        "Recent posts read",
        default=10,
        help="How many of the latest posts (or media) each sync reads comments of.",
    )
    meta_backfill_days = fields.Integer(
        "First sync reads back (days)", default=3, help="How far back the very first sync reads."
    )
    meta_reactions = fields.Boolean(
        "Read reactions", default=True, help="Read who reacted to the recent posts."
    )

    def _social_crm_credential_fields(self):
        if self.network != CODE:
            return super()._social_crm_credential_fields()
        return {"meta_page_access_token": "page_access_token", "meta_page_id": "page_id"}

    def _social_crm_options(self):
        if self.network != CODE:
            return super()._social_crm_options()
        return {
            "posts": self.meta_posts,
            "backfill_days": self.meta_backfill_days,
            "reactions": self.meta_reactions,
        }
