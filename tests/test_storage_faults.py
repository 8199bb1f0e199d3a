"""A disk that fills up or fails stops the crawl with `storage_error`, loses nothing already written,
never lets the crawl state vouch for rows that are not durable, and never writes a row twice."""

import errno
import logging
import os
import subprocess
import sys
from collections import Counter

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from twisted.internet import task

from miata_spiders import errors
from miata_spiders.errors import StorageError
from miata_spiders.testing.forumgen import POST_SLOTS, ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from pipelines import parquet
from pipelines.crawl_state import CrawlState, ThreadProgress
from pipelines.dataset import open_posts_dataset, site_dir
from pipelines.parquet import ParquetBatchWriter, ParquetPipeline
from pipelines.signals import page_progress, part_committed
from tests.support.crawl import FAST, ROOT, dataset_rows, scrapy_crawl
from tests.support.renderers import BY_SPIDER
from tests.test_parquet_pipeline import post, row, visible_parts


class MiataTurboSpider(Spider):
    name = "miataturbo"


def progress(thread_id="98765", page=1, has_next_page=False) -> ThreadProgress:
    return ThreadProgress(site="miataturbo", thread_id=thread_id, forum_id="12", thread_url=None, page=page,
                          page_url=f"https://www.miataturbo.net/showthread.php?t={thread_id}&page={page}",
                          last_position=page * 15, has_next_page=has_next_page, reply_count=None, last_post_at=None)


def fail_with(code):
    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return failing


class Recorder:
    """Collects what a writer reports as durable: [(part rows or None, [thread pages])]."""

    def __init__(self):
        self.calls = []

    def __call__(self, part, markers):
        self.calls.append((part.rows if part else None, [(m.thread_id, m.page) for m in markers]))


# --- the writer ------------------------------------------------------------------------------------

def test_enospc_while_writing_a_part_keeps_the_rows_and_reports_no_progress(tmp_path, monkeypatch):
    durable = Recorder()
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=2, on_commit=durable)
    writer.add(row("1"))
    writer.add(row("2"))
    assert durable.calls == [(2, [])]
    writer.add(row("3"))
    writer.add_progress(progress(page=2))
    monkeypatch.setattr(parquet.pq, "write_table", fail_with(errno.ENOSPC))

    with pytest.raises(StorageError) as failure:
        writer.add(row("4"))

    assert str(site_dir(tmp_path, "miataturbo")) in failure.value.message
    assert "[ENOSPC] No space left on device" in failure.value.message
    assert failure.value.exit_status == errors.IOERR
    assert writer.pending == 2 and durable.calls == [(2, [])]  # page 2 not vouched for
    assert [p.name for p in site_dir(tmp_path, "miataturbo").iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    writer.close()  # space freed: the same rows, once
    assert durable.calls == [(2, []), (2, [("98765", 2)])]
    assert sorted(open_posts_dataset(tmp_path).to_table().column("post_id").to_pylist()) == ["1", "2", "3", "4"]


def test_eio_from_fsync_of_the_part_is_a_storage_error_and_leaves_no_file(tmp_path, monkeypatch):
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=10)
    writer.add(row("1"))
    monkeypatch.setattr(parquet.os, "fsync", fail_with(errno.EIO))
    with pytest.raises(StorageError, match=r"\[EIO\] Input/output error"):
        writer.flush()
    assert list(site_dir(tmp_path, "miataturbo").iterdir()) == []
    assert writer.pending == 1


def test_a_part_renamed_into_place_is_written_even_if_the_directory_sync_fails(tmp_path, monkeypatch):
    # Before: the rename had happened but the rows stayed buffered, and the next flush wrote them again.
    durable = Recorder()
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=10, on_commit=durable)
    writer.add(row("1"))
    writer.add(row("2"))
    writer.add_progress(progress(page=1))
    monkeypatch.setattr(parquet, "_fsync_directory", fail_with(errno.EIO))

    with pytest.raises(StorageError, match="could not sync its directory") as failure:
        writer.flush()

    assert failure.value.part.rows == 2
    assert writer.pending == 0
    # The rename may not survive a power cut, so its pages are not vouched for (fetched again next run).
    assert durable.calls == []
    monkeypatch.undo()
    assert writer.close() is None
    assert sorted(open_posts_dataset(tmp_path).to_table().column("post_id").to_pylist()) == ["1", "2"]


def test_progress_is_reported_after_the_rows_before_it_are_renamed_in_order(tmp_path):
    durable = Recorder()
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=3, on_commit=durable)
    writer.add_progress(progress("1", 1))  # nothing buffered: its posts were all duplicates
    assert durable.calls == [(None, [("1", 1)])]
    writer.add(row("10"))
    writer.add_progress(progress("2", 1))
    writer.add(row("11"))
    writer.add_progress(progress("2", 2))
    assert durable.calls == [(None, [("1", 1)])]
    writer.add(row("12"))  # the batch fills: one part, two pages now durable
    assert durable.calls[-1] == (3, [("2", 1), ("2", 2)])


def test_leftover_temporary_parts_from_a_kill_are_removed_at_start(tmp_path, caplog):
    directory = site_dir(tmp_path, "miataturbo")
    directory.mkdir(parents=True)
    for n in range(3):
        (directory / f".part-2026112{n}T120000000000Z-{n:032x}.parquet.tmp").write_bytes(b"PAR1 half a file")
    ParquetBatchWriter(tmp_path, "miataturbo", batch_size=1).add(row("1"))
    with caplog.at_level(logging.INFO, logger="pipelines.parquet"):
        writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=1)
    assert writer.removed_leftovers == 0  # the first writer already removed them
    assert [p.name for p in directory.iterdir() if not p.name.endswith(".parquet")] == []
    assert len(visible_parts(tmp_path)) == 1


def test_the_pipeline_counts_and_logs_removed_leftovers(tmp_path, caplog):
    directory = site_dir(tmp_path, "miataturbo")
    directory.mkdir(parents=True)
    (directory / ".part-20261120T120000000000Z-abc.parquet.tmp").write_bytes(b"PAR1")
    (directory / ".part-20261120T120001000000Z-def.parquet.tmp").write_bytes(b"PAR1")
    with caplog.at_level(logging.INFO, logger="pipelines.parquet"):
        pipeline, _ = open_pipeline(tmp_path)
    assert pipeline.crawler.stats.get_value("miata/parquet/leftover_parts_removed") == 2
    assert "removed 2 unfinished temporary part(s)" in caplog.text


# --- the pipeline -----------------------------------------------------------------------------------

def open_pipeline(data_dir, batch_size=2, monkeypatch=None, **settings):
    crawler = get_crawler(MiataTurboSpider, {"MIATA_DATA_DIR": str(data_dir), "MIATA_PARQUET_BATCH_SIZE": batch_size,
                                             **settings})
    crawler.spider = MiataTurboSpider.from_crawler(crawler)
    stops = []
    if monkeypatch is not None:
        monkeypatch.setattr(parquet, "stop_crawl", lambda crawler, reason: stops.append(reason))
    pipeline = ParquetPipeline.from_crawler(crawler)
    pipeline.open_spider()
    return pipeline, stops


def test_enospc_stops_the_crawl_with_storage_error_and_buffers_nothing_more(tmp_path, monkeypatch, caplog):
    pipeline, stops = open_pipeline(tmp_path, batch_size=2, monkeypatch=monkeypatch)
    durable = []
    pipeline.crawler.signals.connect(lambda part, progress: durable.extend(progress), signal=part_committed,
                                     weak=False)
    for n in range(2):
        pipeline.process_item(post(str(1000 + n)))
    [first_part] = visible_parts(tmp_path)
    pipeline.crawler.signals.send_catch_log(page_progress, progress=progress("1", 1))
    assert [p.thread_id for p in durable] == ["1"]
    write_table = parquet.pq.write_table
    monkeypatch.setattr(parquet.pq, "write_table", fail_with(errno.ENOSPC))

    with caplog.at_level(logging.ERROR, logger="pipelines.parquet"):
        pipeline.process_item(post("1002"))
        pipeline.process_item(post("1003"))  # fills the batch: the write fails

    assert stops == ["storage_error"]
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert str(site_dir(tmp_path, "miataturbo")) in line and "[ENOSPC] No space left on device" in line
    assert "storage_error" in line
    # Items still in flight are dropped, not piled up in memory; their pages are never recorded.
    with pytest.raises(DropItem, match="storage_error"):
        pipeline.process_item(post("1004"))
    pipeline.crawler.signals.send_catch_log(page_progress, progress=progress("2", 1))
    assert pipeline._writers["miataturbo"].pending == 2
    assert pipeline.crawler.stats.get_value("miata/parquet/write_errors") == 1
    monkeypatch.setattr(parquet.pq, "write_table", write_table)
    assert [p.thread_id for p in durable] == ["1"]
    assert visible_parts(tmp_path) == [first_part]  # the part written before the failure is intact
    assert open_posts_dataset(tmp_path).count_rows() == 2


def test_still_full_at_close_logs_what_was_not_written(tmp_path, monkeypatch, caplog):
    pipeline, stops = open_pipeline(tmp_path, batch_size=10, monkeypatch=monkeypatch)
    pipeline.process_item(post("1000"))
    monkeypatch.setattr(parquet.pq, "write_table", fail_with(errno.ENOSPC))
    with caplog.at_level(logging.ERROR, logger="pipelines.parquet"):
        pipeline.close_spider()
    assert "1 rows of site 'miataturbo' not written" in caplog.text
    assert "ENOSPC" in caplog.text
    assert pipeline.crawler.stats.get_value("miata/parquet/write_errors") == 1
    assert visible_parts(tmp_path) == []


def test_a_slow_crawl_is_flushed_by_the_timer_after_flush_seconds(tmp_path):
    pipeline, _ = open_pipeline(tmp_path, batch_size=5000, MIATA_PARQUET_FLUSH_SECONDS=60)
    now = [1000.0]
    pipeline.clock = lambda: now[0]
    clock = task.Clock()
    pipeline.start_timer(clock)
    pipeline.process_item(post("1000"))
    now[0] += 30
    pipeline.process_item(post("1001"))
    clock.advance(pipeline.timer_interval)
    now[0] += 29.9
    clock.advance(pipeline.timer_interval)
    assert visible_parts(tmp_path) == []  # 59.9 s after the first row
    now[0] += 0.1
    clock.advance(pipeline.timer_interval)  # no new item arrives: the timer writes the part
    [part] = visible_parts(tmp_path)
    assert open_posts_dataset(tmp_path).count_rows() == 2
    pipeline.close_spider()
    assert not pipeline._timer.running


def test_the_age_of_the_buffer_is_also_checked_on_each_add(tmp_path):
    now = [0.0]
    writer = ParquetBatchWriter(tmp_path, "miataturbo", batch_size=5000, flush_seconds=60, clock=lambda: now[0])
    assert writer.add(row("1")) is None
    now[0] = 59.0
    assert writer.add(row("2")) is None
    now[0] = 60.0
    assert writer.add(row("3")).rows == 3
    now[0] = 200.0  # the clock starts again at the next first row
    assert writer.add(row("4")) is None
    assert writer.flush_if_due() is None


# --- the crawl state --------------------------------------------------------------------------------

def test_a_crawl_state_that_cannot_be_written_stops_the_crawl(tmp_path, monkeypatch, caplog):
    from pipelines import progress as progress_module
    from pipelines.progress import CrawlProgress

    crawler = get_crawler(MiataTurboSpider, {"MIATA_DATA_DIR": str(tmp_path)})
    state = CrawlState.for_site(tmp_path, "miataturbo")
    tracker = CrawlProgress(crawler, state)
    stops = []
    monkeypatch.setattr(progress_module, "stop_crawl", lambda crawler, reason: stops.append(reason))

    def disk_full(*args):
        raise StorageError(f"cannot write the crawl state file {state.path}: database or disk is full")

    monkeypatch.setattr(state, "commit", disk_full)
    with caplog.at_level(logging.ERROR, logger="pipelines.progress"):
        crawler.signals.send_catch_log(part_committed, part=None, progress=[progress()])
    assert stops == ["storage_error"]
    assert f"{state.path}: database or disk is full" in caplog.text
    tracker.close()


def test_page_progress_waits_for_every_post_of_the_page(tmp_path):
    from scrapy import signals

    from pipelines.progress import CrawlProgress

    crawler = get_crawler(MiataTurboSpider, {"MIATA_DATA_DIR": str(tmp_path)})
    tracker = CrawlProgress(crawler, CrawlState.for_site(tmp_path, "miataturbo"))
    handed = []
    crawler.signals.connect(lambda progress: handed.append((progress.thread_id, progress.page)),
                            signal=page_progress, weak=False)
    page_one, page_two, other = object(), object(), object()
    tracker.expect(page_one, progress("7", 1), posts=2)
    tracker.expect(page_two, progress("7", 2), posts=2)
    crawler.signals.send_catch_log(signals.item_scraped, item=post("1"), response=page_one)
    crawler.signals.send_catch_log(signals.item_scraped, item=post("9"), response=other)
    assert handed == []
    crawler.signals.send_catch_log(signals.item_dropped, item=post("2"), response=page_one, exception=DropItem("dup"))
    assert handed == [("7", 1)]  # stored or dropped as a duplicate: both count
    crawler.signals.send_catch_log(signals.item_error, item=post("3"), response=page_two, failure=None)
    crawler.signals.send_catch_log(signals.item_scraped, item=post("4"), response=page_two)
    assert handed == [("7", 1)]  # a post that could not be stored: the page is fetched again next run
    assert crawler.stats.get_value("miata/state/pages_not_recorded") == 1
    tracker.close()


# --- end to end -------------------------------------------------------------------------------------

SHAPE = ForumShape(seed=23, threads_per_forum=6, posts_per_thread=7, posts_per_page=5, threads_per_page=3)
PACED = [FaultRule(r".", "slow", times=10**9, delay=0.02)]
# `scrapy crawl` whose Parquet writes fail with ENOSPC after FAIL_AFTER_PARTS parts: a disk filling up.
DISK_FILLS_UP = """
import errno, os, sys
from pipelines import parquet
write_table, written = parquet.pq.write_table, [0]
def write_until_full(*args, **kwargs):
    if written[0] >= int(os.environ["FAIL_AFTER_PARTS"]):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    written[0] += 1
    return write_table(*args, **kwargs)
parquet.pq.write_table = write_until_full
from scrapy.cmdline import execute
sys.argv = ["scrapy", *sys.argv[1:]]
execute()
"""


def test_a_disk_filling_up_mid_crawl_stops_it_and_a_rerun_completes_the_data_once(tmp_path):
    server = ForumServer(BY_SPIDER["miataturbo"].site_factory(SyntheticForum(SHAPE)), faults=PACED)
    server.start()
    try:
        settings = {**FAST, "MIATA_DATA_DIR": str(tmp_path), "HTTPCACHE_DIR": str(tmp_path / "httpcache"),
                    "MIATA_PARQUET_BATCH_SIZE": "4"}
        cmd = [sys.executable, "-c", DISK_FILLS_UP, "crawl", "miataturbo", "-a", f"base_url={server.base_url}"]
        for name, value in settings.items():
            cmd += ["-s", f"{name}={value}"]
        env = {k: v for k, v in os.environ.items() if k not in ("MIATA_USER_AGENT", "MIATA_DATA_DIR")}
        failed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                                env={**env, "FAIL_AFTER_PARTS": "2"})
        requests_before_stop = len(server.requests)
        rows_after_failure = dataset_rows(tmp_path, ["post_id"])
        state = CrawlState.for_site(tmp_path, "miataturbo")
        recorded = [state.thread(str(t)) for t in server.site.forum.all_thread_ids()]
        state.close()
        server.requests.clear()
        scrapy_crawl("miataturbo", server.base_url, tmp_path, {"MIATA_PARQUET_BATCH_SIZE": "4"})
    finally:
        server.stop()

    assert failed.returncode == errors.IOERR, failed.stderr[-3000:]
    assert "'finish_reason': 'storage_error'" in failed.stderr
    errors_logged = [line for line in failed.stderr.splitlines() if "ERROR" in line and "ENOSPC" in line]
    assert errors_logged and str(site_dir(tmp_path, "miataturbo")) in errors_logged[0], failed.stderr[-3000:]
    # Promptly: the crawl stopped long before fetching the whole forum.
    thread_pages = sum(server.site.forum.page_count(t) for t in server.site.forum.all_thread_ids())
    assert requests_before_stop < thread_pages / 2, (requests_before_stop, thread_pages)
    # The two parts written before the disk filled are intact, and the state vouches for nothing more.
    assert len(rows_after_failure) == 8
    durable = {r["post_id"] for r in rows_after_failure}
    for known in filter(None, recorded):
        thread = server.site.forum.thread(int(known.thread_id))
        vouched = {str(int(known.thread_id) * POST_SLOTS + position)
                   for position in range(1, min(known.last_page * SHAPE.posts_per_page, thread.post_count) + 1)}
        assert vouched <= durable, f"the state vouches for thread {known.thread_id} page {known.last_page}"
    counts = Counter(r["post_id"] for r in dataset_rows(tmp_path, ["post_id"]))
    assert sorted(counts) == sorted(server.ground_truth())
    assert set(counts.values()) == {1}, "a post was stored twice"
