"""Connectors: one module per network, one interface (:class:`.base.Connector`).

Modules are imported lazily, so a missing optional library (tweepy for X) only
affects the network that needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..interaction import Network
from .base import Connector

_CLASSES = {
    Network.X: ("x", "XConnector"),
    Network.MASTODON: ("mastodon", "MastodonConnector"),
    Network.BLUESKY: ("bluesky", "BlueskyConnector"),
    Network.FEED: ("feed", "FeedConnector"),
}


def connector_class(network: Network | str) -> type[Connector]:
    module_name, class_name = _CLASSES[Network(network)]
    module = importlib.import_module(f".{module_name}", __name__)
    return getattr(module, class_name)


def make_connector(network: Network | str, **kwargs: Any) -> Connector:
    """Build the connector for ``network`` with injected base URL, credentials, etc."""
    return connector_class(network)(**kwargs)


__all__ = ["Connector", "connector_class", "make_connector"]
