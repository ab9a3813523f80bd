"""Display-only helpers for the views: network icons and avatars.

Nothing here is stored; it only gives lists and kanban cards an image to show.
"""

from odoo import api, fields, models

NETWORK_ICON = "/social_crm_module/static/src/img/network_%s.svg"
PLACEHOLDER_AVATAR = "/base/static/img/avatar_grey.png"


def _network_icon(network):
    return NETWORK_ICON % network if network else False


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network_icon_url = fields.Char(compute="_compute_network_icon_url")

    @api.depends("network")
    def _compute_network_icon_url(self):
        for account in self:
            account.network_icon_url = _network_icon(account.network)


class SocialCrmIdentity(models.Model):
    _inherit = "social.crm.identity"

    network_icon_url = fields.Char(compute="_compute_network_icon_url")
    avatar_display_url = fields.Char(compute="_compute_avatar_display_url")

    @api.depends("network")
    def _compute_network_icon_url(self):
        for identity in self:
            identity.network_icon_url = _network_icon(identity.network)

    @api.depends("avatar_url", "partner_id", "link_state")
    def _compute_avatar_display_url(self):
        """The network's avatar when it is an http(s) URL, else the contact's, else a
        grey placeholder."""
        for identity in self:
            url = identity.avatar_url or ""
            if url.startswith(("https://", "http://")):
                identity.avatar_display_url = url
            elif identity.partner_id and identity.link_state == "confirmed":
                identity.avatar_display_url = (
                    f"/web/image/res.partner/{identity.partner_id.id}/avatar_128"
                )
            else:
                identity.avatar_display_url = PLACEHOLDER_AVATAR


class SocialCrmInteraction(models.Model):
    _inherit = "social.crm.interaction"

    network_icon_url = fields.Char(compute="_compute_network_icon_url")
    author_avatar_url = fields.Char(related="identity_id.avatar_display_url")
    author_handle = fields.Char(related="identity_id.handle")

    @api.depends("network")
    def _compute_network_icon_url(self):
        for interaction in self:
            interaction.network_icon_url = _network_icon(interaction.network)
