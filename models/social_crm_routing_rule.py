from markupsafe import Markup

from odoo import api, fields, models

from ..social_crm_module import sentiment
from .social_crm_account import network_selection
from .social_crm_interaction import INTENTS


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
    def _route(self, interactions):
        """Apply the first matching rule to each interaction, once (``routed``: a rule
        decided on it)."""
        # only what the classifier was sure of, or what a person corrected: the rest
        # waits in the classifier review (needs_review)
        todo = interactions.filtered(
            lambda i: (
                i.intent
                and not i.routed
                and (i.classification_corrected or i.confidence >= sentiment.CONFIDENT_AT)
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
        activities, leads = [], []
        # only the interactions a rule decided on are flagged: an UPDATE of a row in
        # the transaction that inserted it re-checks all its foreign keys
        decided = self.env["social.crm.interaction"]
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
            decided |= interaction
            if rule.action == "activity":
                activities.append((rule, interaction))
            elif not (rule.only_prospects and interaction.partner_id.id in customer_ids):
                leads.append((rule, interaction))
        self._route_activities(activities)
        self._route_leads(leads)
        decided.sudo().write({"routed": True})

    def _route_activities(self, pairs):
        if not pairs:
            return
        todo_type = self.env.ref("mail.mail_activity_data_todo")
        values, memo = [], {}
        for rule, interaction in pairs:
            partner = interaction.partner_id
            record = partner or interaction.account_id
            user = self._route_assignee(rule, interaction, record, memo)
            values.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id(record._name),
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
        # goes in layer n, and a page with five complaints per contact makes five
        # creates, not one per repeat.
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
        if not pairs:
            return
        Utm = self.env["utm.mixin"]
        medium = Utm._find_or_create_record("utm.medium", "Social")
        networks = dict(network_selection(self))
        values = []
        for rule, interaction in pairs:
            network = networks.get(interaction.network, interaction.network)
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
                    "source_id": Utm._find_or_create_record("utm.source", network).id,
                    "medium_id": medium.id,
                    "user_id": rule.user_id.id,
                    "team_id": rule.team_id.id,
                    "social_interaction_id": interaction.id,
                    "company_id": interaction.company_id.id,
                }
            )
        leads = self.env["crm.lead"].sudo().create(values)
        for lead in leads:
            lead.social_interaction_id.sudo().lead_id = lead
