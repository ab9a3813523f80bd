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

    def _compute_social_recent_interaction_ids(self):
        """The latest interactions of every contact in ``self`` in one query (a list
        of contacts would otherwise run one search per row)."""
        Interaction = self.env["social.crm.interaction"]
        partners = self.filtered("id")
        recent = {}
        if partners:
            query = Interaction._search([("partner_id", "in", partners.ids)])
            query.order = SQL("partner_id")  # any order: ranked in the window below
            self.env.cr.execute(
                SQL(
                    """
                    SELECT partner_id, id FROM (
                        SELECT i.partner_id, i.id,
                               row_number() OVER (PARTITION BY i.partner_id
                                                  ORDER BY i.date DESC, i.id DESC) AS n
                          FROM social_crm_interaction i
                         WHERE i.id IN %(allowed)s
                    ) ranked
                     WHERE n <= %(limit)s
                  ORDER BY partner_id, n
                    """,
                    allowed=query.subselect(),
                    limit=RECENT_INTERACTIONS,
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
