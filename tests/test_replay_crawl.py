"""End to end: the real miataturbo spider, settings and pipelines crawl the fixture forum served on
127.0.0.1, then replay the crawl from the HTTP cache with the server gone."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from miata_spiders.testing.fixture_site import FixtureSite
from miata_spiders.testing.server import ForumServer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "miataturbo"


def crawl(base_url: str, data_dir: Path, cache_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "miataturbo", "-a", f"base_url={base_url}",
        "-s", f"MIATA_DATA_DIR={data_dir}", "-s", f"HTTPCACHE_DIR={cache_dir}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO",
        *extra,
    ]
    env = {**os.environ, "MIATA_USER_AGENT": ""}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def posts(data_dir: Path):
    return ds.dataset(str(data_dir / "posts"), format="parquet", partitioning="hive").to_table().to_pylist()


def expected_posts() -> dict[str, dict]:
    """post_id -> expectation, with its thread, from every thread page's expectation file."""
    found = {}
    for path in sorted(FIXTURES.glob("*.json")):
        spec = json.loads(path.read_text())
        if spec.get("kind") == "thread":
            for post in spec["posts"]:
                found[post["post_id"]] = {**post, "thread_id": spec["thread_id"], "page": spec["page"]}
    return found


@pytest.fixture(scope="module")
def first_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawl")
    site = FixtureSite(FIXTURES)
    server = ForumServer(site)
    base_url = server.start()
    try:
        result = crawl(base_url, tmp / "data", tmp / "cache")
    finally:
        server.stop()
    return {"tmp": tmp, "base_url": base_url, "site": site, "server": server, "log": result.stderr}


def test_complete_crawl_collects_every_post_once_with_its_thread_and_position(first_crawl):
    rows = posts(first_crawl["tmp"] / "data")
    ids = [r["post_id"] for r in rows]
    site = first_crawl["site"]
    assert sorted(ids) == sorted(site.expected_post_ids)
    assert len(ids) == len(set(ids))
    expected = expected_posts()
    for row in rows:
        want = expected[row["post_id"]]
        assert (row["thread_id"], row["position"], row["page"]) == (want["thread_id"], want["position"], want["page"])
        assert row["author"] == want["author"]
        assert row["site"] == "miataturbo" and row["source"] == "forum"


def test_crawl_obeys_robots_and_fetches_each_page_once(first_crawl):
    requests = first_crawl["server"].requests
    paths = [r.path for r in requests]
    assert "/robots.txt" in paths
    assert not [p for p in paths if p.startswith(("/members/", "/search.php"))]
    page_paths = [p for p in paths if p != "/robots.txt"]
    assert len(page_paths) == len(set(page_paths)), "a page was fetched twice"
    assert all(r.status == 200 for r in requests if r.path != "/robots.txt")


def test_offline_replay_from_the_http_cache_reproduces_the_dataset(first_crawl):
    tmp = first_crawl["tmp"]
    # The server is stopped: every response must come from the cache.
    crawl(first_crawl["base_url"], tmp / "replay", tmp / "cache", "-s", "HTTPCACHE_IGNORE_MISSING=True")
    original = {r["post_id"]: r["content_hash"] for r in posts(tmp / "data")}
    replayed = {r["post_id"]: r["content_hash"] for r in posts(tmp / "replay")}
    assert replayed == original


def test_second_run_into_the_same_dataset_adds_no_rows(first_crawl):
    tmp = first_crawl["tmp"]
    before = len(posts(tmp / "data"))
    # Incremental (the default): every thread is known and unchanged, so none is fetched again.
    result = crawl(first_crawl["base_url"], tmp / "data", tmp / "cache", "-s", "HTTPCACHE_IGNORE_MISSING=True")
    assert len(posts(tmp / "data")) == before
    assert "'miata/incremental/threads_unchanged'" in result.stderr
    assert "'miata/posts/parsed'" not in result.stderr
    # A full re-crawl parses every post again, and the dedupe pipeline drops every one of them.
    result = crawl(first_crawl["base_url"], tmp / "data", tmp / "cache", "-s", "HTTPCACHE_IGNORE_MISSING=True",
                   "-s", "MIATA_FULL_CRAWL=True")
    assert len(posts(tmp / "data")) == before
    assert "'miata/dedupe/dropped_existing': %d" % before in result.stderr
