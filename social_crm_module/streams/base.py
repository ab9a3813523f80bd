"""What every stream shares: the batch it yields, the backoff, the websocket dial.

A stream is an iterator of :class:`Batch`: the interactions of the frames read
since the last batch, and the stream cursor right after them. The caller stores
the batch (through the same ingest as the pull) *and* the cursor in one
transaction, then asks for the next one. A stream:

- never sleeps: it waits on its socket with a timeout, and when nothing arrived
  within ``idle`` seconds it yields an empty batch (the caller's heartbeat);
- never retries: a dropped connection raises ``TransientError`` and refused
  credentials ``AuthError``; :func:`reconnecting` is the one place that waits
  (with :func:`backoff`) and dials again from the last cursor;
- bounds what it reads: a frame over ``max_frame`` bytes is skipped and counted
  (and a frame over twice that closes the connection before it is read);
- never lets one bad frame sink the batch: malformed frames are counted in
  ``Batch.page.skipped`` with a short reason, as the pull counts bad items.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import AuthError, ConnectorError, TransientError
from ..interaction import Interaction, Page

#: a frame bigger than this is skipped (bytes); twice this closes the connection
DEFAULT_MAX_FRAME = 256 * 1024
#: seconds without a frame before an empty batch is yielded (the heartbeat)
DEFAULT_IDLE = 1.0
#: most frames folded into one batch when they arrive faster than they are stored
DEFAULT_MAX_BATCH = 500
#: seconds to open the connection (TCP + TLS + handshake)
DEFAULT_OPEN_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Batch:
    """What a stream read since its last batch.

    ``page.items`` are the interactions (oldest first); ``cursor`` resumes the
    stream right after them (store it with them); ``listening`` maps the external
    id of each listening interaction to the key of the query it matched;
    ``frames`` counts every frame read (relevant or not); ``last_event_at`` is the
    network's time of the newest frame (epoch seconds), for the lag.
    """

    page: Page = field(default_factory=Page)
    cursor: str | None = None
    listening: dict[str, str] = field(default_factory=dict)
    frames: int = 0
    last_event_at: float | None = None

    @property
    def items(self) -> tuple[Interaction, ...]:
        return self.page.items


def backoff(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 60.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before reconnect number ``attempt`` (1, 2, ...).

    Exponential with "full jitter" (AWS architecture blog): a uniform draw in
    ``[0, min(cap, base * 2 ** (attempt - 1))]``, so listeners that lost the same
    server do not all come back in the same second. Pure: ``rand`` is injected.
    """
    if attempt < 1:
        return 0.0
    ceiling = min(cap, base * 2 ** min(attempt - 1, 62))
    return ceiling * min(1.0, max(0.0, rand()))


class Stream:
    """Base of the streams: subclasses implement :meth:`batches` for one connection."""

    #: a short name for logs and the account's health line
    name = "stream"

    def __init__(
        self,
        *,
        cursor: str | None = None,
        idle: float = DEFAULT_IDLE,
        max_frame: int = DEFAULT_MAX_FRAME,
        max_batch: int = DEFAULT_MAX_BATCH,
        open_timeout: float = DEFAULT_OPEN_TIMEOUT,
    ) -> None:
        if idle <= 0 or open_timeout <= 0:
            raise ValueError("a stream needs positive timeouts")
        if max_frame < 1024:
            raise ValueError("max_frame is at least 1024 bytes")
        #: where the next connection resumes (moved by every yielded batch)
        self.cursor = cursor
        self.idle = idle
        self.max_frame = max_frame
        self.max_batch = max(1, max_batch)
        self.open_timeout = open_timeout

    def batches(self) -> Iterator[Batch]:
        """Connect, resume at :attr:`cursor` and yield batches until the connection
        ends (``TransientError``) or the credentials are refused (``AuthError``)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection, if one is open (safe to call twice)."""


def reconnecting(
    stream: Stream,
    *,
    sleep: Callable[[float], Any] = time.sleep,
    rand: Callable[[], float] = random.random,
    on_error: Callable[[ConnectorError, int, float], Any] | None = None,
    max_attempts: int | None = None,
    base: float = 0.5,
    cap: float = 60.0,
) -> Iterator[Batch]:
    """Yield ``stream``'s batches for ever, dialling again after a dropped
    connection, from the cursor of the last batch yielded.

    The one place a listener waits: ``sleep(backoff(n))`` after the n-th failure
    in a row (reset by any batch that carried a frame). ``AuthError`` and errors
    that are not transient end the iteration by raising; ``on_error(error,
    attempt, delay)`` is told of each failure before the wait.
    """
    attempt = 0
    while True:
        try:
            for batch in stream.batches():
                if batch.frames:
                    attempt = 0
                yield batch
        except AuthError:
            raise
        except TransientError as error:
            attempt += 1
            if max_attempts is not None and attempt > max_attempts:
                raise
            delay = backoff(attempt, base=base, cap=cap, rand=rand)
            if on_error is not None:
                on_error(error, attempt, delay)
            sleep(delay)
        finally:
            stream.close()


def frame_size(message: str | bytes) -> int:
    """Bytes of a text or binary frame (text frames counted as UTF-8)."""
    return len(message) if isinstance(message, bytes) else len(message.encode())


def ws_connect(url: str, *, headers: dict[str, str] | None, open_timeout: float, max_frame: int):
    """Open a websocket with the library's limits set from ours.

    ``max_size`` is twice ``max_frame``: frames between the two are read and skipped
    (counted), bigger ones close the connection before they fill memory.
    """
    from websockets.exceptions import InvalidStatus, WebSocketException  # noqa: PLC0415
    from websockets.sync.client import connect  # noqa: PLC0415

    if not url.startswith(("ws://", "wss://")):
        raise ConnectorError("a stream URL must be ws:// or wss://")
    try:
        # entered by hand: a context manager in websockets >= 16, the connection
        # itself before; either way the caller closes it with ``close()``
        return connect(
            url,
            additional_headers=headers or None,
            open_timeout=open_timeout,
            close_timeout=2,
            max_size=2 * max_frame,
            ping_interval=20,
            ping_timeout=20,
            compression=None,
            user_agent_header="social_crm_module",
        ).__enter__()
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise AuthError(f"stream refused the credentials (HTTP {status})") from None
        raise TransientError(f"stream handshake answered HTTP {status}") from None
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise TransientError(f"stream connection failed: {type(exc).__name__}") from None


def ws_frames(ws, *, idle: float, max_batch: int) -> Iterator[list[str | bytes]]:
    """Group the frames of an open websocket: wait up to ``idle`` seconds for a
    first frame, then take what is already there (up to ``max_batch``). Yields an
    empty list on a silent ``idle``; raises ``TransientError`` when the
    connection ends (the frames read before are yielded first)."""
    from websockets.exceptions import ConnectionClosed  # noqa: PLC0415

    while True:
        frames: list[str | bytes] = []
        closed: str | None = None
        try:
            frames.append(ws.recv(timeout=idle))
            while len(frames) < max_batch:
                frames.append(ws.recv(timeout=0))
        except TimeoutError:
            pass
        except ConnectionClosed as exc:
            closed = _closed_reason(exc)
        if frames or closed is None:
            yield frames
        if closed is not None:
            raise TransientError(f"stream closed: {closed}")


def _closed_reason(exc: Any) -> str:
    codes = [getattr(getattr(exc, side, None), "code", None) for side in ("sent", "rcvd")]
    if 1009 in codes:
        return "a frame over the size limit"
    code = codes[1] or codes[0]
    if code == 1009:
        return "a frame over the size limit"
    if code is not None:
        return f"code {code}"
    return "connection lost"
