"""phpBB's shortcuts return exactly what the general routes they stand in for return.

For speed, ``phpbb`` reads the small elements of a post without XPath or itertext and resolves its
own post links without urljoin; each shortcut is held here to the query or function it replaces, on
every post of every phpBB page we have and on hand-made edge cases.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from lxml import etree

from miata_spiders.dates import DateResolver
from miata_spiders.engines import phpbb
from miata_spiders.engines.base import text_of
from tests.support.reference import reference_pages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _phpbb_pages() -> list[Path]:
    pages = reference_pages("phpbb3/*.html") + sorted(FIXTURES.rglob("*.html"))
    return [p for p in pages if b"viewtopic.php" in p.read_bytes() or b'id="phpbb"' in p.read_bytes()]


def _first(values):
    return values[0] if values else None


@pytest.mark.parametrize("path", _phpbb_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_author_line_walks_match_their_queries(path):
    root = etree.HTML(path.read_bytes())
    for node in phpbb._PROSILVER_POSTS(root):
        scopes = [node, *phpbb._PROFILE_NAME(node)]
        line = phpbb._post_layout(node)[0]
        if line is not None:
            scopes.append(line)
        for scope in scopes:
            assert phpbb._member_link(scope) is _first(phpbb._LINE_MEMBER(scope))
            assert phpbb._line_time(scope) is _first(phpbb._LINE_TIME(scope))
            assert phpbb._post_link(scope) == _first(phpbb._LINE_POST_LINK(scope))


def test_member_link_needs_text_other_than_xml_whitespace():
    line = etree.HTML(
        "<p class='author'><a href='./memberlist.php?mode=viewprofile&u=1'> <!--x-->\t</a>"
        "<a href='./memberlist.php?mode=viewprofile&u=2'>\xa0</a>"
        "<a href='./memberlist.php?mode=viewprofile&u=3'>C</a><time>no attribute</time><time datetime=''>x</time></p>"
    ).find(".//p")
    assert phpbb._member_link(line) is _first(phpbb._LINE_MEMBER(line))
    assert phpbb._member_link(line).get("href").endswith("u=2")  # \xa0 is no XML whitespace
    assert phpbb._line_time(line) is _first(phpbb._LINE_TIME(line)) is not None


@pytest.mark.parametrize("path", _phpbb_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_text_matches_text_of_on_every_element(path):
    root = etree.HTML(path.read_bytes())
    for element in root.iter():
        if isinstance(element.tag, str):
            assert phpbb._text(element) == text_of(element)
    assert phpbb._text(None) == text_of(None) == ""


URLS = [
    "./memberlist.php?mode=viewprofile&u=43701", "./memberlist.php?mode=viewprofile&amp;u=5", "x.php?u=",
    "x.php?u=12&u=13", "x.php?u=a&u=7", "x.php?u=%37", "x.php?u=1+2", "x.php?%75=9", "x.php?u", "x.php?&&u=3&",
    "x.php?u=\u0663", "x.php?u==4", "x.php#u=5", "x.php?a=1;u=6", "", None, "x.php?u=08&sid=abc",
]


@pytest.mark.parametrize("url", URLS)
def test_query_value_matches_parse_qsl(url):
    expected = None
    if url:
        expected = next((v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
                         if k == "u" and v.isdigit()), None)
    assert phpbb._query_value(url, "u") == expected


BASES = [
    "https://www.ilovephilosophy.com/viewtopic.php?t=194998&start=25",
    "https://example.org/forum/viewtopic.php?f=2&t=3",
    "https://example.org/a/b/../forum/viewtopic.php",
    "https://example.org",
    "http://127.0.0.1:8080/phpBB3/viewtopic.php?t=1&sid=0123abcd",
    "https://example.org/forum//deep/./x;params?q=1#frag",
    "relative/path/viewtopic.php",
    "",
]
HREFS = [
    "./viewtopic.php?p=2729871#p2729871", "./viewtopic.php?p=1", "./viewtopic.php?f=4&p=17#p17",
    "./viewtopic.php?p=17&sid=0123456789abcdef0123456789abcdef#p17", "./viewtopic.php?p=007",
    "./viewtopic.php?p=17#p1\t7", "./viewtopic.php?p=1\n7", "./viewtopic.php?p=17&start=0",
    "./viewtopic.php?p=17&sid=XYZ", "./viewtopic.php?t=5&p=17", "viewtopic.php?p=17",
    "../viewtopic.php?p=17", "/viewtopic.php?p=17", "https://other.example/viewtopic.php?p=17",
    "./viewtopic.php?p=", "./viewtopic.php?p=17#", "./viewtopic.php?p=\u0661",
]


@pytest.mark.parametrize("base", BASES)
def test_post_url_matches_the_full_route(base):
    fields = phpbb.ProsilverFields(base, DateResolver(tz="UTC"), 0, [])
    for href in HREFS:
        assert fields.post_url(href) == phpbb.canonical_url(urljoin(base, href)), href
