"""Ingest 10,000 interactions for 2,000 contacts, end to end, against Odoo's own primitive.

Prints, in the same run and on the same N:

- our ingest (pages of 100 engine interactions through ``_ingest_page``: dedupe,
  identities, matching, batch create, chatter notes, dates, cursor) against
  ``_message_log_batch`` of 10,000 notes on the same contacts (target <= 2.0x);
- the same pages ingested again, which must re-create nothing (target <= 0.1x).

Everything is rolled back at the end.

    python3 bench/bench_ingest.py [--interactions 10000] [--partners 2000] [--page 100]

The database is ``$SCRM_BENCH_DB`` (default ``scrm_bench``): created without demo
data from this checkout on first use, upgraded otherwise (see ``bench/_env.py``:
``odoo.tools.config.parse_config`` + ``odoo.modules.registry.Registry``, one cursor
rolled back at the end). Measured on the 2-core box: 0.84x and 0.032x.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env

TABLES = ("res_partner", "mail_message", "social_crm_identity", "social_crm_interaction")


def make_pages(engine, partners: int, interactions: int, page_size: int):
    from odoo.addons.social_crm_module.social_crm_module.testing import (
        make_author,
        make_interaction,
    )

    kinds = list(engine.Kind)
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
            text=f"Interaction {n} about the brand <b>not bold</b>",
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
        help="archive the routing rules first: the learned classifier reads the bench's "
        "synthetic posts as complaints, and routing then makes one to-do each",
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    results: dict[str, float] = {}
    with _env.environment() as env:
        from odoo.addons.social_crm_module import social_crm_module as engine
        from odoo.addons.social_crm_module.social_crm_module import sentiment
        from odoo.addons.social_crm_module.tests.common import identity_values

        if args.classifier:
            sentiment.use_model(args.classifier)
        if args.no_routing:
            env["social.crm.routing.rule"].search([]).action_archive()

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
        env.invalidate_all()
        _env.analyze(env, *TABLES)
        print(
            f"[bench] {args.interactions} interactions, {args.partners} contacts, "
            f"pages of {args.page}"
        )

        bodies = {p.id: "A note about the brand" for p in partners}
        rounds = args.interactions // args.partners
        with _env.timed(f"_message_log_batch of {args.interactions} notes", results):
            for _ in range(rounds):
                partners._message_log_batch(bodies)
            env.flush_all()
        env.invalidate_all()
        _env.analyze(env, *TABLES)

        with _env.timed(f"ingest of {args.interactions} interactions", results):
            for page in pages:
                account._ingest_page(page)
            env.flush_all()
        env.invalidate_all()

        with _env.timed("the same pages again", results):
            for page in pages:
                account._ingest_page(page)
            env.flush_all()

        # what of the ingest is the classifier's: the same texts, classified alone
        texts = [item.text for page in pages for item in page.items]
        with _env.timed(f"of which classifying {len(texts)} texts", results):
            sentiment.classify_many(texts)

        stored = env["social.crm.interaction"].search_count([("account_id", "=", account.id)])
        assert stored == args.interactions, stored
        base = results[f"_message_log_batch of {args.interactions} notes"]
        first = results[f"ingest of {args.interactions} interactions"]
        again = results["the same pages again"]
        classify = results[f"of which classifying {len(texts)} texts"]
        print(f"classifier: {sentiment.model_in_use()}")
        print(f"ingest / _message_log_batch: {first / base:.2f}x (target <= 2.0x)")
        print(
            f"ingest without the classifier / _message_log_batch: {(first - classify) / base:.2f}x"
        )
        print(f"re-ingest / _message_log_batch: {again / base:.3f}x (target <= 0.1x)")


if __name__ == "__main__":
    main()
