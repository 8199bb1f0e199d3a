"""Pagination that cannot loop: a next-page link is followed only when it moves forward, so a link
pointing back with a parameter that changes on every visit ends the thread instead of looping."""

import re

import pytest

from miata_spiders.pagination import moves_forward, page_position
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from tests.support.crawl import dataset_rows, scrapy_crawl
from tests.support.renderers import BY_SPIDER


@pytest.mark.parametrize(("current", "following"), [
    ("https://www.miataturbo.net/f-11/t-1/", "https://www.miataturbo.net/f-11/t-1/page2/"),  # IB vBulletin
    ("https://forum.miata.net/vb/showthread.php?t=5&page=2", "https://forum.miata.net/vb/showthread.php?t=5&page=3"),
    ("https://www.clubroadster.net/vb_forum/showthread.php/5-a/page2", "https://www.clubroadster.net/vb_forum/showthread.php/5-a/page3"),
    ("https://www.mx5nutz.com/threads/a.5/", "https://www.mx5nutz.com/threads/a.5/page-2"),  # XenForo
    ("https://b.example/viewtopic.php?t=5", "https://b.example/viewtopic.php?t=5&start=25"),  # phpBB offsets
    ("https://b.example/viewtopic.php?t=5&start=25", "https://b.example/viewtopic.php?t=5&start=50"),
])
def test_a_later_page_moves_forward(current, following):
    assert moves_forward(current, following)


@pytest.mark.parametrize(("current", "following"), [
    ("https://www.miataturbo.net/f-11/t-1/page3/", "https://www.miataturbo.net/f-11/t-1/page2/?ref=7"),
    ("https://www.miataturbo.net/f-11/t-1/", "https://www.miataturbo.net/f-11/t-1/?ref=8"),  # itself, again
    ("https://forum.miata.net/vb/showthread.php?t=5&page=2", "https://forum.miata.net/vb/showthread.php?t=5&page=1&x=1"),
    ("https://forum.miata.net/vb/showthread.php?t=5", "https://forum.miata.net/vb/showthread.php?t=5&page=1"),
    ("https://www.mx5nutz.com/threads/a.5/page-4", "https://www.mx5nutz.com/threads/a.5/page-4?sid=2"),
    ("https://b.example/viewtopic.php?t=5&start=50", "https://b.example/viewtopic.php?t=5&start=25&sid=9"),
])
def test_a_link_back_or_to_the_same_page_does_not(current, following):
    assert not moves_forward(current, following)


def test_page_positions():
    assert page_position("https://x/f/t-1/") == 0
    assert page_position("https://x/f/t-1/page12/") == 12
    assert page_position("https://x/threads/a.5/page-3") == 3
    assert page_position("https://x/viewtopic.php?t=5&start=75") == 75


SHAPE = ForumShape(seed=7, threads_per_forum=5, posts_per_thread=12, posts_per_page=5, threads_per_page=4)


def test_a_thread_whose_next_link_loops_back_still_completes_and_is_recorded(tmp_path):
    renderer = BY_SPIDER["miataturbo"]
    forum = SyntheticForum(SHAPE)
    site = renderer.site_factory(forum)
    thread = next(t for f in forum.forums.values() for t in forum.listing(f) if forum.page_count(t.thread_id) > 1)
    first, second = site.thread_url(thread, 1), site.thread_url(thread, 2)
    # Page 1's links to page 2 point back at page 1 itself, with a parameter that changes every time:
    # Scrapy's duplicate filter cannot see the loop.
    loop = FaultRule(f"^{re.escape(renderer.path(first))}", "rewrite", times=10**6, rewrite=(second, first + "?ref={n}"))
    server = ForumServer(site, faults=[loop])
    server.start()
    try:
        first_run = scrapy_crawl(renderer.spider, server.base_url, tmp_path, timeout=120)
        requests_before = len(server.requests)
        scrapy_crawl(renderer.spider, server.base_url, tmp_path, timeout=120)
        second_run_paths = [r.path for r in server.requests[requests_before:]]
    finally:
        server.stop()
    loop_paths = [r.path for r in server.requests if r.path.startswith(renderer.path(first))]
    assert loop_paths == [renderer.path(first)]  # page 1 once; the link back never followed
    assert f"next-page link of {server.base_url}{renderer.path(first)} points back" in first_run.stderr
    assert "'miata/pagination/not_forward': 1" in first_run.stderr
    ids = {r["post_id"] for r in dataset_rows(tmp_path, ["post_id"])}
    assert {str(p.post_id) for p in forum.posts(thread.thread_id, 1)} <= ids
    # Recorded as complete: the next crawl finds it unchanged and does not fetch it again.
    assert renderer.path(first) not in second_run_paths
