from datetime import datetime, timezone

from odoo.tests import tagged

from .common import SocialCrmCase, make_author, make_interaction, make_page


@tagged("post_install", "-at_install")
class TestIdentityReview(SocialCrmCase):
    """A same-name suggestion shows nothing on the contact until a person confirms it."""

    def test_suggestion_is_invisible_until_confirmed_then_history_follows(self):
        account = self.make_account(network="x", base_url="https://api.x.example")
        grace = self.env["res.partner"].create({"name": "Grace Hopper"})
        who = make_author("ghopper", "x", external_id="42", display_name="Grace Hopper")
        interactions = account._ingest_page(
            make_page(
                make_interaction(
                    str(n),
                    who,
                    created_at=datetime(2026, 11, n, tzinfo=timezone.utc),
                    text=f"tweet {n}",
                )
                for n in (1, 2)
            )
        )
        identity = interactions.identity_id
        self.assertEqual((identity.partner_id, identity.link_state), (grace, "suggested"))
        self.assertFalse(interactions.partner_id)
        self.assertEqual(grace.social_interaction_count, 0)
        self.assertFalse(interactions.message_id)

        identity.action_confirm()
        self.assertEqual(interactions.partner_id, grace)
        self.assertEqual(grace.social_interaction_count, 2)
        notes = interactions.message_id
        self.assertEqual(len(notes), 2)
        self.assertEqual(set(notes.mapped("res_id")), {grace.id})
        self.assertEqual(sorted(notes.mapped("date")), sorted(interactions.mapped("date")))
        # confirming again logs nothing twice
        identity.action_confirm()
        self.assertEqual(
            len(
                self.env["mail.message"].search(
                    [
                        ("model", "=", "res.partner"),
                        ("res_id", "=", grace.id),
                        (
                            "subtype_id",
                            "=",
                            self.env.ref("social_crm_module.mt_social_interaction").id,
                        ),
                    ]
                )
            ),
            2,
        )

    def test_rejecting_a_suggestion_leaves_the_contact_untouched(self):
        account = self.make_account(network="x", base_url="https://api.x.example")
        ada = self.env["res.partner"].create({"name": "Ada Lovelace"})
        who = make_author("ada", "x", external_id="43", display_name="Ada Lovelace")
        liked = make_interaction(
            "t1", who, "like", created_at=datetime(2026, 11, 3, tzinfo=timezone.utc)
        )
        interaction = account._ingest_page(make_page([liked]))
        interaction.identity_id.action_reject()
        self.assertFalse(interaction.partner_id)
        self.assertEqual(ada.social_interaction_count, 0)
        self.assertIn(ada, interaction.identity_id.rejected_partner_ids)


@tagged("post_install", "-at_install")
class TestConversationSuggestions(SocialCrmCase):
    """A person gives an email address or a phone number in a private message:
    their identity is suggested for that contact, never linked before staff confirm
    (Meta exposes no email; issue 13)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account()
        Partner = cls.env["res.partner"]
        cls.ann = Partner.create({"name": "Ann Person", "email": "Ann@Shop.example"})
        cls.bob = Partner.create({"name": "Bob Person", "phone": "+1 (555) 010-2030"})
        cls.other_company = cls.env["res.company"].create({"name": "Other Co"})
        Partner.create(
            {"name": "Not Here", "email": "far@away.example", "company_id": cls.other_company.id}
        )

    def _dm(self, external_id, handle, text):
        item = make_interaction(
            external_id, make_author(handle), "dm", text=text, reply_ref=external_id
        )
        (row,) = self.account._ingest_page(make_page([item]))
        return row

    def test_an_email_or_phone_given_in_a_dm_is_a_suggestion(self):
        ann = self._dm("d1", "xyz@m.example", "Where is my order? Write to ann@shop.example")
        self.assertEqual(ann.identity_id.partner_id, self.ann)
        self.assertEqual(
            (ann.identity_id.link_state, ann.identity_id.match_reason),
            ("suggested", "conversation"),
        )
        self.assertFalse(ann.partner_id, "nothing shows on the contact before staff confirm")
        bob = self._dm("d2", "bob@m.example", "call me: +1 555.010.2030 please")
        self.assertEqual(bob.identity_id.partner_id, self.bob)
        self.assertEqual(bob.identity_id.link_state, "suggested")
        # another company's contact is never suggested, nor an address nobody has
        far = self._dm("d3", "far@m.example", "far@away.example here, or nobody@nowhere.example")
        self.assertFalse(far.identity_id.partner_id)
        # staff confirm: the history then comes to the chatter
        ann.identity_id.action_confirm()
        self.assertEqual(ann.partner_id, self.ann)
        self.assertTrue(ann.message_id)
