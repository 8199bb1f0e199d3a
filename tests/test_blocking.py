"""Blocks stop the site, politely and loudly: ban, bot-challenge, rate-limit and login-wall pages are
recognised whatever their status, never retried, and a few in a row end the crawl with
``site_blocking`` (exit status 77) and one plain line."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse

from miata_spiders import errors
from miata_spiders.blocking import classify
from miata_spiders.httpcache import CompletePagePolicy
from miata_spiders.testing.forumgen import POST_SLOTS, ForumShape, SyntheticForum
from miata_spiders.testing.render_phpbb import PhpbbForumSite
from miata_spiders.testing.render_xenforo import XenForoForumSite
from miata_spiders.testing.server import BLOCK_PAGES, FaultRule, ForumServer
from tests.support.crawl import dataset_rows, scrapy_crawl
from tests.support.reference import needs_reference, reference_pages
from tests.support.renderers import BY_SPIDER, RENDERERS

ROOT = Path(__file__).resolve().parents[1]
SMALL = ForumShape(seed=7, threads_per_forum=5, posts_per_thread=6, posts_per_page=5, threads_per_page=4)


# --- the classifier ----------------------------------------------------------------------------

@pytest.mark.parametrize(("fault", "kind"), [
    ("ban", "ban"), ("ban403", "ban"), ("challenge", "challenge"), ("login", "login_wall"),
    ("login-phpbb", "login_wall"),
])
def test_the_fault_servers_block_pages_are_recognised(fault, kind):
    status, body = BLOCK_PAGES[fault]
    block = classify(body, status)
    assert block is not None and block.kind == kind


@pytest.mark.parametrize(("page", "status", "kind"), [
    (b"<html><head><title>Attention Required! | Cloudflare</title></head><body>...</body></html>", 403, "challenge"),
    (b"<html><head><title>Just a moment&hellip;</title></head><body></body></html>", 403, "challenge"),
    (b"<html><head><title>DDoS-Guard</title></head><body>Checking your browser...</body></html>", 403, "challenge"),
    (b"<html><head><title>Sucuri WebSite Firewall - Access Denied</title></head><body></body></html>", 403,
     "access_denied"),
    (b"<html><body><script src='/_Incapsula_Resource?SWJIYLWA=1'></script></body></html>", 200, "challenge"),
    (b"<html><head><title>Too Many Requests</title></head><body>Slow down</body></html>", 200, "rate_limit"),
    (b"<html><body><h1>Error 1015</h1><p>You are being rate limited</p></body></html>", 403, "rate_limit"),
    (b"<html><body><div class='blockMessage'>You must be logged-in to do that.</div></body></html>", 403,
     "login_wall"),
    (b"<html><body><p>The board requires you to be registered and logged in to view this forum.</p></body></html>",
     200, "login_wall"),
    (b"<html><body><p>You have been banned from this board.</p></body></html>", 200, "ban"),
    (b"<html><head><title>403 Forbidden</title></head><body><center>nginx</center></body></html>", 403,
     "access_denied"),
])
def test_block_pages_of_real_products_are_recognised_whatever_their_status(page, status, kind):
    assert classify(page, status).kind == kind


def test_a_forbidden_title_alone_is_not_a_block_on_a_200_page():
    # A thread titled "Access denied" (a forum post about a car alarm, say) is content.
    assert classify(b"<html><head><title>Access denied</title></head><body>posts</body></html>", 200) is None


def synthetic_pages():
    forum = SyntheticForum(SMALL)
    thread = forum.listing(forum.forums[11])[0]
    for renderer in RENDERERS:
        site = renderer.site_factory(forum)
        yield renderer.spider, site.index_page(), site.forum_page(forum.forums[11], 1), site.thread_page(thread, 1)
    for name, site in (("xenforo", XenForoForumSite(forum)), ("phpbb", PhpbbForumSite(forum))):
        yield name, site.index_page(), site.forum_page(forum.forums[11], 1), site.thread_page(thread, 1)


def test_no_synthetic_forum_page_is_a_block_although_every_one_has_a_login_box():
    for name, *pages in synthetic_pages():
        for page in pages:
            body = page.encode("utf-8") if isinstance(page, str) else page
            assert classify(body, 200) is None, name


def test_no_fixture_page_is_a_block():
    pages = sorted((ROOT / "fixtures").glob("*/**/*.html"))
    assert len(pages) > 50
    blocked = [p.name for p in pages if classify(p.read_bytes(), 200) is not None]
    assert blocked == []


@needs_reference
def test_no_real_forum_page_is_a_block():
    pages = reference_pages()
    assert len(pages) >= 10
    assert [p.name for p in pages if classify(p.read_bytes(), 200) is not None] == []


def test_a_block_page_served_with_200_is_never_cached():
    from scrapy.http import Request
    from scrapy.settings import Settings

    policy = CompletePagePolicy(Settings({"HTTPCACHE_IGNORE_HTTP_CODES": [], "HTTPCACHE_IGNORE_SCHEMES": []}))
    request = Request("http://127.0.0.1/thread-1/")
    ban = HtmlResponse(request.url, status=200, body=BLOCK_PAGES["ban"][1], headers={"Content-Type": "text/html"})
    forum = SyntheticForum(SMALL)
    thread = BY_SPIDER["miataturbo"].site_factory(forum).thread_page(forum.listing(forum.forums[11])[0], 1)
    page = HtmlResponse(request.url, status=200, body=thread.encode(), headers={"Content-Type": "text/html"})
    assert not policy.should_cache_response(ban, request)
    assert policy.should_cache_response(page, request)


# --- crawls against a site that blocks ---------------------------------------------------------

RENDERER = BY_SPIDER["miataturbo"]
THREAD_PATH = re.compile(r"^/[a-z0-9-]+-\d+/[a-z0-9-]+-\d+/")  # IB thread pages: /forum-11/some-title-123/


def thread_paths(server):
    return [r.path for r in server.requests if THREAD_PATH.search(r.path)]


@pytest.mark.parametrize("fault", ["ban", "ban403", "challenge", "login", "login-phpbb"])
def test_a_site_serving_block_pages_for_threads_stops_the_crawl_after_three(tmp_path, fault):
    forum = SyntheticForum(SMALL)
    server = ForumServer(RENDERER.site_factory(forum), faults=[FaultRule(THREAD_PATH.pattern, fault, times=10**6)])
    server.start()
    try:
        result = scrapy_crawl(RENDERER.spider, server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == errors.NOPERM == 77, result.stderr[-3000:]
    assert "scrapy crawl miataturbo: site_blocking: the site answers with ban, bot-challenge" in result.stderr
    assert "Traceback" not in result.stderr
    threads = thread_paths(server)
    # Never re-fetched: each blocked page was asked for once (no backoff retries, no page retries) ...
    assert len(threads) == len(set(threads)), threads
    # ... and the crawl stopped after three in a row: nothing more leaves once it is stopping, but the
    # downloader may already have started up to CONCURRENT_REQUESTS (8) more before the third block
    # page was judged (a response is judged after its download has freed its slot for the next one).
    assert 3 <= len(threads) <= 3 + 8, threads
    assert sum(len(forum.listing(f)) for f in forum.forums.values()) > 20  # so stopping early is visible
    assert "'miata/blocked/pages': " in result.stderr


def test_members_only_sub_forums_are_skipped_and_the_rest_of_the_forum_collected(tmp_path):
    forum = SyntheticForum(ForumShape(seed=7, forums_per_category=6, threads_per_forum=2, posts_per_thread=3))
    site = RENDERER.site_factory(forum)
    # Every forum without sub-forums but two answers with the login form, as members-only areas do:
    # many walls in a row, while the index and the other listings stay readable.
    leaves = [f for f in forum.forums.values() if not f.is_category and not f.children]
    walled = leaves[2:]
    faults = [FaultRule(f"^{re.escape(urlsplit(site.forum_url(f)).path)}", "login", times=10**6) for f in walled]
    server = ForumServer(site, faults=faults)
    server.start()
    try:
        result = scrapy_crawl(RENDERER.spider, server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    hidden = {str(t.thread_id * POST_SLOTS + p) for f in walled for t in forum.listing(f)
              for p in range(1, t.post_count + 1)}
    expected = {str(pid) for pid in forum.all_post_ids()} - hidden
    assert hidden and expected
    assert sorted(r["post_id"] for r in dataset_rows(tmp_path, ["post_id"])) == sorted(expected)
    assert f"'miata/blocked/members_only_listings': {len(walled)}" in result.stderr
    assert "site_blocking" not in result.stderr


@pytest.mark.parametrize("fault", ["ban", "challenge"])
def test_a_site_blocking_from_the_first_page_ends_with_site_blocking(tmp_path, fault):
    server = ForumServer(RENDERER.site_factory(SyntheticForum(SMALL)),
                         faults=[FaultRule(r"^/(?!robots\.txt)", fault, times=10**6)])
    server.start()
    try:
        result = scrapy_crawl(RENDERER.spider, server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == 77, result.stderr[-3000:]
    assert "site_blocking" in result.stderr.splitlines()[-1]
    assert [r.path for r in server.requests if r.path != "/robots.txt"] == ["/"]


def test_a_503_storm_fails_the_run_after_the_retries(tmp_path):
    # No block markers: a plain outage. Retried with backoff, then the run fails (not "finished", 0).
    server = ForumServer(RENDERER.site_factory(SyntheticForum(SMALL)), faults=[FaultRule(r".", "503", times=10**6)])
    server.start()
    try:
        result = scrapy_crawl(RENDERER.spider, server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == errors.UNAVAILABLE == 69, result.stderr[-3000:]
    assert result.stderr.splitlines()[-1].startswith("scrapy crawl miataturbo: all_requests_failed: every request failed")
    assert "Traceback" not in result.stderr
    assert [r.path for r in server.requests].count("/") == 6  # the first try and RETRY_TIMES = 5 retries


def test_a_site_answering_403_to_everything_does_not_end_finished(tmp_path):
    server = ForumServer(RENDERER.site_factory(SyntheticForum(SMALL)), faults=[FaultRule(r".", "403", times=10**6)])
    server.start()
    try:
        result = scrapy_crawl(RENDERER.spider, server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == 69, result.stderr[-3000:]
    assert "all_requests_failed" in result.stderr.splitlines()[-1]
