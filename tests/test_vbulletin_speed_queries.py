"""vBulletin's fast paths find exactly what the XPath queries they replace find.

For speed, ``vbulletin`` answers small per-post queries with lxml's tag iterators, looks up every
post's anchors (``post_message_{id}``, ``postmenu_{id}``, ...) in one ``id()`` call, and walks each post
once, leaving out its message and the posts nested inside it. The XPath queries stay in the module as
the definition of each answer; these tests hold the two together on every post of every vBulletin page
we have, and on markup made to trip them (duplicate ids, ``<a name>`` ids, odd whitespace in classes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from miata_spiders.engines import vbulletin
from miata_spiders.engines.base import first
from tests.support.reference import reference_pages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _vbulletin_pages() -> list[Path]:
    pages = reference_pages("*bulletin*/*.html") + sorted(FIXTURES.rglob("*.html"))
    return [p for p in pages if b"post_message_" in p.read_bytes()]


def _posts(path: Path):
    root = etree.HTML(path.read_bytes())
    posts = vbulletin._POSTS(root)
    assert posts, "a vBulletin thread page has post containers"
    return root, posts


def _fields(posts) -> vbulletin.VBulletinFields:
    return vbulletin.VBulletinFields("https://forum.example/", None, frozenset(posts))


@pytest.mark.parametrize("path", _vbulletin_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_small_queries_match_their_xpath(path):
    root, posts = _posts(path)
    fields = _fields(posts)
    for node in posts:
        menu = fields.by_id(node, "postmenu_")
        for scope in [node] + ([menu] if menu is not None else []):
            assert vbulletin._username_links(scope) == vbulletin._USERNAME_LINKS(scope)
            assert vbulletin._member_links(scope) == vbulletin._MEMBER_LINKS(scope)
        assert vbulletin._vb4_details(node) is first(vbulletin._VB4_DETAILS(node))
        for holder in vbulletin._STATUS_DATE_HOLDER(node):
            assert vbulletin._date_in_holder(holder) == vbulletin._DATE_IN_HOLDER(holder)
        for div in node.iter("div"):
            assert vbulletin._quote_container(div) is first(vbulletin._QUOTE_CONTAINER(div))
        for table in node.iter("table"):
            assert vbulletin._table_cell(table) is first(vbulletin._TABLE_CELL(table))


@pytest.mark.parametrize("path", _vbulletin_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_anchors_of_every_post_come_from_one_lookup_as_from_one_each(path):
    root, posts = _posts(path)
    fields = _fields(posts)
    for node in posts:
        pid = fields.pid(node)
        for prefix in vbulletin._ANCHOR_PREFIXES:
            element = first(vbulletin._BY_ID(root, id=prefix + pid))
            inside = element is not None and any(a is node for a in element.iterancestors())
            assert fields.by_id(node, prefix) is (element if inside else None)


@pytest.mark.parametrize("path", _vbulletin_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_the_walk_of_a_post_finds_what_its_queries_keep_as_the_posts_own(path):
    root, posts = _posts(path)
    fields = _fields(posts)
    for node in posts:
        parts = fields.parts(node)

        def own(elements):
            return [el for el in elements if fields.owned(el, node)]

        assert parts.postcounters() == own(vbulletin._POSTCOUNTER(node))
        assert parts.permalinks() == own(vbulletin._PERMALINK(node))
        assert parts.status_date_holders() == own(vbulletin._STATUS_DATE_HOLDER(node))
        assert parts.date_spans() == own(vbulletin._DATE_SPANS(node))
        assert parts.signatures() == own(vbulletin._SIGNATURES(node))
        scope = fields.by_id(node, "td_post_")
        for where in [node] + ([scope] if scope is not None else []):
            assert parts.edit_notes(where) == own(vbulletin._EDIT_NOTES(where))
            assert parts.attachment_boxes(where) == own(vbulletin._ATTACHMENT_BOXES(where))


def test_the_walk_leaves_out_the_message_and_nested_posts_but_keeps_a_signature_after_them():
    root = etree.HTML(
        "<div id='post1'><em>Last edited by A; today.</em>"
        "<div id='post_message_1'><em>quoted words</em><div class='signature'>in the message</div>"
        "<div id='post2'><em>Last edited by B; today.</em><div id='post_message_2'>two</div></div></div>"
        "<!-- sig --><div>own signature</div><!-- sig --><div id='post3'>nested</div>"
        "<div class='signature'>classed</div></div>")
    posts = vbulletin._POSTS(root)
    fields = vbulletin.VBulletinFields("https://forum.example/", None, frozenset(posts))
    parts = fields.parts(posts[0])
    assert [el.text for el in parts.edit_notes(posts[0])] == ["Last edited by A; today."]
    assert [el.text for el in parts.signatures()] == ["own signature", "classed"]


def test_ids_looked_up_together_answer_as_each_alone():
    root = etree.HTML(
        "<div><a name='postcount7'>7</a><p id='postcount7'>not the indexed one</p>"
        "<b id='postmenu_7'>first</b><b id='postmenu_7'>duplicate</b>"
        "<a id='post_message_7' name='td_post_7'>both</a><i id='td_post_7'>second</i></div>")
    keys = ["postcount7", "postmenu_7", "post_message_7", "td_post_7", "post_message_8"]
    alone = {key: first(vbulletin._BY_ID(root, id=key)) for key in keys}
    assert vbulletin._by_ids(root, keys) == alone
    assert alone["postcount7"].tag == "a" and alone["postmenu_7"].text == "first"
    assert alone["post_message_8"] is None


def test_class_tokens_split_on_xml_whitespace_only():
    root = etree.HTML("<div><div class='x\tbbcode_quote\n'><div class='quote_container\xa0'>no</div>"
                      "<div class='a\rquote_container'>yes</div></div></div>")
    outer = root.find(".//div")
    assert vbulletin._quote_container(outer) is first(vbulletin._QUOTE_CONTAINER(outer))
    assert vbulletin._quote_container(outer).text == "yes"


def test_schema_crumbs_are_the_list_items_among_all_typed_elements():
    html = ("<ul><li itemtype='http://schema.org/ListItem'>a</li><li itemtype='http://schema.org/Thing'>b</li>"
            "<span itemtype='http://data-vocabulary.org/Breadcrumb'>c</span>"
            "<li itemtype='https://schema.org/ListItem'>d</li></ul>")
    root = etree.HTML(html)
    typed = [el for el in root.xpath("//*[@itemtype]") if el.get("itemtype") in vbulletin._CRUMB_TYPES]
    assert vbulletin._SCHEMA_CRUMBS(root) == typed
    assert [el.text for el in typed] == ["a", "c", "d"]


@pytest.mark.parametrize("path", reference_pages("*bulletin*/*.html") + sorted(FIXTURES.rglob("*.html")),
                         ids=lambda p: "/".join(p.parts[-2:]))
def test_schema_crumb_parts_match_their_xpath(path):
    root = etree.HTML(path.read_bytes())
    for item in root.xpath("//*[@itemtype]"):
        assert vbulletin._schema_crumb_link(item) is first(vbulletin._SCHEMA_CRUMB_LINK(item))
        assert vbulletin._schema_crumb_name(item) is first(vbulletin._SCHEMA_CRUMB_NAME(item))


def test_schema_crumb_parts_skip_the_item_itself_and_comments():
    root = etree.HTML("<ul><li itemtype='http://schema.org/ListItem' itemprop='name'><!-- c -->"
                      "<a itemprop='url' href='/f'><span itemprop='title'>Forum</span></a></li></ul>")
    item = root.find(".//li")
    assert vbulletin._schema_crumb_link(item) is first(vbulletin._SCHEMA_CRUMB_LINK(item))
    assert vbulletin._schema_crumb_name(item) is first(vbulletin._SCHEMA_CRUMB_NAME(item))
    assert vbulletin._schema_crumb_name(item).text == "Forum"
