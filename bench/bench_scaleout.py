"""Scale-out: sync and coupon delivery as OCA queue_job jobs, one job worker against two.

Odoo runs as a server would in production: ``--workers=2`` with queue_job's job
runner loaded as a server-wide module (``--load=web,queue_job``) and the root
channel given one, then two, job workers (``ODOO_QUEUE_JOB_CHANNELS=root:N``).
Twenty Mastodon accounts point at the scripted FakeServer on 127.0.0.1, which
answers every request after a network-like latency: each account has a page of
new follows, and a running campaign ("a new follow" trigger, contacts created,
delivery by DM) gives each follower a coupon. The bench queues the twenty syncs
the way the cron does and waits until every job is done and every coupon sent.

For each run it checks, and fails when one does not hold:
- no interaction twice and none missing (one per follow);
- one coupon per follower, none sent twice (the FakeServer counts the DMs per
  follower) and none lost; no failed job;
and prints the throughput (follows synced and coupons delivered per second) with
one and with two job workers, and their ratio (target >= 1.6x).

    python3 bench/bench_scaleout.py [--accounts 20] [--follows 30] [--latency 0.05]

Needs Odoo 18 with ``odoo-addon-queue-job`` 18.0 importable (``bin/test`` installs
it) and PostgreSQL. The database ``scrm_scaleout`` is created on first use (the
add-on and queue_job, no demo data) and copied for each run; copies are dropped.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # the engine, for its FakeServer
import _env  # noqa: E402

from social_crm_module.testing import FakeServer  # noqa: E402

# this checkout's own addons link: the shared one of _env may point at another clone
_env._LINK_DIR = Path(tempfile.mkdtemp(prefix="scrm-scaleout-addons-"))
atexit.register(shutil.rmtree, _env._LINK_DIR, ignore_errors=True)
BASE_DB = "scrm_scaleout"
TIMEOUT = 600  # seconds a run may take before the bench gives up


def psql(db: str, sql: str) -> str:
    return subprocess.run(
        ["psql", "-X", "-q", "-d", db, "-tAc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def ensure_base() -> None:
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{BASE_DB}'")
    print(f"[bench] {'upgrading' if exists else 'creating'} database {BASE_DB} ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            f"--addons-path={_env.addons_path()}",
            "-d",
            BASE_DB,
            "-u" if exists else "-i",
            "social_crm_module,queue_job",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
            "--http-interface=127.0.0.1",
            "--max-cron-threads=0",
        ],
        check=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def follow(account: int, n: int) -> dict:
    note_id = account * 100_000 + n
    handle = f"fan{n}"
    return {
        "id": str(note_id),
        "type": "follow",
        "created_at": "2026-11-21T08:20:00.000Z",
        "account": {
            "id": str(note_id),
            "username": handle,
            "acct": f"{handle}@fans{account}.example",
            "display_name": f"Fan {n} of brand {account}",
            "url": f"https://fans{account}.example/@{handle}",
            "followers_count": n,
            "fields": [],
        },
        "status": None,
    }


def script_server(server: FakeServer, accounts: int, follows: int, latency: float) -> None:
    for a in range(accounts):
        prefix = f"/a{a:02d}/api/v1"
        notes = [follow(a, n) for n in range(follows, 0, -1)]  # newest first
        server.add("GET", f"{prefix}/notifications", json=notes, delay=latency, times=1)
        server.add("GET", f"{prefix}/notifications", json=[], delay=latency)
        for n in range(follows):
            # one answer per expected DM, each a new status: a second DM finds no route
            posted = {
                "id": str(900_000_000 + a * 100_000 + n),
                "created_at": "2026-11-21T09:05:00.000Z",
                "visibility": "direct",
                "content": "<p>coupon</p>",
                "url": f"https://brand{a}.example/@brand/{n}",
                "account": {"id": "1", "username": "brand", "acct": "brand"},
            }
            server.add("POST", f"{prefix}/statuses", json=posted, delay=latency, times=1)


def prepare(db: str, url: str, accounts: int) -> None:
    """The accounts and the campaign, committed, in a fresh copy of the base."""
    import odoo

    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        env["social.crm.account"].create(
            [
                {
                    "name": f"Brand {a}",
                    "network": "mastodon",
                    "base_url": f"{url}/a{a:02d}",
                    "access_token": "bench-placeholder",
                    "state": "paused",
                }
                for a in range(accounts)
            ]
        )
        program = env["loyalty.program"].create({"name": "Welcome", "program_type": "coupons"})
        campaign = env["social.crm.campaign"].create(
            {
                "name": "Welcome, new followers",
                "program_id": program.id,
                "audience": "trigger",
                "trigger_kind": "follow",
                "create_contacts": True,
                "send_social": True,
                "social_mode": "dm",
                "message_template": "Welcome! {code}",
            }
        )
        campaign.action_start()
    odoo.modules.registry.Registry.delete(db)
    odoo.sql_db.close_db(db)


def odoo_command() -> list[str]:
    """The ``odoo`` script next to this Python: with --workers, Odoo re-runs its own
    command line for the gevent worker, which ``python -m odoo`` cannot be."""
    script = Path(sys.executable).with_name("odoo")
    if not script.exists():
        raise SystemExit(f"no odoo script next to {sys.executable} (pip install -e odoo-src)")
    return [sys.executable, str(script)]


def start_odoo(db: str, port: int, job_workers: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS=f"root:{job_workers}")
    process = subprocess.Popen(
        [
            *odoo_command(),
            f"--addons-path={_env.addons_path()}",
            "-d",
            db,
            f"--db-filter=^{db}$",
            "--workers=2",
            "--max-cron-threads=0",
            "--load=web,queue_job",
            "--http-interface=127.0.0.1",
            f"--http-port={port}",
            "--log-level=warn",
            f"--logfile={log}",
        ],
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    stop_odoo(process)
    raise SystemExit("Odoo did not start listening within 120 s")


def stop_odoo(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def queue_syncs(db: str) -> None:
    """What the sync cron does: every due account becomes a job."""
    psql(db, "UPDATE social_crm_account SET state = 'connected', next_sync_at = NULL")
    import odoo

    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["social.crm.account"]._cron_sync()
    odoo.modules.registry.Registry.delete(db)
    odoo.sql_db.close_db(db)


def progress(db: str) -> dict:
    jobs = dict(
        line.split("|")
        for line in psql(db, "SELECT state, count(*) FROM queue_job GROUP BY state").splitlines()
    )
    recipients = dict(
        line.split("|")
        for line in psql(
            db,
            "SELECT social_state, count(*) FROM social_crm_campaign_recipient GROUP BY 1",
        ).splitlines()
    )
    return {"jobs": {k: int(v) for k, v in jobs.items()}, "recipients": recipients}


def run(job_workers: int, args) -> dict:
    db = f"{BASE_DB}_run"
    psql("postgres", f'DROP DATABASE IF EXISTS "{db}"')
    psql("postgres", f'CREATE DATABASE "{db}" TEMPLATE "{BASE_DB}"')
    expected = args.accounts * args.follows
    log = Path(tempfile.gettempdir()) / f"scrm-scaleout-{job_workers}.log"
    log.unlink(missing_ok=True)
    with FakeServer() as server:
        script_server(server, args.accounts, args.follows, args.latency)
        prepare(db, server.url, args.accounts)
        odoo_process = start_odoo(db, free_port(), job_workers, log)
        try:
            started = time.perf_counter()
            queue_syncs(db)
            state: dict = {}
            while time.perf_counter() - started < TIMEOUT:
                state = progress(db)
                waiting = sum(n for s, n in state["jobs"].items() if s not in ("done", "failed"))
                sent = int(state["recipients"].get("sent", 0))
                if not waiting and sent >= expected:
                    break
                if not waiting and state["jobs"].get("failed"):
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            stop_odoo(odoo_process)
        requests = list(server.requests)
    # a DM starts with the follower's mention: count them per account and follower
    dms = Counter(
        (r.path, (json.loads(r.body or b"{}").get("status") or "").split(" ", 1)[0])
        for r in requests
        if r.method == "POST" and r.path.endswith("/statuses")
    )
    scripted = {route.path for route in server.routes}
    unscripted = Counter(f"{r.method} {r.path}" for r in requests if r.path not in scripted)
    result = {
        "elapsed": elapsed,
        "jobs": state.get("jobs", {}),
        "interactions": int(psql(db, "SELECT count(*) FROM social_crm_interaction")),
        "distinct_interactions": int(
            psql(
                db,
                "SELECT count(DISTINCT (account_id, external_id)) FROM social_crm_interaction",
            )
        ),
        "coupons": int(psql(db, "SELECT count(*) FROM loyalty_card")),
        "recipients_sent": int(state.get("recipients", {}).get("sent", 0)),
        "dms": sum(dms.values()),
        "followers_with_two_dms": sum(1 for n in dms.values() if n > 1),
        "unscripted": dict(unscripted),
        "throughput": expected / elapsed,
        "log": str(log),
    }
    psql("postgres", f'DROP DATABASE IF EXISTS "{db}"')
    return result


def check(result: dict, expected: int) -> list[str]:
    problems = []
    if result["interactions"] != expected:
        problems.append(f"{result['interactions']} interactions, expected {expected}")
    if result["distinct_interactions"] != result["interactions"]:
        problems.append("an interaction twice")
    if result["coupons"] != expected:
        problems.append(f"{result['coupons']} coupons, expected {expected}")
    if result["dms"] != expected or result["followers_with_two_dms"]:
        problems.append(
            f"{result['dms']} DMs for {expected} followers "
            f"({result['followers_with_two_dms']} sent twice)"
        )
    if result["recipients_sent"] != expected:
        problems.append(f"{result['recipients_sent']} coupons marked sent of {expected}")
    if result["unscripted"]:
        problems.append(f"requests the server has no answer for: {result['unscripted']}")
    if result["jobs"].get("failed"):
        problems.append(f"{result['jobs']['failed']} failed jobs (see {result['log']})")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--follows", type=int, default=30, help="new follows per account")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    args = parser.parse_args()
    ensure_base()
    from odoo.tools import config  # once per process: the runs open their copies by name

    config.parse_config([f"--addons-path={_env.addons_path()}", "--log-level=warn"])
    expected = args.accounts * args.follows
    print(
        f"[bench] {args.accounts} accounts x {args.follows} follows = {expected} coupons, "
        f"{args.latency * 1000:.0f} ms per request; Odoo --workers=2, queue_job runner",
        flush=True,
    )
    results = {}
    failed = False
    for workers in (1, 2):
        result = run(workers, args)
        results[workers] = result
        problems = check(result, expected)
        print(
            f"  {workers} job worker(s): {result['elapsed']:6.1f} s, "
            f"{result['throughput']:6.1f} follows synced and coupons sent per s; "
            f"jobs {result['jobs']}, {result['interactions']} interactions, "
            f"{result['coupons']} coupons, {result['dms']} DMs"
            + (f"; PROBLEMS: {'; '.join(problems)}" if problems else "; nothing twice or lost"),
            flush=True,
        )
        failed = failed or bool(problems)
    ratio = results[2]["throughput"] / results[1]["throughput"]
    print(f"  two job workers against one: {ratio:.2f}x the throughput (target >= 1.6x)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
