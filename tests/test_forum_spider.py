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
    assert retry.url == url and retry.dont_filter and retry.meta["dont_cache"]
    assert s.crawler.stats.get_value("miata/parse/unrecognised_thread") == 1
    assert url in caplog.text
    # The retried page is still a maintenance page: give up, and say so in the stats.
    again = list(s.parse_thread(response(url, MAINTENANCE, meta=retry.meta)))
    assert again == []
    assert s.crawler.stats.get_value("miata/parse/gave_up") == 1
    assert s.crawler.stats.get_value("miata/parse/unrecognised_thread") == 2


def test_unrecognised_listing_page_is_counted():
    s = spider()
    out = list(s.parse_listing(response("https://www.miataturbo.net/", MAINTENANCE)))
    assert len(out) == 1 and out[0].meta["dont_cache"]
    assert s.crawler.stats.get_value("miata/parse/unrecognised_listing") == 1
