"""What Facebook Pages and Instagram share in Odoo: Connect (Meta's login dialog),
Disconnect, and the webhook events handed to the same ingest as the pull."""

import hashlib
import importlib
import logging
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..social_crm_module.connectors._graph import GRAPH_URL, MetaOAuth
from ..social_crm_module.errors import ConnectorError
from .res_config_settings_meta import (
    META_APP_ID,
    META_APP_SECRET,
    META_DIALOG_URL,
    META_GRAPH_URL,
)

_logger = logging.getLogger(__name__)

#: the networks Meta's Connect adds, and the webhook ``object`` of each
META_NETWORKS = {"facebook": "page", "instagram": "instagram"}
#: how long a Connect may take between Odoo and Meta's dialog
STATE_LIFETIME = timedelta(minutes=10)


def _digest(value):
    return hashlib.sha256((value or "").encode()).hexdigest()


class SocialCrmMetaOauthState(models.Model):
    """One Connect in progress: the ``state`` sent to Meta's dialog, stored as a hash,
    bound to the user and their session, used once, for ten minutes."""

    _name = "social.crm.meta.oauth.state"
    _description = "Social CRM: Meta Connect in progress"
    _log_access = False

    state_hash = fields.Char(required=True, index=True)
    session_hash = fields.Char(required=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    account_id = fields.Many2one("social.crm.account", ondelete="cascade")
    expires_at = fields.Datetime(required=True)
    used = fields.Boolean()

    _sql_constraints = [("state_unique", "UNIQUE(state_hash)", "A Connect state is used once.")]

    @api.model
    def _issue(self, session_id, account=None):
        """A new state for the current user's session; returns its clear value."""
        value = secrets.token_urlsafe(32)
        now = fields.Datetime.now()
        self.sudo().search([("expires_at", "<", now)]).unlink()
        self.sudo().create(
            {
                "state_hash": _digest(value),
                "session_hash": _digest(session_id),
                "user_id": self.env.uid,
                "account_id": account.id if account else False,
                "expires_at": now + STATE_LIFETIME,
            }
        )
        return value

    @api.model
    def _consume(self, value, session_id):
        """The Connect this state belongs to, used up; ``None`` when the state is
        unknown, used, expired, another user's or another session's."""
        if not value or not session_id or len(value) > 200:
            return None
        self.env.cr.execute(
            SQL(
                "SELECT id FROM social_crm_meta_oauth_state WHERE state_hash = %s FOR UPDATE",
                _digest(value),
            )
        )
        row = self.env.cr.fetchone()
        if not row:
            return None
        record = self.sudo().browse(row[0])
        valid = (
            not record.used
            and record.expires_at >= fields.Datetime.now()
            and record.user_id.id == self.env.uid
            and record.session_hash == _digest(session_id)
        )
        record.used = True  # a second try with the same state is refused too
        return record if valid else None


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    is_meta = fields.Boolean(compute="_compute_is_meta")

    @api.depends("network")
    def _compute_is_meta(self):
        for account in self:
            account.is_meta = account.network in META_NETWORKS

    # -- Connect ------------------------------------------------------------------------

    @api.model
    def _social_crm_meta_oauth(self):
        """The engine's Connect helper, configured from Settings."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            return MetaOAuth(
                app_id=params.get_param(META_APP_ID) or "",
                app_secret=params.get_param(META_APP_SECRET) or "",
                graph_url=params.get_param(META_GRAPH_URL) or GRAPH_URL,
                dialog_url=params.get_param(META_DIALOG_URL) or "https://www.facebook.com",
            )
        except ConnectorError as error:
            raise UserError(
                self.env._("Set the Meta app id and secret in Settings > Social CRM first.")
            ) from error

    def _check_meta_admin(self):
        if not self.env.is_system():
            raise AccessError(self.env._("Only administrators connect accounts to Meta."))

    def action_meta_connect(self):
        """Go through Meta's login dialog, then pick the Pages and Instagram accounts."""
        self._check_meta_admin()
        self._social_crm_meta_oauth()  # fails early when Settings are missing
        target = "/social_crm/meta/connect"
        if self:
            self.ensure_one()
            target += f"?account_id={self.id}"
        return {"type": "ir.actions.act_url", "url": target, "target": "self"}

    def action_meta_disconnect(self):
        """Unsubscribe the Page from our webhooks, revoke the permissions Meta lets us
        revoke (when no other account uses the same grant), forget the tokens."""
        self.ensure_one()
        self._check_meta_admin()
        secrets_ = self.sudo()
        oauth = self._social_crm_meta_oauth()
        problems = []
        if secrets_.meta_page_id and secrets_.meta_page_access_token:
            try:
                oauth.unsubscribe_page(secrets_.meta_page_id, secrets_.meta_page_access_token)
            except ConnectorError as error:
                problems.append(str(error))
        user = secrets_.meta_user_id
        others = self.sudo().search_count([("meta_user_id", "=", user), ("id", "!=", self.id)])
        if user and not others:
            try:
                oauth.revoke(user)
            except ConnectorError as error:
                problems.append(str(error))
        self._social_crm_clear_credentials()
        self.write({"state": "paused", "cursor": False})
        body = self.env._("Disconnected from Meta by %s.", self.env.user.name)
        if problems:
            body += " " + self.env._("Meta answered: %s", "; ".join(problems))
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        return True

    # -- webhooks: push meets pull in the ingest ------------------------------------------

    @api.model
    def _social_crm_meta_webhook(self, payload):
        """Hand each entry of a verified webhook body to the accounts it is for: a job
        per account under queue_job, else now. Returns how many were handed over."""
        kind = payload.get("object") if isinstance(payload, dict) else None
        network = {obj: code for code, obj in META_NETWORKS.items()}.get(kind)
        entries = payload.get("entry") if network else None
        if not isinstance(entries, list):
            return 0
        field = "meta_page_id" if network == "facebook" else "meta_ig_user_id"
        Dispatch = self.env["social.crm.dispatch"]
        handed = 0
        for entry in entries[:100]:
            owner = str(entry.get("id") or "") if isinstance(entry, dict) else ""
            if not owner:
                continue
            accounts = self.sudo().search(
                [("network", "=", network), (field, "=", owner), ("state", "!=", "paused")]
            )
            for found in accounts:
                account = found.with_company(found.company_id)
                if Dispatch._as_jobs():
                    # optional module, present only when _as_jobs() says so
                    from odoo.addons.queue_job.job import identity_exact  # noqa: PLC0415

                    account.with_delay(
                        description=self.env._("Social CRM webhook for %s", account.name),
                        identity_key=identity_exact,
                    )._social_crm_meta_ingest_entry(entry)
                else:
                    account._social_crm_meta_ingest_entry(entry)
                handed += 1
        return handed

    def _social_crm_meta_ingest_entry(self, entry):
        """One webhook entry, normalised by the connector as the pull reads it, into
        the same ingest (the unique key makes a pushed and a pulled item one)."""
        self.ensure_one()
        with self._connector() as connector:
            page = connector.webhook_items(entry)
        return self._ingest_page(page)

    @api.model
    def _social_crm_meta_load_demo(self):
        """The Facebook and Instagram demo history (called by the demo data only)."""
        builder = importlib.import_module("odoo.addons.social_crm_module.demo.social_crm_meta_demo")
        return builder.load(self.env)
