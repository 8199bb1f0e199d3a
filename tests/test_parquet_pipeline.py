"""ParquetBatchWriter and ParquetPipeline: batching, atomic parts, read-back with pyarrow and DuckDB."""

import logging
import os
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler

from miata_spiders.errors import StorageError
from miata_spiders.items import PostItem, Quote
from pipelines import parquet
from pipelines.dataset import DataDirError, open_posts_dataset, site_dir
from pipelines.parquet import ParquetBatchWriter, ParquetPipeline
from pipelines.schema import POST_SCHEMA, content_hash

UTC = timezone.utc


class MiataTurboSpider(Spider):
    name = "miataturbo"


def post(post_id: str = "1234567", body: str = "Check the IC coupler for a boost leak.", **fields) -> PostItem:
    values = dict(
        source="forum",
        site="miataturbo",
        post_id=post_id,
        thread_id="98765",
        thread_title="Boost leak hunting on a BEGi kit",
        thread_url="https://www.miataturbo.net/showthread.php?t=98765",
        forum_id="12",
        forum_path=["Miata Turbo Forum", "Boost Control"],
        position=1,
        page=1,
        author="Braineack",
        author_id="1123",
        posted_at=datetime(2014, 3, 2, 18, 41, tzinfo=UTC),
        body_text=body,
        quotes=[{"author": "Savington", "post_id": "1234560", "text": "Loses 3 psi above 5k."}],
        images=["https://www.miataturbo.net/attachments/boost-log.png"],
        url=f"https://www.miataturbo.net/showpost.php?p={post_id}",
        content_hash=content_hash(body),
        scraped_at=datetime(2026, 1, 10, 12, 0, tzinfo=UTC),
    )
    values.update(fields)
    return PostItem(**values)


def row(post_id: str = "1234567", **fields) -> dict:
    return parquet.item_to_row(post(post_id, **fields), default_site="miataturbo")


def visible_parts(data_dir, site="miataturbo"):
    return sorted(site_dir(data_dir, site).glob("*.parquet"))


def open_pipeline(data_dir, batch_size=3, spider_cls=MiataTurboSpider) -> ParquetPipeline:
    settings = {"MIATA_DATA_DIR": str(data_dir), "MIATA_PARQUET_BATCH_SIZE": batch_size}
    crawler = get_crawler(spider_cls, settings)
    crawler.spider = spider_cls.from_crawler(crawler)
    pipeline = ParquetPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline


def test_writer_flushes_a_part_each_time_a_batch_fills(tmp_path):
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=2)
    written = [writer.add(row(str(1234567 + n))) for n in range(5)]
    assert [part.rows if part else None for part in written] == [None, 2, None, 2, None]
    assert len(visible_parts(tmp_path)) == 2
    assert writer.pending == 1
    last = writer.close()
    assert last.rows == 1
    assert len(visible_parts(tmp_path)) == 3
    assert open_posts_dataset(tmp_path).count_rows() == 5


def test_readers_never_see_a_part_while_it_is_being_written(tmp_path, monkeypatch):
    seen_during_write = {}
    write_table = parquet.pq.write_table

    def write_and_look(table, file, **options):
        write_table(table, file, **options)
        seen_during_write["files"] = sorted(p.name for p in site_dir(tmp_path, "miataturbo").iterdir())
        seen_during_write["pyarrow rows"] = open_posts_dataset(tmp_path).count_rows()
        seen_during_write["glob"] = visible_parts(tmp_path)

    monkeypatch.setattr(parquet.pq, "write_table", write_and_look)
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=2)
    writer.add(row("1234567"))
    part = writer.add(row("1234568"))

    [temporary] = seen_during_write["files"]
    assert temporary == f".{part.path.name}.tmp"
    assert seen_during_write["pyarrow rows"] == 0
    assert seen_during_write["glob"] == []
    assert [p.name for p in site_dir(tmp_path, "miataturbo").iterdir()] == [part.path.name]


def test_a_failed_rename_leaves_no_file_and_keeps_the_rows(tmp_path, monkeypatch):
    def rename_fails(source, destination):
        raise OSError(28, "No space left on device")

    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=10)
    writer.add(row("1234567"))
    monkeypatch.setattr(os, "replace", rename_fails)
    with pytest.raises(StorageError, match=r"site=miataturbo: \[ENOSPC\] No space left on device"):
        writer.flush()
    assert list(site_dir(tmp_path, "miataturbo").iterdir()) == []
    assert writer.pending == 1

    monkeypatch.undo()
    assert writer.close().rows == 1
    assert open_posts_dataset(tmp_path).to_table().column("post_id").to_pylist() == ["1234567"]


def test_writer_refuses_rows_that_do_not_fit_without_spoiling_the_batch(tmp_path):
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=2)
    writer.add(row("1234567"))
    refused = {
        "not in POST_SCHEMA: \\['thread_name'\\]": {**row(), "thread_name": "typo"},
        "posted_at must be timezone-aware": row(posted_at=datetime(2014, 3, 2, 18, 41)),
        "content_hash must be a SHA-256 hex digest": row(content_hash="9e107d9d372bb6826bd81d3542a419d6"),
        "required fields are empty: \\['thread_id'\\]": row(thread_id=None),
        "does not fit POST_SCHEMA": row(position="#12"),
    }
    for message, bad_row in refused.items():
        with pytest.raises(ValueError, match=message):
            writer.add(bad_row)
    assert writer.pending == 1
    assert writer.add(row("1234568")).rows == 2


def test_item_to_row_fills_site_and_scrape_time_but_never_hashes(tmp_path):
    reddit_comment = {
        "source": "reddit",
        "site": "",
        "post_id": "kx9q2ab",
        "thread_id": "1b2c3d",
        "body_text": "Flyin' Miata kit, no regrets.",
    }
    filled = parquet.item_to_row(reddit_comment, default_site="reddit")
    assert filled["site"] == "reddit"
    assert filled["scraped_at"].tzinfo is not None
    # The hash is computed once, where the item is built: a row without one is refused, not hashed here.
    assert filled.get("content_hash") is None
    writer = ParquetBatchWriter(tmp_path, "reddit", batch_size=2)
    with pytest.raises(ValueError, match="content_hash"):
        writer.add(filled)


def test_pipeline_writes_batches_and_flushes_the_rest_on_close(tmp_path, caplog):
    pipeline = open_pipeline(tmp_path, batch_size=3)
    items = [post(str(1234567 + n)) for n in range(7)]
    for item in items:
        assert pipeline.process_item(item) is item
    assert len(visible_parts(tmp_path)) == 2
    stats = pipeline.crawler.stats
    assert stats.get_value("miata/parquet/rows_written") == 6

    with caplog.at_level(logging.INFO, logger="pipelines.parquet"):
        pipeline.close_spider()

    assert stats.get_value("miata/parquet/rows_written") == 7
    assert stats.get_value("miata/parquet/files_written") == 3
    parts = visible_parts(tmp_path)
    assert len(parts) == 3
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("parquet: wrote")]
    assert len(logged) == 3
    assert {line.split()[2] for line in logged} == {str(p) for p in parts}
    assert sorted(line.split()[3] for line in logged) == ["(1", "(3", "(3"]


def test_part_names_follow_the_hive_layout(tmp_path):
    pipeline = open_pipeline(tmp_path, batch_size=1)
    pipeline.process_item(post())
    [part] = visible_parts(tmp_path)
    assert part.parent == tmp_path / "posts" / "site=miataturbo"
    assert part.name.startswith("part-2") and part.name.endswith(".parquet")
    assert part.suffixes == [".parquet"]


def test_pipeline_partitions_by_the_item_site(tmp_path):
    pipeline = open_pipeline(tmp_path, batch_size=10)
    pipeline.process_item(post("1234567"))
    pipeline.process_item(post("kx9q2ab", source="reddit", site="reddit", forum_path=["r/Miata"]))
    pipeline.close_spider()
    assert len(visible_parts(tmp_path, "miataturbo")) == 1
    assert len(visible_parts(tmp_path, "reddit")) == 1
    table = open_posts_dataset(tmp_path).to_table().sort_by("post_id")
    assert table.column("site").to_pylist() == ["miataturbo", "reddit"]


def write_two_posts(data_dir):
    pipeline = open_pipeline(data_dir, batch_size=10)
    pipeline.process_item(post("1234567", edited_at=datetime(2014, 3, 2, 19, 5, tzinfo=UTC), edited_by="Braineack"))
    pipeline.process_item(
        post(
            "1234568",
            body="Same problem here.",
            author="Savington",
            quotes=[Quote(author="Braineack", post_id="1234567", text="Check the IC coupler.")],
            images=[],
            forum_path=["Miata Turbo Forum", "Boost Control"],
        )
    )
    pipeline.close_spider()


def test_pyarrow_dataset_reads_back_the_schema_and_values(tmp_path):
    write_two_posts(tmp_path)
    table = open_posts_dataset(tmp_path).to_table().sort_by("post_id")
    assert table.schema.equals(POST_SCHEMA)
    first, second = table.to_pylist()
    assert first["posted_at"] == datetime(2014, 3, 2, 18, 41, tzinfo=UTC)
    assert first["posted_at"].utcoffset().total_seconds() == 0
    assert first["edited_at"] == datetime(2014, 3, 2, 19, 5, tzinfo=UTC)
    assert second["edited_at"] is None
    assert first["forum_path"] == ["Miata Turbo Forum", "Boost Control"]
    assert first["quotes"] == [{"author": "Savington", "post_id": "1234560", "text": "Loses 3 psi above 5k."}]
    assert second["quotes"] == [{"author": "Braineack", "post_id": "1234567", "text": "Check the IC coupler."}]
    assert second["images"] == []
    assert first["site"] == "miataturbo"


def test_duckdb_reads_back_with_hive_partitioning(tmp_path):
    write_two_posts(tmp_path)
    pipeline = open_pipeline(tmp_path, batch_size=10)
    pipeline.process_item(post("kx9q2ab", source="reddit", site="reddit", forum_path=["r/Miata"]))
    pipeline.close_spider()
    glob = (tmp_path / "posts" / "*" / "*.parquet").as_posix()
    source = f"read_parquet('{glob}', hive_partitioning = true, hive_types = {{'site': VARCHAR}})"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall())
    assert types["site"] == "VARCHAR"
    assert types["posted_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["forum_path"] == "VARCHAR[]"
    assert types["quotes"] == 'STRUCT(author VARCHAR, post_id VARCHAR, "text" VARCHAR)[]'
    rows = con.execute(
        f"SELECT site, post_id, posted_at, forum_path, quotes[1].author FROM {source} ORDER BY post_id"
    ).fetchall()
    assert rows == [
        (
            "miataturbo",
            "1234567",
            datetime(2014, 3, 2, 18, 41, tzinfo=UTC),
            ["Miata Turbo Forum", "Boost Control"],
            "Savington",
        ),
        (
            "miataturbo",
            "1234568",
            datetime(2014, 3, 2, 18, 41, tzinfo=UTC),
            ["Miata Turbo Forum", "Boost Control"],
            "Braineack",
        ),
        ("reddit", "kx9q2ab", datetime(2014, 3, 2, 18, 41, tzinfo=UTC), ["r/Miata"], "Savington"),
    ]
    per_site = con.execute(f"SELECT site, count(*) FROM {source} GROUP BY site ORDER BY site").fetchall()
    assert per_site == [("miataturbo", 2), ("reddit", 1)]


def test_repetitive_columns_are_dictionary_encoded(tmp_path):
    write_two_posts(tmp_path)
    [part] = visible_parts(tmp_path)
    metadata = parquet.pq.ParquetFile(part).metadata.row_group(0)
    encodings = {metadata.column(i).path_in_schema: metadata.column(i) for i in range(metadata.num_columns)}
    assert "RLE_DICTIONARY" in encodings["author"].encodings
    assert "RLE_DICTIONARY" in encodings["forum_path.list.element"].encodings
    assert "RLE_DICTIONARY" not in encodings["body_text"].encodings
    assert all(column.compression == "ZSTD" for column in encodings.values())


def test_a_data_dir_that_is_a_file_fails_at_open_spider_naming_setting_and_path(tmp_path):
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("oops")
    with pytest.raises(DataDirError, match=f"MIATA_DATA_DIR='{not_a_dir}'") as failure:
        open_pipeline(not_a_dir)
    assert str(not_a_dir / "posts" / "site=miataturbo") in str(failure.value)


def test_an_unwritable_data_dir_fails_at_open_spider(tmp_path, monkeypatch):
    # Tests run as root, for whom chmod does not forbid anything: make the probe fail instead.
    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(parquet.Path, "touch", denied)
    with pytest.raises(DataDirError, match="Permission denied"):
        open_pipeline(tmp_path)


def test_a_zero_batch_size_is_refused(tmp_path):
    crawler = get_crawler(MiataTurboSpider, {"MIATA_DATA_DIR": str(tmp_path), "MIATA_PARQUET_BATCH_SIZE": 0})
    with pytest.raises(ValueError, match="MIATA_PARQUET_BATCH_SIZE"):
        ParquetPipeline.from_crawler(crawler)


def test_an_unset_data_dir_is_refused():
    with pytest.raises(DataDirError, match="MIATA_DATA_DIR is not set"):
        ParquetPipeline.from_crawler(get_crawler(MiataTurboSpider, {"MIATA_DATA_DIR": ""}))


def test_rows_match_the_schema_types(tmp_path):
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=1)
    writer.add(row(position=12, page=2, is_deleted=True))
    table = open_posts_dataset(tmp_path).to_table()
    assert table.column("position").type == pa.int32()
    assert table.to_pylist()[0]["is_deleted"] is True
