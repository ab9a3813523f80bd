"""Shared bootstrap for the benchmarks: an Odoo environment on a database with the
add-on installed, rolled back at the end so a benchmark leaves nothing behind.

Needs an importable Odoo 18 and PostgreSQL on the local socket (sets up neither).
The database (default ``scrm_bench``, or ``$SCRM_BENCH_DB``) is created on first
use, without demo data, by installing the add-on from this checkout.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "social_crm_module"
_LINK_DIR = Path(tempfile.gettempdir()) / "scrm-bench-addons"


def addons_path() -> str:
    import odoo

    _LINK_DIR.mkdir(exist_ok=True)
    link = _LINK_DIR / MODULE
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    package = Path(odoo.__file__).resolve().parent
    odoo_dirs = [p for p in (package.parent / "addons", package / "addons") if p.is_dir()]
    return ",".join(str(p) for p in [_LINK_DIR, *odoo_dirs])


def database() -> str:
    return os.environ.get("SCRM_BENCH_DB", "scrm_bench")


def ensure_database(name: str) -> None:
    """Install (or upgrade) the add-on on ``name``; a no-op when it is up to date."""
    exists = subprocess.run(
        ["psql", "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    flag = "-u" if exists else "-i"
    print(f"[bench] {'upgrading' if exists else 'creating'} database {name} ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            f"--addons-path={addons_path()}",
            "-d",
            name,
            flag,
            MODULE,
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
            "--http-interface=127.0.0.1",
            "--max-cron-threads=0",
        ],
        check=True,
    )
    # every benchmark rolls back: what it inserted stays behind as dead rows and
    # index entries until a vacuum; start each one on a clean database
    subprocess.run(["psql", "-q", "-d", name, "-c", "VACUUM (ANALYZE)"], check=True)


@contextlib.contextmanager
def environment(name: str | None = None) -> Iterator[object]:
    """Yield a superuser ``env``; everything done in it is rolled back."""
    name = name or database()
    ensure_database(name)
    import odoo
    from odoo.tools import config

    config.parse_config([f"--addons-path={addons_path()}", "-d", name, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(name)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        try:
            yield env
        finally:
            cr.rollback()


@contextlib.contextmanager
def scratch_environment() -> Iterator[object]:
    """Like :func:`environment`, on a throwaway copy of the bench database, so a
    benchmark may commit (to measure a step in its own transaction, as a cron
    runs it); the copy is dropped at the end."""
    base = database()
    ensure_database(base)
    name = f"{base}_scratch"
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{base}"'):
        subprocess.run(["psql", "-q", "-d", "postgres", "-c", sql], check=True)
    import odoo
    from odoo.tools import config

    config.parse_config([f"--addons-path={addons_path()}", "-d", name, "--log-level=warn"])
    try:
        registry = odoo.modules.registry.Registry(name)
        with registry.cursor() as cr:
            yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
    finally:
        odoo.modules.registry.Registry.delete(name)
        odoo.sql_db.close_db(name)
        subprocess.run(
            ["psql", "-q", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{name}"'],
            check=True,
        )


def analyze(env, *tables: str) -> None:
    """Refresh the planner's statistics of ``tables``, as autovacuum does on a live
    database, before a measured step.

    A benchmark starts from a near-empty database and grows its tables a
    thousandfold inside one transaction (it is rolled back at the end); without
    this, PostgreSQL plans, among others, the foreign-key check of each new row
    as a scan of a table it believes holds twenty rows. ``ANALYZE`` inside the
    transaction counts the transaction's own rows.
    """
    env.flush_all()
    env.cr.execute(f"ANALYZE {', '.join(tables)}")


@contextlib.contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
    print(f"  {label:<48} {results[label]:8.3f} s", flush=True)
