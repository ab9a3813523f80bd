from datetime import datetime, timedelta, timezone

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..social_crm_module import registry
from ..social_crm_module.errors import AuthError, PayloadError, RateLimited, TransientError
from ..social_crm_module.interaction import Page
from .common import SocialCrmCase, make_author, make_interaction, make_page

SYNC_LOGGER = "odoo.addons.social_crm_module.models.social_crm_account"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def page(start, count, cursor, has_more=False):
    """Mentions n{start}.. by one fan, one a minute back from NOW."""
    who = make_author("fan@m.example")
    return make_page(
        (
            make_interaction(f"n{n}", who, minutes=n, now=NOW, text=f"post {n}")
            for n in range(start, start + count)
        ),
        cursor=cursor,
        has_more=has_more,
    )


class FakeConnector:
    """Scripted pages (or errors) by cursor, recorded calls: the seam's stand-in."""

    def __init__(self, script):
        self.script = script
        self.calls = []
        self.updated_credentials = {}

    def fetch(self, cursor):
        self.calls.append(cursor)
        step = self.script[cursor]
        if isinstance(step, Exception):
            raise step
        return step

    def check(self):
        return make_author("brand@m.example", external_id="brand")


@tagged("post_install", "-at_install")
class TestSync(SocialCrmCase):
    # tracking stays on (as it is for people)
    social_crm_context = {"social_crm_inline": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ok = cls.make_account("ok", base_url="https://a.example", state="connected")
        cls.bad = cls.make_account("bad", base_url="https://b.example", state="connected")
        cls.connectors = {}

    def _seam(self, scripts):
        connectors = {account: FakeConnector(script) for account, script in scripts.items()}
        return self.seam(connectors), connectors

    def test_cron_walks_pages_and_stores_the_cursor(self):
        seam, connectors = self._seam(
            {
                self.ok: {None: page(0, 3, "p1", has_more=True), "p1": page(3, 2, "p2")},
                self.bad: {None: page(100, 0, None)},
            }
        )
        with seam:
            self.env["social.crm.account"]._cron_sync()
        self.assertEqual(connectors[self.ok].calls, [None, "p1"])
        self.assertEqual(self.ok.cursor, "p2")
        self.assertEqual(len(self.ok.interaction_ids), 5)

    @mute_logger(SYNC_LOGGER)
    def test_errors_stay_on_their_account(self):
        reset = (datetime.now(timezone.utc) + timedelta(minutes=20)).replace(microsecond=0)
        cases = [
            (RateLimited("slow down", retry_at=reset), "connected"),
            (AuthError("HTTP 401"), "error"),
            (TransientError("HTTP 503"), "connected"),
            (PayloadError("truncated JSON"), "connected"),
        ]
        for error, state in cases:
            with self.subTest(error=type(error).__name__):
                self.bad.write(
                    {
                        "state": "connected",
                        "next_sync_at": False,
                        "failure_count": 0,
                        "cursor": False,
                    }
                )
                self.ok.write({"cursor": False})
                self.ok.interaction_ids.unlink()
                seam, _connectors = self._seam(
                    {
                        self.bad: {None: error},
                        self.ok: {None: page(0, 2, "done")},
                    }
                )
                with seam:
                    self.env["social.crm.account"]._cron_sync()
                self.assertEqual(self.bad.state, state)
                self.assertIn(type(error).__name__, self.bad.last_error)
                self.assertEqual(len(self.ok.interaction_ids), 2, "the other account synced")
                self.assertFalse(self.bad.interaction_ids)
                if isinstance(error, RateLimited):
                    self.assertEqual(self.bad.next_sync_at, reset.replace(tzinfo=None))
                elif isinstance(error, (TransientError, PayloadError)):
                    self.assertGreater(self.bad.next_sync_at, datetime.now())
                    self.assertEqual(self.bad.failure_count, 1)

    @mute_logger(SYNC_LOGGER)
    def test_auth_error_gives_one_activity_and_secrets_stay_out(self):
        self.bad.sudo().access_token = "s3cr3t-token-value"
        for _run in range(2):
            self.bad.state = "connected"
            seam, _c = self._seam(
                {
                    self.bad: {None: AuthError("mastodon: HTTP 401 (invalid)")},
                    self.ok: {None: page(0, 0, None)},
                }
            )
            with seam:
                self.env["social.crm.account"]._cron_sync()
        todo = self.env.ref("mail.mail_activity_data_todo")
        self.assertEqual(
            len(self.bad.activity_ids.filtered(lambda a: a.activity_type_id == todo)), 1
        )
        self.assertNotIn("s3cr3t", self.bad.last_error)

    @mute_logger(SYNC_LOGGER)
    def test_refreshed_tokens_survive_a_failing_page(self):
        """A session refreshed during a call that then fails must not be lost."""

        class Refreshing(FakeConnector):
            def fetch(self, cursor):
                self.updated_credentials = {"access_jwt": "fake-new-access"}
                raise RateLimited("after refresh")

        bsky = self.env["social.crm.account"].create(
            {
                "name": "sky",
                "network": "bluesky",
                "base_url": "https://pds.example",
                "state": "connected",
                "session_access_jwt": "fake-old-access",
            }
        )
        with self.seam(Refreshing({})):
            bsky._sync()
        self.assertEqual(bsky.sudo().session_access_jwt, "fake-new-access")
        self.assertIn("RateLimited", bsky.last_error)

    def test_one_connector_per_run(self):
        made = []

        def get_connector(account):
            made.append(account)
            return FakeConnector({None: page(0, 2, "a", has_more=True), "a": page(2, 2, "b")})

        with self.seam(get_connector):
            self.ok._sync()
        self.assertEqual(made, [self.ok])
        self.assertEqual(self.ok.cursor, "b")

    @mute_logger(SYNC_LOGGER)
    def test_transient_backoff_grows(self):
        delays = []
        for _run in range(3):
            self.bad.write({"state": "connected", "next_sync_at": False})
            seam, _c = self._seam(
                {self.bad: {None: TransientError("timeout")}, self.ok: {None: page(0, 0, None)}}
            )
            with seam:
                self.bad._sync()
            delays.append(self.bad.next_sync_at - datetime.now())
        self.assertLess(delays[0], delays[1])
        self.assertLess(delays[1], delays[2])

    @mute_logger(SYNC_LOGGER)
    def test_buttons(self):
        seam, _c = self._seam({self.ok: {None: page(0, 4, "x")}})
        with seam:
            self.assertEqual(self.ok.action_test_connection()["params"]["type"], "success")
            result = self.ok.action_sync_now()
        self.assertIn("4 new interaction", result["params"]["message"])
        seam, _c = self._seam({self.bad: {None: AuthError("HTTP 401")}})
        with seam, self.assertRaisesRegex(UserError, "AuthError"):
            self.bad.action_sync_now()

    def test_each_network_sets_only_options_its_connector_reads(self):
        Account = self.env["social.crm.account"]
        codes = [code for code, _label in Account._fields["network"].selection]
        self.assertTrue({"x", "mastodon", "bluesky", "feed"} <= set(codes))
        for code in codes:
            account = Account.new({"network": code, "login": "12345", "search_query": "#brand"})
            with self.subTest(network=code):
                options = account._social_crm_options()
                self.assertLessEqual(set(options), set(registry.get(code).option_keys))
        x = Account.new({"network": "x", "login": "12345", "search_query": "#brand"})
        self.assertEqual(x._social_crm_options(), {"user_id": "12345", "query": "#brand"})

    def test_paste_a_profile_url(self):
        partner = self.env["res.partner"].create({"name": "Pasted"})
        identity = self.env["social.crm.identity"].create(
            {"profile_url": "https://bsky.app/profile/Pasted.example.com", "partner_id": partner.id}
        )
        self.assertEqual((identity.network, identity.handle), ("bluesky", "pasted.example.com"))
        self.assertEqual((identity.link_state, identity.match_reason), ("confirmed", "manual"))
        with self.assertRaisesRegex(ValidationError, "not a profile URL"):
            self.env["social.crm.identity"].create({"profile_url": "https://x.com/home"})

    def test_reject_is_remembered(self):
        partner = self.env["res.partner"].create({"name": "Maybe Same"})
        identity = self.env["social.crm.identity"].create(
            {
                "network": "x",
                "handle": "maybe",
                "partner_id": partner.id,
                "link_state": "suggested",
                "match_reason": "same_name",
            }
        )
        identity.action_reject()
        self.assertFalse(identity.partner_id)
        self.assertIn(partner, identity.rejected_partner_ids)

    def test_skipped_items_are_counted_on_the_account_with_their_reasons(self):
        """What a page left out (malformed items) is visible on the account, not
        dropped: a running count and the last page's reasons."""
        skipped = Page(
            items=page(0, 1, None).items,
            cursor="s1",
            skipped=3,
            problems=("n7: no author", "n8: unknown kind 'poll'"),
        )
        seam, _connectors = self._seam(
            {self.ok: {None: skipped}, self.bad: {None: page(0, 0, None)}}
        )
        with seam:
            self.ok._sync()
        self.assertEqual(self.ok.skipped_count, 3)
        self.assertEqual(
            self.ok.last_problems.splitlines(),
            ["n7: no author", "n8: unknown kind 'poll'", "... and 1 more"],
        )
        self.assertEqual(len(self.ok.interaction_ids), 1, "the good item is stored")
        self.ok.cursor = "s1"
        seam, _connectors = self._seam({self.ok: {"s1": Page(cursor="s2", skipped=2)}})
        with seam:
            self.ok._sync()
        self.assertEqual(self.ok.skipped_count, 5)
