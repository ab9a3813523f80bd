from ast import literal_eval
from datetime import datetime, timezone

from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

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
            "question": "Do you ship to Canada?",
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
