import logging
import re

from psycopg2 import IntegrityError

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

TEXT_KINDS = ("mention", "reply", "quote", "comment", "dm", "post")


class SocialCrmCampaign(models.Model):
    """Always-on triggers: the sync issues coupons to people who act."""

    _inherit = "social.crm.campaign"

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
        """Issue coupons for ``interactions`` just synced; return the new recipients."""
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
            if campaign.create_contacts:
                campaign._create_contacts(matched.identity_id)
            targets = [
                (interaction.partner_id, interaction.identity_id, interaction)
                for interaction in matched
                if interaction.partner_id
            ]
            recipients |= campaign._issue_safely(targets)
        return recipients

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
                        "company_id": False,
                    }
                    for identity in newcomers
                ]
            )
        )
        for identity, partner in zip(newcomers, partners, strict=True):
            identity.write(
                {"partner_id": partner.id, "link_state": "confirmed", "match_reason": "campaign"}
            )


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


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    def _social_crm_after_ingest(self, interactions):
        interactions = super()._social_crm_after_ingest(interactions)
        self.env["social.crm.campaign"]._trigger(interactions)
        return interactions

    def _sync(self, max_pages=None):
        result = super()._sync(max_pages=max_pages)
        # after the pages are committed: a rolled-back page never sent a code
        self.env["social.crm.campaign.recipient"]._deliver_due()
        return result
