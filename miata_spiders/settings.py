"""Scrapy settings for miata_spiders.

Project-specific settings are prefixed ``MIATA_``. Every value that is not Scrapy's default says why.
"""

import os

BOT_NAME = "miata_spiders"
SPIDER_MODULES = ["miata_spiders.spiders"]
NEWSPIDER_MODULE = "miata_spiders.spiders"
# Our `scrapy crawl` (miata_spiders/commands/crawl.py): Scrapy's, but its exit status says how the
# crawl ended (errors.CLOSE_REASONS), so cron sees a blocked or unreachable site as a failure.
COMMANDS_MODULE = "miata_spiders.commands"

# --- Where the dataset goes -------------------------------------------------------------------
# Parquet parts land in MIATA_DATA_DIR/posts/site=<site>/part-*.parquet (hive layout, so DuckDB and
# pyarrow.dataset read every site as one table with a `site` partition column).
MIATA_DATA_DIR = os.environ.get("MIATA_DATA_DIR", "data")
# A Parquet part is committed after MIATA_PARQUET_BATCH_SIZE rows or MIATA_PARQUET_FLUSH_SECONDS
# seconds after its first row, whichever comes first; a kill -9 loses at most that much crawling
# (it is fetched again by the next run). A polite live crawl (~1 page/s, ~15 posts a page) reaches
# 60 s long before 5,000 rows, so the time bounds its loss; the row count only matters when replaying
# the cache (thousands of rows a second, cheap to redo), where bigger parts compress better and make
# fewer files and fewer dedupe folds. Hence 5,000 rows stays.
MIATA_PARQUET_BATCH_SIZE = 5000
MIATA_PARQUET_FLUSH_SECONDS = 60.0
# Test-only: pause between writing a part and renaming it, so crash tests can kill mid-commit.
MIATA_PARQUET_COMMIT_DELAY = 0.0
# What `miata crawl-all` (cron) runs, in order; empty = every forum spider, then "reddit".
MIATA_CRAWL_ALL_SOURCES = []
# Where `miata crawl-all` keeps its rotating logs (default DATA_DIR/logs).
MIATA_LOG_DIR = os.environ.get("MIATA_LOG_DIR", "")
# Ignore the crawl state and fetch every thread again (same as `-a full=1`); dedupe still applies.
MIATA_FULL_CRAWL = False

# --- Several workers, one crawl (miata_spiders/distributed/, docs/scaling.md) --------------------
# redis://host:6379/0 makes this crawl a worker of the site's shared crawl (frontier, leases,
# politeness budget and dedupe in Redis). Empty: a standalone crawl, nothing below applies.
MIATA_REDIS_URL = os.environ.get("MIATA_REDIS_URL", "")
# Read at start: the add-on switches the shared parts on only when MIATA_REDIS_URL is set.
ADDONS = {"miata_spiders.distributed.addon.RedisWorkers": 0}
# Every Redis key of a site's shared crawl starts with "<prefix>:<site>:".
MIATA_REDIS_PREFIX = "miata"
# A request a worker took is given to another worker this long after the worker stops renewing it
# (it renews every sixth of it): how long a kill -9 delays the pages the dead worker held.
MIATA_REDIS_LEASE_SECONDS = 60.0
# A finished shared crawl stays finished this long: a worker started late exits instead of seeding
# the next crawl (cron starting N workers a few minutes apart).
MIATA_REDIS_FINISHED_TTL = 600.0
# How long a worker waits for an unreachable Redis (restarting) before a post it cannot dedupe is an error.
MIATA_REDIS_WAIT_SECONDS = 300.0
# One request budget (CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY/AutoThrottle) for all workers.
# False: every worker keeps its own budget (N workers, N times the load on the forum).
MIATA_REDIS_SHARED_BUDGET = True
# Other processes write parts into the same directory (set by the shared crawl's add-on): the writer
# then leaves temporary parts it did not create alone at start.
MIATA_PARQUET_SHARED_DIR = False

# --- Politeness -------------------------------------------------------------------------------
# Forums are run by volunteers or ad-funded companies who ban aggressive crawlers: obey robots.txt.
ROBOTSTXT_OBEY = True
# At most two requests in flight per site (AutoThrottle aims lower still): a forum thread page is
# expensive to render on the server side, and forums ban crawlers that hammer them.
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy's downloader, fixed to hold that limit also when DOWNLOAD_DELAY is 0 (miata_spiders/downloader.py).
DOWNLOADER = "miata_spiders.downloader.SlotBoundDownloader"
CONCURRENT_REQUESTS = 8
# Floor between two requests to the same site, in seconds; AutoThrottle only ever raises it.
DOWNLOAD_DELAY = 1.0
# Vary each delay by +-50% so our requests do not arrive with a machine's regularity.
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
# About one request in flight per site on average: we are a guest on the server.
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60

# --- Retries ----------------------------------------------------------------------------------
# miata_spiders.middlewares.BackoffRetryMiddleware stands in for Scrapy's RetryMiddleware (see
# DOWNLOADER_MIDDLEWARES below): these RETRY_* settings keep their Scrapy meaning.
RETRY_ENABLED = True
RETRY_TIMES = 5
# 429 and the gateway errors are what overloaded forums answer; they deserve a later retry.
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# A give-up is a lost page: log it with its URL and reason where it is seen (Scrapy's default, pinned).
RETRY_GIVE_UP_LOG_LEVEL = "ERROR"
# Retry n waits min(MIATA_RETRY_BACKOFF_MAX, MIATA_RETRY_BACKOFF_BASE * 2**(n-1)) seconds times a
# random factor in [1 - JITTER, 1 + JITTER]: ~2, 4, 8, 16, 32 s for our 5 retries, about a minute
# for a struggling forum to recover. A jitter below 1/3 keeps each wait longer than the one before.
MIATA_RETRY_BACKOFF_BASE = 2.0
MIATA_RETRY_BACKOFF_MAX = 300.0
MIATA_RETRY_BACKOFF_JITTER = 0.25
# A 429/503 Retry-After (seconds or HTTP-date) is waited out, and pauses the whole site, up to this
# many seconds; a longer one is logged and cut to this.
MIATA_RETRY_AFTER_MAX = 600.0

# --- Failing loudly: blocks, unreachable hosts, give-ups (miata_spiders.blocking, .middlewares) ---
# Ban, bot-challenge, rate-limit and login-wall pages in a row before the crawl stops with
# `site_blocking`: one may be a glitch, three mean the site has decided about us. Never retried.
MIATA_BLOCKED_PAGES_TO_STOP = 3
# Pages given up after all their retries before the crawl stops with `retries_exhausted`: the site is
# failing and hammering it further helps nobody (0 = never stop for this).
MIATA_GIVE_UPS_TO_STOP = 20
# Pages a finished crawl may have given up and still exit 0. Default 0: a run that lost pages says so
# (the next incremental run fetches them, as their threads were not recorded complete).
MIATA_GIVE_UPS_TOLERATED = 0

# --- HTTP cache: never fetch the same page twice ------------------------------------------------
# Every 200 page is kept on disk so a parser fix can be re-applied offline
# (`-s HTTPCACHE_IGNORE_MISSING=True` replays without touching the site).
HTTPCACHE_ENABLED = True
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 0
# Only successes are cached: a cached 429/503 would replay an outage forever.
HTTPCACHE_IGNORE_HTTP_CODES = [code for code in range(100, 600) if code != 200]
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
# Like Scrapy's DummyPolicy, but never caches a truncated page and can be told to refetch one.
HTTPCACHE_POLICY = "miata_spiders.httpcache.CompletePagePolicy"
HTTPCACHE_GZIP = True

# --- Pipelines: dedupe -> write Parquet ----------------------------------------------------------
# The spider records thread pages as done (its crawl state) only after the Parquet part holding their
# posts is renamed into place: see pipelines/progress.py.
ITEM_PIPELINES = {
    "pipelines.dedupe.DedupePipeline": 300,
    "pipelines.parquet.ParquetPipeline": 800,
}

FEED_EXPORT_ENCODING = "utf-8"
# Scrapy 2.13+ defaults; spelled out so a future default change does not alter crawls silently.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
LOG_LEVEL = "INFO"

# --- Downloader middlewares / User-Agent ---------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's own lets through every request but the first that waits for a host's robots.txt.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "miata_spiders.middlewares.SharedRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "miata_spiders.middlewares.BrowserUserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "miata_spiders.middlewares.BackoffRetryMiddleware": 550,
    # Closer to the downloader than Scrapy's RedirectMiddleware (600): a redirect loop is a lost page
    # the first time round, not 20 silent redirects.
    "miata_spiders.middlewares.RedirectLoopMiddleware": 650,
    # Closer to the downloader than the retry middleware: a 403/503 block page is never retried.
    "miata_spiders.middlewares.BlockedPageMiddleware": 560,
    # Undeclared charsets decoded like a browser; after decompression (590), before anything reads text.
    "miata_spiders.middlewares.BrowserEncodingMiddleware": 585,
    # Last before the download itself: nothing leaves once the crawl is stopping for a block.
    "miata_spiders.middlewares.StoppingGateMiddleware": 990,
}
# Set it (env var or -s) to send exactly this User-Agent, e.g. "MiataArchiveBot/1.0 (+mailto:you@...)",
# so a forum admin can identify and reach us. Unset: a random real desktop-browser UA per request.
MIATA_USER_AGENT = os.environ.get("MIATA_USER_AGENT") or None
# Desktop browsers only (phones get a mobile forum skin); the fixed provider is the last resort.
FAKEUSERAGENT_PROVIDERS = [
    "miata_spiders.middlewares.DesktopBrowserUserAgentProvider",
    "scrapy_fake_useragent.providers.FixedUserAgentProvider",
]
# fake-useragent 2.x requires a str fallback (None raises TypeError, and scrapy-fake-useragent then
# silently falls back to USER_AGENT): a real, current desktop Chrome.
FAKEUSERAGENT_FALLBACK = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/135.0.0.0 Safari/537.36"
)
# Never Scrapy's default: USER_AGENT is what the fixed provider sends and what robots.txt rules are
# matched against (RobotsTxtMiddleware runs before any User-Agent is set on the request).
USER_AGENT = MIATA_USER_AGENT or FAKEUSERAGENT_FALLBACK

# --- Extensions -------------------------------------------------------------------------------
# DATA_DIR/runs/<site>-last.json after every crawl: what cron's summary and drift alarm read.
EXTENSIONS = {
    "miata_spiders.extensions.RunSummary": 500,
    # Scrapy's, without a traceback for a run that closes before it opened (site lock held).
    "scrapy.extensions.corestats.CoreStats": None,
    "miata_spiders.extensions.CoreStats": 0,
    # One line every MIATA_PROGRESS_INTERVAL seconds: threads done of known, posts, requests, errors, rates.
    "miata_spiders.progress_log.CrawlProgressLog": 510,
}
# Seconds between the crawl's progress lines (miata_spiders/progress_log.py); 0 turns them off.
MIATA_PROGRESS_INTERVAL = 60.0
# A crawl is a batch job: no telnet console or remote-control port listening on the machine.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
