"""Advocate scores for 100,000 contacts and 1,000,000 interactions.

Prints the time of the set-based recompute (target <= 10 s on the 2-core
reference machine) and its ratio to an ORM loop (read each contact's
interactions, score in Python, write) over a 2,000-contact sample, extrapolated
to the same N (target >= 50x). Both run on the same data in the same run; the
data is loaded with SQL and rolled back at the end.

    python3 bench/bench_scoring.py [--partners 100000] [--interactions 1000000] [--sample 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env

KINDS = "ARRAY['mention','reply','quote','comment','dm','repost','like','follow','post']"


def load(env, partners: int, interactions: int) -> None:
    cr = env.cr
    account = env["social.crm.account"].create(
        {"name": "bench", "network": "mastodon", "base_url": "https://m.example"}
    )
    env.flush_all()
    cr.execute(
        """
        CREATE TEMP TABLE bench_partner ON COMMIT DROP AS
        WITH ins AS (
            INSERT INTO res_partner (name, active, autopost_bills, type, is_company)
            SELECT 'Bench person ' || g, true, 'ask', 'contact', false
              FROM generate_series(1, %(n)s) g
         RETURNING id
        ) SELECT id, row_number() OVER (ORDER BY id) AS n FROM ins
        """,
        {"n": partners},
    )
    cr.execute(
        """
        CREATE TEMP TABLE bench_identity ON COMMIT DROP AS
        WITH ins AS (
            INSERT INTO social_crm_identity
                (network, external_id, handle, link_state, partner_id, followers_count)
            SELECT 'mastodon', 'bench' || p.n || '@m.example', 'bench' || p.n || '@m.example',
                   'confirmed', p.id, (random() * random() * 50000)::int
              FROM bench_partner p
         RETURNING id, partner_id
        ) SELECT id, partner_id, row_number() OVER (ORDER BY id) AS n FROM ins
        """
    )
    cr.execute(
        f"""
        INSERT INTO social_crm_interaction
            (account_id, network, identity_id, partner_id, kind, external_id, date, polarity)
        SELECT %(account)s, 'mastodon', i.id, i.partner_id,
               ({KINDS})[1 + (g %% 9)], 'bench-' || g,
               now() at time zone 'utc' - (random() * 365) * interval '1 day',
               CASE WHEN g %% 3 = 0 THEN 0 ELSE round((random() * 2 - 1)::numeric, 3) END
          FROM generate_series(1, %(m)s) g
          JOIN bench_identity i ON i.n = 1 + (g %% %(n)s)
        """,
        {"account": account.id, "m": interactions, "n": partners},
    )
    cr.execute("ANALYZE social_crm_interaction; ANALYZE social_crm_identity; ANALYZE res_partner")


def orm_loop(env, partner_ids, scoring, now) -> None:
    """The straightforward way: per contact, read its interactions and write."""
    Partner = env["res.partner"]
    params = Partner._advocate_params()
    for partner in Partner.browse(partner_ids):
        interactions = env["social.crm.interaction"].search([("partner_id", "=", partner.id)])
        followers = max(partner.social_identity_ids.mapped("followers_count") or [0])
        breakdown = scoring.score(
            [
                scoring.Event(i.kind, i.date.replace(tzinfo=timezone.utc), i.polarity)
                for i in interactions
            ],
            followers=followers,
            now=now.replace(tzinfo=timezone.utc),
            params=params,
        )
        partner.write(
            {
                "advocate_score": breakdown.total,
                "advocate_tier": breakdown.tier,
                **{f"advocate_{c}": getattr(breakdown, c) for c in scoring.COMPONENTS},
            }
        )
    env.flush_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with _env.environment() as env:
        from odoo import fields

        from odoo.addons.social_crm_module.social_crm_module import scoring

        print(f"[bench] {args.partners} contacts, {args.interactions} interactions")
        with _env.timed("load (SQL, not measured)", results):
            load(env, args.partners, args.interactions)
        now = fields.Datetime.now()
        Partner = env["res.partner"]
        with _env.timed("set-based recompute, all contacts", results):
            with _env.timed("  the statement (aggregate + upsert + rank)", results):
                changed = env["social.crm.advocate"]._recompute(now=now)
            with _env.timed(f"  {len(changed)} tier-change notes", results):
                Partner._advocate_log_tier_changes(changed)
        env.cr.execute("SELECT id FROM bench_partner ORDER BY random() LIMIT %s", [args.sample])
        sample = [row[0] for row in env.cr.fetchall()]
        env.invalidate_all()
        with _env.timed(f"ORM loop, {args.sample} contacts", results):
            orm_loop(env, sample, scoring, now)
        sql = results["set-based recompute, all contacts"]
        extrapolated = results[f"ORM loop, {args.sample} contacts"] * args.partners / args.sample
        print(f"  ORM loop extrapolated to {args.partners} contacts      {extrapolated:8.1f} s")
        print(f"recompute time: {sql:.2f} s (target <= 10 s)")
        print(f"speed-up over the ORM loop: {extrapolated / sql:.0f}x (target >= 50x)")
        started = time.perf_counter()
        Partner._advocate_recompute(now=now)
        print(f"second recompute, nothing changed: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
