"""The generic forum spider: a site is a subclass with a few declarative lines (see spiders/).

It only routes requests: index -> forums (nested) -> every listing page -> every thread page. What a
page holds comes from ``miata_spiders.page_records`` (as for ``miata parse`` and ``miata reparse``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import scrapy
import scrapy.exceptions
import scrapy.signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response

from miata_spiders.blocking import BlockWatch
from miata_spiders.dates import DateResolver
from miata_spiders.distributed import worker_mode
from miata_spiders.engines import get_engine
from miata_spiders.httpcache import REFETCH, looks_complete, missing_post_ids
from miata_spiders.page_records import PageRecords, page_records
from miata_spiders.pagination import moves_forward
from pipelines.crawl_state import ThreadProgress

# Thread pages are where the posts are: fetch them before more listing pages so posts flow early
# and memory holds few pending listing requests.
THREAD_PRIORITY = 10
LISTING_PRIORITY = 0


def response_time(response: Response) -> datetime:
    """When the server produced the page: relative dates ("Today") are relative to that, which matters
    when a page is replayed from the HTTP cache days later."""
    header = response.headers.get(b"Date")
    if header:
        try:
            return parsedate_to_datetime(header.decode("latin-1")).astimezone(timezone.utc)
        except (TypeError, ValueError):
            pass
    return datetime.now(timezone.utc)


class BaseForumSpider(scrapy.Spider):
    """Base class of every forum spider. Subclasses set the class attributes below and nothing else."""

    #: forum software, a key of ``miata_spiders.engines.ENGINES`` ("" = detect it from the first page)
    engine: str = ""
    #: the forum's index page
    start_url: str = ""
    #: IANA timezone the forum prints dates in, when the page does not say
    timezone: str = "UTC"
    #: order of numeric dates the forum prints: "MDY" (US forums) or "DMY"
    date_order: str = "MDY"
    #: fresh fetches of a page that came back truncated or unrecognised before giving up on it
    page_retry_times: int = 2
    #: the site's lock and crawl state (``_open_crawl_state``); None for a spider without a dataset
    site_lock = None
    crawl_progress = None

    def __init__(self, *args, base_url: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.start_url:
            raise ValueError(f"spider {self.name!r} must set `start_url`")
        self.parser = get_engine(self.engine) if self.engine else None  # None: detected from the first page
        self.site_root = _root(self.start_url)
        self.crawl_root = self.site_root
        if base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"-a base_url={base_url!r} is not an absolute http(s) URL, e.g. http://127.0.0.1:8080/")
            self.crawl_root = _root(base_url)
        self.allowed_domains = [urlsplit(self.crawl_root).hostname]
        self._routing_memory()

    def engine_for(self, response: Response):
        """The engine parsing this site: declared, or detected once from the first page it serves."""
        if self.parser is None:
            from miata_spiders.engines.detect import UnsupportedSoftware, detect

            unsupported = getattr(self, "_unsupported_software", None)
            if unsupported is not None:  # pages already in flight when the close began: no second ERROR line
                raise UnsupportedSoftware(unsupported)
            found = detect(response)
            if found.engine is None:
                return None
            if not found.supported:
                self._unsupported_software = found
                # UnsupportedSoftware is a CloseSpider: Scrapy closes with reason unsupported_engine:<name>,
                # no traceback. Outside a crawl (`miata parse`) the caller prints the one line instead.
                if getattr(self, "crawler", None) is not None:
                    self.logger.error("%s: %s", response.url, found.describe())
                raise UnsupportedSoftware(found)
            self.parser = get_engine(found.engine)
            self.engine = found.engine
            self.logger.info("%s runs %s (family %s; seen: %s)", self.start_url, found.engine, found.family,
                             ", ".join(found.evidence))
        return self.parser

    def _api_walk(self, response: Response):
        """The walk of a forum whose engine reads its JSON API instead of its pages (``api_walk``), once
        the engine is known; None for engines that read pages."""
        engine = self.engine_for(response)
        if getattr(engine, "api_walk", None) is None:
            return None
        if getattr(self, "_walk", None) is None:
            self._walk = engine.api_walk(self)
        return self._walk

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._follow_moved_stubs, signal=scrapy.signals.spider_idle)
        spider._open_crawl_state()
        if worker_mode(spider.settings):  # the threads scheduled by any worker of the shared crawl
            from miata_spiders.distributed.threads import SharedThreadSet

            spider._scheduled_threads = SharedThreadSet(crawler)
        return spider

    # --- routing -----------------------------------------------------------------------------
    async def start(self):
        yield scrapy.Request(self.rebase(self.start_url), callback=self.parse_listing, priority=LISTING_PRIORITY,
                             meta={REFETCH: not self.offline})

    def rebase(self, url: str) -> str:
        """Point a URL of the site's canonical address at the address being crawled (mirror, 127.0.0.1)."""
        if self.parser is not None:
            url = self.parser.canonical_url(url)
        if self.crawl_root != self.site_root and url.startswith(self.site_root):
            return self.crawl_root + url[len(self.site_root):]
        return url

    def unbase(self, url: str | None) -> str | None:
        """The site's canonical form of a crawled URL: what the dataset and the crawl state store."""
        if url and self.crawl_root != self.site_root and url.startswith(self.crawl_root):
            return self.site_root + url[len(self.crawl_root):]
        return url

    # --- incremental crawling ------------------------------------------------------------------
    def _open_crawl_state(self) -> None:
        """Take the site's lock and open its crawl state: the spider owns both for the whole crawl.

        A spider built without a dataset directory (unit tests, ``miata parse``) records nothing. A site
        another process is writing raises SiteLockedError (exit status 75) before any request."""
        from pipelines.crawl_state import CrawlState
        from pipelines.lock import SiteLock
        from pipelines.progress import CrawlProgress

        self.site_lock = self.crawl_progress = None
        data_dir = self.settings.get("MIATA_DATA_DIR")
        if not data_dir:
            return
        # A worker of a shared crawl (MIATA_REDIS_URL) shares the lock with the site's other workers and
        # records pages in the order of their threads (docs/scaling.md); a standalone crawl excludes all.
        shared = worker_mode(self.settings)
        if shared:
            from miata_spiders.distributed.progress import WorkerCrawlProgress as CrawlProgress  # noqa: F811
        self.site_lock = SiteLock(data_dir, self.name, shared=shared).acquire()
        try:
            self.crawl_progress = CrawlProgress(self.crawler, CrawlState.for_site(data_dir, self.name))
        except BaseException:
            self.site_lock.release()
            raise
        self.logger.info("crawl state %s: %d threads known", self.crawl_progress.state.path,
                         len(self.crawl_progress.state))
        self.crawler.signals.connect(self._close_crawl_state, signal=scrapy.signals.spider_closed)

    def _close_crawl_state(self) -> None:
        # After every pipeline's close_spider: the last part's progress has been recorded by now.
        if self.crawl_progress is not None:
            self.crawl_progress.close()
        if self.site_lock is not None:
            self.site_lock.release()

    @property
    def full_crawl(self) -> bool:
        return self.settings.getbool("MIATA_FULL_CRAWL") or str(getattr(self, "full", "")).lower() in ("1", "true", "yes")

    @property
    def state(self):
        """The site's crawl state to decide on (what is durably collected), None on a full crawl."""
        return None if self.full_crawl else self.state_store

    @property
    def state_store(self):
        """The site's crawl state to record into, also on a full crawl (None without a dataset)."""
        progress = getattr(self, "crawl_progress", None)
        return progress.state if progress is not None else None

    def _routing_memory(self) -> None:
        self._scheduled_threads: set[str] = set()
        self._forum_was_complete: dict[str, bool] = {}
        # thread id -> (reply count, last post time) from its row in a real (not moved-stub) listing;
        # only these two, not the whole row: a big forum lists millions of threads over a crawl.
        self._listed: dict[str, tuple] = {}
        self._moved_stubs: dict[str, object] = {}

    @property
    def offline(self) -> bool:
        """Replaying the HTTP cache: nothing may be refetched from the network."""
        return self.settings.getbool("HTTPCACHE_IGNORE_MISSING")

    def _thread_request(self, thread) -> tuple[str, scrapy.Request | None]:
        """("new" | "resumed", request) to bring a listed thread up to date, ("unchanged", None) when
        it has not changed since it was collected, ("scheduled", None) when this crawl has it already."""
        state = self.state
        if thread.thread_id in self._scheduled_threads:
            return "scheduled", None  # a sticky on every listing page, a moved stub, a thread that shifted pages
        self._scheduled_threads.add(thread.thread_id)
        meta = {"listed_thread": thread}
        known = state.thread(thread.thread_id) if state is not None else None
        if known is None:
            return "new", scrapy.Request(self.rebase(thread.url), callback=self.parse_thread,
                                         priority=THREAD_PRIORITY, meta=meta)
        listed_at = thread.last_post_at.isoformat() if thread.last_post_at else None
        if known.complete and thread.reply_count is not None and (known.reply_count, known.last_post_at) == (
                thread.reply_count, listed_at):
            self.crawler.stats.inc_value("miata/incremental/threads_unchanged")
            return "unchanged", None
        # New replies (or an interrupted crawl): carry on from the last page we hold, fetched afresh.
        self.crawler.stats.inc_value("miata/incremental/threads_resumed")
        meta.update({"thread_url": known.thread_url, REFETCH: not self.offline})
        return "resumed", scrapy.Request(self.rebase(known.last_page_url), callback=self.parse_thread,
                                         priority=THREAD_PRIORITY, meta=meta, dont_filter=True)

    def _listing_walk_may_stop(self, listing, decisions: list) -> bool:
        """Stop walking a forum's listing (newest first) at a page whose threads all are unchanged, if the
        previous crawl walked this forum to its end; stickies do not count."""
        if self.state is None or listing.forum_id is None:
            return False
        forum_id = listing.forum_id
        if forum_id not in self._forum_was_complete:
            self._forum_was_complete[forum_id] = self.state.forum_fully_collected(forum_id)
        normal = [d for t, d in zip(listing.threads, decisions) if not t.sticky and not t.moved]
        return self._forum_was_complete[forum_id] and bool(normal) and all(d == "unchanged" for d in normal)

    def dates_for(self, response: Response) -> DateResolver:
        return DateResolver(tz=self.timezone, now=response_time(response), date_order=self.date_order)

    def records_of(self, response: Response, request_for: str) -> PageRecords:
        """What the page holds, parsed with this site's engine, dates and canonical address."""
        listed = response.meta.get("listed_thread")
        return page_records(response, self.engine_for(response), site=self.name, dates=self.dates_for(response),
                            unbase=self.unbase, request_for=request_for, thread_url=response.meta.get("thread_url"),
                            listed_thread_id=listed.thread_id if listed else None)

    def parse_listing(self, response: Response):
        stats = self.crawler.stats
        if not looks_complete(response):
            yield from self._unrecognised(response, "listing", reason="truncated")
            return
        try:
            walk = self._api_walk(response)
            records = None if walk is not None else self.records_of(response, "listing")
        except scrapy.exceptions.CloseSpider:
            raise
        except Exception as exc:  # noqa: BLE001 - one page's bug or hostile markup must not stop the crawl
            self._parse_failed(response, "listing", exc)
            return
        if walk is not None:  # a forum read through its JSON API (Discourse) from here on
            yield from walk.start(response)
            return
        if records.kind != "listing":
            yield from self._thread_records(response, records, "thread" if records.thread else "listing")
            return
        listing = records.listing
        if listing.forums or listing.threads:
            BlockWatch.of(self.crawler).usable("listing")
        stats.inc_value("miata/pages/listing")
        for forum in listing.forums:
            yield self._listing_request(response, forum.url)
        decisions = []
        for thread in listing.threads:
            stats.inc_value("miata/threads/listed")
            if thread.moved:
                # A stub left where a thread used to be. Its real forum's listing says more about the
                # thread (replies, last post); follow the stub only if no listing leads there.
                self._moved_stubs.setdefault(thread.thread_id, thread)
                decisions.append("moved")
                continue
            self._listed[thread.thread_id] = (thread.reply_count, thread.last_post_at)
            decision, request = self._thread_request(thread)
            decisions.append(decision)
            if request is not None:
                yield request
        if listing.next_page and not self._moves_forward(response, listing.next_page):
            listing = replace(listing, next_page=None)
        stop = self._listing_walk_may_stop(listing, decisions)
        if self.state_store is not None and listing.forum_id:
            self.state_store.record_listing_page(
                listing.forum_id, listing.page, self.unbase(response.url),
                [t.thread_id for t in listing.threads if not t.sticky and not t.moved],
                is_last=listing.next_page is None,
                now_iso=datetime.now(timezone.utc).isoformat())
        if listing.next_page and stop:
            stats.inc_value("miata/incremental/listing_walks_stopped")
            self.logger.info("listing of forum %s unchanged from page %d on: not walking further", listing.forum_id, listing.page)
        elif listing.next_page:
            yield self._listing_request(response, listing.next_page)

    def _follow_moved_stubs(self):
        """When everything else is done: the threads only moved stubs lead to, once each. A stub whose
        target an earlier crawl learned is not requested again; an unknown one is requested without
        following its redirect, so its target can be checked against what this crawl already has."""
        orphans = [t for tid, t in self._moved_stubs.items() if tid not in self._scheduled_threads]
        self._moved_stubs = {}
        store = self.state_store
        requests = []
        for stub in orphans:
            self._scheduled_threads.add(stub.thread_id)
            target = store.stub_target(stub.thread_id) if store is not None else None
            if target is not None and (target in self._scheduled_threads or store.thread(target)):
                continue  # its real forum's listing decides about that thread
            requests.append(scrapy.Request(
                self.rebase(stub.url), callback=self.parse_moved_stub, priority=THREAD_PRIORITY,
                meta={"dont_redirect": True, "handle_httpstatus_list": [301, 302, 303, 307, 308], "stub": stub},
            ))
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            self.crawler.stats.inc_value("miata/threads/moved_followed", len(requests))
            raise scrapy.exceptions.DontCloseSpider

    def parse_moved_stub(self, response: Response):
        stub = response.meta["stub"]
        if response.status not in (301, 302, 303, 307, 308):
            # The stub's link is the thread itself (vBulletin): parse it, and remember where it led.
            yield from self.parse_thread(response)
            return
        location = response.headers.get(b"Location", b"").decode("latin-1")
        target = self.parser.canonical_url(response.urljoin(location)) if location else None
        thread_id = target and self.parser.thread_id_from_url(target)
        if not thread_id:
            self.logger.warning("moved-thread stub %s redirects to %r: not a thread", response.url, location)
            return
        if self.state_store is not None:
            self.state_store.record_stub(stub.thread_id, thread_id)
        if thread_id in self._scheduled_threads:
            return
        self._scheduled_threads.add(thread_id)
        yield scrapy.Request(self.rebase(target), callback=self.parse_thread, priority=THREAD_PRIORITY,
                             meta={"listed_thread": replace(stub, thread_id=thread_id, url=target)})

    def _listing_request(self, response: Response, url: str):
        # Listing pages are how changes are found: always fetched afresh, never taken from the cache
        # (except when replaying the cache offline).
        return response.follow(self.rebase(url), callback=self.parse_listing, priority=LISTING_PRIORITY,
                               meta={REFETCH: not self.offline})

    def parse_thread(self, response: Response):
        if not looks_complete(response):
            # Posts before the cut would parse, but the page's later posts would be lost silently.
            yield from self._unrecognised(response, "thread", reason="truncated")
            return
        try:
            records = self.records_of(response, "thread")
        except scrapy.exceptions.CloseSpider:
            raise
        except Exception as exc:  # noqa: BLE001 - one page's bug or hostile markup must not stop the crawl
            self._parse_failed(response, "thread", exc)
            return
        yield from self._thread_records(response, records, "thread")

    def _thread_records(self, response: Response, records: PageRecords, expected: str):
        stats = self.crawler.stats
        if not records.has_posts:
            yield from self._unrecognised(response, expected)
            return
        page = records.thread
        if missing_post_ids(response):
            # lxml gave up building the tree part-way (absurd nesting): the posts after the cut and
            # the next-page link are gone, so the page is handled as a truncated download.
            yield from self._unrecognised(response, expected, reason="truncated")
            return
        BlockWatch.of(self.crawler).usable("thread")
        if page.next_page and not self._moves_forward(response, page.next_page):
            page.next_page = None  # the thread ends here: recorded complete, never followed round
        stats.inc_value("miata/pages/thread")
        stats.inc_value("miata/posts/parsed", len(page.posts))
        if page.unparsed_dates:
            stats.inc_value("miata/parse/date_unparsed", page.unparsed_dates)
            self.logger.warning("%d post date(s) not understood on %s", page.unparsed_dates, response.url)
        # A post that raised while being read is lost from this page: its neighbours are kept, but
        # neither this page nor any later page of the thread is recorded, so the next run fetches the
        # thread again from its last recorded page (dedupe drops what is already stored).
        damaged = bool(page.parse_errors) or bool(response.meta.get("thread_damaged"))
        if page.parse_errors:
            stats.inc_value("miata/parse/errors", page.parse_errors)
            self.logger.error("%d post(s) on %s could not be parsed; the thread stays incomplete for the next run",
                              page.parse_errors, response.url)
        if records.kind != "thread":  # no thread id, neither on the page, nor in its listing row or URL
            stats.inc_value("miata/parse/no_thread_id")
            self.logger.error("no thread id found on %s; its %d posts are skipped", response.url, len(page.posts))
            return
        if page.next_page is None and "cached" in response.flags and not response.meta.get(REFETCH) and not self.offline:
            # The thread's last page, from the cache: it may have grown since. Fetch it afresh first.
            stats.inc_value("miata/cache/last_page_refetched")
            yield response.request.replace(dont_filter=True, meta={**response.meta, REFETCH: True})
            return
        thread_url = records.thread_url
        if self.crawl_progress is not None and not damaged:
            # Before the posts are yielded: Scrapy may push them through the pipelines before this
            # generator resumes. The page is recorded once they are all durable (pipelines/progress.py).
            # The thread's row in a real listing, if one was seen by now, knows its reply count.
            row = response.meta.get("listed_thread")
            reply_count, last_post_at = self._listed.get(page.thread_id) or (
                (row.reply_count, row.last_post_at) if row else (None, None))
            self.crawl_progress.expect(response, ThreadProgress(
                site=self.name, thread_id=page.thread_id, forum_id=page.forum_id, thread_url=thread_url,
                page=page.page, page_url=self.unbase(self.parser.canonical_url(response.url)),
                last_position=max((p.position for p in page.posts if p.position), default=None),
                has_next_page=page.next_page is not None,
                reply_count=reply_count,
                last_post_at=last_post_at.isoformat() if last_post_at else None,
            ), posts=len(records.items))
        yield from records.items
        if page.next_page:
            yield response.follow(
                self.rebase(page.next_page), callback=self.parse_thread, priority=THREAD_PRIORITY,
                meta={"thread_url": thread_url, "listed_thread": response.meta.get("listed_thread"),
                      "thread_damaged": damaged, "previous_page": page.page},
            )

    def _moves_forward(self, response: Response, next_page: str) -> bool:
        """Follow a next-page link only forward: one pointing back or to the same page (with a changing
        parameter, so the duplicate filter cannot see it) would be followed forever."""
        if moves_forward(self.unbase(response.url), next_page):
            return True
        self.crawler.stats.inc_value("miata/pagination/not_forward")
        self.logger.warning("next-page link of %s points back (%s): not followed, the pages end here",
                            response.url, next_page)
        return False

    def _parse_failed(self, response: Response, expected: str, exc: Exception) -> None:
        """A page whose parsing raised: counted and logged once with its URL (the traceback at DEBUG);
        nothing of it is recorded, so its thread stays incomplete and the next run tries it again."""
        self.crawler.stats.inc_value("miata/parse/errors")
        self.logger.error("could not parse %s page %s: %s: %s", expected, response.url, type(exc).__name__, exc,
                          exc_info=self.logger.isEnabledFor(logging.DEBUG))

    def _unrecognised(self, response: Response, expected: str, reason: str = "unrecognised"):
        """A 200 page we cannot use: truncated HTML, or a layout the engine does not know (maintenance
        page, bot challenge, a changed skin). Say so with the URL, count it, and fetch it again, fresh,
        a limited number of times in case it was transient. (Block pages never get here: see
        middlewares.BlockedPageMiddleware.)"""
        self.crawler.stats.inc_value(f"miata/parse/{reason}_{expected}")
        self.logger.warning("%s %s page at %s (%d bytes)", reason, expected, response.url, len(response.body))
        retry = get_retry_request(
            response.request, spider=self, reason=f"{reason}_{expected}_page", max_retry_times=self.page_retry_times
        )
        if retry is not None:
            retry.meta[REFETCH] = True
            yield retry
        else:
            self.crawler.stats.inc_value("miata/parse/gave_up")
            self.logger.error("gave up on %s page %s: still %s after retries", expected, response.url, reason)


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
