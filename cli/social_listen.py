"""``odoo-bin social_listen``: the listeners (``bin/listen`` runs it).

One process follows the streams of the accounts it holds, one thread per account;
any number of processes, on any number of servers, share the accounts of one
database through the leases of ``social.crm.stream`` (see that model). Each batch
a stream yields is stored in one transaction: fence the lease, ingest (the same
ingest as the pull), move the stream's cursor and its health, commit.

    bin/listen -c odoo.conf -d mydb [--lease 15] [--max-accounts 50]
"""

import logging
import optparse
import os
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.cli import Command
from odoo.modules.registry import Registry

from ..social_crm_module.errors import AuthError, ConnectorError
from ..social_crm_module.interaction import Page
from ..social_crm_module.streams import backoff

_logger = logging.getLogger(__name__)

#: most authors looked up per batch for a handle (streams carry DIDs only)
MAX_LOOKUPS = 25


class SocialListen(Command):
    """Follow the streams of the Social CRM accounts (real time and listening)"""

    name = "social_listen"

    def run(self, args):
        parser = odoo.tools.config.parser
        parser.prog = f"{Path(sys.argv[0]).name} {self.name}"
        group = optparse.OptionGroup(parser, "Social CRM listeners")
        group.add_option(
            "--lease",
            dest="lease",
            type="float",
            default=15.0,
            help="seconds a listener holds an account without renewing",
        )
        group.add_option(
            "--scan",
            dest="scan",
            type="float",
            default=5.0,
            help="seconds between two looks for accounts to hold",
        )
        group.add_option(
            "--max-accounts",
            dest="max_accounts",
            type="int",
            default=50,
            help="most accounts this process holds",
        )
        group.add_option(
            "--idle",
            dest="idle",
            type="float",
            default=1.0,
            help="seconds a stream waits for an event before a heartbeat",
        )
        parser.add_option_group(group)
        opt = odoo.tools.config.parse_config(args, setup_logging=True)
        dbname = odoo.tools.config["db_name"]
        if not dbname or "," in dbname:
            sys.exit("social_listen needs one database (-d)")
        listener = Listener(
            dbname,
            lease=opt.lease,
            scan=opt.scan,
            max_accounts=opt.max_accounts,
            idle=opt.idle,
        )
        signal.signal(signal.SIGTERM, lambda *_: listener.stop.set())
        signal.signal(signal.SIGINT, lambda *_: listener.stop.set())
        listener.run()


class Listener:
    """Holds accounts (leases) and runs one :class:`AccountListener` per account."""

    def __init__(self, dbname, *, lease=15.0, scan=5.0, max_accounts=50, idle=1.0):
        self.registry = Registry(dbname)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = max(2.0, float(lease))
        self.scan_every = max(0.2, float(scan))
        self.max_accounts = max(1, int(max_accounts))
        self.idle = idle
        self.stop = threading.Event()
        self.threads = {}

    def env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def run(self):
        _logger.info("Social CRM listener %s started", self.holder)
        while not self.stop.is_set():
            try:
                self.scan()
            except Exception:
                _logger.exception("Social CRM listener: the scan failed")
            self.stop.wait(self.scan_every)
        for thread in self.threads.values():
            thread.join(10)
        _logger.info("Social CRM listener %s stopped", self.holder)

    def scan(self):
        """Take the leases of streaming accounts nobody holds (or whose holder died)."""
        self.threads = {k: t for k, t in self.threads.items() if t.is_alive()}
        with self.registry.cursor() as cr:
            wanted = self.env(cr)["social.crm.account"]._social_crm_streaming_accounts().ids
        for account_id in wanted:
            if account_id in self.threads or len(self.threads) >= self.max_accounts:
                continue
            with self.registry.cursor() as cr:
                row = self.env(cr)["social.crm.stream"]._acquire(
                    account_id, self.holder, self.lease
                )
            if row:
                thread = AccountListener(self, account_id, row[1])
                self.threads[account_id] = thread
                thread.start()


class AccountListener(threading.Thread):
    """Follows one account's stream while its listener holds the account."""

    def __init__(self, listener, account_id, cursor):
        super().__init__(name=f"social-listen-{account_id}", daemon=True)
        self.listener = listener
        self.account_id = account_id
        self.cursor = cursor
        self.holder = listener.holder
        self.lease = listener.lease
        self.connector = None
        self.connected = False
        self.last_beat = 0.0

    # -- the loop -----------------------------------------------------------------------

    def run(self):
        state, error = "stopped", None
        try:
            self._follow()
        except AuthError as exc:
            state, error = "error", str(exc)[:300]
            _logger.warning("Social CRM stream of account %s: %s", self.account_id, error)
        except _LostLease:
            _logger.info("Social CRM stream of account %s taken over", self.account_id)
            return
        except Exception as exc:
            state, error = "error", f"{type(exc).__name__}: {exc}"[:300]
            _logger.exception("Social CRM stream of account %s failed", self.account_id)
        with self.listener.registry.cursor() as cr:
            self.listener.env(cr)["social.crm.stream"]._release(
                self.account_id, self.holder, state, error
            )

    def _follow(self):
        stop = self.listener.stop
        attempt = 0
        while not stop.is_set():
            stream = None
            try:
                stream, replays = self._open()
                caught_up = replays
                for batch in stream.batches():
                    attempt = 0
                    if stop.is_set():
                        break
                    self._store(batch)
                    if not caught_up:
                        # connected (the socket buffers what comes next): the pull
                        # now reads what happened while the stream was away
                        self._catch_up()
                        caught_up = True
            except AuthError:
                raise
            except ConnectorError as exc:
                attempt += 1
                delay = backoff(attempt, cap=min(30.0, self.lease / 2))
                self._note(state="reconnecting", last_error=str(exc)[:300], reconnected=True)
                _logger.info(
                    "Social CRM stream of account %s: %s; again in %.1fs",
                    self.account_id,
                    exc,
                    delay,
                )
                self.connected = False
                stop.wait(delay)  # the one wait: the explicit backoff
            finally:
                if stream is not None:
                    stream.close()

    def _open(self):
        """Build the account's stream (the network file decides which)."""
        with self.listener.registry.cursor() as cr:
            account = self._account(cr)
            self.connector = account._get_connector()
            try:
                stream = account._social_crm_stream(self.connector, self.cursor)
            finally:
                account._store_refreshed_credentials(self.connector)
            if stream is None:
                raise AuthError("this account's network has no stream")
            stream.idle = self.listener.idle
            return stream, account._social_crm_stream_replays()

    def _catch_up(self):
        """A stream that keeps no position: the pull reads what came while away."""
        with self.listener.registry.cursor() as cr:
            try:
                self._account(cr)._sync()
            except ConnectorError as exc:
                _logger.info("Social CRM catch-up of account %s: %s", self.account_id, exc)

    def _account(self, cr):
        account = self.listener.env(cr)["social.crm.account"].browse(self.account_id)
        return account.with_company(account.company_id)

    # -- one batch, one transaction -------------------------------------------------------

    def _store(self, batch):
        now = time.monotonic()
        beat = now - self.last_beat >= self.lease / 3
        if not batch.frames and not beat and self.connected:
            return
        with self.listener.registry.cursor() as cr:
            env = self.listener.env(cr)
            if not env["social.crm.stream"]._fence(self.account_id, self.holder, self.lease):
                raise _LostLease()
            account = self._account(cr)
            if batch.items:
                page = self._with_handles(account, batch.page)
                account._ingest_page(page, batch.listening)
                account._store_refreshed_credentials(self.connector)
            values = {"cursor": batch.cursor, "state": "connected", "frames": batch.frames}
            if not self.connected:
                values["connected_since"] = odoo.fields.Datetime.now()
                values["last_error"] = None
            if batch.frames:
                values["last_batch_at"] = odoo.fields.Datetime.now()
            if batch.last_event_at:
                values["last_event_at"] = datetime.fromtimestamp(
                    batch.last_event_at, tz=timezone.utc
                ).replace(tzinfo=None)
                values["lag"] = max(0.0, time.time() - batch.last_event_at)
            env["social.crm.stream"]._record(self.account_id, self.holder, **values)
        self.connected = True
        self.last_beat = now
        self.cursor = batch.cursor

    def _with_handles(self, account, page):
        """Streams that carry ids only (Bluesky DIDs): look up the handles of authors
        the account does not know yet, in one request; best effort."""
        missing = {i.author.external_id for i in page.items if not i.author.handle}
        if not missing or "profiles" not in type(self.connector).capabilities():
            return page
        known = set(
            account.env["social.crm.identity"]
            .sudo()
            .search([("network", "=", account.network), ("external_id", "in", list(missing))])
            .mapped("external_id")
        )
        todo = sorted(missing - known)[:MAX_LOOKUPS]
        if not todo:
            return page
        try:
            found = {a.external_id: a for a in self.connector.profiles(todo)}
        except ConnectorError as exc:
            _logger.info("Social CRM stream: profile lookup failed: %s", exc)
            return page
        items = tuple(
            replace(i, author=found.get(i.author.external_id, i.author)) for i in page.items
        )
        return Page(items=items, skipped=page.skipped, problems=page.problems)

    def _note(self, **values):
        try:
            with self.listener.registry.cursor() as cr:
                self.listener.env(cr)["social.crm.stream"]._record(
                    self.account_id, self.holder, **values
                )
        except Exception:
            _logger.exception("Social CRM stream of account %s: health not saved", self.account_id)


class _LostLease(Exception):
    """Another listener took the account (this one was too slow to renew)."""
