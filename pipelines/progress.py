"""Crawl progress, recorded only once the posts it vouches for are durably in the dataset.

Spiders yield a ``ThreadProgress`` marker after each thread page's posts. Markers wait here until the
Parquet pipeline reports a committed part (every post yielded before a marker is in that part or an
earlier one), or until nothing is pending in the writer (the page's posts were all duplicates).
Then they go to the site's ``CrawlState``, which the next run reads to skip unchanged threads and to
resume interrupted ones.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import NotConfigured

from pipelines.crawl_state import CrawlState, ThreadProgress
from pipelines.parquet import ParquetPipeline
from pipelines.signals import part_committed

logger = logging.getLogger(__name__)


class ProgressPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.data_dir = crawler.settings.get("MIATA_DATA_DIR")
        if not self.data_dir:
            raise NotConfigured("MIATA_DATA_DIR is empty")
        self.state: CrawlState | None = None
        self._pending: list[ThreadProgress] = []
        crawler.signals.connect(self._commit_pending, signal=part_committed)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        self.state = CrawlState.for_site(self.data_dir, self.crawler.spider.name)
        logger.info("crawl state %s: %d threads known", self.state.path, len(self.state))

    def process_item(self, item):
        if not isinstance(item, ThreadProgress):
            return item
        self._pending.append(item)
        if self._writer_pending() == 0:
            self._commit_pending()  # every post before this marker is already in a committed part
        return item

    def _writer_pending(self) -> int:
        parquet = self.crawler.get_item_pipeline(ParquetPipeline)
        return parquet.pending_rows() if parquet is not None else 0

    def _commit_pending(self, part=None) -> None:
        if self.state is None or not self._pending:
            return
        self.state.commit(self._pending, datetime.now(timezone.utc).isoformat())
        self.crawler.stats.inc_value("miata/state/pages_committed", len(self._pending))
        self._pending = []

    def _spider_closed(self, spider, reason) -> None:
        # Runs after every pipeline's close_spider: the last Parquet part is written by now, unless
        # writing it failed, in which case these markers must not be recorded.
        if self._writer_pending() == 0:
            self._commit_pending()
        elif self._pending:
            logger.warning("%d thread pages not recorded as done: their posts were not written", len(self._pending))
        if self.state is not None:
            self.state.close()
            self.state = None
