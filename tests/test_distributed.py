"""Several workers share one crawl through a real Redis (MIATA_REDIS_URL): against the synthetic forum,
with faults, every post lands in the dataset exactly once, every page is fetched by exactly one worker,
the forum never sees more than one crawler's budget, and a worker killed with kill -9 loses nothing.

Each worker is a real ``scrapy crawl`` process; the server tells them apart by User-Agent.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace

import pytest

from miata_spiders.errors import NOPERM
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from pipelines.crawl_state import CrawlState
from tests.support.crawl import FAST, ROOT, dataset_rows
from tests.support.redis_server import RedisServer
from tests.support.renderers import BY_SPIDER

SPIDER = "miataturbo"
RENDERER = BY_SPIDER[SPIDER]
SHAPE = ForumShape(seed=5, threads_per_forum=6, posts_per_thread=7, posts_per_page=5, threads_per_page=3)
# The site's budget every worker shares: 2 requests in flight, one started every DELAY seconds.
LIMIT, DELAY = 2, 0.1
WORKER = {
    **FAST,
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(LIMIT),
    "DOWNLOAD_DELAY": str(DELAY),
    "DOWNLOAD_DELAY_JITTER": "0",  # the interval is exactly DELAY: the rate bound below is exact
    "HTTPCACHE_ENABLED": "False",
    "MIATA_PARQUET_BATCH_SIZE": "20",
    "MIATA_PARQUET_FLUSH_SECONDS": "1",
    "MIATA_REDIS_LEASE_SECONDS": "10",  # a killed worker's pages return within 10 s; a few seconds' stall is no death
    # A worker started (slowly, on a loaded machine) after the others finished exits: no second crawl.
    "MIATA_REDIS_FINISHED_TTL": "600",
    "DOWNLOAD_TIMEOUT": "20",
}


def faults() -> list[FaultRule]:
    """A misbehaving forum: server errors, a rate limit with Retry-After, a dropped connection."""
    return [
        FaultRule(r"/page2/$", "500", times=3),
        FaultRule(r"question-\d+/$", "429", times=2, skip=4, retry_after="1"),
        FaultRule(r"index2\.html$", "drop", times=1),
    ]


def start_worker(name: str, server: ForumServer, data, redis: RedisServer, **settings) -> subprocess.Popen:
    merged = {**WORKER, "MIATA_DATA_DIR": str(data), "MIATA_REDIS_URL": redis.url, "MIATA_USER_AGENT": name,
              "LOG_FILE": str(data.parent / f"{data.name}-{name}.log"), **{k: str(v) for k, v in settings.items()}}
    cmd = [sys.executable, "-m", "scrapy", "crawl", SPIDER, "-a", f"base_url={server.base_url}"]
    for key, value in merged.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 300) -> int:
    """The worker's exit status once it has ended; what it printed on stderr is kept as ``proc.err``."""
    proc.err = proc.communicate(timeout=timeout)[1]
    return proc.returncode


def log_of(data, name: str) -> str:
    return (data.parent / f"{data.name}-{name}.log").read_text(errors="replace")


def pages(server: ForumServer) -> dict[str, list[str]]:
    """Page path -> the workers that got it (200), robots.txt left out: each worker reads it once."""
    fetched = defaultdict(list)
    for request in server.requests:
        if request.status == 200 and request.path != "/robots.txt":
            fetched[request.path].append(request.user_agent)
    return fetched


def assert_exactly_the_ground_truth(server: ForumServer, data) -> None:
    ids = [row["post_id"] for row in dataset_rows(data, ["post_id"])]
    duplicates = [pid for pid, n in Counter(ids).items() if n > 1]
    assert duplicates == []
    assert sorted(ids) == sorted(server.ground_truth())


@pytest.fixture(scope="module", params=[2, 3], ids=["2 workers", "3 workers"])
def shared_crawl(request, tmp_path_factory):
    count = request.param
    root = tmp_path_factory.mktemp(f"shared-{count}")
    server = ForumServer(RENDERER.site_factory(SyntheticForum(SHAPE)), faults=faults())
    server.start()
    with RedisServer(root / "redis") as redis:
        names = [f"worker-{n}" for n in range(count)]
        workers = [start_worker(name, server, root / "data", redis) for name in names]
        codes = [finish(worker) for worker in workers]
        stderr = [worker.err for worker in workers]
        left = sorted(key.decode() for key in redis.client().keys("*"))
    server.stop()
    yield server, root / "data", names, codes, left, stderr


def test_every_worker_finishes_and_the_crawl_leaves_only_its_end_mark(shared_crawl):
    server, data, names, codes, left, _ = shared_crawl
    assert codes == [0] * len(names), [log_of(data, n)[-3000:] for n, c in zip(names, codes) if c]
    assert left == [f"miata:{SPIDER}:done"]  # until MIATA_REDIS_FINISHED_TTL
    assert sum("seeds a new shared crawl" in log_of(data, n) for n in names) == 1


def test_every_post_is_in_the_dataset_exactly_once(shared_crawl):
    server, data, *_ = shared_crawl
    assert_exactly_the_ground_truth(server, data)


def test_every_page_is_fetched_by_exactly_one_worker_and_the_work_is_shared(shared_crawl):
    server, data, names, *_ = shared_crawl
    fetched = pages(server)
    twice = {path: who for path, who in fetched.items() if len(who) > 1}
    assert twice == {}
    by_worker = Counter(who[0] for who in fetched.values())
    # The work is shared (how evenly depends on when each process got going on a loaded machine).
    assert len(by_worker) >= 2, by_worker
    # The faults were met and retried: an error answer, then the page's one 200.
    assert {r.status for r in server.requests} >= {500, 429, 0}


def test_the_forum_never_sees_more_than_one_crawlers_budget(shared_crawl):
    server, *_ = shared_crawl
    # Concurrency: a worker returns its place only once the whole response is in, so the server can
    # never be answering more than LIMIT requests of all workers together.
    assert server.max_in_flight <= LIMIT
    # Rate: requests start at least DELAY apart on Redis's clock, so n answers span at least
    # (n - 1) * DELAY minus how late the first one was answered after its start; 2 s covers that
    # lateness on a loaded machine. Three workers each with its own budget would need a third of it.
    times = sorted(r.time for r in server.requests)
    assert len(times) - 1 <= (times[-1] - times[0] + 2.0) / DELAY


def test_crawl_state_records_every_thread_complete(shared_crawl):
    server, data, *_ = shared_crawl
    state = CrawlState.for_site(data, SPIDER)
    forum = server.site.forum
    for thread_id in forum.all_thread_ids():
        known = state.thread(str(thread_id))
        assert known is not None and known.complete, thread_id
        assert known.last_page == forum.page_count(thread_id)
    state.close()


def test_a_worker_killed_mid_crawl_loses_nothing_and_doubles_nothing(tmp_path):
    server = ForumServer(RENDERER.site_factory(SyntheticForum(SHAPE)),
                         faults=[FaultRule(r".", "slow", times=10**9, delay=0.02)])
    server.start()
    data = tmp_path / "data"
    try:
        with RedisServer(tmp_path / "redis") as redis:
            victim = start_worker("victim", server, data, redis)
            survivor = start_worker("survivor", server, data, redis)
            deadline = time.monotonic() + 120
            while sum(r.user_agent == "victim" and r.status == 200 for r in server.requests) < 15:
                assert victim.poll() is None, "the victim finished before the kill point"
                assert time.monotonic() < deadline, "kill point never reached"
                time.sleep(0.01)
            victim.send_signal(signal.SIGKILL)
            finish(victim)
            # A worker started after the kill joins the same crawl and shares what is left.
            late = start_worker("late", server, data, redis)
            assert finish(survivor) == 0, log_of(data, "survivor")[-3000:]
            assert finish(late) == 0, log_of(data, "late")[-3000:]
            released = sum(_stat(log_of(data, n), "miata/redis/leases_expired_put_back") for n in ("survivor", "late"))
    finally:
        server.stop()
    assert_exactly_the_ground_truth(server, data)
    # Only pages the victim held when it died were fetched again, by someone else.
    twice = {path: who for path, who in pages(server).items() if len(who) > 1}
    assert all(who[0] == "victim" and "victim" not in who[1:] for who in twice.values()), twice
    assert len(twice) <= released
    # Known bug, not asserted here (closing note of 2026-12-02; failed 2 of ~8 runs): after a kill -9 the
    # shared crawl state can leave a thread "incomplete", so the next incremental crawl reads it again. No
    # post is lost or doubled (asserted above); the two-worker incremental test covers the state otherwise.


def test_incremental_recrawl_with_two_workers_fetches_only_what_changed(tmp_path):
    data = tmp_path / "data"
    server = ForumServer(RENDERER.site_factory(SyntheticForum(replace(SHAPE, generation=0))))
    server.start()
    try:
        with RedisServer(tmp_path / "redis") as redis:
            first = [start_worker(f"first-{n}", server, data, redis) for n in range(2)]
            assert [finish(w) for w in first] == [0, 0]
            old = server.site.forum
            server.site = RENDERER.site_factory(SyntheticForum(replace(SHAPE, generation=1)))
            new = server.site.forum
            server.requests.clear()
            redis.client().delete(f"miata:{SPIDER}:done")  # as when MIATA_REDIS_FINISHED_TTL has passed
            again = [start_worker(f"again-{n}", server, data, redis) for n in range(2)]
            assert [finish(w) for w in again] == [0, 0], log_of(data, "again-0")[-3000:]
    finally:
        server.stop()
    grown = [t for t in old.all_thread_ids() if new.thread(t).post_count != old.thread(t).post_count]
    born = [t for t in new.all_thread_ids() if t not in set(old.all_thread_ids())]
    expected = sum(new.page_count(t) - old.page_count(t) + 1 for t in grown) + sum(new.page_count(t) for t in born)
    thread_pages = [p for p in pages(server) if RENDERER.thread_page_of(p)]
    assert len(thread_pages) == expected
    assert all(len(who) == 1 for who in pages(server).values())
    rows = dataset_rows(data, ["post_id", "content_hash"])
    assert {r["post_id"] for r in rows} == {str(i) for i in new.all_post_ids()}
    assert len({(r["post_id"], r["content_hash"]) for r in rows}) == len(rows)  # no version twice


def test_a_stop_for_site_blocking_stops_every_worker_that_joins(tmp_path):
    """One worker's site_blocking stop is in Redis: a worker of the same crawl stops at its first
    request to the site instead of adding its own blocked requests."""
    server = ForumServer(RENDERER.site_factory(SyntheticForum(SHAPE)))
    server.start()
    data = tmp_path / "data"
    try:
        with RedisServer(tmp_path / "redis") as redis:
            redis.client().set(f"miata:{SPIDER}:stop", "site_blocking")
            worker = start_worker("late", server, data, redis)
            code = finish(worker)
    finally:
        server.stop()
    assert code == NOPERM, log_of(data, "late")[-3000:]
    assert [r.path for r in server.requests] == []
    assert "another worker stopped the shared crawl" in log_of(data, "late")


def _stat(log: str, name: str) -> int:
    import re

    match = re.search(rf"'{re.escape(name)}': (\d+)", log)
    return int(match.group(1)) if match else 0


def test_two_crawl_all_workers_split_the_forum(tmp_path):
    """`miata crawl-all --redis URL`, started twice on one data directory (two machines on a shared one)."""
    import os
    import socket

    server = ForumServer(RENDERER.site_factory(SyntheticForum(SHAPE)))
    server.start()
    data = tmp_path / "data"
    env = {**os.environ, "MIATA_DATA_DIR": str(data), "SCRAPY_SETTINGS_MODULE": "miata_spiders.settings"}
    env.pop("MIATA_USER_AGENT", None)
    try:
        with RedisServer(tmp_path / "redis") as redis:
            settings = [arg for name, value in {**WORKER, "HTTPCACHE_DIR": str(data / "httpcache")}.items()
                        for arg in ("-s", f"{name}={value}")]
            cmd = [sys.executable, "-m", "miata_spiders.cli", "crawl-all", "--redis", redis.url, "--sources", SPIDER,
                   "--base-url", f"{SPIDER}={server.base_url}", *settings]
            runs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    for _ in range(2)]
            outputs = [run.communicate(timeout=600) for run in runs]
    finally:
        server.stop()
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert all(f"{SPIDER}: " in out for out, _ in outputs)
    assert_exactly_the_ground_truth(server, data)
    assert all(len(who) == 1 for who in pages(server).values())
    assert (data / "logs" / f"{SPIDER}.{socket.gethostname()}.log").exists()


def test_redis_restarted_mid_crawl_with_its_default_persistence_loses_nothing(tmp_path):
    """Redis goes down for a second and comes back from the snapshot it wrote on shutdown: the workers
    wait for it and carry on; the crawl ends with every post once."""
    server = ForumServer(RENDERER.site_factory(SyntheticForum(SHAPE)),
                         faults=[FaultRule(r".", "slow", times=10**9, delay=0.02)])
    server.start()
    data = tmp_path / "data"
    try:
        with RedisServer(tmp_path / "redis", persistence=True) as redis:
            workers = [start_worker(f"worker-{n}", server, data, redis) for n in range(2)]
            deadline = time.monotonic() + 120
            while sum(r.status == 200 for r in server.requests) < 30:
                assert all(w.poll() is None for w in workers), "the crawl finished before the restart"
                assert time.monotonic() < deadline, "restart point never reached"
                time.sleep(0.01)
            redis.restart(down_seconds=1.0)
            codes = [finish(w) for w in workers]
    finally:
        server.stop()
    assert codes == [0, 0], [log_of(data, f"worker-{n}")[-3000:] for n in range(2)]
    assert_exactly_the_ground_truth(server, data)
