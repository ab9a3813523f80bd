import hashlib
import secrets

from odoo import api, fields, models
from odoo.tools import SQL

SALT_KEY = "social_crm_module.erase_salt"


class SocialCrmErased(models.Model):
    """The authors erased on request, as salted hashes of (network, external id):
    the ingest stores nothing more of them, and nobody can read back who they were.

    The salt is per database (``ir.config_parameter``); deleting a row lets that
    author's future posts in again (the person asked to be back)."""

    _name = "social.crm.erased"
    _description = "Erased social author"
    _log_access = False

    key = fields.Char(required=True, readonly=True, index=True)
    erased_on = fields.Date(readonly=True, default=fields.Date.context_today)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "This author is already erased.")]

    @api.model
    def _salt(self, create=False):
        params = self.env["ir.config_parameter"].sudo()
        salt = params.get_param(SALT_KEY)
        if not salt and create:
            salt = secrets.token_hex(32)
            params.set_param(SALT_KEY, salt)
        return salt

    @api.model
    def _key(self, salt, network, external_id):
        return hashlib.sha256(f"{salt}|{network}|{external_id}".encode()).hexdigest()

    @api.model
    def _remember(self, pairs):
        """Remember erased (network, external id) pairs, in one INSERT."""
        pairs = {(network, external_id) for network, external_id in pairs if external_id}
        if not pairs:
            return
        salt = self._salt(create=True)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO social_crm_erased (key, erased_on)
                SELECT unnest(%s::varchar[]), %s
                    ON CONFLICT (key) DO NOTHING
                """,
                [self._key(salt, network, external_id) for network, external_id in pairs],
                fields.Date.context_today(self),
            )
        )

    @api.model
    def _erased_keys(self, pairs):
        """The (network, external id) pairs of ``pairs`` that were erased: one query."""
        salt = self._salt()
        pairs = set(pairs)
        if not salt or not pairs:
            return set()
        by_key = {
            self._key(salt, network, external_id): (network, external_id)
            for network, external_id in pairs
        }
        self.flush_model()
        self.env.cr.execute(
            SQL("SELECT key FROM social_crm_erased WHERE key = ANY(%s)", list(by_key))
        )
        return {by_key[key] for (key,) in self.env.cr.fetchall()}

    @api.model
    def _drop_erased(self, network, items):
        """``items`` (engine interactions) without those written by erased authors."""
        if not items:
            return items
        erased = self._erased_keys({(network, item.author.external_id) for item in items})
        if not erased:
            return items
        return [item for item in items if (network, item.author.external_id) not in erased]
