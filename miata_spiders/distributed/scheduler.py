"""The scheduler of a worker: scrapy-redis's, with a leased frontier, one seeding and a shared end.

What scrapy-redis 0.9.1 does not do, and this subclass adds (each with why):

* **Leases** (``queue.LeasedQueue``): a popped request stays in Redis until its outcome is durable, so
  ``kill -9`` loses nothing. A request is *handled* once Scrapy is done with it (downloaded, parsed,
  its follow-up requests pushed, its posts through the item pipelines: the engine has dropped it from
  its in-progress set); its lease is then queued behind the posts buffered in the Parquet writer
  (``page_progress``) and acknowledged when the part holding them is renamed into place
  (``part_committed``). A retry or redirect of a leased request replaces the lease in one transaction.
* **Start once**: the start request is pushed only by the first worker (``SEED`` script); later
  workers join the frontier. ``dont_filter`` requests (a thread resumed from the crawl state) are
  fetched once per crawl across workers, not once per worker.
* **A shared end**: a worker's queue is "empty" only when the frontier is empty *and* no worker holds
  a lease; then every worker closes ``finished`` and the first to see it deletes the crawl's keys
  (the crawl stays finished for ``MIATA_REDIS_FINISHED_TTL`` seconds, so a late worker exits at once
  instead of starting the next crawl). If Redis has lost the crawl (restarted without its data) the
  workers stop with ``shutdown``: run the same command again, the crawl state resumes it.
* **Liveness**: leases and the worker's key are renewed every ``lease/6`` seconds; a worker that
  stops renewing is dead after ``lease`` seconds and its leases go back to the frontier.

The frontier is polled: Scrapy only asks a scheduler for requests after its own events, and requests
pushed by *other* workers are no event of this one, so a starved worker pokes its engine 4 times a second.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
import warnings
from dataclasses import dataclass

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from miata_spiders.blocking import stop_crawl, stopping
from miata_spiders.distributed import LEASE_META, redis_url
from miata_spiders.distributed.keys import CrawlKeys
from miata_spiders.distributed.queue import LeasedQueue
from miata_spiders.errors import UNAVAILABLE, MiataError
from pipelines.signals import page_progress, part_committed

logger = logging.getLogger(__name__)

# scrapy-redis 0.9.1's next_request/enqueue_request (which we call) count stats with
# inc_value(spider=...), deprecated since Scrapy 2.13: one warning per worker log says nothing useful.
warnings.filterwarnings("ignore", message=r"Passing a 'spider' argument to StatsCollector\.inc_value\(\)",
                        category=ScrapyDeprecationWarning, module=r"scrapy_redis\.scheduler")

#: close reasons every worker of the crawl stops with once one worker has stopped with them
BROADCAST_REASONS = ("site_blocking",)
POLL_SECONDS = 0.25


class RedisUnavailableError(MiataError):
    """The shared crawl's Redis cannot be reached when the worker starts."""

    exit_status = UNAVAILABLE
    close_reason = "redis_unavailable"


@dataclass(frozen=True)
class LeaseDone:
    """"This leased request is handled": queued in the Parquet writer behind the posts it produced
    (like a ThreadProgress) and acknowledged in Redis once they are durable."""

    site: str
    lease: str


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class LeasedScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler):
        try:
            instance = super().from_crawler(crawler)  # connects and pings REDIS_URL (set by the add-on)
        except RedisError as error:
            raise RedisUnavailableError(f"cannot reach Redis at MIATA_REDIS_URL={redis_url(crawler.settings)!r}: "
                                        f"{error}") from error
        instance.crawler = crawler
        settings = crawler.settings
        instance.prefix = settings.get("MIATA_REDIS_PREFIX", "miata")
        instance.lease_seconds = settings.getfloat("MIATA_REDIS_LEASE_SECONDS", 60.0)
        instance.finished_ttl = settings.getfloat("MIATA_REDIS_FINISHED_TTL", 600.0)
        if instance.lease_seconds < 3:
            raise ValueError(f"MIATA_REDIS_LEASE_SECONDS must be at least 3, got {instance.lease_seconds}")
        instance.worker_id = worker_id()
        return instance

    # --- lifecycle ---------------------------------------------------------------------------
    def open(self, spider):
        # Not scrapy-redis's open(): our queue takes the crawl's keys and the lease settings, and the
        # dupefilter's key is the site's (scrapy-redis would build both from spider-name patterns).
        self.spider = spider
        self.keys = CrawlKeys(self.prefix, spider.name)
        self.queue = LeasedQueue(self.server, spider, self.keys.frontier, self.serializer, keys=self.keys,
                                 lease_seconds=self.lease_seconds, worker_id=self.worker_id)
        self.df = RFPDupeFilter(self.server, key=self.keys.seen, debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        self._leased: dict[str, object] = {}  # lease -> request object the engine is working on
        self._awaiting: set[str] = set()  # handled, waiting for their posts to be durable
        self._ack_retry: set[str] = set()  # durable, but Redis was unreachable when acknowledging them
        self._unpushed: list[tuple] = []  # (request, lease it replaces) Redis was unreachable for
        self._starved = False
        self._trouble_logged = False
        self.crawler.signals.connect(self._durable, signal=part_committed)
        self.crawler.signals.connect(self._idle, signal=signals.spider_idle)  # after the spider's handler
        frontier, leases = self.queue.pending()
        self._beat(check_stop=False)  # the engine is not running yet: the budget's gate checks the stop
        logger.info("worker %s joins the shared crawl of %s at %s (%d requests in the frontier, %d leased)",
                    self.worker_id, spider.name, redis_url(self.crawler.settings), frontier, leases)
        self._poll = task.LoopingCall(self._tick)
        self._poll.start(POLL_SECONDS, now=False)
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.lease_seconds / 6, now=False)

    def close(self, reason):
        for timer in (self._poll, self._heartbeat):
            if timer.running:
                timer.stop()
        unfinished = [*self._leased, *self._awaiting]
        try:
            if unfinished:
                # Requests this worker took but did not finish durably: back to the frontier now rather
                # than when their leases expire (their posts, if written, are dropped by dedupe).
                released = self.queue.release(unfinished)
                self.stats.inc_value("miata/redis/released_at_close", released)
                logger.info("worker %s gives %d unfinished requests back to the shared frontier", self.worker_id, released)
            if reason in BROADCAST_REASONS:
                self.server.set(self.keys.stop, reason)
                logger.error("every worker of the shared crawl of %s stops (%s); `redis-cli DEL %s` before crawling "
                             "the site again", self.spider.name, reason, self.keys.stop)
            pipe = self.server.pipeline(transaction=True)
            pipe.delete(self.keys.worker(self.worker_id))
            pipe.srem(self.keys.workers, self.worker_id).srem(self.keys.idle, self.worker_id)
            pipe.execute()
        except RedisError as error:
            logger.warning("Redis unreachable while closing (%s): unfinished leases return when they expire", error)
        self.stats.set_value("miata/redis/leases_expired_put_back", self.queue.expired_put_back)

    # --- scheduling --------------------------------------------------------------------------
    def enqueue_request(self, request):
        lease = request.meta.pop(LEASE_META, None)
        if self._unpushed:  # keep the order: Redis is (or just was) unreachable
            self._unpushed.append((request, lease))
            return True
        try:
            return self._enqueue(request, lease)
        except RedisError as error:
            # Redis is down (restarting?): keep the request here and push it when Redis is back. No
            # lease of this worker is acknowledged before then (_ack), so a crash meanwhile loses nothing:
            # the request that produced this one goes back to the frontier.
            self._trouble(error)
            self._unpushed.append((request, lease))
            return True

    def _enqueue(self, request, lease) -> bool:
        if lease is not None:
            # A retry, redirect or fresh re-fetch of a request this worker leased: it takes the
            # lease's place in the frontier (and the dupefilter must not drop it).
            self.queue.push(request, replaces=lease)
            self._leased.pop(lease, None)
            self.stats.inc_value("miata/redis/requeued")
            return True
        if request.meta.get("is_start_request"):
            return self._seed(request)
        if request.dont_filter and not self.server.sadd(self.keys.forced, self.df.request_fingerprint(request)):
            self.stats.inc_value("miata/redis/forced_duplicates")
            return False
        return super().enqueue_request(request)

    def _push_unpushed(self) -> bool:
        """Push what Redis could not take earlier, in order; True once nothing is left."""
        while self._unpushed:
            request, lease = self._unpushed[0]
            try:
                self._enqueue(request, lease)
            except RedisError as error:
                self._trouble(error)
                return False
            self._unpushed.pop(0)
        return True

    def _seed(self, request) -> bool:
        crawl_id = f"{self.worker_id}@{uuid.uuid4().hex[:8]}"
        if self.queue.seed(request, crawl_id, self.df.request_fingerprint(request)):
            self.stats.set_value("miata/redis/seeded", 1)
            logger.info("worker %s seeds a new shared crawl of %s (%s)", self.worker_id, self.spider.name, crawl_id)
            return True
        logger.info("worker %s: the shared crawl of %s is already seeded; not requesting %s again",
                    self.worker_id, self.spider.name, request.url)
        return False

    def next_request(self):
        if stopping(self.crawler):
            return None
        try:
            request = super().next_request()  # LeasedQueue.pop: the lease id is in the request's meta
        except RedisError as error:
            self._trouble(error)
            return None
        self._starved = request is None
        if request is not None:
            self._leased[request.meta[LEASE_META]] = request
        return request

    def has_pending_requests(self):
        # False lets the engine go idle: the spider's idle handlers (moved-thread stubs) run, then
        # _idle() decides with the other workers whether the crawl is over.
        if self._leased or self._awaiting or self._unpushed:
            return True
        try:
            frontier, leases = self.queue.pending()
        except RedisError as error:
            self._trouble(error)
            return True
        return bool(frontier or leases)

    def _idle(self) -> None:
        """spider_idle, after the spider's own handlers: close only when the whole crawl is over."""
        if stopping(self.crawler):
            return
        try:
            end = self.queue.finish_check(self.finished_ttl)
        except RedisError as error:
            self._trouble(error)
            raise DontCloseSpider from None
        if end == "finished":
            return
        if end == "lost":
            logger.error("Redis no longer holds the shared crawl of %s (restarted without its data?): stopping; "
                         "run the same command again, the crawl state resumes it", self.spider.name)
            stop_crawl(self.crawler, "shutdown")
            return
        self._starved = True  # 'pending' (a stub just pushed) or 'waiting' for other workers: poll on
        raise DontCloseSpider

    def __len__(self):
        return len(self.queue)

    # --- leases --------------------------------------------------------------------------------
    def _tick(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        if slot is None:
            return
        # Scrapy has no signal for "done with this request"; its engine keeps every request it works on
        # in the slot's in-progress set until the response's callback output and items are processed.
        for lease, request in list(self._leased.items()):
            if request not in slot.inprogress:
                del self._leased[lease]
                self._handled(lease)
        if self._unpushed:
            self._push_unpushed()
        if self._starved:
            slot.nextcall.schedule()

    def _handled(self, lease: str) -> None:
        if stopping(self.crawler):
            # Not acknowledged: its request may have been dropped unfetched by the stop.
            self._awaiting.add(lease)
            return
        self._awaiting.add(lease)
        receivers = self.crawler.signals.send_catch_log(page_progress, progress=LeaseDone(self.spider.name, lease))
        if not receivers:  # no dataset writer in this crawl: nothing to wait for
            self._ack([lease])

    def _durable(self, part=None, progress=(), **kwargs) -> None:
        leases = [marker.lease for marker in progress if isinstance(marker, LeaseDone)]
        if leases:
            self._ack(leases)

    def _ack(self, leases: list[str]) -> None:
        if not self._push_unpushed():
            # A request some handled response produced is not in Redis yet: acknowledging that response
            # first could lose it. Acknowledged at a later heartbeat.
            self._ack_retry.update(leases)
            return
        try:
            acked = self.queue.ack(leases)
        except RedisError as error:
            self._trouble(error)
            self._ack_retry.update(leases)  # still held (and renewed): acknowledged at the next heartbeat
            return
        self._ack_retry.difference_update(leases)
        self._awaiting.difference_update(leases)
        self.stats.inc_value("miata/redis/acked", acked)
        if acked < len(leases):
            # Its lease had expired (this worker stalled longer than MIATA_REDIS_LEASE_SECONDS): another
            # worker may be fetching the page again; dedupe drops its posts.
            self.stats.inc_value("miata/redis/acked_after_expiry", len(leases) - acked)

    def _beat(self, check_stop: bool = True) -> None:
        try:
            pipe = self.server.pipeline(transaction=False)
            # Alive for half a lease: a dead worker's claims (dedupe.py) are free before its leases expire.
            pipe.set(self.keys.worker(self.worker_id), self.spider.name, px=int(self.lease_seconds * 500))
            pipe.sadd(self.keys.workers, self.worker_id)
            pipe.get(self.keys.stop)
            _, _, stop = pipe.execute()
            held = [*self._leased, *self._awaiting]
            if held:
                self.queue.renew(held)
        except RedisError as error:
            self._trouble(error)
            return
        self._trouble_logged = False
        if self._ack_retry:
            self._ack(sorted(self._ack_retry))
        reason = stop.decode() if isinstance(stop, bytes) else stop
        if reason and check_stop and not stopping(self.crawler):
            logger.error("another worker stopped the shared crawl of %s (%s): stopping too", self.spider.name, reason)
            stop_crawl(self.crawler, reason)

    def _trouble(self, error: Exception) -> None:
        if not self._trouble_logged:
            self._trouble_logged = True
            logger.warning("Redis unreachable (%s): waiting for it; leases this worker holds are kept until they "
                           "expire", error)
        self.stats.inc_value("miata/redis/errors")
