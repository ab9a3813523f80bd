"""One URL cleaner for every connector (issue 11, finding 16: https-only avatars)."""

import pytest

from social_crm_module.connectors import bluesky, feed, mastodon, x
from social_crm_module.interaction import MAX_NAME, MAX_TEXT
from social_crm_module.matching import parse_profile_url
from social_crm_module.testing import make_author, make_interaction
from social_crm_module.urls import clean_url

DID = "did:plc:abcdefghijklmnopqrstuvwx"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
        ("  http://example.com/  ", "http://example.com/"),
        ("HTTPS://Example.com/x", "HTTPS://Example.com/x"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("javascript:alert(1)", ""),
        ("data:image/png;base64,AAAA", ""),
        ("ftp://example.com/a", ""),
        ("//example.com/a", ""),
        ("/relative/path", ""),
        ("https://", ""),
        ("https:///path", ""),
        ("https://exa mple.com/", ""),
        ("https://example.com/a\nb", ""),
        ("https://example.com/\x00", ""),
        ("https://user:pw@example.com/", ""),
        ("https://bank.example@evil.example/", ""),
        ("https://example.com:99999/", ""),
        ("https://[::1/", ""),
        ("https://example.com/" + "a" * 3000, ""),
        ("", ""),
        (None, ""),
        (42, ""),
        (["https://example.com/"], ""),
    ],
)
def test_clean_url(value, expected):
    assert clean_url(value) == expected


def test_clean_url_https_only():
    assert clean_url("https://cdn.example/a.png", https_only=True) == "https://cdn.example/a.png"
    assert clean_url("http://cdn.example/a.png", https_only=True) == ""
    assert clean_url("HTTP://cdn.example/a.png", https_only=True) == ""


def test_clean_url_resolves_against_a_base():
    base = "https://blog.example/feed/atom.xml"
    assert clean_url("/post/1", base=base) == "https://blog.example/post/1"
    assert clean_url("post/2", base=base) == "https://blog.example/feed/post/2"
    assert clean_url("https://other.example/x", base=base) == "https://other.example/x"
    assert clean_url("javascript:alert(1)", base=base) == ""
    assert clean_url("/a", base="http://blog.example/", https_only=True) == ""
    assert clean_url("/a", base="not a url") == ""


def test_author_avatar_and_profile_urls_are_https_only():
    # the record itself refuses what a connector forgot to clean
    who = make_author(
        "a@m.example",
        profile_url="http://m.example/@a",
        avatar_url="http://m.example/a.png",
        website="http://a.example/",
    )
    assert (who.profile_url, who.avatar_url) == ("", "")
    assert who.website == "http://a.example/"  # a link people click, not loaded by us
    who = make_author(
        "a",
        "x",
        external_id="1",
        profile_url="https://x.com/a",
        avatar_url="javascript:alert(1)",
    )
    assert (who.profile_url, who.avatar_url) == ("https://x.com/a", "")


def test_x_avatar_over_http_is_dropped():
    raw = {
        "id": "42",
        "username": "alice",
        "profile_image_url": "http://pbs.twimg.com/profile_images/1/a.jpg",
    }
    assert x._author(raw).avatar_url == ""
    raw["profile_image_url"] = "https://pbs.twimg.com/profile_images/1/a.jpg"
    assert x._author(raw).avatar_url == raw["profile_image_url"]


def test_mastodon_avatar_and_profile_over_http_are_dropped():
    connector = mastodon.MastodonConnector(
        base_url="https://m.example", credentials={"access_token": "t"}
    )
    raw = {
        "acct": "alice",
        "url": "http://m.example/@alice",
        "avatar": "http://m.example/avatars/alice.png",
    }
    author = connector._author(raw)
    assert (author.profile_url, author.avatar_url) == ("", "")
    raw.update(url="https://m.example/@alice", avatar="https://m.example/avatars/alice.png")
    author = connector._author(raw)
    assert author.profile_url == "https://m.example/@alice"
    assert author.avatar_url == "https://m.example/avatars/alice.png"


def test_bluesky_avatar_over_http_is_dropped():
    raw = {"did": DID, "handle": "alice.bsky.social", "avatar": "http://cdn.example/a.jpg"}
    assert bluesky._author(raw).avatar_url == ""
    raw["avatar"] = "https://cdn.example/a.jpg"
    assert bluesky._author(raw).avatar_url == "https://cdn.example/a.jpg"


def test_connectors_share_one_url_cleaner():
    # no private copies left behind
    for module in (x, mastodon, bluesky, feed):
        assert not hasattr(module, "_http_url"), module.__name__
        assert not hasattr(module, "http_url"), module.__name__


@pytest.mark.parametrize(
    "connector_class", [x.XConnector, mastodon.MastodonConnector, bluesky.BlueskyConnector]
)
@pytest.mark.parametrize(
    "base_url",
    [
        "https://user:secret@api.example",
        "https://api.example@evil.example",
        "HTTPS://",
        "javascript:alert(1)//api.example",
        "https://api example",
    ],
)
def test_base_url_goes_through_the_same_cleaner(connector_class, base_url):
    with pytest.raises(ValueError, match="http"):
        connector_class(base_url=base_url, options={"user_id": "1"})


# -- siblings: what a network sends is bounded in the records; URLs never echo secrets --


def test_records_bound_what_a_network_sends():
    who = make_author("a@m.example", display_name="N" * 100_000)
    item = make_interaction("1", who, text="t" * 5_000_000)
    assert len(item.author.display_name) == MAX_NAME <= 500
    assert len(item.text) == MAX_TEXT <= 50_000


@pytest.mark.parametrize(
    "url",
    ["https://alice:s3cr3t-pw@[::1/@alice", "https://alice:s3cr3t-pw@/@alice"],
)
def test_profile_url_errors_never_echo_credentials(url):
    with pytest.raises(ValueError) as info:
        parse_profile_url(url)
    assert "s3cr3t" not in str(info.value)
