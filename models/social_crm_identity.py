from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..social_crm_module import matching
from .social_crm_account import network_icon, network_selection

PLACEHOLDER_AVATAR = "/base/static/img/avatar_grey.png"

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

    network = fields.Selection(network_selection, required=True, index=True)
    external_id = fields.Char(required=True, index=True)
    handle = fields.Char(required=True, index=True)
    display_name_network = fields.Char("Name on network")
    profile_url = fields.Char("Profile URL")
    followers_count = fields.Integer()
    avatar_url = fields.Char("Avatar URL")
    website = fields.Char()
    network_icon_url = fields.Char(compute="_compute_network_icon_url")
    avatar_display_url = fields.Char(compute="_compute_avatar_display_url")
    company_id = fields.Many2one("res.company", index=True)
    partner_id = fields.Many2one("res.partner", index=True, ondelete="set null")
    link_state = fields.Selection(LINK_STATES, default="unlinked", required=True, index=True)
    match_reason = fields.Selection(
        [
            ("manual", "Added by hand"),
            ("email", "Email exposed by the network"),
            ("handle_domain", "Handle is the contact's domain, proven to the network"),
            ("verified_link", "Link to the contact's website verified by the network"),
            ("same_name", "Same name (needs review)"),
            ("campaign", "Created by a campaign from this identity"),
            ("conversation", "Gave this email or phone in a private message (needs review)"),
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
            "UNIQUE NULLS NOT DISTINCT (network, external_id, company_id)",
            "This identity already exists on this network in this company.",
        ),
        (
            "profile_url_http",
            "CHECK(profile_url IS NULL OR profile_url ~* '^https?://')",
            "A profile URL must start with http:// or https://.",
        ),
    ]

    @api.depends("network", "handle")
    def _compute_display_name(self):
        labels = dict(network_selection(self))
        for identity in self:
            identity.display_name = f"{identity.handle} ({labels.get(identity.network, '')})"

    @api.depends("network")
    def _compute_network_icon_url(self):
        for identity in self:
            identity.network_icon_url = network_icon(self, identity.network)

    @api.depends("avatar_url", "partner_id", "link_state")
    def _compute_avatar_display_url(self):
        """The network's avatar when it is an https URL, else the contact's, else a
        grey placeholder."""
        for identity in self:
            url = identity.avatar_url or ""
            if url.startswith("https://"):
                identity.avatar_display_url = url
            elif identity.partner_id and identity.link_state == "confirmed":
                identity.avatar_display_url = (
                    f"/web/image/res.partner/{identity.partner_id.id}/avatar_128"
                )
            else:
                identity.avatar_display_url = PLACEHOLDER_AVATAR

    @api.depends("interaction_ids")
    def _compute_interaction_count(self):
        counts = dict(
            self.env["social.crm.interaction"]._read_group(
                [("identity_id", "in", self.ids)], ["identity_id"], ["__count"]
            )
        )
        for identity in self:
            identity.interaction_count = counts.get(identity, 0)

    # -- CRUD: a pasted profile URL fills network and handle ---------------------------

    @api.onchange("profile_url")
    def _onchange_profile_url(self):
        if self.profile_url and not self.handle:
            self.update(self._values_from_profile_url(self.profile_url))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("profile_url") and not (vals.get("network") and vals.get("handle")):
                vals.update(
                    {
                        k: v
                        for k, v in self._values_from_profile_url(vals["profile_url"]).items()
                        if not vals.get(k)
                    }
                )
            if vals.get("handle") and not vals.get("external_id"):
                vals["external_id"] = vals["handle"]
            if vals.get("partner_id") and "company_id" not in vals:
                # a contact's identity lives where the contact does (shared: no company)
                vals["company_id"] = (
                    self.env["res.partner"].browse(vals["partner_id"]).company_id.id
                )
            if vals.get("partner_id") and not vals.get("link_state"):
                vals["link_state"] = "confirmed"
                vals["match_reason"] = vals.get("match_reason") or "manual"
        return super().create(vals_list)

    def write(self, vals):
        res = super().write(vals)
        if vals.get("link_state") == "confirmed" or (
            vals.get("partner_id") and "link_state" not in vals
        ):
            self._log_unlogged_history()
        return res

    def _log_unlogged_history(self):
        """A late confirmation brings the person's earlier interactions to the chatter."""
        confirmed = self.filtered(lambda i: i.link_state == "confirmed" and i.partner_id)
        if not confirmed:
            return
        pending = self.env["social.crm.interaction"].search(
            [("identity_id", "in", confirmed.ids), ("message_id", "=", False)], order="date"
        )
        if pending:
            self.env["social.crm.ingest"]._log_chatter(pending)

    @api.model
    def _values_from_profile_url(self, url):
        try:
            network, handle = matching.parse_profile_url(url)
        except ValueError as exc:
            raise ValidationError(
                self.env._("This is not a profile URL we can read: %(reason)s", reason=exc)
            ) from exc
        return {"network": network.value, "handle": handle}

    def unlink(self):
        """Deleting an identity deletes its interactions (cascade): clean up what
        was written about them first, as erase does."""
        interactions = (
            self.env["social.crm.interaction"].sudo().search([("identity_id", "in", self.ids)])
        )
        names = set(self.mapped("handle")) | set(self.mapped("display_name_network"))
        interactions._social_crm_forget(names)
        return super().unlink()

    # -- actions ------------------------------------------------------------------------

    def action_confirm(self):
        self.ensure_one()
        if not self.partner_id:
            raise UserError(self.env._("Choose the contact this identity belongs to first."))
        self.write({"link_state": "confirmed", "match_reason": self.match_reason or "manual"})
        return True

    def action_reject(self):
        """Not this contact: unlink, and never suggest this pair again."""
        self.ensure_one()
        values = {"partner_id": False, "link_state": "unlinked", "match_reason": False}
        if self.partner_id:
            values["rejected_partner_ids"] = [Command.link(self.partner_id.id)]
        self.write(values)
        return True

    def action_unlink_partner(self):
        self.ensure_one()
        self.write({"partner_id": False, "link_state": "unlinked", "match_reason": False})
        return True
