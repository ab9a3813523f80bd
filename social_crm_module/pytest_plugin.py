"""Pytest plugin for the engine tests (loaded with ``-p`` from pyproject.toml).

The repository root is an Odoo add-on: its ``__init__.py`` imports the Odoo
models, which only Odoo's loader may import. Pytest would otherwise collect the
root and the engine folder as packages and import their ``__init__.py`` (to look
for ``setup_module``), under a name Odoo refuses. Collect both as plain folders;
the tests import the engine as ``social_crm_module`` through ``pythonpath``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent
ADDON = ENGINE.parent


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Dir | None:
    if path.resolve() in (ADDON, ENGINE):
        return pytest.Dir.from_parent(parent, path=path)
    return None
