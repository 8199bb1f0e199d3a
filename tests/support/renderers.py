"""Every synthetic-forum renderer the engine-agnostic tests (end to end, faults, incremental, crash
resume, markup drift) run over: the spider that crawls it, how to build it, the fixture forum its
markup must stay within, and how to read its URLs.

Add a renderer by appending a ``Renderer`` to ``RENDERERS``; tests parametrize over the list (or over
the slice they can afford, see ``CRASH_SCENARIOS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from miata_spiders.engines import vbulletin
from miata_spiders.testing.render_ib import IBForumSite
from miata_spiders.testing.render_vb3 import VB3ForumSite
from miata_spiders.testing.render_vb4 import VB4ForumSite

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
_PAGE_NUMBER = re.compile(r"(?:[?&]page=|/page)(\d+)")


def vbulletin_thread_page(host: str) -> Callable[[str], tuple[str, int] | None]:
    """(thread id, page) of a request path that asks for a vBulletin thread page, else None."""

    def thread_page(path: str) -> tuple[str, int] | None:
        thread_id = vbulletin.thread_id_from_url(host + path)
        if thread_id is None:
            return None
        match = _PAGE_NUMBER.search(path)
        return thread_id, int(match.group(1)) if match else 1

    return thread_page


def vbulletin_page_key(host: str) -> Callable[[str], str]:
    """The page a request path asks for, whatever volatile parameters (``?ispreloading=1``) it carries."""
    return lambda path: vbulletin.canonical_url(host + path)


@dataclass(frozen=True)
class Renderer:
    spider: str
    site_factory: Callable  # SyntheticForum -> a ForumServer site with forum_url/thread_url/..._page
    fixture_dir: Path
    host: str  # the site root the renderer's canonical URLs start with
    index_path: str  # the request path of the spider's start page
    thread_page_of: Callable[[str], tuple[str, int] | None]
    page_key: Callable[[str], str]
    # fixture page names per page kind, for the markup drift test
    thread_glob: str = "thread-*.html"
    listing_glob: str = "forum-*.html"
    index_name: str = "index.html"
    id: str = field(default="")

    def path(self, url: str) -> str:
        """Request path of one of the renderer's canonical URLs."""
        assert url.startswith(self.host), url
        return url[len(self.host):]

    def __str__(self) -> str:
        return self.id or self.spider


def _vbulletin(spider: str, site_factory, host: str, index_path: str) -> Renderer:
    return Renderer(spider, site_factory, FIXTURES / spider, host, index_path,
                    vbulletin_thread_page(host), vbulletin_page_key(host), id=spider)


RENDERERS = [
    _vbulletin("miataturbo", IBForumSite, "https://www.miataturbo.net", "/"),  # Internet Brands vBulletin 3.8 skin
    _vbulletin("miatanet", VB3ForumSite, "https://forum.miata.net", "/vb/"),  # classic vBulletin 3.8
    _vbulletin("clubroadster", VB4ForumSite, "https://www.clubroadster.net", "/vb_forum/"),  # vBulletin 4.2
]
BY_SPIDER = {r.spider: r for r in RENDERERS}
RENDERER_IDS = [str(r) for r in RENDERERS]
