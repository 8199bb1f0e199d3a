"""Every forum is one declarative module: file x.py, name "x", class XSpider, a known engine."""

import importlib
import pkgutil

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

import miata_spiders.spiders
from miata_spiders.engines import ENGINES
from miata_spiders.forum_spider import BaseForumSpider

MODULES = [m.name for m in pkgutil.iter_modules(miata_spiders.spiders.__path__) if not m.name.startswith("_")]


def test_scrapy_lists_every_site():
    assert {"miataturbo", "mx5nutz", "forum"} <= set(SpiderLoader.from_settings(get_project_settings()).list())


@pytest.mark.parametrize("module_name", MODULES)
def test_spider_module_naming_and_declaration(module_name):
    module = importlib.import_module(f"miata_spiders.spiders.{module_name}")
    cls = getattr(module, module_name.capitalize() + "Spider")
    assert cls.name == module_name
    if issubclass(cls, BaseForumSpider) and cls.name != "forum":  # "forum" takes both as arguments
        assert cls.engine in ENGINES
        assert cls.start_url.startswith(("http://", "https://"))


def test_base_url_points_the_crawl_at_another_address():
    from miata_spiders.spiders.miataturbo import MiataturboSpider

    spider = MiataturboSpider(base_url="http://127.0.0.1:8123/")
    assert spider.rebase("https://www.miataturbo.net/engine-performance-56/?s=abc123") == (
        "http://127.0.0.1:8123/engine-performance-56/"
    )
    assert spider.allowed_domains == ["127.0.0.1"]


@pytest.mark.parametrize("bad", ["127.0.0.1:8080", "ftp://mirror.example.org/", "/just/a/path"])
def test_a_bad_base_url_is_refused_with_its_value_named(bad):
    from miata_spiders.spiders.miataturbo import MiataturboSpider

    with pytest.raises(ValueError, match="base_url"):
        MiataturboSpider(base_url=bad)
