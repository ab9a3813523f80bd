"""Listening: what people say about the brand without tagging it.

A query belongs to one account; the account's stream (see ``bin/listen``) matches
public posts against its queries (engine: ``streams.listening``), and the posts a
query matches become interactions of kind ``listening``, on their author's
identity, classified and routed like the rest. A cap per query and per hour keeps
a viral product name from flooding the database: what the cap drops is counted on
the query.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..social_crm_module.streams.listening import ListeningQuery


class SocialCrmListeningQuery(models.Model):
    _name = "social.crm.listening.query"
    _description = "Social CRM listening query"
    _order = "account_id, sequence, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    account_id = fields.Many2one(
        "social.crm.account", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    keywords = fields.Text(help="Words or phrases, one per line or comma-separated.")
    hashtags = fields.Char(help="Hashtags, comma-separated, with or without #.")
    products = fields.Text(
        "Product names", help="Names of your products, one per line or comma-separated."
    )
    languages = fields.Char(
        help="Language codes (en, fr, ...), comma-separated; empty: every language. "
        "A post that declares no language does not pass a language filter."
    )
    exclusions = fields.Text(help="A post containing one of these words is not kept.")
    hourly_cap = fields.Integer(
        "Posts per hour",
        default=200,
        help="At most this many posts per hour are stored for this query; the rest "
        "are dropped and counted. 0: no cap.",
    )
    dropped_count = fields.Integer(
        "Dropped by the cap", readonly=True, copy=False, help="Posts the hourly cap left out."
    )
    window_start = fields.Datetime(readonly=True, copy=False)
    window_count = fields.Integer(readonly=True, copy=False)
    interaction_ids = fields.One2many("social.crm.interaction", "listening_query_id")
    interaction_count = fields.Integer("Posts heard", compute="_compute_interaction_count")

    _sql_constraints = [
        ("hourly_cap_positive", "CHECK(hourly_cap >= 0)", "The hourly cap cannot be negative."),
    ]

    def _compute_interaction_count(self):
        counts = dict(
            self.env["social.crm.interaction"]._read_group(
                [("listening_query_id", "in", self.ids)], ["listening_query_id"], ["__count"]
            )
        )
        for query in self:
            query.interaction_count = counts.get(query, 0)

    def action_view_interactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "social_crm_module.social_crm_listening_action"
        )
        action["domain"] = [("listening_query_id", "=", self.id)]
        return action

    # -- the engine's side ---------------------------------------------------------------

    def _engine_queries(self):
        """The engine's matcher for these queries (keys are the record ids)."""
        return [
            ListeningQuery.build(
                str(query.id),
                keywords=query.keywords,
                hashtags=query.hashtags,
                products=query.products,
                languages=query.languages,
                exclusions=query.exclusions,
            )
            for query in self
        ]

    @api.model
    def _admit(self, items, listening):
        """Apply the hourly caps to a page's new listening items.

        ``listening`` maps an item's external id to its query's key (id); items
        that are not listening pass. Returns the kept items and ``{external id:
        query id}`` for them; the queries' windows and dropped counts are updated
        in the same transaction (one UPDATE).
        """
        by_query = {}
        for item in items:
            key = listening.get(item.external_id)
            if key is not None and str(key).isdigit():
                by_query.setdefault(int(key), []).append(item)
        if not by_query:
            return [i for i in items if i.external_id not in listening], {}
        queries = self.sudo().browse(list(by_query)).exists()
        now = fields.Datetime.now()
        dropped_ids, assigned, rows = set(), {}, []
        for query in queries:
            fresh = not query.window_start or now - query.window_start >= timedelta(hours=1)
            start = now if fresh else query.window_start
            used = 0 if fresh else query.window_count
            posts = by_query[query.id]
            room = len(posts) if not query.hourly_cap else max(0, query.hourly_cap - used)
            for item in posts[:room]:
                assigned[item.external_id] = query.id
            dropped_ids.update(item.external_id for item in posts[room:])
            rows.append(
                SQL(
                    "(%s, %s::timestamp, %s, %s)",
                    query.id,
                    start,
                    used + min(room, len(posts)),
                    len(posts) - min(room, len(posts)),
                )
            )
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_listening_query q
                   SET window_start = v.start, window_count = v.used,
                       dropped_count = COALESCE(q.dropped_count, 0) + v.dropped
                  FROM (VALUES %s) AS v(id, start, used, dropped)
                 WHERE q.id = v.id
                """,
                SQL(", ").join(rows),
            )
        )
        queries.invalidate_recordset(["window_start", "window_count", "dropped_count"])
        kept = [
            item
            for item in items
            if item.external_id not in dropped_ids
            and (item.external_id in assigned or item.external_id not in listening)
        ]
        return kept, assigned
