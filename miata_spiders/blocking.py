"""Pages a site serves instead of its content when it will not serve us: bans, bot challenges,
rate-limit pages and login walls, whatever their HTTP status.

:func:`classify` says what a page is, from markers the real products print (Cloudflare, DDoS-Guard,
Sucuri, Imperva, Akamai; vBulletin, XenForo and phpBB's own ban, permission and login pages). It is
precise rather than eager: a forum page with a login box in its header, or a post that mentions a ban,
is not a block. :class:`BlockWatch` counts consecutive blocked pages and closes the spider with
``site_blocking`` after ``MIATA_BLOCKED_PAGES_TO_STOP`` of them: a site that blocks us is left alone,
and a block is never solved or bypassed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from scrapy.utils.defer import deferred_from_coro

logger = logging.getLogger(__name__)

CLOSE_REASON = "site_blocking"

# Only the start of a page is read: every product below prints its markers in the first few
# kilobytes of a page that is small anyway, and a forum thread page can be megabytes long.
_HEAD_BYTES = 256 * 1024

# (kind, pattern) on the lower-cased page; first match wins, so the most specific come first.
_MARKERS: list[tuple[str, re.Pattern]] = [(kind, re.compile(pattern.encode())) for kind, pattern in [
    # --- bot challenges (JavaScript / CAPTCHA interstitials) ---
    ("challenge", r"<title>\s*just a moment(?:\.\.\.|&hellip;|\xe2\x80\xa6)"),
    ("challenge", r"/cdn-cgi/challenge-platform/|\b_?cf_chl_opt\b|\bcf-chl-"),
    ("challenge", r"<title>\s*attention required! \| cloudflare"),
    ("challenge", r"checking your browser before accessing"),
    ("challenge", r"<title>\s*ddos-guard\s*</title>|ddos-guard\.net/|check\.ddos-guard"),
    ("challenge", r"_incapsula_resource|incapsula incident id"),
    ("challenge", r"<title>\s*(?:human verification|verify you are human|security check)\s*</title>"),
    # --- bans and firewalls ---
    ("ban", r"sorry, you have been blocked"),
    ("ban", r"you have been banned|your (?:ip|ip address|account) (?:has been|is) banned"
            r"|banned from this (?:board|forum)"),
    ("access_denied", r"sucuri website firewall|sucuri webSite firewall - access denied|cloudproxy\.sucuri"),
    ("access_denied", r"<title>\s*access denied\s*</title>[\s\S]{0,4000}you don.t have permission to access"),
    # --- rate limiting (a *page* saying so; a bare 429 is the retry middleware's, with Retry-After) ---
    ("rate_limit", r"<title>\s*(?:429 )?too many requests\s*</title>|<h1>\s*too many requests\s*</h1>"),
    ("rate_limit", r"you are being rate limited|rate limit exceeded|error code:? 1015"),
    # --- login walls: the engines' own permission pages (never their header login boxes) ---
    ("login_wall", r"you are not logged in or you do not have permission to access this page"),  # vBulletin
    ("login_wall", r"you must be logged-in to do that"),  # XenForo 1 and 2
    ("login_wall", r"the board requires you to be registered and logged in"),  # phpBB
    ("login_wall", r"you do not have permission to view this page or perform this action"),  # XenForo
    ("login_wall", r"you are not authori[sz]ed to read this forum"),  # phpBB
]]
# A word every marker above contains: an ordinary page (nearly all of them) is ruled out by these plain
# substring tests, far cheaper than the patterns; a page with one of them goes through the ordered list.
_MARKER_WORDS = (b"just a moment", b"challenge-platform", b"cf_chl_opt", b"cf-chl-", b"attention required",
                 b"checking your browser", b"ddos-guard", b"incapsula", b"human verification",
                 b"verify you are human", b"security check", b"you have been blocked", b"banned", b"sucuri",
                 b"access denied", b"too many requests", b"rate limit", b"1015", b"not logged in", b"logged-in",
                 b"registered and logged in", b"do not have permission", b"not authori")
# phpBB's login page, served in place of a topic to guests: its form is ``form#login`` (a board's
# header quick-login form has no id) with a password field.
_PHPBB_LOGIN_FORM = re.compile(rb"<form\b[^>]*\bid=[\"']login[\"'][^>]*>[\s\S]{0,5000}?type=[\"']password[\"']")
# A generic server refusal, only when the status says so too.
_FORBIDDEN_TITLE = re.compile(rb"<title>\s*(?:403 forbidden|forbidden|access denied|error 403)\b")


@dataclass(frozen=True)
class Block:
    """What a blocked page is (``challenge``, ``ban``, ``access_denied``, ``rate_limit``,
    ``login_wall``) and the marker that showed it."""

    kind: str
    evidence: str

    def __str__(self) -> str:
        return f"{self.kind.replace('_', ' ')} ({self.evidence})"


def classify(body: bytes, status: int = 200) -> Block | None:
    """The block a page is, or None when it is not one (content, a maintenance page, an error page)."""
    text = body[:_HEAD_BYTES].lower()
    if any(word in text for word in _MARKER_WORDS):
        for kind, pattern in _MARKERS:
            match = pattern.search(text)
            if match:
                return Block(kind, match.group(0)[:80].decode("utf-8", "replace"))
    match = _PHPBB_LOGIN_FORM.search(text)
    if match:
        return Block("login_wall", "form#login with a password field")
    if status in (401, 403) and (match := _FORBIDDEN_TITLE.search(text)):
        return Block("access_denied", match.group(0).decode("utf-8", "replace"))
    return None


def classify_response(response) -> Block | None:
    """:func:`classify` for a Scrapy response (HTML or text only: an image is never a block page)."""
    content_type = response.headers.get(b"Content-Type", b"").lower()
    if content_type and b"html" not in content_type and b"text" not in content_type:
        return None
    return classify(response.body, response.status)


class BlockWatch:
    """Counts consecutive blocked pages of one crawl and stops the crawl at the limit.

    One per crawler (:meth:`of`): the downloader middleware reports blocked error responses, the
    spider reports blocked 200 pages and every usable page. Counted per kind of page (thread,
    listing): a forum that serves its listings but walls every thread behind a login is as closed
    to us as one that bans us, although usable listing pages keep arriving between the walls.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.limit = max(1, crawler.settings.getint("MIATA_BLOCKED_PAGES_TO_STOP", 3))
        self.consecutive: dict[str, int] = {}
        self.served: set[str] = set()  # page kinds the site has served with content in this crawl
        self.closing = False

    @classmethod
    def of(cls, crawler) -> BlockWatch:
        watch = getattr(crawler, "_miata_block_watch", None)
        if watch is None:
            watch = crawler._miata_block_watch = cls(crawler)
        return watch

    def usable(self, page_kind: str) -> None:
        """A page of ``page_kind`` (thread, listing) with content arrived: the site serves those."""
        self.consecutive[page_kind] = 0
        self.served.add(page_kind)

    def blocked(self, url: str, status: int, block: Block, page_kind: str) -> None:
        """A blocked page: counted, logged once with its URL, never retried; the crawl is closed
        when ``limit`` pages of one kind come blocked in a row."""
        stats = self.crawler.stats
        if block.kind == "login_wall" and page_kind == "listing" and "listing" in self.served:
            # A members-only sub-forum of a forum whose other listings we can read: its threads are not
            # for us, the rest of the site is. Counted and skipped; it never stops the crawl, however many.
            stats.inc_value("miata/blocked/members_only_listings")
            logger.warning("members-only forum skipped at %s (status %d): %s", url, status, block)
            return
        stats.inc_value("miata/blocked/pages")
        stats.inc_value(f"miata/blocked/{block.kind}")
        stats.set_value("miata/blocked/reason", f"{block} at {url}")
        count = self.consecutive[page_kind] = self.consecutive.get(page_kind, 0) + 1
        logger.warning("blocked %s page at %s (status %d): %s", page_kind, url, status, block)
        if count >= self.limit and not self.closing:
            self.closing = True
            logger.error("%s blocks the crawl: %d %s pages in a row were %s pages (last: %s); stopping, "
                         "nothing more is requested", _host(url), count, page_kind, block.kind.replace("_", " "), url)
            stop_crawl(self.crawler, CLOSE_REASON)


def stop_crawl(crawler, reason: str) -> None:
    """Close the crawl with ``reason`` now, and send nothing more to the site.

    Scrapy's close lets every request already handed to the downloader go out first: up to
    CONCURRENT_REQUESTS of them wait in the download slots' queues. For a site that has just banned
    us, or cannot be reached, those are dropped here. Scrapy has no public call for it; the slot
    queue holds (request, deferred) pairs, and failing the deferred is what the downloader itself
    does with a request whose download failed.
    """
    from scrapy.exceptions import IgnoreRequest
    from twisted.python.failure import Failure

    engine = crawler.engine
    if engine is None or engine.spider is None or stopping(crawler):
        return
    crawler._miata_stopping = reason  # from now on no request leaves (BlockedPageMiddleware.process_request)
    dropped = 0
    for slot in list(getattr(engine.downloader, "slots", {}).values()):
        queue = getattr(slot, "queue", None)
        while queue:
            request, deferred = queue.popleft()
            deferred.errback(Failure(IgnoreRequest(f"not requested: the crawl is stopping ({reason})")))
            dropped += 1
    logger.info("stopping the crawl (%s): %d queued requests dropped", reason, dropped)
    deferred_from_coro(engine.close_spider_async(reason=reason))


def stopping(crawler) -> str | None:
    """The reason the crawl is being stopped by :func:`stop_crawl`, None while it runs."""
    return getattr(crawler, "_miata_stopping", None)


def page_kind_of(request) -> str:
    """What a request fetches, from the spider callback it is for: "thread", "listing" or "page"."""
    name = getattr(request.callback, "__name__", "") or ""
    for kind in ("thread", "listing"):
        if kind in name:
            return kind
    return "page"


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url
