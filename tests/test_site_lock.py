"""One writer per site: a second crawl, reparse or Reddit collection of a site that another process is
writing exits at once with status 75 and says who holds the lock; the data is not doubled."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from miata_spiders import errors
from miata_spiders.errors import SiteLockedError
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from pipelines.lock import SiteLock, command_line, lock_path
from tests.support.crawl import FAST, ROOT, dataset_rows
from tests.support.renderers import BY_SPIDER


def test_a_second_holder_is_refused_with_the_first_ones_pid_start_and_command(tmp_path):
    with SiteLock(tmp_path, "miataturbo"):
        recorded = json.loads(lock_path(tmp_path, "miataturbo").read_text())
        assert recorded["pid"] == os.getpid()
        assert recorded["command"] == command_line() and recorded["command"].startswith(sys.executable)

        with pytest.raises(SiteLockedError) as refused:
            SiteLock(tmp_path, "miataturbo").acquire()

        assert refused.value.exit_status == errors.TEMPFAIL == 75
        message = refused.value.message
        assert f"pid {os.getpid()}, since {recorded['since']}, command: {recorded['command'][:300]}" in message
        assert str(lock_path(tmp_path, "miataturbo")) in message
        SiteLock(tmp_path, "mx5nutz").acquire().release()  # other sites are not affected
    with SiteLock(tmp_path, "miataturbo") as again:
        assert again.held
    assert lock_path(tmp_path, "miataturbo").read_text() == ""  # released: no holder described


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pipelines.lock import SiteLock; "
                               f"lock = SiteLock({str(tmp_path)!r}, 'miataturbo').acquire(); print('held', flush=True); "
                               "time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SiteLockedError, match=f"pid {holder.pid}"):
            SiteLock(tmp_path, "miataturbo").acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        holder.stdout.close()
    SiteLock(tmp_path, "miataturbo").acquire().release()


def test_a_second_reddit_collector_on_the_same_data_dir_is_refused(tmp_path):
    from pipelines.reddit.collector import RedditCollector

    first = RedditCollector(object(), tmp_path, batch_size=10, progress=False)
    with pytest.raises(SiteLockedError, match="site 'reddit' is being written by another process"):
        RedditCollector(object(), tmp_path, batch_size=10, progress=False)
    first.run([])  # releases the lock when it ends
    RedditCollector(object(), tmp_path, batch_size=10, progress=False).run([])


SHAPE = ForumShape(seed=31, threads_per_forum=3, posts_per_thread=6, posts_per_page=5, threads_per_page=4)


def crawl_command(spider, base_url, data):
    settings = {**FAST, "MIATA_DATA_DIR": str(data), "HTTPCACHE_DIR": str(data / "httpcache")}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"base_url={base_url}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def test_overlapping_runs_on_one_site_second_exits_75_and_data_is_not_doubled(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MIATA_USER_AGENT", "MIATA_DATA_DIR")}
    # After its first few pages the server answers slowly, so the first crawl is surely still running
    # while the second ones start and give up; then it speeds up again.
    stall = FaultRule(r".", "slow", times=10**9, skip=6, delay=10.0)
    server = ForumServer(BY_SPIDER["miataturbo"].site_factory(SyntheticForum(SHAPE)), faults=[stall])
    server.start()
    try:
        first = subprocess.Popen(crawl_command("miataturbo", server.base_url, tmp_path), cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        lock = lock_path(tmp_path, "miataturbo")
        deadline = time.monotonic() + 60
        while not (lock.exists() and f'"pid": {first.pid}' in lock.read_text()):
            assert first.poll() is None and time.monotonic() < deadline, "the first crawl never took the lock"
            time.sleep(0.05)
        while not any((tmp_path / "httpcache" / "miataturbo").glob("*/*/pickled_meta")):
            assert first.poll() is None and time.monotonic() < deadline, "the first crawl cached nothing"
            time.sleep(0.05)

        second = subprocess.run(crawl_command("miataturbo", server.base_url, tmp_path), cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        reparse = subprocess.run(
            [sys.executable, "-m", "miata_spiders.cli", "reparse", "miataturbo", "--out", str(tmp_path),
             "--cache-dir", str(tmp_path / "httpcache"), "--workers", "1"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        still_running = first.poll() is None
        stall.delay = 0.0
        _, first_stderr = first.communicate(timeout=180)
    finally:
        server.stop()

    assert still_running, ("the first crawl ended before the others started: the test proves nothing",
                           first.returncode, first_stderr[-2000:], second.returncode, second.stderr[-1500:],
                           reparse.stderr[-1500:])
    assert first.returncode == 0, first_stderr[-3000:]
    for run in (second, reparse):
        assert run.returncode == errors.TEMPFAIL, run.stderr[-3000:]
        assert f"pid {first.pid}" in run.stderr and "scrapy crawl miataturbo" in run.stderr, run.stderr[-3000:]
        assert "Traceback" not in run.stderr
    counts = Counter(r["post_id"] for r in dataset_rows(tmp_path, ["post_id"]))
    assert sorted(counts) == sorted(server.ground_truth())
    assert set(counts.values()) == {1}, "a post was stored twice"
