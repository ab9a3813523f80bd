from collections import Counter
from datetime import datetime, timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.social_crm_campaign import render
from ..social_crm_module.connectors.base import Connector
from ..social_crm_module.errors import AuthError, NotFound, RateLimited
from ..social_crm_module.interaction import Network, Page
from .common import NOW, SocialCrmCase, coupon_program, make_author, make_interaction, make_page


class FakeMastodon(Connector):
    """The real base class (its text checks), with the network replaced by a script."""

    network = Network.MASTODON
    max_text_length = 500

    def __init__(self, pages=None, errors=None):
        super().__init__(base_url="https://brand.example")
        self.pages = pages or {}
        self.errors = list(errors or [])
        self.replies = []
        self.dms = []

    def fetch(self, cursor=None):
        return self.pages.get(cursor, Page(cursor=cursor))

    def _maybe_fail(self):
        if self.errors:
            raise self.errors.pop(0)

    def reply(self, to, text):
        self._maybe_fail()
        self.replies.append((to, text))
        return self._posted(f"r{len(self.replies)}", text)

    def send_dm(self, author_id, text):
        self._maybe_fail()
        self.dms.append((author_id, text))
        return self._posted(f"d{len(self.dms)}", text)

    def _posted(self, external_id, text):
        brand = make_author("brand@brand.example", self.network, external_id="brand")
        return make_interaction(
            external_id,
            brand,
            "reply",
            text=text,
            url=f"https://brand.example/@brand/{external_id}",
        )


class CampaignCase(SocialCrmCase):
    """A coupons program, a Mastodon account and three contacts with identities."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # campaigns of the demo data listen to every account: not to this test's
        cls.env["social.crm.campaign"].search([("state", "=", "running")]).action_done()
        cls.program = coupon_program(cls.env)
        cls.account = cls.make_account(
            "Brand on Mastodon", base_url="https://brand.example", state="connected"
        )
        Partner = cls.env["res.partner"]
        cls.alice = Partner.create({"name": "Alice Advocate", "email": "alice@example.com"})
        cls.bob = Partner.create({"name": "Bob Buyer", "email": "bob@example.com"})
        cls.olga = Partner.create(
            {"name": "Olga Optout", "email": "olga@example.com", "social_opt_out": True}
        )
        for partner, handle in (
            (cls.alice, "alice@m.example"),
            (cls.bob, "bob@m.example"),
            (cls.olga, "olga@m.example"),
        ):
            cls.make_identity(partner, handle)
        cls.product = cls.env["product.product"].create(
            {"name": "Sneakers", "list_price": 200.0, "taxes_id": [(5, 0, 0)]}
        )

    def _campaign(self, **values):
        vals = {
            "name": "Summer advocates",
            "program_id": self.program.id,
            "account_ids": [(6, 0, self.account.ids)],
            "social_mode": "dm",
        }
        vals.update(values)
        campaign = self.env["social.crm.campaign"].create(vals)
        campaign.action_start()
        return campaign

    def _sync(self, connector, items):
        connector.pages = {None: make_page(items, cursor="c1")}
        self.account.cursor = False
        with self.seam(connector):
            self.account._sync()


@tagged("post_install", "-at_install")
class TestCampaign(CampaignCase):
    # -- the campaign itself ---------------------------------------------------------

    def test_program_must_be_coupons(self):
        promo = self.env["loyalty.program"].create({"name": "Promo", "program_type": "promotion"})
        with self.assertRaisesRegex(ValidationError, "needs a Coupons program"):
            self._campaign(program_id=promo.id)

    def test_message_template_is_checked(self):
        with self.assertRaisesRegex(ValidationError, "Unknown placeholder {price}"):
            self._campaign(message_template="Hi {name}, {code} for {price}")
        with self.assertRaisesRegex(ValidationError, "must contain {code}"):
            self._campaign(message_template="Hi {name}")
        with self.assertRaisesRegex(ValidationError, "set a landing page"):
            self._campaign(message_template="{code} {link}")
        with self.assertRaisesRegex(ValidationError, "misplaced brace"):
            self._campaign(message_template="{code} {")

    def test_utm_campaign_created_and_tracked_link(self):
        campaign = self._campaign(
            message_template="{name}: {code} {link}", link_url="https://shop.example/summer"
        )
        self.assertEqual(campaign.utm_campaign_id.name, "Summer advocates")
        link = campaign._link("mastodon")
        tracker = campaign.link_tracker_ids
        self.assertEqual(len(tracker), 1)
        self.assertEqual(link, tracker.short_url)
        self.assertEqual(tracker.campaign_id, campaign.utm_campaign_id)
        self.assertEqual(tracker.source_id.name, "Mastodon")
        self.assertEqual(campaign._link("mastodon"), link, "one tracker per network, reused")

    # -- segment ---------------------------------------------------------------------

    def test_segment_send_issues_binds_and_delivers(self):
        self.env["social.crm.advocate"].create(
            [
                {"partner_id": self.alice.id, "score": 80, "tier": "gold", "rank": 1},
                {"partner_id": self.bob.id, "score": 20, "tier": "bronze", "rank": 2},
                {"partner_id": self.olga.id, "score": 90, "tier": "ambassador", "rank": 0},
            ]
        )
        campaign = self._campaign(segment_min_tier="silver", validity_days=10)
        # Olga is Ambassador but opted out: never in the audience
        ours = self.alice | self.bob | self.olga
        preview = campaign.action_preview()
        audience = self.env["res.partner"].search(preview["domain"])
        self.assertEqual(audience & ours, self.alice)
        self.assertEqual(campaign.segment_count, len(audience))
        connector = FakeMastodon()
        with self.seam(connector):
            campaign.action_send()
            self.assertEqual(connector.dms, [], "the request only issues; the cron delivers")
            self.env["social.crm.campaign.recipient"]._cron_deliver()
        recipient = campaign.recipient_ids.filtered(lambda r: r.partner_id in ours)
        self.assertEqual(recipient.partner_id, self.alice)
        card = recipient.coupon_id
        self.assertEqual(card.partner_id, self.alice)
        self.assertEqual(card.program_id, self.program)
        self.assertEqual(card.expiration_date, datetime.now().date() + timedelta(days=10))
        self.assertEqual(card.history_ids.issued, 1.0)
        self.assertIn(campaign.name, card.history_ids.description)
        self.assertEqual(card.history_ids.company_id, card.company_id)
        self.assertIn(("alice@m.example", recipient._message("mastodon")), connector.dms)
        self.assertNotIn("olga@m.example", [to for to, _text in connector.dms])
        self.assertEqual(recipient.social_state, "sent")
        self.assertTrue(recipient.social_url.endswith("/d1"))
        self.assertIn(card.code, self.alice.message_ids[0].body)
        # a second send gives nothing more: the limit is one per person
        with self.seam(connector):
            campaign.action_send()
            self.env["social.crm.campaign.recipient"]._cron_deliver()
        self.assertEqual(len(campaign.recipient_ids), len(audience))
        self.assertEqual(len(connector.dms), len(audience))
        self.assertEqual(campaign.issued_count, len(audience))

    def test_email_channel_respects_blacklist(self):
        self.env["mail.blacklist"].create({"email": "bob@example.com"})
        campaign = self._campaign(send_social=False, send_email=True)
        self.assertEqual(
            self.env["res.partner"].search(campaign._segment_domain())
            & (self.alice | self.bob | self.olga),
            self.alice,
        )
        # issuing straight to all three: Olga opted out, Bob's email is blacklisted
        recipients = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(p, None, None) for p in (self.alice, self.bob, self.olga)]
        )
        self.assertEqual(recipients.partner_id, self.alice)
        recipients._deliver()
        self.assertEqual(recipients.email_state, "sent")
        self.assertIn(recipients.coupon_id.code, recipients.mail_id.body_html)
        self.assertEqual(recipients.mail_id.recipient_ids, self.alice)

    # -- always-on triggers ----------------------------------------------------------

    def test_follow_trigger_creates_contact_and_sends(self):
        campaign = self._campaign(audience="trigger", trigger_kind="follow")
        connector = FakeMastodon()
        newcomer = make_author("new@m.example", display_name="Nina Newcomer")
        self._sync(connector, [make_interaction("f1", newcomer, "follow")])
        recipient = campaign.recipient_ids
        partner = recipient.partner_id
        self.assertEqual(partner.name, "Nina Newcomer")
        self.assertEqual(partner.social_crm_campaign_id, campaign)
        self.assertEqual(partner.company_id, campaign.company_id, "not a shared contact")
        self.assertEqual(recipient.identity_id.match_reason, "campaign")
        self.assertEqual(recipient.interaction_id.partner_id, partner)
        # a follow has nothing to reply to: the coupon goes by DM
        self.assertEqual(connector.dms[0][0], "new@m.example")
        self.assertIn(recipient.coupon_id.code, connector.dms[0][1])
        self.assertEqual(recipient.social_state, "sent")

    def test_mention_trigger_replies_in_thread(self):
        campaign = self._campaign(
            audience="trigger",
            trigger_kind="mention",
            trigger_keywords="#SummerDeal, free shipping",
            social_mode="reply",
        )
        connector = FakeMastodon()
        alice, bob = make_author("alice@m.example"), make_author("bob@m.example")
        self._sync(
            connector,
            [
                make_interaction("m1", alice, text="Loving the #summerdeal!", reply_ref="m1"),
                # a longer hashtag is another hashtag
                make_interaction("m2", bob, minutes=1, text="my #summerdealz haul", reply_ref="m2"),
            ],
        )
        self.assertEqual(campaign.recipient_ids.partner_id, self.alice)
        self.assertEqual(connector.replies[0][0], "m1")
        self.assertEqual(connector.dms, [])

    def test_repost_trigger_only_for_the_chosen_post(self):
        campaign = self._campaign(audience="trigger", trigger_kind="repost", trigger_post_ref="p42")
        connector = FakeMastodon()
        self._sync(
            connector,
            [
                make_interaction("r1", make_author("alice@m.example"), "repost", subject_id="p42"),
                make_interaction(
                    "r2", make_author("bob@m.example"), "repost", subject_id="p41", minutes=1
                ),
            ],
        )
        self.assertEqual(campaign.recipient_ids.partner_id, self.alice)
        self.assertEqual(len(connector.dms), 1)

    def test_limit_per_person_under_a_double_sync(self):
        campaign = self._campaign(audience="trigger", trigger_kind="follow")
        connector = FakeMastodon()
        alice = make_author("alice@m.example")
        # the same page twice, then a re-follow (a new interaction id) from the same person
        self._sync(connector, [make_interaction("f1", alice, "follow")])
        self._sync(connector, [make_interaction("f1", alice, "follow")])
        self._sync(connector, [make_interaction("f2", alice, "follow")])
        self.assertEqual(len(campaign.recipient_ids), 1)
        self.assertEqual(len(connector.dms), 1)
        self.assertEqual(
            self.env["loyalty.card"].search_count([("program_id", "=", self.program.id)]), 1
        )

    def test_limit_is_a_sql_constraint(self):
        campaign = self._campaign()
        recipient = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(self.alice, None, None)]
        )
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["social.crm.campaign.recipient"].create(
                {"campaign_id": campaign.id, "partner_id": self.alice.id, "slot": recipient.slot}
            )

    @mute_logger("odoo.sql_db", "odoo.addons.social_crm_module.models.social_crm_campaign_trigger")
    def test_a_racing_sync_loses_nothing_and_duplicates_nothing(self):
        """Another sync issued Alice's coupon but its row was not visible yet when
        this one counted: the constraint fires, Bob still gets his coupon."""
        campaign = self._campaign(audience="trigger", trigger_kind="follow")
        Recipient = self.env["social.crm.campaign.recipient"]
        Recipient._issue(campaign, [(self.alice, None, None)])
        blind = patch.object(
            type(Recipient), "_issued_counts", lambda self, c, t: (Counter(), Counter())
        )
        with blind:
            self._sync(
                FakeMastodon(),
                [
                    make_interaction("f1", make_author("alice@m.example"), "follow"),
                    make_interaction("f2", make_author("bob@m.example"), "follow", minutes=1),
                ],
            )
        self.assertEqual(
            sorted(campaign.recipient_ids.partner_id.mapped("name")),
            [
                "Alice Advocate",
                "Bob Buyer",
            ],
        )
        self.assertEqual(len(self.account.interaction_ids), 2, "the page was kept")

    def test_opted_out_people_get_nothing(self):
        campaign = self._campaign(audience="trigger", trigger_kind="follow")
        connector = FakeMastodon()
        self._sync(connector, [make_interaction("f1", make_author("olga@m.example"), "follow")])
        self.assertFalse(campaign.recipient_ids)
        self.assertEqual(connector.dms, [])

    # -- delivery failures -----------------------------------------------------------

    @mute_logger("odoo.addons.social_crm_module.models.social_crm_campaign_recipient")
    def test_failed_delivery_is_queued_never_lost_never_twice(self):
        campaign = self._campaign(audience="trigger", trigger_kind="follow")
        later = NOW + timedelta(minutes=30)
        connector = FakeMastodon(errors=[RateLimited("slow down", retry_at=later)])
        self._sync(connector, [make_interaction("f1", make_author("alice@m.example"), "follow")])
        recipient = campaign.recipient_ids
        self.assertTrue(recipient.coupon_id, "the coupon stays issued")
        self.assertEqual(recipient.social_state, "failed")
        self.assertIn("RateLimited", recipient.social_error)
        self.assertEqual(recipient.social_next_try, later.replace(tzinfo=None))
        # not due yet: the cron does not send
        with self.seam(connector):
            self.env["social.crm.campaign.recipient"]._cron_deliver()
        self.assertEqual(connector.dms, [])
        recipient.social_next_try = NOW.replace(tzinfo=None) - timedelta(minutes=1)
        with self.seam(connector):
            self.env["social.crm.campaign.recipient"]._cron_deliver()
            self.env["social.crm.campaign.recipient"]._cron_deliver()
        self.assertEqual(len(connector.dms), 1, "sent once, after the retry")
        self.assertEqual(recipient.social_state, "sent")
        self.assertEqual(recipient.social_attempts, 2)

    @mute_logger("odoo.addons.social_crm_module.models.social_crm_campaign_recipient")
    def test_permanent_and_auth_failures_are_visible(self):
        campaign = self._campaign(send_email=True)
        for error, retry in ((AuthError("HTTP 401"), True), (NotFound("deleted"), False)):
            with self.subTest(error=type(error).__name__):
                campaign.recipient_ids.unlink()
                recipients = self.env["social.crm.campaign.recipient"]._issue(
                    campaign, [(self.alice, None, None)]
                )
                with self.seam(FakeMastodon(errors=[error])):
                    recipients._deliver()
                self.assertEqual(recipients.social_state, "failed")
                self.assertEqual(bool(recipients.social_next_try), retry)
                self.assertEqual(recipients.email_state, "sent", "the email still went")
                self.assertEqual(campaign.failed_count, 1)

    def test_a_delivery_another_worker_moved_on_is_not_sent_again(self):
        """This worker's cache says queued; the database says another worker (a job
        on another node, a second cron) already sent it."""
        campaign = self._campaign(send_email=True)
        recipient = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(self.alice, None, None)]
        )
        self.assertEqual((recipient.social_state, recipient.email_state), ("queued", "queued"))
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE social_crm_campaign_recipient SET social_state = 'sent', email_state = 'sent'"
            " WHERE id = %s",
            [recipient.id],
        )
        connector = FakeMastodon()
        mails = self.env["mail.mail"].search_count([])
        with self.seam(connector):
            recipient._deliver()  # still "queued" in this worker's cache
        self.assertEqual(connector.dms, [], "no second DM")
        self.assertEqual(self.env["mail.mail"].search_count([]), mails, "no second email")
        self.assertEqual((recipient.social_state, recipient.email_state), ("sent", "sent"))

    def test_cut_off_send_is_never_resent_blindly(self):
        campaign = self._campaign()
        recipient = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(self.alice, None, None)]
        )
        recipient.social_state = "sending"
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE social_crm_campaign_recipient SET write_date = now() - interval '1 hour'"
            " WHERE id = %s",
            [recipient.id],
        )
        recipient.invalidate_recordset()
        connector = FakeMastodon()
        with self.seam(connector):
            self.env["social.crm.campaign.recipient"]._cron_deliver()
        self.assertEqual(recipient.social_state, "uncertain")
        self.assertEqual(connector.dms, [])

    # -- redemption and attribution --------------------------------------------------

    def _order(self, partner):
        return self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": 1})],
            }
        )

    def _apply(self, order, code):
        status = order._try_apply_code(code)
        if "error" in status:
            raise ValidationError(status["error"])
        (coupon, rewards), *_ = status.items()
        result = order._apply_program_reward(rewards[:1], coupon)
        self.assertNotIn("error", result)

    def test_coupon_is_bound_to_its_partner(self):
        campaign = self._campaign()
        recipient = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(self.alice, None, None)]
        )
        order = self._order(self.bob)
        status = order._try_apply_code(recipient.coupon_id.code)
        self.assertIn("issued to another customer", status["error"])
        self.assertFalse(order.order_line.filtered("reward_id"))
        # applied for Alice, then the customer is changed to Bob: refused at confirm
        order = self._order(self.alice)
        self._apply(order, recipient.coupon_id.code)
        order.partner_id = self.bob
        with self.assertRaisesRegex(UserError, "issued to another customer"):
            order.action_confirm()

    def test_redemption_attributes_order_and_credits_advocate(self):
        campaign = self._campaign(audience="trigger", trigger_kind="follow")
        self._sync(
            FakeMastodon(), [make_interaction("f1", make_author("alice@m.example"), "follow")]
        )
        recipient = campaign.recipient_ids
        order = self._order(self.alice)
        self._apply(order, recipient.coupon_id.code)
        self.assertAlmostEqual(order.amount_untaxed, 180.0)
        order.action_confirm()
        self.assertEqual(order.campaign_id, campaign.utm_campaign_id)
        self.assertEqual(order.source_id.name, "Mastodon")
        self.assertEqual(order.medium_id.name, "Social")
        self.assertEqual(recipient.coupon_id.points, 0.0, "sale_loyalty consumed the coupon")
        redemption = campaign.redemption_ids
        self.assertEqual(redemption.order_id, order)
        self.assertFalse(redemption.is_referral)
        self.assertEqual(self.alice.advocate_redemption_count, 1)
        self.assertEqual(
            (campaign.redeemed_count, campaign.redemption_rate, campaign.revenue),
            (1, 100.0, 180.0),
        )
        # the redemption feeds the score
        self.env["res.partner"]._advocate_recompute()
        self.assertGreater(self.alice.advocate_redemptions, 0)
        order._action_cancel()
        self.assertFalse(campaign.redemption_ids)
        self.assertEqual(self.alice.advocate_redemption_count, 0)

    def test_referral_code_credits_the_advocate(self):
        campaign = self._campaign(coupon_kind="referral", points_granted=3)
        recipient = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(self.alice, None, None)]
        )
        order = self._order(self.bob)
        self._apply(order, recipient.coupon_id.code)
        order.action_confirm()
        redemption = campaign.redemption_ids
        self.assertTrue(redemption.is_referral)
        self.assertEqual(redemption.advocate_id, self.alice)
        self.assertEqual(redemption.buyer_id, self.bob)
        self.assertEqual(self.alice.advocate_referral_count, 0, "credited once paid")
        self._pay(order)
        self.assertEqual(self.alice.advocate_referral_count, 1)
        self.assertEqual(self.bob.advocate_redemption_count, 0)

    # -- reward templates (issue 11, finding 12) -------------------------------------

    def test_message_template_takes_placeholders_only(self):
        for template in (
            "{code:>999999999}",
            "{code!r}",
            "{name!s} {code}",
            "{code.__class__}",
            "{code[0]} {code}",
            "{name:{code}} {code}",
        ):
            with (
                self.subTest(template=template),
                self.assertRaisesRegex(ValidationError, "placeholder"),
            ):
                self._campaign(message_template=template)
        campaign = self._campaign(message_template="{{literal}} {name}: {code}")
        self.assertEqual(
            render(campaign.message_template, code="C0DE", name="Ann"), "{literal} Ann: C0DE"
        )

    def test_rendering_ignores_format_specs_even_when_stored(self):
        # a template stored before the check existed, or written in SQL
        self.assertEqual(render("{code:>999999999}!", code="C0DE"), "C0DE!")
        self.assertEqual(render("{code!r} {name.__class__}", code="C0DE", name="Ann"), "C0DE ")

    # -- abuse limits (issue 11, finding 10) -----------------------------------------

    def test_trigger_refuses_accounts_without_followers(self):
        campaign = self._campaign(audience="trigger", trigger_kind="follow", min_followers=10)
        connector = FakeMastodon()
        puppet = make_author("puppet@m.example")  # the network does not say: 0
        real = make_author("real@m.example", display_name="Real Person", followers_count=120)
        self._sync(
            connector,
            [
                make_interaction("f1", puppet, "follow"),
                make_interaction("f2", real, "follow", minutes=1),
            ],
        )
        self.assertEqual(campaign.recipient_ids.partner_id.mapped("name"), ["Real Person"])
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "puppet@m.example")]),
            "no contact for a refused account",
        )
        self.assertEqual(campaign.refused_count, 1)
        self.assertEqual(campaign.refusal_ids.reason, "followers")
        self.assertEqual(campaign.refusal_ids.identity_id.handle, "puppet@m.example")

    def test_trigger_caps_new_contacts_per_hour(self):
        campaign = self._campaign(
            audience="trigger", trigger_kind="follow", max_new_contacts_per_hour=2
        )
        connector = FakeMastodon()
        self._sync(
            connector,
            [
                make_interaction(f"f{n}", make_author(f"new{n}@m.example"), "follow", minutes=n)
                for n in range(5)
            ]
            # a known contact is not a new one: still rewarded
            + [make_interaction("fa", make_author("alice@m.example"), "follow", minutes=9)],
        )
        self.assertEqual(len(campaign.recipient_ids), 3)
        self.assertIn(self.alice, campaign.recipient_ids.partner_id)
        self.assertEqual(
            self.env["res.partner"].search_count([("social_crm_campaign_id", "=", campaign.id)]), 2
        )
        self.assertEqual(campaign.refused_count, 3)
        self.assertEqual(set(campaign.refusal_ids.mapped("reason")), {"rate"})

    def _pay(self, order):
        invoice = order._create_invoices()
        invoice.action_post()
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_referral_credit_needs_distinct_paying_customers_and_a_cap(self):
        campaign = self._campaign(coupon_kind="referral", points_granted=10)
        campaign.max_referrals_per_advocate = 2
        recipient = self.env["social.crm.campaign.recipient"]._issue(
            campaign, [(self.alice, None, None)]
        )
        code = recipient.coupon_id.code
        Partner = self.env["res.partner"]
        puppets = Partner.create([{"name": f"Puppet {n}"} for n in range(4)])

        def refer(buyer):
            order = self._order(buyer)
            self._apply(order, code)
            order.action_confirm()
            return order

        unpaid = refer(puppets[0])
        self.assertEqual(self.alice.advocate_referral_count, 0, "nobody paid yet")
        self._pay(unpaid)
        self.assertEqual(self.alice.advocate_referral_count, 1)
        self._pay(refer(puppets[0]))  # the same customer again
        self.assertEqual(self.alice.advocate_referral_count, 1, "once per customer")
        self._pay(refer(puppets[1]))
        self._pay(refer(puppets[2]))  # over the cap of 2
        self.assertEqual(self.alice.advocate_referral_count, 2)
        self.assertEqual(campaign.uncredited_count, 2)
        refused = self.env["social.crm.campaign.redemption"].search(
            campaign.action_view_uncredited()["domain"]
        )
        self.assertEqual(refused.buyer_id, puppets[0] | puppets[2])
