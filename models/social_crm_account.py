import ipaddress
from contextlib import contextmanager
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..social_crm_module import registry
from ..social_crm_module.connectors import make_connector


def _secure_url(url):
    """https, or http to this machine (loopback); empty means the network's default."""
    if not url:
        return True
    parts = urlsplit(url.strip())
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def network_selection(model):
    """The networks the add-on knows, as each network's Odoo file added them to
    ``social.crm.account.network`` (``selection_add``): every other model's network
    field offers exactly these."""
    return model.env["social.crm.account"]._fields["network"].selection


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
    # each network's file adds itself (selection_add), as payment providers do
    network = fields.Selection(selection=[], required=True, tracking=True)
    needs_base_url = fields.Boolean(compute="_compute_network_traits")
    network_capabilities = fields.Char(
        compute="_compute_network_traits",
        help="What the add-on can do on this network: reply, dm, like, repost...",
    )
    base_url = fields.Char(
        "Base URL",
        tracking=True,
        help="Instance or PDS URL (Mastodon, Bluesky), API URL (X), or the feed's URL. "
        "Left empty, the network's own default is used.",
    )
    login = fields.Char(
        tracking=True,
        help="The brand's handle, e.g. brand.example.com on Bluesky or the X user id.",
    )
    # secrets live in each network's file: system administrators only, never copied
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
    answer_user_ids = fields.Many2many(
        "res.users",
        "social_crm_account_answer_user_rel",
        "account_id",
        "user_id",
        string="May also answer as the brand",
        domain=[("share", "=", False)],
        groups="base.group_system",
        help="Users outside the Social CRM groups (sales staff, say) who may reply, like "
        "and repost from Odoo with this account. Social CRM users always may.",
    )
    interaction_ids = fields.One2many("social.crm.interaction", "account_id")
    interaction_count = fields.Integer(compute="_compute_interaction_count")

    _sql_constraints = [
        (
            "base_url_http",
            "CHECK(base_url IS NULL OR base_url ~* '^https?://')",
            "The base URL must start with http:// or https://.",
        ),
    ]

    @api.depends("interaction_ids")
    def _compute_interaction_count(self):
        counts = dict(
            self.env["social.crm.interaction"]._read_group(
                [("account_id", "in", self.ids)], ["account_id"], ["__count"]
            )
        )
        for account in self:
            account.interaction_count = counts.get(account, 0)

    #: where the credentials go: a change by anyone but an administrator clears them
    _CREDENTIAL_TARGETS = frozenset({"network", "base_url", "login"})

    @api.depends("network")
    def _compute_network_traits(self):
        for account in self:
            cls = account._network_class()
            account.needs_base_url = bool(cls and cls.needs_base_url())
            account.network_capabilities = ",".join(sorted(cls.capabilities())) if cls else ""

    @api.constrains("base_url", "network")
    def _check_base_url_secure(self):
        """Credentials travel over https only; plain http is for a server on this
        machine (a local PDS, the tests)."""
        for account in self:
            if account._social_crm_has_credentials() and not _secure_url(account.base_url):
                raise ValidationError(
                    self.env._(
                        "%s holds credentials: its base URL must use https:// (http:// is "
                        "accepted only for a server on this machine).",
                        account.display_name,
                    )
                )

    # -- CRUD -------------------------------------------------------------------------

    def write(self, vals):
        """Only administrators change where credentials go. When anyone else changes
        the network, the base URL or the login of an account holding credentials,
        the credentials are cleared in the same write (the change is tracked)."""
        if self._CREDENTIAL_TARGETS & set(vals) and not self.env.is_system():
            moved = self.filtered(
                lambda a: any(
                    name in vals and (a[name] or False) != (vals[name] or False)
                    for name in self._CREDENTIAL_TARGETS
                )
            )
            for account in moved.filtered(lambda a: a._social_crm_has_credentials()):
                account.sudo()._social_crm_clear_credentials()
                account.message_post(
                    body=self.env._(
                        "Where this account connects was changed by %s, who is not an "
                        "administrator: its credentials were cleared. An administrator "
                        "enters them again.",
                        self.env.user.name,
                    ),
                    subtype_xmlid="mail.mt_note",
                )
        result = super().write(vals)
        if set(vals) & set(self._social_crm_secret_fields()):
            self._check_base_url_secure()
        return result

    # -- credentials ---------------------------------------------------------------------

    def _social_crm_secret_fields(self):
        """Every administrator-only credential field of every network."""
        return sorted(
            name
            for name, field in self._fields.items()
            if field.type == "char" and field.groups == "base.group_system"
        )

    def _social_crm_has_credentials(self):
        self.ensure_one()
        secrets = self.sudo()
        return any(secrets[name] for name in self._social_crm_secret_fields())

    def _social_crm_clear_credentials(self):
        self.sudo().write(dict.fromkeys(self._social_crm_secret_fields(), False))

    # -- the one seam to the network --------------------------------------------

    def _network_class(self):
        """The engine's connector class of this account's network (``None`` when the
        network's code is unknown to the engine, e.g. its module failed to import)."""
        self.ensure_one()
        try:
            return registry.get(self.network) if self.network else None
        except ValueError:
            return None

    def _social_crm_credential_fields(self):
        """``{field name: connector credential key}`` of this account's network.
        Each network's file answers for its own network and calls ``super()`` for
        the others; the fields are administrator-only."""
        self.ensure_one()
        return {}

    def _social_crm_options(self):
        """The connector options of this account's network (see each network file)."""
        self.ensure_one()
        return {}

    def _get_connector(self):
        """Build this account's engine connector. Tests replace this method."""
        self.ensure_one()
        secrets = self.sudo()
        if secrets._social_crm_has_credentials() and not _secure_url(self.base_url):
            raise UserError(
                self.env._("%s: credentials are sent over https only.", self.display_name)
            )
        credentials = {
            key: secrets[field_name]
            for field_name, key in self._social_crm_credential_fields().items()
            if secrets[field_name]
        }
        return make_connector(
            self.network,
            base_url=self.base_url or "",
            credentials=credentials,
            options=self._social_crm_options(),
        )

    @contextmanager
    def _connector(self):
        """``with account._connector() as connector:``: the one way to hold a
        connector. Credentials it refreshed on the way (Bluesky session tokens) are
        stored on the way out, whether the work succeeded or not."""
        self.ensure_one()
        connector = self._get_connector()
        try:
            yield connector
        finally:
            self._store_refreshed_credentials(connector)

    def _store_refreshed_credentials(self, connector):
        refreshed = getattr(connector, "updated_credentials", None) or {}
        fields_by_key = {key: name for name, key in self._social_crm_credential_fields().items()}
        values = {fields_by_key[k]: v for k, v in refreshed.items() if k in fields_by_key}
        if values:
            self.sudo().write(values)

    def _check_network_ready(self):
        for account in self:
            cls = account._network_class()
            if cls is None:
                raise UserError(
                    self.env._(
                        "%(account)s: the %(network)s connector is not available on this "
                        "server (its Python library is missing).",
                        account=account.display_name,
                        network=account.network,
                    )
                )
            if cls.needs_base_url() and not account.base_url:
                raise UserError(self.env._("%s needs a base URL.", account.display_name))
