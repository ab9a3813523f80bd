from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError

RETENTION_KEY = "social_crm_module.retention_days"
SALT_KEY = "social_crm_module.erase_salt"


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
        """Everything the add-on wrote about these people, found by its links (ids,
        model and res_id, link tables), never by searching text; the erased
        authors are remembered as salted hashes so the next sync stores nothing."""
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
        notes.unlink()
        self._social_erase_coupons()
        self.env["social.crm.erased"]._remember(mine.mapped(lambda i: (i.network, i.external_id)))
        names = set(mine.mapped("handle")) | set(mine.mapped("display_name_network"))
        interactions._social_crm_forget(names)
        mine.unlink()
        self.env["social.crm.advocate"].search([("partner_id", "in", self.ids)]).unlink()
        self.write(
            {
                "social_last_interaction_at": False,
                "advocate_referral_count": 0,
                "advocate_redemption_count": 0,
            }
        )

    def _social_erase_coupons(self):
        """The coupons stay (the company's sales records, still bound to the person);
        the notes and emails that carried their codes, and where they were posted
        on a network, go."""
        recipients = self.env["social.crm.campaign.recipient"].search(
            [("partner_id", "in", self.ids)]
        )
        if not recipients:
            return
        mails = recipients.mail_id
        messages = recipients.note_message_id | mails.mail_message_id
        recipients.write(
            {
                "social_url": False,
                "social_error": False,
                "email_error": False,
                "note_message_id": False,
                "mail_id": False,
            }
        )
        mails.unlink()
        messages.exists().unlink()

    @api.model
    def _social_erase_leads(self, leads, names=()):
        """Leads made from the person's posts stay (they are the company's sales
        records) without what the person said: no text, no handle in their name,
        on the lead nor on its messages (their stored record name, the "assigned
        to you" notification that quoted it)."""
        if not leads:
            return
        names = {name for name in names if name}
        leads = leads.sudo().with_context(tracking_disable=True)
        erased = self.env._("Purchase intent (social data erased)")
        leads.write({"name": erased, "description": False})
        leads.filtered(lambda lead: lead.contact_name in names).contact_name = False
        messages = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "crm.lead"), ("res_id", "in", leads.ids)])
        )
        messages.filtered(lambda m: m.message_type == "user_notification").unlink()
        (messages.exists()).write({"record_name": erased})

    @api.model
    def _cron_social_retention(self):
        """Purge interactions older than the retention setting, with what was written
        about them (as erase does), and the identities left without interactions."""
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
            identities = batch.identity_id
            names = set(identities.mapped("handle")) | set(
                identities.mapped("display_name_network")
            )
            batch._social_crm_forget(names)
            left = set(
                Interaction._read_group([("identity_id", "in", identities.ids)], ["identity_id"])
            )
            left_ids = {identity.id for (identity,) in left}
            identities.filtered(lambda i, left_ids=left_ids: i.id not in left_ids).unlink()
            purged += len(batch)
