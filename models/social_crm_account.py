import importlib
import ipaddress
import logging
from contextlib import contextmanager
from datetime import timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import escape

from odoo import api, fields, models, modules
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, config, format_datetime

from ..social_crm_module import registry
from ..social_crm_module.classifier import helper
from ..social_crm_module.connectors import make_connector
from ..social_crm_module.errors import (
    AuthError,
    ConnectorError,
    NotFound,
    NotSupported,
    RateLimited,
)


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


_logger = logging.getLogger(__name__)

NETWORK_ICON = "/social_crm_module/static/src/img/network_%s.svg"
#: the networks this add-on ships an icon for; others show a generic one unless
#: their own module says otherwise (``_network_icon_url``)
_ICONS = frozenset(
    path.stem.removeprefix("network_")
    for path in (Path(__file__).parent.parent / "static" / "src" / "img").glob("network_*.svg")
)


def network_icon(model, network):
    """The icon of ``network`` in lists and cards (see ``_network_icon_url``)."""
    return model.env["social.crm.account"]._network_icon_url(network) if network else False


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
    base_url_default = fields.Char(
        compute="_compute_network_traits",
        help="The network connector's base URL when none is given.",
    )
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
    skipped_count = fields.Integer(
        "Items skipped",
        copy=False,
        readonly=True,
        help="Items the network sent that could not be read (malformed, no id...), since "
        "the account was created; the last page's reasons are below.",
    )
    last_problems = fields.Text("Why items were skipped", copy=False, readonly=True)
    network_icon_url = fields.Char(compute="_compute_network_icon_url")
    interaction_ids = fields.One2many("social.crm.interaction", "account_id")
    listening_query_ids = fields.One2many(
        "social.crm.listening.query", "account_id", "Listening queries"
    )
    interaction_count = fields.Integer(compute="_compute_interaction_count")

    _sql_constraints = [
        (
            "base_url_http",
            "CHECK(base_url IS NULL OR base_url ~* '^https?://')",
            "The base URL must start with http:// or https://.",
        ),
    ]

    @api.depends("network")
    def _compute_network_icon_url(self):
        for account in self:
            account.network_icon_url = network_icon(self, account.network)

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
            account.base_url_default = cls.default_base_url if cls else False
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

    @api.model
    def _network_icon_url(self, network):
        """A network's icon; a network added by another module overrides this for
        its code to show its own."""
        return NETWORK_ICON % (network if network in _ICONS else "generic")

    @api.model
    def _load_demo(self, name):
        """Run a demo builder of the ``demo/`` folder (called by the demo data only:
        the builders are not loaded in production)."""
        if name not in ("social_crm_demo", "social_crm_campaign_demo"):
            raise UserError(self.env._("Unknown demo builder %s.", name))
        builder = importlib.import_module(f"odoo.addons.social_crm_module.demo.{name}")
        return builder.load(self.env)

    # -- ingest: push and pull meet in one place ----------------------------------------

    def _ingest_page(self, page, listening=None):
        """Store one engine page (see ``social.crm.ingest``); the new interactions.
        ``listening``: {external id: listening query id} of a stream's batch."""
        self.ensure_one()
        return self.env["social.crm.ingest"]._ingest_page(self, page, listening)

    # -- the schedule: one account, one page at a time ------------------------------------

    #: most pages one account may read in one cron run, so one busy account
    #: cannot starve the others
    _sync_page_budget = 20
    #: the longest back-off after repeated transient failures
    _sync_max_backoff = timedelta(hours=6)

    def _sync_one_page(self, connector):
        """Fetch and ingest the page after the stored cursor; return (has_more, how
        many interactions it stored)."""
        self.ensure_one()
        page = connector.fetch(self.cursor or None)
        stored = self._ingest_page(page)
        self.write(
            {"state": "connected", "last_error": False, "failure_count": 0, "next_sync_at": False}
        )
        return page.has_more, len(stored)

    def _sync(self, max_pages=None):
        """Read pages until there is no more or the budget is spent; return counts.

        Each page runs in a savepoint: a failure rolls back that page only and is
        recorded on the account; in cron mode every page is committed, so a run
        killed anywhere loses nothing and repeats nothing.
        """
        self.ensure_one()
        budget = max_pages or self._sync_page_budget
        pages = created = 0
        if not self._sync_lock():
            _logger.info("Social CRM account %s is being synced by another worker", self.id)
            return pages, 0
        # the classifier's helper loads its model while the first page is fetched
        helper.warm()
        # one connector for the run: one session, reused page after page
        with self._connector() as connector:
            while pages < budget:
                # each commit releases the lock: take it again, or leave the account
                # to the worker that took it (it resumes from the committed cursor)
                if pages and not self._sync_lock():
                    break
                try:
                    with self.env.cr.savepoint():
                        has_more, stored = self._sync_one_page(connector)
                except ConnectorError as error:
                    self._sync_failed(error)
                    break
                finally:
                    # refreshed tokens are committed with the page they served, and
                    # kept when the page then failed
                    self._store_refreshed_credentials(connector)
                pages += 1
                created += stored
                self._sync_commit()
                if not has_more:
                    break
        self.invalidate_recordset(["interaction_ids"])
        # after the pages are committed: a rolled-back page never sent a code
        self.env["social.crm.campaign.recipient"].sudo()._deliver_due()
        return pages, created

    def _sync_lock(self):
        """Hold this account for the current transaction; False when another
        worker (a cron, a job on another node, a person's "Sync now") holds it."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM social_crm_account WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                self.id,
            )
        )
        return bool(self.env.cr.fetchone())

    def _sync_commit(self):
        if not (config["test_enable"] or modules.module.current_test):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _sync_failed(self, error):
        """Record the failure on this account only; decide when to try again."""
        now = fields.Datetime.now()
        message = f"{type(error).__name__}: {error}"[:1000]
        values = {"last_error": message, "failure_count": self.failure_count + 1}
        if isinstance(error, RateLimited):
            retry_at = error.retry_at
            if retry_at is not None:
                retry_at = retry_at.astimezone(timezone.utc).replace(tzinfo=None)
            if retry_at is None or retry_at <= now:
                retry_at = now + timedelta(minutes=15)
            values.update(next_sync_at=retry_at, failure_count=self.failure_count)
        elif isinstance(error, AuthError):
            values.update(state="error", next_sync_at=False)
            self._sync_notify_admin(message)
        else:
            backoff = min(timedelta(minutes=5) * 2**self.failure_count, self._sync_max_backoff)
            values["next_sync_at"] = now + backoff
        self.write(values)
        _logger.warning("Social CRM sync of account %s failed: %s", self.id, message)

    def _sync_notify_admin(self, message):
        """One to-do for the account's admin, not one per failed run."""
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        if self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type):
            return
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Reconnect %s", self.name),
            # the network's words are text, never markup
            note=escape(self.env._("The network refused the credentials: %s", message)),
            user_id=(self.create_uid if self.create_uid._is_internal() else self.env.user).id,
        )

    @api.model
    def _cron_sync(self):
        """Sync every due account; one failing account never stops the others."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("state", "=", "connected"),
                "|",
                ("next_sync_at", "=", False),
                ("next_sync_at", "<=", now),
            ]
        )
        Dispatch = self.env["social.crm.dispatch"]
        for account in due:
            # each account works in its own company: identities, matching, routing,
            # leads and activities stay inside it
            Dispatch._run_unit(
                account.with_company(account.company_id),
                "_sync",
                self.env._("Social CRM sync of %s", account.name),
            )

    # -- buttons ----------------------------------------------------------------------

    def action_test_connection(self):
        self.ensure_one()
        self._check_network_ready()
        try:
            with self._connector() as connector:
                brand = connector.check()
        except NotSupported:
            brand = None
        except ConnectorError as error:
            raise UserError(
                self.env._(
                    "%(account)s: the connection failed: %(reason)s",
                    account=self.name,
                    reason=error,
                )
            ) from error
        self.write({"state": "connected", "last_error": False, "failure_count": 0})
        handle = brand.handle if brand else ""
        return self._notify(
            self.env._("Connected as %s.", handle) if handle else self.env._("Connected."),
        )

    def action_sync_now(self):
        self.ensure_one()
        self._check_network_ready()
        if not self._sync_lock():
            raise UserError(
                self.env._("%s is being synced right now; try again in a minute.", self.name)
            )
        pages, created = self._sync()
        if self.last_error and not pages:
            raise UserError(self.env._("The sync failed: %s", self.last_error))
        return self._notify(
            self.env._(
                "%(count)s new interaction(s) from %(pages)s page(s).", count=created, pages=pages
            )
        )

    def action_pause(self):
        self.ensure_one()
        self.state = "paused"
        return True

    def action_resume(self):
        self.ensure_one()
        self.write({"state": "connected", "next_sync_at": False, "failure_count": 0})
        return True

    def _notify(self, message, kind="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": kind,
                "message": message,
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # -- answering ------------------------------------------------------------------------

    def _social_crm_error_message(self, error):
        """What a user should read when the network refused a write."""
        self.ensure_one()
        network = dict(network_selection(self)).get(self.network)
        if isinstance(error, RateLimited):
            if error.retry_at:
                when = format_datetime(
                    self.env, error.retry_at.astimezone(timezone.utc).replace(tzinfo=None)
                )
                return self.env._(
                    "%(network)s is limiting how often we post. Nothing was sent; try "
                    "again after %(when)s.",
                    network=network,
                    when=when,
                )
            return self.env._(
                "%s is limiting how often we post. Nothing was sent; try again later.", network
            )
        if isinstance(error, AuthError):
            return self.env._(
                "%(network)s refused the credentials of the account %(account)s. Nothing "
                "was sent; ask an administrator to reconnect it.",
                network=network,
                account=self.name,
            )
        if isinstance(error, NotFound):
            return self.env._(
                "The post is gone from %s (deleted, or made private). Nothing was sent.",
                network,
            )
        if isinstance(error, NotSupported):
            return str(error)
        return self.env._(
            "%(network)s did not answer properly (%(error)s). It is not recorded as "
            "sent; check the network, then try again.",
            network=network,
            error=str(error),
        )

    def _social_crm_send_dm(self, identity, text):
        """Send a direct message, unless the person opted out of messages."""
        self.ensure_one()
        if identity.partner_id.social_opt_out:
            raise UserError(
                self.env._(
                    "%s opted out of social messages: no direct message is sent.",
                    identity.partner_id.display_name,
                )
            )
        with self._connector() as connector:
            return connector.send_dm(identity.external_id, connector.check_text(text))
