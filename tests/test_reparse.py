"""``miata reparse``: rebuilding a site from the HTTP cache gives exactly the rows a replay crawl gives."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from miata_spiders.reparse import cache_entries, reparse
from miata_spiders.spiders.miataturbo import MiataturboSpider
from miata_spiders.spiders.mx5nutz import Mx5nutzSpider
from miata_spiders.testing.fixture_site import FixtureSite
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.render_ib import IBForumSite
from miata_spiders.testing.server import ForumServer
from tests.support.crawl import ROOT, dataset_rows, scrapy_crawl

SHAPE = ForumShape(seed=5, threads_per_forum=7, posts_per_thread=9, posts_per_page=4, threads_per_page=3)
BATCH = {"MIATA_PARQUET_BATCH_SIZE": "7"}  # several parts, so part boundaries cannot hide a difference


def by_post_version(rows: list[dict]) -> dict:
    return {(r["post_id"], r["content_hash"]): r for r in rows}


def crawl_then_replay(tmp, site, spider: str):
    """A live crawl that fills the cache, then the offline replay crawl of that cache."""
    server = ForumServer(site)
    base_url = server.start()
    try:
        scrapy_crawl(spider, base_url, tmp / "live", BATCH)
    finally:
        server.stop()
    replay = {**BATCH, "HTTPCACHE_DIR": str(tmp / "live" / "httpcache"), "HTTPCACHE_IGNORE_MISSING": "True"}
    scrapy_crawl(spider, base_url, tmp / "replay", replay)
    return base_url, tmp / "live" / "httpcache"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reparse-synthetic")
    base_url, cache = crawl_then_replay(tmp, IBForumSite(SyntheticForum(replace(SHAPE, generation=1))), "miataturbo")
    return tmp, base_url, cache


@pytest.mark.parametrize("workers", [1, 2])
def test_reparse_writes_exactly_the_replay_crawls_rows(synthetic, tmp_path, workers):
    tmp, _, cache = synthetic
    stats = reparse(MiataturboSpider, {}, tmp_path, cache, use_gzip=True, batch_size=7, workers=workers)
    replayed = by_post_version(dataset_rows(tmp / "replay"))
    rebuilt = by_post_version(dataset_rows(tmp_path))
    assert rebuilt.keys() == replayed.keys()
    # Every column, scraped_at included: both take it from the cached page's Date header.
    assert rebuilt == replayed
    assert stats.rows_written == len(replayed) and stats.parts >= 2
    assert stats.thread_pages > 0 and stats.listing_pages > 0 and stats.unrecognised == 0
    assert stats.pages_without_first_page == 0


def test_reparse_into_the_same_dataset_again_adds_nothing(synthetic, tmp_path):
    tmp, _, cache = synthetic
    first = reparse(MiataturboSpider, {}, tmp_path, cache, use_gzip=True, batch_size=50, workers=1)
    again = reparse(MiataturboSpider, {}, tmp_path, cache, use_gzip=True, batch_size=50, workers=1)
    assert first.rows_written > 0
    assert again.rows_written == 0 and again.dropped_existing == first.rows_written


def test_base_url_keeps_only_pages_fetched_from_there(synthetic, tmp_path):
    tmp, base_url, cache = synthetic
    stats = reparse(MiataturboSpider, {"base_url": "http://127.0.0.1:1/"}, tmp_path, cache, use_gzip=True,
                    batch_size=50, workers=1)
    assert stats.entries == 0 and stats.rows_written == 0
    stats = reparse(MiataturboSpider, {"base_url": base_url}, tmp_path, cache, use_gzip=True, batch_size=50, workers=1)
    assert stats.entries == len(cache_entries(cache, "miataturbo"))


@pytest.mark.parametrize("fixture, spider_cls", [("miataturbo", MiataturboSpider), ("mx5nutz", Mx5nutzSpider)])
def test_reparse_of_a_fixture_forum_matches_its_replay(tmp_path, fixture, spider_cls):
    crawl_then_replay(tmp_path, FixtureSite.named(fixture), spider_cls.name)
    stats = reparse(spider_cls, {}, tmp_path / "rebuilt", tmp_path / "live" / "httpcache", use_gzip=True,
                    batch_size=7, workers=1)
    replayed = by_post_version(dataset_rows(tmp_path / "replay"))
    assert by_post_version(dataset_rows(tmp_path / "rebuilt")) == replayed
    assert sorted(r["post_id"] for r in replayed.values()) == sorted(FixtureSite.named(fixture).expected_post_ids)
    assert stats.unrecognised == 0


# The command as `miata` runs it (argument parsing, settings, exit status), without depending on cli.py.
MIATA_REPARSE = """
import argparse, os, sys
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "miata_spiders.settings")
from miata_spiders.reparse import add_reparse_parser
parser = argparse.ArgumentParser(prog="miata")
add_reparse_parser(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


def miata(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", MIATA_REPARSE, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_command_line(synthetic, tmp_path):
    tmp, _, cache = synthetic
    done = miata("reparse", "miataturbo", "--out", str(tmp_path / "out"), "--cache-dir", str(cache), "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "thread pages" in done.stdout and "rows in" in done.stdout
    assert len(dataset_rows(tmp_path / "out")) == len(dataset_rows(tmp / "replay"))
    missing = miata("reparse", "miataturbo", "--out", str(tmp_path / "x"), "--cache-dir", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no cache entries" in missing.stderr
    bad = miata("reparse", "miataturbo", "--out", str(tmp_path / "x"), "--cache-dir", str(cache), "-a", "base_url")
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr
