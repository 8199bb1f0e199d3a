"""Scrapy's downloader, holding CONCURRENT_REQUESTS_PER_DOMAIN also when no download delay is set.

Scrapy 2.19 (asyncio reactor) starts each download as an asyncio task and marks the request as
transferring only when that task first runs. Its queue loop checks the slot's free transfer places
before then, so with ``DOWNLOAD_DELAY = 0`` one pass starts every queued request of a site at once: a
test server saw 3 and 4 requests in flight under a limit of 2. (With a delay the loop starts one
request per pass, which is why our default 1 s floor was never affected.) Marking the request when
its download is scheduled closes the gap; Scrapy's own ``_download`` marks it again (a set) and
unmarks it when the download ends.
"""

from __future__ import annotations

from scrapy.core.downloader import Downloader


class SlotBoundDownloader(Downloader):
    def _wait_for_download(self, slot, request, queue_dfd):
        slot.transferring.add(request)  # counted now, before the next free_transfer_slots() check
        return super()._wait_for_download(slot, request, queue_dfd)
