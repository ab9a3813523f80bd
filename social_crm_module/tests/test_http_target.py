"""Where a request may go (issue 11, finding 7: SSRF through redirects).

No public host is reachable from the tests: the address check is exercised on
addresses, the resolver is replaced by a table, and the redirect chain runs on
the FakeServer (127.0.0.1) with a resolver that pretends 127.0.0.1 is public.
"""

import pytest

from social_crm_module import errors
from social_crm_module.http import (
    MAX_HOPS,
    address_refusal,
    check_url_target,
    is_loopback_url,
    new_session,
    request_following,
    resolve_host,
)
from social_crm_module.testing import FakeServer

PUBLIC = "93.184.215.14"


def table(mapping):
    """A resolver reading ``mapping`` (host -> addresses); other hosts as themselves."""

    def resolver(host, _port):
        if host in mapping:
            return list(mapping[host])
        return resolve_host(host, _port)

    return resolver


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (PUBLIC, ""),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", ""),
        ("127.0.0.1", "loopback"),
        ("127.5.6.7", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.8", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("::", "unspecified"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("not-an-ip", "not an IP"),
    ],
)
def test_address_refusal(address, reason):
    refusal = address_refusal(address)
    if reason:
        assert reason in refusal
    else:
        assert refusal == ""


def test_loopback_allowed_only_when_asked():
    assert address_refusal("127.0.0.1", allow_loopback=True) == ""
    assert address_refusal("::ffff:127.0.0.1", allow_loopback=True) == ""
    # loopback allowance does not open private or link-local ranges
    assert "private" in address_refusal("10.0.0.1", allow_loopback=True)
    assert "link-local" in address_refusal("169.254.169.254", allow_loopback=True)


def test_check_url_target_schemes_and_hosts():
    resolver = table({"feeds.example": [PUBLIC], "intranet.example": ["10.1.2.3"]})
    check_url_target("https://feeds.example/rss", network="feed", resolver=resolver)
    for url in ("file:///etc/passwd", "ftp://feeds.example/", "gopher://feeds.example/"):
        with pytest.raises(errors.ConnectorError, match="http"):
            check_url_target(url, network="feed", resolver=resolver)
    with pytest.raises(errors.ConnectorError, match="no host"):
        check_url_target("http:///path", network="feed", resolver=resolver)
    with pytest.raises(errors.ConnectorError, match=r"intranet\.example is a private address"):
        check_url_target(
            "https://intranet.example/?token=s3cret", network="feed", resolver=resolver
        )


def test_one_private_answer_among_public_ones_is_refused():
    resolver = table({"rebind.example": [PUBLIC, "127.0.0.1"]})
    with pytest.raises(errors.ConnectorError, match="loopback"):
        check_url_target("https://rebind.example/", network="feed", resolver=resolver)


def test_literal_addresses_are_checked_without_dns():
    with pytest.raises(errors.ConnectorError, match="link-local"):
        check_url_target("http://169.254.169.254/latest/meta-data/", network="feed")
    with pytest.raises(errors.ConnectorError, match="loopback"):
        check_url_target("http://[::1]:8069/web", network="feed")
    check_url_target("http://127.0.0.1:8069/feed", network="feed", allow_loopback=True)


def test_unresolvable_host_is_transient():
    def broken(host, port):
        return resolve_host("name.invalid", port)

    with pytest.raises(errors.TransientError, match="resolve"):
        check_url_target("https://feeds.example/", network="feed", resolver=broken)


def test_is_loopback_url():
    assert is_loopback_url("http://127.0.0.1:8000/feed.xml")
    assert is_loopback_url("http://[::1]/feed.xml")
    assert not is_loopback_url("https://feeds.example/", table({"feeds.example": [PUBLIC]}))
    mixed = table({"both.example": ["127.0.0.1", PUBLIC]})
    assert not is_loopback_url("https://both.example/", mixed)
    assert not is_loopback_url("not a url")


# -- the redirect chain -----------------------------------------------------------------


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def public_loopback(server):
    """A resolver for which the FakeServer's 127.0.0.1 is a public address."""
    return table({"127.0.0.1": [PUBLIC], "localhost": ["127.0.0.1"]})


def follow(server, path, **kwargs):
    return request_following(
        new_session(), server.url + path, timeout=2.0, network="feed", **kwargs
    )


def test_redirects_followed_by_hand_on_loopback(server):
    server.add("GET", "/old", status=301, headers={"Location": "/older"})
    server.add("GET", "/older", status=302, headers={"Location": server.url + "/feed"})
    server.add("GET", "/feed", body="ok")
    response, final = follow(server, "/old")
    assert (response.status_code, response.text, final) == (200, "ok", server.url + "/feed")
    assert [r.path for r in server.requests] == ["/old", "/older", "/feed"]


@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/admin",  # loopback by name
        "http://127.0.0.1:{port}/admin",  # loopback (the resolver says so for 127.0.0.1)
        "http://10.0.0.7/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "file:///etc/passwd",
    ],
)
def test_public_feed_redirecting_inward_is_refused(server, target):
    port = server.url.rsplit(":", 1)[1]
    resolver = public_loopback(server)
    if "127.0.0.1" in target:  # the hop's own host must resolve inward
        resolver = table({"127.0.0.1": [PUBLIC], "inward.example": ["127.0.0.1"]})
        target = target.replace("127.0.0.1", "inward.example")
    server.add("GET", "/feed", status=302, headers={"Location": target.format(port=port)})
    server.add("GET", "/admin", body="secret")
    with pytest.raises(errors.ConnectorError, match=r"refused|http"):
        follow(server, "/feed", resolver=resolver)
    assert [r.path for r in server.requests] == ["/feed"]  # the inward hop never asked


def test_public_feed_redirecting_to_public_is_followed(server):
    server.add("GET", "/feed", status=308, headers={"Location": "/feed2"})
    server.add("GET", "/feed2", body="ok")
    response, _final = follow(server, "/feed", resolver=public_loopback(server))
    assert response.text == "ok"


def test_loopback_feed_redirecting_to_private_is_refused(server):
    server.add("GET", "/feed", status=302, headers={"Location": "http://192.168.0.10/feed"})
    with pytest.raises(errors.ConnectorError, match="private address: refused"):
        follow(server, "/feed")


def test_too_many_hops_and_missing_location(server):
    for n in range(MAX_HOPS + 1):
        server.add("GET", f"/r{n}", status=302, headers={"Location": f"/r{n + 1}"})
    server.add("GET", f"/r{MAX_HOPS + 1}", body="too far")
    with pytest.raises(errors.PayloadError, match="redirects"):
        follow(server, "/r0")
    assert len(server.requests) == MAX_HOPS + 1
    server.add("GET", "/nowhere", status=301)
    with pytest.raises(errors.PayloadError, match="Location"):
        follow(server, "/nowhere")
