"""Interactions: the indexes a synced row paid for and no query used are dropped
(columns of a handful of values, and columns another index already leads with);
the review gets a partial index (created by the model's init)."""

from odoo.tools import SQL

DROPPED = (
    "social_crm_interaction__account_id_index",
    "social_crm_interaction__network_index",
    "social_crm_interaction__partner_id_index",
    "social_crm_interaction__kind_index",
    "social_crm_interaction__intent_index",
    "social_crm_interaction__sentiment_index",
    "social_crm_interaction__routed_index",
    "social_crm_interaction__needs_review_index",
)


def migrate(cr, version):
    if not version:
        return
    for name in DROPPED:
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
