"""One bad page never costs its neighbours: a page whose parsing raises is counted, logged once with
its URL and skipped (nothing recorded, so its thread stays incomplete), and a page that lxml could not
build whole is handled as a truncated download, never recorded as complete."""

import logging

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from miata_spiders.httpcache import missing_post_ids
from miata_spiders.items import PostItem
from miata_spiders.spiders.miataturbo import MiataturboSpider
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from tests.support.renderers import BY_SPIDER

FORUM = SyntheticForum(ForumShape(seed=7, threads_per_forum=5, posts_per_thread=6, posts_per_page=5))
SITE = BY_SPIDER["miataturbo"].site_factory(FORUM)
THREADS = FORUM.listing(FORUM.forums[11])


def spider():
    crawler = get_crawler(MiataturboSpider, {"RETRY_TIMES": 2})
    crawler.spider = crawler._create_spider()
    return crawler.spider


def page(thread, body: str | None = None):
    url = SITE.thread_url(thread, 1)
    return HtmlResponse(url=url, body=(body or SITE.thread_page(thread, 1)).encode("utf-8"), encoding="utf-8",
                        request=Request(url), headers={"Date": "Wed, 25 Nov 2026 17:00:00 GMT"})


def test_a_page_whose_parsing_raises_is_counted_logged_once_and_skipped(caplog, monkeypatch):
    s = spider()
    bad, good = page(THREADS[0]), page(THREADS[1])
    real = s.records_of

    def records_of(response, request_for):
        if response.url == bad.url:
            raise RecursionError("maximum recursion depth exceeded")
        return real(response, request_for)

    monkeypatch.setattr(s, "records_of", records_of)
    with caplog.at_level(logging.INFO):
        assert list(s.parse_thread(bad)) == []  # no posts, no retry, nothing recorded
        out = list(s.parse_thread(good))
    assert [o for o in out if isinstance(o, PostItem)]  # the next page is not affected
    assert s.crawler.stats.get_value("miata/parse/errors") == 1
    lines = [r for r in caplog.records if bad.url in r.getMessage()]
    assert len(lines) == 1 and "RecursionError" in lines[0].getMessage()
    assert not lines[0].exc_info  # the traceback only at DEBUG


def test_a_listing_page_whose_parsing_raises_does_not_stop_the_crawl(monkeypatch):
    s = spider()
    listing = HtmlResponse(url=SITE.forum_url(FORUM.forums[11]), body=SITE.forum_page(FORUM.forums[11], 1).encode(),
                           encoding="utf-8", request=Request(SITE.forum_url(FORUM.forums[11])))
    monkeypatch.setattr(s, "records_of", lambda response, request_for: 1 / 0)
    assert list(s.parse_listing(listing)) == []
    assert s.crawler.stats.get_value("miata/parse/errors") == 1


def nested(thread, depth: int) -> str:
    html = SITE.thread_page(thread, 1)
    start = html.index('id="post_message_')
    start = html.index(">", start) + 1
    return html[:start] + "<div>" * depth + "deep" + "</div>" * depth + html[start:]


def test_a_page_lxml_could_not_build_whole_is_truncated_and_fetched_again():
    s = spider()
    response = page(THREADS[0], nested(THREADS[0], 5000))
    assert missing_post_ids(response) > 0  # lxml stopped building the tree inside the first post
    out = list(s.parse_thread(response))
    assert not [o for o in out if isinstance(o, PostItem)]
    (retry,) = out
    assert retry.meta["miata_refetch"] and retry.dont_filter
    assert s.crawler.stats.get_value("miata/parse/truncated_thread") == 1


def test_moderate_nesting_is_an_ordinary_page():
    s = spider()
    response = page(THREADS[0], nested(THREADS[0], 300))
    assert missing_post_ids(response) == 0
    posts = [o for o in s.parse_thread(response) if isinstance(o, PostItem)]
    assert len(posts) == len(FORUM.posts(THREADS[0].thread_id, 1))


def test_no_fixture_page_looks_cut_short():
    from pathlib import Path

    pages = sorted((Path(__file__).resolve().parents[1] / "fixtures").glob("*/**/*.html"))
    assert pages
    cut = [p.name for p in pages if missing_post_ids(HtmlResponse(url="https://x/", body=p.read_bytes()))]
    assert cut == []


def test_a_post_that_raises_costs_only_itself_and_leaves_the_thread_incomplete(caplog, monkeypatch):
    from miata_spiders.engines import get_engine

    s = spider()
    engine = get_engine("ib-vbulletin")
    parsed = {t: engine.parse_thread_page(page(t), page(t).url, s.dates_for(page(t))) for t in THREADS}
    thread = next(t for t in THREADS if parsed[t].next_page)  # a thread of several pages
    response = page(thread)
    fields = type(engine).fields
    real_author = fields.author
    all_ids = [p.post_id for p in parsed[thread].posts]
    broken = all_ids[1]

    def author(self, node):
        if self.post_id(node) == broken:
            raise IndexError("hostile markup")
        return real_author(self, node)

    monkeypatch.setattr(fields, "author", author)
    expected = []
    monkeypatch.setattr(s, "crawl_progress", type("Recorder", (), {"expect": lambda self, *a, **k: expected.append(a)})())
    with caplog.at_level(logging.INFO):
        out = list(s.parse_thread(response))
    posts = [o.post_id for o in out if isinstance(o, PostItem)]
    assert posts == [i for i in all_ids if i != broken]  # the neighbours are all there
    assert s.crawler.stats.get_value("miata/parse/errors") == 1
    assert expected == []  # the page is not recorded: the next run fetches the thread again
    follow = [o for o in out if isinstance(o, Request)]
    assert follow and all(r.meta["thread_damaged"] for r in follow)  # nor are its later pages
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR and response.url in r.getMessage()]) == 1
