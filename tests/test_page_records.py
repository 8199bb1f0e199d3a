"""``page_records``: the one place a page becomes records, for the spider, ``miata parse`` and ``miata reparse``."""

from datetime import datetime
from pathlib import Path

from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import get_engine
from miata_spiders.page_records import NO_LAYOUT, NO_POSTS, NO_THREAD_ID, page_records
from pipelines.schema import content_hash

MIATATURBO = Path(__file__).resolve().parents[1] / "fixtures" / "miataturbo"
SITE_ROOT = "https://www.miataturbo.net"
MIRROR_ROOT = "http://127.0.0.1:8123"
THREAD_PATH = "/engine-performance-56/read-before-posting-engine-performance-faq-61234/"
FORUM_PATH = "/engine-performance-56/"
DATES = DateResolver(tz="America/New_York", now=datetime.fromisoformat("2024-03-11T09:30:00-04:00"))
ENGINE = get_engine("ib-vbulletin")


def mirrored(path: str, page: str, body: bytes | None = None) -> HtmlResponse:
    """The fixture page as fetched from a local mirror of the site."""
    return HtmlResponse(url=MIRROR_ROOT + path, body=body if body is not None else (MIATATURBO / page).read_bytes(),
                        headers={"Content-Type": "text/html; charset=ISO-8859-1"})


def unbase(url):
    return SITE_ROOT + url[len(MIRROR_ROOT):] if url and url.startswith(MIRROR_ROOT) else url


def test_a_mirrored_thread_page_gives_posts_with_the_sites_own_urls_and_hashes():
    records = page_records(mirrored(THREAD_PATH, "thread-61234-page1.html"), ENGINE, site="miataturbo",
                           dates=DATES, unbase=unbase, request_for="thread")
    assert records.kind == "thread" and records.url == SITE_ROOT + THREAD_PATH
    assert records.thread_url == SITE_ROOT + THREAD_PATH
    assert [item.thread_id for item in records.items] == ["61234", "61234"]
    for item in records.items:
        assert (item.site, item.thread_url, item.scraped_at) == ("miataturbo", SITE_ROOT + THREAD_PATH, DATES.now)
        assert item.url.startswith(SITE_ROOT + "/")
        assert item.content_hash == content_hash(item.body_text, item.quotes, item.images, item.is_deleted)


def test_a_later_page_carries_the_thread_url_the_crawl_already_knows():
    known = SITE_ROOT + "/engine-performance-56/bp-4w-11-psi-how-long-will-stock-internals-last-97412/"
    later = "/engine-performance-56/bp-4w-11-psi-how-long-will-stock-internals-last-97412/page2/"
    records = page_records(mirrored(later, "thread-97412-page2.html"), ENGINE, site="miataturbo", dates=DATES,
                           unbase=unbase, request_for="thread", thread_url=known)
    assert records.thread.page == 2
    assert {item.thread_url for item in records.items} == {known}


def test_a_listing_page_gives_its_threads_and_no_posts():
    records = page_records(mirrored(FORUM_PATH, "forum-56-page1.html"), ENGINE, site="miataturbo", dates=DATES,
                           unbase=unbase, request_for="listing")
    assert records.kind == "listing" and records.items == []
    assert "61234" in [thread.thread_id for thread in records.listing.threads]


def test_a_page_of_no_known_layout_is_named_as_such_unless_a_thread_was_asked_for():
    blank = mirrored(THREAD_PATH, "", body=b"<html><body><p>Down for maintenance</p></body></html>")
    problems = {request_for: page_records(blank, ENGINE, site="miataturbo", dates=DATES, request_for=request_for).problem
                for request_for in ("listing", "unknown", "thread")}
    assert problems == {"listing": NO_LAYOUT, "unknown": NO_LAYOUT, "thread": NO_POSTS}


def test_a_thread_id_missing_from_page_and_url_comes_from_the_listing_row_or_the_page_is_refused():
    body = (MIATATURBO / "thread-61234-page1.html").read_bytes().replace(b"61234", b"")
    response = HtmlResponse(url=SITE_ROOT + "/showpost.php", body=body,
                            headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    refused = page_records(response, ENGINE, site="miataturbo", dates=DATES, request_for="thread")
    listed = page_records(response, ENGINE, site="miataturbo", dates=DATES, request_for="thread",
                          listed_thread_id="61234")
    assert (refused.kind, refused.problem, refused.has_posts) == ("unrecognised", NO_THREAD_ID, True)
    assert listed.kind == "thread" and {item.thread_id for item in listed.items} == {"61234"}
