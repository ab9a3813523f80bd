from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.social_crm_account import network_selection
from ..social_crm_module.connectors import connector_class


class SocialCrmReplyWizard(models.TransientModel):
    """The small composer: a threaded reply through the brand's account."""

    _name = "social.crm.reply.wizard"
    _description = "Reply to a social interaction"

    interaction_id = fields.Many2one("social.crm.interaction", required=True, readonly=True)
    # read as the user: the record rules that hide an interaction hide its text here
    network = fields.Selection(related="interaction_id.network", compute_sudo=False)
    original_text = fields.Text(related="interaction_id.text", compute_sudo=False)
    text = fields.Text("Reply")
    max_length = fields.Integer("Limit", compute="_compute_length")
    text_length = fields.Integer("Characters", compute="_compute_length")
    too_long = fields.Boolean(compute="_compute_length")

    @api.model_create_multi
    def create(self, vals_list):
        """Only for an interaction the user may read and answer as the brand."""
        wizards = super().create(vals_list)
        for wizard in wizards:
            wizard.interaction_id._check_can_answer()
        return wizards

    @api.depends("text", "network")
    def _compute_length(self):
        for wizard in self:
            connector = connector_class(wizard.network) if wizard.network else None
            text = (wizard.text or "").strip()
            # counted as the network counts it: graphemes, URLs as 23, X's weights
            wizard.max_length = connector.max_text_length if connector else 0
            wizard.text_length = connector.text_length(text) if connector else len(text)
            wizard.too_long = bool(wizard.max_length and wizard.text_length > wizard.max_length)

    def action_send(self):
        self.ensure_one()
        interaction = self.interaction_id
        interaction._check_can_answer()
        text = (self.text or "").strip()
        if not text:
            raise UserError(self.env._("Write the reply first."))
        if self.too_long:
            raise UserError(
                self.env._(
                    "%(network)s accepts %(limit)s characters; this reply has %(length)s.",
                    network=dict(network_selection(self)).get(self.network),
                    limit=self.max_length,
                    length=self.text_length,
                )
            )
        posted = interaction._social_crm_network_call("reply", interaction.reply_ref, text)
        now = fields.Datetime.now()
        interaction.sudo().write(
            {
                "answered_by_id": self.env.user.id,
                "answered_at": now,
                "answer_url": posted.url or False,
            }
        )
        link = (
            Markup(" <a href='{}' target='_blank' rel='noopener'>{}</a>").format(
                posted.url, self.env._("See the reply")
            )
            if posted.url
            else ""
        )
        interaction._social_crm_log_answer(
            Markup("{} <i>{}</i>{}").format(
                self.env._("%s replied:", self.env.user.name), text, link
            )
        )
        return {"type": "ir.actions.act_window_close"}
