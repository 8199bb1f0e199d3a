"""Drop posts the dataset already has; keep edited posts as new versions.

A post is identified by (site, post_id) and its content by ``content_hash``. A row whose
(site, post_id, content_hash) was already seen - earlier in this run or in a stored Parquet part -
is dropped; the same post with a new hash is an edit and goes on as a new version row.
"""

from __future__ import annotations

import bisect
import enum
import logging
import time

import pyarrow as pa
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from pipelines.crawl_state import ThreadProgress
from pipelines.dataset import DECIMAL_POST_ID, DataDirError, load_seen_keys, version_key
from pipelines.schema import CONTENT_HASH_FORMAT, content_hash

logger = logging.getLogger(__name__)


class Verdict(enum.Enum):
    NEW_POST = "new_post"
    NEW_VERSION = "new_version"
    SEEN_IN_RUN = "seen_in_run"
    SEEN_STORED = "seen_stored"


def _as_py(scalar: pa.Scalar):
    return scalar.as_py()


class SeenPosts:
    """The versions of one site's posts: stored ones (sorted Arrow arrays) plus this run's.

    Stored keys (from ``load_seen_keys``) stay in Arrow memory, 24 bytes a row for numeric post
    ids, and are binary-searched; only posts met in this run become Python objects.
    """

    def __init__(self, stored: pa.Table):
        self._stored_ids = stored.column("post_id").combine_chunks()
        self._stored_keys = stored.column("version_key").combine_chunks()
        self._numeric_ids = pa.types.is_integer(self._stored_ids.type)
        self._run: dict[str, tuple[bytes, ...]] = {}

    def __len__(self) -> int:
        return len(self._stored_ids) + sum(len(keys) for keys in self._run.values())

    def _stored_versions(self, post_id: str) -> list[bytes]:
        probe = post_id
        if self._numeric_ids:
            if not DECIMAL_POST_ID.fullmatch(post_id):
                return []  # every stored id is a canonical decimal, so this one is not among them
            probe = int(post_id)
        first = bisect.bisect_left(self._stored_ids, probe, key=_as_py)
        last = bisect.bisect_right(self._stored_ids, probe, lo=first, key=_as_py)
        return self._stored_keys[first:last].to_pylist()

    def check_and_add(self, post_id: str, content_hash: str) -> Verdict:
        """Classify one sighting of a post, remembering it unless it is a duplicate."""
        key = version_key(content_hash)
        in_run = self._run.get(post_id, ())
        if key in in_run:
            return Verdict.SEEN_IN_RUN
        stored = self._stored_versions(post_id)
        if key in stored:
            return Verdict.SEEN_STORED
        self._run[post_id] = (*in_run, key)
        return Verdict.NEW_VERSION if in_run or stored else Verdict.NEW_POST


class DedupePipeline:
    """Scrapy item pipeline around SeenPosts, one per site, with ``miata/dedupe/*`` stats."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.data_dir = crawler.settings.get("MIATA_DATA_DIR")
        if not self.data_dir:
            raise DataDirError("MIATA_DATA_DIR is not set: it names the directory of the stored dataset")
        self._seen: dict[str, SeenPosts] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        # Load the spider's own site now, so a large dataset costs its seconds before crawling starts.
        self._seen_for(self.crawler.spider.name)

    def close_spider(self) -> None:
        self._seen.clear()

    def _seen_for(self, site: str) -> SeenPosts:
        if site not in self._seen:
            started = time.perf_counter()
            self._seen[site] = SeenPosts(load_seen_keys(self.data_dir, site))
            logger.info(
                "dedupe: loaded %d stored post versions of site %r from %s in %.2f s",
                len(self._seen[site]),
                site,
                self.data_dir,
                time.perf_counter() - started,
            )
        return self._seen[site]

    def process_item(self, item):
        if isinstance(item, ThreadProgress):
            return item  # a crawl-progress marker, not a post
        adapter = ItemAdapter(item)
        site = adapter.get("site") or self.crawler.spider.name
        if not adapter.get("content_hash"):
            # Collectors that do not hash (Reddit) still get the same identity as forum spiders.
            adapter["content_hash"] = content_hash(
                adapter.get("body_text"),
                adapter.get("quotes"),
                adapter.get("images"),
                bool(adapter.get("is_deleted")),
            )
        post_id = adapter["post_id"]
        if not CONTENT_HASH_FORMAT.fullmatch(adapter["content_hash"]):
            raise ValueError(f"content_hash of post {site}/{post_id} is not a SHA-256 hex digest")
        verdict = self._seen_for(site).check_and_add(post_id, adapter["content_hash"])
        stats = self.crawler.stats
        if verdict is Verdict.SEEN_IN_RUN:
            stats.inc_value("miata/dedupe/dropped_in_run")
            raise DropItem(f"post {site}/{post_id} already seen in this run", log_level="DEBUG")
        if verdict is Verdict.SEEN_STORED:
            stats.inc_value("miata/dedupe/dropped_existing")
            raise DropItem(f"post {site}/{post_id} already stored with this content", log_level="DEBUG")
        if verdict is Verdict.NEW_VERSION:
            stats.inc_value("miata/dedupe/new_versions")
        return item
