from markupsafe import Markup

from odoo import api, fields, models

from ..social_crm_module import sentiment
from .social_crm_account import network_selection
from .social_crm_interaction import INTENTS


def _confident(confidence):
    return (confidence or 0.0) >= sentiment.CONFIDENT_AT


class SocialCrmRoutingRule(models.Model):
    """What happens to an interaction of a given intent: an activity or a lead."""

    _name = "social.crm.routing.rule"
    _description = "Social CRM routing rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    intent = fields.Selection(INTENTS, required=True)
    action = fields.Selection(
        [("activity", "Schedule an activity"), ("lead", "Create a lead")],
        required=True,
        default="activity",
    )
    user_id = fields.Many2one(
        "res.users",
        "Assign to",
        help="Used when the contact has no salesperson (activities) and for leads.",
    )
    team_id = fields.Many2one("crm.team", "Sales team")
    only_prospects = fields.Boolean(
        "Only unknown authors and non-customers",
        default=True,
        help="Leads: skip people who already have a confirmed sale order.",
    )

    @api.model
    def _decide(self, company, values):
        """Set ``routed`` in the create values of the interactions a rule of
        ``company`` will act on, so the ingest's INSERT carries it (an UPDATE of a
        row in the transaction that inserted it re-checks its foreign keys and
        rewrites its index entries). :meth:`_route` with ``flagged`` acts on them."""
        intents = set(
            self.sudo().search([("company_id", "in", [False, company.id])]).mapped("intent")
        )
        for vals in values:
            if vals.get("intent") in intents and _confident(vals.get("confidence")):
                vals["routed"] = True

    @api.model
    def _route(self, interactions, *, flagged=False):
        """Apply the first matching rule to each interaction, once (``routed``: a rule
        decided on it). ``flagged``: the ingest stored ``routed`` already
        (:meth:`_decide`); those are acted on and the flag is not written again."""
        # only what the classifier was sure of, or what a person corrected: the rest
        # waits in the classifier review (needs_review)
        todo = interactions.filtered(
            lambda i: (
                i.intent
                and (i.routed if flagged else not i.routed)
                and (i.classification_corrected or _confident(i.confidence))
            )
        )
        if not todo:
            return
        # a company's rules act on its own accounts' interactions only (a rule
        # without a company acts for every company)
        rules = self.sudo().search(
            [
                ("intent", "in", list(set(todo.mapped("intent")))),
                ("company_id", "in", [False, *todo.company_id.ids]),
            ]
        )
        customers = set(
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [("partner_id", "in", todo.partner_id.ids), ("state", "=", "sale")],
                ["partner_id"],
            )
        )
        customer_ids = {partner.id for (partner,) in customers}
        activities, leads, decided = [], [], []
        for interaction in todo:
            rule = next(
                (
                    r
                    for r in rules
                    if r.intent == interaction.intent
                    and r.company_id in (interaction.company_id, r.company_id.browse())
                ),
                None,
            )
            if not rule:
                continue
            decided.append(interaction.id)
            if rule.action == "activity":
                activities.append((rule, interaction))
            elif not (rule.only_prospects and interaction.partner_id.id in customer_ids):
                leads.append((rule, interaction))
        self._route_activities(activities)
        self._route_leads(leads)
        if not flagged:
            # only the interactions a rule decided on are flagged
            self.env["social.crm.interaction"].browse(decided).sudo().write({"routed": True})

    def _route_activities(self, pairs):
        """A to-do per (record, assignee, intent, author) at a time: while one is open,
        that author's next posts of the same intent are on it already (the contact's
        history shows them all), so a person who writes five complaints in a row makes
        one to-do, not five."""
        if not pairs:
            return
        todo_type = self.env.ref("mail.mail_activity_data_todo")
        values, memo = [], {}
        open_keys = self._route_open_todo_keys(pairs)
        for rule, interaction in pairs:
            partner = interaction.partner_id
            record = partner or interaction.account_id
            user = self._route_assignee(rule, interaction, record, memo)
            model_id = self.env["ir.model"]._get_id(record._name)
            key = (model_id, record.id, user.id, interaction.intent, interaction.identity_id.id)
            if key in open_keys:
                continue
            open_keys.add(key)
            values.append(
                {
                    "res_model_id": model_id,
                    "res_id": record.id,
                    "activity_type_id": todo_type.id,
                    "summary": self.env._(
                        "%(intent)s from %(handle)s",
                        intent=dict(INTENTS)[interaction.intent],
                        handle=interaction.identity_id.handle or "",
                    ),
                    "note": Markup("<p>{}</p><p>{}</p>").format(
                        interaction.text or "", interaction.url or ""
                    ),
                    "user_id": user.id,
                    "social_crm_interaction_id": interaction.id,
                }
            )
        # no "assigned to you" message: it would copy what the person said into a
        # notification (and maybe an email) that erasure cannot find again; the
        # to-do shows in the assignee's activities
        Activity = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True)
        # Odoo subscribes the assignee once per activity: two activities for the same
        # user on the same record in one create() would insert that follower twice.
        # So one create() per layer: the n-th to-do of each (record, user) pair
        # goes in layer n.
        layers, count = [], {}
        for vals in values:
            key = (vals["res_model_id"], vals["res_id"], vals["user_id"])
            n = count.get(key, 0)
            count[key] = n + 1
            if n == len(layers):
                layers.append([])
            layers[n].append(vals)
        for layer in layers:
            Activity.create(layer)

    def _route_open_todo_keys(self, pairs):
        """(model, record, assignee, intent, author) of the routed to-dos still open
        for the authors of ``pairs``, in one query."""
        identity_ids = list({interaction.identity_id.id for _rule, interaction in pairs})
        self.env["mail.activity"].flush_model(["res_model_id", "res_id", "user_id", "active"])
        self.env["social.crm.interaction"].flush_model(["intent", "identity_id"])
        self.env.cr.execute(
            """
            SELECT a.res_model_id, a.res_id, a.user_id, i.intent, i.identity_id
              FROM unnest(%s::int[]) AS author(id)
             -- index probes (by author, then by interaction) whatever the planner's
             -- statistics say of tables that grew since they were taken: OFFSET 0
             -- keeps each LATERAL from being flattened into a join it could hash
             CROSS JOIN LATERAL (
                   SELECT id, intent, identity_id FROM social_crm_interaction
                    WHERE identity_id = author.id
                   OFFSET 0) i
             CROSS JOIN LATERAL (
                   SELECT res_model_id, res_id, user_id FROM mail_activity
                    WHERE social_crm_interaction_id = i.id AND active
                   OFFSET 0) a
            """,
            [identity_ids],
        )
        return set(self.env.cr.fetchall())

    def _route_assignee(self, rule, interaction, record, memo=None):
        """Who answers: the contact's salesperson, the rule's user, the leader of the
        rule's sales team, whoever set up the account or created the record, else a
        Social CRM manager; never a user nobody reads for (OdooBot, an archived or a
        portal user). ``memo`` keeps, for one page, what is known of each user and
        the fallback manager, so a page does not ask again per interaction."""
        memo = {} if memo is None else memo
        candidates = [
            interaction.partner_id.user_id,
            rule.user_id,
            rule.team_id.user_id,
            interaction.account_id.create_uid,
            record.create_uid,
        ]
        for user in candidates:
            if not user:
                continue
            if user.id not in memo:
                memo[user.id] = bool(
                    user.active and user._is_internal() and not user._is_superuser()
                )
            if memo[user.id]:
                return user
        if "fallback" not in memo:
            managers = self.env.ref("social_crm_module.group_social_crm_manager").sudo().users
            memo["fallback"] = (
                managers.filtered(lambda u: u.active and not u._is_superuser())[:1] or self.env.user
            )
        return memo["fallback"]

    def _route_leads(self, pairs):
        """A lead per prospect at a time: while the lead made of an author's earlier
        post is open (neither won nor lost), their next buying posts join it."""
        if not pairs:
            return
        Utm = self.env["utm.mixin"]
        medium = Utm._find_or_create_record("utm.medium", "Social")
        networks = dict(network_selection(self))
        open_leads = self._route_open_leads(pairs)
        values, joining, firsts, sources = [], [], {}, {}
        for rule, interaction in pairs:
            author = interaction.identity_id.id
            if author in open_leads:
                joining.append((interaction, open_leads[author]))
                continue
            if author in firsts:  # the same author twice in one page: one lead
                joining.append((interaction, firsts[author]))
                continue
            firsts[author] = interaction
            network = networks.get(interaction.network, interaction.network)
            if network not in sources:
                sources[network] = Utm._find_or_create_record("utm.source", network).id
            handle = interaction.identity_id.handle or ""
            values.append(
                {
                    "name": self.env._(
                        "Purchase intent from %(handle)s on %(network)s",
                        handle=handle,
                        network=network,
                    ),
                    "type": "lead",
                    "partner_id": interaction.partner_id.id,
                    "contact_name": (
                        interaction.identity_id.display_name_network or handle
                        if not interaction.partner_id
                        else False
                    ),
                    "description": Markup("<p>{}</p>").format(interaction.text or ""),
                    "source_id": sources[network],
                    "medium_id": medium.id,
                    "user_id": rule.user_id.id,
                    "team_id": rule.team_id.id,
                    "social_interaction_id": interaction.id,
                    "company_id": interaction.company_id.id,
                }
            )
        leads = self.env["crm.lead"].sudo().create(values)
        lead_of = {lead.social_interaction_id.id: lead.id for lead in leads}
        for interaction, joined in joining:
            # an open lead, or the author's first post of this page (its lead now exists)
            lead_of[interaction.id] = joined if isinstance(joined, int) else lead_of[joined.id]
        if not lead_of:
            return
        # one UPDATE for the page, not a write per lead
        self.env.cr.execute(
            """
            UPDATE social_crm_interaction i SET lead_id = v.lead_id
              FROM unnest(%s::int[], %s::int[]) AS v(id, lead_id)
             WHERE i.id = v.id AND i.id = ANY(%s)
            """,
            [list(lead_of), list(lead_of.values()), list(lead_of)],
        )
        self.env["social.crm.interaction"].browse(lead_of).invalidate_recordset(["lead_id"])

    def _route_open_leads(self, pairs):
        """{author: id of their open lead} for the authors of ``pairs`` (the newest lead
        routing made of one of their posts, neither won nor lost), in one query."""
        identity_ids = list({interaction.identity_id.id for _rule, interaction in pairs})
        # not the probability: computing it for the leads of the pages before (Odoo's
        # lead scoring) is left to the end of the transaction, as Odoo does; a lead
        # whose probability is not stored yet was made in it, and is open
        self.env["crm.lead"].flush_model(["active"])
        self.env["social.crm.interaction"].flush_model(["identity_id", "lead_id"])
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (i.identity_id) i.identity_id, l.id
              FROM unnest(%s::int[]) AS author(id)
             CROSS JOIN LATERAL (  -- index probes, as for the open to-dos
                   SELECT identity_id, lead_id FROM social_crm_interaction
                    WHERE identity_id = author.id AND lead_id IS NOT NULL
                   OFFSET 0) i
             CROSS JOIN LATERAL (
                   SELECT id FROM crm_lead
                    WHERE id = i.lead_id
                      AND active  -- lost is archived
                      AND COALESCE(probability, 0) < 100  -- won is 100
                   OFFSET 0) l
             ORDER BY i.identity_id, l.id DESC
            """,
            [identity_ids],
        )
        return dict(self.env.cr.fetchall())
