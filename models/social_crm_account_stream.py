"""Real time on the account: whether it listens, where, and how its stream is.

The network files answer :meth:`_social_crm_stream` for their own network (the
payment-provider pattern, as for credentials and options); an account whose
network answers nothing is pulled only. The listeners (``bin/listen``) hold the
accounts through ``social.crm.stream`` rows.
"""

from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .social_crm_account import _secure_url
from .social_crm_stream import STATES


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    stream_enabled = fields.Boolean(
        "Listen in real time",
        help="A listener (bin/listen) follows this account's stream: mentions reach the "
        "chatter within a second and listening queries are heard. The scheduled pull "
        "keeps running as the safety net.",
    )
    stream_url = fields.Char(
        "Stream URL",
        groups="base.group_system",
        copy=False,
        help="Bluesky: a Jetstream instance (wss://jetstream2.us-east.bsky.network) or, "
        "with the repository event stream, a PDS or relay (wss://bsky.network). "
        "Mastodon: the streaming server, when it is not the instance itself.",
    )
    stream_capable = fields.Boolean(compute="_compute_stream_capable")
    stream_ids = fields.One2many("social.crm.stream", "account_id", readonly=True)
    stream_state = fields.Selection(STATES, compute="_compute_stream_health")
    stream_holder = fields.Char("Held by", compute="_compute_stream_health")
    stream_connected_since = fields.Datetime("Connected since", compute="_compute_stream_health")
    stream_last_event_at = fields.Datetime("Last event at", compute="_compute_stream_health")
    stream_lag = fields.Float("Lag (s)", digits=(16, 3), compute="_compute_stream_health")
    stream_reconnects = fields.Integer("Reconnects", compute="_compute_stream_health")
    stream_events = fields.Integer("Events read", compute="_compute_stream_health")
    stream_last_error = fields.Char("Stream error", compute="_compute_stream_health")

    @api.depends("network")
    def _compute_stream_capable(self):
        for account in self:
            account.stream_capable = account._social_crm_stream_kind() is not None

    @api.depends("stream_ids")
    def _compute_stream_health(self):
        for account in self:
            stream = account.sudo().stream_ids[:1]
            account.stream_state = stream.state or False
            account.stream_holder = stream.holder or False
            account.stream_connected_since = stream.connected_since
            account.stream_last_event_at = stream.last_event_at
            account.stream_lag = stream.lag
            account.stream_reconnects = stream.reconnects
            account.stream_events = stream.events
            account.stream_last_error = stream.last_error or False

    @api.constrains("stream_url")
    def _check_stream_url(self):
        for account in self.sudo():
            url = (account.stream_url or "").strip()
            if not url:
                continue
            parts = urlsplit(url)
            plain = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)
            if plain not in ("http", "https") or not parts.hostname:
                raise ValidationError(self.env._("A stream URL is ws(s):// or http(s)://."))
            if not _secure_url(f"{plain}://{parts.netloc}"):
                raise ValidationError(
                    self.env._(
                        "%s: the stream URL must use wss:// (ws:// is accepted only for a "
                        "server on this machine).",
                        account.display_name,
                    )
                )

    # -- what each network answers --------------------------------------------------------

    def _social_crm_stream_kind(self):
        """A short name of the stream this account's network offers, or ``None`` (pull
        only). Each network file answers for its own network."""
        self.ensure_one()

    def _social_crm_stream(self, connector, cursor):
        """The engine stream of this account, resuming at ``cursor`` (see
        ``social_crm_module.streams``); its listening queries are built in. Each
        network file answers for its own network."""
        self.ensure_one()

    def _social_crm_stream_replays(self):
        """Whether the stream resumes from its cursor by itself (the AT Protocol
        streams); when it does not, the listener runs the pull once after each
        (re)connection to catch up what happened while it was away."""
        self.ensure_one()
        return False

    def _social_crm_listening_queries(self):
        self.ensure_one()
        return self.listening_query_ids.filtered("active")._engine_queries()

    @api.model
    def _social_crm_streaming_accounts(self):
        """The accounts a listener should hold: connected, listening, able to stream."""
        accounts = self.sudo().search([("state", "=", "connected"), ("stream_enabled", "=", True)])
        return accounts.filtered("stream_capable")
