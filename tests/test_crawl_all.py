"""`miata crawl-all`, the cron entry point: a summary line per source, rotating logs, a lock, and a
non-zero exit when a source fails or its parser drifts."""

import fcntl
import os
import subprocess
import sys

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.render_ib import IBForumSite
from miata_spiders.testing.server import FaultRule, ForumServer
from tests.support.crawl import FAST, ROOT

SHAPE = ForumShape(seed=2, threads_per_forum=3, posts_per_thread=4)


def crawl_all(data_dir, *args):
    env = {**os.environ, "MIATA_DATA_DIR": str(data_dir), "SCRAPY_SETTINGS_MODULE": "miata_spiders.settings"}
    env.pop("MIATA_USER_AGENT", None)
    fast = [arg for name, value in FAST.items() for arg in ("-s", f"{name}={value}")]
    cmd = [sys.executable, "-m", "miata_spiders.cli", "crawl-all", *args, *fast]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_crawl_all_prints_a_summary_per_source_and_rotates_logs(tmp_path):
    server = ForumServer(IBForumSite(SyntheticForum(SHAPE)))
    server.start()
    try:
        first = crawl_all(tmp_path, "--sources", "miataturbo", "--base-url", f"miataturbo={server.base_url}")
        second = crawl_all(tmp_path, "--sources", "miataturbo", "--base-url", f"miataturbo={server.base_url}")
    finally:
        server.stop()
    assert first.returncode == 0, first.stderr
    total = len(server.ground_truth())
    assert f"miataturbo: {total} new posts, 0 updated" in first.stdout
    assert "miataturbo: 0 new posts, 0 updated" in second.stdout
    assert (tmp_path / "logs" / "miataturbo.log").exists() and (tmp_path / "logs" / "miataturbo.log.1").exists()
    last = crawl_all(tmp_path, "--last")
    assert last.returncode == 0 and "miataturbo: 0 new posts" in last.stdout


def test_a_second_run_does_not_start_while_one_holds_the_lock(tmp_path):
    with open(tmp_path / "crawl-all.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = crawl_all(tmp_path, "--sources", "miataturbo")
    assert result.returncode == 75
    assert "another run holds" in result.stderr


def test_parser_drift_fails_the_run(tmp_path):
    # The site "changes its skin": every thread page comes back in a layout the parser does not know.
    server = ForumServer(IBForumSite(SyntheticForum(SHAPE)), faults=[FaultRule(r"-\d+/$", "maintenance", times=10**6)])
    server.start()
    try:
        result = crawl_all(tmp_path, "--sources", "miataturbo", "--base-url", f"miataturbo={server.base_url}")
    finally:
        server.stop()
    assert result.returncode == 1
    assert "PARSER DRIFT" in result.stdout
