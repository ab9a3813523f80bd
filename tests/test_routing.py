from datetime import datetime, timezone

from odoo.tests import tagged

from .common import SocialCrmCase, make_author, make_interaction, make_page


@tagged("post_install", "-at_install")
class TestRouting(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account()
        cls.seller = cls.env.ref("base.user_demo", raise_if_not_found=False) or cls.env.user
        cls.customer = cls.env["res.partner"].create(
            {"name": "Carla Customer", "user_id": cls.seller.id}
        )
        cls.make_identity(cls.customer, "carla@m.example")

    def _page(self, rows):
        return make_page(
            make_interaction(
                key,
                make_author(who, display_name=who.split("@")[0].title()),
                text=text,
                created_at=datetime(2026, 11, 10, tzinfo=timezone.utc),
            )
            for key, who, text in rows
        )

    def test_each_rule_fires_once(self):
        page = self._page(
            [
                ("c1", "carla@m.example", "My order arrived broken and nobody answers. Terrible."),
                ("q1", "carla@m.example", "How do I reset my password?"),
                (
                    "p1",
                    "newbie@m.example",
                    "Where can I buy the standing desk? I want to order two.",
                ),
            ]
        )
        Activity, Lead = self.env["mail.activity"], self.env["crm.lead"]
        activities_before = Activity.search_count([])
        created = self.account._ingest_page(page)
        by_key = {i.external_id: i for i in created}
        self.assertEqual(by_key["c1"].intent, "complaint")
        self.assertEqual(by_key["q1"].intent, "question")
        self.assertEqual(by_key["p1"].intent, "purchase_intent")
        complaint = Activity.search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("summary", "ilike", "Complaint"),
            ]
        )
        self.assertEqual(len(complaint), 1)
        self.assertEqual(complaint.user_id, self.seller)
        self.assertIn("arrived broken", str(complaint.note))
        self.assertEqual(Activity.search_count([]) - activities_before, 2)
        lead = by_key["p1"].lead_id
        self.assertTrue(lead)
        self.assertEqual(lead.social_interaction_id, by_key["p1"])
        self.assertEqual(lead.source_id.name, "Mastodon")
        self.assertEqual(lead.medium_id.name, "Social")
        self.assertEqual(lead.contact_name, "Newbie")
        self.assertTrue(all(created.mapped("routed")))
        # a second sync of the same page, and a second routing pass, change nothing
        self.account._ingest_page(page)
        self.env["social.crm.routing.rule"]._route(created)
        self.assertEqual(Activity.search_count([]) - activities_before, 2)
        self.assertEqual(Lead.search_count([("social_interaction_id", "in", created.ids)]), 1)

    def test_two_complaints_on_one_record_in_one_page(self):
        page = self._page(
            [
                ("x1", "anon1@m.example", "Broken on arrival, terrible service."),
                ("x2", "anon2@m.example", "Awful, it broke after a day. Terrible."),
            ]
        )
        created = self.account._ingest_page(page)
        self.assertEqual(set(created.mapped("intent")), {"complaint"})
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "social.crm.account"), ("res_id", "=", self.account.id)]
        )
        self.assertEqual(len(activities), 2)

    def test_no_lead_for_existing_customers(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (
                        0,
                        0,
                        {
                            "product_id": self.env["product.product"]
                            .create({"name": "Desk", "list_price": 100})
                            .id
                        },
                    )
                ],
            }
        )
        order.action_confirm()
        created = self.account._ingest_page(
            self._page(
                [
                    (
                        "p2",
                        "carla@m.example",
                        "Where can I buy the standing desk? I want to order two.",
                    ),
                ]
            )
        )
        self.assertEqual(created.intent, "purchase_intent")
        self.assertFalse(created.lead_id)
        self.assertTrue(created.routed)

    def test_a_to_do_nobody_owns_goes_to_a_manager_not_to_odoobot(self):
        """No salesperson, no user on the rule, an account set up by the system:
        the to-do goes to a Social CRM manager somebody reads for."""
        loner = self.env["res.partner"].create({"name": "Lena Loner"})
        self.env["social.crm.identity"].create(
            {
                "network": "mastodon",
                "external_id": "lena@m.example",
                "handle": "lena@m.example",
                "partner_id": loner.id,
                "link_state": "confirmed",
                "match_reason": "manual",
            }
        )
        self.assertTrue(self.account.create_uid._is_superuser())
        self.account._ingest_page(
            self._page([("q9", "lena@m.example", "How do I export my invoices from the app?")])
        )
        activity = loner.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertFalse(activity.user_id._is_superuser())
        self.assertTrue(activity.user_id.has_group("social_crm_module.group_social_crm_manager"))
        # with a sales team on the rule, its leader answers
        leader = self.seller
        team = self.env["crm.team"].create({"name": "Social care", "user_id": leader.id})
        self.env.ref("social_crm_module.routing_rule_question").team_id = team
        self.account._ingest_page(
            self._page([("q10", "lena@m.example", "Where do I find my order history in the app?")])
        )
        self.assertEqual((loner.activity_ids - activity).user_id, leader)

    def test_one_open_todo_per_author_and_intent(self):
        """Three complaints in a page and one more in the next sync make one to-do
        while it is open; once it is done, the next complaint makes a new one."""
        complaints = [
            "My order arrived broken and nobody answers. Terrible.",
            "Still no answer about my broken order. Awful service.",
            "Day three, broken desk, no reply. Terrible support.",
        ]
        created = self.account._ingest_page(
            self._page([(f"k{n}", "carla@m.example", t) for n, t in enumerate(complaints)])
        )
        self.assertEqual(set(created.mapped("intent")), {"complaint"})
        self.assertTrue(all(created.mapped("routed")))
        todos = self.customer.activity_ids.filtered("social_crm_interaction_id")
        self.assertEqual(len(todos), 1)
        self.assertIn("arrived broken", str(todos.note))
        later = self.account._ingest_page(
            self._page([("k9", "carla@m.example", "Broken again, terrible, nobody replies.")])
        )
        self.assertEqual(later.intent, "complaint")
        self.assertEqual(self.customer.activity_ids.filtered("social_crm_interaction_id"), todos)
        todos.action_done()
        again = self.account._ingest_page(
            self._page([("k10", "carla@m.example", "And now the replacement is broken. Awful.")])
        )
        self.assertEqual(again.intent, "complaint")
        fresh = self.customer.activity_ids.filtered("social_crm_interaction_id")
        self.assertEqual(len(fresh), 1)
        self.assertEqual(fresh.social_crm_interaction_id, again)
        # another intent of the same person is a to-do of its own
        question = self.account._ingest_page(
            self._page([("k11", "carla@m.example", "What time do you open on Sunday?")])
        )
        self.assertEqual(question.intent, "question")
        self.assertEqual(len(self.customer.activity_ids.filtered("social_crm_interaction_id")), 2)

    def test_one_open_lead_per_prospect(self):
        """A prospect's buying posts join their open lead; a lost lead does not take
        the next one."""
        buying = [
            "Where can I buy the standing desk? I want to order two.",
            "How much is the standing desk in oak? I'd like to order it.",
        ]
        created = self.account._ingest_page(
            self._page([(f"b{n}", "buyer@m.example", t) for n, t in enumerate(buying)])
        )
        self.assertEqual(set(created.mapped("intent")), {"purchase_intent"})
        lead = created.lead_id
        self.assertEqual(len(lead), 1)
        self.assertEqual(created.mapped("lead_id"), lead)
        self.assertEqual(lead.social_interaction_id, created.sorted("date")[:1] or created[:1])
        later = self.account._ingest_page(
            self._page([("b9", "buyer@m.example", "Can I order the desk with a 160 cm top?")])
        )
        self.assertEqual(later.intent, "purchase_intent")
        self.assertEqual(later.lead_id, lead)
        Lead = self.env["crm.lead"]
        self.assertEqual(Lead.search_count([("contact_name", "=", "Buyer")]), 1)
        lead.action_set_lost()
        fresh = self.account._ingest_page(
            self._page(
                [("b10", "buyer@m.example", "What does the oak desk cost? Want to buy one.")]
            )
        )
        self.assertEqual(fresh.intent, "purchase_intent")
        self.assertTrue(fresh.lead_id)
        self.assertNotEqual(fresh.lead_id, lead)
