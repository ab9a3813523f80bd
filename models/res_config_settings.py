import csv
import io
import json

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..social_crm_module import scoring
from ..social_crm_module.classifier.remote import RemoteClassifier
from .res_partner import PARAMS_KEY, RETENTION_KEY
from .social_crm_interaction import (
    REMOTE_CAP,
    REMOTE_DEADLINE,
    REMOTE_KEY,
    REMOTE_MODEL,
    REMOTE_STATE,
    REMOTE_URL,
)

#: settings field -> ScoringParams attribute
SCALARS = {
    "advocate_engagement_weight": "engagement_weight",
    "advocate_reach_weight": "reach_weight",
    "advocate_sentiment_weight": "sentiment_weight",
    "advocate_recency_weight": "recency_weight",
    "advocate_referral_weight": "referral_weight",
    "advocate_redemption_weight": "redemption_weight",
    "advocate_half_life_days": "half_life_days",
    "advocate_saturation": "saturation",
}
KIND_FIELDS = {f"advocate_weight_{kind}": kind for kind in scoring.DEFAULT_KIND_WEIGHTS}
TIER_FIELDS = (
    "advocate_tier_bronze",
    "advocate_tier_silver",
    "advocate_tier_gold",
    "advocate_tier_ambassador",
)


class ResConfigSettings(models.TransientModel):
    """Social CRM settings: advocate scoring parameters (validated by the engine
    before they are saved), retention, and how the classifier fares."""

    _inherit = "res.config.settings"

    advocate_engagement_weight = fields.Float("Engagement weight")
    advocate_reach_weight = fields.Float("Reach weight")
    advocate_sentiment_weight = fields.Float("Sentiment weight")
    advocate_recency_weight = fields.Float("Recency weight")
    advocate_referral_weight = fields.Float("Referral weight")
    advocate_redemption_weight = fields.Float("Redemption weight")
    advocate_half_life_days = fields.Float("Half-life (days)")
    advocate_saturation = fields.Float("Saturation")
    advocate_weight_repost = fields.Float("Repost")
    advocate_weight_quote = fields.Float("Quote")
    advocate_weight_mention = fields.Float("Mention")
    advocate_weight_reply = fields.Float("Reply")
    advocate_weight_comment = fields.Float("Comment")
    advocate_weight_post = fields.Float("Post")
    advocate_weight_dm = fields.Float("Direct message")
    advocate_weight_like = fields.Float("Like")
    advocate_weight_follow = fields.Float("Follow")
    advocate_tier_bronze = fields.Float("Bronze from")
    advocate_tier_silver = fields.Float("Silver from")
    advocate_tier_gold = fields.Float("Gold from")
    advocate_tier_ambassador = fields.Float("Ambassador from")
    social_retention_days = fields.Integer(
        "Keep social interactions (days)",
        config_parameter=RETENTION_KEY,
        help="Interactions older than this, and their chatter notes, are purged every "
        "night. 0 keeps them.",
    )

    social_classifier_remote_url = fields.Char(
        "Endpoint URL", config_parameter=REMOTE_URL, groups="base.group_system"
    )
    social_classifier_remote_key = fields.Char(
        "API key", config_parameter=REMOTE_KEY, groups="base.group_system"
    )
    social_classifier_remote_model = fields.Char(
        "Model", config_parameter=REMOTE_MODEL, groups="base.group_system"
    )
    social_classifier_remote_monthly_cap = fields.Integer(
        "Calls a month", config_parameter=REMOTE_CAP, default=1000, groups="base.group_system"
    )
    social_classifier_remote_deadline = fields.Float(
        "Deadline (seconds)",
        config_parameter=REMOTE_DEADLINE,
        default=20.0,
        groups="base.group_system",
    )
    social_classifier_remote_usage = fields.Char(
        "Remote classifier usage",
        compute="_compute_social_classifier_review",
        groups="base.group_system",
    )
    social_classifier_review = fields.Char(
        "Classifier review", compute="_compute_social_classifier_review"
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        params = self.env["res.partner"]._advocate_params()
        res.update({name: getattr(params, attr) for name, attr in SCALARS.items()})
        res.update({name: params.kind_weights.get(kind, 0.0) for name, kind in KIND_FIELDS.items()})
        res.update(dict(zip(TIER_FIELDS, params.tier_thresholds, strict=True)))
        return res

    def _advocate_params_from_form(self):
        self.ensure_one()
        values = {attr: self[name] for name, attr in SCALARS.items()}
        values["kind_weights"] = {kind: self[name] for name, kind in KIND_FIELDS.items()}
        values["tier_thresholds"] = [self[name] for name in TIER_FIELDS]
        try:
            return scoring.ScoringParams.from_mapping(values)
        except ValueError as exc:
            raise ValidationError(
                self.env._("Advocate scoring: %(reason)s.", reason=str(exc))
            ) from exc

    def set_values(self):
        res = super().set_values()
        params = self._advocate_params_from_form()
        self.env["ir.config_parameter"].sudo().set_param(
            PARAMS_KEY, json.dumps(params.to_mapping(), sort_keys=True)
        )
        return res

    def action_advocate_recompute_all(self):
        self.ensure_one()
        self.execute()
        changed = self.env["res.partner"]._advocate_recompute()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "Advocate scores recomputed; %(count)s contact(s) changed tier.",
                    count=changed,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

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
        state = json.loads(self.env["ir.config_parameter"].sudo().get_param(REMOTE_STATE) or "{}")
        usage = self.env._(
            "This month (%(month)s): %(calls)s calls, %(remote)s posts classified remotely, "
            "%(fallback)s posts fell back to the local model.%(error)s",
            month=state.get("month") or "-",
            calls=state.get("calls", 0),
            remote=state.get("remote_posts", 0),
            fallback=state.get("fallback_posts", 0),
            error=(" " + self.env._("Last error: %s", state["last_error"]))
            if state.get("last_error")
            else "",
        )
        for settings in self:
            settings.social_classifier_review = text
            settings.sudo().social_classifier_remote_usage = usage

    @api.constrains("social_classifier_remote_url")
    def _check_social_classifier_remote(self):
        for settings in self.sudo():
            if settings.social_classifier_remote_url:
                try:
                    RemoteClassifier(
                        settings.social_classifier_remote_url,
                        "",
                        settings.social_classifier_remote_model or "",
                    )
                except ValueError as error:
                    raise ValidationError(str(error)) from error

    def action_social_classifier_export(self):
        """The corrections people made, as training data for
        ``bench/train_classifier.py --extra`` (columns text,intent,polarity_label,lang)."""
        rows = self.env["social.crm.interaction"].search_read(
            [("classification_corrected", "=", True), ("text", "!=", False)],
            ["text", "intent", "sentiment"],
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["text", "intent", "polarity_label", "lang"])
        for row in rows:
            writer.writerow(
                [row["text"], row["intent"] or "other", row["sentiment"] or "neutral", ""]
            )
        attachment = self.env["ir.attachment"].create(
            {
                "name": "social_crm_corrections.csv",
                "raw": buffer.getvalue().encode(),
                "mimetype": "text/csv",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_social_classifier_review(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "social_crm_module.social_crm_classifier_review_action"
        )
