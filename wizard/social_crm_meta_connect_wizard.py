"""The page picker at the end of Connect: the Pages (and their Instagram
professional accounts) the person granted; the administrator ticks which to add."""

import logging

from odoo import fields, models
from odoo.exceptions import AccessError

from ..social_crm_module.errors import ConnectorError

_logger = logging.getLogger(__name__)


class SocialCrmMetaConnectWizard(models.TransientModel):
    _name = "social.crm.meta.connect.wizard"
    _description = "Social CRM: choose the Facebook Pages and Instagram accounts to add"

    account_id = fields.Many2one("social.crm.account", "Reconnecting", readonly=True)
    meta_user_id = fields.Char(readonly=True, groups="base.group_system")
    line_ids = fields.One2many("social.crm.meta.connect.line", "wizard_id", "Pages")

    def action_add(self):
        """Create (or update) one account per ticked Page and Instagram account."""
        self.ensure_one()
        if not self.env.is_system():
            raise AccessError(self.env._("Only administrators connect accounts to Meta."))
        Account = self.env["social.crm.account"]
        oauth = Account._social_crm_meta_oauth()
        added = Account
        for line in self.sudo().line_ids:
            wanted = []
            if line.add_page:
                wanted.append(("facebook", "meta_page_id", line.page_id, line.name))
            if line.add_instagram and line.ig_user_id:
                label = f"@{line.ig_username}" if line.ig_username else line.ig_user_id
                wanted.append(("instagram", "meta_ig_user_id", line.ig_user_id, label))
            for network, key, owner, name in wanted:
                account = self._account_for(network, key, owner)
                values = {
                    "meta_page_id": line.page_id,
                    "meta_page_access_token": line.access_token,
                    "meta_user_id": self.sudo().meta_user_id,
                    "state": "connected",
                    "last_error": False,
                    "failure_count": 0,
                    "next_sync_at": False,
                }
                if network == "instagram":
                    values["meta_ig_user_id"] = line.ig_user_id
                if account:
                    account.sudo().write(values)
                    account.activity_ids.filtered(
                        lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo")
                    ).action_feedback(feedback=self.env._("Reconnected through Meta."))
                else:
                    account = Account.sudo().create(dict(values, network=network, name=name))
                added |= account
            if line.add_page or line.add_instagram:
                try:
                    oauth.subscribe_page(line.page_id, line.access_token)
                except ConnectorError as error:
                    _logger.warning("Meta webhook subscription of a Page failed: %s", error)
        self.sudo().unlink()  # the tokens leave the wizard's table
        return {
            "type": "ir.actions.act_window",
            "res_model": "social.crm.account",
            "name": self.env._("Social Accounts"),
            "view_mode": "list,form",
            "domain": [("id", "in", added.ids)],
        }

    def _account_for(self, network, key, owner):
        """The account being reconnected when it is this one, else an account of the
        company already bound to the same Page or Instagram account."""
        if self.account_id and self.account_id.network == network:
            current = self.account_id.sudo()[key]
            if not current or current == owner:
                return self.account_id
        return (
            self.env["social.crm.account"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("network", "=", network),
                    (key, "=", owner),
                    ("company_id", "=", self.env.company.id),
                ],
                limit=1,
            )
        )


class SocialCrmMetaConnectLine(models.TransientModel):
    _name = "social.crm.meta.connect.line"
    _description = "Social CRM: a Facebook Page offered by Connect"

    wizard_id = fields.Many2one("social.crm.meta.connect.wizard", required=True, ondelete="cascade")
    page_id = fields.Char("Page ID", readonly=True)
    name = fields.Char("Page", readonly=True)
    access_token = fields.Char(groups="base.group_system", readonly=True)
    ig_user_id = fields.Char("Instagram account ID", readonly=True)
    ig_username = fields.Char("Instagram account", readonly=True)
    add_page = fields.Boolean("Add the Page", default=True)
    add_instagram = fields.Boolean("Add its Instagram account")
