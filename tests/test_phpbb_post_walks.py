"""phpBB's per-post walks find exactly what the XPath queries they replace find.

A prosilver post is small, so ``phpbb`` walks it in Python (lxml's C-level tag filter) instead of
running an XPath union per field; the queries stay in the module as the definition of what each walk
returns, and this test holds the two together on every post of every phpBB page we have.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from miata_spiders.engines import phpbb
from tests.support.reference import reference_pages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _phpbb_pages() -> list[Path]:
    pages = reference_pages("phpbb3/*.html") + sorted(FIXTURES.rglob("*.html"))
    return [p for p in pages if b"viewtopic.php" in p.read_bytes() or b'id="phpbb"' in p.read_bytes()]


def _first(node, *queries):
    for query in queries:
        found = query(node)
        if found:
            return found[0]
    return None


@pytest.mark.parametrize("path", _phpbb_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_post_walks_match_their_queries(path):
    root = etree.HTML(path.read_bytes())
    posts = phpbb._PROSILVER_POSTS(root)
    for node in posts:
        line, content = phpbb._post_layout(node)
        assert line is _first(node, phpbb._AUTHOR_LINE, phpbb._AUTHOR_LINE_ANYWHERE)
        assert content is _first(node, phpbb._CONTENT, phpbb._CONTENT_ANYWHERE)
        boxes = phpbb._post_boxes(node)
        assert boxes.attachment_boxes == phpbb._ATTACHMENT_BOXES(node)
        assert boxes.notices == phpbb._NOTICES(node)
        assert boxes.signature is _first(node, phpbb._SIGNATURE)
        assert (boxes.deleted_notice or "deleted" in phpbb._class_tokens(node)) == bool(phpbb._DELETED(node))
        if content is not None:
            parts = phpbb._body_parts(content)
            assert parts.quotes == phpbb._QUOTES(content)
            assert parts.labels == frozenset(phpbb._LABELS(content))
            assert parts.smilies == frozenset(phpbb._SMILIES(content))
            assert parts.any_image == phpbb._ANY_IMAGE(content)
            assert parts.any_link == phpbb._ANY_LINK(content)


def test_the_walks_keep_to_the_precise_paths_before_the_loose_ones():
    post = etree.HTML(
        "<div id='p1' class='post'><div class='inner'>"
        "<p class='author'>loose, outside the post body</p>"
        "<div class='postbody'><p class='author'>by <a href='memberlist.php?u=2'>A</a></p>"
        "<div class='content'>text<blockquote>q</blockquote><img class='smilies' src='s.gif'>"
        "<div class='codebox'><p>Code: Select all</p><code>x</code></div></div></div>"
        "<div class='notice'>Last edited by A</div><div class='signature'>sig</div></div></div>"
    ).find(".//div[@id='p1']")
    line, content = phpbb._post_layout(post)
    assert line.xpath("string()") == "by A" and content.get("class") == "content"
    parts = phpbb._body_parts(content)
    assert [q.text for q in parts.quotes] == ["q"] and [p.text for p in parts.labels] == ["Code: Select all"]
    assert parts.any_image and not parts.any_link and len(parts.smilies) == 1
    boxes = phpbb._post_boxes(post)
    assert [n.text for n in boxes.notices] == ["Last edited by A"] and boxes.signature.text == "sig"
