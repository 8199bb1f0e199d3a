"""The two stock-vBulletin sites end to end on their fixture forums served on 127.0.0.1: ``miatanet``
(classic vBulletin 3.8, forum.miata.net/vb/) and ``clubroadster`` (vBulletin 4.2 markup,
clubroadster.net/vb_forum/). The real spider, settings and pipelines crawl each forum; the generic
``forum`` spider recognises it; ``miata parse`` reads its pages."""

import json
import re
from pathlib import Path

import pytest

from miata_spiders.cli import main as miata
from miata_spiders.engines.detect import detect
from miata_spiders.testing.fixture_site import FixtureSite
from miata_spiders.testing.server import ForumServer
from tests.support.crawl import dataset_rows, scrapy_crawl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SITES = {"miatanet": ("vbulletin", "3"), "clubroadster": ("vbulletin", "4")}  # site -> (engine, family)
SESSION_ID = re.compile(r"[?&]s=")


def expectations(site: str) -> dict[str, dict]:
    """post_id -> its expectation, with its thread's identity, from every thread page's expectation file."""
    specs = [json.loads(p.read_text()) for p in sorted((FIXTURES / site).glob("thread-*.json"))]
    first_pages = {s["thread_id"]: s["url"] for s in specs if s["page"] == 1}
    return {post["post_id"]: {**post, "thread_id": s["thread_id"], "page": s["page"], "title": s["title"],
                              "forum_id": s["forum_id"], "forum_path": s["forum_path"],
                              "thread_url": first_pages[s["thread_id"]]}
            for s in specs for post in s["posts"]}


@pytest.fixture(scope="module", params=sorted(SITES))
def crawl(request, tmp_path_factory):
    name = request.param
    data = tmp_path_factory.mktemp(name)
    site = FixtureSite(FIXTURES / name)
    server = ForumServer(site)
    server.start()
    try:
        scrapy_crawl(name, server.base_url, data)
    finally:
        server.stop()
    return {"name": name, "data": data, "site": site, "server": server}


def test_crawl_collects_every_post_once_as_the_page_shows_it(crawl):
    rows = dataset_rows(crawl["data"])
    ids = [r["post_id"] for r in rows]
    assert sorted(ids) == sorted(crawl["site"].expected_post_ids)
    assert len(ids) == len(set(ids))
    expected = expectations(crawl["name"])
    for row in rows:
        want = expected[row["post_id"]]
        assert (row["site"], row["source"]) == (crawl["name"], "forum")
        assert (row["thread_id"], row["thread_title"], row["page"], row["position"]) == (
            want["thread_id"], want["title"], want["page"], want["position"]), row["post_id"]
        assert (row["forum_id"], row["forum_path"]) == (want["forum_id"], want["forum_path"])
        assert (row["author"], row["author_id"], row["is_deleted"]) == (want["author"], want["author_id"], want["is_deleted"])
        assert row["posted_at"].isoformat() == want["posted_at"]
        assert (row["edited_at"].isoformat() if row["edited_at"] else None) == want["edited_at"]
        assert (row["body_text"] and " ".join(row["body_text"].split())) == want["body_text"]
        assert [q["author"] for q in row["quotes"]] == [q["author"] for q in want["quotes"]]
        # Stored URLs are the forum's own, not the 127.0.0.1 address crawled, and carry no session id.
        assert row["thread_url"] == want["thread_url"] and row["url"] == want["url"]
        # vBulletin 3 pages have no <base href>: their relative image and link URLs still resolve on the
        # forum's own address, because the spider gives the parser the page's canonical URL.
        assert row["images"] == want["images"] and row["links"] == want["links"]
        assert not [u for u in [row["thread_url"], row["url"], *row["links"], *row["images"]] if SESSION_ID.search(u)]
    deleted = {r["post_id"] for r in rows if r["is_deleted"]}
    assert deleted == set(crawl["site"].manifest["deleted_post_ids"])


def test_crawl_fetches_each_page_once_without_session_ids_or_the_archive(crawl):
    requests = crawl["server"].requests
    paths = [r.path for r in requests]
    assert paths[0] == "/robots.txt"
    assert len(paths) == len(set(paths)), "a page was fetched twice"
    assert all(r.status == 200 for r in requests), [r.path for r in requests if r.status != 200]
    assert set(paths) == set(crawl["site"].pages), "every page of the forum, and nothing else"
    assert not [p for p in paths if SESSION_ID.search(p) or "/archive/" in p or "member.php" in p]


def test_offline_replay_from_the_http_cache_reproduces_the_dataset(crawl, tmp_path):
    scrapy_crawl(crawl["name"], crawl["server"].base_url, tmp_path,
                 {"HTTPCACHE_DIR": str(crawl["data"] / "httpcache"), "HTTPCACHE_IGNORE_MISSING": "True"})
    original = {r["post_id"]: r["content_hash"] for r in dataset_rows(crawl["data"])}
    assert {r["post_id"]: r["content_hash"] for r in dataset_rows(tmp_path)} == original


@pytest.mark.parametrize("name", sorted(SITES))
def test_generic_spider_detects_vbulletin_and_collects_every_post(tmp_path, name):
    site = FixtureSite(FIXTURES / name)
    server = ForumServer(site)
    server.start()
    start = site.manifest["base_url"] + sorted(p for p, f in site.pages.items() if f == "index.html")[0]
    try:
        result = scrapy_crawl("forum", server.base_url, tmp_path, extra_args=["-a", f"url={start}"])
    finally:
        server.stop()
    rows = dataset_rows(tmp_path)
    assert sorted(r["post_id"] for r in rows) == sorted(site.expected_post_ids)
    assert f"runs vbulletin (family {SITES[name][1]}" in result.stderr


@pytest.mark.parametrize("name", sorted(SITES))
def test_every_fixture_page_is_detected_as_its_vbulletin_generation(name):
    pages = sorted((FIXTURES / name).glob("*.html"))
    assert pages
    for page in pages:
        found = detect(page.read_bytes())
        assert (found.engine, found.family) == SITES[name], (page.name, found.evidence)


@pytest.mark.parametrize("name, page", [("miatanet", "thread-781500-page3"), ("clubroadster", "thread-91833-page2")])
def test_miata_parse_reads_a_saved_page_as_the_spider_would(capsys, name, page):
    spec = json.loads((FIXTURES / name / f"{page}.json").read_text())
    status = miata(["parse", "--site", name, "--url", spec["url"], "--now", spec["now"],
                    str(FIXTURES / name / f"{page}.html")])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0
    posts = [r for r in records if r["kind"] == "post"]
    assert [p["post_id"] for p in posts] == [p["post_id"] for p in spec["posts"]]
    assert [p["posted_at"] for p in posts] == [p["posted_at"] for p in spec["posts"]]
    assert {p["site"] for p in posts} == {name}
