"""Handle normalisation, profile URLs and author -> partner matching."""

import socket

import pytest
from publicsuffixlist import PublicSuffixList

from social_crm_module.interaction import Network
from social_crm_module.matching import (
    Candidate,
    Match,
    PartnerIndex,
    domain_of,
    name_key,
    normalize_handle,
    parse_profile_url,
    site_of,
)
from social_crm_module.testing import make_author

DID = "did:plc:abcdefghijklmnopqrstuvwx"


# -- normalize_handle -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "handle", "expected"),
    [
        (Network.X, "@Acme_Co", "acme_co"),
        (Network.X, "acme", "acme"),
        ("x", "  @JACK ", "jack"),
        (Network.MASTODON, "@Alice@Mastodon.Social", "alice@mastodon.social"),
        (Network.MASTODON, "alice@mastodon.social", "alice@mastodon.social"),
        (Network.MASTODON, "bob", "bob"),
        (Network.MASTODON, "first.last@social.example.org", "first.last@social.example.org"),
        (Network.BLUESKY, "@Alice.BSKY.social", "alice.bsky.social"),
        (Network.BLUESKY, "acme.com", "acme.com"),
        (Network.BLUESKY, DID, DID),
        (Network.BLUESKY, "did:web:Example.com", "did:web:Example.com"),
        (Network.FEED, "  https://example.com/author/1 ", "https://example.com/author/1"),
        (Network.FEED, " Jane Doe ", "Jane Doe"),
    ],
)
def test_normalize_handle(network, handle, expected):
    assert normalize_handle(network, handle) == expected


def test_mastodon_bare_user_is_completed_with_instance():
    assert normalize_handle(Network.MASTODON, "@Bob", instance="Social.Example") == (
        "bob@social.example"
    )
    assert normalize_handle(Network.MASTODON, "bob", instance="https://social.example/") == (
        "bob@social.example"
    )
    # an explicit instance in the handle wins over the default one
    assert normalize_handle(Network.MASTODON, "bob@other.example", instance="a.example") == (
        "bob@other.example"
    )


@pytest.mark.parametrize(
    ("network", "handle", "message"),
    [
        (Network.X, "", "empty"),
        (Network.X, "   ", "empty"),
        (Network.X, "@", "invalid X handle"),
        (Network.X, "john doe", "spaces"),
        (Network.X, "john-doe", "invalid X handle"),
        (Network.X, "a" * 16, "invalid X handle"),
        (Network.X, "<script>", "invalid X handle"),
        (Network.X, "jöhn", "invalid X handle"),
        (Network.X, "\uff21\uff23\uff2d\uff25", "invalid X handle"),  # fullwidth ACME
        (Network.X, "acme\u200b", "invalid X handle"),
        (Network.X, "@@acme", "invalid X handle"),
        (Network.X, "acme.co", "invalid X handle"),
        (Network.X, "https://x.com/acme", "invalid X handle"),
        (Network.MASTODON, "alice@", "invalid Mastodon instance"),
        (Network.MASTODON, "alice@localhost", "invalid Mastodon instance"),
        (Network.MASTODON, "al!ce@mastodon.social", "invalid Mastodon username"),
        (Network.MASTODON, "@@mastodon.social", "invalid Mastodon username"),
        (Network.MASTODON, "alice@mastodon.social/x", "invalid Mastodon instance"),
        (Network.BLUESKY, "alice", "invalid Bluesky handle"),
        (Network.BLUESKY, "ali ce.bsky.social", "spaces"),
        (Network.BLUESKY, "did:plc:short", "invalid Bluesky DID"),
        (Network.BLUESKY, "alice_.bsky.social", "invalid Bluesky handle"),
        (Network.FEED, "  ", "empty"),
    ],
)
def test_normalize_handle_rejects(network, handle, message):
    with pytest.raises(ValueError, match=message):
        normalize_handle(network, handle)


def test_normalize_handle_unknown_network():
    with pytest.raises(ValueError, match="unknown network"):
        normalize_handle("myspace", "tom")


def test_normalize_handle_bad_instance():
    with pytest.raises(ValueError, match="invalid Mastodon instance"):
        normalize_handle(Network.MASTODON, "bob", instance="not a host")


# -- parse_profile_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/Acme", (Network.X, "acme")),
        ("https://x.com/@Acme?s=20&t=abc", (Network.X, "acme")),
        ("http://twitter.com/acme/", (Network.X, "acme")),
        ("https://www.twitter.com/acme/status/123", (Network.X, "acme")),
        ("https://mobile.twitter.com/Acme_Co", (Network.X, "acme_co")),
        ("https://mastodon.social/@Alice", (Network.MASTODON, "alice@mastodon.social")),
        ("https://Mastodon.Social/@alice/", (Network.MASTODON, "alice@mastodon.social")),
        ("https://mastodon.social/@bob@fosstodon.org", (Network.MASTODON, "bob@fosstodon.org")),
        ("https://social.example:8443/users/Carol", (Network.MASTODON, "carol@social.example")),
        ("https://bsky.app/profile/Alice.bsky.social", (Network.BLUESKY, "alice.bsky.social")),
        (f"https://bsky.app/profile/{DID}/post/3k", (Network.BLUESKY, DID)),
        ("  https://bsky.app/profile/acme.com?ref=x  ", (Network.BLUESKY, "acme.com")),
    ],
)
def test_parse_profile_url(url, expected):
    assert parse_profile_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("https://x.com/home", "not a profile page"),
        ("https://x.com/i/flow/login", "not a profile page"),
        ("https://twitter.com/search?q=acme", "not a profile page"),
        ("https://x.com/", "no user name"),
        ("javascript:alert(1)//x.com/acme", "only http"),
        ("ftp://mastodon.social/@alice", "only http"),
        ("x.com/acme", "only http"),
        ("https:///@alice", "no host"),
        ("https://bsky.app/search?q=acme", "not a profile"),
        ("https://bsky.app/profile/", "not a profile"),
        ("https://example.com/about", "not a recognised profile URL"),
        ("https://example.com/@", "not a recognised profile URL"),
        ("https://user:pw@mastodon.social/@alice", "user name or password"),
        ("https://x.com/john%20doe", "spaces or control characters"),
        ("https://localhost/@alice", "invalid host"),
        ("https://www.youtube.com/@acme", "not a recognised profile URL"),
        ("https://medium.com/@acme", "not a recognised profile URL"),
        ("https://www.threads.net/@acme", "not a recognised profile URL"),
        # X pages that are not people, and names X would never give anyone
        ("https://twitter.com/intent/tweet?text=hi", "not a profile page"),
        ("https://twitter.com/intent/user?screen_name=acme", "not a profile page"),
        ("https://x.com/i/web/status/123", "not a profile page"),
        ("https://x.com/I/flow/login", "not a profile page"),
        ("https://x.com/settings/profile", "not a profile page"),
        ("https://x.com/hashtag/acme", "not a profile page"),
        ("https://x.com/bookmarks", "not a profile page"),
        ("https://x.com/compose/post", "not a profile page"),
        ("https://x.com/communities/123", "not a profile page"),
        ("https://x.com/jobs", "not a profile page"),
        ("https://x.com/premium", "not a profile page"),
        ("https://x.com/verified-choose", "invalid X handle"),
        ("https://x.com/" + "a" * 16, "invalid X handle"),
        ("https://x.com/@@acme", "invalid X handle"),
        ("https://x.com/acme%0A", "spaces or control characters"),
        ("https://mastodon.social/@alice%09", "spaces or control characters"),
    ],
)
def test_parse_profile_url_rejects(url, message):
    with pytest.raises(ValueError, match=message):
        parse_profile_url(url)


# -- domain_of / name_key ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Example.com/x", "example.com"),
        ("http://shop.example.co.uk:8080/a?b=c#d", "shop.example.co.uk"),
        ("Example.com", "example.com"),
        ("www.example.com/path", "example.com"),
        ("example.com:8080", "example.com"),
        ("https://user:pw@example.com/", "example.com"),
        ("example.com.", "example.com"),
        ("", ""),
        ("   ", ""),
        ("not a domain", ""),
        ("localhost", ""),
        ("javascript:alert(1)", ""),
        ("mailto:a@example.com", ""),
        ("ftp://example.com", ""),
        ("https://", ""),
        ("http://[::1", ""),
        (None, ""),
    ],
)
def test_domain_of(value, expected):
    assert domain_of(value) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("  José   Müller ", "jose muller"),
        ("JEAN-LUC Picard", "jean luc picard"),
        ("Straße, Anna.", "strasse anna"),
        ("O'Brien\tMiles", "o brien miles"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_name_key(name, expected):
    assert name_key(name) == expected


def test_name_key_equates_spellings():
    assert name_key("Zoë Ünal") == name_key("zoe  UNAL")


# -- site_of: what a website can prove (issue 11, finding 6) ----------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.acme.com/", "acme.com"),
        ("https://acme.com/about", "acme.com"),
        ("http://annasmith.example/blog", "annasmith.example"),
        ("https://shop.example.co.uk/a", "shop.example.co.uk"),
        ("acme.com", "acme.com"),
        # the PSL's private section: the label under a hosting suffix is the site
        ("https://alice.github.io/", "alice.github.io"),
        ("https://www.alice.github.io/x", "alice.github.io"),
        ("https://shop.netlify.app", "shop.netlify.app"),
        ("https://my-app.vercel.app/about", "my-app.vercel.app"),
        ("https://someone.blogspot.com/2024/01/post.html", "someone.blogspot.com"),
        # a public suffix, ICANN or private, is nobody's site
        ("https://github.io/", ""),
        ("https://blogspot.com", ""),
        ("https://netlify.app/", ""),
        ("https://vercel.app", ""),
        ("https://co.uk/", ""),
        # people's pages on a shared host prove nothing about the host
        ("https://github.com/gitperson", ""),
        ("https://linktr.ee/name", ""),
        ("https://sites.google.com/view/x", ""),
        ("https://about.me/x", ""),
        ("https://mastodon.social/@alice", ""),
        ("https://social.example/users/alice", ""),
        ("https://example.com/~alice/", ""),
        ("https://www.instagram.com/someone/", ""),
        # and the rest
        ("https://127.0.0.1/", ""),
        ("https://localhost/", ""),
        ("javascript:alert(1)//acme.com", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_site_of(value, expected):
    assert site_of(value) == expected


def test_no_runtime_fetch_of_the_public_suffix_list(monkeypatch):
    # the list ships with the library: loading it, as matching does, opens no socket
    def refuse(*args, **kwargs):
        raise AssertionError("the Public Suffix List must not be fetched at run time")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert PublicSuffixList().privatesuffix("alice.pages.dev") == "alice.pages.dev"
    assert site_of("https://alice.pages.dev/") == "alice.pages.dev"


SHARED = [
    Candidate(21, "Google Site Alice", "", "https://sites.google.com/view/alice"),
    Candidate(22, "Linktree Bob", "", "https://linktr.ee/bob"),
    Candidate(23, "Pages Carol", "", "https://carol.github.io/"),
    Candidate(24, "Netlify Root", "", "https://netlify.app/"),
    Candidate(25, "Fedi Dora", "", "https://social.example/@dora"),
]


@pytest.mark.parametrize(
    "link",
    [
        "https://sites.google.com/view/mallory",
        "https://sites.google.com/view/alice",
        "https://linktr.ee/mallory",
        "https://mallory.github.io/",
        "https://github.io/",
        "https://mallory.netlify.app/",
        "https://social.example/@mallory",
    ],
)
def test_shared_host_websites_prove_nothing(link):
    index = PartnerIndex(SHARED)
    assert index.match(author(verified_links=(link,))) is None


def test_own_site_on_a_private_suffix_still_proves():
    index = PartnerIndex(SHARED)
    found = index.match(author(verified_links=("https://carol.github.io/about",)))
    assert found == Match(23, "verified_link", True)
    found = index.match(author(Network.BLUESKY, "carol.github.io", external_id=DID))
    assert found == Match(23, "handle_domain", True)


def test_bluesky_handle_on_a_hosting_suffix_proves_nothing():
    index = PartnerIndex(SHARED)
    assert index.match(author(Network.BLUESKY, "netlify.app", external_id=DID)) is None
    assert index.match(author(Network.BLUESKY, "linktr.ee", external_id=DID)) is None


# -- PartnerIndex -----------------------------------------------------------------------


def author(network=Network.MASTODON, handle="someone@social.example", **kw):
    return make_author(handle, network, **kw)


CANDIDATES = [
    Candidate(1, "Acme Corp", "info@acme.com", "https://www.acme.com/"),
    Candidate(2, "José Müller", "Jose Muller <Jose@Example.org>", ""),
    Candidate(3, "Shared One", "team@shared.example", "https://twins.example"),
    Candidate(4, "Shared Two", "TEAM@shared.example", "twins.example"),
    Candidate(5, "Mononym", "", ""),
    Candidate(6, "Anna Smith", "", "http://annasmith.example/blog"),
    Candidate(7, "Anna Smith", "", ""),
    Candidate(8, "Git Person", "", "https://github.com/gitperson"),
    Candidate(9, "Bob Builder", "bob@build.example, robert@build.example", ""),
]


@pytest.fixture(scope="module")
def index():
    return PartnerIndex(CANDIDATES)


def test_email_exposed_by_network_confirms(index):
    found = index.match(author(email=" JOSE@example.org "))
    assert found == Match(2, "email", True)


def test_second_email_of_a_partner_matches(index):
    assert index.match(author(email="robert@build.example")) == Match(9, "email", True)


def test_ambiguous_email_links_nobody(index):
    assert index.match(author(email="team@shared.example")) is None


def test_bluesky_handle_equal_to_website_domain_confirms(index):
    found = index.match(author(Network.BLUESKY, "acme.com", external_id=DID))
    assert found == Match(1, "handle_domain", True)
    # case and @ do not matter
    assert index.match(author(Network.BLUESKY, "@ACME.com")) == Match(1, "handle_domain", True)


def test_bluesky_subdomain_is_not_the_domain(index):
    assert index.match(author(Network.BLUESKY, "shop.acme.com")) is None
    assert index.match(author(Network.BLUESKY, "acme.com.evil.example")) is None


def test_bluesky_ambiguous_domain_links_nobody(index):
    assert index.match(author(Network.BLUESKY, "twins.example")) is None


def test_bluesky_did_or_bad_handle_never_matches(index):
    assert index.match(author(Network.BLUESKY, DID)) is None
    assert index.match(author(Network.BLUESKY, "not a handle")) is None


def test_domain_signal_is_network_specific(index):
    # an X handle or a Mastodon handle that looks like a domain proves nothing
    assert index.match(author(Network.X, "acme.com")) is None
    assert index.match(author(Network.MASTODON, "acme.com")) is None


def test_mastodon_verified_link_confirms(index):
    found = index.match(author(verified_links=("https://acme.com/about",)))
    assert found == Match(1, "verified_link", True)
    found = index.match(author(verified_links=("https://annasmith.example",)))
    assert found == Match(6, "verified_link", True)


def test_mastodon_unverified_website_is_not_enough(index):
    assert index.match(author(website="https://acme.com")) is None


def test_mastodon_verified_link_on_shared_host_proves_nothing(index):
    assert index.match(author(verified_links=("https://github.com/gitperson",))) is None


def test_mastodon_verified_links_pointing_at_two_partners_link_nobody(index):
    links = ("https://acme.com", "https://annasmith.example")
    assert index.match(author(verified_links=links)) is None


def test_mastodon_verified_link_must_be_http(index):
    assert index.match(author(verified_links=("javascript://acme.com",))) is None
    assert index.match(author(verified_links=("acme.com",))) is None


def test_verified_links_only_count_on_mastodon(index):
    assert index.match(author(Network.X, "acme", verified_links=("https://acme.com",))) is None


def test_same_name_is_only_a_suggestion(index):
    found = index.match(author(Network.X, "jmuller", display_name="jose  MULLER"))
    assert found == Match(2, "same_name", False)


def test_same_name_needs_two_words(index):
    assert index.match(author(Network.X, "mono", display_name="Mononym")) is None


def test_same_name_shared_by_two_partners_suggests_nothing(index):
    assert index.match(author(Network.X, "anna", display_name="Anna Smith")) is None


def test_verifiable_signal_wins_over_same_name(index):
    found = index.match(author(display_name="Anna Smith", email="info@acme.com"))
    assert found == Match(1, "email", True)


def test_ambiguous_signal_falls_back_to_a_suggestion_at_most(index):
    found = index.match(author(email="team@shared.example", display_name="José Müller"))
    assert found == Match(2, "same_name", False)


def test_nothing_matches_nothing(index):
    assert index.match(author()) is None
    assert index.match(author(display_name="Somebody Else", email="x@nowhere.example")) is None
    assert PartnerIndex([]).match(author(email="info@acme.com")) is None


def test_same_partner_listed_twice_is_not_ambiguous():
    dup = [Candidate(1, "Acme Corp", "info@acme.com"), Candidate(1, "Acme Corp", "info@acme.com")]
    assert PartnerIndex(dup).match(author(email="info@acme.com")) == Match(1, "email", True)


def test_index_scales_linearly():
    many = [Candidate(i, f"Person Number{i}", f"p{i}@ex.example") for i in range(20000)]
    index = PartnerIndex(many)
    assert index.match(author(email="p19999@ex.example")) == Match(19999, "email", True)
    assert index.match(author(display_name="person number7")) == Match(7, "same_name", False)


def test_records_are_frozen():
    match = Match(1, "email", True)
    with pytest.raises(AttributeError):
        match.partner_id = 2
    with pytest.raises(AttributeError):
        Candidate(1, "A B").email = "x"
