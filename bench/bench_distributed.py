"""Several workers, one crawl: pages/s and the rate the forum sees for 1, 2 and 3 workers, with the
shared politeness budget on and off, and what Redis costs per request.

    .venv/bin/python bench/bench_distributed.py [--workers 1,2,3] [--json FILE]

Real ``scrapy crawl`` workers (MIATA_REDIS_URL) against a synthetic forum served by ``ForumServer``
on 127.0.0.1, every answer 50 ms late (a forum's render time), and a redis-server of the benchmark's
own. The budget is the project's shape at a test pace: 2 requests in flight, DOWNLOAD_DELAY 0.1 s,
no jitter, no AutoThrottle. With the shared budget on the forum's rate must stay flat as workers are
added (one crawler's worth, 10 requests/s); off, every worker brings its own budget and the rate
scales. Redis's cost: commands per request and the server's own CPU per request (INFO commandstats).
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
            client.close()
    finally:
        server.stop()
    times = sorted(r.time for r in server.requests)
    span = times[-1] - times[0]
    pages = sum(1 for r in server.requests if r.status == 200 and r.path != "/robots.txt")
    calls = sum(v["calls"] for v in stats.values())
    usec = sum(v["usec"] for v in stats.values())
    requests = len(server.requests)
    return {
        "workers": workers, "shared_budget": shared_budget, "exit_codes": codes, "requests": requests, "pages": pages,
        "crawl_seconds": round(span, 2), "wall_seconds": round(wall, 2),
        "pages_per_second": round(pages / span, 2), "site_requests_per_second": round(requests / span, 2),
        "max_in_flight": server.max_in_flight,
        "redis_commands_per_request": round(calls / requests, 1),
        "redis_server_usec_per_request": round(usec / requests, 1),
        "redis_commands": {name.removeprefix("cmdstat_"): v["calls"] for name, v in sorted(stats.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="miata-bench-distributed-"))
    results = []
    try:
        for shared in (True, False):
            for workers in [int(n) for n in args.workers.split(",")]:
                result = run(workers, shared, workdir)
                results.append(result)
                print(f"{workers} worker(s), shared budget {'on ' if shared else 'off'}: "
                      f"{result['pages_per_second']:6.2f} pages/s, site sees {result['site_requests_per_second']:6.2f} "
                      f"req/s, max {result['max_in_flight']} in flight, {result['crawl_seconds']} s for "
                      f"{result['requests']} requests; Redis {result['redis_commands_per_request']} commands, "
                      f"{result['redis_server_usec_per_request']} us a request; exits {result['exit_codes']}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        write_json(args.json, {"machine": machine(), "shape": repr(SHAPE), "settings": SETTINGS, "results": results})


if __name__ == "__main__":
    main()
