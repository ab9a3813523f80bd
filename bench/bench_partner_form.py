"""Open the form of a contact with 10,000 interactions, as the web client does.

Prints, in the same run, for one contact whose 10,000 interactions (and their
10,000 chatter notes) came in through the real ingest:

- ``web_read`` of every field the contact form shows (the spec the web client
  builds from the form view: relational fields with their list's columns), with
  a cold cache, median of the runs (target <= 50 ms);
- its ratio to ``web_read`` of the same form without the fields the add-on adds
  (``social_*`` and ``advocate_*``): what the add-on costs on a busy contact;
- the chatter's first page (``mail.message._message_fetch`` of 30 messages plus
  their serialisation for the web client), which the web client asks for next.

Everything is rolled back at the end.

    python3 bench/bench_partner_form.py [--interactions 10000] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env

OURS = ("social_", "advocate_")


def form_spec(env, model: str) -> dict:
    """The ``web_read`` specification the web client sends for ``model``'s form."""
    views = env[model].get_views([(False, "form")])
    models = views["models"]

    def spec_for(name: str, fields: dict) -> dict:
        spec = {}
        described = env[name].fields_get(list(fields), attributes=["type", "relation"])
        for field, info in described.items():
            relation = info.get("relation")
            if info["type"] == "many2one":
                spec[field] = {"fields": {"display_name": {}}}
            elif info["type"] in ("one2many", "many2many") and relation in models:
                sub = {k: v for k, v in models[relation]["fields"].items() if k != "id"}
                # one level deep, as the list inside the form shows it
                spec[field] = {
                    "fields": {
                        k: ({"fields": {"display_name": {}}} if t == "many2one" else {})
                        for k, t in (
                            (k, env[relation]._fields[k].type)
                            for k in sub
                            if k in env[relation]._fields
                        )
                        if t not in ("one2many", "many2many")
                    },
                    "limit": 40,
                }
            else:
                spec[field] = {}
        return spec

    return spec_for(model, models[model]["fields"])


def ingest(env, engine, partner, interactions: int) -> None:
    from odoo.addons.social_crm_module.social_crm_module.testing import (
        confirmed_identity,
        make_author,
        make_interaction,
    )

    account = env["social.crm.account"].create(
        {"name": "bench form", "network": "mastodon", "base_url": "https://m.example"}
    )
    handle = "busy@m.example"
    confirmed_identity(env, partner, handle)
    author = make_author(handle)
    kinds = list(engine.Kind)
    now = datetime.now(timezone.utc)
    items = [
        make_interaction(
            f"form-{n}",
            author,
            kinds[n % len(kinds)],
            n,
            now=now,
            text=f"Interaction {n} about the brand",
            url=f"https://m.example/@busy/{n}",
            reply_ref=f"form-{n}",
        )
        for n in range(interactions)
    ]
    for start in range(0, interactions, 500):
        account._ingest_page(engine.Page(items=tuple(items[start : start + 500])))
    env.flush_all()
    env.cr.execute("ANALYZE social_crm_interaction; ANALYZE mail_message")


def median_ms(env, runs: int, call) -> float:
    timings = []
    for _ in range(runs):
        env.invalidate_all()
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def median_ms_interleaved(env, runs: int, *calls) -> list[float]:
    """The median of each call, the calls taking turns run after run: a machine
    that slows down for a while slows them all, not only the one measured then."""
    timings = [[] for _ in calls]
    for _ in range(runs):
        for call, times in zip(calls, timings, strict=True):
            env.invalidate_all()
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
    return [statistics.median(times) for times in timings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the stock form plus each field"
    )
    args = parser.parse_args()
    with _env.environment() as env:
        from odoo.addons.mail.tools.discuss import Store
        from odoo.addons.social_crm_module import social_crm_module as engine

        partner = env["res.partner"].create({"name": "Busy Advocate", "email": "busy@example"})
        print(f"[bench] one contact, {args.interactions} interactions through the ingest")
        ingest(env, engine, partner, args.interactions)
        env["res.partner"]._advocate_recompute()
        count = partner.social_interaction_count
        notes = env["mail.message"].search_count(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id)]
        )
        assert count == args.interactions, count
        print(f"  {count} interactions, {notes} chatter notes on the contact")

        full = form_spec(env, "res.partner")
        stock = {k: v for k, v in full.items() if not k.startswith(OURS)}
        added = sorted(set(full) - set(stock))
        print(f"  form spec: {len(full)} fields, {len(added)} of them the add-on's")
        (values,) = partner.web_read(full)
        recent = values["social_recent_interaction_ids"]
        assert [r["text"] for r in recent[:2]] == [
            "Interaction 0 about the brand",
            "Interaction 1 about the brand",
        ], recent[:2]

        thread_domain = [
            ("res_id", "=", partner.id),
            ("model", "=", "res.partner"),
            ("message_type", "!=", "user_notification"),
        ]

        def chatter():  # what /mail/thread/messages does
            res = env["mail.message"]._message_fetch(thread_domain, limit=30)
            Store(res["messages"], for_current_user=True).get_result()

        full_ms, stock_ms = median_ms_interleaved(
            env, args.runs, lambda: partner.web_read(full), lambda: partner.web_read(stock)
        )
        chatter_ms = median_ms(env, args.runs, chatter)
        print(f"  web_read, the whole contact form            {full_ms:8.1f} ms")
        print(f"  web_read, the form without the add-on       {stock_ms:8.1f} ms")
        print(f"  chatter, first 30 of {notes} messages        {chatter_ms:8.1f} ms")
        print(f"partner form with {count} interactions reads in {full_ms:.1f} ms (target <= 50 ms)")
        print(
            f"contact form with the add-on's fields / the stock form's read: "
            f"{full_ms / stock_ms:.2f}x (target <= 1.2x)"
        )
        print(f"form read + chatter page: {full_ms + chatter_ms:.1f} ms")
        if args.breakdown:  # where the add-on's time goes: stock form + one field
            costs = {
                name: median_ms(
                    env, args.runs, lambda n=name: partner.web_read({**stock, n: full[n]})
                )
                - stock_ms
                for name in added
            }
            for name, cost in sorted(costs.items(), key=lambda kv: -kv[1]):
                print(f"    + {name:40} {cost:6.1f} ms")


if __name__ == "__main__":
    main()
