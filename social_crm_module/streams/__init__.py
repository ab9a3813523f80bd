"""Real-time streams: the push side of the one ingest (see :mod:`.base`).

- :mod:`.bluesky`: Jetstream (JSON) and ``com.atproto.sync.subscribeRepos`` (CBOR);
- :mod:`.mastodon`: the streaming API (user and hashtag streams) over a websocket;
- :mod:`.x`: the v2 filtered stream;
- :mod:`.listening`: the listening queries' matcher.

Each stream maps its events through the pull connector's own normaliser, so the
same post from the stream and from the pull has the same external id.
"""

from .base import Batch, Stream, backoff, reconnecting
from .listening import ListeningQuery, first_match

__all__ = ["Batch", "ListeningQuery", "Stream", "backoff", "first_match", "reconnecting"]
