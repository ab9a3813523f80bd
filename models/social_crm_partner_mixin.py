from odoo import models


class SocialCrmPartnerMixin(models.AbstractModel):
    """A document with a ``partner_id`` opens that person's social history.

    The inheriting models declare ``social_identity_ids`` and
    ``social_interaction_count`` as related fields through their own partner.
    """

    _name = "social.crm.partner.mixin"
    _description = "Social history of a document's contact"

    def action_view_social_interactions(self):
        self.ensure_one()
        return self.partner_id.action_view_social_interactions()
