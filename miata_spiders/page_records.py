"""One fetched page in, what the dataset takes from it out: the one place a page becomes records.

The spider (``forum_spider``), ``miata parse`` and ``miata reparse`` fetch pages differently (Scrapy,
a saved file, the HTTP cache) and do different things with the result (follow links, print JSON,
write Parquet), but a page must give the same posts whichever of them reads it. So all three call
``page_records`` and keep only their own routing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from miata_spiders.dates import DateResolver
from miata_spiders.engines.base import ForumEngine
from miata_spiders.engines.records import ListingPage, ThreadPage
from miata_spiders.items import PostItem

Unbase = Callable[[str | None], str | None]


def same_url(url: str | None) -> str | None:
    """The ``unbase`` of a page fetched from the site's own address."""
    return url


@dataclass
class PageRecords:
    """What one page holds, with every URL in the site's canonical form (never a mirror's)."""

    kind: Literal["thread", "listing", "unrecognised"]
    url: str  # the page's own URL, canonical form
    thread: ThreadPage | None = None  # a thread page as parsed: next page, page number, thread id, unparsed dates
    items: list[PostItem] = field(default_factory=list)  # a thread page's posts
    thread_url: str | None = None  # the thread's first page, when known: every item carries it
    listing: ListingPage | None = None  # a listing page: sub-forums, threads, next page
    problem: str | None = None  # why an unrecognised page could not be used: NO_ENGINE, NO_LAYOUT, NO_POSTS, NO_THREAD_ID

    @property
    def has_posts(self) -> bool:
        """A thread page with posts, whether or not they could be used."""
        return self.thread is not None and bool(self.thread.posts)


NO_ENGINE = "no forum software recognised"
NO_LAYOUT = "no page layout recognised"
NO_POSTS = "thread page without posts"
NO_THREAD_ID = "no thread id on the page or in its URL"


def page_records(response, engine: ForumEngine | None, *, site: str, dates: DateResolver, unbase: Unbase = same_url,
                 request_for: Literal["thread", "listing", "unknown"] = "unknown",
                 thread_url: str | None = None, listed_thread_id: str | None = None) -> PageRecords:
    """The records of ``response`` (a Scrapy ``Response``, or an ``HtmlResponse`` built from saved bytes).

    ``engine`` parses the site's forum software (None: not recognised). ``dates`` resolves printed
    dates against the time the page was served; that time is also the items' ``scraped_at``.
    ``unbase`` turns a URL of the address the page was fetched from (a mirror, 127.0.0.1) into the
    site's. ``request_for`` says what the page was fetched as: a thread request is parsed as a thread
    page whatever it looks like, a listing request as what the engine says it is, and a page of
    unknown origin (a cache entry) as a thread unless the engine calls it a listing.
    ``thread_url`` and ``listed_thread_id`` are what the crawl already knows about the thread
    (from an earlier page, from the listing row that led here).
    """
    url = unbase(response.url)
    if engine is None:
        return PageRecords("unrecognised", url, problem=NO_ENGINE)
    kind = "thread" if request_for == "thread" else engine.page_kind(response)
    if kind == "listing":
        return PageRecords("listing", url, listing=engine.parse_listing_page(response, url, dates))
    if kind is None and request_for == "listing":
        return PageRecords("unrecognised", url, problem=NO_LAYOUT)
    page = engine.parse_thread_page(response, url, dates)
    if not page.posts:
        # Neither a listing nor a thread to the engine, unless the request said "thread".
        return PageRecords("unrecognised", url, thread=page, problem=NO_LAYOUT if kind is None else NO_POSTS)
    page.thread_id = page.thread_id or listed_thread_id or engine.thread_id_from_url(url)
    if page.thread_id is None:
        return PageRecords("unrecognised", url, thread=page, problem=NO_THREAD_ID)
    thread_url = unbase(thread_url or (page.canonical_url if page.page == 1 else None))
    items = list(post_items(page, site, thread_url, dates.now, unbase))
    return PageRecords("thread", url, thread=page, items=items, thread_url=thread_url)


def post_items(page: ThreadPage, site: str, thread_url: str | None, scraped_at, unbase: Unbase = same_url,
               source: str = "forum"):
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
            url=unbase(post.url),
            scraped_at=scraped_at,
            parent_id=post.parent_id,
        )
