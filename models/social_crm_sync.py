"""Ingest: one engine Page into identities, interactions and the partners' chatter.

A fixed number of queries per page, whatever its size: dedupe (1), identities
(1 read + 1 batch create + 1 set-based refresh), matching (1 candidate read +
links), interactions (1 batch create), chatter (1 insert + 1 link back),
last-interaction dates (2), cursor (1).
"""

import logging
from datetime import timedelta, timezone
from typing import NamedTuple

from markupsafe import Markup

from odoo import api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import SQL, config

from ..social_crm_module import matching
from ..social_crm_module.errors import AuthError, ConnectorError, NotSupported, RateLimited
from .social_crm_account import CREDENTIAL_FIELDS
from .social_crm_interaction import KINDS

_logger = logging.getLogger(__name__)


class Note(NamedTuple):
    """What a chatter note says about one interaction."""

    partner_id: int
    kind: str
    network: str
    handle: str
    text: str
    url: str
    date: object  # datetime, or its string form: one kind per call


def _http(url):
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else False


class SocialCrmAccount(models.Model):
    _inherit = "social.crm.account"

    def _ingest_page(self, page):
        """Store one page of engine interactions; return the new interaction records.

        Idempotent: interactions already stored for this account (same external id)
        are skipped, so a page read twice, or a run killed and run again, stores
        nothing twice. The cursor is stored in the same transaction as the page.
        """
        self.ensure_one()
        Interaction = self.env["social.crm.interaction"]
        items = self._ingest_dedupe(list(page.items))
        items = self.env["social.crm.erased"]._drop_erased(self.network, items)
        interactions = Interaction
        if items:
            identities = self._ingest_identities([item.author for item in items])
            items = [
                item
                for item in items
                if not identities[item.author.external_id].partner_id.social_do_not_track
            ]
            interactions = self._ingest_create(items, identities)
            self._ingest_touch_dates(interactions)
        self.write({"cursor": page.cursor or self.cursor, "last_sync_at": fields.Datetime.now()})
        self._social_crm_after_ingest(interactions)
        return interactions

    def _social_crm_after_ingest(self, interactions):
        """Hook for features that react to new interactions (routing, campaigns)."""
        return interactions

    # -- steps --------------------------------------------------------------------------

    def _ingest_dedupe(self, items):
        """Drop items already stored for this account, and repeats within the page."""
        external_ids = list({item.external_id for item in items})
        self.env["social.crm.interaction"].flush_model(["account_id", "external_id"])
        self.env.cr.execute(
            SQL(
                "SELECT external_id FROM social_crm_interaction"
                " WHERE account_id = %s AND external_id = ANY(%s)",
                self.id,
                external_ids,
            )
        )
        seen = {row[0] for row in self.env.cr.fetchall()}
        fresh = []
        for item in items:
            if item.external_id not in seen:
                seen.add(item.external_id)
                fresh.append(item)
        return fresh

    def _ingest_identities(self, authors):
        """Find or create one identity per author; refresh what the network says."""
        Identity = self.env["social.crm.identity"].sudo()
        by_id = {}
        for author in authors:
            by_id[author.external_id] = author
        existing = Identity.search(
            [("network", "=", self.network), ("external_id", "in", list(by_id))]
        )
        found = {identity.external_id: identity for identity in existing}
        missing = [author for key, author in by_id.items() if key not in found]
        created = Identity.create([self._ingest_identity_values(a) for a in missing])
        found.update({identity.external_id: identity for identity in created})
        self._ingest_refresh_identities(existing, by_id)
        self._ingest_match(found, by_id)
        return found

    def _ingest_identity_values(self, author):
        return {
            "network": self.network,
            "external_id": author.external_id,
            "handle": author.handle or author.external_id,
            "display_name_network": author.display_name,
            "profile_url": _http(author.profile_url),
            "followers_count": author.followers_count or 0,
            "avatar_url": _http(author.avatar_url),
            "website": _http(author.website),
            "company_id": self.company_id.id,
        }

    def _ingest_refresh_identities(self, identities, by_id):
        """One UPDATE for handles, names and followers that changed on the network."""
        if not identities:
            return
        rows = [
            SQL(
                "(%s, %s::varchar, %s::varchar, %s::int)",
                identity.id,
                # Odoo reads an empty char as False: send NULL, never a boolean
                by_id[identity.external_id].handle or identity.handle or None,
                by_id[identity.external_id].display_name or identity.display_name_network or None,
                by_id[identity.external_id].followers_count,
            )
            for identity in identities
        ]
        self.env["social.crm.identity"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_identity i
                   SET handle = v.handle, display_name_network = v.name,
                       followers_count = COALESCE(v.followers::int, i.followers_count)
                  FROM (VALUES %s) AS v(id, handle, name, followers)
                 WHERE i.id = v.id
                   AND (i.handle, i.display_name_network, i.followers_count)
                       IS DISTINCT FROM
                       (v.handle, v.name, COALESCE(v.followers::int, i.followers_count))
                """,
                SQL(", ").join(rows),
            )
        )
        identities.invalidate_recordset(["handle", "display_name_network", "followers_count"])

    def _ingest_match(self, identities, by_id):
        """Link unlinked identities on verifiable signals; suggest same-name matches."""
        todo = [i for i in identities.values() if i.link_state == "unlinked" and not i.partner_id]
        if not todo:
            return
        authors = [by_id[identity.external_id] for identity in todo]
        index = matching.PartnerIndex(self._ingest_candidates(authors))
        links = []
        for identity, author in zip(todo, authors, strict=True):
            match = index.match(author)
            if not match or match.partner_id in identity.rejected_partner_ids.ids:
                continue
            state = "confirmed" if match.confirmed else "suggested"
            links.append((identity.id, match.partner_id, state, str(match.reason)))
        self._ingest_link(links)

    def _ingest_link(self, links):
        """Store (identity id, partner id, link state, reason) rows in one UPDATE.

        Only identities still unlinked are touched, so a confirmed link is never
        overwritten; stored fields that depend on the link (the interactions'
        partner) are recomputed by the ORM at the next flush.
        """
        if not links:
            return
        Identity = self.env["social.crm.identity"].sudo()
        Identity.flush_model(["partner_id", "link_state", "match_reason"])
        ids, partner_ids, states, reasons = (list(column) for column in zip(*links, strict=True))
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_identity i
                   SET partner_id = v.partner_id, link_state = v.state,
                       match_reason = v.reason, write_uid = %s,
                       write_date = now() AT TIME ZONE 'UTC'
                  FROM unnest(%s::int[], %s::int[], %s::varchar[], %s::varchar[])
                       AS v(id, partner_id, state, reason)
                 WHERE i.id = v.id AND i.partner_id IS NULL AND i.link_state = 'unlinked'
                """,
                self.env.uid,
                ids,
                partner_ids,
                states,
                reasons,
            )
        )
        identities = Identity.browse(ids)
        fnames = ["partner_id", "link_state", "match_reason", "write_uid", "write_date"]
        identities.invalidate_recordset(fnames)
        self.env["res.partner"].invalidate_model(["social_identity_ids"])
        identities.modified(["partner_id", "link_state", "match_reason"])

    def _ingest_candidates(self, authors):
        """Partners that could match these authors, read in one query."""
        emails, domains, names = set(), set(), set()
        for author in authors:
            if author.email:
                emails.add(author.email.strip().lower())
            for link in (author.website, *author.verified_links):
                if link:
                    domains.add(matching.domain_of(link))
            if author.handle and "." in author.handle and not author.handle.startswith("did:"):
                domains.add(author.handle.lower())
            if author.display_name:
                names.add(author.display_name.strip().lower())
        domains.discard("")
        if not (emails or domains or names):
            return []
        self.env["res.partner"].flush_model(["name", "email", "website", "active"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id, name, email, website FROM res_partner
                 WHERE active
                   AND (lower(email) = ANY(%s)
                        OR lower(regexp_replace(website, '^https?://(www\\.)?|[/:].*$', '', 'g'))
                           = ANY(%s)
                        OR lower(name) = ANY(%s))
                """,
                list(emails),
                list(domains),
                list(names),
            )
        )
        return [
            matching.Candidate(pid, name or "", email or "", website or "")
            for pid, name, email, website in self.env.cr.fetchall()
        ]

    def _ingest_create(self, items, identities):
        """Create the page's interactions in one INSERT, with everything known before
        it (computed fields are precomputed, classification is in the values): each
        UPDATE of a row in the transaction that inserted it re-checks every foreign
        key of the row, so none is left for later that can be done now."""
        values = self._ingest_values(items, identities)
        # the chatter notes first, so that each row is inserted with its message_id
        by_id = {identity.id: identity for identity in identities.values()}
        linked = []
        for vals in values:
            identity = by_id[vals["identity_id"]]
            if identity.partner_id and identity.link_state == "confirmed":
                linked.append((vals, identity))
        message_ids = self._ingest_notes(
            [
                Note(
                    identity.partner_id.id,
                    vals["kind"],
                    vals["network"],
                    identity.handle,
                    vals["text"],
                    vals["url"],
                    vals["date"],
                )
                for vals, identity in linked
            ]
        )
        for (vals, _identity), message_id in zip(linked, message_ids, strict=True):
            vals["message_id"] = message_id
        return self.env["social.crm.interaction"].sudo().create(values)

    def _ingest_values(self, items, identities):
        """The create values of the page's interactions; features add their own."""
        parents = {item.parent_id for item in items if item.parent_id}
        parent_ids = {}
        if parents:
            self.env.cr.execute(
                SQL(
                    "SELECT external_id, id FROM social_crm_interaction"
                    " WHERE account_id = %s AND external_id = ANY(%s)",
                    self.id,
                    list(parents),
                )
            )
            parent_ids = dict(self.env.cr.fetchall())
        return [
            {
                "account_id": self.id,
                "network": self.network,
                "identity_id": identities[item.author.external_id].id,
                "kind": str(item.kind),
                "text": item.text,
                "url": _http(item.url),
                "date": fields.Datetime.to_string(item.created_at.replace(tzinfo=None)),
                "external_id": item.external_id,
                "parent_external_id": item.parent_id or False,
                "root_external_id": item.root_id or False,
                "subject_external_id": item.subject_id or False,
                "reply_ref": item.reply_ref or False,
                "parent_id": parent_ids.get(item.parent_id, False),
            }
            for item in items
        ]

    def _ingest_log_chatter(self, interactions):
        """A note on its partner's chatter for each stored interaction that has none
        (an identity confirmed after its history arrived), in one INSERT."""
        linked = interactions.filtered(
            lambda i: i.partner_id and i.identity_id.link_state == "confirmed"
        )
        if not linked:
            return
        ids = self._ingest_notes(
            [
                Note(
                    row.partner_id.id,
                    row.kind,
                    row.network,
                    row.identity_id.handle,
                    row.text,
                    row.url,
                    row.date,
                )
                for row in linked
            ]
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_interaction i SET message_id = v.message_id
                  FROM unnest(%s::int[], %s::int[]) AS v(id, message_id)
                 WHERE i.id = v.id
                """,
                linked.ids,
                ids,
            )
        )
        linked.invalidate_recordset(["message_id"])

    def _ingest_notes(self, notes):
        """One "Social interaction" note per :class:`Note` in one INSERT; returns the
        message ids in the order of ``notes``.

        Notes are written oldest first: the chatter lists messages by id, so the ids
        follow the posting dates and the timeline reads in order.
        """
        if not notes:
            return []
        order = sorted(range(len(notes)), key=lambda n: notes[n].date)
        ids = self.env["res.partner"]._social_crm_log_notes(
            [(notes[n].partner_id, self._ingest_note_body(notes[n])) for n in order],
            subtype_xmlid="social_crm_module.mt_social_interaction",
            dates=[notes[n].date for n in order],
        )
        by_position = dict(zip(order, ids, strict=True))
        return [by_position[n] for n in range(len(notes))]

    @api.model
    def _ingest_note_body(self, note):
        """The chatter note: network text is escaped by Markup.format, never trusted."""
        kind = dict(KINDS).get(note.kind, note.kind)
        network = dict(self._fields["network"].selection).get(note.network)
        text = (note.text or "").strip()
        body = Markup("<p><b>{kind}</b> on {network} by {handle}</p>").format(
            kind=kind, network=network, handle=note.handle or ""
        )
        if text:
            body += Markup("<blockquote>{}</blockquote>").format(text)
        url = _http(note.url)
        if url:
            body += Markup(
                '<p><a href="{}" target="_blank" rel="noopener noreferrer">{}</a></p>'
            ).format(url, self.env._("Open on %s", network))
        return body

    def _ingest_touch_dates(self, interactions):
        """Move identities' and partners' last-interaction dates forward (2 queries),
        from the page's own records: the interactions table is not read again."""
        targets = (
            ("social.crm.identity", "last_interaction_at", "identity_id"),
            ("res.partner", "social_last_interaction_at", "partner_id"),
        )
        for model, column, link in targets:
            latest = {}
            for interaction in interactions:
                record_id = interaction[link].id
                if record_id and (record_id not in latest or latest[record_id] < interaction.date):
                    latest[record_id] = interaction.date
            if not latest:
                continue
            Model = self.env[model]
            Model.flush_model([column])
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE %(table)s t
                       SET %(column)s = v.last
                      FROM unnest(%(ids)s::int[], %(dates)s::timestamp[]) AS v(id, last)
                     WHERE t.id = v.id
                       AND (t.%(column)s IS NULL OR t.%(column)s < v.last)
                    """,
                    table=SQL.identifier(Model._table),
                    column=SQL.identifier(column),
                    ids=list(latest),
                    dates=list(latest.values()),
                )
            )
            Model.browse(latest).invalidate_recordset([column])


class SocialCrmAccountSync(models.Model):
    """The schedule: one account, one page at a time; errors stay on their account."""

    _inherit = "social.crm.account"

    #: most pages one account may read in one cron run, so one busy account
    #: cannot starve the others
    _sync_page_budget = 20
    #: the longest back-off after repeated transient failures
    _sync_max_backoff = timedelta(hours=6)

    def _sync_one_page(self, connector=None):
        """Fetch and ingest the page after the stored cursor; return has_more."""
        self.ensure_one()
        connector = connector or self._get_connector()
        page = connector.fetch(self.cursor or None)
        self._ingest_page(page)
        self.write(
            {"state": "connected", "last_error": False, "failure_count": 0, "next_sync_at": False}
        )
        return page.has_more

    def _store_refreshed_credentials(self, connector):
        refreshed = getattr(connector, "updated_credentials", None) or {}
        fields_by_key = {key: name for name, key in CREDENTIAL_FIELDS[self.network].items()}
        values = {fields_by_key[k]: v for k, v in refreshed.items() if k in fields_by_key}
        if values:
            self.sudo().write(values)

    def _sync(self, max_pages=None):
        """Read pages until there is no more or the budget is spent; return counts.

        Each page runs in a savepoint: a failure rolls back that page only and is
        recorded on the account; in cron mode every page is committed, so a run
        killed anywhere loses nothing and repeats nothing.
        """
        self.ensure_one()
        budget = max_pages or self._sync_page_budget
        pages = 0
        before = len(self.interaction_ids)
        if not self._sync_lock():
            _logger.info("Social CRM account %s is being synced by another worker", self.id)
            return pages, 0
        # one connector for the run: one session, reused page after page
        connector = self._get_connector()
        while pages < budget:
            # each commit releases the lock: take it again, or leave the account to
            # the worker that took it (it resumes from the committed cursor)
            if pages and not self._sync_lock():
                break
            try:
                with self.env.cr.savepoint():
                    has_more = self._sync_one_page(connector)
            except ConnectorError as error:
                self._sync_failed(error)
                break
            finally:
                # tokens refreshed during a page that then failed are kept too
                self._store_refreshed_credentials(connector)
            pages += 1
            self._sync_commit()
            if not has_more:
                break
        self.invalidate_recordset(["interaction_ids"])
        return pages, len(self.interaction_ids) - before

    def _sync_lock(self):
        """Hold this account for the current transaction; False when another
        worker (a cron, a job on another node, a person's "Sync now") holds it."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM social_crm_account WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                self.id,
            )
        )
        return bool(self.env.cr.fetchone())

    def _sync_commit(self):
        if not (config["test_enable"] or modules.module.current_test):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _sync_failed(self, error):
        """Record the failure on this account only; decide when to try again."""
        now = fields.Datetime.now()
        message = f"{type(error).__name__}: {error}"[:1000]
        values = {"last_error": message, "failure_count": self.failure_count + 1}
        if isinstance(error, RateLimited):
            retry_at = error.retry_at
            if retry_at is not None:
                retry_at = retry_at.astimezone(timezone.utc).replace(tzinfo=None)
            if retry_at is None or retry_at <= now:
                retry_at = now + timedelta(minutes=15)
            values.update(next_sync_at=retry_at, failure_count=self.failure_count)
        elif isinstance(error, AuthError):
            values.update(state="error", next_sync_at=False)
            self._sync_notify_admin(message)
        else:
            backoff = min(timedelta(minutes=5) * 2**self.failure_count, self._sync_max_backoff)
            values["next_sync_at"] = now + backoff
        self.write(values)
        _logger.warning("Social CRM sync of account %s failed: %s", self.id, message)

    def _sync_notify_admin(self, message):
        """One to-do for the account's admin, not one per failed run."""
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        if self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type):
            return
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Reconnect %s", self.name),
            note=self.env._("The network refused the credentials: %s", message),
            user_id=(self.create_uid if self.create_uid._is_internal() else self.env.user).id,
        )

    @api.model
    def _cron_sync(self):
        """Sync every due account; one failing account never stops the others."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("state", "=", "connected"),
                "|",
                ("next_sync_at", "=", False),
                ("next_sync_at", "<=", now),
            ]
        )
        Queue = self.env["social.crm.queue"]
        for account in due:
            Queue._run_unit(account, "_sync", self.env._("Social CRM sync of %s", account.name))

    # -- buttons ----------------------------------------------------------------------

    def action_test_connection(self):
        self.ensure_one()
        self._check_network_ready()
        try:
            brand = self._get_connector().check()
        except NotSupported:
            brand = None
        except ConnectorError as error:
            raise UserError(
                self.env._(
                    "%(account)s: the connection failed: %(reason)s",
                    account=self.name,
                    reason=error,
                )
            ) from error
        self.write({"state": "connected", "last_error": False, "failure_count": 0})
        handle = brand.handle if brand else ""
        return self._notify(
            self.env._("Connected as %s.", handle) if handle else self.env._("Connected."),
        )

    def action_sync_now(self):
        self.ensure_one()
        self._check_network_ready()
        if not self._sync_lock():
            raise UserError(
                self.env._("%s is being synced right now; try again in a minute.", self.name)
            )
        pages, created = self._sync()
        if self.last_error and not pages:
            raise UserError(self.env._("The sync failed: %s", self.last_error))
        return self._notify(
            self.env._(
                "%(count)s new interaction(s) from %(pages)s page(s).", count=created, pages=pages
            )
        )

    def action_pause(self):
        self.ensure_one()
        self.state = "paused"
        return True

    def action_resume(self):
        self.ensure_one()
        self.write({"state": "connected", "next_sync_at": False, "failure_count": 0})
        return True

    def _notify(self, message, kind="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": kind,
                "message": message,
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
