from datetime import timedelta
from string import Formatter

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression

from .social_crm_account import NETWORKS
from .social_crm_advocate import TIERS

#: placeholders the reward message may use
PLACEHOLDERS = ("code", "name", "link")
DEFAULT_MESSAGE = "Thank you {name}! Here is your coupon: {code}"


def template_fields(template):
    """The placeholder names used in ``template``; raises ValueError on bad braces."""
    return {name for _text, name, _spec, _conv in Formatter().parse(template or "") if name}


def render(template, **values):
    """Fill the reward message; values are plain text, missing ones become ''."""
    return (template or "").format_map({key: values.get(key) or "" for key in PLACEHOLDERS})


class SocialCrmCampaign(models.Model):
    """A social coupon campaign on top of an Odoo coupon program.

    Either a *segment* (a domain over contacts, sent once on demand) or an
    *always-on trigger* (the sync issues a coupon to whoever follows, mentions a
    hashtag or reposts a chosen post while the campaign runs).
    """

    _name = "social.crm.campaign"
    _description = "Social Coupon Campaign"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [("draft", "Draft"), ("running", "Running"), ("done", "Done")],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    utm_campaign_id = fields.Many2one(
        "utm.campaign",
        "UTM campaign",
        ondelete="restrict",
        copy=False,
        help="Created with the campaign if left empty, so Odoo's reports see it.",
    )
    program_id = fields.Many2one(
        "loyalty.program",
        "Coupon program",
        required=True,
        ondelete="restrict",
        domain=[("program_type", "=", "coupons")],
        tracking=True,
    )
    coupon_kind = fields.Selection(
        string="Coupon kind",
        selection=[
            ("personal", "Personal coupon"),
            ("referral", "Referral code"),
        ],
        default="personal",
        required=True,
        help="A personal coupon is refused on anyone else's order. A referral code is "
        "the advocate's to share: each order by someone else credits the advocate.",
    )
    points_granted = fields.Float("Coupon points", default=1.0)
    validity_days = fields.Integer(
        "Valid for (days)", default=30, help="0 means the coupon does not expire."
    )
    limit_per_person = fields.Integer(
        "Coupons per person", default=1, help="The most coupons one person can get."
    )
    message_template = fields.Text(
        "Reward message",
        required=True,
        default=DEFAULT_MESSAGE,
        translate=True,
        help="Placeholders: {code} the coupon code, {name} the person's name, "
        "{link} the tracked link to the landing page.",
    )
    link_url = fields.Char("Landing page", help="Where {link} leads; the link is tracked.")
    link_tracker_ids = fields.One2many("link.tracker", "social_crm_campaign_id", readonly=True)
    send_social = fields.Boolean("Social", default=True)
    social_mode = fields.Selection(
        string="Social mode",
        selection=[("reply", "Reply where they spoke"), ("dm", "Direct message")],
        default="reply",
        required=True,
        help="A reply needs a post to answer; a follow or a segment member gets a DM.",
    )
    send_email = fields.Boolean("Email")
    account_ids = fields.Many2many(
        "social.crm.account",
        string="Brand accounts",
        help="The accounts this campaign listens to and writes from; empty means all "
        "the company's accounts.",
    )
    audience = fields.Selection(
        [("segment", "Segment"), ("trigger", "Always-on trigger")],
        default="segment",
        required=True,
    )
    # -- segment ---------------------------------------------------------------------
    segment_min_tier = fields.Selection(TIERS, "Minimum tier", default="none", required=True)
    segment_network = fields.Selection(NETWORKS, "On network")
    segment_active_days = fields.Integer(
        "Interacted in the last (days)", help="0 means any time, or never."
    )
    segment_customers_only = fields.Boolean("Customers only")
    segment_category_ids = fields.Many2many("res.partner.category", string="With tags")
    segment_domain = fields.Char(compute="_compute_segment_domain")
    segment_count = fields.Integer("Audience size", compute="_compute_segment_count")
    # -- trigger ---------------------------------------------------------------------
    trigger_kind = fields.Selection(
        [
            ("follow", "A new follow"),
            ("mention", "A mention with a hashtag or keyword"),
            ("repost", "A repost of a chosen post"),
        ],
        "Trigger",
    )
    trigger_keywords = fields.Char(
        "Hashtags or keywords", help="Comma-separated, e.g. #summerdeal, free shipping"
    )
    trigger_post_ref = fields.Char(
        "Post", help="The id (or at:// URI) of your post whose reposts earn a coupon."
    )
    create_contacts = fields.Boolean(
        "Create contacts",
        default=True,
        help="Authors who are not contacts yet get one, flagged as created by this campaign.",
    )
    # -- dashboard -------------------------------------------------------------------
    recipient_ids = fields.One2many("social.crm.campaign.recipient", "campaign_id")
    redemption_ids = fields.One2many("social.crm.campaign.redemption", "campaign_id")
    issued_count = fields.Integer("Issued", compute="_compute_dashboard")
    delivered_count = fields.Integer("Delivered", compute="_compute_dashboard")
    failed_count = fields.Integer("Failed", compute="_compute_dashboard")
    redeemed_count = fields.Integer("Redeemed", compute="_compute_dashboard")
    redemption_rate = fields.Float("Redemption rate (%)", compute="_compute_dashboard")
    revenue = fields.Monetary(compute="_compute_dashboard", currency_field="currency_id")

    _sql_constraints = [
        (
            "limit_positive",
            "CHECK(limit_per_person >= 1)",
            "Each person needs at least one coupon.",
        ),
        ("validity_positive", "CHECK(validity_days >= 0)", "The validity cannot be negative."),
        ("points_positive", "CHECK(points_granted > 0)", "A coupon needs more than 0 points."),
    ]

    # -- constraints -----------------------------------------------------------------

    @api.constrains("program_id")
    def _check_program_type(self):
        for campaign in self:
            if campaign.program_id.program_type != "coupons":
                raise ValidationError(
                    self.env._(
                        "%(program)s is a %(kind)s program; a social campaign needs a "
                        "Coupons program.",
                        program=campaign.program_id.display_name,
                        kind=dict(
                            campaign.program_id._fields["program_type"]._description_selection(
                                self.env
                            )
                        ).get(campaign.program_id.program_type),
                    )
                )

    @api.constrains("message_template", "link_url")
    def _check_message_template(self):
        for campaign in self:
            try:
                used = template_fields(campaign.message_template)
            except ValueError as error:
                raise ValidationError(
                    self.env._("The reward message has a misplaced brace: %s", error)
                ) from error
            unknown = used - set(PLACEHOLDERS)
            if unknown:
                raise ValidationError(
                    self.env._(
                        "Unknown placeholder %(unknown)s in the reward message; use %(known)s.",
                        unknown=", ".join(f"{{{name}}}" for name in sorted(unknown)),
                        known=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                    )
                )
            if "code" not in used:
                raise ValidationError(self.env._("The reward message must contain {code}."))
            if "link" in used and not campaign.link_url:
                raise ValidationError(
                    self.env._("The reward message uses {link}: set a landing page.")
                )

    @api.constrains("send_social", "send_email")
    def _check_channel(self):
        for campaign in self:
            if not (campaign.send_social or campaign.send_email):
                raise ValidationError(self.env._("Choose at least one way to deliver coupons."))

    @api.constrains("audience", "trigger_kind", "trigger_keywords", "trigger_post_ref")
    def _check_trigger(self):
        for campaign in self:
            if campaign.audience != "trigger":
                continue
            if not campaign.trigger_kind:
                raise ValidationError(self.env._("An always-on campaign needs a trigger."))
            if campaign.trigger_kind == "mention" and not campaign._trigger_keywords():
                raise ValidationError(self.env._("Give the hashtags or keywords to listen for."))
            if campaign.trigger_kind == "repost" and not (campaign.trigger_post_ref or "").strip():
                raise ValidationError(self.env._("Give the id of the post whose reposts count."))

    # -- create: a UTM campaign for Odoo's reports -----------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("utm_campaign_id"):
                vals["utm_campaign_id"] = (
                    self.env["utm.campaign"]
                    .create({"name": vals.get("name") or self.env._("Social campaign")})
                    .id
                )
        return super().create(vals_list)

    # -- segment ---------------------------------------------------------------------

    @api.depends(
        "segment_min_tier",
        "segment_network",
        "segment_active_days",
        "segment_customers_only",
        "segment_category_ids",
        "send_social",
        "send_email",
        "account_ids",
    )
    def _compute_segment_domain(self):
        for campaign in self:
            campaign.segment_domain = repr(campaign._segment_domain())

    @api.depends("segment_domain")
    def _compute_segment_count(self):
        Partner = self.env["res.partner"]
        for campaign in self:
            campaign.segment_count = (
                Partner.search_count(campaign._segment_domain())
                if campaign.audience == "segment"
                else 0
            )

    def _segment_domain(self):
        """Contacts who qualify now: the criteria, minus opted-out and unreachable people."""
        self.ensure_one()
        domain = [("active", "=", True), ("social_opt_out", "=", False)]
        tiers = [key for key, _label in TIERS]
        if self.segment_min_tier and self.segment_min_tier != "none":
            domain.append(("advocate_tier", "in", tiers[tiers.index(self.segment_min_tier) :]))
        if self.segment_network:
            domain.append(
                (
                    "social_identity_ids",
                    "any",
                    [("network", "=", self.segment_network), ("link_state", "=", "confirmed")],
                )
            )
        if self.segment_active_days:
            since = fields.Datetime.now() - timedelta(days=self.segment_active_days)
            domain.append(("social_last_interaction_at", ">=", since))
        if self.segment_customers_only:
            domain.append(("customer_rank", ">", 0))
        if self.segment_category_ids:
            domain.append(("category_id", "in", self.segment_category_ids.ids))
        reachable = []
        if self.send_social:
            networks = self._networks()
            reachable.append(
                [
                    (
                        "social_identity_ids",
                        "any",
                        [("network", "in", networks), ("link_state", "=", "confirmed")],
                    )
                ]
            )
        if self.send_email:
            reachable.append([("email", "!=", False), ("is_blacklisted", "=", False)])
        if reachable:
            domain = expression.AND([domain, expression.OR(reachable)])
        return domain

    def _accounts(self):
        """The brand accounts this campaign listens to and writes from."""
        self.ensure_one()
        if self.account_ids:
            return self.account_ids.filtered("active")
        return self.env["social.crm.account"].search([("company_id", "=", self.company_id.id)])

    def _networks(self):
        return sorted(set(self._accounts().mapped("network")) - {"feed"})

    def _trigger_keywords(self):
        return [k.strip().lower() for k in (self.trigger_keywords or "").split(",") if k.strip()]

    # -- dashboard -------------------------------------------------------------------

    def _compute_dashboard(self):
        Recipient = self.env["social.crm.campaign.recipient"]
        Redemption = self.env["social.crm.campaign.redemption"]
        domain = [("campaign_id", "in", self.ids)]
        issued = dict(Recipient._read_group(domain, ["campaign_id"], ["__count"]))
        delivered = dict(
            Recipient._read_group([*domain, ("delivered", "=", True)], ["campaign_id"], ["__count"])
        )
        failed = dict(
            Recipient._read_group(
                [*domain, "|", ("social_state", "=", "failed"), ("email_state", "=", "failed")],
                ["campaign_id"],
                ["__count"],
            )
        )
        redeemed = {
            campaign: (count, revenue)
            for campaign, count, revenue in Redemption._read_group(
                domain, ["campaign_id"], ["recipient_id:count_distinct", "amount_untaxed:sum"]
            )
        }
        for campaign in self:
            count, revenue = redeemed.get(campaign, (0, 0.0))
            campaign.issued_count = issued.get(campaign, 0)
            campaign.delivered_count = delivered.get(campaign, 0)
            campaign.failed_count = failed.get(campaign, 0)
            campaign.redeemed_count = count
            campaign.revenue = revenue
            campaign.redemption_rate = (
                100.0 * count / campaign.issued_count if campaign.issued_count else 0.0
            )

    # -- buttons ---------------------------------------------------------------------

    def action_start(self):
        for campaign in self:
            if not campaign.program_id.active:
                raise UserError(
                    self.env._("The coupon program %s is archived.", campaign.program_id.name)
                )
        self.write({"state": "running"})

    def action_done(self):
        self.write({"state": "done"})

    def action_draft(self):
        self.write({"state": "draft"})

    def action_preview(self):
        """The contacts the segment would reach now, as a list."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Audience of %s", self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": self._segment_domain(),
            "context": {"create": False},
        }

    def action_send(self):
        """Issue a coupon to everyone in the segment now, then deliver."""
        self.ensure_one()
        if self.state != "running":
            raise UserError(self.env._("Start the campaign before sending coupons."))
        if self.audience != "segment":
            raise UserError(self.env._("An always-on campaign sends by itself while it runs."))
        partners = self.env["res.partner"].search(self._segment_domain())
        Recipient = self.env["social.crm.campaign.recipient"]
        recipients = Recipient._issue(self, [(partner, None, None) for partner in partners])
        # delivery talks to networks and commits per message: the cron does it,
        # right after this request, not the request itself
        Recipient._trigger_delivery()
        return self._notify(
            self.env._(
                "%(issued)s coupons issued and queued for delivery (%(skipped)s people "
                "already had theirs).",
                issued=len(recipients),
                skipped=len(partners) - len(recipients.partner_id),
            )
        )

    def _notify(self, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _open(self, model, name, domain, view_mode="list,form", context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": view_mode,
            "domain": domain,
            "context": context or {},
        }

    def action_view_recipients(self):
        self.ensure_one()
        return self._open(
            "social.crm.campaign.recipient",
            self.env._("Coupons"),
            [("campaign_id", "=", self.id)],
            "list,form,graph,pivot",
        )

    def action_view_failed(self):
        self.ensure_one()
        return self._open(
            "social.crm.campaign.recipient",
            self.env._("Failed deliveries"),
            [
                ("campaign_id", "=", self.id),
                "|",
                ("social_state", "=", "failed"),
                ("email_state", "=", "failed"),
            ],
        )

    def action_view_redemptions(self):
        self.ensure_one()
        return self._open(
            "social.crm.campaign.redemption",
            self.env._("Redemptions"),
            [("campaign_id", "=", self.id)],
            "pivot,graph,list",
            {"pivot_row_groupby": ["advocate_tier"], "pivot_measures": ["amount_untaxed"]},
        )

    def _link(self, network):
        """The tracked link for ``{link}`` for one network (utm source = network)."""
        self.ensure_one()
        if not self.link_url:
            return ""
        Utm = self.env["utm.mixin"]
        label = dict(NETWORKS).get(network, network) if network else "Email"
        source = Utm._find_or_create_record("utm.source", label)
        medium = Utm._find_or_create_record("utm.medium", "Social" if network else "Email")
        tracker = self.link_tracker_ids.filtered(
            lambda t: t.source_id == source and t.medium_id == medium
        )[:1]
        if not tracker:
            tracker = (
                self.env["link.tracker"]
                .sudo()
                .create(
                    {
                        "url": self.link_url,
                        "title": self.name,  # given, so Odoo does not fetch the page
                        "campaign_id": self.utm_campaign_id.id,
                        "source_id": source.id,
                        "medium_id": medium.id,
                        "social_crm_campaign_id": self.id,
                    }
                )
            )
        return tracker.short_url


class LinkTracker(models.Model):
    _inherit = "link.tracker"

    social_crm_campaign_id = fields.Many2one(
        "social.crm.campaign", index="btree_not_null", ondelete="cascade"
    )
