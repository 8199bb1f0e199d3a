"""A one-line progress report of a forum crawl, logged every ``MIATA_PROGRESS_INTERVAL`` seconds:

    progress miataturbo: threads 41/380 done, 1,204 posts (1,180 stored), 97 requests, 0 errors; 58 pages/min, 712 posts/min

- threads *done*: threads whose last page is durably stored (its progress marker came back with a
  committed Parquet part: ``pipelines.signals.part_committed``), of the threads *known* so far
  (rows seen on listing pages, plus threads resumed from the crawl state);
- posts: parsed from thread pages (stored: rows written to Parquet; the rest were already stored);
- requests and errors: as Scrapy counts them (``downloader/request_count``, ERROR log lines);
- rates: over the last interval.

Scrapy's own LogStats line counts pages and items only; this one says how far through the forum the
crawl is. ``MIATA_PROGRESS_INTERVAL = 0`` turns it off. The last line is logged when the spider closes.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured

from pipelines.signals import part_committed

logger = logging.getLogger(__name__)


class CrawlProgressLog:
    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.stats = crawler.stats
        self.interval = interval
        self.threads_done: set[str] = set()
        self.task = None
        self._previous = (time.monotonic(), 0, 0)  # (when, thread pages, posts) at the last line

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("MIATA_PROGRESS_INTERVAL", 60.0)
        if interval <= 0:
            raise NotConfigured
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.part_committed, signal=part_committed)
        return extension

    def spider_opened(self, spider):
        from scrapy.utils.asyncio import create_looping_call

        self.spider = spider
        self._previous = (time.monotonic(), 0, 0)
        self.task = create_looping_call(self.log_line)
        self.task.start(self.interval, now=False)

    def spider_closed(self, spider, reason):
        if self.task is not None and self.task.running:
            self.task.stop()
            self.log_line()

    def part_committed(self, part=None, progress=(), **kwargs):
        # Markers of other kinds (a shared crawl's lease acknowledgements) carry no thread page.
        for marker in progress or ():
            if getattr(marker, "has_next_page", True) is False:
                self.threads_done.add(str(marker.thread_id))

    def line(self) -> str:
        get = self.stats.get_value
        known = get("miata/threads/listed", 0) + get("miata/incremental/threads_resumed", 0)
        done = len(self.threads_done)
        pages, posts = get("miata/pages/thread", 0), get("miata/posts/parsed", 0)
        now = time.monotonic()
        then, pages_before, posts_before = self._previous
        minutes = max(now - then, 1e-9) / 60
        self._previous = (now, pages, posts)
        name = getattr(getattr(self, "spider", None), "name", "crawl")
        return (f"progress {name}: threads {done:,}/{max(known, done):,} done, {posts:,} posts "
                f"({get('miata/parquet/rows_written', 0):,} stored), {get('downloader/request_count', 0):,} requests, "
                f"{get('log_count/ERROR', 0):,} errors; {(pages - pages_before) / minutes:,.0f} pages/min, "
                f"{(posts - posts_before) / minutes:,.0f} posts/min")

    def log_line(self):
        logger.info(self.line())
