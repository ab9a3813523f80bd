"""Ingest 10,000 interactions for 2,000 contacts, end to end, against Odoo's own primitives.

The posts are real ones (the labelled set: five intents, seven languages) on every
kind in turn; likes, reposts and follows carry no words, as the networks send them.
Prints, in the same run and on the same N:

- our ingest (pages of 100 engine interactions through ``_ingest_page``: dedupe,
  identities, matching, classification, batch create, chatter notes, dates, cursor)
  against ``_message_log_batch`` of 10,000 notes on the same contacts (target <= 1.0x);
- routing (the to-dos and leads the routing rules make of those interactions, page
  by page as the ingest does it) against Odoo's own ``mail.activity`` and
  ``crm.lead`` creates of the same to-dos and leads (target <= 1.0x), and the two
  together against ``_message_log_batch``;
- the same pages ingested again, which must re-create nothing (target <= 0.05x).

The contacts and identities are committed first (they exist before a sync) on a
throwaway copy of the bench database, dropped at the end.

    python3 bench/bench_ingest.py [--interactions 10000] [--partners 2000] [--page 100]

The database is ``$SCRM_BENCH_DB`` (default ``scrm_bench``): created without demo
data from this checkout on first use, upgraded otherwise (see ``bench/_env.py``:
``odoo.tools.config.parse_config`` + ``odoo.modules.registry.Registry``, one cursor
rolled back at the end).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env

TABLES = ("res_partner", "mail_message", "social_crm_identity", "social_crm_interaction")


#: what people do without words: no text of their own to classify (the connectors
#: leave ``text`` empty for them: a like's post is the brand's own)
WORDLESS = frozenset({"like", "repost", "follow"})


def make_pages(engine, partners: int, interactions: int, page_size: int):
    """Pages as a network would send them: every kind in turn; the kinds with words
    carry real posts (the labelled set, all five intents, seven languages, cycled),
    the likes, reposts and follows none."""
    from odoo.addons.social_crm_module.social_crm_module import sentiment
    from odoo.addons.social_crm_module.social_crm_module.testing import (
        make_author,
        make_interaction,
    )

    posts = [row["text"] for row in sentiment.labelled_posts()]
    kinds = [kind for kind in engine.Kind if kind.value != "listening"]
    now = datetime.now(timezone.utc)
    authors = [
        make_author(f"bench{n}@m.example", display_name=f"Bench Person {n}", followers_count=n)
        for n in range(partners)
    ]
    items = [
        make_interaction(
            f"bench-{n}",
            authors[n % partners],
            kinds[n % len(kinds)],
            n,
            now=now,
            text="" if kinds[n % len(kinds)].value in WORDLESS else posts[n % len(posts)],
            url=f"https://m.example/@bench/{n}",
        )
        for n in range(interactions)
    ]
    return [
        engine.Page(items=tuple(items[i : i + page_size]), cursor=f"c{i}")
        for i in range(0, interactions, page_size)
    ]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--partners", type=int, default=2_000)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument(
        "--classifier",
        default="",
        help="the intent/sentiment model the ingest uses (default: the add-on's, "
        "'learned'; 'vader' is the rules alone)",
    )
    parser.add_argument(
        "--no-routing",
        action="store_true",
        help="leave routing out (the ingest alone against _message_log_batch)",
    )
    return parser.parse_args()


def setup(env, args):
    """The account, the contacts with their identities (committed), and the pages."""
    from odoo.addons.social_crm_module import social_crm_module as engine
    from odoo.addons.social_crm_module.social_crm_module.testing import identity_values

    account = env["social.crm.account"].create(
        {"name": "bench", "network": "mastodon", "base_url": "https://m.example"}
    )
    partners = env["res.partner"].create(
        [{"name": f"Bench Person {n}"} for n in range(args.partners)]
    )
    env["social.crm.identity"].create(
        [identity_values(partner, f"bench{n}@m.example") for n, partner in enumerate(partners)]
    )
    pages = make_pages(engine, args.partners, args.interactions, args.page)
    env.flush_all()
    env.cr.commit()
    env.invalidate_all()
    _env.analyze(env, *TABLES)
    return account, partners, pages


#: the tables an ingest grows; analyzed every ANALYZE_EVERY pages (not timed)
GROWING = ("social_crm_interaction", "mail_message", "mail_activity", "mail_followers", "crm_lead")
#: a sync commits page by page and autovacuum analyzes a table once a tenth of it
#: changed; in the bench's one transaction nothing would, and the planner would go
#: on planning for the empty tables it saw at the start (a foreign-key check's
#: cached plan scanning a table of 100k rows, once per row inserted)
ANALYZE_EVERY = 50


def page_by_page(env, batches, work, label, results):
    """``work(batch)`` for each batch, timed; the statistics kept up every
    ANALYZE_EVERY batches, not timed; the last flush timed."""
    elapsed = 0.0
    for n, batch in enumerate(batches, start=1):
        started = time.perf_counter()
        work(batch)
        if n == len(batches):
            env.flush_all()
        elapsed += time.perf_counter() - started
        if n % ANALYZE_EVERY == 0:
            env.flush_all()
            _env.analyze(env, *GROWING)
    results[label] = elapsed
    print(f"  {label:<48} {elapsed:8.3f} s", flush=True)


def ingest(env, account, pages, label, results):
    """Ingest ``pages`` as a sync does, timing the ingest and not the statistics."""
    page_by_page(env, pages, account._ingest_page, label, results)
    env.invalidate_all()


def main() -> None:
    args = arguments()
    results: dict[str, float] = {}
    n = args.interactions
    # on a throwaway copy of the bench database: the contacts and their identities
    # exist before the sync, committed, as they do in a company that syncs
    with _env.scratch_environment() as env:
        from odoo.addons.social_crm_module.social_crm_module import sentiment

        if args.classifier:
            sentiment.use_model(args.classifier)
        account, partners, pages = setup(env, args)
        print(f"[bench] {n} interactions, {args.partners} contacts, pages of {args.page}")

        bodies = {p.id: "A note about the brand" for p in partners}
        with _env.timed(f"_message_log_batch of {n} notes", results):
            for _ in range(n // args.partners):
                partners._message_log_batch(bodies)
            env.flush_all()
        env.invalidate_all()
        _env.analyze(env, *TABLES)

        # routing's share: the same pages with the routing rules archived (rolled
        # back), and routing's to-dos and leads made by Odoo's own creates
        rules = env["social.crm.routing.rule"].search([])
        aside = f"ingest of {n} interactions, routing aside"

        def without_routing():
            rules.action_archive()
            ingest(env, account, pages, aside, results)

        by_page = []
        if not args.no_routing:
            # what routing finds or creates once, outside the rolled-back runs
            Utm = env["utm.mixin"]
            Utm._find_or_create_record("utm.medium", "Social")
            Utm._find_or_create_record("utm.source", "Mastodon")
            _savepoint_rolled_back(env, without_routing)
            by_page = _savepoint_rolled_back(env, lambda: what_routing_makes(env, account, pages))
            _savepoint_rolled_back(env, lambda: odoo_creates(env, by_page, results))
        else:
            rules.action_archive()
        ingest(
            env,
            account,
            pages,
            aside if args.no_routing else f"ingest of {n} interactions",
            results,
        )
        ingest(env, account, pages, "the same pages again", results)

        # the classifier's work: the same texts, classified alone in this process (the
        # ingest has a helper process classify a page while it runs the page's queries)
        texts = [item.text for page in pages for item in page.items if item.text]
        with _env.timed(f"classifying the {len(texts)} texts alone", results):
            sentiment.classify_many(texts)
        stored = env["social.crm.interaction"].search_count([("account_id", "=", account.id)])
        assert stored == n, stored
        print(f"classifier: {sentiment.model_in_use()}")
        report(results, n, by_page, f"classifying the {len(texts)} texts alone")


def report(results, n, by_page, classifying):
    base = results[f"_message_log_batch of {n} notes"]
    first = results[f"ingest of {n} interactions, routing aside"]
    if by_page:
        whole = results[f"ingest of {n} interactions"]
        odoo = results["Odoo's create of the same to-dos and leads"]
        todos = sum(len(todos) for todos, _leads in by_page)
        leads = sum(len(leads) for _todos, leads in by_page)
        print(f"ingest end to end (routing included) / _message_log_batch: {whole / base:.2f}x")
        print(
            f"routing ({todos} to-dos, {leads} leads) / Odoo's create of the same "
            f"to-dos and leads: {(whole - first) / odoo:.2f}x (target <= 1.0x)"
        )
    print(f"ingest, routing aside / _message_log_batch: {first / base:.2f}x (target <= 1.0x)")
    print(
        "the classifier's work alone (beside the ingest, in a helper process) / "
        f"_message_log_batch: {results[classifying] / base:.2f}x"
    )
    again = results["the same pages again"]
    print(f"re-ingest / _message_log_batch: {again / base:.3f}x (target <= 0.05x)")


def _savepoint_rolled_back(env, work):
    """Run ``work()`` and undo it, database and caches; return what it returned."""
    env.flush_all()
    env.cr.execute("SAVEPOINT bench_step")
    try:
        result = work()
        env.flush_all()
    finally:
        env.cr.execute("ROLLBACK TO SAVEPOINT bench_step")
        env.invalidate_all()
    return result


TODO_FIELDS = ["res_model_id", "res_id", "activity_type_id", "summary", "note", "user_id"]
LEAD_FIELDS = ["name", "type", "partner_id", "contact_name", "description", "source_id"]
LEAD_FIELDS += ["medium_id", "user_id", "team_id", "company_id"]


def what_routing_makes(env, account, pages):
    """The to-dos and leads the ingest's routing makes, page by page."""
    Activity, Lead = env["mail.activity"], env["crm.lead"]
    by_page = []
    for n, page in enumerate(pages, start=1):
        if n % ANALYZE_EVERY == 0:
            env.flush_all()
            _env.analyze(env, *GROWING)
        created = account._ingest_page(page)
        todos = Activity.search([("social_crm_interaction_id", "in", created.ids)], order="id")
        leads = Lead.search([("social_interaction_id", "in", created.ids)], order="id")
        by_page.append(
            (
                [_plain(vals) for vals in todos.read(TODO_FIELDS, load=False)],
                [_plain(vals) for vals in leads.read(LEAD_FIELDS, load=False)],
            )
        )
    return by_page


def odoo_creates(env, by_page, results):
    """The same to-dos and leads in the same batches (a page's), with Odoo's own
    creates: to-dos in creates of distinct (record, user) pairs, as Odoo needs."""
    quick = env["mail.activity"].sudo().with_context(mail_activity_quick_update=True)
    Lead = env["crm.lead"].sudo()

    def create(batch):
        todo_values, lead_values = batch
        layers, seen = [], {}
        for vals in todo_values:
            key = (vals["res_model_id"], vals["res_id"], vals["user_id"])
            seen[key] = seen.get(key, -1) + 1
            if seen[key] == len(layers):
                layers.append([])
            layers[seen[key]].append(vals)
        for layer in layers:
            quick.create(layer)
        if lead_values:
            Lead.create(lead_values)

    page_by_page(env, by_page, create, "Odoo's create of the same to-dos and leads", results)


def _plain(vals):
    vals = dict(vals)
    vals.pop("id", None)
    return vals


if __name__ == "__main__":
    main()
