from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from ..social_crm_module.interaction import Page
from .common import SocialCrmCase, make_author, make_interaction

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def author(n, **values):
    """Person number ``n``: ``user{n}@m.example``, ten followers a number."""
    values = {"display_name": f"User {n}", "followers_count": 10 * n, **values}
    return make_author(f"user{n}@m.example", **values)


def item(n, who, kind="mention", text="hello brand", **values):
    """Interaction number ``n``, ``n`` minutes before NOW (n1 is the newest)."""
    values.setdefault("url", f"https://m.example/@x/{n}")
    return make_interaction(f"n{n}", who, kind, n, now=NOW, text=text, **values)


@tagged("post_install", "-at_install")
class TestIngest(SocialCrmCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account()
        cls.alice = cls.env["res.partner"].create(
            {
                "name": "Alice Martin",
                "email": "alice@example.com",
                "website": "https://alice.example",
            }
        )
        cls.alice_identity = cls.make_identity(cls.alice, "user1@m.example")
        cls.subtype = cls.env.ref("social_crm_module.mt_social_interaction")

    def _notes(self, partner):
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", partner.id),
                ("subtype_id", "=", self.subtype.id),
            ]
        )

    def test_same_page_twice_gives_same_records_and_chatter(self):
        page = Page(items=(item(1, author(1)), item(2, author(1)), item(3, author(2))), cursor="c1")
        first = self.account._ingest_page(page)
        self.assertEqual(len(first), 3)
        self.assertEqual(len(self._notes(self.alice)), 2)
        again = self.account._ingest_page(page)
        self.assertFalse(again)
        self.assertEqual(
            self.env["social.crm.interaction"].search_count([("account_id", "=", self.account.id)]),
            3,
        )
        self.assertEqual(len(self._notes(self.alice)), 2)
        self.assertEqual(self.account.cursor, "c1")
        alice_rows = first.filtered(lambda i: i.partner_id == self.alice)
        self.assertEqual(alice_rows.message_id, self._notes(self.alice))
        # each note is dated when the person posted, not when we synced
        for row in alice_rows:
            self.assertEqual(row.message_id.date, row.date)

    def test_chatter_lists_notes_in_the_order_people_posted(self):
        """The chatter lists messages by id: a page comes newest first, its notes
        are written oldest first, so the timeline and its date separators agree."""
        page = Page(items=tuple(item(n, author(1)) for n in range(1, 6)))  # n1 is the newest
        self.account._ingest_page(page)
        notes = self._notes(self.alice).sorted("id")
        self.assertEqual(len(notes), 5)
        self.assertEqual(notes.mapped("date"), sorted(notes.mapped("date")))
        # the demo contacts, loaded as syncs would bring their history, read the same way
        demo = self.env.ref("social_crm_module.demo_account_x", False)
        if demo:
            priya = demo.interaction_ids.partner_id.filtered(lambda p: p.name == "Priya Raman")
            notes = self._notes(priya).sorted("id")
            self.assertGreater(len(notes), 5)
            self.assertEqual(notes.mapped("date"), sorted(notes.mapped("date")))

    def test_interrupted_sync_resumes_without_gaps_or_repeats(self):
        page1 = Page(
            items=(item(1, author(1)), item(2, author(3))), cursor="after-1", has_more=True
        )
        page2 = Page(items=(item(2, author(3)), item(4, author(1))), cursor="after-2")
        self.account._ingest_page(page1)
        # the run dies before page 2 is committed: a savepoint rolled back stands for it
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.account._ingest_page(page2)
            raise RuntimeError("killed")
        self.assertEqual(self.account.cursor, "after-1")
        # the next run fetches from the stored cursor and gets page 2 again
        self.account._ingest_page(page2)
        stored = self.env["social.crm.interaction"].search([("account_id", "=", self.account.id)])
        self.assertEqual(sorted(stored.mapped("external_id")), ["n1", "n2", "n4"])
        self.assertEqual(self.account.cursor, "after-2")
        self.assertEqual(len(self._notes(self.alice)), 2)

    def test_untrusted_text_is_escaped_in_the_chatter(self):
        payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
        page = Page(items=(item(1, author(1), text=payload, url="javascript:alert(3)"),))
        interaction = self.account._ingest_page(page)
        self.assertFalse(interaction.url)
        body = str(self._notes(self.alice).body)
        self.assertNotIn("<script", body)
        self.assertNotIn("<img", body)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", body)
        self.assertNotIn("javascript:", body)
        self.assertEqual(interaction.text, payload)

    def test_query_count_does_not_grow_with_page_size(self):
        def run(size, offset):
            items = tuple(item(offset + n, author(offset + n)) for n in range(size))
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.account._ingest_page(Page(items=items, cursor=f"c{offset}"))
            return self.env.cr.sql_log_count - before

        small = run(10, 1000)
        large = run(100, 2000)
        self.assertLessEqual(large, small + 2, f"10 items: {small} queries, 100 items: {large}")

    def test_query_count_is_fixed_when_new_people_are_matched_and_logged(self):
        """New authors matched by email, linked and logged: still no query per item."""

        def run(size, offset):
            partners = self.env["res.partner"].create(
                [
                    {"name": f"Fan {offset + n}", "email": f"fan{offset + n}@example.com"}
                    for n in range(size)
                ]
            )
            items = tuple(
                item(offset + n, author(offset + n, email=f"fan{offset + n}@example.com"))
                for n in range(size)
            )
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            created = self.account._ingest_page(Page(items=items, cursor=f"c{offset}"))
            self.env.flush_all()
            count = self.env.cr.sql_log_count - before
            self.assertEqual(created.partner_id, partners)
            self.assertEqual(len(created.message_id), size)
            return count

        small = run(10, 3000)
        large = run(100, 4000)
        self.assertLessEqual(large, small + 2, f"10 items: {small} queries, 100 items: {large}")

    def test_ambiguous_name_links_nobody(self):
        self.env["res.partner"].create([{"name": "Erin Wolfe"}, {"name": "Erin Wolfe"}])
        who = author(11, display_name="Erin Wolfe")
        self.account._ingest_page(Page(items=(item(11, who),)))
        identity = self.env["social.crm.identity"].search([("external_id", "=", who.external_id)])
        self.assertFalse(identity.partner_id)
        self.assertEqual(identity.link_state, "unlinked")

    def test_unlinked_identity_gets_its_history_when_matched(self):
        """An identity seen before without a match keeps its interactions' partner in sync."""
        who = author(12, email="gina@example.com", display_name="Gina")
        self.account._ingest_page(Page(items=(item(12, who),)))
        first = self.env["social.crm.interaction"].search([("external_id", "=", "n12")])
        self.assertFalse(first.partner_id)
        gina = self.env["res.partner"].create({"name": "Gina", "email": "gina@example.com"})
        self.account._ingest_page(Page(items=(item(13, who),)))
        self.assertEqual(first.identity_id.partner_id, gina)
        self.assertEqual(first.partner_id, gina)

    def test_matching_rules(self):
        bob = self.env["res.partner"].create(
            {"name": "Bob Stone", "website": "https://bob.example"}
        )
        carol = self.env["res.partner"].create({"name": "Carol Reed"})
        dave = self.env["res.partner"].create({"name": "Dave Quinn"})
        verified = author(5, verified_links=("https://bob.example/about",))
        same_name = author(6, display_name="Carol Reed")
        email = author(7, email="alice@example.com", display_name="Someone")
        rejected = author(8, display_name="Dave Quinn")
        identity_rejected = self.env["social.crm.identity"].create(
            {
                "network": "mastodon",
                "external_id": rejected.external_id,
                "handle": rejected.handle,
                "rejected_partner_ids": [(4, dave.id)],
            }
        )
        self.account._ingest_page(
            Page(items=(item(5, verified), item(6, same_name), item(7, email), item(8, rejected)))
        )
        Identity = self.env["social.crm.identity"]
        bob_identity = Identity.search([("external_id", "=", verified.external_id)])
        self.assertEqual((bob_identity.partner_id, bob_identity.link_state), (bob, "confirmed"))
        self.assertEqual(bob_identity.match_reason, "verified_link")
        carol_identity = Identity.search([("external_id", "=", same_name.external_id)])
        self.assertEqual(
            (carol_identity.partner_id, carol_identity.link_state), (carol, "suggested")
        )
        # a suggestion is not logged on the contact's chatter until confirmed
        self.assertFalse(self._notes(carol))
        email_identity = Identity.search([("external_id", "=", email.external_id)])
        self.assertEqual(email_identity.partner_id, self.alice)
        self.assertEqual(email_identity.match_reason, "email")
        self.assertFalse(identity_rejected.partner_id)
        self.assertEqual(identity_rejected.link_state, "unlinked")

    def test_confirmed_link_is_never_overwritten(self):
        impostor = author(1, email="alice@example.com", display_name="Bob Stone")
        self.env["res.partner"].create({"name": "Bob Stone"})
        self.account._ingest_page(Page(items=(item(9, impostor),)))
        self.assertEqual(self.alice_identity.partner_id, self.alice)
        self.assertEqual(self.alice_identity.link_state, "confirmed")

    def test_do_not_track_stores_nothing_new(self):
        self.alice.social_do_not_track = True
        created = self.account._ingest_page(Page(items=(item(1, author(1)), item(2, author(2)))))
        self.assertEqual(created.mapped("external_id"), ["n2"])
        self.assertFalse(self._notes(self.alice))

    def test_no_follower_is_emailed(self):
        self.alice.message_subscribe(partner_ids=self.env.user.partner_id.ids)
        mails_before = self.env["mail.mail"].search_count([])
        notifications_before = self.env["mail.notification"].search_count([])
        self.account._ingest_page(Page(items=(item(1, author(1)),)))
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        self.assertEqual(self.env["mail.notification"].search_count([]), notifications_before)
        self.assertEqual(
            self.alice.social_last_interaction_at, (NOW - timedelta(minutes=1)).replace(tzinfo=None)
        )
