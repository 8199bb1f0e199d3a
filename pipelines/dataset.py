"""Where the post dataset lives on disk and how to read it back.

Layout: ``DATA_DIR/posts/site=<site>/part-<utc timestamp>-<uuid>.parquet`` (see ``docs/schema.md``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipelines.schema import POST_SCHEMA

POSTS_DIR_NAME = "posts"
# The hive partition key is also a real column of every file; declaring it as the same string type
# keeps pyarrow from inferring another type (e.g. dictionary) that would clash with the file column.
SITE_PARTITIONING = ds.partitioning(pa.schema([pa.field("site", pa.string())]), flavor="hive")
# The site name becomes a directory name: keep it to characters that need no escaping anywhere.
_SITE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Versions of one post are told apart by this many leading hex digits of content_hash (a SHA-256):
# 64 bits, compared only between versions of the same post, so a collision is out of the question.
VERSION_KEY_CHARS = 16


class DataDirError(OSError):
    """The data directory cannot hold the dataset (missing parent, a file, not writable...)."""


def posts_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / POSTS_DIR_NAME


def site_dir(data_dir: str | os.PathLike, site: str) -> Path:
    if not _SITE_NAME.fullmatch(site or "") or site.startswith("."):
        raise ValueError(f"site {site!r} is not a safe partition name (letters, digits, '_', '-', '.')")
    return posts_dir(data_dir) / f"site={site}"


def open_posts_dataset(data_dir: str | os.PathLike) -> ds.Dataset:
    """Every site's posts as one pyarrow dataset, with POST_SCHEMA.

    pyarrow skips names starting with "." or "_", so files still being written are never read.
    """
    return ds.dataset(
        posts_dir(data_dir), format="parquet", schema=POST_SCHEMA, partitioning=SITE_PARTITIONING
    )


def version_key(content_hash: str) -> str:
    """The part of a content hash that tells two versions of one post apart (see VERSION_KEY_CHARS)."""
    return content_hash[:VERSION_KEY_CHARS]


def load_seen_keys(data_dir: str | os.PathLike, site: str) -> pa.Table:
    """(post_id, version_key) of every stored row of one site, sorted by post_id.

    Reads only those two columns of that site's partition and shortens content_hash while
    streaming, so memory stays near 20-30 bytes per row however many files there are.
    """
    directory = site_dir(data_dir, site)
    key_schema = pa.schema([pa.field("post_id", pa.string()), pa.field("version_key", pa.string())])
    if not directory.is_dir():
        return key_schema.empty_table()
    scanner = ds.dataset(directory, format="parquet", schema=POST_SCHEMA).scanner(
        columns=["post_id", "content_hash"]
    )
    post_ids, version_keys = [], []
    for batch in scanner.to_batches():
        post_ids.append(batch.column("post_id"))
        version_keys.append(pc.utf8_slice_codeunits(batch.column("content_hash"), 0, VERSION_KEY_CHARS))
    keys = pa.Table.from_arrays(
        [pa.chunked_array(post_ids, pa.string()), pa.chunked_array(version_keys, pa.string())],
        schema=key_schema,
    )
    # One contiguous chunk per column: lookups index rows directly instead of searching chunks.
    return keys.sort_by("post_id").combine_chunks()
