import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..social_crm_module import scoring
from .social_crm_account import network_selection
from .social_crm_advocate import TIERS

RECENT_INTERACTIONS = 10
PARAMS_KEY = "social_crm_module.scoring_params"
SEARCH_OPERATORS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: b is not False and a < b,
    "<=": lambda a, b: b is not False and a <= b,
    ">": lambda a, b: b is not False and a > b,
    ">=": lambda a, b: b is not False and a >= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
#: partner field -> social.crm.advocate field
ADVOCATE_FIELDS = {
    "advocate_score": "score",
    "advocate_tier": "tier",
    "advocate_rank": "rank",
    "advocate_engagement": "engagement",
    "advocate_reach": "reach",
    "advocate_sentiment": "sentiment",
    "advocate_recency": "recency",
    "advocate_referrals": "referrals",
    "advocate_redemptions": "redemptions",
    "advocate_scored_at": "scored_at",
}
RETENTION_KEY = "social_crm_module.retention_days"


class ResPartner(models.Model):
    """A contact's social side: identities and history, advocate score, and their
    control over their data (opt-out, do-not-track, erase on request).

    The score's formula is the engine's (``social_crm_module/scoring.py``); the
    recompute is one set-based statement in ``social.crm.advocate._recompute``,
    checked against the Python reference on random data.
    """

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
    social_crm_campaign_id = fields.Many2one(
        "social.crm.campaign",
        "Created by campaign",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        copy=False,
    )
    advocate_ids = fields.One2many("social.crm.advocate", "partner_id", readonly=True)
    advocate_score = fields.Float(
        digits=(5, 2),
        compute="_compute_advocate",
        search="_search_advocate_score",
        help="From 0 to 100.",
    )
    advocate_tier = fields.Selection(
        TIERS, compute="_compute_advocate", search="_search_advocate_tier"
    )
    advocate_rank = fields.Integer(compute="_compute_advocate", search="_search_advocate_rank")
    advocate_engagement = fields.Float("Engagement", digits=(7, 3), compute="_compute_advocate")
    advocate_reach = fields.Float("Reach", digits=(7, 3), compute="_compute_advocate")
    advocate_sentiment = fields.Float("Sentiment", digits=(7, 3), compute="_compute_advocate")
    advocate_recency = fields.Float("Recency", digits=(7, 3), compute="_compute_advocate")
    advocate_referrals = fields.Float("Referrals", digits=(7, 3), compute="_compute_advocate")
    advocate_redemptions = fields.Float("Redemptions", digits=(7, 3), compute="_compute_advocate")
    advocate_scored_at = fields.Datetime("Scored at", compute="_compute_advocate")
    advocate_referral_count = fields.Integer("Referrals made", readonly=True, copy=False)
    advocate_redemption_count = fields.Integer("Coupons redeemed", readonly=True, copy=False)
    advocate_networks = fields.Char("Networks", compute="_compute_advocate_networks")
    advocate_explanation = fields.Text("Why this score", compute="_compute_advocate_explanation")

    # counted over the interactions the user may read
    @api.depends_context("uid", "allowed_company_ids")
    @api.depends("social_interaction_ids")
    def _compute_social_interaction_count(self):
        tally = self._social_tally()
        if tally is not None:  # the tally the database keeps: a few rows a contact
            for partner in self:
                kinds = tally.get(partner.id, {}).values()
                partner.social_interaction_count = sum(p + n for p, n in kinds)
            return
        counts = dict(
            self.env["social.crm.interaction"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.social_interaction_count = counts.get(partner, 0)

    def _social_tally(self):
        """{partner_id: {kind: (positives, negatives)}} of ``self``'s interactions the
        user may read, from the tally (None when record rules other than the
        company's apply: count the interactions then)."""
        return self.env["social.crm.partner.tally"]._counts(self.filtered("id").ids)

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

    @api.depends("advocate_ids")
    def _compute_advocate(self):
        rows = {
            row.partner_id.id: row
            for row in self.env["social.crm.advocate"]
            .sudo()
            .search([("partner_id", "in", self.ids)])
        }
        defaults = dict.fromkeys(ADVOCATE_FIELDS, 0) | {
            "advocate_tier": "none",
            "advocate_scored_at": False,
        }
        for partner in self:
            row = rows.get(partner.id)
            partner.update(
                {name: row[column] for name, column in ADVOCATE_FIELDS.items()} if row else defaults
            )

    def _search_advocate_score(self, operator, value):
        return self._search_advocate_column("score", 0.0, operator, value)

    def _search_advocate_tier(self, operator, value):
        return self._search_advocate_column("tier", "none", operator, value)

    def _search_advocate_rank(self, operator, value):
        return self._search_advocate_column("rank", 0, operator, value)

    def _search_advocate_column(self, column, default, operator, value):
        """Contacts whose score row matches; contacts without a row have ``default``."""
        if operator not in SEARCH_OPERATORS:
            raise ValidationError(
                self.env._(
                    "Unsupported search on advocate %(column)s: %(operator)s",
                    column=column,
                    operator=operator,
                )
            )
        scored = self.env["social.crm.advocate"]._search([(column, operator, value)])
        domain = [("id", "in", scored.subselect("partner_id"))]
        if SEARCH_OPERATORS[operator](default, value):
            domain = ["|", ("advocate_ids", "=", False), *domain]
        return domain

    @api.depends("social_identity_ids.network")
    def _compute_advocate_networks(self):
        labels = dict(network_selection(self))
        groups = self.env["social.crm.identity"]._read_group(
            [("partner_id", "in", self.ids), ("link_state", "=", "confirmed")],
            ["partner_id", "network"],
        )
        networks = {}
        for partner, network in groups:
            networks.setdefault(partner.id, []).append(labels.get(network, network))
        for partner in self:
            partner.advocate_networks = ", ".join(sorted(networks.get(partner.id, [])))

    # the kinds it cites are those of the interactions the user may read
    @api.depends_context("uid", "allowed_company_ids")
    @api.depends(
        "advocate_score",
        "advocate_engagement",
        "advocate_reach",
        "advocate_sentiment",
        "advocate_recency",
        "advocate_referrals",
        "advocate_redemptions",
    )
    def _compute_advocate_explanation(self):
        params = self._advocate_params()
        tiers = dict(TIERS)
        kinds, negatives = self._advocate_kind_counts()
        for partner in self:
            breakdown = scoring.Breakdown(
                engagement=partner.advocate_engagement,
                reach=partner.advocate_reach,
                sentiment=partner.advocate_sentiment,
                recency=partner.advocate_recency,
                referrals=partner.advocate_referrals,
                redemptions=partner.advocate_redemptions,
                total=partner.advocate_score,
                tier=partner.advocate_tier or "none",
                kinds={k: n for k, n in kinds.get(partner.id, {}).items() if n},
                negatives=negatives.get(partner.id, 0),
            )
            lines = [
                self.env._(
                    "%(name)s is %(tier)s with %(score).1f / 100.",
                    name=partner.name or "",
                    tier=tiers.get(partner.advocate_tier or "none"),
                    score=partner.advocate_score,
                )
            ]
            lines += breakdown.explain(params)
            partner.advocate_explanation = "\n".join(lines)

    def _advocate_kind_counts(self):
        """Per contact: {kind: interactions counted as engagement} and the number of
        negative ones (polarity < 0), the score's own split: from the tally the
        database keeps (a contact with 10,000 interactions reads a few rows), or
        counted when record rules other than the company's apply."""
        tally = self._social_tally()
        if tally is None:
            tally = {}
            Interaction = self.env["social.crm.interaction"]
            groups = Interaction._read_group(
                [("partner_id", "in", self.ids)], ["partner_id", "kind"], ["__count"]
            )
            negative = {
                (partner, kind): count
                for partner, kind, count in Interaction._read_group(
                    [("partner_id", "in", self.ids), ("polarity", "<", 0)],
                    ["partner_id", "kind"],
                    ["__count"],
                )
            }
            for partner, kind, count in groups:
                neg = negative.get((partner, kind), 0)
                tally.setdefault(partner.id, {})[kind] = (count - neg, neg)
        kinds, negatives = {}, {}
        for partner_id, by_kind in tally.items():
            kinds[partner_id] = {kind: pos for kind, (pos, _neg) in by_kind.items() if pos}
            negatives[partner_id] = sum(neg for _pos, neg in by_kind.values())
        return kinds, negatives

    # -- actions ---------------------------------------------------------------------

    def action_advocate_recompute(self):
        self.ensure_one()
        self._advocate_recompute(self.ids)
        return True

    # -- business ----------------------------------------------------------------------

    @api.model
    def _advocate_params(self):
        raw = self.env["ir.config_parameter"].sudo().get_param(PARAMS_KEY)
        if not raw:
            return scoring.ScoringParams()
        try:
            return scoring.ScoringParams.from_mapping(json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                self.env._("The advocate scoring settings are invalid: %s", exc)
            ) from exc

    @api.model
    def _advocate_input_sql(self):
        """SQL yielding (partner_id, referrals, redemptions); campaigns may override."""
        return (
            "SELECT id AS partner_id, advocate_referral_count AS referrals, "
            "advocate_redemption_count AS redemptions FROM res_partner "
            "WHERE advocate_referral_count > 0 OR advocate_redemption_count > 0"
        )

    @api.model
    def _cron_advocate_recompute(self):
        # the nightly run also folds the interaction tally's rows of busy contacts,
        # and drops the scores of contacts deleted without the ORM
        self.env["social.crm.partner.tally"]._compact()
        self.env["social.crm.advocate"]._drop_orphans()
        self._advocate_recompute()

    @api.model
    def _advocate_recompute(self, partner_ids=None, now=None):
        """Recompute scores set-based, log tier changes once; return how many changed."""
        changed = self.env["social.crm.advocate"]._recompute(partner_ids, now=now)
        self.invalidate_model([*ADVOCATE_FIELDS, "advocate_explanation"])
        self._advocate_log_tier_changes(changed)
        return len(changed)

    @api.model
    def _advocate_log_tier_changes(self, changed):
        """One chatter note per contact whose tier changed, in one batch."""
        if not changed:
            return
        tiers = dict(TIERS)
        # the names alone, not the contacts: browsing 16,000 of them (a nightly run at
        # 1M contacts) would load every field of each into the cache
        self.flush_model(["name"])
        self.env.cr.execute(
            SQL("SELECT id, name FROM res_partner WHERE id = ANY(%s)", list(changed))
        )
        bodies = {
            partner_id: self.env._(
                "%(name)s is now %(tier)s.",
                name=name or "",
                tier=tiers.get(changed[partner_id], changed[partner_id]),
            )
            for partner_id, name in self.env.cr.fetchall()
        }
        self._social_crm_log_notes(bodies, subtype_xmlid="social_crm_module.mt_advocate_tier")

    def unlink(self):
        # the advocate table has no foreign key to cascade (social.crm.advocate): its
        # rows go once the contacts are gone, that is once unlink() has checked that
        # this user may delete them
        ids = self.ids
        result = super().unlink()
        self.env["social.crm.advocate"].flush_model()
        self.env.cr.execute(SQL("DELETE FROM social_crm_advocate WHERE partner_id = ANY(%s)", ids))
        if self.env.cr.rowcount:
            self.env["social.crm.advocate"].invalidate_model()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_campaign_coupon(self):
        """A contact holding a campaign coupon is archived, not deleted: deleting it
        would drop the coupon line and leave the personal coupon usable by anyone."""
        held = (
            self.env["social.crm.campaign.recipient"]
            .sudo()
            .search([("partner_id", "in", self.ids)], limit=1)
        )
        if held:
            raise UserError(
                self.env._(
                    "%s holds a coupon from a social campaign: archive the contact "
                    "instead of deleting it.",
                    held.partner_id.display_name,
                )
            )

    def action_social_erase(self):
        """Delete this person's identities, interactions, social chatter notes and
        score; leave one anonymous note that an erasure happened (managers only)."""
        self.ensure_one()
        if not self.env.user.has_group("social_crm_module.group_social_crm_manager"):
            raise AccessError(self.env._("Only Social CRM managers can erase social data."))
        self.sudo()._social_erase()
        # one anonymous trace: no handle, no text, only that it happened and when
        self.sudo()._social_crm_log_notes(
            {self.id: self.env._("Social data erased on request (%s).", fields.Date.today())}
        )
        return True

    def _social_erase(self):
        """Everything the add-on wrote about these people, found by its links (ids,
        model and res_id, link tables), never by searching text; the erased
        authors are remembered as salted hashes so the next sync stores nothing."""
        identities = self.env["social.crm.identity"].search(
            ["|", ("partner_id", "in", self.ids), ("rejected_partner_ids", "in", self.ids)]
        )
        # rejected pairs only remember that this person is NOT that identity: forget it
        rejected_only = identities.filtered(lambda i: i.partner_id not in self)
        rejected_only.write({"rejected_partner_ids": [(3, pid) for pid in self.ids]})
        mine = identities - rejected_only
        interactions = self.env["social.crm.interaction"].search(
            ["|", ("partner_id", "in", self.ids), ("identity_id", "in", mine.ids)]
        )
        subtypes = self.env.ref("social_crm_module.mt_social_interaction") | self.env.ref(
            "social_crm_module.mt_advocate_tier"
        )
        notes = self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "in", self.ids),
                ("subtype_id", "in", subtypes.ids),
            ]
        )
        notes.unlink()
        self._social_erase_coupons()
        self.env["social.crm.erased"]._remember(mine.mapped(lambda i: (i.network, i.external_id)))
        names = set(mine.mapped("handle")) | set(mine.mapped("display_name_network"))
        interactions._social_crm_forget(names)
        mine.unlink()
        self.env["social.crm.advocate"].search([("partner_id", "in", self.ids)]).unlink()
        self.write(
            {
                "social_last_interaction_at": False,
                "advocate_referral_count": 0,
                "advocate_redemption_count": 0,
            }
        )

    def _social_erase_coupons(self):
        """The coupons stay (the company's sales records, still bound to the person);
        the notes and emails that carried their codes, and where they were posted
        on a network, go."""
        recipients = self.env["social.crm.campaign.recipient"].search(
            [("partner_id", "in", self.ids)]
        )
        if not recipients:
            return
        mails = recipients.mail_id
        messages = recipients.note_message_id | mails.mail_message_id
        recipients.write(
            {
                "social_url": False,
                "social_error": False,
                "email_error": False,
                "note_message_id": False,
                "mail_id": False,
            }
        )
        mails.unlink()
        messages.exists().unlink()

    @api.model
    def _social_erase_leads(self, leads, names=()):
        """Leads made from the person's posts stay (they are the company's sales
        records) without what the person said: no text, no handle in their name,
        on the lead nor on its messages (their stored record name, the "assigned
        to you" notification that quoted it)."""
        if not leads:
            return
        names = {name for name in names if name}
        leads = leads.sudo().with_context(tracking_disable=True)
        erased = self.env._("Purchase intent (social data erased)")
        leads.write({"name": erased, "description": False})
        leads.filtered(lambda lead: lead.contact_name in names).contact_name = False
        messages = (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", "crm.lead"), ("res_id", "in", leads.ids)])
        )
        messages.filtered(lambda m: m.message_type == "user_notification").unlink()
        (messages.exists()).write({"record_name": erased})

    @api.model
    def _cron_social_retention(self):
        """Purge interactions older than the retention setting, with what was written
        about them (as erase does), and the identities left without interactions."""
        days = int(self.env["ir.config_parameter"].sudo().get_param(RETENTION_KEY, 0) or 0)
        if days <= 0:
            return 0
        cutoff = fields.Datetime.now() - timedelta(days=days)
        Interaction = self.env["social.crm.interaction"].sudo()
        purged = 0
        while True:
            batch = Interaction.search([("date", "<", cutoff)], limit=5000)
            if not batch:
                return purged
            identities = batch.identity_id
            names = set(identities.mapped("handle")) | set(
                identities.mapped("display_name_network")
            )
            batch._social_crm_forget(names)
            left = set(
                Interaction._read_group([("identity_id", "in", identities.ids)], ["identity_id"])
            )
            left_ids = {identity.id for (identity,) in left}
            identities.filtered(lambda i, left_ids=left_ids: i.id not in left_ids).unlink()
            purged += len(batch)
