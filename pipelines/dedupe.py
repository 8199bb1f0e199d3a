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
import pyarrow.compute as pc
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from pipelines.dataset import (
    _DECIMAL_POST_ID_ANCHORED, DECIMAL_POST_ID, VERSION_KEY_TYPE, DataDirError, load_seen_keys, version_key,
)
from pipelines.schema import CONTENT_HASH_FORMAT
from pipelines.signals import part_committed

logger = logging.getLogger(__name__)


class Verdict(enum.Enum):
    NEW_POST = "new_post"
    NEW_VERSION = "new_version"
    SEEN_IN_RUN = "seen_in_run"
    SEEN_STORED = "seen_stored"


def _as_py(scalar: pa.Scalar):
    return scalar.as_py()


class SeenPosts:
    """The versions of one site's posts: stored ones and this run's, in compact sorted Arrow arrays.

    Stored keys (from ``load_seen_keys``) stay in Arrow memory, 24 bytes a row for numeric post ids,
    and are binary-searched. Posts met in this run are Python objects only until ``fold()`` (called at
    each part commit) moves them into a second sorted array: memory stays flat in the site's size.
    """

    def __init__(self, stored: pa.Table):
        self._stored = _Keys(stored.column("post_id").combine_chunks(), stored.column("version_key").combine_chunks())
        self._folded = _Keys(pa.array([], self._stored.ids.type), pa.array([], VERSION_KEY_TYPE))
        self._run: dict[str, tuple[bytes, ...]] = {}

    def __len__(self) -> int:
        return len(self._stored) + len(self._folded) + sum(len(keys) for keys in self._run.values())

    @property
    def unfolded(self) -> int:
        """Posts of this run still held as Python objects."""
        return len(self._run)

    def check_and_add(self, post_id: str, content_hash: str) -> Verdict:
        """Classify one sighting of a post, remembering it unless it is a duplicate."""
        key = version_key(content_hash)
        in_run = self._run.get(post_id, ())
        if key in in_run:
            return Verdict.SEEN_IN_RUN
        folded = self._folded.versions(post_id)
        if key in folded:
            return Verdict.SEEN_IN_RUN
        stored = self._stored.versions(post_id)
        if key in stored:
            return Verdict.SEEN_STORED
        self._run[post_id] = (*in_run, key)
        return Verdict.NEW_VERSION if in_run or folded or stored else Verdict.NEW_POST

    def fold(self) -> None:
        """Move this run's keys into the compact sorted arrays (their rows were just committed)."""
        if not self._run:
            return
        ids, keys = [], []
        for post_id, versions in self._run.items():
            ids.extend([post_id] * len(versions))
            keys.extend(versions)
        self._run = {}
        run_ids = pa.array(ids, pa.string())
        if pa.types.is_integer(self._folded.ids.type):
            if pc.all(pc.match_substring_regex(run_ids, _DECIMAL_POST_ID_ANCHORED)).as_py():
                run_ids = run_ids.cast(pa.uint64())
            else:
                self._folded = self._folded.as_text()
        merged_ids = pa.concat_arrays([self._folded.ids, run_ids.cast(self._folded.ids.type)])
        merged_keys = pa.concat_arrays([self._folded.keys, pa.array(keys, VERSION_KEY_TYPE)])
        order = pc.sort_indices(merged_ids)
        self._folded = _Keys(merged_ids.take(order), merged_keys.take(order))


class _Keys:
    """(post_id, version_key) pairs sorted by post_id: uint64 ids while every id is a plain decimal."""

    def __init__(self, ids: pa.Array, keys: pa.Array):
        self.ids, self.keys = ids, keys
        self.numeric = pa.types.is_integer(ids.type)

    def __len__(self) -> int:
        return len(self.ids)

    def as_text(self) -> "_Keys":
        # Exact inverse: every id held as a number was a canonical decimal.
        return _Keys(self.ids.cast(pa.string()), self.keys) if self.numeric else self

    def versions(self, post_id: str) -> list[bytes]:
        if not len(self.ids):
            return []
        probe = post_id
        if self.numeric:
            if not DECIMAL_POST_ID.fullmatch(post_id):
                return []  # every id here is a canonical decimal, so this one is not among them
            probe = int(post_id)
        first = bisect.bisect_left(self.ids, probe, key=_as_py)
        last = bisect.bisect_right(self.ids, probe, lo=first, key=_as_py)
        return self.keys[first:last].to_pylist() if last > first else []


class DedupePipeline:
    """Scrapy item pipeline around SeenPosts, one per site, with ``miata/dedupe/*`` stats."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.data_dir = crawler.settings.get("MIATA_DATA_DIR")
        if not self.data_dir:
            raise DataDirError("MIATA_DATA_DIR is not set: it names the directory of the stored dataset")
        self._seen: dict[str, SeenPosts] = {}
        crawler.signals.connect(self._part_committed, signal=part_committed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        # Load the spider's own site now, so a large dataset costs its seconds before crawling starts.
        self._seen_for(self.crawler.spider.name)

    def close_spider(self) -> None:
        self._seen.clear()

    def _part_committed(self, part=None, **kwargs) -> None:
        # Every post this run let through for that site is in that part now (the writer writes its
        # whole buffer): fold them into the compact arrays.
        if part is not None and part.site in self._seen:
            self._seen[part.site].fold()

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
        adapter = ItemAdapter(item)
        site = adapter.get("site") or self.crawler.spider.name
        post_id = adapter["post_id"]
        # The hash is computed once, where the item is built; one computed here could differ from it.
        if not CONTENT_HASH_FORMAT.fullmatch(adapter.get("content_hash") or ""):
            raise ValueError(f"content_hash of post {site}/{post_id} is not a SHA-256 hex digest "
                             f"({adapter.get('content_hash')!r}): items must be built with content_hash()")
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
