"""A crawl killed at any point (SIGKILL, SIGTERM) and simply run again ends with every post of the
forum in the dataset exactly once, without fetching finished threads again. Every kill point runs on
the IB skin; the other vBulletin generations (tests/support/renderers.py) run one each."""

import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from pipelines.crawl_state import CrawlState
from tests.support.crawl import FAST, ROOT, dataset_rows, scrapy_crawl
from tests.support.renderers import BY_SPIDER

SHAPE = ForumShape(seed=5, threads_per_forum=6, posts_per_thread=7, posts_per_page=5, threads_per_page=3)
# Every answer takes a little while, so the kill lands where the test means it to.
PACED = [FaultRule(r".", "slow", times=10**9, delay=0.02)]


def start_crawl(spider, base_url, data, **settings):
    merged = {**FAST, "MIATA_DATA_DIR": str(data), "HTTPCACHE_DIR": str(data / "httpcache"),
              "MIATA_PARQUET_BATCH_SIZE": "4", **{k: str(v) for k, v in settings.items()}}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"base_url={base_url}"]
    for name, value in merged.items():
        cmd += ["-s", f"{name}={value}"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(condition, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "the crawl finished before the kill point: " + proc.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "kill point never reached"
        time.sleep(0.005)


def part_being_committed(data, spider):
    directory = data / "posts" / f"site={spider}"
    return directory.is_dir() and any(p.name.endswith(".tmp") for p in directory.iterdir())


def committed_parts(data, spider):
    directory = data / "posts" / f"site={spider}"
    return [p for p in directory.glob("*.parquet")] if directory.is_dir() else []


def thread_pages_fetched(renderer, requests):
    return [r.path for r in requests if renderer.thread_page_of(r.path) and r.status == 200]


@pytest.mark.parametrize(
    "spider, point, kill_signal",
    [
        ("miataturbo", "during the listing walk", signal.SIGKILL),
        ("miataturbo", "mid-thread", signal.SIGKILL),
        ("miataturbo", "during a Parquet commit", signal.SIGKILL),
        ("miataturbo", "mid-thread", signal.SIGTERM),
        ("miatanet", "mid-thread", signal.SIGKILL),
        ("clubroadster", "mid-thread", signal.SIGTERM),
    ],
)
def test_killed_crawl_resumes_to_exactly_the_ground_truth(tmp_path, spider, point, kill_signal):
    renderer = BY_SPIDER[spider]
    server = ForumServer(renderer.site_factory(SyntheticForum(SHAPE)), faults=PACED)
    server.start()
    try:
        if point == "during a Parquet commit":
            proc = start_crawl(spider, server.base_url, tmp_path, MIATA_PARQUET_COMMIT_DELAY=0.3)
            wait_for(lambda: len(committed_parts(tmp_path, spider)) >= 3 and part_being_committed(tmp_path, spider), proc)
        else:
            proc = start_crawl(spider, server.base_url, tmp_path)
            threshold = 4 if point == "during the listing walk" else 30
            wait_for(lambda: len(server.requests) >= threshold, proc)
        proc.send_signal(kill_signal)
        proc.communicate(timeout=60)
        state = CrawlState.for_site(tmp_path, spider)
        recorded = {tid: state.thread(tid) for tid in map(str, server.site.forum.all_thread_ids()) if state.thread(tid)}
        state.close()
        server.requests.clear()
        scrapy_crawl(spider, server.base_url, tmp_path)
    finally:
        server.stop()
    counts = Counter(r["post_id"] for r in dataset_rows(tmp_path, ["post_id"]))
    assert sorted(counts) == sorted(server.ground_truth())
    assert set(counts.values()) == {1}, "a post was stored twice"
    # Threads the state recorded as complete before the kill are not fetched again; recorded,
    # unfinished ones are resumed at their last recorded page, not from page 1.
    for path in thread_pages_fetched(renderer, server.requests):
        thread_id, page = renderer.thread_page_of(path)
        known = recorded.get(thread_id)
        assert known is None or not known.complete, f"finished thread fetched again: {path}"
        assert known is None or page >= known.last_page, f"resumed before its last page: {path}"
    if point != "during the listing walk":
        assert recorded, "the kill came before anything was recorded: the test proves nothing"
