"""HTTP cache policy: keep every complete page forever, never keep a broken one, refetch on request.

Scrapy's ``DummyPolicy`` caches everything and never revalidates. We need two more things:
- a 200 page cut off mid-way (a backend that died while rendering) must not be cached, or every
  offline replay would re-parse the broken copy;
- the spider can ask for a fresh copy of a cached page (``request.meta["miata_refetch"] = True``):
  after a page turned out to be a maintenance page, or for listing pages on an incremental crawl.
  The fresh copy then replaces the cached one. robots.txt is always fetched afresh.
"""

from __future__ import annotations

import re

from scrapy.extensions.httpcache import DummyPolicy
from scrapy.http import HtmlResponse

from miata_spiders.blocking import classify_response
from miata_spiders.engines.base import page_root, xpath

REFETCH = "miata_refetch"

# A post container's id attribute as vBulletin (post123, post_123), XenForo (post-123, js-post-123)
# and phpBB (p123) write it. Compared between raw bytes and the parsed tree, so an id that is not an
# element's (in a comment, a script) is the only way to be wrong, and those do not carry this form.
_POST_ID_ATTRIBUTE = re.compile(rb"""\bid\s*=\s*["'](?:(?:js-)?post[_-]?|p)(\d+)["']""")
_BY_ID = xpath("id($id)")  # libxml2 indexes every id while parsing


def looks_complete(response) -> bool:
    """An HTML page is complete when its closing tag arrived; other content types are trusted."""
    content_type = response.headers.get(b"Content-Type", b"").lower()
    if b"html" not in content_type and not isinstance(response, HtmlResponse):
        return True
    return b"</html" in response.body[-4096:].lower()


def has_post_ids(body: bytes) -> bool:
    """The markup carries at least one post container id: the page holds posts."""
    return _POST_ID_ATTRIBUTE.search(body) is not None


def missing_post_ids(response) -> int:
    """How many post ids the page's raw markup carries as an ``id`` attribute that the parsed tree
    lacks: more than zero means the HTML parser stopped building the tree part-way (lxml does past
    ~2,000 levels of nesting), so later posts and the next-page link are silently gone and the page
    must be treated as truncated. Engine-agnostic (engines may know better: ``missing_posts``).

    Each id the markup names is looked up in libxml2's id index of the page's one tree (the engines'
    tree, parsed once): a few lookups per page, no walk of the document."""
    in_markup: dict[bytes, set[bytes]] = {}  # post number -> the id values naming it
    for match in _POST_ID_ATTRIBUTE.finditer(response.body):
        value = match.group(0).split(b"=", 1)[1].strip()[1:-1]
        in_markup.setdefault(match.group(1), set()).add(value)
    if not in_markup:
        return 0
    root = page_root(response)
    return sum(1 for values in in_markup.values()
               if not any(_BY_ID(root, id=value.decode("ascii")) for value in values))


class CompletePagePolicy(DummyPolicy):
    def __init__(self, settings):
        super().__init__(settings)
        # Replaying the cache offline: there is nothing to refetch from.
        self.offline = settings.getbool("HTTPCACHE_IGNORE_MISSING")

    def should_cache_response(self, response, request) -> bool:
        # A ban or challenge page served with 200 would otherwise replay forever from the cache.
        return (super().should_cache_response(response, request) and looks_complete(response)
                and classify_response(response) is None)

    def is_cached_response_fresh(self, cachedresponse, request) -> bool:
        return self.offline or not _wants_fresh(request)

    def is_cached_response_valid(self, cachedresponse, response, request) -> bool:
        return self.offline or not _wants_fresh(request)


def _wants_fresh(request) -> bool:
    # robots.txt is the site's standing instruction to us: read the current one on every crawl.
    return bool(request.meta.get(REFETCH)) or request.url.endswith("/robots.txt")
