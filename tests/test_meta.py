"""Facebook Pages and Instagram in Odoo: webhooks (handshake, signatures, size,
replay, push meets pull), Connect (state: good, reused, forged), Disconnect, and an
expired token putting the account in error."""

import json
from datetime import datetime, timezone
from pathlib import Path
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from odoo.tests import HttpCase, TransactionCase, tagged

from ..controllers.meta import MAX_WEBHOOK_BODY
from ..models.res_config_settings_meta import (
    META_APP_ID,
    META_APP_SECRET,
    META_DIALOG_URL,
    META_GRAPH_URL,
    META_VERIFY_TOKEN,
)
from ..social_crm_module.connectors._graph import sign
from ..social_crm_module.connectors.facebook import FacebookConnector
from ..social_crm_module.testing import FakeServer

FIXTURES = Path(__file__).parent.parent / "social_crm_module" / "tests" / "fixtures" / "facebook"
PAGE = "104000000000001"
POST = f"{PAGE}_900000000000002"
SECRET = "test-app-secret"
VERIFY = "test-verify-token"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
V = "/v21.0"
WEBHOOK = "/social_crm/meta/webhook"
QUEUE = "odoo.addons.social_crm_module.models.social_crm_dispatch.SocialCrmDispatch._as_jobs"


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


class MetaCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param(META_APP_ID, "1234567890")
        params.set_param(META_APP_SECRET, SECRET)
        params.set_param(META_VERIFY_TOKEN, VERIFY)
        cls.account = (
            cls.env["social.crm.account"]
            .sudo()
            .create(
                {
                    "name": "Brand Coffee",
                    "network": "facebook",
                    "meta_page_id": PAGE,
                    "meta_page_access_token": "test-page-token",
                    "state": "connected",
                }
            )
        )

    def setUp(self):
        super().setUp()
        self.server = FakeServer()
        self.server.start()
        self.addCleanup(self.server.stop)
        # units run now (a job under queue_job has its own test below)
        patcher = patch(QUEUE, return_value=False)
        patcher.start()
        self.addCleanup(patcher.stop)

    def interactions(self):
        self.env["social.crm.interaction"].invalidate_model()
        return (
            self.env["social.crm.interaction"].sudo().search([("account_id", "=", self.account.id)])
        )


@tagged("post_install", "-at_install")
class TestMetaWebhook(MetaCase):
    def post(self, payload, *, signature=True, secret=SECRET, body=None):
        body = body if body is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature:
            headers["X-Hub-Signature-256"] = sign(secret, body)
        return self.url_open(WEBHOOK, data=body, headers=headers)

    def test_the_handshake_echoes_the_challenge_for_the_right_token(self):
        response = self.url_open(
            f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "1158201444")

    def test_the_handshake_is_refused_for_a_wrong_token_or_mode(self):
        for query in (
            "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
            f"hub.mode=unsubscribe&hub.verify_token={VERIFY}&hub.challenge=1",
            "hub.mode=subscribe&hub.challenge=1",
            f"hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=<script>",
        ):
            response = self.url_open(f"{WEBHOOK}?{query}")
            self.assertEqual(response.status_code, 403, query)
            self.assertNotIn("<script>", response.text)

    def test_a_signed_body_becomes_interactions_in_the_chatter(self):
        response = self.post(load("webhook_feed"))
        self.assertEqual(response.status_code, 200)
        found = self.interactions()
        self.assertEqual(
            sorted(found.mapped("external_id")),
            sorted(["900000000000002_7001", f"{POST}/reaction/6100000000000004"]),
        )
        comment = found.filtered(lambda i: i.external_id == "900000000000002_7001")
        self.assertEqual(comment.identity_id.external_id, f"{PAGE}:6100000000000001")
        self.assertEqual(comment.text, "I love the new roast #summerdeal")
        messages = self.post(load("webhook_messages"))
        self.assertEqual(messages.status_code, 200)
        self.assertIn("m_fakeMid0001", self.interactions().mapped("external_id"))

    def test_unsigned_or_wrongly_signed_bodies_are_refused_and_nothing_stored(self):
        payload = load("webhook_feed")
        self.assertEqual(self.post(payload, signature=False).status_code, 403)
        self.assertEqual(self.post(payload, secret="another-secret").status_code, 403)
        body = json.dumps(payload).encode()
        tampered = self.url_open(
            WEBHOOK,
            data=body.replace(b"roast", b"toast"),
            headers={"X-Hub-Signature-256": sign(SECRET, body)},
        )
        self.assertEqual(tampered.status_code, 403)
        self.assertFalse(self.interactions())

    def test_a_replayed_body_makes_no_second_interaction(self):
        payload = load("webhook_feed")
        self.assertEqual(self.post(payload).status_code, 200)
        first = self.interactions()
        self.assertEqual(self.post(payload).status_code, 200)
        self.assertEqual(self.interactions(), first)
        self.assertEqual(len(first), 2)

    def test_an_oversized_body_is_refused_unread(self):
        body = b'{"object": "page", "entry": [], "pad": "' + b"x" * MAX_WEBHOOK_BODY + b'"}'
        response = self.post(None, body=body)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self.interactions())

    def test_a_body_for_no_account_stores_nothing(self):
        payload = load("webhook_feed")
        payload["entry"][0]["id"] = "999999"
        self.assertEqual(self.post(payload).status_code, 200)
        self.assertFalse(self.interactions())

    def test_a_webhook_and_a_pull_of_the_same_comment_make_one_interaction(self):
        self.assertEqual(self.post(load("webhook_feed")).status_code, 200)
        pushed = self.interactions()
        server = self.server
        server.add("GET", f"{V}/{PAGE}/published_posts", json=load("published_posts"))
        server.add(
            "GET", f"{V}/{POST}/comments", json=load("comments_page2"), query={"after": "QVFIUca1"}
        )
        server.add("GET", f"{V}/{POST}/comments", json=load("comments_page1"))
        server.add("GET", f"{V}/{POST}/reactions", json=load("reactions"))
        server.add("GET", f"{V}/{PAGE}_900000000000001/reactions", json=load("reactions_post1"))
        server.add("GET", f"{V}/{PAGE}/tagged", json=load("tagged"))
        server.add("GET", f"{V}/{PAGE}/conversations", json=load("conversations"))
        server.add("GET", f"{V}/t_100000000000077/messages", json=load("messages"))

        def connector(account):
            return FacebookConnector(
                base_url=server.url,
                credentials={"page_access_token": "test-page-token", "page_id": PAGE},
                timeout=2.0,
                clock=lambda: NOW,
            )

        Account = type(self.env["social.crm.account"])
        with patch.object(Account, "_get_connector", connector):
            self.account.with_context(social_crm_inline=True)._sync(max_pages=50)
        pulled = self.interactions()
        ids = pulled.mapped("external_id")
        self.assertEqual(len(ids), len(set(ids)))
        self.assertEqual(ids.count("900000000000002_7001"), 1)
        self.assertLess(len(pushed), len(pulled))
        self.assertTrue(pushed <= pulled)


@tagged("post_install", "-at_install")
class TestMetaConnect(MetaCase):
    def setUp(self):
        super().setUp()
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(META_GRAPH_URL, self.server.url)
        params.set_param(META_DIALOG_URL, self.server.url + "/dialog-host")
        self.authenticate("admin", "admin")

    def start(self):
        response = self.url_open(
            f"/social_crm/meta/connect?account_id={self.account.id}", allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.server.url + "/dialog-host/v21.0/dialog/oauth?"))
        query = parse_qs(urlsplit(location).query)
        self.assertEqual(query["client_id"], ["1234567890"])
        self.assertIn("pages_messaging", query["scope"][0])
        return query["state"][0]

    def script_meta(self):
        server = self.server
        server.add(
            "GET",
            f"{V}/oauth/access_token",
            json={"access_token": "fake-short-token", "token_type": "bearer"},
            query={"code": "test-code"},
        )
        server.add(
            "GET",
            f"{V}/oauth/access_token",
            json={"access_token": "fake-long-token", "token_type": "bearer", "expires_in": 5183944},
            query={"grant_type": "fb_exchange_token", "fb_exchange_token": "fake-short-token"},
        )
        server.add("GET", f"{V}/me", json={"id": "7700000000000001"})
        server.add(
            "GET",
            f"{V}/me/accounts",
            json={
                "data": [
                    {
                        "id": PAGE,
                        "name": "Brand Coffee",
                        "access_token": "fake-page-token-2",
                        "instagram_business_account": {
                            "id": "17841400000000001",
                            "username": "brandcoffee",
                        },
                    },
                    {"id": "104000000000002", "name": "Brand Tea", "access_token": "fake-page-3"},
                ],
                "paging": {"cursors": {"before": "b", "after": "a"}},
            },
        )
        server.add("POST", f"{V}/{PAGE}/subscribed_apps", json={"success": True})

    def callback(self, state, code="test-code"):
        return self.url_open(
            f"/social_crm/meta/callback?state={state}&code={code}", allow_redirects=False
        )

    def wizards(self):
        return self.env["social.crm.meta.connect.wizard"].sudo().search([])

    def test_a_good_state_leads_to_the_page_picker_and_adds_what_is_ticked(self):
        self.script_meta()
        state = self.start()
        stored = self.env["social.crm.meta.oauth.state"].sudo().search([])
        self.assertNotIn(state, stored.mapped("state_hash"))  # hashed, never in clear
        response = self.callback(state)
        self.assertIn(response.status_code, (302, 303), response.text[:500])
        wizard = self.wizards()
        self.assertEqual(len(wizard), 1)
        self.assertIn(
            f"/odoo/social.crm.meta.connect.wizard/{wizard.id}", response.headers["Location"]
        )
        self.assertEqual(wizard.meta_user_id, "7700000000000001")
        self.assertEqual(
            sorted(wizard.line_ids.mapped("page_id")), sorted([PAGE, "104000000000002"])
        )
        # the exchange went long-lived, the secret only to Meta's token endpoint
        exchange = self.server.requests_to(f"{V}/oauth/access_token")
        self.assertEqual(exchange[1].query["grant_type"], ["fb_exchange_token"])
        line = wizard.line_ids.filtered(lambda row: row.page_id == PAGE)
        line.add_instagram = True
        (wizard.line_ids - line).add_page = False
        wizard.action_add()
        accounts = (
            self.env["social.crm.account"]
            .sudo()
            .search([("meta_user_id", "=", "7700000000000001")])
        )
        self.assertEqual(sorted(accounts.mapped("network")), ["facebook", "instagram"])
        self.assertIn(self.account, accounts)  # reconnected, not duplicated
        self.assertEqual(self.account.meta_page_access_token, "fake-page-token-2")
        instagram = accounts.filtered(lambda a: a.network == "instagram")
        self.assertEqual(instagram.meta_ig_user_id, "17841400000000001")
        self.assertEqual(instagram.name, "@brandcoffee")
        self.assertTrue(self.server.requests_to(f"{V}/{PAGE}/subscribed_apps"))
        self.assertFalse(self.wizards())  # the tokens left the wizard's table

    def test_a_reused_state_is_refused(self):
        self.script_meta()
        state = self.start()
        self.assertIn(self.callback(state).status_code, (302, 303))
        again = self.callback(state)
        self.assertEqual(again.status_code, 403)
        self.assertIn("already used", again.text)
        self.assertEqual(len(self.wizards()), 1)

    def test_a_forged_state_is_refused_and_meta_is_not_called(self):
        self.script_meta()
        self.start()
        response = self.callback("forged-state-value")
        self.assertEqual(response.status_code, 403)
        self.assertIn("Connection refused", response.text)
        self.assertFalse(self.server.requests_to(f"{V}/oauth/access_token"))
        self.assertFalse(self.wizards())

    def test_a_state_from_another_session_is_refused(self):
        self.script_meta()
        state = self.start()
        self.authenticate("admin", "admin")  # a new session for the same user
        self.assertEqual(self.callback(state).status_code, 403)
        self.assertFalse(self.wizards())

    def test_disconnect_revokes_and_forgets(self):
        self.server.add("DELETE", f"{V}/{PAGE}/subscribed_apps", json={"success": True})
        self.server.add("DELETE", f"{V}/7700000000000001/permissions", json={"success": True})
        self.account.meta_user_id = "7700000000000001"
        self.account.action_meta_disconnect()
        self.assertEqual(self.account.state, "paused")
        self.assertFalse(self.account.meta_page_access_token)
        self.assertEqual(len(self.server.requests_to(f"{V}/{PAGE}/subscribed_apps")), 1)
        (revoke,) = self.server.requests_to(f"{V}/7700000000000001/permissions")
        self.assertEqual(revoke.headers["Authorization"], f"Bearer 1234567890|{SECRET}")

    def test_an_expired_token_puts_the_account_in_error_with_one_todo(self):
        self.server.add("GET", f"{V}/{PAGE}/published_posts", status=400, json=load("error_190"))
        self.account.base_url = self.server.url
        for _run in range(2):
            self.account.with_context(social_crm_inline=True)._sync()
        self.assertEqual(self.account.state, "error")
        self.assertIn("reconnect", self.account.last_error.lower())
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.assertEqual(
            len(self.account.activity_ids.filtered(lambda a: a.activity_type_id == todo)), 1
        )
        action = self.account.action_meta_connect()
        self.assertEqual(action["url"], f"/social_crm/meta/connect?account_id={self.account.id}")


@tagged("post_install", "-at_install", "scrm_queue_job")
class TestMetaWebhookJobs(TransactionCase):
    """The job path (bin/odoo_suite.py runs it with queue_job installed)."""

    def test_under_queue_job_each_entry_is_one_job_queued_once(self):
        self.assertIn("queue.job", self.env, "the job path runs with OCA queue_job installed")
        from odoo.addons.queue_job import job as queue_job  # noqa: PLC0415

        self.env["ir.config_parameter"].sudo().set_param(META_APP_SECRET, SECRET)
        account = self.env["social.crm.account"].create(
            {
                "name": "Brand Coffee",
                "network": "facebook",
                "meta_page_id": PAGE,
                "meta_page_access_token": "test-page-token",
                "state": "connected",
            }
        )
        Job = self.env["queue.job"]
        payload = load("webhook_feed")
        Account = self.env["social.crm.account"]
        self.assertEqual(Account._social_crm_meta_webhook(payload), 1)
        Account._social_crm_meta_webhook(payload)  # a replay while waiting: no second job
        jobs = Job.search([("method_name", "=", "_social_crm_meta_ingest_entry")])
        self.assertEqual(len(jobs), 1)
        self.assertFalse(account.interaction_ids)
        queue_job.Job.load(self.env, jobs.uuid).perform()
        account.invalidate_recordset(["interaction_ids"])
        self.assertEqual(len(account.interaction_ids), 2)
