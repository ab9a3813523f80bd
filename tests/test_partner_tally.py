"""The interactions per contact and kind the database keeps (social.crm.partner.tally):
exact after every way a row comes, moves or goes."""

from odoo.tests import new_test_user, tagged

from .common import SocialCrmCase, make_author, make_interaction, make_page


@tagged("post_install", "-at_install")
class TestPartnerTally(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account()
        Partner = cls.env["res.partner"]
        cls.ann = Partner.create({"name": "Ann Tally"})
        cls.bob = Partner.create({"name": "Bob Tally"})
        cls.ann_id = cls.make_identity(cls.ann, "ann@m.example")

    def tally(self):
        """{(partner, company, kind): (positives, negatives)} the ledger sums to,
        zeros left out."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT partner_id, company_id, kind, SUM(positives), SUM(negatives)
              FROM social_crm_partner_tally GROUP BY 1, 2, 3
            HAVING SUM(positives) <> 0 OR SUM(negatives) <> 0
            """
        )
        return {row[:3]: row[3:] for row in self.env.cr.fetchall()}

    def rows_of(self, partner):
        self.env.cr.execute(
            "SELECT COUNT(*) FROM social_crm_partner_tally WHERE partner_id = %s", [partner.id]
        )
        return self.env.cr.fetchone()[0]

    def counted(self):
        """The same, counted from the interactions themselves."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT partner_id, company_id, kind,
                   COUNT(*) FILTER (WHERE COALESCE(polarity, 0) >= 0),
                   COUNT(*) FILTER (WHERE polarity < 0)
              FROM social_crm_interaction WHERE partner_id IS NOT NULL
          GROUP BY 1, 2, 3
            """
        )
        return {row[:3]: row[3:] for row in self.env.cr.fetchall()}

    def assertTallied(self):
        self.assertEqual(self.tally(), self.counted())

    def test_the_tally_follows_every_way_a_row_comes_moves_or_goes(self):
        who = make_author("ann@m.example", display_name="Ann Tally")
        items = [
            make_interaction(f"t{n}", who, kind, n, text=text)
            for n, (kind, text) in enumerate(
                [
                    ("mention", "I love this brand, thank you"),
                    ("reply", "This is broken again, worst support ever"),
                    ("like", ""),
                    ("repost", ""),
                    ("mention", "great product"),
                ]
            )
        ]
        # the ingest's SQL insert
        self.account._ingest_page(make_page(items))
        key = (self.ann.id, self.env.company.id, "mention")
        self.assertEqual(self.tally()[key][0], 2)
        self.assertTallied()
        # the ingest again: nothing new, nothing counted twice
        self.account._ingest_page(make_page(items))
        self.assertTallied()
        # an ORM create
        Interaction = self.env["social.crm.interaction"]
        extra = Interaction.create(
            {
                "account_id": self.account.id,
                "network": "mastodon",
                "identity_id": self.ann_id.id,
                "kind": "comment",
                "external_id": "orm-1",
                "polarity": 0.4,
                "date": "2026-11-20 12:00:00",
            }
        )
        self.assertTallied()
        # a correction that turns it negative, then a change of kind
        extra.write({"polarity": -0.6})
        self.assertEqual(self.tally()[(self.ann.id, self.env.company.id, "comment")], (0, 1))
        extra.write({"kind": "dm"})
        self.assertTallied()
        # a correction of the intent moves nothing
        before = self.tally()
        extra.write({"intent": "question"})
        self.assertEqual(self.tally(), before)
        # the identity goes to another contact: every row moves
        self.ann_id.write({"partner_id": self.bob.id})
        tally = self.tally()
        self.assertFalse([k for k in tally if k[0] == self.ann.id])
        self.assertEqual(tally[(self.bob.id, self.env.company.id, "mention")][0], 2)
        self.assertTallied()
        # a deleted row, then the contact deleted (its interactions lose it)
        extra.unlink()
        self.assertTallied()
        bob = self.bob.id
        self.bob.unlink()
        # its rows are no one's now; the nightly compaction drops them
        self.env["social.crm.partner.tally"]._compact()
        self.assertEqual(self.rows_of(self.bob.browse(bob)), 0)
        self.assertFalse([k for k in self.tally() if k[0] in (self.ann.id, bob)])
        self.assertTallied()

    def test_the_explanation_counts_what_the_user_may_read(self):
        company_b = self.env["res.company"].create({"name": "Tally B"})
        account_b = self.make_account("B", base_url="https://b.example", company_id=company_b.id)
        who = make_author("ann@m.example", display_name="Ann Tally")
        # Ann, a shared contact, is known to company B by her identity there
        self.make_identity(self.ann, "ann@m.example", company_id=company_b.id)
        self.account._ingest_page(
            make_page([make_interaction(f"a{n}", who, "repost", n) for n in range(3)])
        )
        account_b.with_company(company_b)._ingest_page(
            make_page([make_interaction(f"b{n}", who, "like", n) for n in range(5)])
        )
        self.env["res.partner"]._advocate_recompute()
        user_a = new_test_user(
            self.env,
            login="scrm_tally_a",
            groups="social_crm_module.group_social_crm_user",
            company_id=self.env.company.id,
            company_ids=[(6, 0, self.env.company.ids)],
        )
        explanation = self.ann.with_user(user_a).advocate_explanation
        self.assertIn("3 reposts", explanation)
        self.assertNotIn("likes", explanation)
        self.assertIn("3 reposts", self.ann.advocate_explanation)
        self.assertIn("5 likes", self.ann.advocate_explanation)

    def test_a_rule_beyond_the_company_one_is_counted_on_the_interactions(self):
        """An administrator's own rule on the interactions (here: salespeople do not
        see likes) holds for the counts too: they are counted on the interactions."""
        who = make_author("ann@m.example", display_name="Ann Tally")
        kinds = ["repost", "repost", "like", "like", "like"]
        self.account._ingest_page(
            make_page([make_interaction(f"r{n}", who, kind, n) for n, kind in enumerate(kinds)])
        )
        self.env["res.partner"]._advocate_recompute()
        user = new_test_user(
            self.env, login="scrm_tally_rule", groups="social_crm_module.group_social_crm_user"
        )
        ann = self.ann.with_user(user)
        self.assertEqual(ann.social_interaction_count, 5)
        self.assertIn(": 3 likes, 2 reposts", ann.advocate_explanation)
        self.env["ir.rule"].create(
            {
                "name": "no likes for social users",
                "model_id": self.env["ir.model"]._get_id("social.crm.interaction"),
                "groups": [(4, self.env.ref("social_crm_module.group_social_crm_user").id)],
                "domain_force": "[('kind', '!=', 'like')]",
            }
        )
        ann.invalidate_recordset()
        self.assertEqual(ann.social_interaction_count, 2)
        self.assertIn(": 2 reposts", ann.advocate_explanation)
        self.assertNotIn("likes", ann.advocate_explanation)
