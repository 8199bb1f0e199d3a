"""DedupePipeline: duplicates within a run and across runs are dropped, edits are new versions."""

import asyncio
import logging
from datetime import datetime, timezone

import pyarrow as pa
import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.logformatter import LogFormatter
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.test import get_crawler

from miata_spiders.items import PostItem
from pipelines.dataset import VERSION_KEY_TYPE, load_seen_keys, open_posts_dataset, site_dir, version_key
from pipelines.dedupe import DedupePipeline, SeenPosts, Verdict
from pipelines.parquet import ParquetPipeline
from pipelines.schema import content_hash

UTC = timezone.utc
PIPELINES = {"pipelines.dedupe.DedupePipeline": 300, "pipelines.parquet.ParquetPipeline": 800}


class MiataTurboSpider(Spider):
    name = "miataturbo"


def post(post_id: str = "1234567", body: str = "Swapped to a 3 port MAC valve, creep is gone.", **fields):
    values = dict(
        source="forum",
        site="miataturbo",
        post_id=post_id,
        thread_id="101010",
        thread_title="Wastegate creep on a GT2560R",
        author="Savington",
        author_id="2211",
        posted_at=datetime(2016, 7, 14, 9, 30, tzinfo=UTC),
        body_text=body,
        content_hash=content_hash(body),
        scraped_at=datetime(2026, 1, 10, 12, 0, tzinfo=UTC),
    )
    values.update(fields)
    return PostItem(**values)


def make_crawler(data_dir, **settings):
    crawler = get_crawler(MiataTurboSpider, {"MIATA_DATA_DIR": str(data_dir), **settings})
    crawler.spider = MiataTurboSpider.from_crawler(crawler)
    return crawler


def open_dedupe(data_dir) -> DedupePipeline:
    pipeline = DedupePipeline.from_crawler(make_crawler(data_dir))
    pipeline.open_spider()
    return pipeline


def run(data_dir, items) -> tuple[list, dict]:
    """One crawl's worth of dedupe -> parquet, as Scrapy chains them; returns kept items and stats."""
    crawler = make_crawler(data_dir, MIATA_PARQUET_BATCH_SIZE=100)
    dedupe, writer = DedupePipeline.from_crawler(crawler), ParquetPipeline.from_crawler(crawler)
    dedupe.open_spider()
    writer.open_spider()
    kept = []
    for item in items:
        try:
            kept.append(writer.process_item(dedupe.process_item(item)))
        except DropItem:
            pass
    dedupe.close_spider()
    writer.close_spider()
    return kept, crawler.stats.get_stats()


def test_a_post_seen_twice_in_one_run_is_dropped_and_counted(tmp_path):
    pipeline = open_dedupe(tmp_path)
    assert pipeline.process_item(post("1234567")) is not None
    with pytest.raises(DropItem, match="miataturbo/1234567 already seen in this run") as dropped:
        pipeline.process_item(post("1234567"))
    assert dropped.value.log_level == "DEBUG"
    assert pipeline.crawler.stats.get_value("miata/dedupe/dropped_in_run") == 1


def test_drops_are_logged_at_debug_level(tmp_path):
    crawler = make_crawler(tmp_path)
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.open_spider()
    item = post()
    pipeline.process_item(item)
    with pytest.raises(DropItem) as dropped:
        pipeline.process_item(item)
    logged = LogFormatter.from_crawler(crawler).dropped(item, dropped.value, None, crawler.spider)
    assert logged["level"] == logging.DEBUG


def test_a_post_stored_by_an_earlier_run_is_dropped(tmp_path):
    first_run, _ = run(tmp_path, [post("1234567"), post("1234568", body="Which MAC valve part number?")])
    assert len(first_run) == 2

    second_run, stats = run(tmp_path, [post("1234567"), post("1234569", body="35A-AAA-DDBA-1BA")])

    assert [item.post_id for item in second_run] == ["1234569"]
    assert stats["miata/dedupe/dropped_existing"] == 1
    assert "miata/dedupe/dropped_in_run" not in stats
    assert stats["miata/parquet/rows_written"] == 1
    assert sorted(open_posts_dataset(tmp_path).to_table().column("post_id").to_pylist()) == [
        "1234567",
        "1234568",
        "1234569",
    ]


def test_an_edited_post_is_kept_as_a_new_version(tmp_path):
    run(tmp_path, [post("1234567", body="Swapped to a 3 port MAC valve.")])
    edited = post(
        "1234567",
        body="Swapped to a 3 port MAC valve. EDIT: creep came back at 7k.",
        edited_at=datetime(2016, 7, 15, 8, 0, tzinfo=UTC),
        scraped_at=datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
    )
    kept, stats = run(tmp_path, [edited, edited])

    assert kept == [edited]
    assert stats["miata/dedupe/new_versions"] == 1
    assert stats["miata/dedupe/dropped_in_run"] == 1
    versions = open_posts_dataset(tmp_path).to_table().sort_by("scraped_at")
    assert versions.column("post_id").to_pylist() == ["1234567", "1234567"]
    assert versions.column("content_hash").to_pylist() == [
        content_hash("Swapped to a 3 port MAC valve."),
        content_hash("Swapped to a 3 port MAC valve. EDIT: creep came back at 7k."),
    ]


def test_an_edit_seen_within_one_run_is_a_new_version(tmp_path):
    pipeline = open_dedupe(tmp_path)
    pipeline.process_item(post("1234567", body="First take."))
    pipeline.process_item(post("1234567", body="First take, edited."))
    assert pipeline.crawler.stats.get_value("miata/dedupe/new_versions") == 1


def test_an_unhashed_item_is_refused_not_hashed_a_second_way(tmp_path):
    # content_hash is computed once, where items are built (forum_spider, the Reddit mapping).
    pipeline = open_dedupe(tmp_path)
    comment = {"source": "reddit", "site": "reddit", "post_id": "kx9q2ab", "thread_id": "1b2c3d",
               "body_text": "Get the Flyin' Miata kit, no regrets.", "content_hash": ""}
    with pytest.raises(ValueError, match="reddit/kx9q2ab is not a SHA-256 hex digest"):
        pipeline.process_item(comment)
    assert comment["content_hash"] == ""


def test_sites_are_deduplicated_separately(tmp_path):
    run(tmp_path, [post("1234567")])
    kept, stats = run(tmp_path, [post("1234567", site="miata_net"), post("1234567")])
    assert [item.site for item in kept] == ["miata_net"]
    assert stats["miata/dedupe/dropped_existing"] == 1


def test_load_seen_keys_reads_only_complete_parts_of_one_site(tmp_path):
    assert load_seen_keys(tmp_path, "miataturbo").num_rows == 0
    run(tmp_path, [post("1234569", body="c"), post("1234567", body="a"), post("1234568", body="b")])
    run(tmp_path, [post("1234567", site="miata_net", body="other forum")])
    (site_dir(tmp_path, "miataturbo") / ".part-20260110T120000000000Z-deadbeef.parquet.tmp").write_bytes(b"PAR1")

    keys = load_seen_keys(tmp_path, "miataturbo")

    # Numeric forum post ids are held as integers: 8 bytes a row.
    assert keys.column("post_id").type == pa.uint64()
    assert keys.column("post_id").to_pylist() == [1234567, 1234568, 1234569]
    assert keys.column("version_key").to_pylist() == [version_key(content_hash(body)) for body in "abc"]


def test_load_seen_keys_keeps_text_ids_as_text(tmp_path):
    run(tmp_path, [post("1234567", site="reddit"), post("0123", site="reddit")])
    run(tmp_path, [post("kx9q2ab", site="reddit")])
    keys = load_seen_keys(tmp_path, "reddit")
    assert keys.column("post_id").to_pylist() == ["0123", "1234567", "kx9q2ab"]

    seen = SeenPosts(keys)
    assert seen.check_and_add("0123", post().content_hash) is Verdict.SEEN_STORED
    assert seen.check_and_add("123", post().content_hash) is Verdict.NEW_POST


def stored_versions(post_ids, bodies) -> pa.Table:
    return pa.table(
        {
            "post_id": pa.array(post_ids, pa.uint64()),
            "version_key": pa.array([version_key(content_hash(body)) for body in bodies], VERSION_KEY_TYPE),
        }
    )


def test_seen_posts_tell_new_posts_versions_and_duplicates_apart():
    seen = SeenPosts(
        stored_versions(
            [1000001, 1000002, 1000002, 1000003], ["Stock MAP.", "Stock MAP.", "GM 3 bar MAP.", "Stock MAP."]
        )
    )
    assert seen.check_and_add("1000002", content_hash("GM 3 bar MAP.")) is Verdict.SEEN_STORED
    assert seen.check_and_add("1000002", content_hash("GM 3 bar.")) is Verdict.NEW_VERSION
    assert seen.check_and_add("1000002", content_hash("GM 3 bar.")) is Verdict.SEEN_IN_RUN
    assert seen.check_and_add("1000000", content_hash("Stock MAP.")) is Verdict.NEW_POST
    assert seen.check_and_add("1000004", content_hash("Stock MAP.")) is Verdict.NEW_POST
    # Ids that are not canonical numbers cannot be among numeric stored ids.
    assert seen.check_and_add("01000001", content_hash("Stock MAP.")) is Verdict.NEW_POST
    assert len(seen) == 8


def test_a_malformed_content_hash_is_refused(tmp_path):
    pipeline = open_dedupe(tmp_path)
    with pytest.raises(ValueError, match="miataturbo/1234567 is not a SHA-256"):
        pipeline.process_item(post(content_hash="md5:9e107d9d372bb6826bd81d3542a419d6"))


def test_scrapy_runs_both_pipelines_without_deprecation_warnings(tmp_path):
    # The item pipeline manager warns (an error here) about pipeline methods taking `spider`.
    crawler = make_crawler(tmp_path, ITEM_PIPELINES=PIPELINES, MIATA_PARQUET_BATCH_SIZE=2)
    manager = ItemPipelineManager.from_crawler(crawler)
    items = [post("1234567"), post("1234567"), post("1234568", body="Same here on a BEGi kit.")]

    async def crawl():
        await manager.open_spider_async()
        outcomes = []
        for item in items:
            try:
                outcomes.append((await manager.process_item_async(item)).post_id)
            except DropItem:
                outcomes.append("dropped")
        await manager.close_spider_async()
        return outcomes

    assert asyncio.run(crawl()) == ["1234567", "dropped", "1234568"]
    assert crawler.stats.get_value("miata/parquet/rows_written") == 2
    assert crawler.stats.get_value("miata/dedupe/dropped_in_run") == 1


def test_fold_moves_the_run_into_compact_arrays_and_keeps_every_verdict():
    seen = SeenPosts(stored_versions([1000001], ["Stock MAP."]))
    assert seen.check_and_add("1000002", content_hash("GM 3 bar MAP.")) is Verdict.NEW_POST
    assert seen.check_and_add("1000001", content_hash("Stock MAP, tuned.")) is Verdict.NEW_VERSION
    assert seen.unfolded == 2

    seen.fold()

    assert seen.unfolded == 0 and len(seen) == 3
    assert seen.check_and_add("1000002", content_hash("GM 3 bar MAP.")) is Verdict.SEEN_IN_RUN
    assert seen.check_and_add("1000001", content_hash("Stock MAP, tuned.")) is Verdict.SEEN_IN_RUN
    assert seen.check_and_add("1000001", content_hash("Stock MAP.")) is Verdict.SEEN_STORED
    assert seen.check_and_add("1000002", content_hash("GM 3 bar MAP, edited.")) is Verdict.NEW_VERSION
    # A run id that is not a plain number turns the folded ids into text, losing nothing.
    assert seen.check_and_add("kx9q2ab", content_hash("Reddit id.")) is Verdict.NEW_POST
    seen.fold()
    assert seen.check_and_add("kx9q2ab", content_hash("Reddit id.")) is Verdict.SEEN_IN_RUN
    assert seen.check_and_add("1000002", content_hash("GM 3 bar MAP, edited.")) is Verdict.SEEN_IN_RUN
    assert seen.check_and_add("1000002", content_hash("GM 3 bar MAP.")) is Verdict.SEEN_IN_RUN
    assert seen.unfolded == 0 and len(seen) == 5


def test_the_pipeline_folds_its_run_at_each_part_commit(tmp_path):
    crawler = make_crawler(tmp_path, MIATA_PARQUET_BATCH_SIZE=2)
    dedupe, writer = DedupePipeline.from_crawler(crawler), ParquetPipeline.from_crawler(crawler)
    dedupe.open_spider()
    writer.open_spider()
    seen = dedupe._seen_for("miataturbo")
    writer.process_item(dedupe.process_item(post("1234567", body="a")))
    assert seen.unfolded == 1
    writer.process_item(dedupe.process_item(post("1234568", body="b")))  # fills the part
    assert seen.unfolded == 0
    with pytest.raises(DropItem, match="already seen in this run"):
        dedupe.process_item(post("1234567", body="a"))
    writer.close_spider()
