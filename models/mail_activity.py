from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    social_crm_interaction_id = fields.Many2one(
        "social.crm.interaction",
        "Social interaction",
        readonly=True,
        index="btree_not_null",
        # erased or purged with the interaction it quotes
        ondelete="cascade",
    )

    def _action_done(self, feedback=False, attachment_ids=None):
        """The message a done to-do posts repeats its summary and note (what the
        person said): link it to the interaction the to-do came from."""
        social = self.filtered("social_crm_interaction_id")
        if not social:
            return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        # Odoo posts one message per activity, in this order
        order = [
            activity
            for data in self._classify_by_model().values()
            for activity in data["activities"]
        ]
        interactions = [activity.social_crm_interaction_id.sudo() for activity in order]
        messages, next_activities = super()._action_done(
            feedback=feedback, attachment_ids=attachment_ids
        )
        if len(messages) == len(interactions):
            for interaction, message in zip(interactions, messages, strict=True):
                interaction._social_crm_link_messages(message)
        return messages, next_activities
