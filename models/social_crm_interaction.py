from odoo import api, fields, models
from odoo.tools.sql import create_index

from .social_crm_account import network_selection

KINDS = [
    ("mention", "Mention"),
    ("reply", "Reply"),
    ("quote", "Quote"),
    ("comment", "Comment"),
    ("dm", "Direct message"),
    ("repost", "Repost"),
    ("like", "Like"),
    ("follow", "Follow"),
    ("post", "Post"),
]


class SocialCrmInteraction(models.Model):
    """One mention, reply, comment, DM, repost, like, follow or post, as synced."""

    _name = "social.crm.interaction"
    _description = "Social Interaction"
    _order = "date desc, id desc"
    _rec_name = "summary"

    account_id = fields.Many2one(
        "social.crm.account", required=True, index=True, ondelete="cascade"
    )
    # precomputed: in the INSERT, not in an UPDATE of the row just inserted
    company_id = fields.Many2one(
        related="account_id.company_id", store=True, index=True, precompute=True
    )
    network = fields.Selection(network_selection, required=True, index=True)
    identity_id = fields.Many2one("social.crm.identity", index=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner",
        compute="_compute_partner_id",
        store=True,
        precompute=True,
        index=True,
        help="The contact, once the author's identity is confirmed; a suggestion "
        "shows nothing on the suggested contact until someone confirms it.",
    )
    kind = fields.Selection(KINDS, required=True, index=True)
    text = fields.Text()
    summary = fields.Char(compute="_compute_summary")
    url = fields.Char("URL")
    date = fields.Datetime(required=True, index=True)
    external_id = fields.Char(required=True)
    parent_external_id = fields.Char()
    root_external_id = fields.Char()
    subject_external_id = fields.Char(
        help="The brand's own post that was liked, reposted or quoted."
    )
    reply_ref = fields.Char(help="Opaque reference the connector needs to answer.")
    parent_id = fields.Many2one("social.crm.interaction", index="btree_not_null")
    message_id = fields.Many2one(
        "mail.message", "Chatter note", index="btree_not_null", ondelete="set null"
    )

    _sql_constraints = [
        (
            "account_external_id_unique",
            "UNIQUE(account_id, external_id)",
            "This interaction was already synced for this account.",
        ),
        (
            "url_http",
            "CHECK(url IS NULL OR url ~* '^https?://')",
            "An interaction URL must start with http:// or https://.",
        ),
    ]

    def init(self):
        # a contact's latest interactions (the Social tab, the chatter's order):
        # a top-N walk of this index reads ten rows of a contact with 10,000
        create_index(
            self.env.cr,
            "social_crm_interaction_partner_date_index",
            self._table,
            ["partner_id", "date DESC", "id DESC"],
            where="partner_id IS NOT NULL",
        )

    @api.depends("identity_id.partner_id", "identity_id.link_state")
    def _compute_partner_id(self):
        for interaction in self:
            identity = interaction.identity_id
            interaction.partner_id = (
                identity.partner_id if identity.link_state == "confirmed" else False
            )

    def _compute_summary(self):
        kinds = dict(KINDS)
        for interaction in self:
            text = (interaction.text or "").strip().replace("\n", " ")
            label = kinds.get(interaction.kind, "")
            handle = interaction.identity_id.handle or ""
            interaction.summary = f"{label} {handle}: {text[:60]}" if text else f"{label} {handle}"
