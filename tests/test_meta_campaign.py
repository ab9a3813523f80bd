"""Comment-to-DM: a keyword comment on a chosen post earns one coupon, sent as one
private reply to the comment through the Facebook connector (on 127.0.0.1)."""

import json
from datetime import datetime, timezone
from pathlib import Path
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..social_crm_module.connectors.facebook import FacebookConnector
from ..social_crm_module.interaction import Page
from ..social_crm_module.testing import FakeServer

FIXTURES = Path(__file__).parent.parent / "social_crm_module" / "tests" / "fixtures" / "facebook"
PAGE = "104000000000001"
POST = f"{PAGE}_900000000000002"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
MESSAGES = f"/v21.0/{PAGE}/messages"


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def comment(comment_id, text, person="6100000000000001", name="Alice Arabica", post=POST):
    """A feed webhook entry with one comment, as Meta sends it."""
    return {
        "id": PAGE,
        "time": 1748718000,
        "changes": [
            {
                "field": "feed",
                "value": {
                    "from": {"id": person, "name": name},
                    "post_id": post,
                    "comment_id": comment_id,
                    "parent_id": post,
                    "message": text,
                    "created_time": 1748718000,
                    "item": "comment",
                    "verb": "add",
                },
            }
        ],
    }


@tagged("post_install", "-at_install")
class TestCommentToDm(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, social_crm_inline=True)
        )
        cls.env["social.crm.campaign"].search([("state", "=", "running")]).action_done()
        cls.program = cls.env["loyalty.program"].create(
            {"name": "Comment 10%", "program_type": "coupons", "trigger": "with_code"}
        )
        cls.account = cls.env["social.crm.account"].create(
            {
                "name": "Brand Coffee",
                "network": "facebook",
                "meta_page_id": PAGE,
                "meta_page_access_token": "test-page-token",
                "state": "connected",
            }
        )

    def setUp(self):
        super().setUp()
        self.server = FakeServer()
        self.server.start()
        self.addCleanup(self.server.stop)
        server = self.server

        def connector(account):
            return FacebookConnector(
                base_url=server.url,
                credentials={"page_access_token": "test-page-token", "page_id": PAGE},
                timeout=2.0,
                clock=lambda: NOW,
            )

        patcher = patch.object(type(self.env["social.crm.account"]), "_get_connector", connector)
        patcher.start()
        self.addCleanup(patcher.stop)

    def campaign(self, **values):
        campaign = self.env["social.crm.campaign"].create(
            {
                "name": "Comment #summerdeal",
                "program_id": self.program.id,
                "account_ids": [(6, 0, self.account.ids)],
                "audience": "trigger",
                "trigger_kind": "comment",
                "trigger_post_ref": POST,
                "trigger_keywords": "#summerdeal",
                "social_mode": "private_reply",
                "message_template": "Thanks {name}! Your code: {code}",
                **values,
            }
        )
        campaign.action_start()
        return campaign

    def push(self, *entries):
        connector = self.account._get_connector()
        for entry in entries:
            self.account._ingest_page(Page(items=connector.webhook_items(entry).items))
        self.env["social.crm.campaign.recipient"]._deliver_due()

    def test_a_keyword_comment_earns_one_private_reply_once_per_person(self):
        self.server.add("POST", MESSAGES, json=load("sent_message"))
        campaign = self.campaign()
        self.push(
            comment("900000000000002_7001", "I love the new roast #summerdeal"),
            comment("900000000000002_7005", "Again #SummerDeal please"),
        )
        recipient = campaign.recipient_ids
        self.assertEqual(len(recipient), 1)
        self.assertEqual(recipient.social_state, "sent")
        self.assertEqual(recipient.interaction_id.external_id, "900000000000002_7001")
        (sent,) = self.server.requests_to(MESSAGES)
        self.assertEqual(sent.json()["recipient"], {"comment_id": "900000000000002_7001"})
        self.assertIn(recipient.coupon_id.code, sent.json()["message"]["text"])

    def test_other_posts_and_comments_without_the_keyword_earn_nothing(self):
        campaign = self.campaign()
        self.push(
            comment("900000000000002_7001", "I love the new roast"),
            comment("900000000000003_7002", "#summerdeal", post=f"{PAGE}_900000000000003"),
        )
        self.assertFalse(campaign.recipient_ids)
        self.assertFalse(self.server.requests)

    def test_an_opted_out_person_gets_nothing(self):
        olga = self.env["res.partner"].create({"name": "Olga", "social_opt_out": True})
        self.env["social.crm.identity"].create(
            {
                "network": "facebook",
                "external_id": f"{PAGE}:6100000000000009",
                "handle": "Olga",
                "partner_id": olga.id,
                "link_state": "confirmed",
                "match_reason": "manual",
                "company_id": self.account.company_id.id,
            }
        )
        campaign = self.campaign()
        self.push(comment("900000000000002_7009", "#summerdeal", person="6100000000000009"))
        self.assertFalse(campaign.recipient_ids)
        self.assertFalse(self.server.requests)

    def test_a_refusal_from_meta_keeps_the_coupon_and_shows_the_failure(self):
        self.server.add("POST", MESSAGES, status=400, json=load("error_window"))
        campaign = self.campaign()
        self.push(comment("900000000000002_7001", "#summerdeal"))
        recipient = campaign.recipient_ids
        self.assertEqual(recipient.social_state, "failed")
        self.assertTrue(recipient.coupon_id.exists())
        self.assertIn("nothing was sent", recipient.social_error)
        self.assertFalse(recipient.social_next_try)  # a person decides

    def test_the_trigger_needs_its_post_keywords_and_one_coupon_per_person(self):
        with self.assertRaisesRegex(ValidationError, "id of the post"):
            self.campaign(trigger_post_ref=False)
        with self.assertRaisesRegex(ValidationError, "keywords"):
            self.campaign(trigger_keywords=False)
        with self.assertRaisesRegex(ValidationError, "one coupon per person"):
            self.campaign(limit_per_person=2)
