"""The synthetic forums' markup must not drift from the saved fixture pages (which follow the real
platform): every structural element a renderer emits (tag, classes, id pattern) appears in the
fixture pages of the same kind. One renderer per engine, see tests/support/renderers.py."""

import re

import pytest
from lxml import html

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from tests.support.renderers import RENDERER_IDS, RENDERERS

# Where the renderer's own content deliberately differs (images, post text) is not structure.
IGNORED_TAGS = {"html", "head", "body", "title", "meta", "link", "script", "style", "br", "hr", "i", "em", "b"}


def signatures(page: bytes) -> set:
    found = set()
    for el in html.fromstring(page).iter():
        if not isinstance(el.tag, str) or el.tag in IGNORED_TAGS:
            continue
        classes = " ".join(sorted((el.get("class") or "").split()))
        ident = re.sub(r"\d+", "N", el.get("id") or "")
        found.add((el.tag, classes, ident))
    return found


def fixture_signatures(renderer, pattern: str) -> set:
    pages = sorted(renderer.fixture_dir.glob(pattern))
    assert pages, f"no fixture pages {pattern} in {renderer.fixture_dir}"
    return set().union(*(signatures(p.read_bytes()) for p in pages))


@pytest.fixture(scope="module", params=RENDERERS, ids=RENDERER_IDS)
def rendered(request):
    renderer = request.param
    return renderer, renderer.site_factory(SyntheticForum(ForumShape(seed=3, threads_per_forum=8, posts_per_thread=30)))


def rendered_thread_pages(site):
    forum = site.forum
    for tid in list(forum.all_thread_ids())[:12]:
        for page in range(1, forum.page_count(tid) + 1):
            yield site.thread_page(forum.thread(tid), page).encode()


def test_thread_pages_use_only_fixture_markup(rendered):
    renderer, site = rendered
    used = set().union(*(signatures(p) for p in rendered_thread_pages(site)))
    assert used - fixture_signatures(renderer, renderer.thread_glob) == set()


def test_listing_pages_use_only_fixture_markup(rendered):
    renderer, site = rendered
    used = set().union(*(signatures(site.forum_page(f, 1).encode()) for f in site.forum.forums.values()))
    assert used - fixture_signatures(renderer, renderer.listing_glob) == set()


def test_index_page_uses_only_fixture_markup(rendered):
    renderer, site = rendered
    assert signatures(site.index_page().encode()) - fixture_signatures(renderer, renderer.index_name) == set()
