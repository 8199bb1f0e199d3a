from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings

from miata_spiders.httpcache import CompletePagePolicy

URL = "https://www.miataturbo.net/engine-performance-56/"


def html(body: bytes, status=200):
    return HtmlResponse(URL, body=body, status=status, headers={"Content-Type": "text/html; charset=utf-8"})


def policy():
    return CompletePagePolicy(Settings({"HTTPCACHE_IGNORE_HTTP_CODES": [429, 503], "HTTPCACHE_IGNORE_SCHEMES": []}))


def test_complete_pages_are_cached_and_served_from_cache():
    request = Request(URL)
    assert policy().should_cache_response(html(b"<html><body>threads</body></html>\n"), request)
    assert policy().is_cached_response_fresh(html(b"<html></html>"), request)


def test_truncated_pages_and_errors_are_never_cached():
    request = Request(URL)
    assert not policy().should_cache_response(html(b"<html><body><div id='threadbits_forum_56'>cut"), request)
    assert not policy().should_cache_response(html(b"<html></html>", status=503), request)
    assert policy().should_cache_response(Response(URL + "robots.txt", body=b"User-agent: *"), request)


def test_a_refetch_request_bypasses_and_replaces_the_cached_copy():
    request = Request(URL, meta={"miata_refetch": True})
    cached, fresh = html(b"<html>maintenance</html>"), html(b"<html>threads</html>")
    assert not policy().is_cached_response_fresh(cached, request)
    assert not policy().is_cached_response_valid(cached, fresh, request)
    assert policy().should_cache_response(fresh, request)
