"""The one HTTP choke point for every connector (tweepy's session included).

Every call goes through :func:`send` (or :func:`request`, which also maps the
status to :mod:`.errors`). It always sets a timeout, never retries, and bounds
what a server can make us do:

- **a total deadline.** ``timeout`` covers the whole request, connection and every
  read of the body together, not each read: a server dripping one byte at a time
  is cut off when the deadline passes (a watchdog shuts the socket down), and the
  request raises :class:`TransientError`. Until the headers have arrived the
  socket's own per-read timeout (the same ``timeout``) applies as well;
- **a byte cap.** The body is read in chunks, up to ``max_bytes``
  (:data:`DEFAULT_MAX_BYTES` unless the caller says otherwise): a larger
  ``Content-Length`` is refused before reading, an undeclared (chunked) body as soon
  as it passes the cap, with :class:`PayloadError`. The cap counts decoded bytes;
- **small error bodies.** The body of an error (and of a redirect) is read up to
  :data:`ERROR_MAX_BYTES`; past that it is dropped and the error says only its
  status.

The body is read as soon as the headers arrive, in a response hook that runs
before any other, on every response, redirect hops included; so ``response.content``
is always already bounded, ``stream=True`` changes nothing, and other response
hooks see a body that was read within the cap.

The error messages name the network, the status and the network's own short
error text; they never repeat headers, tokens or query strings.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from .errors import (
    AuthError,
    ConnectorError,
    NotFound,
    PayloadError,
    RateLimited,
    TransientError,
)

USER_AGENT = "social_crm_module/18.0 (+Odoo social CRM add-on)"
DEFAULT_TIMEOUT = 10.0
#: the most of a response body we read unless the call says otherwise (bytes)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
#: the most of an error (or redirect) body we read, for its short error text
ERROR_MAX_BYTES = 64 * 1024
#: kept for callers that imported it: the default cap
MAX_BODY = DEFAULT_MAX_BYTES
#: bytes per read of the body (a compressed chunk inflates to at most ~1000x this)
_CHUNK = 16 * 1024


def new_session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    network: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **kwargs: Any,
) -> requests.Response:
    """Send one request and return the response, or raise a connector error.

    ``timeout`` is mandatory and total (see the module docstring): a connector
    that forgets it does not type-check and does not run. ``max_bytes`` caps the
    body of a successful response.
    """
    response = send(
        session, method, url, timeout=timeout, network=network, max_bytes=max_bytes, **kwargs
    )
    raise_for_status(response, network)
    return response


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float,
    network: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    **kwargs: Any,
) -> requests.Response:
    """:func:`request` without the status mapping: any status comes back, with its
    body read within the caps and the deadline (for tweepy, which maps statuses
    itself). Transport failures raise connector errors all the same."""
    if not timeout or timeout <= 0:
        raise ValueError("a positive timeout is required")
    if not isinstance(url, str) or not url.lower().startswith(("https://", "http://")):
        raise ConnectorError(f"{network}: only http(s) URLs are allowed")
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    deadline = time.monotonic() + timeout

    def read_body(response: requests.Response, *args: Any, **kw: Any) -> None:
        _bounded(response, max_bytes, deadline, timeout, network)

    # ours first; then the call's and the session's own (requests would drop the
    # session's response hooks once the call has some, so they are carried here)
    hooks = kwargs.pop("hooks", None) or {}
    theirs = [*_hook_list(hooks), *_hook_list(getattr(session, "hooks", None))]
    hooks = {**hooks, "response": [read_body, *theirs]}
    try:
        return session.request(method, url, timeout=timeout, hooks=hooks, **kwargs)
    except requests.Timeout as exc:
        raise TransientError(f"{network}: no answer within {timeout:g}s") from exc
    except requests.ConnectionError as exc:
        raise TransientError(f"{network}: connection failed ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        raise ConnectorError(f"{network}: request failed ({type(exc).__name__})") from exc


def _hook_list(hooks: Any) -> list:
    found = hooks.get("response") if isinstance(hooks, Mapping) else None
    if callable(found):
        return [found]
    return list(found or [])


def _bounded(
    response: requests.Response, max_bytes: int, deadline: float, timeout: float, network: str
) -> None:
    """Read the body into ``response`` within the cap and the deadline."""
    ok = 200 <= response.status_code < 300
    limit = max_bytes if ok else min(max_bytes, ERROR_MAX_BYTES)
    body = _read_body(response, limit, deadline, timeout, network)
    if body is None:
        response.close()
        if ok:
            raise PayloadError(f"{network}: the response is larger than {limit} bytes")
        body = b""  # an error too long to quote: its status says enough
    response._content = body
    response._content_consumed = True


def _read_body(
    response: requests.Response, limit: int, deadline: float, timeout: float, network: str
) -> bytes | None:
    """The body, or None when it is larger than ``limit`` bytes."""
    length = (response.headers.get("Content-Length") or "").strip()
    if length.isdigit() and int(length) > limit:
        return None
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        response.close()
        raise TransientError(f"{network}: no answer within {timeout:g}s")
    watchdog = _Watchdog(response, remaining)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if time.monotonic() >= deadline:
                break
    except (requests.RequestException, OSError) as exc:
        response.close()
        if watchdog.fired or time.monotonic() >= deadline:
            raise TransientError(f"{network}: no answer within {timeout:g}s") from exc
        reason = type(exc).__name__
        raise TransientError(f"{network}: reading the response failed ({reason})") from exc
    finally:
        watchdog.cancel()
    if watchdog.fired or time.monotonic() >= deadline:
        response.close()
        raise TransientError(f"{network}: no answer within {timeout:g}s")
    return b"".join(chunks)


class _Watchdog:
    """Shuts the response's socket down when the deadline passes, so a read that
    the server keeps alive one byte at a time ends there."""

    def __init__(self, response: requests.Response, seconds: float) -> None:
        self.fired = False
        self._sock = _socket_of(response)
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        if self._sock is not None:
            # the plain socket's shutdown, also under TLS: it wakes the reader
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response reads from (urllib3 1.26 and 2.x), if found."""
    raw = getattr(response, "raw", None)
    conn = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(conn, "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def raise_for_status(response: requests.Response, network: str) -> None:
    """Map an HTTP status to the error tree; 2xx and 3xx pass."""
    status = response.status_code
    if status < 400:
        return
    detail = _error_detail(response)
    message = f"{network}: HTTP {status}" + (f" ({detail})" if detail else "")
    if status in (401, 403):
        raise AuthError(message)
    if status == 429:
        raise RateLimited(message, retry_at=retry_at_from_headers(response.headers))
    if status in (404, 410):
        raise NotFound(message)
    if status >= 500:
        raise TransientError(message)
    raise ConnectorError(message)


def json_body(response: requests.Response, network: str, what: str = "response") -> Any:
    """Decode a JSON body or raise :class:`PayloadError` naming what was wrong.

    The body was read within its cap by :func:`send`."""
    content = response.content
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nested too deep
        reason = type(exc).__name__
        raise PayloadError(f"{network}: {what} is not valid JSON ({reason})") from exc


def json_object(response: requests.Response, network: str, what: str = "response") -> dict:
    body = json_body(response, network, what)
    if not isinstance(body, dict):
        kind = type(body).__name__
        raise PayloadError(f"{network}: {what} should be a JSON object, got {kind}")
    return body


def retry_at_from_headers(
    headers: Mapping[str, str], now: datetime | None = None
) -> datetime | None:
    """When may we call again? Reads the headers the networks actually send.

    - ``Retry-After``: seconds, or an HTTP date (RFC 9110);
    - ``X-RateLimit-Reset``: ISO 8601 (Mastodon); ``x-rate-limit-reset``: epoch (X);
    - ``RateLimit-Reset``: epoch seconds (Bluesky) or delta seconds (IETF draft).

    Returns ``None`` when the network did not say; the caller then backs off on
    its own schedule.
    """
    now = now or datetime.now(timezone.utc)
    lowered = {k.lower(): v for k, v in headers.items()}
    retry_after = lowered.get("retry-after")
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            return now + timedelta(seconds=int(value))
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    for name in ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset"):
        value = (lowered.get(name) or "").strip()
        if not value:
            continue
        if value.isdigit():
            number = int(value)
            # small numbers are a delay in seconds, large ones an epoch timestamp
            if number < 10**9:
                return now + timedelta(seconds=number)
            return datetime.fromtimestamp(number, tz=timezone.utc)
        try:
            text = value[:-1] + "+00:00" if value.endswith("Z") else value
            parsed = datetime.fromisoformat(text)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """What a network said about our budget in its last response."""

    limit: int | None = None
    remaining: int | None = None
    reset: datetime | None = None


def rate_limit_from_headers(headers: Mapping[str, str], prefix: str) -> RateLimit | None:
    """Read ``<prefix>-Limit``, ``-Remaining`` and ``-Reset``, or ``None`` if absent.

    Mastodon sends ``X-RateLimit-*``, Bluesky ``RateLimit-*``; the reset is read by
    :func:`retry_at_from_headers`, whatever its format.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    prefix = prefix.lower()
    limit, remaining = lowered.get(f"{prefix}-limit"), lowered.get(f"{prefix}-remaining")
    if limit is None and remaining is None:
        return None
    reset = lowered.get(f"{prefix}-reset")
    return RateLimit(
        limit=_int(limit),
        remaining=_int(remaining),
        reset=retry_at_from_headers({f"{prefix}-reset": reset}) if reset else None,
    )


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _error_detail(response: requests.Response) -> str:
    """The network's own short error text, if the body has one (never headers)."""
    if len(response.content) > ERROR_MAX_BYTES:
        return ""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    if not isinstance(body, dict):
        return ""
    parts = []
    for key in ("error", "message", "title", "detail", "error_description"):
        value = body.get(key)
        if isinstance(value, str) and value:
            parts.append(value)
    return "; ".join(parts)[:200]


# -- where a request may go (SSRF) ------------------------------------------------------

#: a resolver answers the IP addresses a host name stands for
Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal stands for itself).

    Raises :class:`TransientError` when the name does not resolve: DNS may come back.
    """
    literal = host.strip("[]")
    try:
        return [str(ipaddress.ip_address(literal))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TransientError(f"cannot resolve the host {host[:100]!r}") from exc
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def address_refusal(address: str, *, allow_loopback: bool = False) -> str:
    """Why a request must not go to ``address``, or ``""`` when it may.

    Refused: loopback (unless ``allow_loopback``), private, link-local, multicast,
    reserved, unspecified and every other non-global range (carrier-grade NAT,
    documentation, benchmarking...). An IPv4 address inside IPv6 (mapped, 6to4,
    NAT64 well-known prefix) is judged by the IPv4 address it carries.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return address_refusal(str(inner), allow_loopback=allow_loopback)
    if ip.is_loopback:
        return "" if allow_loopback else "a loopback address"
    for flag, reason in _REFUSED:
        if getattr(ip, flag):
            return reason
    return "" if ip.is_global else "a non-public address"


#: checked in this order: 240.0.0.0/4 is both reserved and "private" to Python
_REFUSED = (
    ("is_unspecified", "an unspecified address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_reserved", "a reserved address"),
    ("is_private", "a private address"),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_loopback_url(url: str, resolver: Resolver = resolve_host) -> bool:
    """Whether every address ``url``'s host resolves to is a loopback address."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or _default_port(parts.scheme)
    except ValueError:
        return False
    if not host:
        return False
    try:
        addresses = resolver(host, port)
    except ConnectorError:
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses
    )


def check_url_target(
    url: str, *, network: str, allow_loopback: bool = False, resolver: Resolver = resolve_host
) -> None:
    """Raise :class:`ConnectorError` unless ``url`` is http(s) to public addresses only.

    Every address the host resolves to must be public (see :func:`address_refusal`):
    one private answer among public ones is refused too. ``allow_loopback`` is for an
    account whose own configured URL is on loopback (a local server, the tests). The
    message names the host and the reason, never the path or query.
    """
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
        port = parts.port or _default_port(scheme)
    except ValueError as exc:
        raise ConnectorError(f"{network}: the URL cannot be read") from exc
    if scheme not in ("http", "https"):
        raise ConnectorError(f"{network}: only http(s) URLs are allowed")
    if not host:
        raise ConnectorError(f"{network}: the URL has no host")
    for address in resolver(host, port):
        reason = address_refusal(address, allow_loopback=allow_loopback)
        if reason:
            raise ConnectorError(f"{network}: {host[:100]} is {reason}: refused")


def _default_port(scheme: str) -> int:
    return 443 if scheme.lower() == "https" else 80


#: HTTP statuses that redirect, and how many hops :func:`request_following` takes
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_HOPS = 5


def request_following(
    session: requests.Session,
    url: str,
    *,
    timeout: float,
    network: str,
    allow_loopback: bool | None = None,
    resolver: Resolver = resolve_host,
    max_hops: int = MAX_HOPS,
    **kwargs: Any,
) -> tuple[requests.Response, str]:
    """GET ``url`` through :func:`request`, following at most ``max_hops`` redirects
    by hand, each hop's URL checked by :func:`check_url_target` before it is asked.

    ``allow_loopback`` defaults to "``url`` itself is on loopback". Returns the final
    response and its URL (for resolving relative links).
    """
    if allow_loopback is None:
        allow_loopback = is_loopback_url(url, resolver)
    kwargs["allow_redirects"] = False
    for hop in range(max_hops + 1):
        check_url_target(url, network=network, allow_loopback=allow_loopback, resolver=resolver)
        response = request(session, "GET", url, timeout=timeout, network=network, **kwargs)
        if response.status_code not in REDIRECTS:
            return response, url
        location = response.headers.get("Location", "").strip()
        response.close()
        if not location:
            raise PayloadError(f"{network}: HTTP {response.status_code} without a Location")
        if hop == max_hops:
            break
        try:
            url = urljoin(url, location)
        except ValueError as exc:
            raise PayloadError(f"{network}: the redirect's Location cannot be read") from exc
    raise PayloadError(f"{network}: more than {max_hops} redirects: refused")
