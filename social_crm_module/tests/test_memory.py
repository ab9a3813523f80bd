"""Memory stays flat: walking pages keeps one page alive, not all of them."""

import gc
import weakref
from datetime import datetime, timedelta, timezone

import pytest

from social_crm_module.connectors.base import Connector
from social_crm_module.connectors.feed import FeedConnector
from social_crm_module.interaction import Interaction, Network, Page
from social_crm_module.testing import FakeServer, make_author, make_interaction

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
AUTHOR = make_author("u1", "feed", external_id="https://example.org/u/1")


class TrackedPage(Page):
    """A page that can be weakly referenced (Page itself has slots, no __weakref__)."""

    __slots__ = ("__weakref__",)


class CountingConnector(Connector):
    """An in-memory network: ``pages`` pages of ``size`` items, cursor = page number."""

    network = Network.FEED

    def __init__(self, pages, size):
        super().__init__(base_url="https://example.org/feed")
        self.pages, self.size = pages, size

    def fetch(self, cursor=None):
        number = int(cursor or 0)
        items = tuple(
            make_interaction(
                f"{number}-{i}",
                AUTHOR,
                "post",
                created_at=START + timedelta(seconds=number * self.size + i),
                text="x" * 200,
            )
            for i in range(self.size)
        )
        return TrackedPage(items=items, cursor=str(number + 1), has_more=number + 1 < self.pages)


def test_iter_pages_keeps_no_page_alive():
    connector = CountingConnector(pages=500, size=100)
    refs = []
    for number, page in enumerate(connector.iter_pages(None)):
        refs.append(weakref.ref(page))
        assert len(page) == 100
        del page
        # every page before the current one is already gone (refcounting, no gc needed)
        assert all(ref() is None for ref in refs[: number - 1])
    assert len(refs) == 500
    assert sum(ref() is not None for ref in refs) <= 1  # at most the generator's last
    gc.collect()
    assert all(ref() is None for ref in refs)


def test_the_check_catches_a_walk_that_keeps_pages():
    # the negative control: a consumer that hoards pages is seen by the same check
    connector = CountingConnector(pages=20, size=10)
    hoard = []
    refs = []
    for page in connector.iter_pages(None):
        hoard.append(page)
        refs.append(weakref.ref(page))
    assert sum(ref() is not None for ref in refs) == 20


def test_max_pages_stops_and_releases():
    connector = CountingConnector(pages=50, size=10)
    refs = [weakref.ref(page) for page in connector.iter_pages(None, max_pages=7)]
    assert len(refs) == 7
    gc.collect()
    assert all(ref() is None for ref in refs)


def _feed(start, count):
    entries = "".join(
        f"<entry><id>urn:e:{n}</id><title>Entry {n}</title>"
        f"<link href='https://example.org/e/{n}'/>"
        f"<updated>{(START + timedelta(minutes=n)).isoformat()}</updated>"
        f"<author><name>user{n % 97}</name></author>"
        f"<summary type='html'>&lt;p&gt;Body of entry {n}&lt;/p&gt;</summary></entry>"
        for n in range(start, start + count)
    )
    return f"<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>{entries}</feed>"


def _live(cls):
    return sum(1 for obj in gc.get_objects() if type(obj) is cls)


@pytest.fixture
def server():
    with FakeServer() as srv:
        yield srv


def test_feed_walk_holds_one_page_of_interactions(server):
    server.add("GET", "/feed", body=_feed(0, 400))
    connector = FeedConnector(base_url=server.url + "/feed", options={"limit": 40}, timeout=5)
    gc.collect()
    baseline = _live(Interaction)
    seen = []
    for page in connector.iter_pages(None):
        seen.extend(item.external_id for item in page)
        assert _live(Interaction) - baseline <= 40  # this page's, not the walk's
        assert _live(Page) <= 2
        del page
    assert len(seen) == len(set(seen)) == 400  # no gap, no repeat across 10 pages
    gc.collect()
    assert _live(Interaction) == baseline
