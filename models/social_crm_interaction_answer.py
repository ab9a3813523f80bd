from datetime import timezone

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_datetime

from ..social_crm_module.errors import (
    AuthError,
    ConnectorError,
    NotFound,
    NotSupported,
    RateLimited,
)
from .social_crm_account import network_selection


class SocialCrmInteraction(models.Model):
    """Answering from Odoo: reply in the thread, like, repost."""

    _inherit = "social.crm.interaction"

    answered_by_id = fields.Many2one("res.users", "Answered by", readonly=True)
    answered_at = fields.Datetime("Answered on", readonly=True)
    answer_url = fields.Char("Our reply", readonly=True)
    liked_at = fields.Datetime("Liked on", readonly=True)
    reposted_at = fields.Datetime("Reposted on", readonly=True)
    can_answer = fields.Boolean(compute="_compute_can_answer")
    can_react = fields.Boolean(
        compute="_compute_can_answer", help="A public post: it can be liked and reposted."
    )

    @api.depends("network", "reply_ref", "kind", "account_id")
    def _compute_can_answer(self):
        """What the network allows (its connector's capabilities) and what the user
        may do: answering as the brand is a right of its own."""
        for interaction in self:
            capabilities = set(
                (interaction.account_id.sudo().network_capabilities or "").split(",")
            )
            allowed = interaction._social_crm_may_answer()
            interaction.can_answer = bool(
                allowed
                and "reply" in capabilities
                and interaction.reply_ref
                and interaction.kind not in ("like", "follow", "repost")
            )
            # a direct message is answered, never liked or reposted
            interaction.can_react = bool(
                interaction.can_answer
                and interaction.kind != "dm"
                and {"like", "repost"} & capabilities
            )

    def _social_crm_may_answer(self):
        """Whether the current user may speak as the brand on this interaction's
        account: Social CRM users, and the users an administrator listed on the
        account (sales staff, say)."""
        self.ensure_one()
        user = self.env.user
        if self.env.su or user.has_group("social_crm_module.group_social_crm_user"):
            return True
        return user in self.account_id.sudo().answer_user_ids

    def _check_may_answer(self):
        self.ensure_one()
        if not self._social_crm_may_answer():
            raise AccessError(
                self.env._(
                    "Answering as the brand on %s is a right of its own: ask an administrator "
                    "to add you to the account's answering staff, or to the Social CRM users.",
                    self.account_id.sudo().name,
                )
            )

    def _check_can_answer(self):
        self.ensure_one()
        self.check_access("read")
        self._check_may_answer()
        if not self.can_answer:
            raise UserError(
                self.env._(
                    "This %(kind)s on %(network)s cannot be answered from Odoo.",
                    kind=dict(self._fields["kind"].selection).get(self.kind, self.kind),
                    network=dict(network_selection(self)).get(self.network),
                )
            )

    def _social_crm_network_call(self, method, *args):
        """Run one write on the network through the account's connector; a network
        failure becomes a clear message and rolls back everything (nothing is
        logged as done that was not)."""
        self.ensure_one()
        # only who may answer as the brand gets here (_check_can_answer); the account
        # and its credentials stay out of their reach
        self._check_may_answer()
        account = self.account_id.sudo()
        with account._connector() as connector:
            try:
                return getattr(connector, method)(*args)
            except ValueError as error:  # text checks: empty, too long
                raise UserError(str(error)) from error
            except ConnectorError as error:
                raise UserError(account._social_crm_error_message(error)) from error

    def action_open_reply(self):
        self.ensure_one()
        self._check_can_answer()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply to %s", self.identity_id.handle or ""),
            "res_model": "social.crm.reply.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_interaction_id": self.id},
        }

    def action_like(self):
        self._social_crm_react("like", "liked_at")

    def action_repost(self):
        self._social_crm_react("repost", "reposted_at")

    def _social_crm_react(self, method, stamp):
        self.ensure_one()
        self._check_can_answer()
        if not self.can_react:
            raise UserError(self.env._("A direct message can be answered, not liked or reposted."))
        if self[stamp]:
            raise UserError(self.env._("Already done on %s.", self[stamp]))
        self._social_crm_network_call(method, self.reply_ref)
        self.sudo()[stamp] = fields.Datetime.now()
        values = {
            "network": dict(network_selection(self)).get(self.network),
            "user": self.env.user.name,
        }
        label = (
            self.env._("Liked on %(network)s by %(user)s:", **values)
            if method == "like"
            else self.env._("Reposted on %(network)s by %(user)s:", **values)
        )
        self._social_crm_log_answer(
            Markup("{} <a href='{}' target='_blank' rel='noopener'>{}</a>").format(
                label, self.url or "#", self.env._("the post")
            )
        )

    def _social_crm_log_answer(self, body):
        """A note where staff will look: the contact's chatter, else the account's."""
        if self.partner_id:
            self.env["res.partner"].sudo().browse(self.partner_id.id)._social_crm_log_notes(
                {self.partner_id.id: body}, subtype_xmlid="social_crm_module.mt_social_interaction"
            )
        else:
            self.account_id.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    def _social_crm_error_message(self, error):
        """What a user should read when the network refused a write."""
        self.ensure_one()
        network = dict(network_selection(self)).get(self.network)
        if isinstance(error, RateLimited):
            if error.retry_at:
                when = format_datetime(
                    self.env, error.retry_at.astimezone(timezone.utc).replace(tzinfo=None)
                )
                return self.env._(
                    "%(network)s is limiting how often we post. Nothing was sent; try "
                    "again after %(when)s.",
                    network=network,
                    when=when,
                )
            return self.env._(
                "%s is limiting how often we post. Nothing was sent; try again later.", network
            )
        if isinstance(error, AuthError):
            return self.env._(
                "%(network)s refused the credentials of the account %(account)s. Nothing "
                "was sent; ask an administrator to reconnect it.",
                network=network,
                account=self.name,
            )
        if isinstance(error, NotFound):
            return self.env._(
                "The post is gone from %s (deleted, or made private). Nothing was sent.",
                network,
            )
        if isinstance(error, NotSupported):
            return str(error)
        return self.env._(
            "%(network)s did not answer properly (%(error)s). It is not recorded as "
            "sent; check the network, then try again.",
            network=network,
            error=str(error),
        )

    def _social_crm_send_dm(self, identity, text):
        """Send a direct message, unless the person opted out of messages."""
        self.ensure_one()
        if identity.partner_id.social_opt_out:
            raise UserError(
                self.env._(
                    "%s opted out of social messages: no direct message is sent.",
                    identity.partner_id.display_name,
                )
            )
        with self._connector() as connector:
            return connector.send_dm(identity.external_id, connector.check_text(text))
