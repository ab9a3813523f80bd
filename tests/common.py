"""The shared base of the Odoo suite: one place for the context the tests run in,
the records most tests start from and the seam to the network.

The engine's records come from the engine's own factories
(``social_crm_module/testing.py``: ``make_author``, ``make_interaction``), which
benchmarks and tools share too.
"""

from types import FunctionType
from unittest.mock import patch

from odoo.tests.common import TransactionCase

from ..social_crm_module.interaction import Page
from ..social_crm_module.testing import (
    NOW,
    confirmed_identity,
    coupon_program,
    identity_values,
    make_author,
    make_interaction,
)

__all__ = [
    "NOW",
    "SocialCrmCase",
    "confirmed_identity",
    "coupon_program",
    "identity_values",
    "make_author",
    "make_interaction",
    "make_page",
]


def make_page(items, **values):
    """A page of engine interactions (a list or any iterable)."""
    return Page(items=tuple(items), **values)


class SocialCrmCase(TransactionCase):
    """``tracking_disable``: no tracking messages in the way of the chatter the
    tests count; ``social_crm_inline``: the crons run their units now, even where
    queue_job is installed (test_workers covers the jobs). A class that needs
    another context says so in ``social_crm_context``."""

    social_crm_context = {"tracking_disable": True, "social_crm_inline": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **cls.social_crm_context))

    @classmethod
    def make_account(cls, name="Brand", network="mastodon", **values):
        """A brand account (Mastodon at https://m.example unless told otherwise)."""
        values.setdefault("base_url", "https://m.example")
        return cls.env["social.crm.account"].create({"name": name, "network": network, **values})

    @classmethod
    def make_identity(cls, partner, handle, network="mastodon", **values):
        """A confirmed identity of ``partner`` (see :func:`confirmed_identity`)."""
        return confirmed_identity(cls.env, partner, handle, network, **values)

    def seam(self, connector):
        """Replace the one seam to the network, ``_get_connector``: with what every
        account's ``_connector()`` yields, a dict of them by account, or a
        function of the account."""
        if isinstance(connector, FunctionType):
            get_connector = connector
        elif isinstance(connector, dict):

            def get_connector(account):
                return connector[account]

        else:

            def get_connector(account):
                return connector

        return patch.object(type(self.env["social.crm.account"]), "_get_connector", get_connector)
