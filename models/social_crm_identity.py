from odoo import api, fields, models

from .social_crm_account import NETWORKS

LINK_STATES = [
    ("confirmed", "Confirmed"),
    ("suggested", "Suggested"),
    ("unlinked", "Unlinked"),
]


class SocialCrmIdentity(models.Model):
    """One person on one network, linked to a contact only on verifiable signals."""

    _name = "social.crm.identity"
    _description = "Social Identity"
    _order = "last_interaction_at desc nulls last, id desc"
    _rec_name = "handle"

    network = fields.Selection(NETWORKS, required=True, index=True)
    external_id = fields.Char(required=True, index=True)
    handle = fields.Char(required=True, index=True)
    display_name_network = fields.Char("Name on network")
    profile_url = fields.Char("Profile URL")
    followers_count = fields.Integer()
    avatar_url = fields.Char("Avatar URL")
    website = fields.Char()
    company_id = fields.Many2one("res.company", index=True)
    partner_id = fields.Many2one("res.partner", index=True, ondelete="set null")
    link_state = fields.Selection(LINK_STATES, default="unlinked", required=True, index=True)
    match_reason = fields.Selection(
        [
            ("manual", "Added by hand"),
            ("email", "Email exposed by the network"),
            ("bluesky_domain", "Bluesky handle is the contact's domain"),
            ("mastodon_verified_link", "Verified link to the contact's website"),
            ("same_name", "Same name (needs review)"),
        ],
    )
    rejected_partner_ids = fields.Many2many(
        "res.partner",
        "social_crm_identity_rejected_rel",
        "identity_id",
        "partner_id",
        string="Rejected contacts",
        help="Contacts a user said this identity is not; they are never suggested again.",
    )
    interaction_ids = fields.One2many("social.crm.interaction", "identity_id")
    interaction_count = fields.Integer(compute="_compute_interaction_count")
    last_interaction_at = fields.Datetime(readonly=True, index=True)

    _sql_constraints = [
        (
            "network_external_id_unique",
            "UNIQUE(network, external_id)",
            "This identity already exists on this network.",
        ),
        (
            "profile_url_http",
            "CHECK(profile_url IS NULL OR profile_url ~* '^https?://')",
            "A profile URL must start with http:// or https://.",
        ),
    ]

    @api.depends("network", "handle")
    def _compute_display_name(self):
        labels = dict(NETWORKS)
        for identity in self:
            identity.display_name = f"{identity.handle} ({labels.get(identity.network, '')})"

    @api.depends("interaction_ids")
    def _compute_interaction_count(self):
        counts = dict(
            self.env["social.crm.interaction"]._read_group(
                [("identity_id", "in", self.ids)], ["identity_id"], ["__count"]
            )
        )
        for identity in self:
            identity.interaction_count = counts.get(identity, 0)

    # -- placeholders for the view buttons, added by the views engineer; the backend's
    #    real actions replace these three methods wholesale ------------------------

    def action_confirm(self):
        self.ensure_one()
        self.write({"link_state": "confirmed"})

    def action_reject(self):
        self.ensure_one()
        self.write(
            {
                "rejected_partner_ids": [(4, self.partner_id.id)] if self.partner_id else [],
                "partner_id": False,
                "link_state": "unlinked",
            }
        )

    def action_unlink_partner(self):
        self.ensure_one()
        self.write({"partner_id": False, "link_state": "unlinked", "match_reason": False})
