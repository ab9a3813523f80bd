"""Bluesky as a network of the add-on: its selection value, app password and the
session tokens the connector refreshes."""

from odoo import fields, models

from ..social_crm_module.connectors import connector_class
from ..social_crm_module.streams.bluesky import BlueskyEvents, FirehoseStream, JetstreamStream

CODE = "bluesky"
#: a public Jetstream instance (Bluesky's own), used when no stream URL is given
JETSTREAM = "wss://jetstream2.us-east.bsky.network"


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    network = fields.Selection(
        selection_add=[(CODE, connector_class(CODE).label)], ondelete={CODE: "cascade"}
    )
    app_password = fields.Char(groups="base.group_system", copy=False)
    session_access_jwt = fields.Char(groups="base.group_system", copy=False)
    session_refresh_jwt = fields.Char(groups="base.group_system", copy=False)
    bluesky_stream_source = fields.Selection(
        [
            ("jetstream", "Jetstream (JSON)"),
            ("firehose", "Repository event stream (CBOR)"),
        ],
        "Bluesky stream",
        default="jetstream",
        help="Jetstream: light JSON events (the stream URL is a Jetstream instance). "
        "Repository event stream: com.atproto.sync.subscribeRepos of a PDS or relay "
        "(the stream URL, or the account's PDS when empty).",
    )

    def _social_crm_credential_fields(self):
        if self.network != CODE:
            return super()._social_crm_credential_fields()
        return {
            "login": "identifier",
            "app_password": "app_password",
            "session_access_jwt": "access_jwt",
            "session_refresh_jwt": "refresh_jwt",
        }

    # -- real time ------------------------------------------------------------------

    def _social_crm_stream_kind(self):
        if self.network != CODE:
            return super()._social_crm_stream_kind()
        return self.bluesky_stream_source or "jetstream"

    def _social_crm_stream_replays(self):
        if self.network != CODE:
            return super()._social_crm_stream_replays()
        return True  # time_us and seq cursors replay what was missed

    def _social_crm_stream(self, connector, cursor):
        if self.network != CODE:
            return super()._social_crm_stream(connector, cursor)
        brand = connector.check()  # the brand's DID
        events = BlueskyEvents(brand.external_id, self._social_crm_listening_queries(), connector)
        url = (self.sudo().stream_url or "").strip()
        if self._social_crm_stream_kind() == "firehose":
            if not url:
                pds = connector.base_url
                url = "wss://" + pds[8:] if pds.startswith("https://") else "ws://" + pds[7:]
            return FirehoseStream(_ws(url), events, cursor=cursor)
        return JetstreamStream(_ws(url or JETSTREAM), events, cursor=cursor)


def _ws(url):
    """ws(s):// for a URL given as http(s):// (the form's URL widget likes those)."""
    for plain, ws in (("https://", "wss://"), ("http://", "ws://")):
        if url.startswith(plain):
            return ws + url[len(plain) :]
    return url
