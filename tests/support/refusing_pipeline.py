"""An item pipeline that refuses to open, as the Parquet pipeline does when another run holds the
site's lock: for tests of how `scrapy crawl` and `miata crawl-all` report a MiataError."""

from miata_spiders.errors import SiteLockedError


class LockedSitePipeline:
    def open_spider(self, spider=None):
        raise SiteLockedError("another run (pid 4242) holds the lock on site miataturbo; not starting")

    def process_item(self, item, spider=None):
        return item
