"""A forum crawl logs a periodic one-line progress (miata_spiders/progress_log.py): threads done of
known, posts, requests, errors and rates; the last line, at close, accounts for the whole forum."""

from __future__ import annotations

import re
from types import SimpleNamespace

from miata_spiders.progress_log import CrawlProgressLog
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.render_ib import IBForumSite
from miata_spiders.testing.server import ForumServer
from pipelines.crawl_state import ThreadProgress
from tests.support.crawl import scrapy_crawl

LINE = re.compile(r"progress (?P<site>\S+): threads (?P<done>[\d,]+)/(?P<known>[\d,]+) done, (?P<posts>[\d,]+) posts "
                  r"\((?P<stored>[\d,]+) stored\), (?P<requests>[\d,]+) requests, (?P<errors>[\d,]+) errors; "
                  r"(?P<pages_rate>[\d,]+) pages/min, (?P<posts_rate>[\d,]+) posts/min$")
SHAPE = ForumShape(seed=5, threads_per_forum=4, posts_per_thread=7, posts_per_page=5, threads_per_page=3)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_a_crawl_ends_with_every_thread_done(tmp_path):
    forum = SyntheticForum(SHAPE)
    server = ForumServer(IBForumSite(forum))
    server.start()
    try:
        result = scrapy_crawl("miataturbo", server.base_url, tmp_path / "data", {"MIATA_PROGRESS_INTERVAL": "0.2"})
    finally:
        server.stop()
    lines = [LINE.search(line) for line in result.stderr.splitlines() if "progress miataturbo:" in line]
    assert lines and all(lines), "every progress line has the documented shape"
    last = lines[-1]
    threads = len(list(forum.all_thread_ids()))
    assert number(last["done"]) == threads
    assert number(last["known"]) >= threads
    assert number(last["posts"]) == number(last["stored"]) == forum.total_posts()
    assert number(last["requests"]) >= threads and number(last["errors"]) == 0
    # The counts only grow from one line to the next.
    for before, after in zip(lines, lines[1:]):
        assert all(number(before[key]) <= number(after[key]) for key in ("done", "posts", "requests"))


def test_off_when_the_interval_is_zero(tmp_path):
    server = ForumServer(IBForumSite(SyntheticForum(SHAPE)))
    server.start()
    try:
        result = scrapy_crawl("miataturbo", server.base_url, tmp_path / "data", {"MIATA_PROGRESS_INTERVAL": "0"})
    finally:
        server.stop()
    assert "progress miataturbo:" not in result.stderr


def thread_page(thread_id: str, page: int, has_next_page: bool) -> ThreadProgress:
    return ThreadProgress(site="s", thread_id=thread_id, forum_id="1", thread_url=None, page=page,
                          page_url=f"/t/{thread_id}/{page}", last_position=None, has_next_page=has_next_page,
                          reply_count=None, last_post_at=None)


def test_a_thread_is_done_when_its_last_page_is_durable():
    stats = {"miata/threads/listed": 3, "miata/pages/thread": 4, "miata/posts/parsed": 40,
             "miata/parquet/rows_written": 38, "downloader/request_count": 9, "log_count/ERROR": 1}
    crawler = SimpleNamespace(stats=SimpleNamespace(get_value=lambda key, default=None: stats.get(key, default)))
    log = CrawlProgressLog(crawler, interval=60)
    log.part_committed(part=None, progress=[thread_page("7", 1, True), thread_page("8", 1, False), object()])
    log.part_committed(part=None, progress=[thread_page("7", 2, False), thread_page("8", 1, False)])
    line = LINE.search(log.line())
    assert (line["done"], line["known"], line["posts"], line["stored"], line["requests"], line["errors"]) == \
        ("2", "3", "40", "38", "9", "1")
