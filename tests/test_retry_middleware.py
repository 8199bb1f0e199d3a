"""BackoffRetryMiddleware: pure helpers directly, behaviour through one real Scrapy crawl.

The crawl runs `scrapy runspider` on this file in a subprocess (a Twisted reactor runs once per
process) against a scripted server on 127.0.0.1. Every scenario has its own download slot, i.e. is
a separate "site" to Scrapy, so they run side by side and one site's pause must not hold another.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path

import pytest
import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from miata_spiders.middlewares import BackoffRetryMiddleware, backoff_delay, parse_retry_after
from tests.support.http_server import DROP, Reply, ScriptedServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# --- Pure helpers -------------------------------------------------------------------------------

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (b" 7 ", 7.0),
        ("0", 0.0),
        (formatdate(NOW + 30, usegmt=True), 30.0),  # IMF-fixdate
        ("Tuesday, 14-Nov-23 22:14:20 GMT", 60.0),  # obsolete RFC 850 form
        ("Tue Nov 14 22:15:20 2023", 120.0),  # obsolete asctime form, implicitly GMT
        (formatdate(NOW - 30, usegmt=True), 0.0),  # a date in the past: retry now
    ],
)
def test_parse_retry_after_reads_both_forms(value, seconds):
    assert parse_retry_after(value, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "12 s", "Mon, 99 Foo 2023 99:99:99 GMT"])
def test_parse_retry_after_rejects_garbage(value):
    assert parse_retry_after(value, now=NOW) is None


def test_backoff_doubles_from_base_and_stops_at_cap():
    no_jitter = [backoff_delay(n, base=2.0, cap=30.0, jitter=0.0) for n in range(1, 7)]
    assert no_jitter == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff_delay(10_000, base=2.0, cap=30.0, jitter=0.0) == 30.0


def test_backoff_jitter_stays_in_band_and_waits_still_grow():
    rng = random.Random(1234)
    for attempt in range(1, 6):
        nominal = 0.5 * 2 ** (attempt - 1)
        samples = [backoff_delay(attempt, base=0.5, cap=100.0, jitter=0.25, rng=rng) for _ in range(200)]
        assert all(0.75 * nominal <= s <= 1.25 * nominal for s in samples)
        assert len(set(samples)) > 100  # actually random
    # A jitter below 1/3 keeps the longest wait of attempt n below the shortest of attempt n+1.
    assert 1.25 * 0.5 < 0.75 * 1.0


def test_backoff_rejects_attempt_zero():
    with pytest.raises(ValueError):
        backoff_delay(0, base=1.0, cap=10.0, jitter=0.0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"MIATA_RETRY_BACKOFF_BASE": 0},
        {"MIATA_RETRY_BACKOFF_BASE": 10, "MIATA_RETRY_BACKOFF_MAX": 5},
        {"MIATA_RETRY_BACKOFF_JITTER": 1.0},
        {"MIATA_RETRY_AFTER_MAX": -1},
    ],
)
def test_nonsense_settings_are_refused(overrides):
    with pytest.raises(NotConfigured):
        BackoffRetryMiddleware(Settings(overrides))


# --- One real crawl -----------------------------------------------------------------------------


class RetryProbeSpider(scrapy.Spider):
    """Test-only: fetches `plan` (JSON list of {"url", "slot"}) and dumps crawl stats to `stats_file`."""

    name = "retry_probe"

    async def start(self):
        for step in json.loads(self.plan):
            yield scrapy.Request(step["url"], meta={"download_slot": step["slot"]}, dont_filter=True)

    def parse(self, response):
        pass

    def closed(self, reason):
        Path(self.stats_file).write_text(json.dumps(self.crawler.stats.get_stats(), default=str))


BACKOFF_BASE = 0.2
RETRY_AFTER_MAX = 2.5
BUSY_SLOT_DELAY = 0.3


def _retry_after_next_second_plus_one() -> Reply:
    """503 with an HTTP-date Retry-After ~1-2 s ahead (dates have whole seconds)."""
    return Reply(503, {"Retry-After": formatdate(math.ceil(time.time()) + 1, usegmt=True)})


ROUTES = {
    # 429 Retry-After: 2 on a site with more requests queued behind it.
    "/busy/first": [Reply(429, {"Retry-After": "2"}), Reply(200)],
    "/busy/p1": [Reply(200)],
    "/busy/p2": [Reply(200)],
    # Another site, fetched while "busy" is paused.
    "/calm/1": [Reply(200)],
    "/calm/2": [Reply(200)],
    "/calm/3": [Reply(200)],
    "/dated": [_retry_after_next_second_plus_one, Reply(200)],
    "/capped": [Reply(503, {"Retry-After": "3600"}), Reply(200)],
    "/grow": [Reply(503), Reply(503), Reply(503), Reply(200)],
    "/always500": [Reply(500)],
    "/drop": [DROP, Reply(200)],
}
PLAN = [(path, path.split("/")[1]) for path in ROUTES]  # slot = first path segment


class CrawlResult:
    def __init__(self, server: ScriptedServer, stats: dict, log: str):
        self.server, self.stats, self.log = server, stats, log

    def arrivals(self, path: str) -> list[float]:
        return [entry.time for entry in self.server.requests_to(path)]

    def gaps(self, path: str) -> list[float]:
        times = self.arrivals(path)
        return [later - earlier for earlier, later in zip(times, times[1:])]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> CrawlResult:
    stats_file = tmp_path_factory.mktemp("retry_crawl") / "stats.json"
    with ScriptedServer(ROUTES) as server:
        plan = [{"url": server.url(path), "slot": slot} for path, slot in PLAN]
        settings = {
            "RETRY_TIMES": 3,
            "MIATA_RETRY_BACKOFF_BASE": BACKOFF_BASE,
            "MIATA_RETRY_AFTER_MAX": RETRY_AFTER_MAX,
            # A small delay on every slot: a slot without one cannot be paused (see _hold_site).
            "DOWNLOAD_DELAY": 0.01,
            "DOWNLOAD_DELAY_JITTER": 0,
            "DOWNLOAD_SLOTS": json.dumps({"busy": {"delay": BUSY_SLOT_DELAY, "concurrency": 1}}),
            "CONCURRENT_REQUESTS": 32,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "HTTPCACHE_ENABLED": False,
            "ITEM_PIPELINES": "{}",
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
            # DEBUG: the middleware logs the wait it chose for each retry (test_backoff_delays_grow).
            "LOG_LEVEL": "DEBUG",
        }
        command = [sys.executable, "-m", "scrapy", "runspider", __file__]
        command += ["-a", f"plan={json.dumps(plan)}", "-a", f"stats_file={stats_file}"]
        for name, value in settings.items():
            command += ["-s", f"{name}={value}"]
        env = {key: value for key, value in os.environ.items() if key != "MIATA_USER_AGENT"}
        proc = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert stats_file.exists(), proc.stderr[-5000:]
    return CrawlResult(server, json.loads(stats_file.read_text()), proc.stderr)


def test_our_middleware_replaced_scrapys(crawl):
    assert "miata_spiders.middlewares.BackoffRetryMiddleware" in crawl.log
    assert "'scrapy.downloadermiddlewares.retry.RetryMiddleware'" not in crawl.log
    assert "miata_spiders/middlewares.py" not in crawl.log  # no warning or traceback from our code


def test_retry_after_seconds_is_waited_out(crawl):
    first, second = crawl.server.requests_to("/busy/first")
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 2.0


def test_retry_after_pauses_the_whole_site_but_no_other(crawl):
    paused_at = crawl.arrivals("/busy/first")[0]
    queued_behind = [t for path in ("/busy/p1", "/busy/p2") for t in crawl.arrivals(path) if t > paused_at]
    assert queued_behind, "the test needs requests queued behind the 429"
    assert min(queued_behind) >= paused_at + 2.0
    calm = [t for n in (1, 2, 3) for t in crawl.arrivals(f"/calm/{n}")]
    assert len(calm) == 3
    assert max(calm) < paused_at + 2.0  # other sites went on during the pause


def test_retry_after_http_date_is_waited_out(crawl):
    first, second = crawl.server.requests_to("/dated")
    assert (first.status, second.status) == (503, 200)
    # The date the server named was ceil(first) + 1 s.
    assert second.time >= math.ceil(first.time) + 1


def test_retry_after_beyond_the_cap_is_cut_and_logged(crawl):
    (gap,) = crawl.gaps("/capped")
    # Cut to the cap, not the 3600 s asked: the upper bound is generous so a loaded machine cannot break it
    # (the whole crawl's subprocess timeout is 60 s).
    assert RETRY_AFTER_MAX <= gap < 60
    assert "Retry-After of 3600 s" in crawl.log and "/capped" in crawl.log
    assert "exceeds MIATA_RETRY_AFTER_MAX" in crawl.log


def test_retry_after_stats(crawl):
    assert crawl.stats["miata/retry/retry_after_waits"] == 3  # busy, dated, capped
    # 2 s + (0..2 s for the date) + the 2.5 s cap
    assert 4.5 <= crawl.stats["miata/retry/retry_after_seconds_total"] <= 6.5 + 1e-6


def test_backoff_delays_grow(crawl):
    statuses = [entry.status for entry in crawl.server.requests_to("/grow")]
    assert statuses == [503, 503, 503, 200]
    # The waits the middleware chose double each time (with +-25% jitter)...
    chosen = [float(wait) for wait in re.findall(r"Retry \d+ of <GET \S+/grow> in ([0-9.]+) s", crawl.log)]
    assert len(chosen) == 3, crawl.log[-3000:]
    for attempt, wait in enumerate(chosen, start=1):
        nominal = BACKOFF_BASE * 2 ** (attempt - 1)
        assert 0.75 * nominal - 0.01 <= wait <= 1.25 * nominal + 0.01, (attempt, chosen)
    # ...and the server saw no retry sooner than that (a loaded machine can only make a gap longer).
    for gap, wait in zip(crawl.gaps("/grow"), chosen):
        assert gap >= wait - 0.05, (crawl.gaps("/grow"), chosen)


def test_gives_up_after_retry_times_with_stats_and_error_line(crawl):
    assert [entry.status for entry in crawl.server.requests_to("/always500")] == [500] * 4  # 1 + RETRY_TIMES
    assert crawl.stats["retry/max_reached"] == 1
    assert crawl.stats["miata/retry/gave_up"] == 1
    give_up_lines = [line for line in crawl.log.splitlines() if "Gave up retrying" in line]
    assert len(give_up_lines) == 1
    assert "ERROR" in give_up_lines[0]
    assert f"{crawl.server.url('/always500')}>" in give_up_lines[0]
    assert "500 Internal Server Error" in give_up_lines[0]


def test_connection_drop_is_retried(crawl):
    assert [entry.status for entry in crawl.server.requests_to("/drop")] == [None, 200]
    (gap,) = crawl.gaps("/drop")
    assert gap >= 0.75 * BACKOFF_BASE
    # Scrapy 2.19 wraps a connection lost before any response in DownloadFailedError.
    assert crawl.stats["retry/reason_count/scrapy.exceptions.DownloadFailedError"] == 1
