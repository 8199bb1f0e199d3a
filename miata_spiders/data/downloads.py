"""``miata data images --download DIR``: fetch the images of the image table into a content-addressed store.

Off by default: it is a second crawl, of image hosts this time. It goes through Scrapy (its
FilesPipeline, downloader and middlewares), so it is polite the way the forum crawls are: robots.txt
obeyed, a few requests per host at a time with a delay and AutoThrottle, the project's User-Agent.

The store:

    DIR/sha256/ab/ab12...ef.jpg     # one file per distinct content: the SHA-256 of its bytes names it
    DIR/manifest.jsonl              # one line per URL fetched: url, path, sha256, bytes, content type

Two URLs serving the same bytes share one file. It is resumable: a URL already in the manifest (with
its file present) is not fetched again, so an interrupted run picks up where it stopped. Responses
larger than ``--max-bytes`` are abandoned mid-transfer (Scrapy's DOWNLOAD_MAXSIZE) and responses that
are not images (an HTML error page served with 200) are refused; both are counted, not stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

MANIFEST = "manifest.jsonl"
DEFAULT_MAX_BYTES = 20 * 2**20
DEFAULT_DELAY = 0.5
PER_HOST = 2


def add_download_arguments(p) -> None:
    p.add_argument("--download", metavar="DIR", help="also fetch every image into DIR (content-addressed, "
                                                     "resumable; off by default)")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES,
                   help="abandon an image larger than this (default: %(default)s)")
    p.add_argument("--delay", type=float, default=DEFAULT_DELAY,
                   help="seconds between requests to one host (default: %(default)s; AutoThrottle may wait longer)")
    p.add_argument("--per-host", type=int, default=PER_HOST,
                   help="requests in flight per host (default: %(default)s)")


def check_download_dir(directory: Path) -> None:
    from miata_spiders.data.source import DataError

    if directory.exists() and not directory.is_dir():
        raise DataError(f"--download {directory} is a file, not a directory")


def read_manifest(directory: Path) -> dict[str, dict]:
    """url -> its manifest record, for the records whose file is still in the store."""
    known: dict[str, dict] = {}
    manifest = directory / MANIFEST
    if not manifest.exists():
        return known
    with manifest.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: that URL is fetched again
            if (directory / record["path"]).is_file():
                known[record["url"]] = record
    return known


def image_urls(table: Path, known: dict[str, dict]):
    """Distinct http(s) image URLs of the table not yet in the store, in the table's order, a batch at a time."""
    import pyarrow.parquet as pq

    seen: set[str] = set(known)
    for batch in pq.ParquetFile(table).iter_batches(columns=["url"], batch_size=16384):
        for url in batch.column(0).to_pylist():
            if url and url not in seen and urlsplit(url).scheme in ("http", "https"):
                seen.add(url)
                yield url


def download_images(table: Path, directory: Path, args) -> int:
    """Fetch the images of ``table`` into ``directory``; returns the exit status."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.utils.project import get_project_settings

    directory.mkdir(parents=True, exist_ok=True)
    known = read_manifest(directory)
    project = get_project_settings()
    settings = Settings({
        "USER_AGENT": project.get("USER_AGENT"),
        "ROBOTSTXT_OBEY": True,
        "DOWNLOADER_MIDDLEWARES": {"scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                                   "miata_spiders.middlewares.SharedRobotsTxtMiddleware": 100},
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": max(1, args.per_host),
        "DOWNLOAD_DELAY": max(0.0, args.delay),
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(0.0, args.delay),
        "DOWNLOAD_MAXSIZE": args.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": 2,
        # No telnet console or remote-control port listening while it runs, as for the crawls.
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "TWISTED_REACTOR": project.get("TWISTED_REACTOR"),
        "ITEM_PIPELINES": {_pipeline_class(): 1},
        "FILES_STORE": str(directory),
        # A stored file is never stale: its name is its content.
        "FILES_EXPIRES": 365 * 1000,
        "MEDIA_ALLOW_REDIRECTS": True,
    })
    tally = DownloadTally(already=len(known))
    started = time.perf_counter()
    process = CrawlerProcess(settings, install_root_handler=True)
    # Each image not stored is counted by reason in the summary line; Scrapy's media pipeline would also
    # log a traceback for each. (Set after CrawlerProcess: its logging setup resets child loggers' levels.)
    logging.getLogger("scrapy.pipelines.media").setLevel(logging.CRITICAL)
    process.crawl(_image_spider_class(), table=table, known=known, tally=tally)
    process.start()
    print(f"images --download: {tally.downloaded:,} fetched ({tally.bytes / 2**20:,.1f} MiB, {tally.duplicates:,} "
          f"same bytes as another URL), {tally.already:,} already in the store, {tally.failed_total:,} not stored"
          + (f" ({', '.join(f'{n} {why}' for why, n in tally.failed.most_common())})" if tally.failed else "")
          + f" -> {directory} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


class DownloadTally:
    def __init__(self, already: int = 0):
        self.already = already
        self.downloaded = 0
        self.duplicates = 0
        self.bytes = 0
        self.failed: Counter[str] = Counter()
        self.bar = None

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())


def _image_spider_class():
    import scrapy

    class ImageSpider(scrapy.Spider):
        """Yields one item per image URL; the pipeline fetches it. No pages of its own."""

        name = "images"

        def __init__(self, table: Path, known: dict, tally: DownloadTally, **kwargs):
            super().__init__(**kwargs)
            self.table, self.known, self.tally = table, known, tally

        async def start(self):
            from miata_spiders.data.source import progress_bar

            self.tally.bar = progress_bar(desc="images", unit=" img")
            for url in image_urls(self.table, self.known):
                yield {"file_urls": [url]}

        def closed(self, reason):
            if self.tally.bar is not None:
                self.tally.bar.close()

    return ImageSpider


def _pipeline_class():
    from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
    from scrapy.pipelines.files import FilesPipeline
    from scrapy.pipelines.media import FileException

    class ContentAddressedImages(FilesPipeline):
        """FilesPipeline storing each image under the SHA-256 of its bytes and logging it in the manifest."""

        def open_spider(self, spider=None):
            super().open_spider()
            self.tally: DownloadTally = self.crawler.spider.tally
            self.known: dict = self.crawler.spider.known
            self.directory = Path(self.crawler.settings["FILES_STORE"])
            self.manifest = (self.directory / MANIFEST).open("a", encoding="utf-8")
            self.hashes = {record["sha256"] for record in self.known.values()}

        def close_spider(self, spider=None):
            self.manifest.flush()
            os.fsync(self.manifest.fileno())
            self.manifest.close()

        def file_path(self, request, response=None, info=None, *, item=None):
            if response is None:
                # Before downloading: a URL in the manifest points at its stored file (found: not fetched
                # again); any other at a name that never exists, so it is fetched.
                record = self.known.get(request.url)
                return record["path"] if record else f"pending/{hashlib.sha1(request.url.encode()).hexdigest()}"
            digest = hashlib.sha256(response.body).hexdigest()
            return f"sha256/{digest[:2]}/{digest}{_extension(request.url, response)}"

        def media_failed(self, failure, request, info):
            error = failure.value
            if isinstance(error, FileException):
                pass  # raised by media_downloaded below, already counted there
            elif isinstance(error, IgnoreRequest):
                reason = "refused by robots.txt" if "robots" in str(error).lower() else "filtered"
            elif isinstance(error, DownloadCancelledError) and "max size" in str(error):
                reason = "over --max-bytes"
            else:
                reason = f"failed ({type(error).__name__})"
            if not isinstance(error, FileException):
                self.tally.failed[reason] += 1
            return super().media_failed(failure, request, info)

        async def media_downloaded(self, response, request, info, *, item=None):
            content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").split(";")[0].strip().lower()
            if response.status != 200 or not response.body:
                self.tally.failed[f"HTTP {response.status}" if response.status != 200 else "empty"] += 1
            elif not content_type.startswith("image/"):
                # An HTML error or login page served with 200 is not an image, whatever its URL says.
                self.tally.failed["not an image"] += 1
                self.crawler.stats.inc_value("file_status_count/not_an_image")
                raise FileException(f"not an image ({content_type or 'no Content-Type'}): {request.url}")
            result = await super().media_downloaded(response, request, info, item=item)
            digest = PurePosixPath(result["path"]).stem
            self.tally.downloaded += 1
            self.tally.bytes += len(response.body)
            if digest in self.hashes:
                self.tally.duplicates += 1
            self.hashes.add(digest)
            record = {"url": request.url, "path": result["path"], "sha256": digest, "bytes": len(response.body),
                      "content_type": content_type, "fetched_at": datetime.now(timezone.utc).isoformat()}
            self.manifest.write(json.dumps(record) + "\n")
            self.manifest.flush()
            return result

        def item_completed(self, results, item, info):
            if self.tally.bar is not None:
                self.tally.bar.update(len(results))
            return item

    return ContentAddressedImages


def _extension(url: str, response) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix in mimetypes.types_map and mimetypes.types_map[suffix].startswith("image/"):
        return suffix
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").split(";")[0].strip()
    return mimetypes.guess_extension(content_type) or ""
