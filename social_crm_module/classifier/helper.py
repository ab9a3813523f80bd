"""Classify on another core: a helper process beside the one that stores.

A sync page waits on PostgreSQL for about half of its time, and the classifier is
pure Python: in one process the two take turns, and a thread would not help (the
classifier holds the GIL; every query the storing thread comes back from then waits
up to a switch interval for it). :func:`start` sends a batch to a helper process
that runs the same built-in model and returns at once; the caller goes on with its
queries and calls the returned function when it needs the results.

- One helper per thread that asks (a prefork worker has one; a threaded server's
  cron and request threads each their own), started on first use with this
  interpreter (``python -m social_crm_module.classifier.helper``, the engine only,
  no Odoo), so it loads the model once and then serves page after page.
- Newline-delimited JSON over the helper's stdin and stdout: ``{"model", "texts"}``
  in, ``{"results": [[intent, polarity, label, confidence], ...]}`` out.
- Only the built-in models (``learned``, ``vader``) go to a helper: a model
  registered by someone else, or one replaced, may not exist in another process.
  So do batches below :data:`MIN_BATCH` texts (a thread costs more than it saves).
- Anything wrong (the helper cannot start, dies, answers nonsense, takes longer
  than :data:`DEADLINE_S`) and the batch is classified here, in this process, and
  the helper is left alone for :data:`BACKOFF_S`: a result is never lost, only the
  speed-up. The helper exits when its stdin closes (its parent died) or after
  :data:`IDLE_S` without work.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import sentiment

_logger = logging.getLogger(__name__)

#: batches smaller than this are classified in the calling process
MIN_BATCH = 16
#: the longest wait for a batch before it is classified here instead
DEADLINE_S = 60.0
#: after a failure, how long batches stay in this process
BACKOFF_S = 300.0
#: a helper without work for this long exits (the next batch starts another)
IDLE_S = 600.0
#: the built-in models a helper can run (see :func:`_offloadable`)
BUILT_IN = ("learned", "vader")

_ENGINE_PARENT = str(Path(__file__).resolve().parents[2])
_local = threading.local()
_built_in = {name: sentiment.get_model(name) for name in BUILT_IN}
_disabled_until = 0.0


def start(texts: Sequence[str | None]) -> Callable[[], list[sentiment.Classification]]:
    """Begin classifying ``texts`` with the model in use; return the function that
    waits for and returns the results (the same as ``sentiment.classify_many``)."""
    texts = list(texts)
    model = sentiment.model_in_use()
    helper = _helper() if _offloadable(model, texts) else None
    if helper is not None:
        try:
            ticket = helper.send(model, texts)
        except (OSError, ValueError) as error:
            _give_up(helper, error)
        else:
            return lambda: _collect(helper, ticket, texts)
    results = sentiment.classify_many(texts)
    return lambda: results


def warm() -> None:
    """Start this thread's helper now (it loads the model while the caller fetches
    its first page), if batches would go to one."""
    if _offloadable(sentiment.model_in_use(), [None] * MIN_BATCH):
        _helper()


def _offloadable(model: str, texts: list) -> bool:
    return (
        os.name == "posix"  # select() on a pipe
        and len(texts) >= MIN_BATCH
        and time.monotonic() >= _disabled_until
        and model in _built_in
        and sentiment.get_model(model) is _built_in[model]
    )


def _collect(helper: _Helper, ticket: int, texts: list) -> list[sentiment.Classification]:
    try:
        return helper.receive(ticket, len(texts))
    except (OSError, ValueError, TimeoutError) as error:
        _give_up(helper, error)
        return sentiment.classify_many(texts)


def _helper() -> _Helper | None:
    helper = getattr(_local, "helper", None)
    # a forked child (a prefork worker) must not share its parent's pipe
    if helper is not None and (helper.pid != os.getpid() or not helper.alive()):
        helper.close()
        helper = _local.helper = None
    if helper is None:
        try:
            helper = _local.helper = _Helper()
        except OSError as error:
            _give_up(None, error)
            return None
    return helper


def _give_up(helper: _Helper | None, error: BaseException) -> None:
    global _disabled_until  # noqa: PLW0603 - one process-wide back-off, by design
    _logger.warning(
        "classifier helper unavailable (%s): classifying in this process for %d s",
        error,
        BACKOFF_S,
    )
    _disabled_until = time.monotonic() + BACKOFF_S
    if helper is not None:
        helper.close()
    _local.helper = None


class _Helper:
    """One helper process and the pipe to it; used by one thread."""

    def __init__(self):
        self.pid = os.getpid()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([_ENGINE_PARENT, *sys.path]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "social_crm_module.classifier.helper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=_ENGINE_PARENT,
        )
        self.answers = _Lines(self.process.stdout.fileno())
        self.sent = 0  # batches sent
        self.received = 0  # answers read (an abandoned batch's too)

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, model: str, texts: list) -> int:
        line = json.dumps({"model": model, "texts": texts}, ensure_ascii=False) + "\n"
        self.process.stdin.write(line.encode("utf-8"))
        self.process.stdin.flush()
        self.sent += 1
        return self.sent

    def receive(self, ticket: int, count: int) -> list[sentiment.Classification]:
        # the answers come in order: read past those of batches nobody waited for
        deadline = time.monotonic() + DEADLINE_S
        while self.received < ticket:
            answer = self.answers.readline(deadline)
            self.received += 1
        payload = json.loads(answer)
        if "error" in payload:
            raise ValueError(payload["error"])
        rows = payload["results"]
        if len(rows) != count:
            raise ValueError(f"{len(rows)} results for {count} texts")
        return [
            sentiment.Classification(str(i), float(p), str(label), confidence=float(c))
            for i, p, label, c in rows
        ]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)
        self.process.stdout.close()


class _Lines:
    """Lines from a file descriptor, each waited for until a deadline (a buffered
    file would hide a line it read ahead from ``select``)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""

    def readline(self, deadline: float) -> bytes:
        """The next line; b"" at the end of the stream; TimeoutError at the deadline."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            ready, _w, _x = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    line, self.buffer = self.buffer, b""
                    return line
                self.buffer += chunk
        line, _nl, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


def serve(stdin_fd: int = 0, stdout=None, idle_s: float = IDLE_S) -> None:
    """The helper's loop: a batch per line in, its results per line out; returns at
    the end of its input or after ``idle_s`` without a batch."""
    stdout = stdout or sys.stdout.buffer
    requests = _Lines(stdin_fd)
    while True:
        try:
            line = requests.readline(time.monotonic() + idle_s)
        except TimeoutError:
            return  # idle: the next batch starts another helper
        if not line.strip():
            return  # the parent closed the pipe, or died
        try:
            request = json.loads(line)
            sentiment.use_model(request["model"])
            results = sentiment.classify_many(request["texts"])
            answer = {"results": [[r.intent, r.polarity, r.label, r.confidence] for r in results]}
        except Exception as error:  # reported to the parent, which falls back
            answer = {"error": f"{type(error).__name__}: {error}"}
        stdout.write(json.dumps(answer).encode("utf-8") + b"\n")
        stdout.flush()


def main() -> None:
    """Load the default model, then serve on the original stdout (anything printed
    goes to stderr instead)."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sentiment.classify("ready")
    serve(0, answers)


if __name__ == "__main__":
    main()
