"""One politeness budget per site for every worker of a shared crawl, held in Redis.

Scrapy's budget (``CONCURRENT_REQUESTS_PER_DOMAIN``, ``DOWNLOAD_DELAY`` tuned by AutoThrottle, the
Retry-After pause of ``BackoffRetryMiddleware``) lives in one process: N workers would put N times the
load on the forum. This downloader middleware, the last before the download itself, asks Redis for a
place before every request (``ACQUIRE`` script, Redis's clock):

* at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests in flight across workers (a sorted set of
  tokens; a token is returned as soon as its response or failure is back, and expires after
  ``DOWNLOAD_TIMEOUT`` + 30 s, or as soon as its worker's liveness key has, if its worker died holding it);
* consecutive requests start at least the worker's current delay apart (``DOWNLOAD_DELAY``, raised by
  AutoThrottle, jittered like Scrapy's by ``DOWNLOAD_DELAY_JITTER``): the site sees one crawler's rate;
* a 429/503 pauses the site for every worker (its Retry-After, else ``MIATA_RETRY_BACKOFF_BASE``);
* a site-blocking stop of one worker (the ``stop`` key) stops every worker at its next request.

With ``MIATA_REDIS_SHARED_BUDGET = False`` only the pause and the stop are shared: each worker keeps its
own Scrapy budget (N workers, N times the load; for benchmarks and sites that allow it).
"""

from __future__ import annotations

import asyncio
import logging
import random

from redis.exceptions import RedisError
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import sleep

from miata_spiders.blocking import stop_crawl, stopping
from miata_spiders.distributed import worker_mode
from miata_spiders.distributed.keys import CrawlKeys
from miata_spiders.distributed.queue import _NOW
from miata_spiders.middlewares import SITE_BUSY_STATUSES, parse_retry_after, server_now

logger = logging.getLogger(__name__)

TOKEN_META = "miata_budget_token"

# KEYS: inflight, next_at, pause_until, stop. ARGV: token ("<worker>|<n>"), limit, interval, token ttl,
# shared (1/0), worker key prefix. A token of a dead worker (its worker:<id> key expired) is freed at
# once rather than after its ttl: a kill -9 does not cost the site a place for DOWNLOAD_TIMEOUT.
# Returns {'go'}, {'wait', seconds} or {'stop', reason}. Numbers travel as strings: Lua numbers would
# be truncated to integers on their way out.
_ACQUIRE = _NOW + """
local stop = redis.call('GET', KEYS[4])
if stop then return {'stop', stop} end
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then return {'wait', tostring(pause - now)} end
if ARGV[5] == '0' then return {'go'} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, token in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local worker = string.match(token, '^(.*)|')
  if worker and redis.call('EXISTS', ARGV[6] .. worker) == 0 then redis.call('ZREM', KEYS[1], token) end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {'wait', 'full'} end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then return {'wait', tostring(nxt - now)} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('SET', KEYS[2], tostring(now + tonumber(ARGV[3])))
return {'go'}
"""

# KEYS: pause_until. ARGV: seconds. The pause only ever grows.
_PAUSE = _NOW + """
local until_ = now + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then redis.call('SET', KEYS[1], tostring(until_)) end
return tostring(until_)
"""


class SharedPolitenessMiddleware:
    def __init__(self, crawler):
        settings = crawler.settings
        if not worker_mode(settings):
            raise NotConfigured("not a worker of a shared crawl (MIATA_REDIS_URL unset)")
        self.crawler = crawler
        self.shared_budget = settings.getbool("MIATA_REDIS_SHARED_BUDGET", True)
        self.limit = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.floor = settings.getfloat("DOWNLOAD_DELAY")
        self.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER")
        self.token_ttl = settings.getfloat("DOWNLOAD_TIMEOUT") + 30
        self.backoff_base = settings.getfloat("MIATA_RETRY_BACKOFF_BASE", 2.0)
        self.retry_after_max = settings.getfloat("MIATA_RETRY_AFTER_MAX", 600.0)
        self.rng = random.Random()
        self._server = None
        self._tokens = 0
        self._turn: asyncio.Lock | None = None  # created in the crawl's event loop

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _redis(self):
        """The scheduler's connection and keys (one connection per worker)."""
        if self._server is None:
            scheduler = self.crawler.engine._slot.scheduler
            self._server, self.keys = scheduler.server, scheduler.keys
            self._acquire = self._server.register_script(_ACQUIRE)
            self._pause = self._server.register_script(_PAUSE)
        return self._server

    def _interval(self, request) -> float:
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        delay = max(self.floor, slot.delay if slot is not None else 0.0)  # AutoThrottle tunes slot.delay
        return delay * self.rng.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else delay

    async def process_request(self, request):
        self._redis()
        if self._turn is None:
            self._turn = asyncio.Lock()
        # One request of this worker at a time asks Redis; the others wait their turn here. Without it
        # every request queued in the worker (up to CONCURRENT_REQUESTS) woke at each opening, one won
        # and the rest asked again: 8 Redis round trips per request, and a slower crawl (bench).
        async with self._turn:
            await self._wait_for_place(request)

    async def _wait_for_place(self, request) -> None:
        self._tokens += 1
        token = f"{self.crawler.engine._slot.scheduler.worker_id}|{self._tokens}"
        waited = 0.0
        while True:
            try:
                answer = self._acquire(keys=[self.keys.inflight, self.keys.next_at, self.keys.pause_until,
                                             self.keys.stop],
                                       args=[token, self.limit, self._interval(request), self.token_ttl,
                                             int(self.shared_budget), self.keys.worker_prefix])
            except RedisError as error:
                # No budget without Redis: wait for it rather than fetch unmetered.
                logger.warning("Redis unreachable (%s): holding %s", error, request.url)
                answer = [b"wait", b"1"]
            verdict = answer[0].decode()
            if verdict == "go":
                break
            if verdict == "stop":
                reason = answer[1].decode()
                if not stopping(self.crawler):
                    logger.error("another worker stopped the shared crawl (%s): stopping too", reason)
                    stop_crawl(self.crawler, reason)
                raise IgnoreRequest(f"not requested: the shared crawl is stopping ({reason})")
            if stopping(self.crawler):
                raise IgnoreRequest(f"not requested: the crawl is stopping ({stopping(self.crawler)})")
            wait = 0.05 if answer[1] == b"full" else min(float(answer[1]), 1.0)
            waited += wait
            await sleep(wait)
        if waited:
            self.crawler.stats.inc_value("miata/redis/budget_wait_seconds", round(waited, 3))
        if self.shared_budget:
            request.meta[TOKEN_META] = token

    def _give_back(self, request) -> None:
        token = request.meta.pop(TOKEN_META, None)
        if token is None:
            return
        try:
            self._server.zrem(self.keys.inflight, token)
        except RedisError as error:  # it expires after token_ttl
            logger.warning("Redis unreachable (%s): request token %s expires on its own", error, token)

    def process_response(self, request, response):
        self._give_back(request)
        if response.status in SITE_BUSY_STATUSES and self._server is not None:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=server_now(response))
            seconds = min(retry_after, self.retry_after_max) if retry_after is not None else self.backoff_base
            try:
                self._pause(keys=[self.keys.pause_until], args=[seconds])
                self.crawler.stats.inc_value("miata/redis/site_paused")
            except RedisError as error:
                logger.warning("Redis unreachable (%s): the %d of %s pauses this worker only", error,
                               response.status, request.url)
        return response

    def process_exception(self, request, exception):
        self._give_back(request)
        return None


