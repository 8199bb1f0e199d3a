"""The Redis keys of one site's shared crawl, in one place (docs/scaling.md describes each)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrawlKeys:
    prefix: str
    site: str

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{self.site}:{name}"

    # --- frontier and leases (scheduler.py) ---
    @property
    def frontier(self) -> str:  # sorted set: encoded request -> -priority
        return self._key("frontier")

    @property
    def leases(self) -> str:  # sorted set: lease id -> deadline (Redis clock, seconds)
        return self._key("leases")

    @property
    def lease_data(self) -> str:  # hash: lease id -> encoded request
        return self._key("lease:request")

    @property
    def lease_score(self) -> str:  # hash: lease id -> its frontier score, to put it back where it was
        return self._key("lease:score")

    @property
    def lease_owner(self) -> str:  # hash: lease id -> worker id (for people watching the crawl)
        return self._key("lease:owner")

    @property
    def lease_seq(self) -> str:  # counter: lease ids
        return self._key("lease:seq")

    @property
    def seen(self) -> str:  # set: request fingerprints (scrapy-redis's dupefilter)
        return self._key("seen")

    @property
    def forced(self) -> str:  # set: fingerprints of dont_filter requests, once per crawl across workers
        return self._key("forced")

    @property
    def seeded(self) -> str:  # string: id of the running crawl, set by the worker that seeded it
        return self._key("seeded")

    @property
    def done(self) -> str:  # string with a TTL: id of the crawl that just finished
        return self._key("done")

    def worker(self, worker_id: str) -> str:  # string with a TTL: this worker is alive
        return self._key(f"worker:{worker_id}")

    @property
    def worker_prefix(self) -> str:
        return self._key("worker:")

    @property
    def workers(self) -> str:  # set: ids of the workers that joined (dead ones removed at the end check)
        return self._key("workers")

    @property
    def idle(self) -> str:  # set: workers that found nothing to do, their moved-stub follow-ups included
        return self._key("idle")

    # --- politeness (politeness.py) ---
    @property
    def inflight(self) -> str:  # sorted set: request token -> expiry; its size is the site's concurrency
        return self._key("budget:inflight")

    @property
    def next_at(self) -> str:  # string: Redis time before which no request to the site may start
        return self._key("budget:next_at")

    @property
    def pause_until(self) -> str:  # string: Redis time until which the site asked us to wait (Retry-After)
        return self._key("budget:pause_until")

    @property
    def stop(self) -> str:  # string: close reason every worker stops with (site_blocking)
        return self._key("stop")

    # --- dedupe (dedupe.py) and crawl state (progress.py) ---
    @property
    def versions(self) -> str:  # set: "post_id:hash" of post versions durably written in this crawl
        return self._key("posts:durable")

    @property
    def claims(self) -> str:  # hash: "post_id:hash" -> worker writing it (buffered, not durable yet)
        return self._key("posts:claims")

    @property
    def chained(self) -> str:  # set: "thread:page" durable together with every earlier page of its chain
        return self._key("pages:chained")

    @property
    def parked(self) -> str:  # hash: "thread:previous page" -> the durable page waiting for it
        return self._key("pages:parked")

    @property
    def threads(self) -> str:  # set: thread ids some worker has scheduled in this crawl
        return self._key("threads")

    def per_crawl(self) -> list[str]:
        """Keys that belong to one crawl and are deleted when it finishes."""
        return [self.seeded, self.seen, self.forced, self.lease_seq, self.versions, self.claims, self.chained,
                self.parked, self.threads, self.idle, self.next_at, self.pause_until]
