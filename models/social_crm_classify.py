from odoo import api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..social_crm_module import sentiment

#: the polarity a corrected sentiment label stands for
CORRECTED_POLARITY = {"positive": 0.5, "neutral": 0.0, "negative": -0.5}
#: what a Social CRM user (not a manager) may change on an interaction
CORRECTABLE_FIELDS = {"intent", "sentiment"}
_REVIEWED = ("intent", "model_intent", "sentiment", "model_sentiment")


class SocialCrmAccount(models.Model):
    """New interactions are classified (intent, polarity) as they are ingested: in
    their create values, so the INSERT carries them."""

    _inherit = "social.crm.account"

    def _ingest_values(self, items, identities):
        values = super()._ingest_values(items, identities)
        texts = [vals for vals in values if vals.get("text")]
        results = sentiment.classify_many([vals["text"] for vals in texts])
        for vals, result in zip(texts, results, strict=True):
            vals.update(
                intent=result.intent,
                polarity=result.polarity,
                sentiment=result.label,
                model_intent=result.intent,
                model_sentiment=result.label,
            )
        return values


class SocialCrmInteraction(models.Model):
    _inherit = "social.crm.interaction"

    @api.model
    def _classify(self, interactions):
        """Classify in one batch and write in one UPDATE; corrections are never touched.

        Interactions without text (likes, reposts, follows) are left unclassified:
        their polarity is 0 for the score, which is what a like without words says.
        """
        todo = interactions.filtered(lambda i: i.text and not i.classification_corrected)
        if not todo:
            return
        results = sentiment.classify_many(todo.mapped("text"))
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_interaction i
                   SET intent = v.intent, polarity = v.polarity, sentiment = v.label,
                       model_intent = v.intent, model_sentiment = v.label
                  FROM unnest(%s::int[], %s::varchar[], %s::float8[], %s::varchar[])
                       AS v(id, intent, polarity, label)
                 WHERE i.id = v.id AND NOT COALESCE(i.classification_corrected, false)
                """,
                todo.ids,
                [r.intent for r in results],
                [r.polarity for r in results],
                [r.label for r in results],
            )
        )
        todo.invalidate_recordset(
            ["intent", "polarity", "sentiment", "model_intent", "model_sentiment"]
        )

    def write(self, vals):
        """A person's intent or sentiment is a correction: flag it, and let the
        polarity follow a corrected label so the advocate score does too.

        Social CRM users correct the meaning of what people said; everything else
        on an interaction is the network's and stays as synced (managers and the
        system may still write it)."""
        if (
            not self.env.su
            and set(vals) - CORRECTABLE_FIELDS
            and not self.env.user.has_group("social_crm_module.group_social_crm_manager")
        ):
            raise AccessError(
                self.env._(
                    "An interaction is kept as the network sent it: you may only correct "
                    "its intent and sentiment."
                )
            )
        if ("intent" in vals or "sentiment" in vals) and not self.env.context.get(
            "social_crm_classifying"
        ):
            vals = dict(vals, classification_corrected=True)
            if "sentiment" in vals and "polarity" not in vals:
                vals["polarity"] = CORRECTED_POLARITY.get(vals["sentiment"], 0.0)
        return super().write(vals)

    @api.model
    def _classifier_review(self):
        """How often people corrected the classifier, from the interactions it
        classified: {"classified", "intent_corrected", "sentiment_corrected"}."""
        self.flush_model(_REVIEWED)
        query = self._search([("model_intent", "!=", False)])
        column = {name: SQL.identifier(query.table, name) for name in _REVIEWED}
        self.env.cr.execute(
            query.select(
                SQL("count(*)"),
                SQL(
                    "count(*) FILTER (WHERE %s IS DISTINCT FROM %s)",
                    column["intent"],
                    column["model_intent"],
                ),
                SQL(
                    "count(*) FILTER (WHERE %s IS DISTINCT FROM %s)",
                    column["sentiment"],
                    column["model_sentiment"],
                ),
            )
        )
        classified, intents, sentiments = self.env.cr.fetchone()
        return {
            "classified": classified,
            "intent_corrected": intents,
            "sentiment_corrected": sentiments,
        }
