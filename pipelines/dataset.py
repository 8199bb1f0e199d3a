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
import pyarrow.parquet as pq

from pipelines.schema import POST_SCHEMA

POSTS_DIR_NAME = "posts"
# The site lives only in the partition directory name; declaring it a plain string keeps it from
# being inferred as a dictionary (or a number, for a numeric-looking name).
SITE_PARTITIONING = ds.partitioning(pa.schema([pa.field("site", pa.string())]), flavor="hive")
# The site name becomes a directory name: keep it to characters that need no escaping anywhere.
_SITE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Versions of one post are told apart by this many leading hex digits of content_hash (a SHA-256):
# 64 bits, compared only between versions of the same post, so a collision is out of the question.
VERSION_KEY_CHARS = 16
VERSION_KEY_TYPE = pa.binary(VERSION_KEY_CHARS)
# Post ids that are plain decimal numbers fitting in uint64 (no sign, no leading zero, at most
# 19 digits): converting them to integers and back gives the same text, so they can be stored as ints.
DECIMAL_POST_ID = re.compile(r"0|[1-9][0-9]{0,18}")
_DECIMAL_POST_ID_ANCHORED = f"^(?:{DECIMAL_POST_ID.pattern})$"


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


def version_key(content_hash: str) -> bytes:
    """The part of a content hash that tells two versions of one post apart (see VERSION_KEY_CHARS)."""
    return content_hash[:VERSION_KEY_CHARS].encode("ascii")


def load_seen_keys(data_dir: str | os.PathLike, site: str) -> pa.Table:
    """(post_id, version_key) of every stored row of one site, sorted by post_id.

    Reads only those two columns of that site's partition. Forum engines number their posts, so
    while every stored post_id is a plain decimal number it is kept as uint64 (8 bytes a row, and
    sorts several times faster than text); otherwise (e.g. Reddit's base-36 ids) it stays a string.
    ``bench/bench_dedupe_load.py`` measures it.
    """
    directory = site_dir(data_dir, site)
    # pyarrow.dataset lists the parts (skipping dot-prefixed files still being written). Each part
    # is then read on its own: a dataset scan keeps every file's Parquet footer in memory until it
    # ends, about 90 kB a file, which is 200 MB more peak memory at 10M rows.
    files = ds.dataset(directory, format="parquet").files if directory.is_dir() else []
    post_id_chunks, version_key_chunks = [], []
    numeric = True
    for path in files:
        part = pq.ParquetFile(path).read(columns=["post_id", "content_hash"])
        post_ids = part.column("post_id")
        if numeric and not pc.all(pc.match_substring_regex(post_ids, _DECIMAL_POST_ID_ANCHORED)).as_py():
            numeric = False
            # Exact inverse: every id converted so far was a canonical decimal.
            post_id_chunks = [chunk.cast(pa.string()) for chunk in post_id_chunks]
        post_id_chunks.extend((post_ids.cast(pa.uint64()) if numeric else post_ids).chunks)
        version_key_chunks.extend(_version_keys(part.column("content_hash")).chunks)
    post_ids = pa.chunked_array(post_id_chunks, pa.uint64() if numeric else pa.string()).combine_chunks()
    version_keys = pa.chunked_array(version_key_chunks, VERSION_KEY_TYPE).combine_chunks()
    del post_id_chunks, version_key_chunks  # the combined copies replace them
    order = pc.sort_indices(post_ids)
    return pa.table({"post_id": post_ids.take(order), "version_key": version_keys.take(order)})


def _version_keys(content_hashes: pa.ChunkedArray) -> pa.ChunkedArray:
    """version_key() of a whole column: 16 bytes a row instead of 64 characters plus offsets."""
    prefixes = pc.utf8_slice_codeunits(content_hashes, 0, VERSION_KEY_CHARS)
    return prefixes.cast(pa.binary()).cast(VERSION_KEY_TYPE)
