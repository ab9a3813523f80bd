"""Meta's two doors into Odoo: the Connect callback and the webhooks.

Webhooks (``/social_crm/meta/webhook``):

- GET answers Meta's verification handshake: ``hub.mode=subscribe`` and
  ``hub.verify_token`` equal (constant time) to the token in Settings -> the
  ``hub.challenge`` echoed; anything else -> 403;
- POST reads at most 1 MiB (more -> 413, no length -> 411), checks ``X-Hub-Signature-256`` against
  the app secret in constant time *before* parsing (bad or missing -> 403, nothing
  stored), then hands the entries to the accounts they are for
  (``social.crm.account._social_crm_meta_webhook``: a job under queue_job, else the
  ingest now). A replayed body is one interaction: the ingest's unique key.

Connect (``/social_crm/meta/connect`` then ``/social_crm/meta/callback``): the
state is issued for the user's session, stored hashed, single use, ten minutes.
"""

import hmac
import json
import logging
import re

from markupsafe import escape

from odoo import http
from odoo.http import request

from ..models.res_config_settings_meta import META_APP_SECRET, META_VERIFY_TOKEN
from ..social_crm_module.connectors._graph import signature_valid
from ..social_crm_module.errors import ConnectorError

_logger = logging.getLogger(__name__)

#: the largest webhook body read (Meta batches at most 1000 updates, far below)
MAX_WEBHOOK_BODY = 1024 * 1024
_CHALLENGE = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
CALLBACK = "/social_crm/meta/callback"


def _text(body, status):
    return request.make_response(
        body, status=status, headers=[("Content-Type", "text/plain; charset=utf-8")]
    )


def _page(title, message, status):
    """A small page for a person who came back from Meta (text is escaped)."""
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{t}</title></head>"
        "<body style='font-family:sans-serif;max-width:40em;margin:4em auto'>"
        "<h1>{t}</h1><p>{m}</p><p><a href='{link}'>{back}</a></p></body></html>"
    ).format(
        t=escape(title),
        m=escape(message),
        link="/odoo/action-social_crm_module.social_crm_account_action",
        back=escape(request.env._("Back to the accounts")),
    )
    return request.make_response(
        html, status=status, headers=[("Content-Type", "text/html; charset=utf-8")]
    )


class SocialCrmMetaController(http.Controller):
    # -- webhooks -----------------------------------------------------------------------

    @http.route("/social_crm/meta/webhook", type="http", auth="public", methods=["GET"], csrf=False)
    def meta_webhook_verify(self, **params):
        expected = request.env["ir.config_parameter"].sudo().get_param(META_VERIFY_TOKEN) or ""
        given = params.get("hub.verify_token") or ""
        challenge = params.get("hub.challenge") or ""
        if (
            expected
            and params.get("hub.mode") == "subscribe"
            and hmac.compare_digest(expected.encode(), given.encode())
            and _CHALLENGE.match(challenge)
        ):
            return _text(challenge, 200)
        return _text("Forbidden", 403)

    @http.route(
        "/social_crm/meta/webhook", type="http", auth="public", methods=["POST"], csrf=False
    )
    def meta_webhook(self, **_params):
        httprequest = request.httprequest
        # Meta always says the length; the body is read only when it is small enough
        if httprequest.content_length is None:
            return _text("Length required", 411)
        if httprequest.content_length > MAX_WEBHOOK_BODY:
            return _text("Payload too large", 413)
        body = httprequest.get_data(cache=False)
        if len(body) > MAX_WEBHOOK_BODY:
            return _text("Payload too large", 413)
        secret = request.env["ir.config_parameter"].sudo().get_param(META_APP_SECRET) or ""
        if not signature_valid(secret, body, httprequest.headers.get("X-Hub-Signature-256")):
            return _text("Forbidden", 403)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deep
            return _text("Bad request", 400)
        handed = request.env["social.crm.account"].sudo()._social_crm_meta_webhook(payload)
        _logger.info("Meta webhook: %s entr(ies) handed to the ingest", handed)
        return _text("EVENT_RECEIVED", 200)

    # -- Connect ------------------------------------------------------------------------

    def _redirect_uri(self):
        base = request.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        return base.rstrip("/") + CALLBACK

    @http.route("/social_crm/meta/connect", type="http", auth="user", methods=["GET"])
    def meta_connect(self, account_id=None, **_params):
        env = request.env
        if not env.is_system():
            return _page(env._("Not allowed"), env._("Only administrators connect accounts."), 403)
        Account = env["social.crm.account"]
        account = (
            Account.browse(int(account_id)).exists() if str(account_id or "").isdigit() else None
        )
        try:
            oauth = Account._social_crm_meta_oauth()
        except Exception as error:  # a UserError: Settings are missing
            return _page(env._("Meta is not set up"), str(error), 400)
        state = env["social.crm.meta.oauth.state"]._issue(request.session.sid, account)
        return request.redirect(oauth.authorize_url(self._redirect_uri(), state), local=False)

    @http.route(CALLBACK, type="http", auth="user", methods=["GET"])
    def meta_callback(self, state=None, code=None, error=None, **_params):
        env = request.env
        title = env._("Connection refused")
        if not env.is_system():
            return _page(title, env._("Only administrators connect accounts."), 403)
        pending = env["social.crm.meta.oauth.state"]._consume(state, request.session.sid)
        if pending is None:
            return _page(
                title,
                env._(
                    "This answer from Meta does not belong to a Connect you started in this "
                    "session, or it was already used or is too old. Nothing was changed; "
                    "start Connect again from the account."
                ),
                403,
            )
        if error or not code:
            return _page(
                title, env._("Meta did not grant the permissions. Nothing was changed."), 400
            )
        Account = env["social.crm.account"]
        oauth = Account._social_crm_meta_oauth()
        try:
            user_token = oauth.exchange_code(code, self._redirect_uri())
            user_id = oauth.me(user_token)
            pages = oauth.pages(user_token)
        except ConnectorError as failure:
            return _page(title, env._("Meta refused the connection: %s", failure), 502)
        if not pages:
            return _page(
                title,
                env._(
                    "Meta granted no Facebook Page. Nothing was changed; connect again and "
                    "tick at least one Page."
                ),
                400,
            )
        wizard = (
            env["social.crm.meta.connect.wizard"]
            .sudo()
            .create(
                {
                    "account_id": pending.account_id.id,
                    "meta_user_id": user_id,
                    "line_ids": [
                        (
                            0,
                            0,
                            {
                                "page_id": page.page_id,
                                "name": page.name,
                                "access_token": page.access_token,
                                "ig_user_id": page.ig_user_id,
                                "ig_username": page.ig_username,
                                "add_page": pending.account_id.network != "instagram",
                                "add_instagram": bool(page.ig_user_id)
                                and pending.account_id.network == "instagram",
                            },
                        )
                        for page in pages
                    ],
                }
            )
        )
        return request.redirect(f"/odoo/social.crm.meta.connect.wizard/{wizard.id}")
