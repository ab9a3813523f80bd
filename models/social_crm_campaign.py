import logging
import re
from datetime import timedelta
from string import Formatter

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression

from .social_crm_account import network_selection
from .social_crm_advocate import TIERS

_logger = logging.getLogger(__name__)

TEXT_KINDS = ("mention", "reply", "quote", "comment", "dm", "post")
#: placeholders the reward message may use
PLACEHOLDERS = ("code", "name", "link")
DEFAULT_MESSAGE = "Thank you {name}! Here is your coupon: {code}"
MANAGER_GROUP = "social_crm_module.group_social_crm_manager"
#: a manager's decisions: what a coupon is worth, and the campaign's life (start,
#: stop); a Social CRM user drafts everything else
MANAGER_FIELDS = (
    "state",
    "points_granted",
    "validity_days",
    "limit_per_person",
    "coupon_kind",
    # abuse limits
    "min_followers",
    "max_new_contacts_per_hour",
    "max_referrals_per_advocate",
)


def template_fields(template):
    """The placeholder names used in ``template``.

    Raises ValueError on bad braces, and on anything but a bare placeholder: a
    format spec (``{code:>999999999}`` would allocate a gigabyte), a conversion
    (``{code!r}``), attribute or index access (``{code.__class__}``, ``{code[0]}``).
    """
    names = set()
    for _text, name, spec, conversion in Formatter().parse(template or ""):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(template_error(name, spec, conversion))
        names.add(name)
    return names


def template_error(name, spec, conversion):
    conversion = f"!{conversion}" if conversion else ""
    spec = f":{spec}" if spec else ""
    return f"{{{name}{conversion}{spec}}}"


def render(template, **values):
    """Fill the reward message; values are plain text, missing ones become ''.

    Each placeholder is replaced by its value as it is: specs, conversions and
    attribute or index access are ignored, whatever the stored template says, and
    an unreadable template is sent as written rather than half-filled.
    """
    try:
        parts = list(Formatter().parse(template or ""))
    except ValueError:
        return template or ""
    out = []
    for text, name, _spec, _conversion in parts:
        out.append(text)
        if name is not None:
            out.append(str(values.get(name) or "") if name in PLACEHOLDERS else "")
    return "".join(out)


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
    segment_network = fields.Selection(network_selection, "On network")
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
    is_campaign_manager = fields.Boolean(compute="_compute_is_campaign_manager")

    # -- constraints -----------------------------------------------------------------
    min_followers = fields.Integer(
        "Minimum followers",
        help="A trigger rewards only accounts with at least this many followers; an "
        "account whose network does not tell counts as 0. 0 means no minimum.",
    )
    max_new_contacts_per_hour = fields.Integer(
        "New contacts per hour",
        default=50,
        help="The most contacts this campaign creates in an hour; newcomers beyond it "
        "are refused (and listed). 0 means no cap.",
    )
    refusal_ids = fields.One2many("social.crm.campaign.refusal", "campaign_id")
    refused_count = fields.Integer("Refused", compute="_compute_refused_count")
    max_referrals_per_advocate = fields.Integer(
        "Referrals per advocate",
        default=10,
        help="The most referrals one advocate is credited for in this campaign; each "
        "counts once the order is paid, once per customer. 0 means no cap.",
    )
    uncredited_count = fields.Integer("Referrals not credited", compute="_compute_uncredited_count")

    _sql_constraints = [
        (
            "limit_positive",
            "CHECK(limit_per_person >= 1)",
            "Each person needs at least one coupon.",
        ),
        ("validity_positive", "CHECK(validity_days >= 0)", "The validity cannot be negative."),
        ("points_positive", "CHECK(points_granted > 0)", "A coupon needs more than 0 points."),
        ("min_followers_positive", "CHECK(min_followers >= 0)", "Followers cannot be negative."),
        (
            "max_new_contacts_positive",
            "CHECK(max_new_contacts_per_hour >= 0)",
            "The cap of new contacts cannot be negative.",
        ),
        (
            "max_referrals_positive",
            "CHECK(max_referrals_per_advocate >= 0)",
            "The cap of referrals cannot be negative.",
        ),
    ]

    @api.depends_context("uid")
    def _compute_is_campaign_manager(self):
        for campaign in self:
            campaign.is_campaign_manager = self._is_campaign_manager()

    @api.constrains("program_id")
    def _check_program_type(self):
        for campaign in self.sudo():  # a check: whoever may read the campaign
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
                list(Formatter().parse(campaign.message_template or ""))
            except ValueError as error:
                raise ValidationError(
                    self.env._("The reward message has a misplaced brace: %s", error)
                ) from error
            try:
                used = template_fields(campaign.message_template)
            except ValueError as error:
                raise ValidationError(
                    self.env._(
                        "The reward message takes plain placeholders only (%(known)s): no "
                        "format, conversion or attribute in %(wrong)s.",
                        known=", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                        wrong=str(error),
                    )
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
        if not self._is_campaign_manager():
            # the form sends every field: the defaults are what a user may "set"
            defaults = self.default_get(list(MANAGER_FIELDS))
            for vals in vals_list:
                changed = [f for f in MANAGER_FIELDS if f in vals and vals[f] != defaults.get(f)]
                if changed:
                    raise self._manager_only(changed)
        for vals in vals_list:
            if not vals.get("utm_campaign_id"):
                vals["utm_campaign_id"] = (
                    self.env["utm.campaign"]
                    .create({"name": vals.get("name") or self.env._("Social campaign")})
                    .id
                )
        return super().create(vals_list)

    def write(self, vals):
        if not self._is_campaign_manager():
            changed = [f for f in MANAGER_FIELDS if f in vals]
            if changed:
                raise self._manager_only(changed)
            if any(campaign.state != "draft" for campaign in self):
                raise AccessError(
                    self.env._(
                        "Only a Social CRM manager changes a campaign once it has started; "
                        "a manager can put it back to draft."
                    )
                )
        return super().write(vals)

    def _is_campaign_manager(self):
        return self.env.su or self.env.user.has_group(MANAGER_GROUP)

    def _manager_only(self, fnames):
        return AccessError(
            self.env._(
                "Only a Social CRM manager sets a campaign's coupon value and starts, stops "
                "or sends it (%s).",
                ", ".join(self._fields[f]._description_string(self.env) for f in fnames),
            )
        )

    def _check_campaign_manager(self):
        if not self._is_campaign_manager():
            raise self._manager_only(["state"])

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
        """The networks the campaign can answer or write on."""
        return sorted(
            {
                account.network
                for account in self._accounts()
                if {"reply", "dm"} & set((account.network_capabilities or "").split(","))
            }
        )

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
        self._check_campaign_manager()
        for campaign in self:
            if not campaign.program_id.active:
                raise UserError(
                    self.env._("The coupon program %s is archived.", campaign.program_id.name)
                )
        self.write({"state": "running"})

    def action_done(self):
        self._check_campaign_manager()
        self.write({"state": "done"})

    def action_draft(self):
        self._check_campaign_manager()
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
        self._check_campaign_manager()
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
        label = dict(network_selection(self)).get(network, network) if network else "Email"
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

    def _compute_refused_count(self):
        counts = dict(
            self.env["social.crm.campaign.refusal"]._read_group(
                [("campaign_id", "in", self.ids)], ["campaign_id"], ["__count"]
            )
        )
        for campaign in self:
            campaign.refused_count = counts.get(campaign, 0)

    def action_view_refusals(self):
        self.ensure_one()
        return self._open(
            "social.crm.campaign.refusal",
            self.env._("Refused coupons"),
            [("campaign_id", "=", self.id)],
            "list",
        )

    def _trigger_matches(self, interaction):
        self.ensure_one()
        kind = self.trigger_kind
        if kind == "follow":
            return interaction.kind == "follow"
        if kind == "repost":
            return (
                interaction.kind == "repost"
                and bool(interaction.subject_external_id)
                and interaction.subject_external_id == (self.trigger_post_ref or "").strip()
            )
        if kind == "mention" and interaction.kind in TEXT_KINDS and interaction.text:
            return any(
                re.search(rf"(?<!\w){re.escape(word)}(?!\w)", interaction.text, re.IGNORECASE)
                for word in self._trigger_keywords()
            )
        return False

    @api.model
    def _trigger(self, interactions):
        """Issue coupons for ``interactions`` just synced; return the new recipients.

        The campaign issues, not whoever runs the sync (a manager started it)."""
        if not self.env.su:
            return self.sudo()._trigger(interactions.sudo())
        Recipient = self.env["social.crm.campaign.recipient"]
        recipients = Recipient
        if not interactions:
            return recipients
        campaigns = self.search(
            [
                ("state", "=", "running"),
                ("audience", "=", "trigger"),
                ("company_id", "in", interactions.company_id.ids),
            ]
        )
        for campaign in campaigns:
            accounts = campaign._accounts()
            matched = interactions.filtered(
                lambda i, c=campaign, a=accounts: i.account_id in a and c._trigger_matches(i)
            )
            if not matched:
                continue
            matched = campaign._refuse_abuse(matched)
            if campaign.create_contacts:
                campaign._create_contacts(matched.identity_id)
            targets = [
                (interaction.partner_id, interaction.identity_id, interaction)
                for interaction in matched
                if interaction.partner_id
            ]
            recipients |= campaign._issue_safely(targets)
        return recipients

    def _refuse_abuse(self, interactions):
        """The interactions that may earn a coupon; the others are refused, and the
        refusals listed on the campaign.

        - an account with fewer followers than the campaign's minimum (where the
          network does not tell, the count is 0): sockpuppets have none;
        - a newcomer (an author who is nobody yet) beyond the campaign's cap of new
          contacts per hour: a burst of fresh accounts waits for no one.
        The engine's profiles carry no account age, so followers are the signal.
        """
        self.ensure_one()
        refused = []
        kept = interactions.browse()
        if self.min_followers:
            for interaction in interactions:
                if interaction.identity_id.followers_count < self.min_followers:
                    refused.append((interaction, "followers"))
                else:
                    kept |= interaction
        else:
            kept = interactions
        if self.create_contacts and self.max_new_contacts_per_hour:
            since = fields.Datetime.now() - timedelta(hours=1)
            room = self.max_new_contacts_per_hour - self.env["res.partner"].with_context(
                active_test=False
            ).search_count([("social_crm_campaign_id", "=", self.id), ("create_date", ">=", since)])
            allowed = kept.browse()
            newcomers = set()
            for interaction in kept:
                identity = interaction.identity_id
                is_new = identity.link_state == "unlinked" and not identity.partner_id
                if is_new and identity.id not in newcomers:
                    if len(newcomers) >= max(room, 0):
                        refused.append((interaction, "rate"))
                        continue
                    newcomers.add(identity.id)
                allowed |= interaction
            kept = allowed
        if refused:
            self.env["social.crm.campaign.refusal"].create(
                [
                    {
                        "campaign_id": self.id,
                        "identity_id": interaction.identity_id.id,
                        "interaction_id": interaction.id,
                        "reason": reason,
                    }
                    for interaction, reason in refused
                ]
            )
        return kept

    def _issue_safely(self, targets):
        """Issue in a savepoint; when a concurrent sync already took a slot (the
        UNIQUE constraint fires), issue target by target so the others still get
        their coupon and the page is not lost."""
        Recipient = self.env["social.crm.campaign.recipient"]
        try:
            with self.env.cr.savepoint():
                return Recipient._issue(self, targets)
        except IntegrityError:
            self.env.invalidate_all()
        recipients = Recipient
        for target in targets:
            try:
                with self.env.cr.savepoint():
                    recipients |= Recipient._issue(self, [target])
            except IntegrityError:
                self.env.invalidate_all()
                _logger.info(
                    "Campaign %s: %s already got a coupon from a concurrent sync",
                    self.id,
                    target[0].id,
                )
        return recipients

    def _create_contacts(self, identities):
        """A contact for each author who is nobody yet, flagged as created by this
        campaign. Suggested identities wait for a person to confirm them instead."""
        self.ensure_one()
        newcomers = identities.filtered(lambda i: i.link_state == "unlinked" and not i.partner_id)
        if not newcomers:
            return
        partners = (
            self.env["res.partner"]
            .sudo()
            .create(
                [
                    {
                        "name": identity.display_name_network or identity.handle,
                        "website": identity.website or False,
                        "social_crm_campaign_id": self.id,
                        # the campaign's company: a contact made from one company's
                        # followers is not another company's
                        "company_id": self.company_id.id,
                    }
                    for identity in newcomers
                ]
            )
        )
        for identity, partner in zip(newcomers, partners, strict=True):
            identity.write(
                {"partner_id": partner.id, "link_state": "confirmed", "match_reason": "campaign"}
            )

    def _uncredited_domain(self):
        return [
            ("campaign_id", "in", self.ids),
            ("is_referral", "=", True),
            ("paid", "=", True),
            ("credited", "=", False),
        ]

    def _compute_uncredited_count(self):
        counts = dict(
            self.env["social.crm.campaign.redemption"]._read_group(
                self._uncredited_domain(), ["campaign_id"], ["__count"]
            )
        )
        for campaign in self:
            campaign.uncredited_count = counts.get(campaign, 0)

    def action_view_uncredited(self):
        self.ensure_one()
        return self._open(
            "social.crm.campaign.redemption",
            self.env._("Referrals not credited"),
            self._uncredited_domain(),
            "list",
        )
