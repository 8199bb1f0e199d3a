"""The one switch: with ``MIATA_REDIS_URL`` set (``-s`` or the environment), a forum crawl becomes a
worker of the site's shared crawl. A Scrapy add-on, because ``-s MIATA_REDIS_URL=...`` arrives with the
command line, after settings.py has been read; the add-on sees the final settings and swaps in the
shared scheduler, budget and dedupe. Without the setting it changes nothing.
"""

from __future__ import annotations

from miata_spiders.distributed import redis_url

SCHEDULER = "miata_spiders.distributed.scheduler.LeasedScheduler"
# Last before the download handler, after StoppingGateMiddleware (990): a request waits for its place
# in the site's budget as late as possible, and gives it back as soon as its response is in.
POLITENESS_ORDER = 995


class RedisWorkers:
    def update_settings(self, settings) -> None:
        url = redis_url(settings)
        if not url:
            return
        settings.set("MIATA_REDIS_URL", url, priority="addon")
        settings.set("REDIS_URL", url, priority="addon")  # what scrapy-redis connects to
        settings.set("SCHEDULER", SCHEDULER, priority="addon")
        # The frontier, leases and seen-set outlive every worker: a worker's exit never clears them.
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        from miata_spiders.distributed.dedupe import SharedDedupePipeline
        from miata_spiders.distributed.politeness import SharedPolitenessMiddleware
        from pipelines.dedupe import DedupePipeline

        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", SharedPolitenessMiddleware, POLITENESS_ORDER)
        settings.replace_in_component_priority_dict("ITEM_PIPELINES", DedupePipeline, SharedDedupePipeline)
        # Workers write parts into one directory: a worker starting must not delete another's part
        # being committed (a killed worker's temporary part stays until a standalone run cleans it).
        settings.set("MIATA_PARQUET_SHARED_DIR", True, priority="addon")
