"""The synthetic forum's XenForo 2 and phpBB 3.3 markup must not drift from the saved fixture pages
(which follow the real software): every structural element a renderer emits (tag, classes, id
pattern) appears in a fixture page of the same kind.

What is content rather than structure is normalised on both sides: numbers in ids and classes
(``js-threadListItem-101``, ``node--id9``, ``bg1``/``bg2`` zebra rows), XenForo's category anchor
slugs (``id="mazda-mx-5.1"``) and avatar sizes (one macro, a size parameter). A forum page's
sub-forum list is the forum list's own markup (both engines render it with the same template), and
user names and avatars come from one macro everywhere, so those may appear on any page kind.
"""

import re
from pathlib import Path

import pytest
from lxml import html

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.render_phpbb import PhpbbForumSite
from miata_spiders.testing.render_xenforo import XenForoForumSite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IGNORED_TAGS = {"html", "head", "body", "title", "meta", "link", "script", "style", "br", "hr", "i", "em", "b"}
SHAPE = ForumShape(seed=3, threads_per_forum=8, posts_per_thread=30)
ENGINES = {
    # site class, fixture dir, thread pages, listing pages, index page
    "xenforo": (XenForoForumSite, FIXTURES / "mx5nutz", "thread-*.html", "forum-*.html", "index.html"),
    "phpbb": (PhpbbForumSite, FIXTURES / "phpbb" / "board33", "viewtopic-*.html", "viewforum-*.html", "index.html"),
}


def _normalised(value: str) -> str:
    value = re.sub(r"^[a-z0-9-]+\.\d+$", "SLUG.N", value)  # a category's anchor: its slug and id
    value = re.sub(r"\d+", "N", value)
    return re.sub(r"^avatar--(?:xxs|xs|s|m|l|o)$", "avatar--SIZE", value)


def signatures(page: bytes) -> set:
    found = set()
    for el in html.fromstring(page).iter():
        if not isinstance(el.tag, str) or el.tag in IGNORED_TAGS:
            continue
        classes = " ".join(sorted(_normalised(c) for c in (el.get("class") or "").split()))
        found.add((el.tag, classes, _normalised(el.get("id") or "")))
    return found


def fixture_signatures(directory: Path, *patterns: str) -> set:
    pages = [p for pattern in patterns for p in directory.glob(pattern)]
    assert pages, f"no fixture pages {patterns} in {directory}"
    return set().union(*(signatures(p.read_bytes()) for p in pages))


def shared_macros(directory: Path) -> set:
    """User names and avatars as any fixture page of the site prints them."""
    return {s for s in fixture_signatures(directory, "*.html") if re.search(r"\b(?:username|avatar)\b", s[1])}


@pytest.fixture(scope="module", params=sorted(ENGINES))
def engine(request):
    site_class, directory, threads, listings, index = ENGINES[request.param]
    return site_class(SyntheticForum(SHAPE)), directory, threads, listings, index


def test_thread_pages_use_only_fixture_markup(engine):
    site, directory, threads, _, _ = engine
    forum = site.forum
    used = set()
    for tid in list(forum.all_thread_ids())[:12]:
        for page in range(1, site.page_count(tid) + 1):
            used |= signatures(site.thread_page(forum.thread(tid), page).encode())
    assert used - fixture_signatures(directory, threads) - shared_macros(directory) == set()


def test_listing_pages_use_only_fixture_markup(engine):
    site, directory, _, listings, index = engine
    used = set()
    for f in site.forum.forums.values():
        if f.is_category and isinstance(site, XenForoForumSite):
            continue  # XenForo categories are anchors on the forum list, not pages
        for page in range(1, site.listing_page_count(f) + 1):
            used |= signatures(site.forum_page(f, page).encode())
    assert used - fixture_signatures(directory, listings, index) - shared_macros(directory) == set()


def test_index_page_uses_only_fixture_markup(engine):
    site, directory, _, _, index = engine
    assert signatures(site.index_page().encode()) - fixture_signatures(directory, index) - shared_macros(directory) == set()


def test_the_rendered_pages_cover_the_forum_edge_cases(engine):
    """The pages checked above hold every case the renderers draw: a drift test over pages without
    quotes or deleted posts would prove nothing about them."""
    site, _, _, _, _ = engine
    forum = site.forum
    posts = [forum.post(t, p) for t in list(forum.all_thread_ids())[:12] for p in range(1, forum.thread(t).post_count + 1)]
    assert all(any(check(p) for p in posts) for check in (
        lambda p: p.nested_quote_of, lambda p: p.deleted, lambda p: p.author is None, lambda p: p.edited_at,
        lambda p: p.attachments, lambda p: p.lazy_images, lambda p: p.images, lambda p: p.signature,
        lambda p: p.post_id % 7 == 0))
    assert any(forum.moved_stub(f) for f in forum.forums.values())
    assert any(site.listing_page_count(f) > 1 for f in forum.forums.values())
