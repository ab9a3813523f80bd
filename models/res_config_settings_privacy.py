from odoo import api, fields, models

from .res_partner_privacy import RETENTION_KEY


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    social_retention_days = fields.Integer(
        "Keep social interactions (days)",
        config_parameter=RETENTION_KEY,
        help="Interactions older than this, and their chatter notes, are purged every "
        "night. 0 keeps them.",
    )

    social_classifier_review = fields.Char(
        "Classifier review", compute="_compute_social_classifier_review"
    )

    # a dependency, so that the new settings record of the Settings page computes it
    @api.depends("company_id")
    def _compute_social_classifier_review(self):
        review = self.env["social.crm.interaction"]._classifier_review()
        classified = review["classified"]
        if not classified:
            text = self.env._("Nothing classified yet.")
        else:
            text = self.env._(
                "Of %(classified)s classified interactions, people corrected the intent "
                "of %(intents)s and the sentiment of %(sentiments)s: %(intent_kept).1f%% "
                "of the intents and %(sentiment_kept).1f%% of the sentiments stand as "
                "classified.",
                intents=review["intent_corrected"],
                sentiments=review["sentiment_corrected"],
                classified=classified,
                intent_kept=100.0 * (1 - review["intent_corrected"] / classified),
                sentiment_kept=100.0 * (1 - review["sentiment_corrected"] / classified),
            )
        for settings in self:
            settings.social_classifier_review = text

    def action_social_classifier_review(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "social_crm_module.social_crm_classifier_review_action"
        )
