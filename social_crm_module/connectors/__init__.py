"""Connectors: one module per network, one interface (:class:`.base.Connector`).

Each module here defines its connector class with a ``code``, which registers it
(see :mod:`..registry`); nothing in this package lists the networks. Modules are
imported on the registry's first question, and one whose optional library is
missing (tweepy for X) only takes that network away.
"""

from __future__ import annotations

from typing import Any

from .. import registry
from .base import Connector


def connector_class(network: str) -> type[Connector]:
    """The connector class registered for ``network``; ``ValueError`` if none is."""
    return registry.get(network)


def make_connector(network: str, **kwargs: Any) -> Connector:
    """Build the connector for ``network`` with injected base URL, credentials, etc."""
    return connector_class(network)(**kwargs)


__all__ = ["Connector", "connector_class", "make_connector"]
