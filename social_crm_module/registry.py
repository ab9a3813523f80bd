"""Networks are plug-ins: each connector class registers itself here.

A network is one module that defines a :class:`~.connectors.base.Connector`
subclass with a ``code``; defining the class registers it. Everything that needs
to know what a network *is* (its label, credentials, options, whether it needs a
base URL, what it can do, how it counts text, how it writes a handle, which
profile URLs are its own) asks this registry, never a hand-written list.

Where the connectors come from:

- every module in the engine's ``connectors`` package (``x``, ``mastodon``,
  ``bluesky``, ``feed``, ...), imported on the first question;
- every entry point of the group :data:`ENTRY_POINT_GROUP` of an installed
  distribution, so a third-party package adds a network without editing this
  repository::

      [project.entry-points."social_crm_module.networks"]
      threads = "my_package.threads:ThreadsConnector"

- any subclass defined later at run time (an Odoo add-on's own module, a test).

A module whose optional library is missing is left out and remembered in
:func:`unavailable`, so one broken network never hides the others.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import threading
from importlib import metadata
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .connectors.base import Connector

_logger = logging.getLogger(__name__)

#: the entry-point group third-party packages register their connectors under
ENTRY_POINT_GROUP = "social_crm_module.networks"
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")

_classes: dict[str, type[Connector]] = {}
_unavailable: dict[str, str] = {}
_loaded = False
_lock = threading.RLock()


def register(cls: type[Connector]) -> type[Connector]:
    """Register a connector class under its ``code``; returns it (usable as a
    decorator). A second class with the same code replaces the first only when it
    subclasses it (a plug-in that specialises a network); anything else is refused."""
    code = getattr(cls, "code", "")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValueError(f"a network code is 1-32 lowercase letters, digits or _: {code!r}")
    if not getattr(cls, "label", ""):
        raise ValueError(f"network {code!r} needs a label")
    with _lock:
        known = _classes.get(code)
        if known is not None and known is not cls and not issubclass(cls, known):
            raise ValueError(
                f"network {code!r} is already registered by {known.__module__}.{known.__name__}"
            )
        _classes[code] = cls
    return cls


def unregister(code: str) -> None:
    """Forget a network (tests that register a dummy one clean up with this)."""
    with _lock:
        _classes.pop(code, None)


def _load() -> None:
    global _loaded  # noqa: PLW0603 - a process-wide registry, loaded once
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        _loaded = True
        from . import connectors  # noqa: PLC0415 - connectors import this module

        for module in pkgutil.iter_modules(connectors.__path__):
            if module.name.startswith("_") or module.name == "base":
                continue
            try:
                importlib.import_module(f"{connectors.__name__}.{module.name}")
            except ImportError as error:
                _unavailable[module.name] = str(error)
                _logger.warning("network %s is unavailable: %s", module.name, error)
        for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                register(entry.load())
            except Exception as error:
                _unavailable[entry.name] = str(error)
                _logger.warning("network plug-in %s is unavailable: %s", entry.name, error)


def get(code: str) -> type[Connector]:
    """The connector class of ``code``; ``ValueError`` for a network nobody registered."""
    _load()
    try:
        return _classes[str(code)]
    except KeyError:
        raise ValueError(f"unknown network {code!r}") from None


def is_registered(code: str) -> bool:
    _load()
    return str(code) in _classes


def codes() -> tuple[str, ...]:
    """Every registered network code, in registration order."""
    _load()
    return tuple(_classes)


def connectors() -> tuple[type[Connector], ...]:
    _load()
    return tuple(_classes.values())


def selection() -> list[tuple[str, str]]:
    """``[(code, label), ...]``: what a form's network field offers."""
    return [(cls.code, cls.label) for cls in connectors()]


def unavailable() -> dict[str, str]:
    """Networks whose module could not be imported, with the reason."""
    _load()
    return dict(_unavailable)
