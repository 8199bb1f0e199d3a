"""The generic forum spider: a site is a subclass with a few declarative lines (see spiders/).

It only routes requests: index -> forums (nested) -> every listing page -> every thread page, and turns
the engine's parsed posts into ``PostItem``s. All parsing lives in ``miata_spiders.engines``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Response

from miata_spiders.dates import DateResolver
from miata_spiders.engines import get_engine
from miata_spiders.engines.records import ThreadPage
from miata_spiders.httpcache import REFETCH, looks_complete
from miata_spiders.items import PostItem
from pipelines.schema import content_hash

# Thread pages are where the posts are: fetch them before more listing pages so posts flow early
# and memory holds few pending listing requests.
THREAD_PRIORITY = 10
LISTING_PRIORITY = 0


def post_items(page: ThreadPage, site: str, thread_url: str | None, scraped_at: datetime, source: str = "forum"):
    """PostItems for every post of a parsed thread page."""
    for post in page.posts:
        yield PostItem(
            source=source,
            site=site,
            post_id=post.post_id,
            thread_id=page.thread_id,
            thread_title=page.title,
            thread_url=thread_url,
            forum_id=page.forum_id,
            forum_path=list(page.forum_path),
            position=post.position,
            page=page.page,
            author=post.author,
            author_id=post.author_id,
            posted_at=post.posted_at,
            edited_at=post.edited_at,
            edited_by=post.edited_by,
            is_deleted=post.is_deleted,
            body_text=post.body_text,
            body_html=post.body_html,
            quotes=post.quotes,
            images=post.images,
            links=post.links,
            signature=post.signature,
            url=post.url,
            content_hash=content_hash(post.body_text, post.quotes, post.images, post.is_deleted),
            scraped_at=scraped_at,
        )


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


class ForumSpider(scrapy.Spider):
    """Base class of every forum spider. Subclasses set the class attributes below and nothing else."""

    #: forum software, a key of ``miata_spiders.engines.ENGINES``
    engine: str = ""
    #: the forum's index page
    start_url: str = ""
    #: IANA timezone the forum prints dates in, when the page does not say
    timezone: str = "UTC"
    #: order of numeric dates the forum prints: "MDY" (US forums) or "DMY"
    date_order: str = "MDY"
    #: fresh fetches of a page that came back truncated or unrecognised before giving up on it
    page_retry_times: int = 2

    def __init__(self, *args, base_url: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.engine or not self.start_url:
            raise ValueError(f"spider {self.name!r} must set `engine` and `start_url`")
        self.parser = get_engine(self.engine)
        self.site_root = _root(self.start_url)
        self.crawl_root = self.site_root
        if base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"-a base_url={base_url!r} is not an absolute http(s) URL, e.g. http://127.0.0.1:8080/")
            self.crawl_root = _root(base_url)
        self.allowed_domains = [urlsplit(self.crawl_root).hostname]

    # --- routing -----------------------------------------------------------------------------
    async def start(self):
        yield scrapy.Request(self.rebase(self.start_url), callback=self.parse_listing, priority=LISTING_PRIORITY)

    def rebase(self, url: str) -> str:
        """Point a URL of the site's canonical address at the address being crawled (mirror, 127.0.0.1)."""
        url = self.parser.canonical_url(url)
        if self.crawl_root != self.site_root and url.startswith(self.site_root):
            return self.crawl_root + url[len(self.site_root):]
        return url

    def dates_for(self, response: Response) -> DateResolver:
        return DateResolver(tz=self.timezone, now=response_time(response), date_order=self.date_order)

    def parse_listing(self, response: Response):
        stats = self.crawler.stats
        if not looks_complete(response):
            yield from self._unrecognised(response, "listing", reason="truncated")
            return
        kind = self.parser.page_kind(response)
        if kind == "thread":
            yield from self.parse_thread(response)
            return
        if kind is None:
            yield from self._unrecognised(response, "listing")
            return
        listing = self.parser.parse_listing_page(response, response.url, self.dates_for(response))
        stats.inc_value("miata/pages/listing")
        for forum in listing.forums:
            yield response.follow(self.rebase(forum.url), callback=self.parse_listing, priority=LISTING_PRIORITY)
        for thread in listing.threads:
            stats.inc_value("miata/threads/listed")
            yield response.follow(
                self.rebase(thread.url), callback=self.parse_thread, priority=THREAD_PRIORITY,
                meta={"listed_thread": thread},
            )
        if listing.next_page:
            yield response.follow(self.rebase(listing.next_page), callback=self.parse_listing, priority=LISTING_PRIORITY)

    def parse_thread(self, response: Response):
        stats = self.crawler.stats
        if not looks_complete(response):
            # Posts before the cut would parse, but the page's later posts would be lost silently.
            yield from self._unrecognised(response, "thread", reason="truncated")
            return
        page = self.parser.parse_thread_page(response, response.url, self.dates_for(response))
        if not page.posts:
            yield from self._unrecognised(response, "thread")
            return
        stats.inc_value("miata/pages/thread")
        stats.inc_value("miata/posts/parsed", len(page.posts))
        if page.unparsed_dates:
            stats.inc_value("miata/parse/date_unparsed", page.unparsed_dates)
            self.logger.warning("%d post date(s) not understood on %s", page.unparsed_dates, response.url)
        if page.thread_id is None:
            listed = response.meta.get("listed_thread")
            page.thread_id = listed.thread_id if listed else None
        if page.thread_id is None:
            stats.inc_value("miata/parse/no_thread_id")
            self.logger.error("no thread id found on %s; its %d posts are skipped", response.url, len(page.posts))
            return
        thread_url = response.meta.get("thread_url") or (page.canonical_url if page.page == 1 else None)
        yield from post_items(page, self.name, thread_url, response_time(response))
        if page.next_page:
            yield response.follow(
                self.rebase(page.next_page), callback=self.parse_thread, priority=THREAD_PRIORITY,
                meta={"thread_url": thread_url, "listed_thread": response.meta.get("listed_thread")},
            )

    def _unrecognised(self, response: Response, expected: str, reason: str = "unrecognised"):
        """A 200 page we cannot use: truncated HTML, or a layout the engine does not know (maintenance
        page, bot challenge, a changed skin). Say so with the URL, count it, and fetch it again, fresh,
        a limited number of times in case it was transient."""
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
