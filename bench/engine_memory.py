"""Memory of the engine while walking many feed items: it must stay flat.

Walks N feed items through the real feed connector (HTTP through the choke point,
lxml parsing, cursor of seen ids) against a FakeServer on 127.0.0.1, one page of
``--page`` entries per poll, each poll walked with ``Connector.iter_pages``. Prints
the peak of Python allocations (tracemalloc) for 10,000 and for 100,000 items and
their ratio: flat means about 1. libxml2's own allocations are outside
tracemalloc; the process's peak RSS is printed too.

No Odoo needed::

    python3 bench/engine_memory.py            # 10k then 100k
    python3 bench/engine_memory.py --sizes 1000 5000 --page 250
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from social_crm_module.connectors.feed import FeedConnector
from social_crm_module.testing import FakeServer

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def feed_document(start: int, count: int) -> bytes:
    """An Atom feed of ``count`` entries numbered from ``start``, newest first."""
    entries = [
        "<entry>"
        f"<id>tag:reviews.example,2026:{n}</id>"
        f"<title>Review {n}: the roast is good</title>"
        f'<link rel="alternate" href="https://reviews.example/r/{n}"/>'
        f"<published>{(START + timedelta(seconds=n)).isoformat()}</published>"
        f"<author><name>Customer {n % 997}</name>"
        f"<uri>https://reviews.example/u/{n % 997}</uri></author>"
        f'<summary type="html">&lt;p&gt;Review number {n}, four stars &amp;amp; '
        f"a &lt;b&gt;kind&lt;/b&gt; word for support.&lt;/p&gt;</summary>"
        "</entry>"
        for n in reversed(range(start, start + count))
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Reviews</title>'
        '<link rel="alternate" href="https://reviews.example/"/>' + "".join(entries) + "</feed>"
    ).encode()


def walk(server: FakeServer, total: int, page_size: int) -> tuple[int, int, float]:
    """Walk ``total`` items; return (items seen, tracemalloc peak bytes, seconds)."""
    connector = FeedConnector(base_url=server.url + "/feed.atom", timeout=10)
    cursor = None
    seen = 0
    last_id = ""
    gc.collect()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    for start in range(0, total, page_size):
        # each poll finds the next ``page_size`` entries published since the last one
        server.reset()
        server.add(
            "GET",
            "/feed.atom",
            body=feed_document(start, min(page_size, total - start)),
            headers={"ETag": f'"p{start}"', "Content-Type": "application/atom+xml"},
        )
        for page in connector.iter_pages(cursor):
            for item in page:
                seen += 1
                last_id = item.external_id
            cursor = page.cursor
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    server.reset()
    if seen != total or not last_id.endswith(f":{total - 1}"):
        raise SystemExit(f"walked {seen} items of {total}: gap or repeat")
    return seen, peak, elapsed


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--page", type=int, default=500, help="entries per feed document")
    args = parser.parse_args()

    tracemalloc.start()
    results = []
    with FakeServer() as server:
        walk(server, args.page * 2, args.page)  # warm up imports, sockets, parser
        for size in args.sizes:
            items, peak, elapsed = walk(server, size, args.page)
            results.append(peak)
            print(
                f"{items:>8} items in {size // args.page} pages of {args.page}: "
                f"peak {peak / 1024 / 1024:6.2f} MiB (tracemalloc), "
                f"{elapsed:6.1f} s, {items / elapsed:8.0f} items/s, "
                f"process max RSS {maxrss_mb():6.1f} MiB"
            )
    tracemalloc.stop()
    if len(results) >= 2:
        ratio = results[-1] / results[0]
        verdict = "flat" if ratio < 1.5 else "GROWS"
        print(f"peak ratio {args.sizes[-1]} / {args.sizes[0]} items: {ratio:.2f} ({verdict})")


if __name__ == "__main__":
    main()
