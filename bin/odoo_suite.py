#!/usr/bin/env python3
"""Install the add-on on a fresh database and run its Odoo test suite.

Needs an importable Odoo 18 and PostgreSQL on the local socket; sets up neither.
The clone's folder need not be called ``social_crm_module``: it is linked into a
temporary addons folder under that name.

Environment:
  ODOO_ADDONS_PATH   extra/explicit addons folders (comma-separated); by default
                     Odoo's own ``addons`` folders next to the ``odoo`` package
  SCRM_TEST_DB       database name (default: a fresh scrm_test_<pid>)
  SCRM_TEMPLATE_DB   clone this database instead of starting empty (local speed-up)
  SCRM_KEEP_DB=1     keep the database afterwards
  SCRM_TEST_TAGS     --test-tags value (default: /social_crm_module)
  SCRM_WITHOUT_DEMO=1  install without demo data
  SCRM_QUEUE_JOB=1   the job path: install OCA ``queue_job`` (it must be importable,
                     e.g. ``pip install odoo-addon-queue-job``) next to the add-on
                     and run the tests tagged ``scrm_queue_job`` too; without it
                     (the cron path) those tests are left out, not skipped

Prints ``odoo (cron path): N passed, N failed, N skipped`` (or ``job path``) and
exits non-zero when a test failed or errored, when the log has an ERROR or
CRITICAL line, or when no test ran.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "social_crm_module"
#: test-only add-ons under tests/addons, installed and tested with the module (a
#: network added from outside: tests/addons/social_crm_network_dummy)
TEST_ADDONS = ROOT / "tests" / "addons"
TEST_MODULES = sorted(p.name for p in TEST_ADDONS.iterdir() if (p / "__manifest__.py").exists())
SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
BAD_LINE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ", re.MULTILINE)
QUEUE_JOB_TAG = "scrm_queue_job"  # the tests of the job path (tests/test_queue_job.py)
SKIPPED = re.compile(r" INFO \S+ \S+: skipped (.*)$", re.MULTILINE)


def odoo_addons_paths() -> list[str]:
    explicit = os.environ.get("ODOO_ADDONS_PATH")
    if explicit:
        return [p for p in explicit.split(",") if p]
    import odoo  # noqa: PLC0415 - only when Odoo is there

    package = Path(odoo.__file__).resolve().parent
    candidates = [package.parent / "addons", package / "addons"]
    return [str(p) for p in candidates if p.is_dir()]


def psql(*args: str) -> None:
    subprocess.run(["psql", "-q", "-d", "postgres", "-c", *args], check=True)


def main() -> int:
    db = os.environ.get("SCRM_TEST_DB") or f"scrm_test_{os.getpid()}"
    template = os.environ.get("SCRM_TEMPLATE_DB")
    tags = os.environ.get("SCRM_TEST_TAGS", ",".join(f"/{m}" for m in [MODULE, *TEST_MODULES]))
    job_path = bool(os.environ.get("SCRM_QUEUE_JOB"))
    modules = ",".join([MODULE, *TEST_MODULES, *(["queue_job"] if job_path else [])])
    if not job_path:
        tags += f",-{QUEUE_JOB_TAG}"
    mode = "job path, with queue_job" if job_path else "cron path, without queue_job"
    with tempfile.TemporaryDirectory(prefix="scrm-addons-") as tmp:
        link = Path(tmp) / MODULE
        link.symlink_to(ROOT, target_is_directory=True)
        addons = ",".join([tmp, str(TEST_ADDONS), *odoo_addons_paths()])
        psql(f'DROP DATABASE IF EXISTS "{db}"')
        if template:
            psql(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
        log_file = Path(tmp) / "odoo.log"
        command = [
            sys.executable,
            "-m",
            "odoo",
            f"--addons-path={addons}",
            "-d",
            db,
            "-i",
            modules,
            "--test-enable",
            f"--test-tags={tags}",
            "--stop-after-init",
            "--http-interface=127.0.0.1",
            "--http-port=0",
            "--max-cron-threads=0",
            "--log-level=info",
            f"--logfile={log_file}",
        ]
        if os.environ.get("SCRM_WITHOUT_DEMO"):
            command.append("--without-demo=all")
        started = time.monotonic()
        rc = subprocess.run(command, check=False).returncode
        elapsed = time.monotonic() - started
        log = log_file.read_text(errors="replace") if log_file.exists() else ""
        if not os.environ.get("SCRM_KEEP_DB"):
            psql(f'DROP DATABASE IF EXISTS "{db}"')
    problems = [m.group(0) for m in BAD_LINE.finditer(log)]
    for line in log.splitlines():
        if " ERROR " in line or " CRITICAL " in line or " FAIL: " in line or "WARNING" in line:
            print(line)
    totals = [tuple(map(int, m.groups())) for m in SUMMARY.finditer(log)]
    failed = errored = ran = 0
    if totals:
        failed, errored, ran = totals[-1]
    skipped = SKIPPED.findall(log)
    for reason in skipped:
        print(f"skipped: {reason}")
    print(f"Odoo suite ({mode}): install + tests took {elapsed:.0f}s on database {db}")
    # an error in setUpClass counts as an error of 0 tests: never print a negative
    passed = max(ran - failed - errored - len(skipped), 0)
    print(f"odoo ({mode}): {passed} passed, {failed + errored} failed, {len(skipped)} skipped")
    if rc != 0:
        print("\n".join(log.splitlines()[-80:]))
        print(f"Odoo exited with {rc}", file=sys.stderr)
        return 1
    if problems:
        print(f"{len(problems)} ERROR/CRITICAL line(s) in the Odoo log", file=sys.stderr)
        return 1
    if ran == 0:
        print("the Odoo suite ran no test; that is a failure here", file=sys.stderr)
        return 1
    return 1 if failed or errored else 0


if __name__ == "__main__":
    sys.exit(main())
