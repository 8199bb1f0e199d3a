"""Scheduled re-crawls fetch only what changed: unchanged threads are not fetched at all, grown
threads are fetched from their last known page on, new threads whole, edits become new versions.
Run on each vBulletin markup generation (tests/support/renderers.py)."""

from collections import Counter
from dataclasses import replace

import pytest

from miata_spiders.testing.forumgen import POST_SLOTS, ForumShape, SyntheticForum
from miata_spiders.testing.server import ForumServer
from tests.support.crawl import dataset_rows, scrapy_crawl
from tests.support.renderers import RENDERER_IDS, RENDERERS

SHAPE = ForumShape(seed=11, threads_per_forum=8, posts_per_thread=7, posts_per_page=5, threads_per_page=3)


def site(renderer, generation: int):
    return renderer.site_factory(SyntheticForum(replace(SHAPE, generation=generation)))


def thread_pages(renderer, requests):
    return [r.path for r in requests if renderer.thread_page_of(r.path)]


@pytest.fixture(scope="module", params=RENDERERS, ids=RENDERER_IDS)
def crawled(request, tmp_path_factory):
    """A complete first crawl; the server then keeps serving for the re-crawls below."""
    renderer = request.param
    data = tmp_path_factory.mktemp(f"incremental-{renderer}")
    server = ForumServer(site(renderer, 0))
    server.start()
    scrapy_crawl(renderer.spider, server.base_url, data)
    first = list(server.requests)
    yield renderer, server, data, first
    server.stop()


def test_unchanged_forum_costs_only_its_listing_first_pages(crawled):
    renderer, server, data, first = crawled
    rows_before = len(dataset_rows(data, ["post_id"]))
    server.requests.clear()
    result = scrapy_crawl(renderer.spider, server.base_url, data)
    again = [r.path for r in server.requests]
    forums = server.site.forum.forums
    assert thread_pages(renderer, server.requests) == []
    # robots.txt, the index, and page 1 of every forum listing; no later listing page.
    expected = ["/robots.txt", renderer.index_path] + [renderer.path(server.site.forum_url(f)) for f in forums.values()]
    assert sorted(again) == sorted(expected), (sorted(again), sorted(expected))
    assert len(again) <= 0.2 * len(first)
    assert len(dataset_rows(data, ["post_id"])) == rows_before
    assert "'miata/incremental/listing_walks_stopped'" in result.stderr


def test_growth_is_collected_from_the_last_known_page_on(crawled):
    renderer, server, data, first = crawled
    old = server.site.forum
    server.site = site(renderer, 1)
    new = server.site.forum
    server.requests.clear()
    scrapy_crawl(renderer.spider, server.base_url, data)
    rows = dataset_rows(data, ["post_id", "content_hash", "body_text"])
    versions = Counter(r["post_id"] for r in rows)
    assert set(versions) == {str(i) for i in new.all_post_ids()}
    # Every edit made on a re-fetched page is a second version of its post; nothing else is doubled.
    edited = {str(t * POST_SLOTS + p) for t in old.all_thread_ids() for p in range(1, old.thread(t).post_count + 1)
              if new.post(t, p).text != old.post(t, p).text}
    assert edited and {pid for pid, n in versions.items() if n > 1} == edited
    assert all(n <= 2 for n in versions.values())
    # Thread pages fetched: grown threads from their last known page, new threads whole.
    grown = [t for t in old.all_thread_ids() if new.thread(t).post_count != old.thread(t).post_count]
    born = [t for t in new.all_thread_ids() if t not in set(old.all_thread_ids())]
    expected = sum(new.page_count(t) - old.page_count(t) + 1 for t in grown) + sum(new.page_count(t) for t in born)
    assert len(thread_pages(renderer, server.requests)) == expected
    assert len(server.requests) < 0.5 * len(first)


def test_full_switch_fetches_every_thread_again(crawled):
    renderer, server, data, _ = crawled
    server.requests.clear()
    result = scrapy_crawl(renderer.spider, server.base_url, data, {"MIATA_FULL_CRAWL": "True"})
    forum = server.site.forum
    fetched = {renderer.thread_page_of(p)[0] for p in thread_pages(renderer, server.requests)}
    assert fetched >= {str(t) for t in forum.all_thread_ids()}
    assert "'miata/parquet/rows_written'" not in result.stderr  # all duplicates: nothing new to write
