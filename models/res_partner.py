from odoo import api, fields, models
from odoo.tools import SQL

RECENT_INTERACTIONS = 10


class ResPartner(models.Model):
    _inherit = "res.partner"

    social_identity_ids = fields.One2many(
        "social.crm.identity",
        "partner_id",
        string="Social identities",
        domain=[("link_state", "=", "confirmed")],
    )
    social_interaction_ids = fields.One2many(
        "social.crm.interaction", "partner_id", string="Social interactions"
    )
    social_interaction_count = fields.Integer(
        "Social interactions count", compute="_compute_social_interaction_count"
    )
    social_recent_interaction_ids = fields.Many2many(
        "social.crm.interaction",
        string="Recent social interactions",
        compute="_compute_social_recent_interaction_ids",
    )
    social_last_interaction_at = fields.Datetime(
        "Last social interaction", readonly=True, index=True, copy=False
    )
    social_opt_out = fields.Boolean(
        "Social opt-out",
        tracking=True,
        help="No campaign messages and no direct messages on any network. Public "
        "interactions are still shown to staff unless tracking is also refused.",
    )
    social_do_not_track = fields.Boolean(
        "Do not track socially",
        tracking=True,
        help="No new interactions are stored for this person's identities.",
    )

    @api.depends("social_interaction_ids")
    def _compute_social_interaction_count(self):
        counts = dict(
            self.env["social.crm.interaction"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.social_interaction_count = counts.get(partner, 0)

    @api.depends("social_interaction_ids.date")
    def _compute_social_recent_interaction_ids(self):
        """The latest interactions of every contact in ``self`` in one query: a
        top-N per contact on the (partner_id, date, id) index, so a contact with
        10,000 interactions reads ten rows, and a list of contacts runs no query
        per row. The domain carries the record rules."""
        Interaction = self.env["social.crm.interaction"]
        partners = self.filtered("id")
        recent = {}
        if partners:
            Interaction.flush_model(["partner_id", "date"])
            query = Interaction._search([("partner_id", "in", partners.ids)])
            column = SQL.identifier(query.table, "partner_id")
            self.env.cr.execute(
                SQL(
                    """
                    SELECT p.pid, top.id
                      FROM unnest(%(ids)s::int[]) AS p(pid)
                CROSS JOIN LATERAL (
                        SELECT %(id)s AS id, %(date)s AS date FROM %(from)s
                         WHERE %(where)s AND %(column)s = p.pid
                      ORDER BY %(date)s DESC, %(id)s DESC
                         LIMIT %(limit)s
                    ) top
                  ORDER BY p.pid, top.date DESC, top.id DESC
                    """,
                    ids=partners.ids,
                    id=SQL.identifier(query.table, "id"),
                    date=SQL.identifier(query.table, "date"),
                    column=column,
                    limit=RECENT_INTERACTIONS,
                    **{"from": query.from_clause, "where": query.where_clause},
                )
            )
            for partner_id, interaction_id in self.env.cr.fetchall():
                recent.setdefault(partner_id, []).append(interaction_id)
        for partner in self:
            partner.social_recent_interaction_ids = Interaction.browse(recent.get(partner.id, []))

    def action_view_social_interactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "social_crm_module.social_crm_interaction_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action
