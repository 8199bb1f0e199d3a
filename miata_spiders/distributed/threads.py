"""The threads scheduled in this crawl, shared by its workers (the spider's ``_scheduled_threads``).

A standalone crawl remembers in memory which threads it has scheduled, so a thread listed twice (a
sticky on every listing page, a thread bumped onto the next page while the walk goes on) is fetched
once. With several workers the crawl state is shared too: a worker reading a listing page would find
a thread another worker is crawling right now half-recorded, and "resume" it, fetching its pages a
second time. A Redis set (``threads``) keeps the memory shared; it is a set-like stand-in, so the
spider's routing code does not change.
"""

from __future__ import annotations

from redis.exceptions import RedisError


class SharedThreadSet:
    def __init__(self, crawler):
        self.crawler = crawler

    def _redis(self):
        scheduler = self.crawler.engine._slot.scheduler  # its connection and keys (created after the spider)
        return scheduler.server, scheduler.keys.threads

    def __contains__(self, thread_id) -> bool:
        server, key = self._redis()
        try:
            return bool(server.sismember(key, thread_id))
        except RedisError:
            # Redis restarting: say "not scheduled" rather than fail the listing page; the request's
            # fingerprint is still checked against the shared dupefilter when it is pushed.
            return False

    def add(self, thread_id) -> None:
        server, key = self._redis()
        try:
            server.sadd(key, thread_id)
        except RedisError:
            pass  # as above: the dupefilter remains
