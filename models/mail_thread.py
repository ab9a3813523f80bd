from markupsafe import escape

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from .sql_array import array


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _social_crm_log_notes(self, bodies, subtype_xmlid="mail.mt_note", dates=None):
        """Log one internal note per record in ONE INSERT; returns the message ids.

        The set-based sibling of ``_message_log_batch``, for thousands of notes
        (tier changes, synced interactions): the same columns, the same escaping
        (a ``str`` body is escaped, a ``Markup`` body is trusted), no notification,
        no follower emailed. ``bodies`` maps record id -> body, or is a list of
        (record id, body) pairs when a record gets several notes; the message ids
        come back in the same order. ``dates`` (same order) dates each note, e.g.
        when the person posted, so the chatter reads in the order things happened
        when the pairs come oldest first.
        """
        pairs = list(bodies.items()) if isinstance(bodies, dict) else list(bodies)
        if not pairs:
            return []
        author = self.env.user.partner_id
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid)
        res_ids = [res_id for res_id, _body in pairs]
        # the ids are taken first, in order: the notes' ids follow the order they
        # were given in (the chatter lists by id), and come back without a mapping
        self.env.cr.execute(
            SQL(
                "SELECT nextval(pg_get_serial_sequence('mail_message', 'id'))"
                " FROM generate_series(1, %s)",
                len(pairs),
            )
        )
        ids = sorted(row[0] for row in self.env.cr.fetchall())
        # one Message-ID per note: Odoo's own format with the message id spliced in
        id_left, _at, id_right = generate_tracking_message_id("message-notify").rpartition("@")
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_message (id, model, res_id, body, message_type, is_internal,
                    subtype_id, author_id, email_from, date, message_id, create_uid,
                    create_date, write_uid, write_date, email_add_signature)
                SELECT note.id, %(model)s, note.res_id, note.body, 'notification', true,
                       %(subtype)s, %(author)s, %(email_from)s, COALESCE(note.date, %(now)s),
                       %(id_left)s || '-' || note.id || '@' || %(id_right)s,
                       %(uid)s, %(now)s, %(uid)s,
                       %(now)s, false
                  FROM unnest(%(ids)s, %(res_ids)s, %(bodies)s, %(dates)s)
                       AS note(id, res_id, body, date)
                """,
                model=self._name,
                subtype=subtype_id,
                author=author.id,
                email_from=author.email_formatted or None,
                now=fields.Datetime.now(),
                uid=self.env.uid,
                id_left=id_left,
                id_right=id_right,
                ids=array(ids, "int4"),
                res_ids=array(res_ids, "int4"),
                bodies=array([escape(body) for _res_id, body in pairs], "text"),
                dates=array(list(dates) if dates else [None] * len(pairs), "timestamp"),
            )
        )
        # new rows: nothing of them is in the cache, only the lists they join
        self.browse(res_ids).invalidate_recordset(["message_ids"])
        return ids
