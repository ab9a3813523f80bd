import random
from datetime import datetime, timedelta, timezone

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from ..social_crm_module import scoring
from .common import SocialCrmCase

KINDS = ["mention", "reply", "quote", "comment", "dm", "repost", "like", "follow", "post"]
NOW = datetime(2026, 11, 22, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestAdvocateScoring(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account("Brand on Mastodon")
        cls.Partner = cls.env["res.partner"]

    def _person(self, name, followers=0):
        partner = self.Partner.create({"name": name})
        handle = f"{name.lower().replace(' ', '')}@m.example"
        identity = self.make_identity(partner, handle, followers_count=followers)
        return partner, identity

    def _interactions(self, identity, rows):
        self.env["social.crm.interaction"].create(
            [
                {
                    "account_id": self.account.id,
                    "network": "mastodon",
                    "identity_id": identity.id,
                    "kind": kind,
                    "date": date,
                    "polarity": polarity,
                    "external_id": f"{identity.id}-{n}",
                }
                for n, (kind, date, polarity) in enumerate(rows)
            ]
        )

    def test_sql_agrees_with_python_reference_on_random_data(self):
        rnd = random.Random(20261122)
        expected = {}
        params = scoring.ScoringParams()
        for n in range(25):
            followers = rnd.choice([0, 3, 150, 2_000, 90_000])
            partner, identity = self._person(f"Random Person {n}", followers)
            rows = [
                (
                    rnd.choice(KINDS),
                    NOW - timedelta(minutes=rnd.randint(0, 200 * 24 * 60)),
                    round(rnd.uniform(-1, 1), 3) if rnd.random() < 0.7 else 0.0,
                )
                for _ in range(rnd.randint(0, 30))
            ]
            self._interactions(identity, rows)
            partner.write({"advocate_referral_count": rnd.randint(0, 3)})
            expected[partner] = scoring.score(
                [
                    scoring.Event(kind, date.replace(tzinfo=timezone.utc), polarity)
                    for kind, date, polarity in rows
                ],
                followers=followers,
                referrals=partner.advocate_referral_count,
                now=NOW.replace(tzinfo=timezone.utc),
                params=params,
            )
        self.Partner._advocate_recompute(now=NOW)
        for partner, ref in expected.items():
            with self.subTest(partner=partner.name):
                self.assertAlmostEqual(partner.advocate_score, ref.total, places=2)
                self.assertEqual(partner.advocate_tier, ref.tier)
                for component in scoring.COMPONENTS:
                    self.assertAlmostEqual(
                        partner[f"advocate_{component}"], getattr(ref, component), places=3
                    )
        self.assertTrue(any(ref.total > 0 for ref in expected.values()))

    def _scored(self, name):
        partner, identity = self._person(name, followers=100)
        self._interactions(identity, [("repost", NOW - timedelta(days=1), 0.5)])
        self.Partner._advocate_recompute(partner.ids, now=NOW)
        row = self.env["social.crm.advocate"].search([("partner_id", "=", partner.id)])
        self.assertEqual(len(row), 1)
        return partner, row

    def test_the_scores_table_has_no_foreign_key_and_keeps_its_constraints(self):
        self.env.cr.execute(
            """
            SELECT contype, conname FROM pg_constraint
             WHERE conrelid = 'social_crm_advocate'::regclass ORDER BY conname
            """
        )
        kinds = {name: kind for kind, name in self.env.cr.fetchall()}
        self.assertNotIn("f", kinds.values(), "no foreign-key check per inserted row")
        self.assertEqual(kinds.get("social_crm_advocate_partner_unique"), "u")
        self.assertEqual(kinds.get("social_crm_advocate_score_range"), "c")
        # an upgrade from a table that had the key drops it
        self.env.cr.execute(
            """
            ALTER TABLE social_crm_advocate ADD CONSTRAINT social_crm_advocate_partner_id_fkey
                FOREIGN KEY (partner_id) REFERENCES res_partner(id) ON DELETE CASCADE
            """
        )
        self.env["social.crm.advocate"].init()
        self.env.cr.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'social_crm_advocate'::regclass"
            " AND contype = 'f'"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_a_deleted_contact_takes_its_score_along(self):
        partner, row = self._scored("Gone Person")
        partner.unlink()
        self.assertFalse(row.exists())
        # deleted behind the ORM's back: the nightly run drops the row
        other, other_row = self._scored("Other Person")
        self.env.cr.execute("DELETE FROM res_partner WHERE id = %s", [other.id])
        self.env["res.partner"]._cron_advocate_recompute()
        self.assertFalse(other_row.exists())

    def test_no_interactions_scores_zero_and_is_not_ranked(self):
        partner, _identity = self._person("Quiet Person", followers=50_000)
        self.Partner._advocate_recompute(partner.ids, now=NOW)
        self.assertEqual(partner.advocate_score, 0)
        self.assertEqual(partner.advocate_tier, "none")
        self.assertEqual(partner.advocate_rank, 0)

    def test_ranking_and_tier_change_logged_once(self):
        alice, alice_id = self._person("Alice Advocate", followers=4_000)
        bob, bob_id = self._person("Bob Bystander", followers=10)
        self._interactions(bob_id, [("like", NOW - timedelta(days=40), 0.0)])
        self.Partner._advocate_recompute(now=NOW)  # Alice has no score yet
        self.assertEqual(alice.advocate_tier, "none")
        self._interactions(alice_id, [("repost", NOW - timedelta(days=d), 0.6) for d in range(15)])
        self.Partner._advocate_recompute(now=NOW)
        self.assertGreater(alice.advocate_score, bob.advocate_score)
        self.assertLess(alice.advocate_rank, bob.advocate_rank)
        self.assertGreaterEqual(alice.advocate_rank, 1)
        self.assertIn(alice.advocate_tier, ("gold", "ambassador"))
        label = dict(alice._fields["advocate_tier"].selection)[alice.advocate_tier]
        notes = alice.message_ids.filtered(lambda m: f"is now {label}" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        # a second run with no change logs nothing more
        self.Partner._advocate_recompute(now=NOW)
        notes = alice.message_ids.filtered(lambda m: f"is now {label}" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertIn("reposts", alice.advocate_explanation)

    def test_score_decays_and_resets_when_interactions_are_gone(self):
        carol, carol_id = self._person("Carol Once", followers=300)
        self._interactions(carol_id, [("mention", NOW - timedelta(days=1), 0.5)])
        self.Partner._advocate_recompute(now=NOW)
        fresh = carol.advocate_score
        self.Partner._advocate_recompute(now=NOW + timedelta(days=120))
        self.assertLess(carol.advocate_score, fresh)
        carol_id.interaction_ids.unlink()
        self.Partner._advocate_recompute(now=NOW)
        self.assertEqual(carol.advocate_score, 0)
        self.assertEqual(carol.advocate_rank, 0)

    def test_settings_refuse_invalid_parameters(self):
        for field_name, value, message in [
            ("advocate_half_life_days", 0, "half-life"),
            ("advocate_engagement_weight", -1, "zero or more"),
            ("advocate_tier_gold", 20, "must increase"),
        ]:
            with self.subTest(field=field_name):
                settings = Form(self.env["res.config.settings"])
                setattr(settings, field_name, value)
                with self.assertRaisesRegex(ValidationError, message):
                    settings.save().execute()

    def test_settings_change_the_score(self):
        dan, dan_id = self._person("Dan Liker", followers=0)
        self._interactions(dan_id, [("like", NOW - timedelta(days=1), 0.0)] * 3)
        self.Partner._advocate_recompute(now=NOW)
        before = dan.advocate_score
        settings = Form(self.env["res.config.settings"])
        settings.advocate_weight_like = 5.0
        settings.save().execute()
        self.Partner._advocate_recompute(now=NOW)
        self.assertGreater(dan.advocate_score, before)

    def test_recompute_one_contact_from_its_form(self):
        erin, erin_id = self._person("Erin Single", followers=100)
        self._interactions(erin_id, [("quote", datetime.now() - timedelta(days=2), 0.4)])
        erin.action_advocate_recompute()
        self.assertGreater(erin.advocate_score, 0)
        self.assertEqual(
            erin.advocate_rank,
            1 + self.Partner.search_count([("advocate_score", ">", erin.advocate_score)]),
        )
