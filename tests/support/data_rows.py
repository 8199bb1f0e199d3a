"""Adding hand-made posts to a copy of the sample dataset (through the real Parquet writer), for the
``miata data`` export and search tests: cross-posted threads, boilerplate, e-mail addresses..."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.parquet import ParquetBatchWriter
from pipelines.schema import content_hash


def stored_rows(data_dir: Path, site: str, where: str) -> list[dict]:
    """Rows of ``site`` (latest versions) matching ``where``, as POST_SCHEMA dicts."""
    glob = str(data_dir / "posts" / f"site={site}" / "*.parquet")
    relation = duckdb.sql(
        f"SELECT '{site}' AS site, * FROM read_parquet('{glob}') WHERE {where} "
        "QUALIFY row_number() OVER (PARTITION BY post_id ORDER BY scraped_at DESC) = 1 ORDER BY position, post_id")
    return relation.to_arrow_table().to_pylist()


def add_posts(data_dir: Path, site: str, rows: list[dict]) -> None:
    writer = ParquetBatchWriter(data_dir, site, batch_size=len(rows) + 1)
    for row in rows:
        row = dict(row)
        row["content_hash"] = content_hash(row.get("body_text"), row.get("quotes") or (), row.get("images") or (),
                                           bool(row.get("is_deleted")))
        writer.add(row)
    writer.close()


def copy_thread(data_dir: Path, site: str, thread_id: str, new_thread_id: str, edit=lambda text: text) -> list[dict]:
    """Cross-post a thread: its posts again under ``new_thread_id`` with new post ids (``edit`` changes texts)."""
    rows = stored_rows(data_dir, site, f"thread_id = '{thread_id}'")
    copies = [{**row, "thread_id": new_thread_id, "post_id": f"{new_thread_id}-{row['post_id']}",
               "body_text": edit(row["body_text"]) if row["body_text"] else row["body_text"],
               "quotes": []} for row in rows]
    add_posts(data_dir, site, copies)
    return copies
