"""Odoo-free engine of the social_crm_module add-on.

Everything that talks to a network or computes something lives here and never
imports odoo. Imports inside the package are relative, so it works both as
``social_crm_module`` (pytest, command line) and as
``odoo.addons.social_crm_module.social_crm_module`` (inside Odoo).
"""

from .errors import (
    AuthError,
    ConnectorError,
    NotFound,
    NotSupported,
    PayloadError,
    RateLimited,
    TransientError,
)
from .interaction import Author, Interaction, Kind, Network, Page

__all__ = [
    "AuthError",
    "Author",
    "ConnectorError",
    "Interaction",
    "Kind",
    "Network",
    "NotFound",
    "NotSupported",
    "Page",
    "PayloadError",
    "RateLimited",
    "TransientError",
]
