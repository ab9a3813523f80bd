"""Comment-to-DM: a comment containing a keyword on a chosen post earns the
commenter one coupon, sent as one private message answering that comment (Meta's
Private Replies, within 7 days of the comment).

Self-contained on purpose (the campaign's own files are not touched): a trigger
value, a social channel value, and the two recipient methods that choose the
account and send. Any network whose connector has ``private_reply`` can serve it.
Once per person per campaign (the trigger requires one coupon per person);
opted-out people get nothing (the issue skips them); a refusal from the network
keeps the coupon issued and the delivery visible as failed, as for the other
channels.
"""

import re
from datetime import timezone

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..social_crm_module.errors import NotSupported

COMMENT_KINDS = ("comment", "reply")


class SocialCrmCampaign(models.Model):
    _inherit = "social.crm.campaign"

    trigger_kind = fields.Selection(
        selection_add=[("comment", "A comment with a keyword on a chosen post")],
        ondelete={"comment": "set null"},
    )
    social_mode = fields.Selection(
        selection_add=[("private_reply", "Private reply to the comment (Facebook, Instagram)")],
        ondelete={"private_reply": "set default"},
    )

    @api.constrains("audience", "trigger_kind", "trigger_keywords", "trigger_post_ref")
    def _check_comment_trigger(self):
        for campaign in self:
            if campaign.audience != "trigger" or campaign.trigger_kind != "comment":
                continue
            if not (campaign.trigger_post_ref or "").strip():
                raise ValidationError(self.env._("Give the id of the post whose comments count."))
            if not campaign._trigger_keywords():
                raise ValidationError(self.env._("Give the keywords a comment must contain."))

    @api.constrains("trigger_kind", "limit_per_person", "social_mode")
    def _check_comment_trigger_once(self):
        for campaign in self:
            if campaign.trigger_kind == "comment" and campaign.limit_per_person != 1:
                raise ValidationError(
                    self.env._("A comment trigger gives one coupon per person: set 1 per person.")
                )

    def _trigger_matches(self, interaction):
        self.ensure_one()
        if self.trigger_kind != "comment":
            return super()._trigger_matches(interaction)
        return (
            interaction.kind in COMMENT_KINDS
            and bool(interaction.text)
            and interaction.subject_external_id == (self.trigger_post_ref or "").strip()
            and any(
                re.search(rf"(?<!\w){re.escape(word)}(?!\w)", interaction.text, re.IGNORECASE)
                for word in self._trigger_keywords()
            )
        )


class SocialCrmCampaignRecipient(models.Model):
    _inherit = "social.crm.campaign.recipient"

    def _delivery_account(self):
        self.ensure_one()
        if self.campaign_id.social_mode == "private_reply" and self.interaction_id:
            return self.interaction_id.account_id  # only where the comment was made
        return super()._delivery_account()

    def _post(self, connector):
        self.ensure_one()
        if self.campaign_id.social_mode != "private_reply":
            return super()._post(connector)
        interaction = self.interaction_id
        if not interaction.reply_ref:
            raise NotSupported(self.env._("No comment to answer privately: nothing was sent."))
        text = connector.check_text(self._message(self.network))
        return connector.private_reply(
            interaction.reply_ref, text, created_at=interaction.date.replace(tzinfo=timezone.utc)
        )
