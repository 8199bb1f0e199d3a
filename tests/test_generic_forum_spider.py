"""`scrapy crawl forum -a url=...` crawls any forum on a supported engine, detecting the engine."""

import json
from pathlib import Path

import pytest

from miata_spiders.testing.fixture_site import FixtureSite
from miata_spiders.testing.server import ForumServer
from tests.support.crawl import dataset_rows, scrapy_crawl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize("fixture, engine", [("miataturbo", "ib-vbulletin"), ("mx5nutz", "xenforo")])
def test_generic_spider_detects_the_engine_and_collects_every_post(tmp_path, fixture, engine):
    site = FixtureSite(FIXTURES / fixture)
    server = ForumServer(site)
    server.start()
    try:
        result = scrapy_crawl("forum", server.base_url, tmp_path, extra_args=["-a", f"url={site.manifest['base_url']}/"])
    finally:
        server.stop()
    host = site.manifest["base_url"].split("//", 1)[1]
    rows = dataset_rows(tmp_path)
    assert {r["site"] for r in rows} == {f"forum-{host}"}
    assert sorted(r["post_id"] for r in rows) == sorted(site.expected_post_ids)
    assert f"runs {engine}" in result.stderr


@pytest.mark.parametrize("args, message", [
    ([], "needs the forum's address"),
    (["-a", "url=www.example.org"], "not an absolute http(s) URL"),
    (["-a", "url=https://forum.example.org/", "-a", "timezone=Mars/Olympus"], "not an IANA timezone"),
    (["-a", "url=https://forum.example.org/", "-a", "engine=smf"], "unknown forum engine 'smf'"),
])
def test_bad_arguments_are_named_in_the_error(tmp_path, args, message):
    result = scrapy_crawl("forum", None, tmp_path, extra_args=args, check=False)
    assert result.returncode != 0
    assert message in result.stderr
