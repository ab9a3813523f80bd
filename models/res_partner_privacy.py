import hashlib
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

RETENTION_KEY = "social_crm_module.retention_days"
SALT_KEY = "social_crm_module.erase_salt"


class SocialCrmErased(models.Model):
    """The authors erased on request, as salted hashes of (network, external id):
    the ingest stores nothing more of them, and nobody can read back who they were.

    The salt is per database (``ir.config_parameter``); deleting a row lets that
    author's future posts in again (the person asked to be back)."""

    _name = "social.crm.erased"
    _description = "Erased social author"
    _log_access = False

    key = fields.Char(required=True, readonly=True, index=True)
    erased_on = fields.Date(readonly=True, default=fields.Date.context_today)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "This author is already erased.")]

    @api.model
    def _salt(self, create=False):
        params = self.env["ir.config_parameter"].sudo()
        salt = params.get_param(SALT_KEY)
        if not salt and create:
            salt = secrets.token_hex(32)
            params.set_param(SALT_KEY, salt)
        return salt

    @api.model
    def _key(self, salt, network, external_id):
        return hashlib.sha256(f"{salt}|{network}|{external_id}".encode()).hexdigest()

    @api.model
    def _remember(self, pairs):
        """Remember erased (network, external id) pairs, in one INSERT."""
        pairs = {(network, external_id) for network, external_id in pairs if external_id}
        if not pairs:
            return
        salt = self._salt(create=True)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_crm_erased (key, erased_on)
                SELECT unnest(%s::varchar[]), %s
                    ON CONFLICT (key) DO NOTHING
                """,
                [self._key(salt, network, external_id) for network, external_id in pairs],
                fields.Date.context_today(self),
            )
        )

    @api.model
    def _erased_keys(self, pairs):
        """The (network, external id) pairs of ``pairs`` that were erased: one query."""
        salt = self._salt()
        pairs = set(pairs)
        if not salt or not pairs:
            return set()
        by_key = {
            self._key(salt, network, external_id): (network, external_id)
            for network, external_id in pairs
        }
        self.flush_model()
        self.env.cr.execute(
            SQL("SELECT key FROM social_crm_erased WHERE key = ANY(%s)", list(by_key))
        )
        return {by_key[key] for (key,) in self.env.cr.fetchall()}

    @api.model
    def _drop_erased(self, network, items):
        """``items`` (engine interactions) without those written by erased authors."""
        if not items:
            return items
        erased = self._erased_keys({(network, item.author.external_id) for item in items})
        if not erased:
            return items
        return [item for item in items if (network, item.author.external_id) not in erased]


class SocialCrmInteraction(models.Model):
    _inherit = "social.crm.interaction"

    # everything else the add-on wrote about this interaction (answers logged on
    # a chatter, done to-dos): erase, retention and deletion find them by this link
    social_crm_message_ids = fields.Many2many(
        "mail.message",
        "social_crm_interaction_message_rel",
        "interaction_id",
        "message_id",
        string="Notes about it",
        readonly=True,
        copy=False,
    )

    def _social_crm_link_messages(self, messages):
        """Remember that ``messages`` were written about these interactions."""
        if not self or not messages:
            return
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_crm_interaction_message_rel (interaction_id, message_id)
                SELECT i, m FROM unnest(%s::int[]) i, unnest(%s::int[]) m
                    ON CONFLICT DO NOTHING
                """,
                self.ids,
                messages.ids,
            )
        )
        self.invalidate_recordset(["social_crm_message_ids"])

    def _social_crm_forget(self, erased_names=()):
        """Delete these interactions and everything the add-on wrote about them,
        found by links: their chatter notes, the notes of answers and done to-dos
        (on a contact's or the account's chatter), their to-dos (cascade); leads
        made of them stay, the company's, without the person's words."""
        if not self:
            return
        interactions = self.sudo()  # erase, retention, deletion: the system's work
        (interactions.message_id | interactions.social_crm_message_ids).unlink()
        self.env["res.partner"]._social_erase_leads(interactions.lead_id, erased_names)
        interactions.unlink()


class SocialCrmIdentity(models.Model):
    _inherit = "social.crm.identity"

    def unlink(self):
        """Deleting an identity deletes its interactions (cascade): clean up what
        was written about them first, as erase does."""
        interactions = (
            self.env["social.crm.interaction"].sudo().search([("identity_id", "in", self.ids)])
        )
        names = set(self.mapped("handle")) | set(self.mapped("display_name_network"))
        interactions._social_crm_forget(names)
        return super().unlink()


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        """The message a done to-do posts repeats its summary and note (what the
        person said): link it to the interaction the to-do came from."""
        social = self.filtered("social_crm_interaction_id")
        if not social:
            return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        # Odoo posts one message per activity, in this order
        order = [
            activity
            for data in self._classify_by_model().values()
            for activity in data["activities"]
        ]
        interactions = [activity.social_crm_interaction_id.sudo() for activity in order]
        messages, next_activities = super()._action_done(
            feedback=feedback, attachment_ids=attachment_ids
        )
        if len(messages) == len(interactions):
            for interaction, message in zip(interactions, messages, strict=True):
                interaction._social_crm_link_messages(message)
        return messages, next_activities


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
