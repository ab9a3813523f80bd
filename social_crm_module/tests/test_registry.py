"""Networks are plug-ins: a connector defined anywhere registers itself, and the
rest of the engine (matching, the CLI's choices, capabilities) learns of it."""

from __future__ import annotations

import pytest

from social_crm_module import matching, registry
from social_crm_module.connectors import connector_class
from social_crm_module.connectors.base import Connector
from social_crm_module.interaction import Network
from social_crm_module.testing import make_author


@pytest.fixture
def dummy():
    class DummyConnector(Connector):
        code = "dummy"
        label = "Dummy network"
        default_base_url = "https://dummy.example"
        credential_keys = ("token",)
        profile_hosts = frozenset({"dummy.example"})
        handle_is_verified_domain = False

        @classmethod
        def normalize_handle(cls, text, *, instance=""):
            name = text.removeprefix("~").lower()
            if not name.isalnum():
                raise ValueError(f"invalid dummy handle {text!r}")
            return name

        @classmethod
        def handle_from_profile_url(cls, host, segments):
            if host not in cls.profile_hosts:
                return None
            if not segments or not segments[0].startswith("~"):
                raise ValueError("not a dummy profile")
            return cls.normalize_handle(segments[0])

        def reply(self, to, text):
            raise NotImplementedError

    yield DummyConnector
    registry.unregister("dummy")


def test_the_four_networks_register_themselves():
    assert {"x", "mastodon", "bluesky", "feed"} <= set(registry.codes())
    assert registry.unavailable() == {}
    assert dict(registry.selection())["feed"] == "RSS / Atom feed"


def test_a_network_defined_elsewhere_is_known_everywhere(dummy):
    assert connector_class("dummy") is dummy
    assert Network.DUMMY == "dummy" and Network("dummy") is Network.DUMMY
    assert "dummy" in [str(n) for n in Network]
    assert matching.normalize_handle("dummy", " ~Alice ") == "alice"
    assert matching.parse_profile_url("https://dummy.example/~Bob") == (Network.DUMMY, "bob")
    assert dummy.capabilities() == {"reply"}
    assert not dummy.needs_base_url()


def test_unregistered_networks_are_refused(dummy):
    registry.unregister("dummy")
    with pytest.raises(ValueError, match="unknown network"):
        Network("dummy")
    with pytest.raises(ValueError, match="unknown network"):
        matching.normalize_handle("dummy", "alice")
    with pytest.raises(AttributeError):
        Network.DUMMY  # noqa: B018


def test_a_code_is_registered_once():
    class Impostor(Connector):
        label = "Not X"

    Impostor.code = "x"
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Impostor)
    with pytest.raises(ValueError, match="lowercase"):

        class Bad(Connector):
            code = "Bad Code"
            label = "Bad"


@pytest.mark.parametrize(
    ("code", "needs_base_url", "capabilities"),
    [
        ("x", False, {"check", "profiles", "reply", "dm", "like", "repost"}),
        ("mastodon", True, {"check", "profiles", "reply", "dm", "like", "repost"}),
        ("bluesky", False, {"check", "profiles", "reply", "like", "repost"}),
        ("feed", True, {"check"}),
    ],
)
def test_what_each_network_declares(code, needs_base_url, capabilities):
    cls = registry.get(code)
    assert cls.needs_base_url() is needs_base_url
    assert cls.capabilities() == capabilities


def test_a_feed_author_is_only_ever_a_suggestion():
    index = matching.PartnerIndex([matching.Candidate(7, "Ann Lee", "ann@shop.example")])
    author = make_author(
        "Ann Lee", "feed", external_id="feed:ann", display_name="Ann Lee", email="ann@shop.example"
    )
    assert index.match(author) == matching.Match(7, matching.REASON_SAME_NAME, False)
