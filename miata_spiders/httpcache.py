"""HTTP cache policy: keep every complete page forever, never keep a broken one, refetch on request.

Scrapy's ``DummyPolicy`` caches everything and never revalidates. We need two more things:
- a 200 page cut off mid-way (a backend that died while rendering) must not be cached, or every
  offline replay would re-parse the broken copy;
- the spider can ask for a fresh copy of a cached page (``request.meta["miata_refetch"] = True``):
  after a page turned out to be a maintenance page, or for listing pages on an incremental crawl.
  The fresh copy then replaces the cached one. robots.txt is always fetched afresh.
"""

from __future__ import annotations

from scrapy.extensions.httpcache import DummyPolicy
from scrapy.http import HtmlResponse

REFETCH = "miata_refetch"


def looks_complete(response) -> bool:
    """An HTML page is complete when its closing tag arrived; other content types are trusted."""
    content_type = response.headers.get(b"Content-Type", b"").lower()
    if b"html" not in content_type and not isinstance(response, HtmlResponse):
        return True
    return b"</html" in response.body[-4096:].lower()


class CompletePagePolicy(DummyPolicy):
    def __init__(self, settings):
        super().__init__(settings)
        # Replaying the cache offline: there is nothing to refetch from.
        self.offline = settings.getbool("HTTPCACHE_IGNORE_MISSING")

    def should_cache_response(self, response, request) -> bool:
        return super().should_cache_response(response, request) and looks_complete(response)

    def is_cached_response_fresh(self, cachedresponse, request) -> bool:
        return self.offline or not _wants_fresh(request)

    def is_cached_response_valid(self, cachedresponse, response, request) -> bool:
        return self.offline or not _wants_fresh(request)


def _wants_fresh(request) -> bool:
    # robots.txt is the site's standing instruction to us: read the current one on every crawl.
    return bool(request.meta.get(REFETCH)) or request.url.endswith("/robots.txt")
