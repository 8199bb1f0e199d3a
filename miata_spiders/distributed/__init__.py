"""Several workers, one crawl: Redis shares the frontier, the politeness budget and the dedupe set.

``-s MIATA_REDIS_URL=redis://host:6379/0`` (or the environment variable of that name) turns a forum
spider into a worker of the site's shared crawl (the add-on in ``addon.py`` switches the parts below
on; without the setting nothing of this package is loaded). Built on scrapy-redis 0.9.1, extended in
thin subclasses where it falls short:

* ``scheduler.py``: the first worker seeds the start request; a popped request is *leased* (a
  deadline, renewed while its worker lives) and acknowledged only once its posts are durably in the
  dataset, so a worker killed with ``kill -9`` loses nothing: its leases expire and are crawled by
  another worker. The crawl is over when the frontier is empty and no lease is outstanding.
* ``politeness.py``: one request budget per site (concurrency and interval) held in Redis; a
  Retry-After or a site-blocking stop seen by one worker pauses or stops them all.
* ``dedupe.py``: a post version is written by exactly one worker (claims in Redis).
* ``progress.py``: the crawl state records a thread page only once it and every earlier page of the
  thread fetched in this crawl are durable, whichever worker wrote them.

Every Redis key of a site's crawl starts with ``<MIATA_REDIS_PREFIX>:<site>:`` (``keys.py``); docs/scaling.md
says what each one holds.
"""

from __future__ import annotations

import os

#: request.meta key holding the lease id of a request popped from the shared frontier
LEASE_META = "miata_lease"


def redis_url(settings) -> str:
    """The shared crawl's Redis URL ("" = a standalone crawl): the setting, else the environment."""
    return (settings.get("MIATA_REDIS_URL") or os.environ.get("MIATA_REDIS_URL") or "").strip()


def worker_mode(settings) -> bool:
    return bool(redis_url(settings))
