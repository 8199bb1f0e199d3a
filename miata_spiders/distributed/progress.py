"""Crawl progress of a worker: a thread page is recorded in the crawl state only when it is durable
*and* so is every earlier page of its thread fetched in this crawl, whichever worker fetched them.

A single crawl writes its parts in the order it fetched the pages, so "recorded once durable" kept
the state behind the dataset. With several workers page 3 of a thread (worker B) can be durable
before page 2 (worker A, whose part is still buffering): recording page 3 would tell the next
incremental run the thread is complete up to page 3, and if A died the posts of page 2 would never
be fetched again. So a page is recorded only when it is *chained*: it is the first page of its thread
fetched in this crawl (from a listing or the state's resume point), or the page before it (which
requested it: ``previous_page`` in its meta) is chained. A page that is durable first is parked in
Redis under its predecessor; whoever chains the predecessor records the parked pages after it (one
Lua script, so no page is parked after its predecessor was chained). The state file is shared by the
workers (SQLite, WAL), so any worker may record any worker's page.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from redis.exceptions import RedisError

from pipelines.crawl_state import ThreadProgress
from pipelines.progress import CrawlProgress

#: request.meta key: the page number of the thread page whose next-page link this request follows
PREVIOUS_PAGE_META = "previous_page"

# KEYS: pages:chained, pages:parked. ARGV: thread id, page, previous page ('' = first of its chain),
# progress JSON. Returns the progress JSONs to record now (this page and the parked ones it frees).
_CHAIN = """
local thread = ARGV[1]
if ARGV[3] ~= '' and redis.call('SISMEMBER', KEYS[1], thread .. ':' .. ARGV[3]) == 0 then
  redis.call('HSET', KEYS[2], thread .. ':' .. ARGV[3], ARGV[2] .. '|' .. ARGV[4])
  return {}
end
local record = {ARGV[4]}
local page = ARGV[2]
while true do
  redis.call('SADD', KEYS[1], thread .. ':' .. page)
  local waiting = redis.call('HGET', KEYS[2], thread .. ':' .. page)
  if not waiting then break end
  redis.call('HDEL', KEYS[2], thread .. ':' .. page)
  local bar = string.find(waiting, '|', 1, true)
  page = string.sub(waiting, 1, bar - 1)
  table.insert(record, string.sub(waiting, bar + 1))
end
return record
"""


class WorkerCrawlProgress(CrawlProgress):
    def __init__(self, crawler, state):
        super().__init__(crawler, state)
        self._previous: dict[tuple[str, int], int] = {}  # (thread, page) -> page that linked to it
        self._chain = None

    def expect(self, response, progress: ThreadProgress, posts: int) -> None:
        previous = response.meta.get(PREVIOUS_PAGE_META)
        if previous is not None:
            self._previous[(progress.thread_id, progress.page)] = previous
        super().expect(response, progress, posts)

    def _durable(self, part=None, progress=(), **kwargs) -> None:
        # The writer's queue also carries the scheduler's lease markers: only thread pages are ours.
        pages = [p for p in progress if isinstance(p, ThreadProgress)]
        if not pages or self.failure is not None:
            return
        scheduler = self.crawler.engine._slot.scheduler
        if self._chain is None:
            self._chain = scheduler.server.register_script(_CHAIN)
        ready: list[ThreadProgress] = []
        try:
            for page in pages:
                previous = self._previous.pop((page.thread_id, page.page), None)
                freed = self._chain(keys=[scheduler.keys.chained, scheduler.keys.parked],
                                    args=[page.thread_id, page.page, "" if previous is None else previous,
                                          json.dumps(asdict(page))])
                ready.extend(ThreadProgress(**json.loads(text)) for text in freed)
        except RedisError:
            # Unrecorded pages leave the state behind the dataset, never ahead: fetched again next run.
            self.crawler.stats.inc_value("miata/redis/errors")
        parked = len(pages) - sum(1 for p in ready if p in pages)
        if parked > 0:
            self.crawler.stats.inc_value("miata/state/pages_parked", parked)
        if ready:
            super()._durable(part=part, progress=ready)
