"""vBulletin's per-post walk finds exactly what the XPath queries it replaces find.

``vbulletin`` walks each post once (lxml's iterator) and answers its per-post queries (post counter,
permalink, date holders, edit notes, signatures, attachment boxes) from that walk in Python, instead of
one XPath walk of the post per query; the queries stay in the module as the definition of each answer,
and this test holds the two together on every post of every vBulletin page we have.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from miata_spiders.engines import vbulletin
from miata_spiders.engines.base import descendants_by_tag, in_document_order
from tests.support.reference import reference_pages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _vbulletin_pages() -> list[Path]:
    pages = (reference_pages("*bulletin*/*.html") + sorted(FIXTURES.rglob("*.html")))
    return [p for p in pages if b"post_message_" in p.read_bytes()]


@pytest.mark.parametrize("path", _vbulletin_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_post_walk_matches_its_queries(path):
    root = etree.HTML(path.read_bytes())
    posts = vbulletin._POSTS(root)
    assert posts, "a vBulletin thread page has post containers"
    for node in posts:
        parts = vbulletin._PostParts(node)
        assert parts.postcounters() == vbulletin._POSTCOUNTER(node)
        assert parts.permalinks() == vbulletin._PERMALINK(node)
        assert parts.status_date_holders() == vbulletin._STATUS_DATE_HOLDER(node)
        assert parts.date_spans() == vbulletin._DATE_SPANS(node)
        assert parts.signatures() == vbulletin._SIGNATURES(node)
        post_id = vbulletin._POST_ID.match(node.get("id")).group(1)
        for scope in [node] + node.xpath(f".//*[@id='td_post_{post_id}']"):
            assert parts.edit_notes(scope) == vbulletin._EDIT_NOTES(scope)
            assert parts.attachment_boxes(scope) == vbulletin._ATTACHMENT_BOXES(scope)


def test_the_walk_keeps_document_order_across_kinds_and_scopes():
    post = etree.HTML(
        "<div id='post1'><div class='signature'>outer<div>"
        "<!-- sig --><p>after the comment</p></div></div>"
        "<div id='td_post_1'><em>Last edited by A; today.</em>"
        "<div class='editnote'>note</div><fieldset><legend>Files</legend></fieldset></div>"
        "<em>outside the scope</em><div class='attachments'>a</div></div>"
    ).find(".//div[@id='post1']")
    parts = vbulletin._PostParts(post)
    assert [el.tag for el in parts.signatures()] == ["div", "p"]
    scope = post.find(".//div[@id='td_post_1']")
    assert [el.text for el in parts.edit_notes(scope)] == ["Last edited by A; today.", "note"]
    assert [el.text for el in parts.edit_notes(post)] == ["Last edited by A; today.", "note", "outside the scope"]
    assert [el.tag for el in parts.attachment_boxes(scope)] == ["fieldset"]
    assert [el.tag for el in parts.attachment_boxes(post)] == ["fieldset", "div"]
    assert set(descendants_by_tag(post)) >= {"div", "em", "p", etree.Comment}
    assert in_document_order(list(reversed(post.findall(".//em")))) == post.findall(".//em")
