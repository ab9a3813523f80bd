"""Issue 10,000 campaign coupons against Odoo's own ``loyalty.generate.wizard``.

Prints, in the same run and on the same N contacts:

- ``loyalty.generate.wizard`` generating N coupons for N selected customers
  (``loyalty.card`` + ``loyalty.history``): Odoo's baseline;
- the campaign issuing N coupons (``_issue``: limit check in SQL, blacklist
  check, ``loyalty.card`` + ``loyalty.history`` the same way, one recipient row
  per coupon, one chatter note per contact in one INSERT), and the ratio
  (target <= 1.5x);
- queueing the N coupon emails (``_deliver``: one ``mail.mail`` each, created in one
  batch) against Odoo's own mass mailing queueing N ``mail.mail`` for the same
  contacts (``mailing.mailing._action_send_mail``), and the ratio (target <= 1.5x).

A warm-up of 100 of each runs first. Everything is rolled back at the end.

    python3 bench/bench_coupons.py [--coupons 10000]

The database is ``$SCRM_BENCH_DB`` (default ``scrm_bench``), see ``bench/_env.py``.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env

TABLES = (
    "res_partner",
    "loyalty_card",
    "loyalty_history",
    "mail_message",
    "social_crm_campaign_recipient",
)


def program(env, name):
    from odoo.addons.social_crm_module.social_crm_module.testing import coupon_program

    return coupon_program(env, name)


def wizard_issue(env, partners, name):
    env["loyalty.generate.wizard"].create(
        {
            "program_id": program(env, name).id,
            "mode": "selected",
            "customer_ids": [(6, 0, partners.ids)],
            "points_granted": 1,
        }
    ).generate_coupons()
    env.flush_all()


def campaign_issue(env, partners, name):
    campaign = env["social.crm.campaign"].create(
        {
            "name": name,
            "program_id": program(env, name).id,
            "send_social": False,
            "send_email": True,
            "state": "running",
        }
    )
    recipients = env["social.crm.campaign.recipient"]._issue(
        campaign, [(partner, None, None) for partner in partners]
    )
    env.flush_all()
    return recipients


def mass_mailing_queue(env, partners, name):
    """Odoo's own mass mailing to the same contacts: its composer renders and queues
    one ``mail.mail`` per contact (and a ``mailing.trace``), without sending."""
    mailing = env["mailing.mailing"].create(
        {
            "subject": name,
            "body_html": "<p>Thank you! Here is your coupon.</p>",
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "mailing_domain": repr([("id", "in", partners.ids)]),
            "keep_archives": True,
        }
    )
    thread = threading.current_thread()
    testing = getattr(thread, "testing", False)
    thread.testing = True  # the composer commits outside tests: not in a benchmark
    try:
        mailing._action_send_mail(res_ids=partners.ids)
    finally:
        thread.testing = testing
    env.flush_all()
    return mailing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coupons", type=int, default=10_000)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with _env.environment() as env:
        partners = env["res.partner"].create(
            [
                {"name": f"Coupon Person {n}", "email": f"person{n}@bench.example"}
                for n in range(args.coupons)
            ]
        )
        env.flush_all()
        warm = partners[:100]
        wizard_issue(env, warm, "warm-up wizard")
        campaign_issue(env, warm, "warm-up campaign")
        env.invalidate_all()
        print(f"[bench] {args.coupons} coupons for {args.coupons} contacts")

        _env.analyze(env, *TABLES)
        with _env.timed(f"loyalty.generate.wizard, {args.coupons} coupons", results):
            wizard_issue(env, partners, "bench wizard")
        env.invalidate_all()
        _env.analyze(env, *TABLES)
        with _env.timed(f"campaign _issue, {args.coupons} coupons", results):
            recipients = campaign_issue(env, partners, "bench campaign")
        env.invalidate_all()
        mass_mailing_queue(env, warm, "warm-up mailing")
        env.invalidate_all()
        _env.analyze(env, *TABLES, "mail_mail", "mailing_trace")
        with _env.timed(f"mass mailing queues {args.coupons} mails", results):
            mass_mailing_queue(env, partners, "bench mailing")
        env.invalidate_all()
        _env.analyze(env, *TABLES, "mail_mail", "mailing_trace")
        with _env.timed(f"queue {args.coupons} coupon emails (_deliver)", results):
            recipients._deliver()
            env.flush_all()

        assert len(recipients) == args.coupons, len(recipients)
        assert len(recipients.coupon_id) == args.coupons
        assert recipients.coupon_id.partner_id == partners
        base = results[f"loyalty.generate.wizard, {args.coupons} coupons"]
        ours = results[f"campaign _issue, {args.coupons} coupons"]
        print(f"campaign issue / loyalty.generate.wizard: {ours / base:.2f}x (target <= 1.0x)")
        mailing = results[f"mass mailing queues {args.coupons} mails"]
        emails = results[f"queue {args.coupons} coupon emails (_deliver)"]
        print(f"coupon emails / mass mailing queueing: {emails / mailing:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
