from odoo import fields, models

INTENTS = [
    ("praise", "Praise"),
    ("complaint", "Complaint"),
    ("question", "Question"),
    ("purchase_intent", "Purchase intent"),
    ("other", "Other"),
]
SENTIMENTS = [("positive", "Positive"), ("neutral", "Neutral"), ("negative", "Negative")]


class SocialCrmInteraction(models.Model):
    """What an interaction means: intent and sentiment, classified or corrected."""

    _inherit = "social.crm.interaction"

    intent = fields.Selection(INTENTS, index=True)
    polarity = fields.Float(
        digits=(3, 3), help="From -1 (negative) to 1 (positive), as classified or corrected."
    )
    sentiment = fields.Selection(SENTIMENTS, index=True)
    classification_corrected = fields.Boolean(
        "Corrected",
        readonly=True,
        copy=False,
        help="A user corrected the intent or sentiment; a re-sync never overwrites it.",
    )
    # what the classifier said, kept when a person corrects it: the review's
    # confusion matrix (classifier's answer against the person's)
    model_intent = fields.Selection(INTENTS, "Classifier's intent", readonly=True, copy=False)
    model_sentiment = fields.Selection(
        SENTIMENTS, "Classifier's sentiment", readonly=True, copy=False
    )
