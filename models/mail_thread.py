from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _social_crm_log_notes(self, bodies, subtype_xmlid="mail.mt_note"):
        """Log one internal note per record in ONE INSERT; returns the message ids.

        The set-based sibling of ``_message_log_batch``, for thousands of notes
        (tier changes, synced interactions): the same columns, the same escaping
        (a ``str`` body is escaped, a ``Markup`` body is trusted), no notification,
        no follower emailed. ``bodies`` maps record id -> body.
        """
        if not bodies:
            return []
        author = self.env.user.partner_id
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid)
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = [
            SQL(
                "(%s, %s, %s, 'notification', true, %s, %s, %s, %s, %s, %s, %s, %s, %s, false)",
                self._name,
                res_id,
                str(escape(body)),
                subtype_id,
                author.id,
                author.email_formatted or None,
                now,
                generate_tracking_message_id("message-notify"),
                uid,
                now,
                uid,
                now,
            )
            for res_id, body in bodies.items()
        ]
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_message (model, res_id, body, message_type, is_internal,
                    subtype_id, author_id, email_from, date, message_id, create_uid,
                    create_date, write_uid, write_date, email_add_signature)
                VALUES %s
             RETURNING id
                """,
                SQL(", ").join(rows),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.env["mail.message"].invalidate_model()
        return ids
