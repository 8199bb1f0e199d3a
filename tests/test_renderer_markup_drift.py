"""The synthetic forum's IB markup must not drift from the saved fixture pages (which follow the real
platform): every structural element the renderer emits (tag, classes, id pattern) appears in the
fixture page of the same kind."""

import re
from pathlib import Path

import pytest
from lxml import html

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.render_ib import IBForumSite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "miataturbo"
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


def fixture_signatures(*names) -> set:
    return set().union(*(signatures((FIXTURES / n).read_bytes()) for n in names))


@pytest.fixture(scope="module")
def site():
    return IBForumSite(SyntheticForum(ForumShape(seed=3, threads_per_forum=8, posts_per_thread=30)))


def rendered_thread_pages(site):
    forum = site.forum
    for tid in list(forum.all_thread_ids())[:12]:
        for page in range(1, forum.page_count(tid) + 1):
            yield site.thread_page(forum.thread(tid), page).encode()


def test_thread_pages_use_only_fixture_markup(site):
    allowed = fixture_signatures(*[p.name for p in FIXTURES.glob("thread-*.html")])
    used = set().union(*(signatures(p) for p in rendered_thread_pages(site)))
    assert used - allowed == set()


def test_listing_pages_use_only_fixture_markup(site):
    allowed = fixture_signatures(*[p.name for p in FIXTURES.glob("forum-*.html")])
    forum = site.forum
    used = set().union(*(signatures(site.forum_page(f, 1).encode()) for f in forum.forums.values()))
    assert used - allowed == set()


def test_index_page_uses_only_fixture_markup(site):
    assert signatures(site.index_page().encode()) - fixture_signatures("index.html") == set()
