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


def test_an_unreachable_source_counts_as_failed_with_its_cause(tmp_path):
    result = crawl_all(tmp_path, "--sources", "miataturbo", "--base-url", "miataturbo=http://nonexistent.invalid/")
    assert result.returncode == 1, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("miataturbo:")]
    assert "(site_unreachable) FAILED: the host cannot be resolved or reached" in line
    assert "Traceback" not in result.stdout + result.stderr


def test_a_site_answering_503_to_everything_is_a_failed_source_not_0_errors(tmp_path):
    server = ForumServer(IBForumSite(SyntheticForum(SHAPE)), faults=[FaultRule(r".", "503", times=10**6)])
    server.start()
    try:
        result = crawl_all(tmp_path, "--sources", "miataturbo", "--base-url", f"miataturbo={server.base_url}")
    finally:
        server.stop()
    assert result.returncode == 1
    assert "(all_requests_failed) FAILED: every request failed" in result.stdout


def test_a_run_that_never_wrote_its_summary_is_reported_with_the_crawls_own_line(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "miataturbo-last.json").write_text("")  # left empty by an older version killed mid-write
    result = crawl_all(tmp_path, "--sources", "miataturbo", "--base-url", "miataturbo=http://127.0.0.1:9/",
                       "-s", 'ITEM_PIPELINES={"tests.support.refusing_pipeline.LockedSitePipeline": 100}')
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("miataturbo:")]
    assert line.startswith("miataturbo: FAILED (exit status 75): scrapy crawl miataturbo: another run (pid 4242) "
                           "holds the lock")
    assert "miataturbo-last.json is empty" in line
    assert "Traceback" not in result.stdout + result.stderr


def test_last_reports_a_damaged_summary_instead_of_crashing(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "crawl-all-last.txt").write_text("crawl-all finished 2026-11-30T03:20:00+00:00\n  miataturbo: ...\n")
    (runs / "miataturbo-last.json").write_text('{"site": "miataturbo", "finis')
    result = crawl_all(tmp_path, "--last")
    assert result.returncode == 1
    assert "crawl-all finished 2026-11-30" in result.stdout
    assert "miataturbo-last.json is not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
