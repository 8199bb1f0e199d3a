"""The per-site concurrency limit holds when no download delay is set (Scrapy 2.19 would start every
queued request of a site in one pass: see miata_spiders/downloader.py)."""

from scrapy import Request
from scrapy.core import downloader as scrapy_downloader
from scrapy.core.downloader import Slot
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from miata_spiders.downloader import SlotBoundDownloader


def test_one_pass_over_a_sites_queue_starts_no_more_downloads_than_its_limit(monkeypatch):
    scheduled = []
    # The download tasks are not run here: what matters is how many one pass of the queue starts.
    monkeypatch.setattr(scrapy_downloader, "_schedule_coro", lambda coro: (scheduled.append(coro), coro.close()))
    downloader = SlotBoundDownloader(get_crawler(settings_dict={"DOWNLOAD_DELAY": 0}))
    slot = Slot(concurrency=2, delay=0)
    for n in range(5):
        slot.queue.append((Request(f"http://127.0.0.1/{n}"), Deferred()))
    downloader._process_queue(slot)
    assert len(scheduled) == 2
    assert len(slot.transferring) == 2 and len(slot.queue) == 3
    downloader.close()
