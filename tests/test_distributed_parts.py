"""The parts of a shared crawl one at a time, against a real redis-server: leases, seeding and the end
of the frontier, the site's budget, the claims of the dedupe, the add-on switch and the shared lock."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
import scrapy
from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from miata_spiders import settings as project_settings
from miata_spiders.distributed.addon import RedisWorkers
from miata_spiders.distributed.dedupe import _CLAIM, SharedDedupePipeline
from miata_spiders.distributed.keys import CrawlKeys
from miata_spiders.distributed.politeness import _ACQUIRE, _PAUSE
from miata_spiders.distributed.progress import _CHAIN
from miata_spiders.distributed.queue import LeasedQueue
from miata_spiders.errors import SiteLockedError
from pipelines.lock import SiteLock
from tests.support.redis_server import RedisServer

KEYS = CrawlKeys("miata", "somesite")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis(redis_server):
    client = redis_server.client()
    client.flushdb()
    yield client
    client.close()


def queue(redis, worker="w1", lease_seconds=60.0) -> LeasedQueue:
    spider = SimpleNamespace(name="somesite")
    return LeasedQueue(redis, spider, KEYS.frontier, keys=KEYS, lease_seconds=lease_seconds, worker_id=worker)


def request(path: str, priority: int = 0) -> scrapy.Request:
    return scrapy.Request(f"http://127.0.0.1/{path}", priority=priority)


# --- the leased frontier --------------------------------------------------------------------------

def test_a_popped_request_stays_leased_until_acknowledged(redis):
    q = queue(redis)
    q.push(request("a"))
    lease, popped = q.pop_leased()
    assert popped.url == "http://127.0.0.1/a"
    assert q.pending() == (0, 1)  # out of the frontier, not out of Redis
    assert q.pop_leased() is None
    assert q.ack([lease]) == 1
    assert q.pending() == (0, 0)
    assert q.ack([lease]) == 0  # acknowledging twice changes nothing


def test_an_expired_lease_goes_back_to_the_frontier_for_any_worker(redis):
    dead = queue(redis, "dead", lease_seconds=0.2)
    dead.push(request("thread-1", priority=10))
    dead.pop_leased()  # and then the worker dies: nobody renews or acknowledges it
    other = queue(redis, "other")
    assert other.pop_leased() is None  # still leased
    time.sleep(0.3)
    lease, popped = other.pop_leased()
    assert popped.url == "http://127.0.0.1/thread-1" and popped.priority == 10
    assert other.expired_put_back == 1
    assert redis.hget(KEYS.lease_owner, lease) == b"other"


def test_renewing_keeps_a_lease_past_its_first_deadline(redis):
    q = queue(redis, lease_seconds=0.5)
    q.push(request("a"))
    lease, _ = q.pop_leased()
    for _ in range(4):
        time.sleep(0.2)
        assert q.renew([lease]) == 1
    assert queue(redis, "other").pop_leased() is None
    assert q.pending() == (0, 1)


def test_a_retry_replaces_its_lease_in_one_step(redis):
    q = queue(redis)
    q.push(request("a"))
    lease, popped = q.pop_leased()
    q.push(popped.replace(dont_filter=True), replaces=lease)
    assert q.pending() == (1, 0)


def test_release_gives_unfinished_leases_back_at_once(redis):
    q = queue(redis)
    q.push(request("a", priority=10))
    q.push(request("b"))
    lease, first = q.pop_leased()
    assert first.url.endswith("/a")  # the higher priority first, like scrapy-redis's PriorityQueue
    assert q.release([lease]) == 1
    assert q.pop_leased()[1].url.endswith("/a")


def test_only_the_first_worker_seeds_and_the_crawl_ends_when_every_live_worker_is_idle(redis):
    first, second = queue(redis, "w1"), queue(redis, "w2")
    for worker in ("w1", "w2"):
        redis.set(KEYS.worker(worker), "alive")
        redis.sadd(KEYS.workers, worker)
    assert first.seed(request("index"), "crawl-1", "fp-index")
    assert not second.seed(request("index"), "crawl-2", "fp-index")
    assert first.finish_check(60) == "pending"
    lease, _ = second.pop_leased()
    assert first.finish_check(60) == "pending"  # w2 holds a lease
    second.ack([lease])
    assert first.finish_check(60) == "waiting"  # for w2's own idle pass (its moved-thread stubs)
    assert second.finish_check(60) == "finished"
    assert redis.get(KEYS.done) == b"crawl-1"
    assert not redis.exists(KEYS.seeded, KEYS.seen)
    assert first.finish_check(60) == "finished"
    assert not queue(redis, "w3").seed(request("index"), "crawl-3", "fp-index")  # finished stays finished


def test_a_dead_worker_does_not_hold_up_the_end(redis):
    q = queue(redis, "w1")
    redis.set(KEYS.worker("w1"), "alive")
    redis.sadd(KEYS.workers, "w1", "dead")  # "dead" joined, then its liveness key expired
    q.seed(request("index"), "crawl-1", "fp")
    q.ack([q.pop_leased()[0]])
    assert q.finish_check(60) == "finished"


def test_a_redis_that_lost_the_crawl_is_told_apart_from_a_finished_one(redis):
    assert queue(redis).finish_check(60) == "lost"


# --- the site's budget -----------------------------------------------------------------------------

def alive(redis, *workers):
    for worker in workers:
        redis.set(KEYS.worker(worker), "alive")


def acquire(redis, token, limit=2, interval=0.0, shared=1):
    script = redis.register_script(_ACQUIRE)
    answer = script(keys=[KEYS.inflight, KEYS.next_at, KEYS.pause_until, KEYS.stop],
                    args=[token, limit, interval, 60, shared, KEYS.worker_prefix])
    return [part.decode() for part in answer]


def test_no_more_than_the_limit_in_flight_across_workers(redis):
    alive(redis, "w1", "w2", "w3")
    assert acquire(redis, "w1|1") == ["go"]
    assert acquire(redis, "w2|1") == ["go"]
    assert acquire(redis, "w3|1") == ["wait", "full"]
    redis.zrem(KEYS.inflight, "w1|1")  # its response is in
    assert acquire(redis, "w3|1") == ["go"]


def test_a_place_held_by_a_dead_worker_is_freed_when_its_liveness_expires(redis):
    alive(redis, "w1", "w2", "w3")
    assert acquire(redis, "w1|1") == ["go"]
    assert acquire(redis, "w2|1") == ["go"]
    redis.delete(KEYS.worker("w1"))  # w1 was killed: its liveness key was not renewed and expired
    assert acquire(redis, "w3|1") == ["go"]
    assert redis.zrange(KEYS.inflight, 0, -1) == [b"w2|1", b"w3|1"]


def test_requests_start_an_interval_apart_whichever_worker_sends_them(redis):
    alive(redis, "w1", "w2")
    assert acquire(redis, "w1|1", interval=5) == ["go"]
    verdict, wait = acquire(redis, "w2|1", interval=5)
    assert verdict == "wait" and 4 < float(wait) <= 5


def test_a_retry_after_pauses_every_worker_and_a_stop_stops_them(redis):
    alive(redis, "w2")
    redis.register_script(_PAUSE)(keys=[KEYS.pause_until], args=[30])
    verdict, wait = acquire(redis, "w2|1")
    assert verdict == "wait" and 29 < float(wait) <= 30
    verdict, wait = acquire(redis, "w2|1", shared=0)  # a worker with its own budget waits too
    assert verdict == "wait"
    redis.set(KEYS.stop, "site_blocking")
    assert acquire(redis, "w2|1") == ["stop", "site_blocking"]


# --- dedupe claims and the crawl state's chain ------------------------------------------------------

def claim(redis, version, worker):
    script = redis.register_script(_CLAIM)
    return script(keys=[KEYS.versions, KEYS.claims], args=[version, worker, KEYS.worker_prefix]).decode()


def test_a_post_version_is_written_by_one_live_worker_and_taken_over_from_a_dead_one(redis):
    redis.set(KEYS.worker("w1"), "alive")
    assert claim(redis, "101:abcd", "w1") == "mine"
    assert claim(redis, "101:abcd", "w2") == "other"  # w1 is alive and writes it
    redis.delete(KEYS.worker("w1"))  # w1 died before its part was committed
    assert claim(redis, "101:abcd", "w2") == "taken_over:w1"
    redis.sadd(KEYS.versions, "101:abcd")  # w2's part is durable
    assert claim(redis, "101:abcd", "w3") == "durable"
    assert claim(redis, "101:ef01", "w3") == "mine"  # an edit is another version


def test_a_post_a_dead_worker_wrote_just_before_dying_is_not_written_again(redis, tmp_path):
    """w1 renamed its part into place and was killed before recording its claims durable: the survivor
    that meets the same posts again (their page came back from w1's lease) must not write them twice."""
    from scrapy.utils.test import get_crawler

    from miata_spiders.items import PostItem
    from pipelines.dataset import version_key
    from pipelines.parquet import ParquetBatchWriter, item_to_row

    crawler = get_crawler(settings_dict={"MIATA_DATA_DIR": str(tmp_path)})
    crawler.engine = SimpleNamespace(_slot=SimpleNamespace(scheduler=SimpleNamespace(server=redis, keys=KEYS,
                                                                                     worker_id="w2")))
    survivor = SharedDedupePipeline(crawler)
    survivor._seen_for("somesite")  # loaded when the survivor started: nothing stored yet
    written, new = (PostItem(source="forum", site="somesite", post_id=pid, thread_id="1", body_text=text)
                    for pid, text in (("101", "written by w1"), ("102", "only buffered by w1")))
    for post in (written, new):
        redis.hset(KEYS.claims, f"{post.post_id}:{version_key(post.content_hash).decode()}", "w1")
    writer = ParquetBatchWriter(tmp_path, "somesite", 10)
    writer.add(item_to_row(written, "somesite"))
    writer.flush()  # w1's part is in place; w1 dies here (no worker:w1 key)
    with pytest.raises(DropItem):
        asyncio.run(survivor.process_item(written))
    assert asyncio.run(survivor.process_item(new)) is new
    stats = crawler.stats.get_stats()
    assert stats["miata/dedupe/claims_taken_over"] == 2 and stats["miata/dedupe/reloads_after_death"] == 1
    assert stats["miata/dedupe/dropped_existing"] == 1


def chain(redis, thread, page, previous):
    script = redis.register_script(_CHAIN)
    return [p.decode() for p in script(keys=[KEYS.chained, KEYS.parked],
                                       args=[thread, page, "" if previous is None else previous, f"page {page}"])]


def test_a_thread_page_is_recorded_only_after_every_earlier_page_of_its_chain(redis):
    assert chain(redis, "7", 3, 2) == []  # page 3 durable first: parked under page 2
    assert chain(redis, "7", 2, 1) == []
    assert chain(redis, "7", 1, None) == ["page 1", "page 2", "page 3"]  # the chain's start frees them all
    assert chain(redis, "7", 4, 3) == ["page 4"]


# --- the switch and the lock ----------------------------------------------------------------------

def project(**overrides) -> Settings:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    settings.setdict(overrides, priority="cmdline")
    return settings


def test_without_miata_redis_url_the_add_on_changes_nothing(monkeypatch):
    monkeypatch.delenv("MIATA_REDIS_URL", raising=False)
    settings = project()
    before = {name: settings.get(name) for name in ("SCHEDULER", "DUPEFILTER_CLASS", "MIATA_PARQUET_SHARED_DIR")}
    pipelines, middlewares = dict(settings.getdict("ITEM_PIPELINES")), dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    RedisWorkers().update_settings(settings)
    assert {name: settings.get(name) for name in before} == before
    assert settings.getdict("ITEM_PIPELINES") == pipelines
    assert settings.getdict("DOWNLOADER_MIDDLEWARES") == middlewares


def test_miata_redis_url_makes_a_worker(monkeypatch):
    monkeypatch.delenv("MIATA_REDIS_URL", raising=False)
    settings = project(MIATA_REDIS_URL="redis://127.0.0.1:1/0")
    RedisWorkers().update_settings(settings)
    assert settings.get("SCHEDULER") == "miata_spiders.distributed.scheduler.LeasedScheduler"
    assert settings.get("REDIS_URL") == "redis://127.0.0.1:1/0" and settings.getbool("SCHEDULER_PERSIST")
    pipelines = settings.getdict("ITEM_PIPELINES")
    assert "pipelines.dedupe.DedupePipeline" not in pipelines
    assert any("SharedDedupePipeline" in str(name) for name in pipelines)
    assert any("SharedPolitenessMiddleware" in str(name) for name in settings.getdict("DOWNLOADER_MIDDLEWARES"))


def test_workers_share_the_site_lock_and_keep_a_standalone_crawl_out(tmp_path):
    first = SiteLock(tmp_path, "somesite", shared=True).acquire()
    second = SiteLock(tmp_path, "somesite", shared=True).acquire()
    with pytest.raises(SiteLockedError, match="workers of a shared crawl"):
        SiteLock(tmp_path, "somesite").acquire()
    first.release()
    second.release()
    standalone = SiteLock(tmp_path, "somesite").acquire()
    with pytest.raises(SiteLockedError, match="standalone crawl or reparse"):
        SiteLock(tmp_path, "somesite", shared=True).acquire()
    standalone.release()
