import logging
import re
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

TEXT_KINDS = ("mention", "reply", "quote", "comment", "dm", "post")


class SocialCrmCampaign(models.Model):
    """Always-on triggers: the sync issues coupons to people who act."""

    _inherit = "social.crm.campaign"

    min_followers = fields.Integer(
        "Minimum followers",
        help="A trigger rewards only accounts with at least this many followers; an "
        "account whose network does not tell counts as 0. 0 means no minimum.",
    )
    max_new_contacts_per_hour = fields.Integer(
        "New contacts per hour",
        default=50,
        help="The most contacts this campaign creates in an hour; newcomers beyond it "
        "are refused (and listed). 0 means no cap.",
    )
    refusal_ids = fields.One2many("social.crm.campaign.refusal", "campaign_id")
    refused_count = fields.Integer("Refused", compute="_compute_refused_count")

    _sql_constraints = [
        ("min_followers_positive", "CHECK(min_followers >= 0)", "Followers cannot be negative."),
        (
            "max_new_contacts_positive",
            "CHECK(max_new_contacts_per_hour >= 0)",
            "The cap of new contacts cannot be negative.",
        ),
    ]

    def _compute_refused_count(self):
        counts = dict(
            self.env["social.crm.campaign.refusal"]._read_group(
                [("campaign_id", "in", self.ids)], ["campaign_id"], ["__count"]
            )
        )
        for campaign in self:
            campaign.refused_count = counts.get(campaign, 0)

    def action_view_refusals(self):
        self.ensure_one()
        return self._open(
            "social.crm.campaign.refusal",
            self.env._("Refused coupons"),
            [("campaign_id", "=", self.id)],
            "list",
        )

    def _trigger_matches(self, interaction):
        self.ensure_one()
        kind = self.trigger_kind
        if kind == "follow":
            return interaction.kind == "follow"
        if kind == "repost":
            return (
                interaction.kind == "repost"
                and bool(interaction.subject_external_id)
                and interaction.subject_external_id == (self.trigger_post_ref or "").strip()
            )
        if kind == "mention" and interaction.kind in TEXT_KINDS and interaction.text:
            return any(
                re.search(rf"(?<!\w){re.escape(word)}(?!\w)", interaction.text, re.IGNORECASE)
                for word in self._trigger_keywords()
            )
        return False

    @api.model
    def _trigger(self, interactions):
        """Issue coupons for ``interactions`` just synced; return the new recipients.

        The campaign issues, not whoever runs the sync (a manager started it)."""
        if not self.env.su:
            return self.sudo()._trigger(interactions.sudo())
        Recipient = self.env["social.crm.campaign.recipient"]
        recipients = Recipient
        if not interactions:
            return recipients
        campaigns = self.search(
            [
                ("state", "=", "running"),
                ("audience", "=", "trigger"),
                ("company_id", "in", interactions.company_id.ids),
            ]
        )
        for campaign in campaigns:
            accounts = campaign._accounts()
            matched = interactions.filtered(
                lambda i, c=campaign, a=accounts: i.account_id in a and c._trigger_matches(i)
            )
            if not matched:
                continue
            matched = campaign._refuse_abuse(matched)
            if campaign.create_contacts:
                campaign._create_contacts(matched.identity_id)
            targets = [
                (interaction.partner_id, interaction.identity_id, interaction)
                for interaction in matched
                if interaction.partner_id
            ]
            recipients |= campaign._issue_safely(targets)
        return recipients

    def _refuse_abuse(self, interactions):
        """The interactions that may earn a coupon; the others are refused, and the
        refusals listed on the campaign.

        - an account with fewer followers than the campaign's minimum (where the
          network does not tell, the count is 0): sockpuppets have none;
        - a newcomer (an author who is nobody yet) beyond the campaign's cap of new
          contacts per hour: a burst of fresh accounts waits for no one.
        The engine's profiles carry no account age, so followers are the signal.
        """
        self.ensure_one()
        refused = []
        kept = interactions.browse()
        if self.min_followers:
            for interaction in interactions:
                if interaction.identity_id.followers_count < self.min_followers:
                    refused.append((interaction, "followers"))
                else:
                    kept |= interaction
        else:
            kept = interactions
        if self.create_contacts and self.max_new_contacts_per_hour:
            since = fields.Datetime.now() - timedelta(hours=1)
            room = self.max_new_contacts_per_hour - self.env["res.partner"].with_context(
                active_test=False
            ).search_count([("social_crm_campaign_id", "=", self.id), ("create_date", ">=", since)])
            allowed = kept.browse()
            newcomers = set()
            for interaction in kept:
                identity = interaction.identity_id
                is_new = identity.link_state == "unlinked" and not identity.partner_id
                if is_new and identity.id not in newcomers:
                    if len(newcomers) >= max(room, 0):
                        refused.append((interaction, "rate"))
                        continue
                    newcomers.add(identity.id)
                allowed |= interaction
            kept = allowed
        if refused:
            self.env["social.crm.campaign.refusal"].create(
                [
                    {
                        "campaign_id": self.id,
                        "identity_id": interaction.identity_id.id,
                        "interaction_id": interaction.id,
                        "reason": reason,
                    }
                    for interaction, reason in refused
                ]
            )
        return kept

    def _issue_safely(self, targets):
        """Issue in a savepoint; when a concurrent sync already took a slot (the
        UNIQUE constraint fires), issue target by target so the others still get
        their coupon and the page is not lost."""
        Recipient = self.env["social.crm.campaign.recipient"]
        try:
            with self.env.cr.savepoint():
                return Recipient._issue(self, targets)
        except IntegrityError:
            self.env.invalidate_all()
        recipients = Recipient
        for target in targets:
            try:
                with self.env.cr.savepoint():
                    recipients |= Recipient._issue(self, [target])
            except IntegrityError:
                self.env.invalidate_all()
                _logger.info(
                    "Campaign %s: %s already got a coupon from a concurrent sync",
                    self.id,
                    target[0].id,
                )
        return recipients

    def _create_contacts(self, identities):
        """A contact for each author who is nobody yet, flagged as created by this
        campaign. Suggested identities wait for a person to confirm them instead."""
        self.ensure_one()
        newcomers = identities.filtered(lambda i: i.link_state == "unlinked" and not i.partner_id)
        if not newcomers:
            return
        partners = (
            self.env["res.partner"]
            .sudo()
            .create(
                [
                    {
                        "name": identity.display_name_network or identity.handle,
                        "website": identity.website or False,
                        "social_crm_campaign_id": self.id,
                        # the campaign's company: a contact made from one company's
                        # followers is not another company's
                        "company_id": self.company_id.id,
                    }
                    for identity in newcomers
                ]
            )
        )
        for identity, partner in zip(newcomers, partners, strict=True):
            identity.write(
                {"partner_id": partner.id, "link_state": "confirmed", "match_reason": "campaign"}
            )


class SocialCrmCampaignRefusal(models.Model):
    """A coupon a trigger refused to issue, and why: the campaign's abuse limits
    at work, visible on the campaign."""

    _name = "social.crm.campaign.refusal"
    _description = "Social Campaign Refusal"
    _order = "id desc"
    _rec_name = "identity_id"

    campaign_id = fields.Many2one(
        "social.crm.campaign", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    # erased with the person: an identity erased or purged takes its refusals along
    identity_id = fields.Many2one(
        "social.crm.identity", required=True, index=True, ondelete="cascade", readonly=True
    )
    interaction_id = fields.Many2one(
        "social.crm.interaction", index="btree_not_null", ondelete="cascade", readonly=True
    )
    reason = fields.Selection(
        [
            ("followers", "Too few followers"),
            ("rate", "Too many new contacts this hour"),
        ],
        required=True,
        readonly=True,
    )
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)


class SocialCrmIdentity(models.Model):
    _inherit = "social.crm.identity"

    match_reason = fields.Selection(
        selection_add=[("campaign", "Created by a campaign from this identity")]
    )


class ResPartner(models.Model):
    _inherit = "res.partner"

    social_crm_campaign_id = fields.Many2one(
        "social.crm.campaign",
        "Created by campaign",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        copy=False,
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_campaign_coupon(self):
        """A contact holding a campaign coupon is archived, not deleted: deleting it
        would drop the coupon line and leave the personal coupon usable by anyone."""
        held = (
            self.env["social.crm.campaign.recipient"]
            .sudo()
            .search([("partner_id", "in", self.ids)], limit=1)
        )
        if held:
            raise UserError(
                self.env._(
                    "%s holds a coupon from a social campaign: archive the contact "
                    "instead of deleting it.",
                    held.partner_id.display_name,
                )
            )


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    def _social_crm_after_ingest(self, interactions):
        interactions = super()._social_crm_after_ingest(interactions)
        self.env["social.crm.campaign"]._trigger(interactions)
        return interactions

    def _sync(self, max_pages=None):
        result = super()._sync(max_pages=max_pages)
        # after the pages are committed: a rolled-back page never sent a code
        self.env["social.crm.campaign.recipient"].sudo()._deliver_due()
        return result
