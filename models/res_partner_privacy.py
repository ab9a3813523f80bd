from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.osv import expression

RETENTION_KEY = "social_crm_module.retention_days"


class ResPartner(models.Model):
    """The customer's control over their social data: erase on request."""

    _inherit = "res.partner"

    def action_social_erase(self):
        """Delete this person's identities, interactions, social chatter notes and
        score; leave one anonymous note that an erasure happened (managers only)."""
        self.ensure_one()
        if not self.env.user.has_group("social_crm_module.group_social_crm_manager"):
            raise AccessError(self.env._("Only Social CRM managers can erase social data."))
        self.sudo()._social_erase()
        # one anonymous trace: no handle, no text, only that it happened and when
        self.sudo()._social_crm_log_notes(
            {self.id: self.env._("Social data erased on request (%s).", fields.Date.today())}
        )
        return True

    def _social_erase(self):
        identities = self.env["social.crm.identity"].search(
            ["|", ("partner_id", "in", self.ids), ("rejected_partner_ids", "in", self.ids)]
        )
        # rejected pairs only remember that this person is NOT that identity: forget it
        rejected_only = identities.filtered(lambda i: i.partner_id not in self)
        rejected_only.write({"rejected_partner_ids": [(3, pid) for pid in self.ids]})
        mine = identities - rejected_only
        interactions = self.env["social.crm.interaction"].search(
            ["|", ("partner_id", "in", self.ids), ("identity_id", "in", mine.ids)]
        )
        subtypes = self.env.ref("social_crm_module.mt_social_interaction") | self.env.ref(
            "social_crm_module.mt_advocate_tier"
        )
        notes = self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "in", self.ids),
                ("subtype_id", "in", subtypes.ids),
            ]
        )
        (notes | interactions.message_id | self._social_erase_done_todos(mine)).unlink()
        self._social_erase_leads(interactions.lead_id, mine)
        interactions.unlink()  # their routing to-dos go with them (ondelete cascade)
        mine.unlink()
        self.env["social.crm.advocate"].search([("partner_id", "in", self.ids)]).unlink()
        self.write(
            {
                "social_last_interaction_at": False,
                "advocate_referral_count": 0,
                "advocate_redemption_count": 0,
            }
        )

    def _social_erase_done_todos(self, identities):
        """The "done" messages of routing to-dos: marking one done posts its summary
        ("Question from <handle>") and its note (what the person said) in the
        chatter, outside the social subtype."""
        handles = [handle for handle in identities.mapped("handle") if handle]
        if not handles:
            return self.env["mail.message"]
        activities = self.env.ref("mail.mt_activities")
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "in", self.ids),
                ("subtype_id", "=", activities.id),
                *expression.OR([[("body", "ilike", f" from {handle}")] for handle in handles]),
            ]
        )

    def _social_erase_leads(self, leads, identities):
        """Leads made from the person's posts stay (they are the company's sales
        records) without what the person said: no text, no handle in their name."""
        if not leads:
            return
        names = set(identities.mapped("handle")) | set(identities.mapped("display_name_network"))
        leads = leads.sudo().with_context(tracking_disable=True)
        erased = self.env._("Purchase intent (social data erased)")
        leads.write({"name": erased, "description": False})
        leads.filtered(lambda lead: lead.contact_name in names).contact_name = False

    @api.model
    def _cron_social_retention(self):
        """Purge interactions older than the retention setting, with their notes."""
        days = int(self.env["ir.config_parameter"].sudo().get_param(RETENTION_KEY, 0) or 0)
        if days <= 0:
            return 0
        cutoff = fields.Datetime.now() - timedelta(days=days)
        Interaction = self.env["social.crm.interaction"].sudo()
        purged = 0
        while True:
            batch = Interaction.search([("date", "<", cutoff)], limit=5000)
            if not batch:
                return purged
            batch.message_id.unlink()
            batch.unlink()
            purged += len(batch)
