"""The one HTTP choke point for the requests-based connectors.

Every call goes through :func:`request`, which always sets a timeout, never
retries, and maps what the network said to :mod:`.errors`. The error messages
name the network, the status and the network's own short error text; they never
repeat headers, tokens or query strings.
"""

from __future__ import annotations

import ipaddress
import json
import socket
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
#: the most of a response body we will read as JSON (bytes)
MAX_BODY = 8 * 1024 * 1024


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
    **kwargs: Any,
) -> requests.Response:
    """Send one request and return the response, or raise a connector error.

    ``timeout`` is mandatory: a connector that forgets it does not type-check
    and does not run.
    """
    if not timeout or timeout <= 0:
        raise ValueError("a positive timeout is required")
    if not url.startswith(("https://", "http://")):
        raise ConnectorError(f"{network}: only http(s) URLs are allowed")
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise TransientError(f"{network}: no answer within {timeout:g}s") from exc
    except requests.ConnectionError as exc:
        raise TransientError(f"{network}: connection failed ({type(exc).__name__})") from exc
    except requests.RequestException as exc:
        raise ConnectorError(f"{network}: request failed ({type(exc).__name__})") from exc
    raise_for_status(response, network)
    return response


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
    """Decode a JSON body or raise :class:`PayloadError` naming what was wrong."""
    content = response.content
    if len(content) > MAX_BODY:
        raise PayloadError(f"{network}: {what} is larger than {MAX_BODY} bytes")
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
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
    try:
        body = response.json()
    except ValueError:
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
