"""Crawl progress, recorded only once the posts it vouches for are durably in the dataset.

The spider owns a ``CrawlProgress`` (opened in its ``from_crawler``, closed when it closes) around the
site's ``CrawlState``. For each thread page it calls ``expect(response, progress, posts)`` before
yielding the page's posts. Once every one of those posts has come out of the item pipelines (stored,
dropped as a duplicate; an item error spoils the page), the progress goes to the Parquet writer
(``page_progress`` signal), which queues it behind every row buffered so far and reports it back
with ``part_committed`` once those rows are in a renamed part. Only then is it written to the state.

So the state never claims a post the dataset does not hold, a page whose posts were all duplicates is
recorded as soon as every earlier row is durable, and no pipeline has to know about another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from scrapy import signals

from miata_spiders.errors import StorageError
from pipelines.crawl_state import CrawlState, ThreadProgress
from pipelines.parquet import stop_crawl
from pipelines.signals import page_progress, part_committed

logger = logging.getLogger(__name__)


@dataclass
class _Page:
    response: object  # held so that its id() cannot be reused by another response meanwhile
    progress: ThreadProgress
    remaining: int
    spoiled: bool = False


class CrawlProgress:
    def __init__(self, crawler, state: CrawlState):
        self.crawler = crawler
        self.state = state
        # Keyed by the response object the posts came from: Scrapy's item signals carry it.
        self._pages: dict[int, _Page] = {}
        self.failure: StorageError | None = None
        for handler, signal in ((self._item_done, signals.item_scraped), (self._item_done, signals.item_dropped),
                                (self._item_failed, signals.item_error), (self._durable, part_committed)):
            crawler.signals.connect(handler, signal=signal)

    def expect(self, response, progress: ThreadProgress, posts: int) -> None:
        """Call before yielding the page's ``posts`` items (Scrapy may process them before the callback resumes)."""
        if posts < 1:
            self._hand_over(progress)
            return
        self._pages[id(response)] = _Page(response, progress, posts)

    def _item_done(self, item, response=None, **kwargs) -> None:
        page = self._pages.get(id(response))
        if page is None or page.response is not response:
            return
        page.remaining -= 1
        if page.remaining == 0:
            del self._pages[id(response)]
            if page.spoiled:
                self.crawler.stats.inc_value("miata/state/pages_not_recorded")
                logger.warning("thread %s page %d not recorded as done: one of its posts could not be stored",
                               page.progress.thread_id, page.progress.page)
            else:
                self._hand_over(page.progress)

    def _item_failed(self, item, response=None, **kwargs) -> None:
        page = self._pages.get(id(response))
        if page is not None and page.response is response:
            page.spoiled = True  # the next run fetches the page again
        self._item_done(item, response)

    def _hand_over(self, progress: ThreadProgress) -> None:
        self.crawler.signals.send_catch_log(page_progress, progress=progress)

    def _durable(self, part=None, progress=(), **kwargs) -> None:
        if not progress or self.failure is not None:
            return
        try:
            self.state.commit(list(progress), datetime.now(timezone.utc).isoformat())
        except StorageError as error:
            self.failure = error
            self.crawler.stats.inc_value("miata/state/write_errors")
            logger.error("%s; stopping the crawl (close reason storage_error). The dataset is intact: the "
                         "next run fetches the unrecorded pages again and drops what is already stored",
                         error.message)
            stop_crawl(self.crawler, StorageError.close_reason)
            return
        self.crawler.stats.inc_value("miata/state/pages_committed", len(progress))

    def close(self) -> None:
        if self._pages:
            logger.info("%d thread pages not recorded as done: their posts never all came through", len(self._pages))
        self._pages.clear()
        self.state.close()
