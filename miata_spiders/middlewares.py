"""Downloader middlewares that keep our crawls polite.

* :class:`BackoffRetryMiddleware` replaces Scrapy's ``RetryMiddleware``: the same ``RETRY_*`` settings,
  but every retry waits an exponentially growing, jittered delay, and a 429/503 ``Retry-After`` is
  honoured and pauses the whole site, not just the one URL.
* :class:`BlockedPageMiddleware` stops ban, bot-challenge, rate-limit and login-wall pages served with
  an error status (403, 503, ...) before the retry middleware sees them: a block is not retried.
* :class:`SharedRobotsTxtMiddleware` replaces Scrapy's ``RobotsTxtMiddleware``: every request queued
  while a host's robots.txt is in flight is checked against it (Scrapy 2.19 lets all but the first through).
* :class:`BrowserUserAgentMiddleware` replaces Scrapy's ``UserAgentMiddleware``: rotating real
  desktop-browser User-Agents from scrapy-fake-useragent, or one fixed identifiable UA
  (``MIATA_USER_AGENT``).
"""

from __future__ import annotations

import logging
import random
import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import fake_useragent
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from scrapy_fake_useragent.middleware import RandomUserAgentMiddleware
from scrapy_fake_useragent.providers import BaseProvider, FixedUserAgentProvider
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, NoRouteError
from w3lib.url import safe_url_string

from miata_spiders.blocking import BlockWatch, classify_response, page_kind_of, stop_crawl, stopping
from miata_spiders.encoding import with_browser_encoding
from miata_spiders.httpcache import has_post_ids

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

# Statuses that are about the whole site (rate limit, overload, maintenance), so they pause every
# request to it and may carry Retry-After (RFC 9110 section 10.2.3). Other 5xx may be one broken page.
SITE_BUSY_STATUSES = frozenset({429, 503})

# 2**64 times any base is far past any cap; stopping there keeps the float arithmetic finite.
_MAX_BACKOFF_EXPONENT = 64
_DELTA_SECONDS = re.compile(r"[0-9]+")

# Failures that mean the host is not there at all: worth retrying once the site has answered (a
# resolver hiccup mid-crawl), not before (a mistyped URL, no network: minutes of backoff for nothing).
UNREACHABLE_ERRORS = (CannotResolveHostError, DownloadConnectionRefusedError,  # Scrapy 2.13+ wraps them
                      DNSLookupError, ConnectionRefusedError, NoRouteError)


# --- Pure helpers (unit-tested directly) ------------------------------------------------------


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    jitter: float,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry).

    ``min(cap, base * 2**(attempt-1))`` times a factor drawn uniformly from ``[1-jitter, 1+jitter]``.
    Jitter spreads out requests that failed together so they do not come back in lockstep; with
    ``jitter < 1/3`` the longest wait for one attempt stays below the shortest for the next
    (``(1+j) < 2(1-j)``), so a request's waits always grow until the cap.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts retries from 1, got {attempt}")
    nominal = min(cap, base * 2.0 ** min(attempt - 1, _MAX_BACKOFF_EXPONENT))
    return nominal * (rng or random).uniform(1 - jitter, 1 + jitter)


def http_date_to_timestamp(value: str) -> float | None:
    """POSIX timestamp of an HTTP-date (IMF-fixdate, RFC 850 or asctime form), or None if unparsable."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # HTTP-dates are always GMT (RFC 9110 section 5.6.7); asctime carries no zone at all.
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def parse_retry_after(value: bytes | str | None, *, now: float) -> float | None:
    """Seconds to wait per a Retry-After header value, or None when absent or unparsable.

    Both RFC 9110 forms: delta-seconds (``120``) and an HTTP-date, which is measured from ``now``
    (a POSIX timestamp; pass the response's own ``Date`` so our clock's skew does not matter).
    A date in the past means "retry now": 0.
    """
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    when = http_date_to_timestamp(text)
    if when is None:
        return None
    return max(0.0, when - now)


def server_now(response: Response) -> float:
    """The server's clock at the response (its ``Date`` header), or ours when it sent none."""
    date = response.headers.get("Date")
    server_time = http_date_to_timestamp(date.decode("latin-1")) if date else None
    return server_time if server_time is not None else time.time()


# --- Retries ------------------------------------------------------------------------------------


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware with exponential backoff, jitter and Retry-After.

    Which responses and exceptions are retried, how often, and the give-up log line all stay
    Scrapy's (``RETRY_*`` settings, ``get_retry_request``). Added:

    * before retry n the request waits ``backoff_delay(n)`` (``MIATA_RETRY_BACKOFF_*`` settings);
    * a 429/503 ``Retry-After`` makes it wait at least that long, up to ``MIATA_RETRY_AFTER_MAX``;
    * a 429/503 also holds the site's download slot for that wait, so the site's other queued
      requests wait too.

    The wait is an ``await`` in ``process_response`` / ``process_exception``: it suspends only this
    request's coroutine, the reactor and other sites go on. The waiting request still counts toward
    ``CONCURRENT_REQUESTS`` (like requests queued behind ``DOWNLOAD_DELAY``).
    """

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("MIATA_RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("MIATA_RETRY_BACKOFF_MAX", 300.0)
        self.backoff_jitter = settings.getfloat("MIATA_RETRY_BACKOFF_JITTER", 0.25)
        self.retry_after_max = settings.getfloat("MIATA_RETRY_AFTER_MAX", 600.0)
        if not 0 < self.backoff_base <= self.backoff_max:
            raise NotConfigured("need 0 < MIATA_RETRY_BACKOFF_BASE <= MIATA_RETRY_BACKOFF_MAX")
        if not 0 <= self.backoff_jitter < 1:
            raise NotConfigured("MIATA_RETRY_BACKOFF_JITTER must be in [0, 1)")
        if self.retry_after_max < 0:
            raise NotConfigured("MIATA_RETRY_AFTER_MAX must be >= 0")
        self.rng = random.Random()
        self._warned_slot_without_delay = False

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        site_busy = response.status in SITE_BUSY_STATUSES
        retry_after = None
        if site_busy:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=server_now(response))
        reason = response_status_message(response.status)
        retry = await self._retry_after_wait(request, reason, retry_after=retry_after, site_busy=site_busy)
        return retry or response

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if isinstance(exception, UNREACHABLE_ERRORS) and not self.crawler.stats.get_value("downloader/response_count"):
            self._close_unreachable(request, exception)
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = await self._retry_after_wait(request, exception, retry_after=None, site_busy=False)
        if retry is None:
            # Given up, and already logged with the URL and reason: no traceback of the last attempt.
            raise IgnoreRequest(f"gave up on {request.url}: {exception}")
        return retry

    def _close_unreachable(self, request: Request, exception: Exception) -> None:
        """Nothing has ever answered and the host cannot be resolved or connected to: stop now."""
        stats = self.crawler.stats
        if not stats.get_value("miata/close/detail"):
            detail = f"{request.url}: {exception.__class__.__name__}: {str(exception).strip() or 'no answer'}"
            stats.set_value("miata/close/detail", detail)
            logger.error("cannot reach the site (%s); stopping without retries", detail)
            stop_crawl(self.crawler, "site_unreachable")
        raise IgnoreRequest(f"site unreachable: {request.url}")

    async def _retry_after_wait(
        self,
        request: Request,
        reason: str | Exception,
        *,
        retry_after: float | None,
        site_busy: bool,
    ) -> Request | None:
        """The retry of ``request`` once its wait is over, or None when retries are exhausted."""
        attempt = request.meta.get("retry_times", 0) + 1
        wait = backoff_delay(
            attempt, base=self.backoff_base, cap=self.backoff_max, jitter=self.backoff_jitter, rng=self.rng
        )
        if retry_after is not None:
            wait = max(wait, self._honour_retry_after(request, retry_after))
        if site_busy:
            # Even when this URL is given up below: the site asked everyone to slow down.
            self._hold_site(request, wait)

        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )
        if retry is None:
            # get_retry_request has counted retry/max_reached and logged URL + reason at
            # RETRY_GIVE_UP_LOG_LEVEL (ERROR in our settings).
            self._gave_up()
            return None
        logger.debug("Retry %d of %s in %.2f s", attempt, request, wait)
        await sleep(wait)
        return retry

    def _gave_up(self) -> None:
        """Count a page given up; past MIATA_GIVE_UPS_TO_STOP the site is failing: stop asking it."""
        _count_give_up(self.crawler)

    def _honour_retry_after(self, request: Request, retry_after: float) -> float:
        """Seconds we will wait for a Retry-After of ``retry_after`` seconds; counts it in stats."""
        waited = min(retry_after, self.retry_after_max)
        if retry_after > self.retry_after_max:
            logger.warning(
                "Retry-After of %.0f s for %s exceeds MIATA_RETRY_AFTER_MAX; waiting %.1f s",
                retry_after,
                request,
                waited,
            )
        else:
            logger.info("Site asked to retry %s after %.1f s", request, retry_after)
        stats = self.crawler.stats
        stats.inc_value("miata/retry/retry_after_waits")
        stats.inc_value("miata/retry/retry_after_seconds_total", waited)
        return waited

    def _hold_site(self, request: Request, seconds: float) -> None:
        """Send nothing more to ``request``'s site for ``seconds``.

        Scrapy has no public call to pause a download slot; the slot's own delay check does it:
        it sends the next request only ``delay`` after ``lastseen``, so moving ``lastseen`` to the
        end of the pause holds every request queued for the site, then lets the normal pacing
        resume (AutoThrottle likewise tunes slots directly). A slot without a delay skips that check.
        """
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None:
            return
        if not slot.delay:
            if not self._warned_slot_without_delay:
                self._warned_slot_without_delay = True
                logger.warning(
                    "Download slots without a delay (DOWNLOAD_DELAY = 0) cannot be paused on 429/503: "
                    "only the retried request will wait"
                )
            return
        slot.lastseen = max(slot.lastseen, time.monotonic() + seconds)


# --- Redirect loops -----------------------------------------------------------------------------


class RedirectLoopMiddleware:
    """A redirect back to a URL this request has already been redirected through is a loop: Scrapy
    would follow it REDIRECT_MAX_TIMES times and then drop the page with a DEBUG line. Here the loop
    is seen the first time round, logged once as ERROR with its URLs, counted (``miata/redirect/loops``)
    and given up like a page whose retries ran out, so the run's exit status says pages were lost.
    It sits closer to the downloader than Scrapy's RedirectMiddleware (600), which then never sees it.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if response.status not in (301, 302, 303, 307, 308) or not location or request.meta.get("dont_redirect"):
            return response
        target = safe_url_string(response.urljoin(location.decode("latin-1")))
        seen = [*request.meta.get("redirect_urls", ()), request.url]
        if target not in seen:
            return response
        stats = self.crawler.stats
        stats.inc_value("miata/redirect/loops")
        logger.error("redirect loop, page given up: %s", " -> ".join([*seen, target]))
        _count_give_up(self.crawler)
        raise IgnoreRequest(f"redirect loop at {request.url}")


def _count_give_up(crawler: Crawler) -> None:
    """A lost page, counted where retries count theirs (and stopping a failing site the same way)."""
    stats = crawler.stats
    stats.inc_value("miata/retry/gave_up")
    limit = crawler.settings.getint("MIATA_GIVE_UPS_TO_STOP", 20)
    if limit and stats.get_value("miata/retry/gave_up") == limit:
        logger.error("%d pages given up: the site is failing, stopping the crawl", limit)
        stop_crawl(crawler, "retries_exhausted")


# --- Blocks -------------------------------------------------------------------------------------


class BlockedPageMiddleware:
    """A ban, bot-challenge, rate-limit or login-wall page, whatever its status, is not retried nor
    parsed: it is counted, logged once with its URL and dropped, and enough of them in a row close
    the crawl with ``site_blocking`` (:class:`miata_spiders.blocking.BlockWatch`). It sits closer to
    the downloader than the retry middleware, so a 403/503 block page never goes through the backoff
    retries, and it judges pages as they arrive, before the spider's backlog of responses.

    A page that carries posts is content, whatever else it says; a bare 429 stays the retry
    middleware's (Retry-After is the site's own, polite answer).
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.watch = BlockWatch.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in (301, 302, 303, 304, 307, 308):
            return response
        if 200 <= response.status < 300 and has_post_ids(response.body):
            return response  # checked first: one cheap search, and most pages a crawl sees are threads
        block = classify_response(response)
        if block is None or (response.status == 429 and block.kind == "rate_limit"):
            return response
        self.watch.blocked(request.url, response.status, block, page_kind_of(request))
        raise IgnoreRequest(f"blocked page at {request.url}: {block}")


class BrowserEncodingMiddleware:
    """A page that declares no charset (no header, no ``<meta>``) is decoded the way browsers do:
    UTF-8 when it is (nearly) UTF-8, else a detector; never a whole page in the wrong code page for a
    few bad bytes. ``miata_spiders.encoding`` decides, for the crawl and for ``miata parse`` alike."""

    def process_response(self, request: Request, response: Response) -> Response:
        return with_browser_encoding(response)


class StoppingGateMiddleware:
    """Once the crawl is being stopped for a block, an unreachable host or too many give-ups
    (``blocking.stop_crawl``), no further request leaves. Scrapy lets every request it already took
    from the scheduler go out while it closes; a site that has just blocked us gets none of them.
    Last before the download handler, so requests held in earlier middlewares are caught too.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        reason = stopping(self.crawler)
        if reason:
            raise IgnoreRequest(f"not requested: the crawl is stopping ({reason})")


# --- User-Agent ---------------------------------------------------------------------------------


class DesktopBrowserUserAgentProvider(BaseProvider):
    """scrapy-fake-useragent provider of real desktop-browser UAs from fake-useragent's bundled data.

    Desktop only: forum engines (vBulletin, XenForo) serve phones a different mobile skin that our
    parsers do not read. ``FAKEUSERAGENT_FALLBACK`` must be a str for fake-useragent 2.x.
    """

    BROWSERS = ("Chrome", "Firefox", "Edge", "Safari")
    # Share of real traffic (percent) below which a UA string is left out: the rarest entries of
    # fake-useragent 2.2's data include years-old browsers and one string wrapped in quotes.
    MIN_PERCENTAGE = 0.01

    # Its "desktop" data also holds iPad strings (Macintosh, but with a "Mobile/" token that sites
    # read as a phone); such draws are redrawn, this many times at most.
    MAX_DRAWS = 20

    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        fallback = settings.get("FAKEUSERAGENT_FALLBACK")
        options = {"fallback": fallback} if fallback else {}
        self._ua = fake_useragent.UserAgent(
            browsers=self.BROWSERS, platforms="desktop", min_percentage=self.MIN_PERCENTAGE, **options
        )
        # fake-useragent's ``.random`` filters its whole data set on every call (~2.6 ms, paid by every
        # request, cache hits included); filter once and draw uniformly from the result, as it does.
        try:
            self._choices = [d["useragent"] for d in self._ua._filter_useragents() if "Mobile" not in d["useragent"]]
        except (AttributeError, KeyError, TypeError):  # another fake-useragent version: draw through its API
            self._choices = []

    def get_random_ua(self) -> str:
        if self._choices:
            return random.choice(self._choices)
        for _ in range(self.MAX_DRAWS):
            user_agent = self._ua.random
            if "Mobile" not in user_agent:
                return user_agent
        return self._ua.fallback


class BrowserUserAgentMiddleware(RandomUserAgentMiddleware):
    """A browser User-Agent on every request that does not set its own.

    By default a random one per request from ``FAKEUSERAGENT_PROVIDERS`` (a request keeps its UA
    across retries, since a retry is a copy). With ``MIATA_USER_AGENT`` set, exactly that string,
    so a site admin can identify and contact us.
    """

    def __init__(self, crawler: Crawler):
        self.fixed_user_agent: str | None = crawler.settings.get("MIATA_USER_AGENT") or None
        if self.fixed_user_agent:
            logger.info("Every request carries MIATA_USER_AGENT %r", self.fixed_user_agent)
            return
        super().__init__(crawler)
        if isinstance(self._ua_provider, FixedUserAgentProvider):
            # scrapy-fake-useragent falls back to USER_AGENT with only an INFO line; say it louder.
            logger.warning(
                "No rotating User-Agent provider could be loaded; every request carries USER_AGENT %r",
                crawler.settings.get("USER_AGENT"),
            )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    # No spider argument: Scrapy 2.13+ deprecates it (the parent method requires one and ignores it).
    def process_request(self, request: Request) -> None:
        if self.fixed_user_agent:
            request.headers.setdefault("User-Agent", self.fixed_user_agent)
            return
        super().process_request(request, None)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware, with every request that waits for a host's robots.txt getting the
    parsed rules. Scrapy 2.19 has each waiter turn the one shared Deferred into an asyncio Future, and
    ``Deferred.asFuture`` passes the result to the first waiter only (its callback returns None): the
    second and later requests queued while robots.txt was in flight got None and were let through,
    disallowed or not. A resumed crawl starts many thread requests at once, so this matters here."""

    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter = Deferred()

            def relay(result):
                waiter.callback(result)
                return result  # kept for the next waiter

            pending.addBoth(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)
