"""The spider's routing and its handling of pages it does not recognise, called directly."""

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from miata_spiders.items import PostItem
from miata_spiders.spiders.miataturbo import MiataturboSpider

MAINTENANCE = b"""<html><head><title>MiataTurbo.net - Down for maintenance</title></head>
<body><h1>We'll be back shortly</h1><p>The forum is being upgraded.</p></body></html>"""


def spider():
    crawler = get_crawler(MiataturboSpider, {"RETRY_TIMES": 2})
    crawler.spider = crawler._create_spider()
    return crawler.spider


def response(url, body, meta=None):
    request = Request(url, meta=meta or {})
    return HtmlResponse(url=url, body=body, request=request, headers={"Date": "Wed, 25 Nov 2026 17:00:00 GMT"})


def test_unrecognised_thread_page_is_counted_logged_and_retried_once_uncached(caplog):
    s = spider()
    url = "https://www.miataturbo.net/engine-performance-56/boost-leak-101/"
    out = list(s.parse_thread(response(url, MAINTENANCE)))
    assert not [o for o in out if isinstance(o, PostItem)]
    (retry,) = out
    assert retry.url == url and retry.dont_filter and retry.meta["miata_refetch"]
    assert s.crawler.stats.get_value("miata/parse/unrecognised_thread") == 1
    assert url in caplog.text
    # Still a maintenance page after the page retries: give up, and say so in the stats and the log.
    meta = retry.meta
    for _ in range(s.page_retry_times - 1):
        (retry,) = s.parse_thread(response(url, MAINTENANCE, meta=meta))
        meta = retry.meta
    assert list(s.parse_thread(response(url, MAINTENANCE, meta=meta))) == []
    assert s.crawler.stats.get_value("miata/parse/gave_up") == 1
    assert s.crawler.stats.get_value("miata/parse/unrecognised_thread") == s.page_retry_times + 1
    assert f"gave up on thread page {url}" in caplog.text


def test_unrecognised_listing_page_is_counted():
    s = spider()
    out = list(s.parse_listing(response("https://www.miataturbo.net/", MAINTENANCE)))
    assert len(out) == 1 and out[0].meta["miata_refetch"]
    assert s.crawler.stats.get_value("miata/parse/unrecognised_listing") == 1


def test_truncated_thread_page_is_refetched_not_parsed():
    s = spider()
    url = "https://www.miataturbo.net/engine-performance-56/boost-leak-101/"
    cut = b"<html><body><div id='posts'><div id='edit1'><div id='post1'><div id='post_message_1'>Half a po"
    (retry,) = s.parse_thread(response(url, cut))
    assert retry.meta["miata_refetch"]
    assert s.crawler.stats.get_value("miata/parse/truncated_thread") == 1
