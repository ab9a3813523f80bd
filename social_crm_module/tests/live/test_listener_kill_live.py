"""Live tier: bin/listen against the PDS's event stream, killed with SIGKILL twenty
times while a customer keeps posting: nothing lost, nothing twice.

Needs Odoo 18 importable and PostgreSQL (skipped otherwise); the Odoo database is
the realtime bench's (``$SCRM_BENCH_DB``_rt), created on first use.
"""

import importlib.util
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[3]
KILLS = int(os.environ.get("SCRM_LIVE_KILLS", "20"))


def _realtime():
    pytest.importorskip("odoo")
    spec = importlib.util.spec_from_file_location("scrm_realtime", ROOT / "bench" / "_realtime.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _holder(conn, account_id):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT holder, state FROM social_crm_stream WHERE account_id = %s", [account_id]
        )
        return cur.fetchone() or (None, None)


def _cursor(conn, account_id):
    with conn.cursor() as cur:
        cur.execute("SELECT cursor FROM social_crm_stream WHERE account_id = %s", [account_id])
        row = cur.fetchone()
        return row[0] if row else None


def test_sigkill_twenty_times_while_customers_post(devnet):
    import psycopg2  # noqa: PLC0415

    rt = _realtime()
    dbname = f"{os.environ.get('SCRM_BENCH_DB', 'scrm_bench')}_rt"
    account_id = rt.setup_odoo(dbname, devnet, name="live sigkill")
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    pds, brand, alice = devnet["pds"], devnet["accounts"]["brand"], devnet["accounts"]["alice"]

    posted, halt = [], threading.Event()

    def customer():
        session, n = requests.Session(), 0
        while not halt.is_set():
            posted.append(rt.post(session, pds, alice, f"@{brand['handle']} kill {n}", brand))
            n += 1
            time.sleep(0.05)

    poster = threading.Thread(target=customer, daemon=True)
    listener = rt.start_listener(dbname, lease=2)
    takeovers = 0
    try:
        for kill in range(KILLS):
            end = time.monotonic() + 60
            while time.monotonic() < end:
                holder, state = _holder(conn, account_id)
                if holder and f":{listener.pid}:" in holder and state == "connected":
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the new listener did not take the account over")
            takeovers += 1
            if not kill:
                # the repository stream's position is unknown until its first event:
                # one post gives the listener a cursor, then the customer starts
                rt.post(requests.Session(), pds, alice, "warming up", None)
                end = time.monotonic() + 30
                while _cursor(conn, account_id) is None and time.monotonic() < end:
                    time.sleep(0.05)
                poster.start()
            time.sleep(random.uniform(0.1, 1.5))  # killed mid-batch, mid-commit, idle...
            os.killpg(listener.pid, signal.SIGKILL)
            listener.wait()
            listener = rt.start_listener(dbname, lease=2)
        halt.set()
        poster.join(30)
        expected = set(posted)
        end = time.monotonic() + 90
        while time.monotonic() < end:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT external_id FROM social_crm_interaction WHERE account_id = %s",
                    [account_id],
                )
                stored = [row[0] for row in cur.fetchall()]
            if expected <= set(stored):
                break
            time.sleep(0.5)
    finally:
        halt.set()
        listener.send_signal(signal.SIGTERM)
        listener.wait(30)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT external_id), count(message_id),"
            " count(DISTINCT message_id) FROM social_crm_interaction WHERE account_id = %s",
            [account_id],
        )
        rows, distinct, notes, distinct_notes = cur.fetchone()
    assert takeovers == KILLS
    assert len(expected) > 100, "customers kept posting"
    assert expected <= set(stored), f"lost {len(expected - set(stored))} posts"
    assert rows == distinct == len(stored), "nothing twice"
    assert notes == distinct_notes == rows, "one chatter note each"
