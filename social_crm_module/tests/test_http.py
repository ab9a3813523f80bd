"""The HTTP choke point: timeouts, status mapping, rate-limit headers, no secrets."""

import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest

from social_crm_module import errors
from social_crm_module import http as http_module
from social_crm_module.http import (
    DEFAULT_MAX_BYTES,
    RateLimit,
    json_object,
    new_session,
    rate_limit_from_headers,
    request,
    retry_at_from_headers,
)
from social_crm_module.testing import FakeServer

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, errors.AuthError),
        (403, errors.AuthError),
        (404, errors.NotFound),
        (410, errors.NotFound),
        (429, errors.RateLimited),
        (500, errors.TransientError),
        (503, errors.TransientError),
        (400, errors.ConnectorError),
    ],
)
def test_status_maps_to_error(server, status, error):
    server.add("GET", "/x", status=status, json={"error": "nope"})
    with pytest.raises(error) as info:
        request(new_session(), "GET", server.url + "/x", timeout=2, network="test")
    assert f"HTTP {status}" in str(info.value)
    assert "nope" in str(info.value)


def test_timeout_is_transient_and_fast(server):
    server.add("GET", "/slow", json={}, delay=1.0)
    with pytest.raises(errors.TransientError, match=r"no answer within 0\.2s"):
        request(new_session(), "GET", server.url + "/slow", timeout=0.2, network="test")


def test_connection_refused_is_transient():
    with pytest.raises(errors.TransientError, match="connection failed"):
        request(new_session(), "GET", "http://127.0.0.1:9/", timeout=1, network="test")


def test_timeout_is_mandatory(server):
    with pytest.raises(ValueError, match="timeout"):
        request(new_session(), "GET", server.url, timeout=0, network="test")


def test_only_http_urls():
    with pytest.raises(errors.ConnectorError, match="http"):
        request(new_session(), "GET", "file:///etc/passwd", timeout=1, network="test")


def test_truncated_json_is_payload_error(server):
    server.add("GET", "/t", body='{"items": [1, 2', headers={"Content-Type": "application/json"})
    response = request(new_session(), "GET", server.url + "/t", timeout=2, network="test")
    with pytest.raises(errors.PayloadError, match="not valid JSON"):
        json_object(response, "test", "notifications")


def test_json_array_where_object_expected(server):
    server.add("GET", "/a", json=[1])
    response = request(new_session(), "GET", server.url + "/a", timeout=2, network="test")
    with pytest.raises(errors.PayloadError, match="should be a JSON object"):
        json_object(response, "test")


def test_error_message_never_echoes_headers(server):
    server.add("GET", "/x", status=401, json={"error": "bad token"})
    session = new_session()
    session.headers["Authorization"] = "Bearer s3cr3t-token-value"
    with pytest.raises(errors.AuthError) as info:
        request(session, "GET", server.url + "/x?access_token=s3cr3t", timeout=2, network="t")
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, NOW + timedelta(seconds=30)),
        ({"Retry-After": "Sun, 22 Nov 2026 12:05:00 GMT"}, NOW + timedelta(minutes=5)),
        ({"X-RateLimit-Reset": "2026-11-22T12:10:00.000Z"}, NOW + timedelta(minutes=10)),
        ({"x-rate-limit-reset": "1795348800"}, datetime.fromtimestamp(1795348800, tz=timezone.utc)),
        (
            {"X-RateLimit-Reset": str(int((NOW + timedelta(minutes=15)).timestamp()))},
            NOW + timedelta(minutes=15),
        ),
        (
            {"RateLimit-Reset": str(int((NOW + timedelta(minutes=1)).timestamp()))},
            NOW + timedelta(minutes=1),
        ),
        ({"RateLimit-Reset": "42"}, NOW + timedelta(seconds=42)),
        ({}, None),
        ({"Retry-After": "soon"}, None),
    ],
)
def test_retry_at_from_headers(headers, expected):
    assert retry_at_from_headers(headers, now=NOW) == expected


def test_rate_limit_from_headers_reads_either_prefix():
    mastodon = rate_limit_from_headers(
        {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "7",
            "X-RateLimit-Reset": "2026-11-22T12:10:00.000Z",
        },
        "X-RateLimit",
    )
    assert mastodon == RateLimit(300, 7, NOW + timedelta(minutes=10))
    bluesky = rate_limit_from_headers({"ratelimit-remaining": "0"}, "RateLimit")
    assert bluesky == RateLimit(None, 0, None)
    assert rate_limit_from_headers({"Content-Type": "text/plain"}, "RateLimit") is None


# -- bounded responses (issue 11: the body is capped, the request has a total deadline) --

BIG = b'{"items": "' + b"a" * (6 * 1024 * 1024) + b'"}'


def test_declared_body_over_the_cap_is_refused_before_reading(server):
    # the server declares a gigabyte and sends a few bytes, then hangs up: a client
    # that started reading would fail on the short body, not on the declared size
    server.add("GET", "/big", body=b'{"a": 1}', length=2**30)
    started = time.monotonic()
    with pytest.raises(errors.PayloadError, match="larger than"):
        request(new_session(), "GET", server.url + "/big", timeout=2, network="test")
    assert time.monotonic() - started < 1.5


def test_declared_body_over_a_per_call_cap(server):
    server.add("GET", "/small", json={"text": "x" * 2000})
    with pytest.raises(errors.PayloadError, match="larger than 1000 bytes"):
        request(new_session(), "GET", server.url + "/small", timeout=2, network="t", max_bytes=1000)
    # the same body under a roomier cap is read whole
    response = request(
        new_session(), "GET", server.url + "/small", timeout=2, network="t", max_bytes=10_000
    )
    assert json_object(response, "t")["text"] == "x" * 2000


def test_undeclared_chunked_body_over_the_default_cap(server):
    server.add("GET", "/chunked", body=BIG, chunked=True)
    with pytest.raises(errors.PayloadError, match=f"larger than {DEFAULT_MAX_BYTES} bytes"):
        request(new_session(), "GET", server.url + "/chunked", timeout=5, network="test")


def test_chunked_body_under_the_cap_is_read(server):
    server.add("GET", "/ok", body=b'{"ok": true}', chunked=True)
    response = request(new_session(), "GET", server.url + "/ok", timeout=2, network="test")
    assert json_object(response, "test") == {"ok": True}


def test_slow_drip_hits_the_total_deadline(server):
    # one byte every 0.2 s: each read answers well within the timeout, the whole
    # body would take 40 s; the request must give up at its total deadline
    server.add("GET", "/drip", body=b'{"a": "' + b"x" * 200 + b'"}', drip=0.2)
    started = time.monotonic()
    with pytest.raises(errors.TransientError, match=r"no answer within 1s"):
        request(new_session(), "GET", server.url + "/drip", timeout=1, network="test")
    assert time.monotonic() - started < 1.8


def test_huge_error_body_is_not_read_whole(server):
    # a 401 whose body is 20 MB (undeclared): still an AuthError, and the client
    # never holds more than a small piece of it in memory
    body = b'{"error": "' + b"e" * 20_000_000 + b'"}'
    server.add("GET", "/err", status=401, body=body, chunked=True)
    tracemalloc.start()
    try:
        with pytest.raises(errors.AuthError) as info:
            request(new_session(), "GET", server.url + "/err", timeout=5, network="test")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000
    assert len(str(info.value)) < 300


def test_error_body_is_read_with_a_small_cap(server, monkeypatch):
    seen = []
    real = http_module._read_body

    def spy(response, limit, deadline, timeout, network):
        seen.append(limit)
        return real(response, limit, deadline, timeout, network)

    monkeypatch.setattr(http_module, "_read_body", spy)
    server.add("GET", "/e", status=500, json={"error": "down"})
    with pytest.raises(errors.TransientError, match="down"):
        request(new_session(), "GET", server.url + "/e", timeout=2, network="test")
    assert seen == [http_module.ERROR_MAX_BYTES]
    assert http_module.ERROR_MAX_BYTES <= 64 * 1024


# -- siblings: deeply nested JSON is a payload error, not a crash -------------------------

NESTED = b"[" * 200_000 + b"]" * 200_000


def test_deeply_nested_json_is_a_payload_error(server):
    server.add("GET", "/deep", body=NESTED, headers={"Content-Type": "application/json"})
    response = request(new_session(), "GET", server.url + "/deep", timeout=5, network="test")
    with pytest.raises(errors.PayloadError, match="not valid JSON"):
        json_object(response, "test")


def test_deeply_nested_error_body_still_maps_the_status(server):
    server.add("GET", "/deep", status=503, body=b"[" * 60_000 + b"]" * 4_000)
    with pytest.raises(errors.TransientError, match="HTTP 503"):
        request(new_session(), "GET", server.url + "/deep", timeout=5, network="test")


def test_session_and_call_hooks_still_run_after_the_bounded_read(server):
    seen = []
    session = new_session()
    session.hooks["response"].append(lambda r, *a, **k: seen.append(("session", r.content)))
    server.add("GET", "/h", json={"ok": 1})
    request(
        session,
        "GET",
        server.url + "/h",
        timeout=2,
        network="t",
        hooks={"response": lambda r, *a, **k: seen.append(("call", r.content))},
    )
    assert seen == [("call", b'{"ok": 1}'), ("session", b'{"ok": 1}')]
