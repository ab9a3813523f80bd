"""The ingest: one engine Page into identities, interactions and the chatter.

Push and pull meet here: the scheduled sync, and any stream or webhook, hand their
pages to :meth:`SocialCrmIngest._ingest_page`. The unique key (account, external
id) makes the same post from two sources one interaction.

The pipeline, in this order, a fixed number of queries per page whatever its size:

1. dedupe against what the account already stored, and drop what erased people
   wrote (2 queries);
2. identities: found or created in the account's company, refreshed (3);
3. matching: unlinked identities linked on verifiable signals, or suggested (2);
4. interactions: classified (intent, sentiment) and inserted complete, each with
   its chatter note, oldest first so the chatter reads in order (2);
5. last-interaction dates of identities and contacts (2);
6. the cursor and the page's skipped items, in the same transaction (1);
7. routing (needs the classification), then the campaigns' always-on triggers.
"""

import re

from odoo import api, fields, models
from odoo.tools import SQL

from ..social_crm_module import matching
from .sql_array import array

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: a phone number as people type it: at least 7 digits, with spaces, dots, dashes
_PHONE = re.compile(r"\+?\d[\d .()/-]{5,}\d")


def _digits(text):
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 7 else ""


def _http(url):
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else False


class SocialCrmIngest(models.AbstractModel):
    _name = "social.crm.ingest"
    _description = "Social CRM ingest of a page of interactions"

    #: how many of a page's problems (skipped items and why) the account keeps
    _problems_kept = 20

    @api.model
    def _ingest_page(self, account, page, listening=None):
        """Store one page of engine interactions for ``account``; return the new
        interaction records.

        ``listening`` (streams) maps the external id of each listening item to the
        id of the query that heard it; the queries' hourly caps apply to the new
        ones.

        Idempotent: interactions already stored for this account (same external id)
        are skipped, so a page read twice, or a run killed and run again, stores
        nothing twice. The cursor is stored in the same transaction as the page.
        """
        account.ensure_one()
        interactions = self.env["social.crm.interaction"]
        # oldest first: the interactions' and the notes' ids follow the posting dates
        items = sorted(self._dedupe(account, page.items), key=lambda item: item.created_at)
        # nothing of a person who asked to be erased is stored again
        items = self.env["social.crm.erased"]._drop_erased(account.network, items)
        heard = {}
        if listening:
            items, heard = self.env["social.crm.listening.query"]._admit(items, listening)
        if items:
            # the classifier works beside the queries of the identities and the notes
            classified = self._classify_started(items)
            identities = self._identities(account, [item.author for item in items])
            untracked = {
                key
                for key, identity in identities.items()
                if identity.partner_id.social_do_not_track
            }
            items = [item for item in items if item.author.external_id not in untracked]
            interactions = self._create(account, items, identities, heard, classified)
            self._suggest_from_conversations(account, interactions)
        self._store_position(account, page)
        self.env["social.crm.routing.rule"]._route(interactions, flagged=True)
        self.env["social.crm.campaign"]._trigger(interactions)
        return interactions

    # -- 1. dedupe ------------------------------------------------------------------------

    @api.model
    def _stored(self, account, external_ids):
        """{external id: interaction id} of those already stored for ``account``.

        One lookup of (account, external id) in the UNIQUE index per id, whatever
        the planner's statistics say (with "external_id = ANY(...)", or a join, it
        read the whole account when its statistics were older than the account's
        last thousands of rows: 7.7 ms a page at 40k interactions against 0.6 ms,
        and growing with the table; a LATERAL with a LIMIT is not flattened)."""
        self.env["social.crm.interaction"].flush_model(["account_id", "external_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT page.external_id, i.id
                  FROM unnest(%s::varchar[]) AS page(external_id)
                 CROSS JOIN LATERAL (
                       SELECT id FROM social_crm_interaction
                        WHERE account_id = %s AND external_id = page.external_id
                        LIMIT 1) i
                """,
                external_ids,
                account.id,
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _dedupe(self, account, items):
        """Drop items already stored for this account, and repeats within the page."""
        seen = set(self._stored(account, list({item.external_id for item in items})))
        fresh = []
        for item in items:
            if item.external_id not in seen:
                seen.add(item.external_id)
                fresh.append(item)
        return fresh

    # -- 2. identities --------------------------------------------------------------------

    @api.model
    def _identities(self, account, authors):
        """Find or create one identity per author; refresh what the network says.
        Returns ``{author external id: identity}``."""
        Identity = self.env["social.crm.identity"].sudo()
        by_id = {author.external_id: author for author in authors}
        # an identity lives in its account's company: the same person seen by two
        # companies is two identities, and neither company sees the other's; one
        # added by hand without a company is shared, as its contact is
        existing = Identity.search(
            [
                ("network", "=", account.network),
                ("external_id", "in", list(by_id)),
                ("company_id", "in", [False, account.company_id.id]),
            ],
            order="company_id nulls first",
        )
        # the company's own identity wins over a shared one
        found = {identity.external_id: identity for identity in existing}
        missing = [author for key, author in by_id.items() if key not in found]
        created = Identity.create([self._identity_values(account, a) for a in missing])
        found.update({identity.external_id: identity for identity in created})
        self._refresh_identities(existing, by_id)
        self._match(account, found, by_id)
        return found

    @api.model
    def _identity_values(self, account, author):
        return {
            "network": account.network,
            "external_id": author.external_id,
            "handle": author.handle or author.external_id,
            "display_name_network": author.display_name,
            "profile_url": _http(author.profile_url),
            "followers_count": author.followers_count or 0,
            "avatar_url": _http(author.avatar_url),
            "website": _http(author.website),
            "company_id": account.company_id.id,
        }

    @api.model
    def _refresh_identities(self, identities, by_id):
        """One UPDATE for handles, names and followers that changed on the network."""
        if not identities:
            return
        ids, handles, names, followers = [], [], [], []
        for identity in identities:
            author = by_id[identity.external_id]
            ids.append(identity.id)
            # Odoo reads an empty char as False: send NULL, never a boolean
            handles.append(author.handle or identity.handle or None)
            names.append(author.display_name or identity.display_name_network or None)
            followers.append(author.followers_count)
        self.env["social.crm.identity"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE social_crm_identity i
                   SET handle = v.handle, display_name_network = v.name,
                       followers_count = COALESCE(v.followers, i.followers_count)
                  FROM unnest(%s, %s, %s, %s) AS v(id, handle, name, followers)
                 WHERE i.id = v.id
                   AND (i.handle, i.display_name_network, i.followers_count)
                       IS DISTINCT FROM
                       (v.handle, v.name, COALESCE(v.followers, i.followers_count))
                """,
                array(ids, "int4"),
                array(handles, "varchar"),
                array(names, "varchar"),
                array(followers, "int4"),
            )
        )
        identities.invalidate_recordset(["handle", "display_name_network", "followers_count"])

    # -- 3. matching ----------------------------------------------------------------------

    @api.model
    def _match(self, account, identities, by_id):
        """Link unlinked identities on verifiable signals; suggest same-name matches."""
        todo = [i for i in identities.values() if i.link_state == "unlinked" and not i.partner_id]
        if not todo:
            return
        authors = [by_id[identity.external_id] for identity in todo]
        index = matching.PartnerIndex(self._candidates(account, authors))
        links = []
        for identity, author in zip(todo, authors, strict=True):
            match = index.match(author)
            if not match or match.partner_id in identity.rejected_partner_ids.ids:
                continue
            state = "confirmed" if match.confirmed else "suggested"
            links.append((identity.id, match.partner_id, state, str(match.reason)))
        self._link(links)

    @api.model
    def _link(self, links):
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

    @api.model
    def _candidates(self, account, authors):
        """Contacts that could match these authors, read in one query: the account's
        company's and the shared ones (no company), never another company's."""
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
        self.env["res.partner"].flush_model(["name", "email", "website", "active", "company_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id, name, email, website FROM res_partner
                 WHERE active
                   AND (company_id IS NULL OR company_id = %s)
                   AND (lower(email) = ANY(%s)
                        OR lower(regexp_replace(website, '^https?://(www\\.)?|[/:].*$', '', 'g'))
                           = ANY(%s)
                        OR lower(name) = ANY(%s))
                """,
                account.company_id.id,
                list(emails),
                list(domains),
                list(names),
            )
        )
        return [
            matching.Candidate(pid, name or "", email or "", website or "")
            for pid, name, email, website in self.env.cr.fetchall()
        ]

    @api.model
    def _suggest_from_conversations(self, account, interactions):
        """A person who gives an email address or a phone number in a private
        conversation is *suggested* for the one contact of the company with that
        address: staff confirm it, nothing is linked on what someone typed."""
        todo = interactions.filtered(
            lambda i: (
                i.kind == "dm"
                and i.text
                and i.identity_id.link_state == "unlinked"
                and not i.identity_id.partner_id
            )
        )
        if not todo:
            return
        wanted = {}
        for interaction in todo:
            emails = {m.lower() for m in _EMAIL.findall(interaction.text)}
            phones = {_digits(m) for m in _PHONE.findall(interaction.text)} - {""}
            if emails or phones:
                wanted[interaction.identity_id] = (emails, phones)
        if not wanted:
            return
        all_emails = sorted(set().union(*(e for e, _p in wanted.values())))
        all_phones = sorted(set().union(*(p for _e, p in wanted.values())))
        self.env["res.partner"].flush_model(["email", "phone", "mobile", "company_id", "active"])
        self.env.cr.execute(
            SQL(
                """
                SELECT id, lower(email),
                       regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'),
                       regexp_replace(coalesce(mobile, ''), '[^0-9]', '', 'g')
                  FROM res_partner
                 WHERE active AND (company_id IS NULL OR company_id = %s)
                   AND (lower(email) = ANY(%s)
                        OR regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') = ANY(%s)
                        OR regexp_replace(coalesce(mobile, ''), '[^0-9]', '', 'g') = ANY(%s))
                """,
                account.company_id.id,
                all_emails,
                all_phones,
                all_phones,
            )
        )
        rows = self.env.cr.fetchall()
        links = []
        for identity, (emails, phones) in wanted.items():
            partners = {
                pid
                for pid, email, phone, mobile in rows
                if email in emails or phone in phones or mobile in phones
            }
            partners -= set(identity.rejected_partner_ids.ids)
            if len(partners) == 1:
                links.append((identity.id, partners.pop(), "suggested", "conversation"))
        self._link(links)

    # -- 4. interactions and their notes --------------------------------------------------

    @api.model
    def _create(self, account, items, identities, heard=None, classified=None):
        """Create the page's interactions in one INSERT, with everything known before
        it (the chatter note, the classification, precomputed partner and company):
        each UPDATE of a row in the transaction that inserted it re-checks every
        foreign key of the row, so none is left for later that can be done now.
        ``items`` are oldest first; ``classified`` is :meth:`_classify_started` of
        them (or of more: it was started before some were left out)."""
        Interaction = self.env["social.crm.interaction"]
        if classified is None:
            classified = self._classify_started(items)
        values = self._values(account, items, identities)
        for vals, new_id in zip(values, Interaction._reserve_ids(len(values)), strict=True):
            vals["id"] = new_id
            if heard and vals["external_id"] in heard:
                vals["listening_query_id"] = heard[vals["external_id"]]
        # (contact, handle) of each author linked for sure, read once an author
        confirmed = {
            key: (identity.partner_id.id, identity.handle)
            for key, identity in identities.items()
            if identity.link_state == "confirmed" and identity.partner_id
        }
        linked = [
            (vals, item, confirmed[item.author.external_id])
            for vals, item in zip(values, items, strict=True)
            if item.author.external_id in confirmed
        ]
        message_ids = self.env["res.partner"]._social_crm_log_notes(
            [
                (
                    partner_id,
                    Interaction._note_body(
                        str(item.kind),
                        account.network,
                        handle,
                        item.text,
                        item.url,
                        interaction_id=vals["id"],
                    ),
                )
                for vals, item, (partner_id, handle) in linked
            ],
            subtype_xmlid="social_crm_module.mt_social_interaction",
            dates=[vals["date"] for vals, _item, _partner in linked],
        )
        for (vals, _item, _partner), message_id in zip(linked, message_ids, strict=True):
            vals["message_id"] = message_id
        # the dates move forward before the interactions are stored (the same
        # transaction): one more statement while the classifier works
        self._touch_dates(
            (
                vals["identity_id"],
                confirmed.get(item.author.external_id, (None, None))[0],
                vals["date"],
            )
            for vals, item in zip(values, items, strict=True)
        )
        # now the classification is needed (routing decides on it)
        self._apply_classification(values, classified())
        self.env["social.crm.routing.rule"]._decide(account.company_id, values)
        return Interaction.sudo()._insert_synced(values)

    @api.model
    def _values(self, account, items, identities):
        """The create values of the page's interactions (classified later)."""
        parents = {item.parent_id for item in items if item.parent_id}
        parent_ids = {}
        if parents:
            parent_ids = self._stored(account, list(parents))
        values = [
            {
                "account_id": account.id,
                "network": account.network,
                "identity_id": identities[item.author.external_id].id,
                "kind": str(item.kind),
                "text": item.text,
                "url": _http(item.url),
                "date": item.created_at.replace(tzinfo=None),
                "external_id": item.external_id,
                "parent_external_id": item.parent_id or False,
                "root_external_id": item.root_id or False,
                "subject_external_id": item.subject_id or False,
                "reply_ref": item.reply_ref or False,
                "parent_id": parent_ids.get(item.parent_id, False),
            }
            for item in items
        ]
        return values

    @api.model
    def _classify_started(self, items):
        """Begin classifying the items' words; return the function that waits for
        ``{external id: classification}`` of the items that have words."""
        worded = [item for item in items if item.text]
        wait = self.env["social.crm.interaction"]._classify_texts_started(
            [item.text for item in worded]
        )
        return lambda: {
            item.external_id: result for item, result in zip(worded, wait(), strict=True)
        }

    @api.model
    def _apply_classification(self, values, classified):
        """Intent and sentiment in the create values, so the INSERT carries them."""
        for vals in values:
            result = classified.get(vals["external_id"]) if vals.get("text") else None
            if result is None:
                continue
            vals.update(
                intent=result.intent,
                polarity=result.polarity,
                sentiment=result.label,
                model_intent=result.intent,
                model_sentiment=result.label,
                confidence=result.confidence,
            )

    @api.model
    def _log_chatter(self, interactions):
        """A note on its contact's chatter for each stored interaction that has none
        (an identity confirmed after its history arrived), in one INSERT."""
        linked = interactions.filtered(
            lambda i: i.partner_id and i.identity_id.link_state == "confirmed"
        ).sorted(lambda i: (i.date, i.id))
        if not linked:
            return
        ids = self.env["res.partner"]._social_crm_log_notes(
            [(row.partner_id.id, row._note_body_of_record()) for row in linked],
            subtype_xmlid="social_crm_module.mt_social_interaction",
            dates=linked.mapped("date"),
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
        linked._link_private_notes()

    # -- 5. dates, 6. position ------------------------------------------------------------

    @api.model
    def _touch_dates(self, rows):
        """Move identities' and contacts' last-interaction dates forward, in one
        statement, from the page's rows ``(identity id, contact id or None, date)``:
        the interactions table is not read again."""
        latest = ({}, {})  # identity -> date, contact -> date
        for identity_id, partner_id, date in rows:
            for dates, record_id in zip(latest, (identity_id, partner_id), strict=True):
                if record_id and (record_id not in dates or dates[record_id] < date):
                    dates[record_id] = date
        identities, partners = latest
        if not identities:
            return
        self.env["social.crm.identity"].flush_model(["last_interaction_at"])
        self.env["res.partner"].flush_model(["social_last_interaction_at"])
        self.env.cr.execute(
            SQL(
                """
                WITH identity AS (
                    UPDATE social_crm_identity t SET last_interaction_at = v.last
                      FROM unnest(%(identity_ids)s, %(identity_dates)s) AS v(id, last)
                     WHERE t.id = v.id
                       AND (t.last_interaction_at IS NULL OR t.last_interaction_at < v.last)
                ), partner AS (
                    UPDATE res_partner t SET social_last_interaction_at = v.last
                      FROM unnest(%(partner_ids)s, %(partner_dates)s) AS v(id, last)
                     WHERE t.id = v.id
                       AND (t.social_last_interaction_at IS NULL
                            OR t.social_last_interaction_at < v.last)
                )
                SELECT 1
                """,
                identity_ids=array(identities, "int4"),
                identity_dates=array(identities.values(), "timestamp"),
                partner_ids=array(partners, "int4"),
                partner_dates=array(partners.values(), "timestamp"),
            )
        )
        self.env["social.crm.identity"].browse(identities).invalidate_recordset(
            ["last_interaction_at"]
        )
        self.env["res.partner"].browse(partners).invalidate_recordset(
            ["social_last_interaction_at"]
        )

    @api.model
    def _store_position(self, account, page):
        """The cursor, and what the page left out and why, with the page's records."""
        values = {"cursor": page.cursor or account.cursor, "last_sync_at": fields.Datetime.now()}
        if page.skipped:
            values["skipped_count"] = account.skipped_count + page.skipped
            problems = [str(p)[:300] for p in page.problems[: self._problems_kept]]
            more = page.skipped - len(problems)
            if more > 0:
                problems.append(self.env._("... and %s more", more))
            values["last_problems"] = "\n".join(problems) or False
        account.write(values)
