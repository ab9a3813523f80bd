from datetime import timezone

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime

from ..social_crm_module.errors import (
    AuthError,
    ConnectorError,
    NotFound,
    NotSupported,
    RateLimited,
)

#: what each network lets a brand do to someone else's post, from Odoo
WRITABLE_NETWORKS = ("x", "mastodon", "bluesky")


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

    @api.depends("network", "reply_ref", "kind")
    def _compute_can_answer(self):
        for interaction in self:
            interaction.can_answer = bool(
                interaction.network in WRITABLE_NETWORKS
                and interaction.reply_ref
                and interaction.kind not in ("like", "follow", "repost")
            )
            # a direct message is answered, never liked or reposted
            interaction.can_react = interaction.can_answer and interaction.kind != "dm"

    def _check_can_answer(self):
        self.ensure_one()
        if not self.can_answer:
            raise UserError(
                self.env._(
                    "This %(kind)s on %(network)s cannot be answered from Odoo.",
                    kind=dict(self._fields["kind"].selection).get(self.kind, self.kind),
                    network=dict(self._fields["network"].selection).get(self.network),
                )
            )

    def _social_crm_network_call(self, method, *args):
        """Run one write on the network through the account's connector; a network
        failure becomes a clear message and rolls back everything (nothing is
        logged as done that was not)."""
        self.ensure_one()
        # replying is allowed to whoever may read the interaction (sales staff too);
        # the account and its credentials stay out of their reach
        account = self.account_id.sudo()
        connector = account._get_connector()
        try:
            return getattr(connector, method)(*args)
        except ValueError as error:  # text checks: empty, too long
            raise UserError(str(error)) from error
        except ConnectorError as error:
            raise UserError(account._social_crm_error_message(error)) from error
        finally:
            account._store_refreshed_credentials(connector)

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
            "network": dict(self._fields["network"].selection).get(self.network),
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
            ids = (
                self.env["res.partner"]
                .sudo()
                ._social_crm_log_notes(
                    {self.partner_id.id: body},
                    subtype_xmlid="social_crm_module.mt_social_interaction",
                )
            )
            message = self.env["mail.message"].browse(ids)
        else:
            message = self.account_id.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")
        # linked to the interaction: erase and retention find it (issue 11, finding 9)
        self._social_crm_link_messages(message)


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    def _social_crm_error_message(self, error):
        """What a user should read when the network refused a write."""
        self.ensure_one()
        network = dict(self._fields["network"].selection).get(self.network)
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
        connector = self._get_connector()
        try:
            return connector.send_dm(identity.external_id, connector.check_text(text))
        finally:
            self._store_refreshed_credentials(connector)
