"""What can go wrong when talking to a network, as one small tree.

Connectors never sleep and never retry: they raise one of these and let the
caller (the Odoo scheduler, the command line) decide when to come back.
Messages never carry secrets: no tokens, no Authorization headers, no URLs with
credentials in them.
"""

from __future__ import annotations

from datetime import datetime


class ConnectorError(Exception):
    """Base of every error a connector raises."""

    #: short machine-readable reason, stored on the account and shown to admins
    code = "error"


class AuthError(ConnectorError):
    """The credentials were refused (401/403, revoked or expired token)."""

    code = "auth"


class RateLimited(ConnectorError):
    """The network asked us to wait; ``retry_at`` is when, if it said (UTC)."""

    code = "rate_limited"

    def __init__(self, message: str = "rate limited", retry_at: datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


class TransientError(ConnectorError):
    """A timeout, a dropped connection or a 5xx: try again later."""

    code = "transient"


class PayloadError(ConnectorError):
    """The network answered something we cannot understand; the message says what."""

    code = "payload"


class NotFound(ConnectorError):
    """The post or account is gone (deleted, suspended, 404/410)."""

    code = "not_found"


class NotSupported(ConnectorError):
    """The network (or this connector) cannot do that: DMs on a feed, say."""

    code = "not_supported"
