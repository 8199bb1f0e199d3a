"""The exit status tells the truth: `scrapy crawl SITE` ends non-zero with one plain line naming the
cause and the fix (no traceback) when the site cannot be reached, blocks, fails every request, or
the run cannot start; and it fails fast when the host is not there at all."""

import re
import socket
import time
from urllib.parse import urlsplit

import pytest

from miata_spiders import errors
from miata_spiders.extensions import drift_problems, read_summary, summarise, summary_line, write_atomically
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from tests.support.crawl import scrapy_crawl
from tests.support.renderers import BY_SPIDER

# Typical time to fail on a missing host is ~5 s, mostly Python start-up (see the README); the
# bound is generous so a loaded machine cannot break it, and far below minutes of retries.
FAIL_FAST_BOUND = 60


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on leaving: connecting is refused


def last_line(result) -> str:
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("url", ["http://nonexistent.invalid/", "closed-port"], ids=["dns-failure", "refused"])
def test_a_host_that_is_not_there_fails_fast_with_one_line(tmp_path, url):
    if url == "closed-port":
        url = f"http://127.0.0.1:{closed_port()}/"
    started = time.monotonic()
    result = scrapy_crawl("miataturbo", url, tmp_path, check=False)
    elapsed = time.monotonic() - started
    assert result.returncode == errors.UNAVAILABLE == 69, result.stderr[-3000:]
    assert last_line(result).startswith(
        "scrapy crawl miataturbo: site_unreachable: the host cannot be resolved or reached; check the URL")
    assert url in last_line(result)
    assert "Traceback" not in result.stderr
    assert "Retrying" not in result.stderr  # nothing ever answered: not worth a single backoff
    assert elapsed < FAIL_FAST_BOUND
    summary, problem = read_summary(tmp_path / "runs" / "miataturbo-last.json")
    assert problem is None and summary["outcome"] == "site_unreachable" and summary["exit_status"] == 69


def test_a_run_refused_by_the_site_lock_exits_75_with_its_message(tmp_path):
    result = scrapy_crawl("miataturbo", "http://127.0.0.1:9/", tmp_path, check=False,
                          settings={"ITEM_PIPELINES": '{"tests.support.refusing_pipeline.LockedSitePipeline": 100}'})
    assert result.returncode == errors.TEMPFAIL == 75, result.stderr[-3000:]
    assert last_line(result) == ("scrapy crawl miataturbo: another run (pid 4242) holds the lock on site miataturbo; "
                                 "not starting")
    assert "Traceback" not in result.stderr


def test_a_clean_crawl_still_exits_0(tmp_path):
    renderer = BY_SPIDER["miataturbo"]
    server = ForumServer(renderer.site_factory(SyntheticForum(ForumShape(seed=3, threads_per_forum=2,
                                                                         posts_per_thread=3))))
    server.start()
    try:
        result = scrapy_crawl("miataturbo", server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    summary, _ = read_summary(tmp_path / "runs" / "miataturbo-last.json")
    assert summary["outcome"] == "finished" and summary["exit_status"] == 0


def test_too_many_pages_given_up_stop_the_crawl_with_retries_exhausted(tmp_path):
    renderer = BY_SPIDER["miataturbo"]
    forum = SyntheticForum(ForumShape(seed=7, threads_per_forum=5, posts_per_thread=6, posts_per_page=5))
    # Every thread page fails for good; listings work, so it is not "every request failed".
    faults = [FaultRule(r"^/[a-z0-9-]+-\d+/[a-z0-9-]+-\d+/", "500", times=10**6)]
    server = ForumServer(renderer.site_factory(forum), faults=faults)
    server.start()
    try:
        result = scrapy_crawl("miataturbo", server.base_url, tmp_path, check=False,
                              settings={"MIATA_GIVE_UPS_TO_STOP": "3", "RETRY_TIMES": "1"})
    finally:
        server.stop()
    assert result.returncode == errors.FAILED, result.stderr[-3000:]
    assert last_line(result).startswith("scrapy crawl miataturbo: retries_exhausted: too many pages were given up")
    assert "Traceback" not in result.stderr
    # Stopped at the third give-up (plus those already under way), not after giving up every thread.
    threads = sum(len(forum.listing(f)) for f in forum.forums.values())
    given_up = result.stderr.count("Gave up retrying")
    assert 3 <= given_up <= 3 + 8 < threads


def test_a_redirect_loop_is_a_lost_page_seen_the_first_time_round(tmp_path):
    renderer = BY_SPIDER["miataturbo"]
    forum = SyntheticForum(ForumShape(seed=3, threads_per_forum=2, posts_per_thread=3))
    site = renderer.site_factory(forum)
    thread = next(t for f in forum.forums.values() for t in forum.listing(f))
    looping = urlsplit(site.thread_url(thread, 1)).path
    server = ForumServer(site, faults=[FaultRule("^" + re.escape(looping), "redirect-loop", times=10**6)])
    server.start()
    try:
        result = scrapy_crawl("miataturbo", server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == errors.FAILED, result.stderr[-3000:]
    assert last_line(result).startswith("scrapy crawl miataturbo: retries_exhausted:")
    assert "redirect loop, page given up: " in result.stderr and "Traceback" not in result.stderr
    # Seen at its second hop, not followed REDIRECT_MAX_TIMES (20) times.
    assert sum(1 for r in server.requests if r.path.startswith(looping)) == 2
    summary, _ = read_summary(tmp_path / "runs" / "miataturbo-last.json")
    assert summary["stats"]["miata/redirect/loops"] == 1
    assert summary["stats"]["miata/parquet/rows_written"] > 0  # every other thread collected


# --- the outcome of a run, from its stats ------------------------------------------------------

def test_a_finished_run_without_a_single_2xx_is_all_requests_failed():
    stats = {"downloader/request_count": 12, "downloader/response_status_count/403": 12}
    assert errors.run_outcome("finished", stats) == "all_requests_failed"
    assert errors.exit_status_for("all_requests_failed") == 69


@pytest.mark.parametrize(("stats", "outcome"), [
    ({"miata/retry/gave_up": 1}, "retries_exhausted"),
    ({"miata/parse/errors": 2}, "parse_errors"),
    ({"miata/parse/gave_up": 1}, "parse_errors"),
    ({"miata/blocked/pages": 1}, "site_blocking"),
    ({"miata/parquet/write_errors": 1}, "storage_error"),  # the last part, at close, could not be written
    ({"miata/state/write_errors": 1}, "storage_error"),
    ({}, "finished"),
])
def test_a_finished_run_that_lost_pages_says_so(stats, outcome):
    ok = {"downloader/request_count": 5, "downloader/response_status_count/200": 5}
    assert errors.run_outcome("finished", {**ok, **stats}) == outcome


def test_a_reason_the_spider_closed_with_is_kept_and_mapped():
    assert errors.run_outcome("site_blocking", {}) == "site_blocking"
    assert errors.exit_status_for("site_blocking") == 77
    assert errors.exit_status_for("storage_error") == 74
    assert errors.exit_status_for("unsupported_engine:vbulletin5") == 1
    assert errors.exit_status_for("unsupported_engine_vbulletin5") == 1
    assert errors.exit_status_for("finished") == 0
    assert errors.exit_status_for("something_new") == 1


def test_every_close_reason_has_a_fix_and_the_line_names_it():
    for reason, (status, fix) in errors.CLOSE_REASONS.items():
        assert isinstance(status, int) and fix
    line = errors.outcome_line("scrapy crawl x", "site_unreachable", "http://a.invalid/: DNS lookup failed")
    assert line == ("scrapy crawl x: site_unreachable: the host cannot be resolved or reached; check the URL and "
                    "the network (http://a.invalid/: DNS lookup failed)")


def test_summary_line_of_a_failed_run_says_failed_and_why():
    stats = {"finish_reason": "finished", "downloader/request_count": 3, "downloader/response_status_count/503": 3}
    line = summary_line(summarise("miataturbo", stats))
    assert "(all_requests_failed) FAILED: every request failed" in line
    assert not drift_problems(stats)


# --- run summaries: atomic, and a damaged one is reported ---------------------------------------

def test_run_summaries_are_replaced_whole(tmp_path):
    path = tmp_path / "site-last.json"
    write_atomically(path, '{"old": 1}')
    write_atomically(path, '{"new": 2}')
    assert path.read_text() == '{"new": 2}'
    assert [p.name for p in tmp_path.iterdir()] == ["site-last.json"]  # no temporary file left behind


@pytest.mark.parametrize(("text", "problem"), [
    ("", "is empty"), ("{\"site\": ", "is not valid JSON"), ("[1, 2]", "is not a run summary"),
])
def test_a_damaged_summary_is_reported_not_raised(tmp_path, text, problem):
    path = tmp_path / "miataturbo-last.json"
    path.write_text(text)
    summary, found = read_summary(path)
    assert summary is None and problem in found and str(path) in found


def test_the_readme_lists_every_close_reason_with_its_exit_status():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for reason, (status, fix) in errors.CLOSE_REASONS.items():
        assert f"| `{reason}` | {status} | {fix} |" in readme, reason
