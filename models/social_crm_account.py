from odoo import api, fields, models
from odoo.exceptions import UserError

from ..social_crm_module.connectors import connector_class, make_connector

NETWORKS = [
    ("x", "X"),
    ("mastodon", "Mastodon"),
    ("bluesky", "Bluesky"),
    ("feed", "RSS / Atom feed"),
]

#: account field -> connector credential key, per network (all admin-only fields)
CREDENTIAL_FIELDS = {
    "x": {
        "access_token": "bearer_token",
        "x_consumer_key": "consumer_key",
        "x_consumer_secret": "consumer_secret",
        "x_user_access_token": "access_token",
        "x_user_access_secret": "access_token_secret",
    },
    "mastodon": {"access_token": "access_token"},
    "bluesky": {
        "login": "identifier",
        "app_password": "app_password",
        "session_access_jwt": "access_jwt",
        "session_refresh_jwt": "refresh_jwt",
    },
    "feed": {},
}


class SocialCrmAccount(models.Model):
    """One brand account on one network, or one feed: the backend of the sync."""

    _name = "social.crm.account"
    _description = "Social CRM Account"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    network = fields.Selection(NETWORKS, required=True, tracking=True)
    base_url = fields.Char(
        "Base URL",
        help="Instance or PDS URL (Mastodon, Bluesky), API URL (X), or the feed's URL. "
        "Left empty where the network has a default (Bluesky: https://bsky.social).",
    )
    base_url_default = fields.Char(
        compute="_compute_base_url_default",
        help="The network connector's base URL when none is given; none: required.",
    )
    login = fields.Char(
        help="The brand's handle, e.g. brand.example.com on Bluesky or the X user id.",
    )
    search_query = fields.Char(help="Optional keyword or hashtag search (X).")
    # -- secrets: system administrators only, never copied, never logged --
    access_token = fields.Char(groups="base.group_system", copy=False)
    app_password = fields.Char(groups="base.group_system", copy=False)
    x_consumer_key = fields.Char("X API key", groups="base.group_system", copy=False)
    x_consumer_secret = fields.Char("X API secret", groups="base.group_system", copy=False)
    x_user_access_token = fields.Char("X user access token", groups="base.group_system", copy=False)
    x_user_access_secret = fields.Char(
        "X user access secret", groups="base.group_system", copy=False
    )
    session_access_jwt = fields.Char(groups="base.group_system", copy=False)
    session_refresh_jwt = fields.Char(groups="base.group_system", copy=False)
    # -- sync state --
    state = fields.Selection(
        [("connected", "Connected"), ("error", "Error"), ("paused", "Paused")],
        default="paused",
        required=True,
        tracking=True,
    )
    cursor = fields.Char(copy=False, help="Opaque position of the sync; set by the connector.")
    last_sync_at = fields.Datetime(copy=False, readonly=True)
    next_sync_at = fields.Datetime(copy=False, index=True)
    last_error = fields.Text(copy=False, readonly=True)
    failure_count = fields.Integer(copy=False, readonly=True)
    interaction_ids = fields.One2many("social.crm.interaction", "account_id")
    interaction_count = fields.Integer(compute="_compute_interaction_count")

    _sql_constraints = [
        (
            "base_url_http",
            "CHECK(base_url IS NULL OR base_url ~* '^https?://')",
            "The base URL must start with http:// or https://.",
        ),
    ]

    @api.depends("network")
    def _compute_base_url_default(self):
        for account in self:
            network = account.network
            account.base_url_default = network and connector_class(network).default_base_url

    @api.depends("interaction_ids")
    def _compute_interaction_count(self):
        counts = dict(
            self.env["social.crm.interaction"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.interaction_count = counts.get(account, 0)

    # -- the one seam to the network --------------------------------------------

    def _get_connector(self):
        """Build this account's engine connector. Tests replace this method."""
        self.ensure_one()
        secrets = self.sudo()
        credentials = {
            key: secrets[field_name]
            for field_name, key in CREDENTIAL_FIELDS[self.network].items()
            if secrets[field_name]
        }
        options = {"user_id": self.login or "", "query": self.search_query or ""}
        return make_connector(
            self.network,
            base_url=self.base_url or "",
            credentials=credentials,
            options=options,
        )

    def _check_network_ready(self):
        for account in self:
            if not (account.base_url or account.base_url_default):
                raise UserError(self.env._("%s needs a base URL.", account.display_name))
