import csv
import io
import json
from ast import literal_eval
from datetime import datetime, timezone
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tests.common import TransactionCase

from ..social_crm_module import sentiment
from ..social_crm_module.classifier import helper
from ..social_crm_module.interaction import Author, Interaction, Kind, Network, Page
from ..social_crm_module.testing import FakeServer
from .common import SocialCrmCase, make_author, make_interaction, make_page


@tagged("post_install", "-at_install")
class TestClassify(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account()
        who = make_author("a@m.example")
        texts = {
            "love": "I absolutely love this desk, the best thing in my office!",
            "broken": "My order arrived broken and support never answered. Terrible.",
            "question": "How do I reset my password?",
            "like": "",
        }
        cls.page = make_page(
            make_interaction(
                key,
                who,
                "like" if not text else "mention",
                text=text,
                created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
            )
            for key, text in texts.items()
        )

    def _get(self, external_id):
        return self.env["social.crm.interaction"].search([("external_id", "=", external_id)])

    def test_ingest_classifies_intent_and_polarity(self):
        self.account._ingest_page(self.page)
        love, broken, question = self._get("love"), self._get("broken"), self._get("question")
        self.assertEqual((love.intent, love.sentiment), ("praise", "positive"))
        self.assertGreater(love.polarity, 0.3)
        self.assertEqual((broken.intent, broken.sentiment), ("complaint", "negative"))
        self.assertLess(broken.polarity, -0.1)
        self.assertEqual(question.intent, "question")
        self.assertFalse(self._get("like").intent)
        self.assertFalse(love.classification_corrected)

    def test_a_correction_survives_a_resync_and_moves_the_polarity(self):
        self.account._ingest_page(self.page)
        love = self._get("love")
        love.write({"sentiment": "negative", "intent": "complaint"})  # sarcasm, says a person
        self.assertTrue(love.classification_corrected)
        self.assertEqual(love.polarity, -0.5)
        self.account._ingest_page(self.page)  # the same page again
        self.env["social.crm.interaction"]._classify(love)  # even if asked to reclassify
        self.assertEqual(
            (love.intent, love.sentiment, love.polarity), ("complaint", "negative", -0.5)
        )
        corrected = self.env["social.crm.interaction"].search_count(
            [("classification_corrected", "=", True)]
        )
        self.assertEqual(corrected, 1)

    def test_a_user_corrects_on_the_form_and_the_review_counts_it(self):
        self.account._ingest_page(self.page)
        Interaction = self.env["social.crm.interaction"]
        before = Interaction._classifier_review()
        user = new_test_user(
            self.env, login="scrm_classify_user", groups="social_crm_module.group_social_crm_user"
        )
        love = self._get("love").with_user(user)
        with Form(love) as form:  # the interaction form, as the user sees it
            form.sentiment = "negative"
            form.intent = "complaint"
        self.assertEqual((love.intent, love.sentiment), ("complaint", "negative"))
        self.assertEqual((love.model_intent, love.model_sentiment), ("praise", "positive"))
        self.assertTrue(love.classification_corrected)
        after = Interaction._classifier_review()
        self.assertEqual(after["classified"], before["classified"])
        self.assertEqual(after["intent_corrected"], before["intent_corrected"] + 1)
        self.assertEqual(after["sentiment_corrected"], before["sentiment_corrected"] + 1)
        # the review pivot: the correction sits off the diagonal
        action = self.env["res.config.settings"].create({}).action_social_classifier_review()
        cells = Interaction._read_group(
            [*literal_eval(action["domain"]), ("id", "=", love.id)],
            ["model_intent", "intent"],
            ["__count"],
        )
        self.assertEqual(cells, [("praise", "complaint", 1)])
        # what the Settings page shows: the onchange of a new settings record, with
        # every field of the settings form
        Settings = self.env["res.config.settings"]
        form = Settings.get_views([(False, "form")])["models"]["res.config.settings"]
        spec = {name: {} for name in form["fields"]}
        shown = Settings.onchange({}, [], spec)["value"]["social_classifier_review"]
        self.assertIn(f"Of {after['classified']} classified", shown)
        # what the network sent is not the user's to change
        with self.assertRaises(AccessError):
            love.write({"text": "I love it"})
        self.assertEqual(love.text, self.page.items[0].text)


@tagged("post_install", "-at_install")
class TestClassifierConfidenceAndRemote(TransactionCase):
    """Issue 15 in Odoo: a confidence on every classification, routing only on
    confident ones, low-confidence posts flagged for review, an optional remote
    model set by administrators, and corrections exported as training data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.account = cls.env["social.crm.account"].create(
            {"name": "Brand", "network": "mastodon", "base_url": "https://m.example"}
        )
        cls.env["social.crm.routing.rule"].search([]).write({"active": False})
        cls.env["social.crm.routing.rule"].create(
            {"name": "Complaints", "intent": "complaint", "action": "activity"}
        )
        cls.who = Author(network=Network.MASTODON, external_id="c@m.example", handle="c@m.example")

    def _page(self, **texts):
        return Page(
            items=tuple(
                Interaction(
                    network=Network.MASTODON,
                    external_id=key,
                    author=self.who,
                    text=text,
                    kind=Kind.MENTION,
                    created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                )
                for key, text in texts.items()
            )
        )

    def test_routing_acts_on_confident_ones_and_the_rest_waits_for_review(self):
        sure = "My order arrived broken and support never answered. Terrible service."
        with patch.object(
            type(self.env["social.crm.interaction"]),
            "_classify_texts_started",
            lambda model, texts: (
                lambda: [
                    sentiment.Classification("complaint", -0.8, "negative", 0.9)
                    if text == sure
                    else sentiment.Classification("complaint", -0.2, "negative", 0.3)
                    for text in texts
                ]
            ),
        ):
            created = self.account._ingest_page(self._page(sure=sure, unsure="hmm, ok I guess"))
        by_id = {i.external_id: i for i in created}
        self.assertEqual((by_id["sure"].confidence, by_id["unsure"].confidence), (0.9, 0.3))
        self.assertTrue(by_id["sure"].routed)
        self.assertFalse(by_id["sure"].needs_review)
        self.assertFalse(by_id["unsure"].routed, "a post the classifier is unsure of waits")
        self.assertTrue(by_id["unsure"].needs_review)
        review = self.env["social.crm.interaction"].search([("needs_review", "=", True)])
        self.assertIn(by_id["unsure"], review)
        # a person says what it is: it leaves the review and is routed then
        by_id["unsure"].write({"intent": "complaint"})
        self.assertFalse(by_id["unsure"].needs_review)
        self.assertTrue(by_id["unsure"].routed)
        todo = self.env["mail.activity"].search([("social_crm_interaction_id", "in", created.ids)])
        # one open to-do per author and intent: the corrected complaint joins it
        self.assertEqual(todo.social_crm_interaction_id, by_id["sure"])

    def test_a_full_page_is_classified_in_the_helper_as_it_would_be_here(self):
        posts = [row["text"] for row in sentiment.labelled_posts()][: helper.MIN_BATCH + 4]
        page = self._page(**{f"p{n}": text for n, text in enumerate(posts)})
        created = self.account._ingest_page(page)
        self.assertIsNotNone(getattr(helper._local, "helper", None), "a page this big goes out")
        self.assertEqual(len(created), len(posts))
        for row in created:
            expected = sentiment.classify(row.text)
            self.assertEqual(
                (row.intent, row.sentiment, row.model_intent, row.model_sentiment),
                (expected.intent, expected.label, expected.intent, expected.label),
            )
            self.assertAlmostEqual(row.polarity, expected.polarity)
            self.assertAlmostEqual(row.confidence, expected.confidence)

    def test_the_local_model_gives_a_confidence(self):
        (row,) = self.account._ingest_page(
            self._page(p="I absolutely love this desk, best purchase of the year!")
        )
        self.assertEqual(row.intent, "praise")
        self.assertGreater(row.confidence, 0)
        self.assertLessEqual(row.confidence, 1)

    def test_a_remote_model_set_in_settings_classifies_and_falls_back_when_it_fails(self):
        answer = {
            "results": [
                {
                    "id": 0,
                    "intent": "purchase_intent",
                    "label": "positive",
                    "polarity": 0.4,
                    "confidence": 0.95,
                }
            ]
        }
        completion = {
            "choices": [{"message": {"role": "assistant", "content": json.dumps(answer)}}]
        }
        with FakeServer() as server:
            server.add("POST", "/v1/chat/completions", json=completion, times=1)
            server.add("POST", "/v1/chat/completions", status=500, json={"error": "down"})
            settings = self.env["res.config.settings"].create(
                {
                    "social_classifier_remote_url": server.url,
                    "social_classifier_remote_key": "sk-test-remote-key",
                    "social_classifier_remote_model": "tiny",
                    "social_classifier_remote_monthly_cap": 5,
                }
            )
            settings.execute()
            (first,) = self.account._ingest_page(self._page(r1="Is the blue one in stock?"))
            (second,) = self.account._ingest_page(
                self._page(r2="My order arrived broken. Terrible.")
            )
            sent = server.requests[0]
            self.assertEqual(sent.headers["Authorization"], "Bearer sk-test-remote-key")
            self.assertIn("Is the blue one in stock?", sent.body.decode())
        self.assertEqual((first.intent, first.confidence), ("purchase_intent", 0.95))
        self.assertEqual(second.intent, "complaint", "the local model answered instead")
        state = json.loads(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("social_crm_module.classifier_remote_state")
        )
        self.assertEqual(
            (state["calls"], state["remote_posts"], state["fallback_posts"]), (2, 1, 1)
        )
        usage = self.env["res.config.settings"].create({}).social_classifier_remote_usage
        self.assertIn("1 posts fell back", usage)
        self.assertNotIn("sk-test-remote-key", usage)
        with self.assertRaisesRegex(ValidationError, "https"):
            self.env["res.config.settings"].create(
                {"social_classifier_remote_url": "http://models.example.com/v1"}
            ).execute()

    def test_corrections_export_as_training_data(self):
        (row,) = self.account._ingest_page(self._page(x="the parcel came, fine"))
        row.write({"intent": "praise", "sentiment": "positive"})
        action = self.env["res.config.settings"].create({}).action_social_classifier_export()
        attachment_id = int(action["url"].split("/")[3].split("?")[0])
        raw = self.env["ir.attachment"].browse(attachment_id).raw.decode()
        rows = list(csv.reader(io.StringIO(raw)))
        self.assertEqual(rows[0], ["text", "intent", "polarity_label", "lang"])
        self.assertIn(["the parcel came, fine", "praise", "positive", ""], rows)
