from odoo import models


class SocialCrmPartnerMixin(models.AbstractModel):
    """A document with a ``partner_id`` opens that person's social history.

    The inheriting models (leads, sale orders) declare, as related fields through
    their own contact, ``social_identity_ids``, ``social_interaction_count``,
    ``social_recent_interaction_ids``, ``social_advocate_tier`` and
    ``social_advocate_score`` for their Social tab.
    """

    _name = "social.crm.partner.mixin"
    _description = "Social history of a document's contact"

    def action_view_social_interactions(self):
        self.ensure_one()
        return self.partner_id.action_view_social_interactions()
