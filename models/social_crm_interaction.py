import json
import logging
from datetime import datetime

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..social_crm_module import sentiment
from ..social_crm_module.classifier import helper
from ..social_crm_module.classifier.remote import RemoteClassifier
from ..social_crm_module.errors import ConnectorError
from .social_crm_account import network_icon, network_selection
from .sql_array import array

_logger = logging.getLogger(__name__)

#: the remote classifier's settings (administrators only, see res.config.settings)
REMOTE_URL = "social_crm_module.classifier_remote_url"
REMOTE_KEY = "social_crm_module.classifier_remote_key"
REMOTE_MODEL = "social_crm_module.classifier_remote_model"
REMOTE_CAP = "social_crm_module.classifier_remote_monthly_cap"
REMOTE_DEADLINE = "social_crm_module.classifier_remote_deadline"
REMOTE_STATE = "social_crm_module.classifier_remote_state"

KINDS = [
    ("mention", "Mention"),
    ("reply", "Reply"),
    ("quote", "Quote"),
    ("comment", "Comment"),
    ("dm", "Direct message"),
    ("repost", "Repost"),
    ("like", "Like"),
    ("follow", "Follow"),
    ("post", "Post"),
    ("listening", "Listening"),
]
INTENTS = [
    ("praise", "Praise"),
    ("complaint", "Complaint"),
    ("question", "Question"),
    ("purchase_intent", "Purchase intent"),
    ("other", "Other"),
]
SENTIMENTS = [("positive", "Positive"), ("neutral", "Neutral"), ("negative", "Negative")]
#: the polarity a corrected sentiment label stands for
CORRECTED_POLARITY = {"positive": 0.5, "neutral": 0.0, "negative": -0.5}
#: what a Social CRM user (not a manager) may change on an interaction
CORRECTABLE_FIELDS = {"intent", "sentiment"}
_REVIEWED = ("intent", "model_intent", "sentiment", "model_sentiment")


#: field types whose value in the cache is the column's value as PostgreSQL returns
#: it (None for NULL), so that a row just inserted can be put there as it was sent
_RAW_IN_CACHE = {
    "boolean": bool, "char": str, "text": str, "selection": str, "integer": int,
    "float": (float, int), "datetime": datetime, "many2one": int,
}  # fmt: skip


def _needs_review(intent, corrected, confidence):
    """A classification nobody corrected and the classifier was not sure of."""
    return bool(intent and not corrected and (confidence or 0.0) < sentiment.CONFIDENT_AT)


class SocialCrmInteraction(models.Model):
    """One mention, reply, comment, DM, repost, like, follow or post, as synced;
    what it means (intent, sentiment), and the brand's answer to it."""

    _name = "social.crm.interaction"
    _description = "Social Interaction"
    _order = "date desc, id desc"
    _rec_name = "summary"

    account_id = fields.Many2one(
        "social.crm.account", required=True, ondelete="cascade"
    )  # indexed by UNIQUE(account_id, external_id)
    # precomputed: in the INSERT, not in an UPDATE of the row just inserted
    company_id = fields.Many2one(
        related="account_id.company_id", store=True, index=True, precompute=True
    )
    network = fields.Selection(network_selection, required=True)
    network_icon_url = fields.Char(compute="_compute_network_icon_url")
    identity_id = fields.Many2one("social.crm.identity", index=True, ondelete="cascade")
    author_avatar_url = fields.Char(related="identity_id.avatar_display_url")
    author_handle = fields.Char(related="identity_id.handle")
    partner_id = fields.Many2one(
        "res.partner",
        compute="_compute_partner_id",
        store=True,
        precompute=True,
        # indexed by (partner_id, date, id) where set: see init()
        help="The contact, once the author's identity is confirmed; a suggestion "
        "shows nothing on the suggested contact until someone confirms it.",
    )
    kind = fields.Selection(KINDS, required=True)
    text = fields.Text()
    summary = fields.Char(compute="_compute_summary")
    url = fields.Char("URL")
    date = fields.Datetime(required=True, index=True)
    external_id = fields.Char(required=True)
    parent_external_id = fields.Char()
    root_external_id = fields.Char()
    subject_external_id = fields.Char(
        help="The brand's own post that was liked, reposted or quoted."
    )
    reply_ref = fields.Char(help="Opaque reference the connector needs to answer.")
    listening_query_id = fields.Many2one(
        "social.crm.listening.query",
        "Heard by",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="The listening query that heard this post (it did not tag the brand).",
    )
    parent_id = fields.Many2one("social.crm.interaction", index="btree_not_null")
    message_id = fields.Many2one(
        "mail.message", "Chatter note", index="btree_not_null", ondelete="set null"
    )
    # -- what it means --
    intent = fields.Selection(INTENTS)
    polarity = fields.Float(
        digits=(3, 3), help="From -1 (negative) to 1 (positive), as classified or corrected."
    )
    sentiment = fields.Selection(SENTIMENTS)
    classification_corrected = fields.Boolean(
        "Corrected",
        readonly=True,
        copy=False,
        help="A user corrected the intent or sentiment; a re-sync never overwrites it.",
    )
    # what the classifier said, kept when a person corrects it: the review's
    # confusion matrix (classifier's answer against the person's)
    model_intent = fields.Selection(INTENTS, "Classifier's intent", readonly=True, copy=False)
    model_sentiment = fields.Selection(
        SENTIMENTS, "Classifier's sentiment", readonly=True, copy=False
    )
    confidence = fields.Float(
        "Classifier's confidence",
        digits=(3, 2),
        readonly=True,
        copy=False,
        help="How sure the classifier was, from 0 to 1. Routing acts only on confident "
        "classifications; the others wait in the classifier review for a person.",
    )
    needs_review = fields.Boolean(
        "To review",
        compute="_compute_needs_review",
        store=True,
        precompute=True,
        # indexed where true (the review's few rows): see init()
        help="The classifier was not confident and nobody corrected it yet.",
    )
    # -- what was done with it --
    routed = fields.Boolean(readonly=True, copy=False)
    lead_id = fields.Many2one("crm.lead", readonly=True, copy=False, index="btree_not_null")
    answered_by_id = fields.Many2one("res.users", "Answered by", readonly=True)
    answered_at = fields.Datetime("Answered on", readonly=True)
    answer_url = fields.Char("Our reply", readonly=True)
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
    liked_at = fields.Datetime("Liked on", readonly=True)
    reposted_at = fields.Datetime("Reposted on", readonly=True)
    can_answer = fields.Boolean(compute="_compute_can_answer")
    can_react = fields.Boolean(
        compute="_compute_can_answer", help="A public post: it can be liked and reposted."
    )

    _sql_constraints = [
        (
            "account_external_id_unique",
            "UNIQUE(account_id, external_id)",
            "This interaction was already synced for this account.",
        ),
        (
            "url_http",
            "CHECK(url IS NULL OR url ~* '^https?://')",
            "An interaction URL must start with http:// or https://.",
        ),
    ]

    def init(self):
        # a contact's latest interactions (the Social tab, the chatter's order):
        # a top-N walk of this index reads ten rows of a contact with 10,000
        create_index(
            self.env.cr,
            "social_crm_interaction_partner_date_index",
            self._table,
            ["partner_id", "date DESC", "id DESC"],
            where="partner_id IS NOT NULL",
        )
        # the classifier review lists the few rows to review; the table's other
        # columns of a handful of values (network, kind, intent, sentiment) are not
        # indexed: an index would not be used to read a quarter of the table, and
        # every synced row would pay for it
        create_index(
            self.env.cr,
            "social_crm_interaction_needs_review_index",
            self._table,
            ["id"],
            where="needs_review",
        )

    # -- computes ---------------------------------------------------------------------

    @api.depends("identity_id.partner_id", "identity_id.link_state")
    def _compute_partner_id(self):
        for interaction in self:
            identity = interaction.identity_id
            interaction.partner_id = (
                identity.partner_id if identity.link_state == "confirmed" else False
            )

    def _compute_summary(self):
        kinds = dict(KINDS)
        for interaction in self:
            text = (interaction.text or "").strip().replace("\n", " ")
            label = kinds.get(interaction.kind, "")
            handle = interaction.identity_id.handle or ""
            interaction.summary = f"{label} {handle}: {text[:60]}" if text else f"{label} {handle}"

    @api.depends("intent", "confidence", "classification_corrected")
    def _compute_needs_review(self):
        for interaction in self:
            interaction.needs_review = _needs_review(
                interaction.intent, interaction.classification_corrected, interaction.confidence
            )

    @api.depends("network")
    def _compute_network_icon_url(self):
        for interaction in self:
            interaction.network_icon_url = network_icon(self, interaction.network)

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

    # -- CRUD -------------------------------------------------------------------------

    def write(self, vals):
        """A person's intent or sentiment is a correction: flag it, and let the
        polarity follow a corrected label so the advocate score does too.

        Social CRM users correct the meaning of what people said; everything else
        on an interaction is the network's and stays as synced (managers and the
        system may still write it)."""
        if (
            not self.env.su
            and set(vals) - CORRECTABLE_FIELDS
            and not self.env.user.has_group("social_crm_module.group_social_crm_manager")
        ):
            raise AccessError(
                self.env._(
                    "An interaction is kept as the network sent it: you may only correct "
                    "its intent and sentiment."
                )
            )
        corrected = "intent" in vals or "sentiment" in vals
        if corrected:
            vals = dict(vals, classification_corrected=True)
            if "sentiment" in vals and "polarity" not in vals:
                vals["polarity"] = CORRECTED_POLARITY.get(vals["sentiment"], 0.0)
        result = super().write(vals)
        if corrected:
            # a post the classifier was not sure of is routed once a person says
            # what it is (routing skips what was already routed)
            self.env["social.crm.routing.rule"].sudo()._route(self.sudo())
        return result

    # -- actions ------------------------------------------------------------------------

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
        self.ensure_one()
        self._social_crm_react("like", "liked_at")

    def action_repost(self):
        self.ensure_one()
        self._social_crm_react("repost", "reposted_at")

    # -- the chatter note -----------------------------------------------------------------

    @api.model
    def _note_body(self, kind, network, handle, text, url, *, interaction_id=None):
        """The chatter note of an interaction, before or after it is stored. The
        network's words are escaped, never trusted. A direct
        message's words are not copied into it: the note says that one arrived and,
        once the interaction exists, links to it."""
        kind_label = dict(KINDS).get(kind, kind)
        network_label = dict(network_selection(self)).get(network, network)
        # every value through escape(), the tags as literals, joined once (a page's
        # notes are built one by one: a Markup operation per piece cost twice this)
        parts = [f"<p><b>{escape(kind_label)}</b> on {escape(network_label)}"]
        parts.append(f" by {escape(handle or '')}</p>")
        if kind == "dm":
            private = self.env._("A private message: its text is on the interaction.")
            parts.append(f"<p>{escape(private)}</p>")
            if interaction_id:
                parts.append(
                    f'<p><a href="/odoo/social.crm.interaction/{int(interaction_id)}">'
                    f"{escape(self.env._('Open the message'))}</a></p>"
                )
            return Markup("".join(parts))  # noqa: S704 - every value escaped above
        text = (text or "").strip()
        if text:
            parts.append(f"<blockquote>{escape(text)}</blockquote>")
        url = url if isinstance(url, str) and url.startswith(("http://", "https://")) else ""
        if url:
            opening = self.env._("Open on %s", network_label)
            parts.append(
                f'<p><a href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
                f"{escape(opening)}</a></p>"
            )
        return Markup("".join(parts))  # noqa: S704 - every value escaped above

    def _note_body_of_record(self):
        self.ensure_one()
        return self._note_body(
            self.kind,
            self.network,
            self.identity_id.handle,
            self.text,
            self.url,
            interaction_id=self.id,
        )

    # -- the ingest's INSERT ----------------------------------------------------------------

    @api.model
    def _reserve_ids(self, count):
        """``count`` new ids, in order: the ingest knows an interaction's id before
        it is stored (a direct message's note links to it from the start)."""
        self.env.cr.execute(
            SQL(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                self._table,
                count,
            )
        )
        return sorted(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _insert_synced(self, values):
        """Store synced interactions in ONE INSERT: what ``create`` would store, for a
        page at a time, without its per-record work (the ingest's hot path).

        ``values`` are create values with an ``id`` from :meth:`_reserve_ids`. The
        stored computes (company, contact, review flag) are filled here as their
        computes would; any other stored field gets its default, any other stored
        compute (an extension's) is computed by the ORM afterwards."""
        if not values:
            return self.browse()
        accounts = self.env["social.crm.account"].browse({v["account_id"] for v in values})
        company_of = {account.id: account.company_id.id for account in accounts}
        identities = self.env["social.crm.identity"].browse(
            {v["identity_id"] for v in values if v.get("identity_id")}
        )
        partner_of = {
            identity.id: identity.partner_id.id
            for identity in identities
            if identity.link_state == "confirmed" and identity.partner_id
        }
        rows = []
        for vals in values:
            row = dict(vals)
            row["company_id"] = company_of[vals["account_id"]]
            row["partner_id"] = partner_of.get(vals.get("identity_id"))
            row["needs_review"] = _needs_review(
                vals.get("intent"), vals.get("classification_corrected"), vals.get("confidence")
            )
            rows.append(row)
        given = {name for row in rows for name in row}
        stored = {
            name: field
            for name, field in self._fields.items()
            if field.store and field.column_type and name not in models.LOG_ACCESS_COLUMNS
        }
        defaults = self.default_get(
            [n for n, f in stored.items() if n not in given and not f.compute and n != "id"]
        )
        now, uid = self.env.cr.now(), self.env.uid
        for row in rows:
            for name, value in defaults.items():
                row.setdefault(name, value)
            row.update(create_uid=uid, write_uid=uid, create_date=now, write_date=now)
        names = sorted(given | set(defaults) | set(models.LOG_ACCESS_COLUMNS))
        columns, arrays, stored_cells = [], [], {}
        for name in names:
            field = self._fields[name]
            boolean = field.type == "boolean"
            cells = [row.get(name) for row in rows]
            cells = [bool(c) if boolean else (None if c is False else c) for c in cells]
            columns.append(SQL.identifier(name))
            arrays.append(array(cells, field.column_type[1]))
            stored_cells[field] = cells
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT * FROM unnest(%s)",
                SQL.identifier(self._table),
                SQL(", ").join(columns),
                SQL(", ").join(arrays),
            )
        )
        records = self.browse([row["id"] for row in rows])
        # what create() keeps in step: the inverse one2many lists (an identity's, a
        # contact's interactions) of the records the new rows point at
        for name in names:
            field = self._fields[name]
            inverses = [inverse.name for inverse in self.pool.field_inverses[field]]
            if field.type == "many2one" and inverses:
                targets = {row[name] for row in rows if row.get(name)}
                self.env[field.comodel_name].browse(targets).invalidate_recordset(inverses)
        # then the rows in the cache (after the lists above: invalidating a one2many
        # invalidates its many2one, on every record)
        records._cache_inserted(stored_cells)
        records.modified([n for n in names if n in self._fields], create=True)
        for name, field in stored.items():
            if not field.compute:
                continue
            if name in given:
                # filled above as its compute would: modified() must not have it
                # computed again (an UPDATE of every row just inserted)
                self.env.remove_to_compute(field, records)
            else:  # an extension's stored compute
                self.env.add_to_compute(field, records)
        return records

    def _cache_inserted(self, cells_of):
        """Put the rows just inserted in the cache as a read would (``create()`` does
        the same): the rest of the ingest reads them without a SELECT. ``cells_of``
        maps each field sent to its column's values, in the order of ``self``; a
        field not sent is NULL."""
        for field in self._fields.values():
            kind = field.store and field.column_type and _RAW_IN_CACHE.get(field.type)
            cells = cells_of.get(field, [None] * len(self))
            if kind and field.name != "id" and all(c is None or isinstance(c, kind) for c in cells):
                self.env.cache.insert_missing(self, field, cells)

    def _link_private_notes(self):
        """Point the notes of direct messages at their interaction, which exists now
        (one UPDATE; only direct messages)."""
        private = self.filtered(lambda i: i.kind == "dm" and i.message_id)
        if not private:
            return
        self.env["mail.message"].flush_model(["body"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE mail_message m SET body = v.body
                  FROM unnest(%s::int[], %s::text[]) AS v(id, body)
                 WHERE m.id = v.id
                """,
                private.message_id.ids,
                [str(row._note_body_of_record()) for row in private],
            )
        )
        private.message_id.invalidate_recordset(["body"])

    # -- classification -------------------------------------------------------------------

    @api.model
    def _classify(self, interactions):
        """Classify in one batch and write in one UPDATE; corrections are never touched.

        Interactions without text (likes, reposts, follows) are left unclassified:
        their polarity is 0 for the score, which is what a like without words says.
        """
        todo = interactions.filtered(lambda i: i.text and not i.classification_corrected)
        if not todo:
            return
        results = self._classify_texts(todo.mapped("text"))
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_interaction i
                   SET intent = v.intent, polarity = v.polarity, sentiment = v.label,
                       model_intent = v.intent, model_sentiment = v.label,
                       confidence = v.confidence, needs_review = v.confidence < %s
                  FROM unnest(%s::int[], %s::varchar[], %s::float8[], %s::varchar[],
                              %s::float8[])
                       AS v(id, intent, polarity, label, confidence)
                 WHERE i.id = v.id AND NOT COALESCE(i.classification_corrected, false)
                """,
                sentiment.CONFIDENT_AT,
                todo.ids,
                [r.intent for r in results],
                [r.polarity for r in results],
                [r.label for r in results],
                [r.confidence for r in results],
            )
        )
        todo.invalidate_recordset(
            [
                "intent",
                "polarity",
                "sentiment",
                "model_intent",
                "model_sentiment",
                "confidence",
                "needs_review",
            ]
        )

    @api.model
    def _classify_texts(self, texts):
        """Classify ``texts`` with the model the administrators chose: a remote
        OpenAI-compatible endpoint when one is set in Settings (its monthly counter
        kept in a parameter; any failure falls back to the local model and is
        counted), else the local learned model."""
        return self._classify_texts_started(texts)()

    @api.model
    def _classify_texts_started(self, texts):
        """Begin :meth:`_classify_texts`; return the function that waits for the
        results. The local model runs in a helper process (see the engine's
        ``classifier.helper``) while the caller goes on with its queries; the
        remote one is asked here and now."""
        params = self.env["ir.config_parameter"].sudo()
        url = params.get_param(REMOTE_URL)
        if not url or not any(texts):
            return helper.start(texts)
        results = self._classify_remotely(params, url, texts)
        return lambda: results

    @api.model
    def _classify_remotely(self, params, url, texts):
        try:
            remote = RemoteClassifier(
                url,
                params.get_param(REMOTE_KEY) or "",
                params.get_param(REMOTE_MODEL) or "",
                deadline_s=float(params.get_param(REMOTE_DEADLINE) or 20),
                monthly_cap=int(params.get_param(REMOTE_CAP) or 1000),
                state=json.loads(params.get_param(REMOTE_STATE) or "{}"),
            )
        except (TypeError, ValueError) as error:
            _logger.warning("Social CRM: the remote classifier is misconfigured: %s", error)
            return sentiment.classify_many(texts)
        results = remote.classify_many(texts, [None] * len(texts))
        params.set_param(REMOTE_STATE, json.dumps(remote.state.to_dict()))
        return results

    @api.model
    def _classifier_review(self):
        """How often people corrected the classifier, from the interactions it
        classified: {"classified", "intent_corrected", "sentiment_corrected"}."""
        self.flush_model(_REVIEWED)
        query = self._search([("model_intent", "!=", False)])
        column = {name: SQL.identifier(query.table, name) for name in _REVIEWED}
        self.env.cr.execute(
            query.select(
                SQL("count(*)"),
                SQL(
                    "count(*) FILTER (WHERE %s IS DISTINCT FROM %s)",
                    column["intent"],
                    column["model_intent"],
                ),
                SQL(
                    "count(*) FILTER (WHERE %s IS DISTINCT FROM %s)",
                    column["sentiment"],
                    column["model_sentiment"],
                ),
            )
        )
        classified, intents, sentiments = self.env.cr.fetchone()
        return {
            "classified": classified,
            "intent_corrected": intents,
            "sentiment_corrected": sentiments,
        }

    # -- answering as the brand -----------------------------------------------------------

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
                    kind=dict(KINDS).get(self.kind, self.kind),
                    network=dict(network_selection(self)).get(self.network),
                )
            )

    def _social_crm_network_call(self, method, *args):
        """Run one write on the network through the account's connector; a network
        failure becomes a clear message and rolls back everything (nothing is
        logged as done that was not)."""
        self.ensure_one()
        # only who may answer as the brand gets here; the account and its
        # credentials stay out of their reach
        self._check_may_answer()
        account = self.account_id.sudo()
        with account._connector() as connector:
            try:
                return getattr(connector, method)(*args)
            except ValueError as error:  # text checks: empty, too long
                raise UserError(str(error)) from error
            except ConnectorError as error:
                raise UserError(account._social_crm_error_message(error)) from error

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
        """A note where staff will look: the contact's chatter, else the account's.
        The note is linked to the interaction, so erasing the person finds it."""
        self.ensure_one()
        if self.partner_id:
            (message_id,) = (
                self.env["res.partner"]
                .sudo()
                ._social_crm_log_notes(
                    [(self.partner_id.id, body)],
                    subtype_xmlid="social_crm_module.mt_social_interaction",
                )
            )
        else:
            message_id = (
                self.account_id.sudo().message_post(body=body, subtype_xmlid="mail.mt_note").id
            )
        # linked to the interaction: erase and retention find it by the link
        self._social_crm_link_messages(self.env["mail.message"].browse(message_id))

    # -- erase, retention ------------------------------------------------------------

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
