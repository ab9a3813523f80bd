import logging
from collections import Counter
from contextlib import ExitStack
from datetime import timedelta, timezone

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, split_every

from ..social_crm_module.errors import (
    AuthError,
    ConnectorError,
    NotFound,
    NotSupported,
    PayloadError,
    RateLimited,
)
from .social_crm_account import network_selection
from .social_crm_campaign import render

_logger = logging.getLogger(__name__)

DELIVERY_STATES = [
    ("none", "Not on this channel"),
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("uncertain", "Uncertain"),
    ("skipped", "Skipped"),
]
#: a delivery still "sending" after this long was cut off mid-call
SENDING_TIMEOUT = timedelta(minutes=15)
#: errors that trying again will not fix
PERMANENT_ERRORS = (NotFound, NotSupported, PayloadError)


class SocialCrmCampaignRecipient(models.Model):
    """One coupon issued by a campaign to one person, and how it was delivered.

    ``slot`` numbers a person's coupons in a campaign (1 .. limit per person); the
    two UNIQUE constraints make a second coupon for the same slot impossible, even
    when two syncs race.
    """

    _name = "social.crm.campaign.recipient"
    _description = "Social Campaign Coupon"
    _order = "id desc"
    _rec_name = "partner_id"

    campaign_id = fields.Many2one(
        "social.crm.campaign", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        # a contact with a coupon is archived, not deleted (see res.partner)
        "res.partner",
        required=True,
        index=True,
        ondelete="restrict",
        readonly=True,
    )
    identity_id = fields.Many2one(
        "social.crm.identity", index="btree_not_null", ondelete="set null", readonly=True
    )
    network = fields.Selection(network_selection, readonly=True)
    interaction_id = fields.Many2one(
        "social.crm.interaction",
        "Triggered by",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )
    slot = fields.Integer(default=1, required=True, readonly=True)
    coupon_id = fields.Many2one("loyalty.card", ondelete="restrict", readonly=True)
    code = fields.Char(related="coupon_id.code")
    advocate_tier = fields.Selection(related="partner_id.advocate_tier")
    social_state = fields.Selection(
        DELIVERY_STATES, "Social delivery", default="none", required=True, index=True
    )
    social_error = fields.Char(readonly=True)
    social_url = fields.Char("Posted at", readonly=True)
    social_attempts = fields.Integer(readonly=True)
    social_next_try = fields.Datetime("Next try", readonly=True)
    email_state = fields.Selection(
        DELIVERY_STATES, "Email delivery", default="none", required=True, index=True
    )
    email_error = fields.Char(readonly=True)
    mail_id = fields.Many2one("mail.mail", "Email", ondelete="set null", readonly=True)
    note_message_id = fields.Many2one(
        "mail.message", "Chatter note", ondelete="set null", readonly=True, copy=False
    )
    delivered = fields.Boolean(compute="_compute_delivered", store=True)
    delivered_at = fields.Datetime(readonly=True)
    redemption_ids = fields.One2many("social.crm.campaign.redemption", "recipient_id")
    redeemed = fields.Boolean(compute="_compute_redeemed", store=True)

    _sql_constraints = [
        (
            "partner_slot_unique",
            "UNIQUE(campaign_id, partner_id, slot)",
            "This person already has their coupons from this campaign.",
        ),
        (
            "identity_slot_unique",
            "UNIQUE(campaign_id, identity_id, slot)",
            "This identity already has its coupons from this campaign.",
        ),
        ("slot_positive", "CHECK(slot >= 1)", "The coupon slot starts at 1."),
        ("coupon_unique", "UNIQUE(coupon_id)", "A coupon belongs to one campaign recipient."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        self._check_changed_by_the_addon()
        return super().create(vals_list)

    def write(self, vals):
        """A coupon line is the record of who got which coupon and how it reached
        them: it changes only through the add-on's own methods (issuing, delivery,
        Retry, Mark as sent), never by hand, not even a manager's."""
        self._check_changed_by_the_addon()
        return super().write(vals)

    def _check_changed_by_the_addon(self):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "A campaign coupon changes only through the campaign: issue, retry "
                    "or mark it as sent with its buttons."
                )
            )

    @api.depends("social_state", "email_state")
    def _compute_delivered(self):
        for recipient in self:
            recipient.delivered = "sent" in (recipient.social_state, recipient.email_state)

    @api.depends("redemption_ids")
    def _compute_redeemed(self):
        for recipient in self:
            recipient.redeemed = bool(recipient.redemption_ids)

    # -- issuing ---------------------------------------------------------------------

    @api.model
    def _issue(self, campaign, targets):
        """Issue coupons to ``targets`` [(partner, identity or None, interaction or None)].

        Skips opted-out people, people at the campaign's limit and people no chosen
        channel can reach; issues the rest the way Odoo does (``loyalty.card`` bound
        to the partner, a ``loyalty.history`` row each, a note in their chatter).
        Returns the new recipients, queued for delivery.
        """
        campaign.ensure_one()
        self.check_access("create")
        targets = [t for t in targets if t[0] and not t[0].social_opt_out]
        if not targets:
            return self.browse()
        per_partner, per_identity = self._issued_counts(campaign, targets)
        blacklisted = self._blacklisted(campaign, targets)
        networks = campaign._networks()
        values = []
        for partner, given_identity, interaction in targets:
            used = max(
                per_partner[partner.id], per_identity[given_identity.id] if given_identity else 0
            )
            if used >= campaign.limit_per_person:
                continue
            identity = given_identity or (
                self._identity_for(partner, networks) if campaign.send_social else None
            )
            social_state = "queued" if campaign.send_social and identity else "none"
            email_state, email_error = "none", False
            if campaign.send_email:
                if not partner.email_normalized:
                    email_state, email_error = "skipped", self.env._("No email address")
                elif partner.email_normalized in blacklisted:
                    email_state, email_error = "skipped", self.env._("Email blacklisted")
                else:
                    email_state = "queued"
            if "queued" not in (social_state, email_state):
                continue  # nothing could reach them: no coupon lost in a drawer
            per_partner[partner.id] += 1
            if identity:
                per_identity[identity.id] += 1
            values.append(
                {
                    "campaign_id": campaign.id,
                    "partner_id": partner.id,
                    "identity_id": identity.id if identity else False,
                    "network": identity.network if identity else False,
                    "interaction_id": interaction.id if interaction else False,
                    "slot": used + 1,
                    "social_state": social_state,
                    "email_state": email_state,
                    "email_error": email_error,
                }
            )
        if not values:
            return self.browse()
        cards = self._issue_cards(campaign, [v["partner_id"] for v in values])
        # the note that carries the code is linked to its coupon line: erase finds it
        note_ids = self.env["res.partner"]._social_crm_log_notes(
            [
                (
                    vals["partner_id"],
                    Markup("{} <b>{}</b> ({})").format(
                        self.env._("Coupon issued by the social campaign"),
                        card.code,
                        campaign.name,
                    ),
                )
                for vals, card in zip(values, cards, strict=True)
            ]
        )
        for vals, card, note_id in zip(values, cards, note_ids, strict=True):
            vals["coupon_id"] = card.id
            vals["note_message_id"] = note_id
        return self._insert(campaign, values)

    def _insert(self, campaign, values):
        """Create the recipient rows in ONE INSERT (the hot path of a 10,000-coupon
        send); the UNIQUE constraints still refuse a second coupon for a slot."""
        columns = [
            "partner_id",
            "identity_id",
            "network",
            "interaction_id",
            "slot",
            "coupon_id",
            "social_state",
            "email_state",
            "email_error",
            "note_message_id",
        ]
        int_array, text_array = "%s::int[]", "%s::varchar[]"
        types = [int_array, int_array, text_array, int_array, int_array, int_array]
        types += [text_array] * 3 + [int_array]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_crm_campaign_recipient (
                    campaign_id, company_id, %(columns)s, social_attempts, delivered,
                    redeemed, create_uid, create_date, write_uid, write_date)
                SELECT %(campaign)s, %(company)s, %(columns)s, 0, false, false,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(arrays)s) AS r(%(columns)s)
             RETURNING id, coupon_id
                """,
                columns=SQL(", ").join(SQL.identifier(c) for c in columns),
                arrays=SQL(", ").join(
                    SQL(cast, [vals[c] or None for vals in values])
                    for c, cast in zip(columns, types, strict=True)
                ),
                campaign=campaign.id,
                company=campaign.company_id.id,
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        by_coupon = {coupon_id: rid for rid, coupon_id in self.env.cr.fetchall()}
        campaign.invalidate_recordset(["recipient_ids"])
        return self.browse([by_coupon[vals["coupon_id"]] for vals in values])

    def _issued_counts(self, campaign, targets):
        """Coupons each partner and identity already has from ``campaign``."""
        self.flush_model(["campaign_id", "partner_id", "identity_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT partner_id, identity_id FROM social_crm_campaign_recipient
                 WHERE campaign_id = %(campaign)s
                   AND (partner_id = ANY(%(partners)s) OR identity_id = ANY(%(identities)s))
                """,
                campaign=campaign.id,
                partners=list({p.id for p, _i, _x in targets}),
                identities=list({i.id for _p, i, _x in targets if i}),
            )
        )
        per_partner, per_identity = Counter(), Counter()
        for partner_id, identity_id in self.env.cr.fetchall():
            per_partner[partner_id] += 1
            if identity_id:
                per_identity[identity_id] += 1
        return per_partner, per_identity

    def _blacklisted(self, campaign, targets):
        if not campaign.send_email:
            return set()
        emails = list({p.email_normalized for p, _i, _x in targets if p.email_normalized})
        blacklist = self.env["mail.blacklist"].sudo()
        return set(blacklist.search([("email", "in", emails)]).mapped("email"))

    def _identity_for(self, partner, networks):
        """The partner's confirmed identity on one of the campaign's networks."""
        for identity in partner.social_identity_ids:
            if identity.network in networks and identity.link_state == "confirmed":
                return identity
        return self.env["social.crm.identity"]

    def _issue_cards(self, campaign, partner_ids):
        expiration = (
            fields.Date.context_today(self) + timedelta(days=campaign.validity_days)
            if campaign.validity_days
            else False
        )
        # loyalty_no_mail: the campaign delivers the code itself, on its channels
        cards = (
            self.env["loyalty.card"]
            .sudo()
            .with_context(loyalty_no_mail=True, tracking_disable=True)
            .create(
                [
                    {
                        "program_id": campaign.program_id.id,
                        "partner_id": partner_id,
                        "points": campaign.points_granted,
                        "expiration_date": expiration,
                    }
                    for partner_id in partner_ids
                ]
            )
        )
        # the card's history line, as the generate wizard writes it: one INSERT for
        # the batch (a plain model: no stored compute, no default but these columns)
        History = self.env["loyalty.history"]
        History.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO loyalty_history (card_id, description, issued, used,
                                             create_uid, create_date, write_uid, write_date)
                SELECT card_id, %(description)s, %(issued)s, 0, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(cards)s::int[]) AS card_id
                """,
                description=self.env._("Social campaign: %s", campaign.name),
                issued=campaign.points_granted,
                uid=self.env.uid,
                now=fields.Datetime.now(),
                cards=cards.ids,
            )
        )
        cards.invalidate_recordset(["history_ids"])
        return cards

    # -- delivering ------------------------------------------------------------------

    def _message(self, network):
        self.ensure_one()
        partner = self.partner_id
        return render(
            self.campaign_id.with_context(lang=partner.lang).message_template,
            code=self.coupon_id.code,
            name=partner.name,
            link=self.campaign_id._link(network),
        )

    @api.model
    def _deliver_due(self, limit=500):
        """Deliver what is queued, and retry failures whose time has come.

        Inline: one batch of ``limit``; returns True when more may be waiting.
        Under queue_job: every due batch becomes a job at once; returns False.
        """
        Dispatch = self.env["social.crm.dispatch"]
        if not Dispatch._as_jobs():
            due = self._due(limit=limit)
            due._deliver()
            return len(due) >= limit
        for ids in split_every(limit, self._due().ids):
            batch = self.browse(ids)
            Dispatch._run_unit(
                batch, "_deliver", self.env._("Social campaign deliveries (%s)", len(batch))
            )
        return False

    @api.model
    def _due(self, limit=None):
        now = fields.Datetime.now()
        self._flag_cut_off_sends(now)
        return self.search(
            [
                "|",
                "|",
                ("social_state", "=", "queued"),
                ("email_state", "=", "queued"),
                "&",
                ("social_state", "=", "failed"),
                ("social_next_try", "<=", now),
            ],
            limit=limit,
            order="id",
        )

    def _flag_cut_off_sends(self, now):
        """A send still 'sending' long after it began was cut off mid-call: whether
        the network got it is unknown, so it is never resent blindly."""
        stale = self.search(
            [("social_state", "=", "sending"), ("write_date", "<", now - SENDING_TIMEOUT)]
        )
        stale.write(
            {
                "social_state": "uncertain",
                "social_error": self.env._(
                    "Cut off while sending: check the network, then retry or mark as sent."
                ),
            }
        )

    def _deliver(self):
        """Send each queued coupon on its channels. Every outcome is stored per
        recipient; a failure stays queued for a retry and the coupon stays issued."""
        now = fields.Datetime.now()
        social = self.filtered(
            lambda r: (
                r.social_state == "queued"
                or (r.social_state == "failed" and r.social_next_try and r.social_next_try <= now)
            )
        )
        for account, recipients in social._group_by_account().items():
            recipients._deliver_social(account)
        self.filtered(lambda r: r.email_state == "queued")._deliver_email()

    def _group_by_account(self):
        groups = {}
        for recipient in self:
            account = recipient._delivery_account()
            if not account:
                recipient.write(
                    {
                        "social_state": "failed",
                        "social_next_try": False,
                        "social_error": self.env._(
                            "No connected brand account on %s", recipient.network or "-"
                        ),
                    }
                )
                continue
            groups.setdefault(account, self.browse())
            groups[account] |= recipient
        return groups

    def _delivery_account(self):
        self.ensure_one()
        interaction = self.interaction_id
        if interaction and interaction.reply_ref and self.campaign_id.social_mode == "reply":
            return interaction.account_id
        accounts = self.campaign_id._accounts().filtered(
            lambda a: a.network == self.network and a.state == "connected"
        )
        if interaction and interaction.account_id in accounts:
            return interaction.account_id
        return accounts[:1]

    def _deliver_social(self, account):
        commit = self.env["social.crm.account"]._sync_commit
        # the connector is built for the first delivery that needs it, and its
        # refreshed credentials are stored on the way out (account._connector())
        with ExitStack() as stack:
            connector = None
            for recipient in self:
                if not recipient._claim_social():
                    continue  # another worker has it, or already moved it on
                if recipient.partner_id.social_opt_out:  # opted out since the issue
                    recipient.write(
                        {
                            "social_state": "skipped",
                            "social_next_try": False,
                            "social_error": self.env._("Opted out of social messages"),
                        }
                    )
                    continue
                # "sending" is committed before the call: a crash mid-call leaves a
                # trace, so the code is never posted twice
                recipient.write(
                    {"social_state": "sending", "social_attempts": recipient.social_attempts + 1}
                )
                commit()
                try:
                    if connector is None:
                        connector = stack.enter_context(account._connector())
                    posted = recipient._post(connector)
                except (ConnectorError, ValueError) as error:
                    recipient._social_failed(error)
                else:
                    recipient.write(
                        {
                            "social_state": "sent",
                            "social_error": False,
                            "social_next_try": False,
                            "social_url": posted.url or False,
                            "delivered_at": fields.Datetime.now(),
                        }
                    )
                commit()

    def _claim_social(self):
        """Take this social delivery for the current transaction: False when
        another worker holds it or its state moved on since it was read (cron
        runs, jobs on several nodes and a person's Retry may overlap)."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                """
                SELECT social_state, social_next_try FROM social_crm_campaign_recipient
                 WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED
                """,
                self.id,
            )
        )
        row = self.env.cr.fetchone()
        self.invalidate_recordset(["social_state", "social_next_try"])
        if not row:
            return False
        state, next_try = row
        return state == "queued" or (
            state == "failed" and bool(next_try) and next_try <= fields.Datetime.now()
        )

    def _post(self, connector):
        """Reply where the person spoke, or DM them; returns the engine Interaction."""
        self.ensure_one()
        text = connector.check_text(self._message(self.network))
        interaction = self.interaction_id
        if interaction.reply_ref and self.campaign_id.social_mode == "reply":
            return connector.reply(interaction.reply_ref, text)
        return connector.send_dm(self.identity_id.external_id, text)

    def _social_failed(self, error):
        now = fields.Datetime.now()
        if isinstance(error, RateLimited):
            retry_at = error.retry_at and error.retry_at.astimezone(timezone.utc).replace(
                tzinfo=None
            )
            next_try = retry_at if retry_at and retry_at > now else now + timedelta(minutes=15)
        elif isinstance(error, (*PERMANENT_ERRORS, ValueError)):
            next_try = False  # a human decides: retry by hand once fixed
        elif isinstance(error, AuthError):
            next_try = now + timedelta(hours=1)
        else:
            next_try = now + min(timedelta(minutes=5) * 2**self.social_attempts, timedelta(hours=6))
        self.write(
            {
                "social_state": "failed",
                "social_next_try": next_try,
                "social_error": f"{type(error).__name__}: {error}"[:500],
            }
        )
        _logger.info("Social campaign delivery %s failed: %s", self.id, self.social_error)

    def _deliver_email(self):
        """Queue one email per coupon in Odoo's outgoing mail (its cron sends them)."""
        recipients = self._claim_email()
        if not recipients:
            return
        # one batch create, as mass mailing queues its mails; then one UPDATE links
        # each line to its mail (not a write per line)
        mails = self.env["mail.mail"].sudo().create([r._email_values() for r in recipients])
        now = fields.Datetime.now()
        recipients.filtered(lambda r: not r.delivered_at).delivered_at = now
        recipients.write({"email_state": "sent", "email_error": False})
        recipients.flush_recordset()
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_campaign_recipient r SET mail_id = v.mail_id
                  FROM unnest(%s::int[], %s::int[]) AS v(id, mail_id)
                 WHERE r.id = v.id
                """,
                recipients.ids,
                mails.ids,
            )
        )
        recipients.invalidate_recordset(["mail_id"])

    def _claim_email(self):
        """The recipients whose email is still queued and held by no other worker,
        locked until the transaction ends: nobody gets the email twice."""
        if not self:
            return self
        self.flush_recordset(["email_state"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id FROM social_crm_campaign_recipient
                 WHERE id = ANY(%s) AND email_state = 'queued'
                   FOR NO KEY UPDATE SKIP LOCKED
                """,
                self.ids,
            )
        )
        claimed = {row[0] for row in self.env.cr.fetchall()}
        self.invalidate_recordset(["email_state"])  # what the database says now
        return self.filtered(lambda r: r.id in claimed)

    def _email_values(self):
        self.ensure_one()
        campaign = self.campaign_id
        company = campaign.company_id
        text = self._message(False)
        return {
            "subject": self.env._("Your coupon from %s", company.name),
            "body_html": Markup("<p>{}</p>").format(text),
            "email_from": company.email_formatted or self.env.user.email_formatted,
            "recipient_ids": [(4, self.partner_id.id)],
            "auto_delete": False,
            "model": "loyalty.card",
            "res_id": self.coupon_id.id,
        }

    # -- buttons ---------------------------------------------------------------------

    def action_retry(self):
        """Queue a failed or uncertain delivery again (after checking the network)."""
        self.check_access("write")
        for recipient in self.sudo():
            values = {}
            if recipient.social_state in ("failed", "uncertain"):
                values.update(social_state="queued", social_next_try=False)
            if recipient.email_state == "failed":
                values.update(email_state="queued")
            if values:
                recipient.write(values)
        self._trigger_delivery()

    @api.model
    def _trigger_delivery(self):
        self.env.ref("social_crm_module.ir_cron_social_crm_campaign_deliver")._trigger()

    def action_mark_sent(self):
        """The person did get it (checked on the network): never send it again."""
        self.check_access("write")
        self.sudo().filtered(lambda r: r.social_state in ("failed", "uncertain")).write(
            {"social_state": "sent", "social_next_try": False}
        )

    @api.model
    def _cron_deliver(self, limit=500):
        if self._deliver_due(limit=limit):  # a big send: carry on right away
            self._trigger_delivery()
