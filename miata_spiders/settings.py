"""Scrapy settings for miata_spiders.

Project-specific settings are prefixed ``MIATA_``. Every value that is not Scrapy's default says why.
"""

import os

BOT_NAME = "miata_spiders"
SPIDER_MODULES = ["miata_spiders.spiders"]
NEWSPIDER_MODULE = "miata_spiders.spiders"

# --- Where the dataset goes -------------------------------------------------------------------
# Parquet parts land in MIATA_DATA_DIR/posts/site=<site>/part-*.parquet (hive layout, so DuckDB and
# pyarrow.dataset read every site as one table with a `site` partition column).
MIATA_DATA_DIR = os.environ.get("MIATA_DATA_DIR", "data")
# Rows per Parquet part: big enough for good compression and few files, small enough that a crash
# loses at most this many rows of work (they are re-collected on the next run).
MIATA_PARQUET_BATCH_SIZE = 5000

# --- Politeness -------------------------------------------------------------------------------
# Forums are run by volunteers or ad-funded companies who ban aggressive crawlers: obey robots.txt.
ROBOTSTXT_OBEY = True
# One request at a time per site: a forum thread page is expensive to render on the server side.
CONCURRENT_REQUESTS_PER_DOMAIN = 2
CONCURRENT_REQUESTS = 8
# Floor between two requests to the same site, in seconds; AutoThrottle only ever raises it.
DOWNLOAD_DELAY = 1.0
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
# Less than one request in flight per site on average: we are a guest on the server.
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60

# --- Retries ----------------------------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 5
# 429 and the gateway errors are what overloaded forums answer; they deserve a later retry.
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]

# --- HTTP cache: never fetch the same page twice ------------------------------------------------
# Every 200 page is kept on disk so a parser fix can be re-applied offline
# (`-s HTTPCACHE_IGNORE_MISSING=True` replays without touching the site).
HTTPCACHE_ENABLED = True
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 0
# Only successes are cached: a cached 429/503 would replay an outage forever.
HTTPCACHE_IGNORE_HTTP_CODES = [code for code in range(100, 600) if code != 200]
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
HTTPCACHE_GZIP = True

# --- Pipelines: validate -> dedupe -> write, in that order -----------------------------------
ITEM_PIPELINES = {
    "pipelines.dedupe.DedupePipeline": 300,
    "pipelines.parquet.ParquetPipeline": 800,
}

FEED_EXPORT_ENCODING = "utf-8"
# Scrapy 2.13+ defaults; spelled out so a future default change does not alter crawls silently.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
LOG_LEVEL = "INFO"
