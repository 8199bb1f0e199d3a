"""Several workers, one crawl: pages/s and the rate the forum sees for 1, 2 and 3 workers, with the
shared politeness budget on and off, and what Redis costs per request.

    .venv/bin/python bench/bench_distributed.py [--workers 1,2,3] [--json FILE]

Real ``scrapy crawl`` workers (MIATA_REDIS_URL) against a synthetic forum served by ``ForumServer``
on 127.0.0.1, every answer 50 ms late (a forum's render time), and a redis-server of the benchmark's
own. The budget is the project's shape at a test pace: 2 requests in flight, DOWNLOAD_DELAY 0.1 s,
no jitter, no AutoThrottle. With the shared budget on the forum's rate must stay flat as workers are
added (one crawler's worth, 10 requests/s); off, every worker brings its own budget and the rate
scales. Redis's cost per request: commands the workers sent, commands Redis ran (those inside
our Lua scripts included) and Redis's own CPU time (INFO commandstats and cpu of a fresh server).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PYTHON, ROOT, machine, write_json  # noqa: E402

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum  # noqa: E402
from miata_spiders.testing.server import FaultRule, ForumServer  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.renderers import BY_SPIDER  # noqa: E402

SPIDER = "miataturbo"
SHAPE = ForumShape(seed=21, threads_per_forum=10, posts_per_thread=24, posts_per_page=10, threads_per_page=5)
DELAY, LIMIT, SERVICE = 0.1, 2, 0.05
SETTINGS = {
    "DOWNLOAD_DELAY": str(DELAY), "DOWNLOAD_DELAY_JITTER": "0", "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(LIMIT), "HTTPCACHE_ENABLED": "False", "LOG_LEVEL": "INFO",
    "MIATA_PARQUET_FLUSH_SECONDS": "2", "MIATA_REDIS_FINISHED_TTL": "1",
}


def run(workers: int, shared_budget: bool, workdir: Path) -> dict:
    data = workdir / f"data-{workers}-{int(shared_budget)}"
    server = ForumServer(BY_SPIDER[SPIDER].site_factory(SyntheticForum(SHAPE)),
                         faults=[FaultRule(r".", "slow", times=10**9, delay=SERVICE)])
    server.start()
    try:
        with RedisServer(workdir / f"redis-{workers}-{int(shared_budget)}") as redis:
            client = redis.client()
            client.config_resetstat()
            settings = {**SETTINGS, "MIATA_DATA_DIR": str(data), "MIATA_REDIS_URL": redis.url,
                        "MIATA_REDIS_SHARED_BUDGET": str(shared_budget)}
            procs = []
            started = time.monotonic()
            for n in range(workers):
                cmd = [PYTHON, "-m", "scrapy", "crawl", SPIDER, "-a", f"base_url={server.base_url}",
                       "-s", f"LOG_FILE={workdir / f'worker-{workers}-{int(shared_budget)}-{n}.log'}"]
                for name, value in settings.items():
                    cmd += ["-s", f"{name}={value}"]
                procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            codes = [p.wait() for p in procs]
            wall = time.monotonic() - started
            stats = client.info("commandstats")
            cpu = client.info("cpu")
            client.close()
    finally:
        server.stop()
    times = sorted(r.time for r in server.requests)
    span = times[-1] - times[0]
    pages = sum(1 for r in server.requests if r.status == 200 and r.path != "/robots.txt")
    # Commands Redis ran, those inside our Lua scripts included; "sent" leaves out the kinds only our
    # scripts run (EVALSHA counts once however many commands its script runs; HDEL, also sent in a
    # pipeline at each part commit, is left out too: "sent" is a slight undercount).
    calls = sum(v["calls"] for v in stats.values())
    scripted = ("zrangebyscore", "zpopmin", "zremrangebyscore", "time", "sismember", "hget", "hset", "hdel", "incr")
    sent = calls - sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in scripted)
    redis_cpu = cpu["used_cpu_user"] + cpu["used_cpu_sys"]  # a fresh server per run: all of it is this run's
    requests = len(server.requests)
    return {
        "workers": workers, "shared_budget": shared_budget, "exit_codes": codes, "requests": requests, "pages": pages,
        "crawl_seconds": round(span, 2), "wall_seconds": round(wall, 2),
        "pages_per_second": round(pages / span, 2), "site_requests_per_second": round(requests / span, 2),
        "max_in_flight": server.max_in_flight,
        "redis_commands_per_request": round(calls / requests, 1),
        "redis_commands_sent_per_request": round(sent / requests, 1),
        "redis_cpu_ms_per_request": round(1000 * redis_cpu / requests, 3),
        "redis_commands": {name.removeprefix("cmdstat_"): v["calls"] for name, v in sorted(stats.items())},
    }


def script_latency(workdir: Path, rounds: int = 2000) -> dict:
    """Microseconds one worker waits for Redis (loopback) per operation a request needs: its lease
    (push, pop, acknowledge), its place in the budget, and one post's dedupe claim."""
    from types import SimpleNamespace

    import scrapy

    from miata_spiders.distributed.dedupe import _CLAIM
    from miata_spiders.distributed.keys import CrawlKeys
    from miata_spiders.distributed.politeness import _ACQUIRE
    from miata_spiders.distributed.queue import LeasedQueue

    keys = CrawlKeys("miata", "bench")
    with RedisServer(workdir / "redis-latency") as redis:
        client = redis.client()
        queue = LeasedQueue(client, SimpleNamespace(name="bench"), keys.frontier, keys=keys, lease_seconds=60,
                            worker_id="w")
        acquire, claim = client.register_script(_ACQUIRE), client.register_script(_CLAIM)
        request = scrapy.Request("http://forum.test/thread-1/page2/", meta={"thread_url": "x", "previous_page": 1})
        timings = {}
        started = time.perf_counter()
        for _ in range(rounds):
            queue.push(request)
            lease, _ = queue.pop_leased()
            queue.ack([lease])
        timings["lease_push_pop_ack_us"] = (time.perf_counter() - started) / rounds * 1e6
        started = time.perf_counter()
        for n in range(rounds):
            acquire(keys=[keys.inflight, keys.next_at, keys.pause_until, keys.stop], args=[f"w:{n}", 2, 0, 60, 1])
            client.zrem(keys.inflight, f"w:{n}")
        timings["budget_acquire_release_us"] = (time.perf_counter() - started) / rounds * 1e6
        started = time.perf_counter()
        for n in range(rounds):
            claim(keys=[keys.versions, keys.claims], args=[f"{n}:abcdef", "w", keys.worker_prefix])
        timings["post_claim_us"] = (time.perf_counter() - started) / rounds * 1e6
        client.close()
    return {name: round(value, 1) for name, value in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--latency-only", action="store_true", help="only the per-operation Redis latencies")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="miata-bench-distributed-"))
    results = []
    try:
        latency = script_latency(workdir)
        print(f"Redis per operation (loopback, one client): {latency}", flush=True)
        if args.latency_only:
            return
        for shared in (True, False):
            for workers in [int(n) for n in args.workers.split(",")]:
                result = run(workers, shared, workdir)
                results.append(result)
                print(f"{workers} worker(s), shared budget {'on ' if shared else 'off'}: "
                      f"{result['pages_per_second']:6.2f} pages/s, site sees {result['site_requests_per_second']:6.2f} "
                      f"req/s, max {result['max_in_flight']} in flight, {result['crawl_seconds']} s for "
                      f"{result['requests']} requests; Redis a request: {result['redis_commands_sent_per_request']} commands sent, "
                      f"{result['redis_commands_per_request']} run, {result['redis_cpu_ms_per_request']} CPU ms; "
                      f"exits {result['exit_codes']}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        write_json(args.json, {"machine": machine(), "shape": repr(SHAPE), "settings": SETTINGS,
                                "redis_latency_us": latency, "results": results})


if __name__ == "__main__":
    main()
