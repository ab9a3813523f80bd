"""A scripted HTTP server on 127.0.0.1 for connector tests (engine and Odoo suites).

Connectors are pointed at ``server.url`` instead of the network; nothing is
patched, real sockets and real timeouts are exercised.

    with FakeServer() as server:
        server.add("GET", "/api/v1/notifications", json=[...], headers={"Link": ...})
        server.add("GET", "/api/v1/notifications", status=429, headers={"Retry-After": "30"})
        connector = MastodonConnector(base_url=server.url, ...)

Routes match on method, path and (optionally) a subset of query parameters; the
first matching route whose ``times`` is not used up answers. Unmatched requests
get a 404 and are recorded like the others in ``server.requests``.

Hostile servers for the size and deadline tests: ``chunked=True`` sends the body
with ``Transfer-Encoding: chunked`` (no declared length), ``drip=0.2`` sends it
one byte every 0.2 s (a per-read timeout never fires), ``length=N`` declares a
``Content-Length`` other than the body's real one.

Factories for the engine's records, shared by the engine tests, the Odoo suite,
the benchmarks and the tools (so a field added to a record is added once)::

    ann = make_author("ann@m.example", display_name="Ann")
    hello = make_interaction("n1", ann, text="hi", reply_ref="n1")
    liked = make_interaction("n2", ann, "like", minutes=1)  # a minute before NOW
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .interaction import Author, Interaction, Kind, Network

#: the instant factories date interactions from when not told otherwise: this
#: process's start, to the second (so every record made in one test run agrees)
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def make_author(handle: str, network: str = "mastodon", **values: Any) -> Author:
    """An engine :class:`Author` on ``network``; its external id is the handle
    unless ``external_id`` is given."""
    values.setdefault("external_id", handle)
    return Author(network=Network(network), handle=handle, **values)


def make_interaction(
    external_id: str,
    author: Author,
    kind: str = "mention",
    minutes: float = 0,
    *,
    now: datetime | None = None,
    **values: Any,
) -> Interaction:
    """A frozen engine :class:`Interaction` by ``author`` on the author's network,
    made ``minutes`` before ``now`` (default :data:`NOW`) unless ``created_at`` is
    given; other fields (text, url, reply_ref, ...) as keywords."""
    values.setdefault("created_at", (now or NOW) - timedelta(minutes=minutes))
    return Interaction(
        network=author.network, external_id=external_id, kind=Kind(kind), author=author, **values
    )


@dataclass
class Route:
    method: str
    path: str
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] | None = None
    delay: float = 0.0
    times: int | None = None
    used: int = 0
    chunked: bool = False
    drip: float = 0.0
    length: int | None = None

    def matches(self, method: str, path: str, query: dict[str, list[str]]) -> bool:
        if self.method != method or self.path != path:
            return False
        if self.times is not None and self.used >= self.times:
            return False
        if self.query:
            for key, value in self.query.items():
                if value not in query.get(key, []):
                    return False
        return True


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeServer:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def add(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json: Any = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int | None = None,
        chunked: bool = False,
        drip: float = 0.0,
        length: int | None = None,
    ) -> Route:
        headers = dict(headers or {})
        if json is not None:
            payload = _json.dumps(json).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body or b""
        route = Route(
            method.upper(),
            path,
            status,
            payload,
            headers,
            query,
            delay,
            times,
            chunked=chunked,
            drip=drip,
            length=length,
        )
        with self._lock:
            self.routes.append(route)
        return route

    def reset(self) -> None:
        with self._lock:
            self.routes.clear()
            self.requests.clear()

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append(
                Recorded(handler.command, parts.path, query, dict(handler.headers.items()), body)
            )
            route = next(
                (r for r in self.routes if r.matches(handler.command, parts.path, query)), None
            )
            if route is not None:
                route.used += 1
        if route is None:
            route = Route(
                handler.command,
                parts.path,
                404,
                b'{"error": "no such route"}',
                {"Content-Type": "application/json"},
            )
        if route.delay:
            time.sleep(route.delay)
        try:
            handler.send_response(route.status)
            for key, value in route.headers.items():
                handler.send_header(key, value)
            if route.chunked:
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                length = len(route.body) if route.length is None else route.length
                handler.send_header("Content-Length", str(length))
            handler.end_headers()
            _write_body(handler, route)
        except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout tests)
            handler.close_connection = True

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                server._answer(self)

            do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

        return Handler


def _write_body(handler: BaseHTTPRequestHandler, route: Route) -> None:
    """Write the body: whole, chunked, or a byte at a time every ``route.drip`` s."""
    out = handler.wfile
    step = 1 if route.drip else 64 * 1024
    for start in range(0, len(route.body), step):
        piece = route.body[start : start + step]
        out.write(b"%x\r\n%s\r\n" % (len(piece), piece) if route.chunked else piece)
        if route.drip:
            out.flush()
            time.sleep(route.drip)
    if route.chunked:
        out.write(b"0\r\n\r\n")
    if route.length is not None and route.length != len(route.body):
        handler.close_connection = True  # the declared length was a lie: hang up


_json = json


class FakeWebSocketServer:
    """A scripted websocket server on 127.0.0.1 for stream tests.

    Each connection plays the next script of ``scripts`` (the last one repeats):
    a list of steps, ``("send", frame)``, ``("sleep", seconds)``, ``("close",)``
    (a clean close), ``("cut", raw_bytes)`` (write raw bytes, e.g. half a frame,
    then drop the TCP connection) or ``("hold",)`` (keep the connection open until
    the client leaves). Connections' paths, headers and received messages are
    recorded in ``connections``.

        with FakeWebSocketServer([[("send", '{"a": 1}'), ("close",)]]) as server:
            stream = JetstreamStream(server.url, ...)
    """

    def __init__(self, scripts: list[list[tuple]]) -> None:
        from websockets.sync.server import serve  # noqa: PLC0415

        self.scripts = scripts
        self.connections: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = serve(self._handle, "127.0.0.1", 0, max_size=None, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    def __enter__(self) -> FakeWebSocketServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed  # noqa: PLC0415

        with self._lock:
            index = len(self.connections)
            record = {
                "path": ws.request.path,
                "headers": dict(ws.request.headers.raw_items()),
                "received": [],
            }
            self.connections.append(record)
            script = self.scripts[min(index, len(self.scripts) - 1)]
        try:
            for step in script:
                action = step[0]
                if action == "send":
                    ws.send(step[1])
                elif action == "sleep":
                    time.sleep(step[1])
                elif action == "close":
                    ws.close()
                    return
                elif action == "cut":
                    ws.socket.sendall(step[1])
                    ws.socket.shutdown(2)
                    ws.socket.close()
                    return
                elif action == "hold":
                    for message in ws:
                        record["received"].append(message)
                    return
                elif action == "recv":
                    record["received"].append(ws.recv(timeout=5))
        except ConnectionClosed:
            return


# -- Odoo records (the Odoo suite and the benchmarks give the environment; nothing
# here imports odoo, and a benchmark need not import the test package for them)


def identity_values(partner, handle, network="mastodon", **values):
    """The values of an identity a person confirmed for ``partner``: its external
    id is the handle unless ``external_id`` is given (benchmarks create many)."""
    return {
        "network": network,
        "external_id": handle,
        "handle": handle,
        "partner_id": partner.id,
        "link_state": "confirmed",
        "match_reason": "manual",
        **values,
    }


def confirmed_identity(env, partner, handle, network="mastodon", **values):
    """An identity a person confirmed for ``partner`` (see :func:`identity_values`)."""
    return env["social.crm.identity"].create(identity_values(partner, handle, network, **values))


def coupon_program(env, name="Social 10%", **values):
    """A Coupons program whose one reward is 10% off the order for one point."""
    reward = {
        "reward_type": "discount",
        "discount": 10,
        "discount_mode": "percent",
        "discount_applicability": "order",
        "required_points": 1,
    }
    return env["loyalty.program"].create(
        {
            "name": name,
            "program_type": "coupons",
            "trigger": "with_code",
            "applies_on": "current",
            "reward_ids": [(0, 0, reward)],
            **values,
        }
    )
