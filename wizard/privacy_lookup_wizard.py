from odoo import models
from odoo.tools import SQL

from ..social_crm_module import registry
from ..social_crm_module.matching import normalize_handle


class PrivacyLookupWizard(models.TransientModel):
    """Odoo's privacy lookup also finds social identities that hold only a handle
    (no contact, no email), and the interactions they wrote."""

    _inherit = "privacy.lookup.wizard"

    def _get_query(self):
        query = super()._get_query()
        handles = self._social_crm_handles()
        if not handles:
            return query
        Model = self.env["ir.model"]
        return SQL(
            """
            %(query)s
            UNION ALL
            SELECT %(identity_model)s AS res_model_id, id AS res_id, True AS is_active
              FROM social_crm_identity
             WHERE lower(handle) = ANY(%(handles)s)
                OR lower(display_name_network) = ANY(%(handles)s)
            UNION ALL
            SELECT %(interaction_model)s AS res_model_id, i.id AS res_id, True AS is_active
              FROM social_crm_interaction i
              JOIN social_crm_identity s ON s.id = i.identity_id
             WHERE lower(s.handle) = ANY(%(handles)s)
                OR lower(s.display_name_network) = ANY(%(handles)s)
            """,
            query=query,
            identity_model=Model._get_id("social.crm.identity"),
            interaction_model=Model._get_id("social.crm.interaction"),
            handles=handles,
        )

    def _social_crm_handles(self):
        """The name and email typed in, as a handle could be written on a network:
        '@jane', 'jane@mastodon.social', 'jane.example.com'."""
        values = set()
        for typed in (self.name, self.email):
            raw = (typed or "").strip()
            if not raw:
                continue
            values.add(raw.lower())
            values.add(raw.lstrip("@").lower())
            for network in registry.codes():
                try:
                    handle = normalize_handle(network, raw)
                except ValueError:
                    continue
                if handle:
                    values.add(handle.lower())
        return sorted(values)
