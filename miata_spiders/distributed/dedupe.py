"""Global post dedupe for a shared crawl: a post version is written by exactly one worker.

Each worker still runs the dataset's own dedupe (``DedupePipeline``: the versions stored in the
Parquet parts when it started, and those of its own run). Other workers' posts of *this* crawl are
not in either, so before that a version is *claimed* in Redis (``CLAIM`` script):

* already durable in this crawl (``posts:durable``): dropped;
* claimed by a live worker (its ``worker:<id>`` key exists): dropped: that worker writes it;
* unclaimed, or claimed by a dead worker: claimed by this one, which writes it.

Claims become durable (moved to ``posts:durable``) when the Parquet part holding them is renamed into
place. Why claims and not only a set written after the commit: two workers buffering the same post
(a thread page that shifted, a page re-fetched after a retry) would both write it. Why not only a
claim before the write: a worker killed between claim and commit would take the post with it. A dead
worker's claims are taken over by whoever meets the post again, and it is met again, because the page
it came from was leased to the dead worker and goes back to the frontier: its liveness key expires
(after lease/2 seconds) before its leases do (after at least 2/3 of a lease), so the page's re-fetch
always finds the claim free. A worker killed between renaming a part and recording its claims
durable (milliseconds) did write the posts it claimed: so the first time a dead worker's claim is
taken over, the stored versions are read again from the dataset (where that part now is) before the
post is judged by the dataset's own dedupe.
"""

from __future__ import annotations

from collections import defaultdict

from itemadapter import ItemAdapter
from redis.exceptions import RedisError
from scrapy.exceptions import DropItem
from scrapy.utils.asyncio import sleep

from pipelines.dataset import version_key
from pipelines.dedupe import DedupePipeline

# KEYS: posts:durable, posts:claims. ARGV: version, this worker, worker key prefix.
_CLAIM = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 'durable' end
local owner = redis.call('HGET', KEYS[2], ARGV[1])
if owner and owner ~= ARGV[2] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 'other' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if owner and owner ~= ARGV[2] then return 'taken_over:' .. owner end
return 'mine'
"""


class SharedDedupeUnavailable(RuntimeError):
    """Redis could not be asked whether another worker writes this post."""


class SharedDedupePipeline(DedupePipeline):
    def __init__(self, crawler):
        super().__init__(crawler)
        self._claimed: dict[str, list[str]] = defaultdict(list)  # site -> versions claimed, not yet durable
        self._claim = None
        self._reloaded_after: set[tuple[str, str]] = set()  # (site, dead worker) whose parts were read

    def _scheduler(self):
        return self.crawler.engine._slot.scheduler

    async def process_item(self, item):
        adapter = ItemAdapter(item)
        site = adapter.get("site") or self.crawler.spider.name
        content_hash = adapter.get("content_hash") or ""
        version = f"{adapter['post_id']}:{version_key(content_hash).decode('ascii', 'replace')}"
        scheduler = self._scheduler()
        if self._claim is None:
            self._claim = scheduler.server.register_script(_CLAIM)
        keys = scheduler.keys
        waited = 0.0
        while True:
            try:
                verdict = self._claim(keys=[keys.versions, keys.claims],
                                      args=[version, scheduler.worker_id, keys.worker_prefix]).decode()
                break
            except RedisError as error:
                # Redis restarting: wait for it (this item only; the engine backs off behind it). After
                # MIATA_REDIS_WAIT_SECONDS an error, not a drop: the post's page is then not recorded in the
                # crawl state (pipelines/progress.py) and the next run fetches it again.
                if waited >= self.crawler.settings.getfloat("MIATA_REDIS_WAIT_SECONDS", 300.0):
                    raise SharedDedupeUnavailable(
                        f"post {site}/{adapter['post_id']} not stored: Redis unreachable ({error})") from error
                await sleep(1.0)
                waited += 1.0
        stats = self.crawler.stats
        if verdict == "durable":
            stats.inc_value("miata/dedupe/dropped_shared_durable")
            raise DropItem(f"post {site}/{adapter['post_id']} already written by a worker of this crawl",
                           log_level="DEBUG")
        if verdict == "other":
            stats.inc_value("miata/dedupe/dropped_shared_claimed")
            raise DropItem(f"post {site}/{adapter['post_id']} is being written by another worker", log_level="DEBUG")
        if verdict.startswith("taken_over:"):
            stats.inc_value("miata/dedupe/claims_taken_over")
            self._reload_after_death(site, verdict.split(":", 1)[1])
        self._claimed[site].append(version)
        return super().process_item(item)  # the dataset's own dedupe, for what was stored before this crawl

    def _reload_after_death(self, site: str, dead_worker: str) -> None:
        """Read the site's stored versions again, once per dead worker: a part it renamed into place just
        before it died holds posts whose claims it never recorded durable. This run's own versions not
        yet folded (buffered, not committed) are carried over."""
        if (site, dead_worker) in self._reloaded_after:
            return
        self._reloaded_after.add((site, dead_worker))
        previous = self._seen.pop(site, None)
        fresh = self._seen_for(site)  # loads every stored part, the dead worker's included
        if previous is not None:
            fresh._run = previous._run  # noqa: SLF001 - this run's keys of posts still in the writer's buffer
        self.crawler.stats.inc_value("miata/dedupe/reloads_after_death")

    def _part_committed(self, part=None, **kwargs) -> None:
        super()._part_committed(part=part, **kwargs)
        if part is None or not self._claimed.get(part.site):
            return
        # The writer writes its whole buffer: every version claimed so far for that site is in the part.
        versions, self._claimed[part.site] = self._claimed[part.site], []
        scheduler = self._scheduler()
        try:
            pipe = scheduler.server.pipeline(transaction=True)
            pipe.sadd(scheduler.keys.versions, *versions)
            pipe.hdel(scheduler.keys.claims, *versions)
            pipe.execute()
        except RedisError:
            # Still claimed by this live worker: nobody else writes them; taken over only if it dies.
            self.crawler.stats.inc_value("miata/redis/errors")
