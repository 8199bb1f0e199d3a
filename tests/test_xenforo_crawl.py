"""End to end: the real mx5nutz spider, settings and pipelines crawl the XenForo 2 fixture forum
served on 127.0.0.1, then replay the crawl from the HTTP cache with the server gone."""

import json
from pathlib import Path

import pytest

from miata_spiders.testing.fixture_site import FixtureSite
from miata_spiders.testing.server import ForumServer
from tests.support.crawl import dataset_rows, scrapy_crawl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mx5nutz"


def expected_posts() -> dict[str, dict]:
    """post_id -> expectation, with its thread's identity, from every thread page's expectation file."""
    found = {}
    for path in sorted(FIXTURES.glob("thread-*.json")):
        spec = json.loads(path.read_text())
        thread_url = spec["url"].rsplit("page-", 1)[0]
        for post in spec["posts"]:
            found[post["post_id"]] = {**post, "thread_id": spec["thread_id"], "page": spec["page"], "title": spec["title"],
                                      "forum_id": spec["forum_id"], "forum_path": spec["forum_path"], "thread_url": thread_url}
    return found


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    data = tmp_path_factory.mktemp("mx5nutz")
    site = FixtureSite(FIXTURES)
    server = ForumServer(site)
    server.start()
    try:
        scrapy_crawl("mx5nutz", server.base_url, data)
    finally:
        server.stop()
    return {"data": data, "site": site, "server": server}


def test_crawl_collects_every_post_once_with_its_thread_page_and_position(crawl):
    rows = dataset_rows(crawl["data"])
    ids = [r["post_id"] for r in rows]
    assert sorted(ids) == sorted(crawl["site"].expected_post_ids)
    assert len(ids) == len(set(ids))
    expected = expected_posts()
    for row in rows:
        want = expected[row["post_id"]]
        assert (row["site"], row["source"]) == ("mx5nutz", "forum")
        assert (row["thread_id"], row["thread_title"], row["page"], row["position"]) == (
            want["thread_id"], want["title"], want["page"], want["position"]), row["post_id"]
        assert (row["forum_id"], row["forum_path"]) == (want["forum_id"], want["forum_path"])
        assert (row["author"], row["author_id"], row["is_deleted"]) == (want["author"], want["author_id"], want["is_deleted"])
        assert row["posted_at"].isoformat() == want["posted_at"]
        assert (row["edited_at"].isoformat() if row["edited_at"] else None) == want["edited_at"]
        assert row["body_text"] == want["body_text"] or " ".join(row["body_text"].split()) == want["body_text"]
        assert row["images"] == want["images"] and row["links"] == want["links"]
        # Stored URLs are the forum's own, not the 127.0.0.1 address crawled.
        assert row["thread_url"] == want["thread_url"] and row["url"] == want["url"]


def test_crawl_obeys_robots_fetches_each_page_once_and_follows_the_moved_thread_stub(crawl):
    requests = crawl["server"].requests
    paths = [r.path for r in requests]
    assert paths[0] == "/robots.txt"
    assert not [p for p in paths if p.startswith(("/members/", "/attachments/", "/goto/", "/posts/"))]
    assert len(paths) == len(set(paths)), "a page was fetched twice"
    redirects = crawl["site"].manifest["redirects"]
    assert {r.path: r.status for r in requests if r.path in redirects} == {path: 301 for path in redirects}
    assert all(r.status == 200 for r in requests if r.path not in redirects)
    served = set(crawl["site"].pages)
    assert served <= set(paths), f"never fetched: {sorted(served - set(paths))}"


def test_offline_replay_from_the_http_cache_reproduces_the_dataset(crawl, tmp_path):
    # The server is stopped: every page comes from the cache (the 301 was never cached, its target was).
    replay = tmp_path / "replay"
    (replay / "httpcache").parent.mkdir(parents=True, exist_ok=True)
    scrapy_crawl("mx5nutz", crawl["server"].base_url, replay,
                 {"HTTPCACHE_DIR": str(crawl["data"] / "httpcache"), "HTTPCACHE_IGNORE_MISSING": "True"})
    original = {r["post_id"]: r["content_hash"] for r in dataset_rows(crawl["data"])}
    assert {r["post_id"]: r["content_hash"] for r in dataset_rows(replay)} == original
