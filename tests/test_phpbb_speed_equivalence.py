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


@pytest.mark.parametrize("path", _phpbb_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_post_containers_match_their_query(path):
    root = etree.HTML(path.read_bytes())
    assert phpbb._prosilver_posts(root) == phpbb._PROSILVER_POSTS(root)


def test_post_container_ids_are_p_and_ascii_digits_only():
    root = etree.HTML(
        "<div id='p1' class='post bg1'></div><div id='p' class='post'></div><div id='p1a' class='post'></div>"
        "<div id='p\u0661' class='post'></div><div id='pp2' class='post'></div><div id='p3' class='posts'></div>"
        "<div id='p4' class='x\tpost'></div><div id='P5' class='post'></div><div id=' p6' class='post'></div>"
    )
    assert [d.get("id") for d in phpbb._prosilver_posts(root)] == [d.get("id") for d in phpbb._PROSILVER_POSTS(root)]
    assert [d.get("id") for d in phpbb._prosilver_posts(root)] == ["p1", "p4"]


QUOTES = [
    "<blockquote><div><cite>A wrote:</cite>text</div></blockquote>",
    "<blockquote><cite>B wrote:</cite><div>text</div></blockquote>",
    "<blockquote><div>x<blockquote><div><cite>inner</cite></div></blockquote></div><cite>late</cite></blockquote>",
    "<blockquote><p><cite>deeper</cite></p><div><cite>in div</cite></div></blockquote>",
    "<blockquote class='uncited'><div>only text</div></blockquote>",
    "<blockquote><!--c--><div><!--c--><cite>after comments</cite></div></blockquote>",
]


@pytest.mark.parametrize("markup", QUOTES)
def test_quote_walks_match_their_queries(markup):
    block = etree.HTML(markup).find(".//blockquote")
    assert phpbb._quote_cite(block) is _first(phpbb._CITE(block))
    assert next((child for child in block if child.tag == "div"), None) is _first(phpbb._QUOTE_BODY(block))


@pytest.mark.parametrize("path", _phpbb_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_quote_walks_match_their_queries_on_real_posts(path):
    for block in etree.HTML(path.read_bytes()).iter("blockquote"):
        assert phpbb._quote_cite(block) is _first(phpbb._CITE(block))


def _labels():
    names = ["A", "promethean75", "Some Long User Name", "x" * 300, "a:b", "Jürgen Ä", "日本語", "", "-", "name  with   gaps"]
    words = list(phpbb._WROTE_WORDS) + ["WROTE", "Hat Geschrieben", "said", "dit", "a", "(a)", ""]
    for name in names:
        for word in words:
            for colon in (":", " :", ": ", " : ", "", " :\n", "::"):
                yield f"{name} {word}{colon}"
                yield f"  {name}\t{word}{colon}"
                yield f"{name}{word}{colon}"


def test_without_wrote_matches_the_regex_everywhere():
    for label in _labels():
        assert phpbb._without_wrote(label) == phpbb._WROTE.sub("", " ".join(label.split())), label


def test_without_wrote_reads_each_language_pack():
    assert phpbb._without_wrote("Some Long User Name hat geschrieben:") == "Some Long User Name"
    assert phpbb._without_wrote("Jürgen a écrit :") == "Jürgen"
    assert phpbb._without_wrote("Иван писал(а):") == "Иван"
    assert phpbb._without_wrote("Ana disse:") == "Ana"  # an unknown language: the last word goes


@pytest.mark.parametrize("path", _phpbb_pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_title_queries_from_the_h2_find_what_the_div_paths_find(path):
    root = etree.HTML(path.read_bytes())
    for div_id, query in (("page-body", phpbb._THREAD_TITLES[1]), ("pageheader", phpbb._THREAD_TITLES[2])):
        assert query(root) == root.xpath(f"/descendant::div[@id='{div_id}']/h2")


def _skip_cases():
    markup = (
        "<div class='content'>a <a href='/1'>one</a><blockquote><div><cite>X wrote:</cite><a href='/2'>two</a>"
        "<img src='/q.png'></div></blockquote><div class='inline-attachment'><a href='/f'><img src='/t.png'></a></div>"
        "<img class='smilies' src='/s.gif'><div class='codebox'><p>Code:</p><code>x</code></div><img src='/i.png'></div>"
    )
    body = etree.HTML(markup).find(".//div")
    parts = phpbb._body_parts(body)
    yield body, frozenset(parts.quotes) | parts.labels | parts.smilies
    yield body, frozenset(parts.labels)
    yield body, frozenset([body])
    for path in _phpbb_pages():
        for node in phpbb._PROSILVER_POSTS(etree.HTML(path.read_bytes())):
            content = phpbb._post_layout(node)[1]
            if content is not None:
                parts = phpbb._body_parts(content)
                yield content, frozenset(parts.quotes) | parts.labels | parts.smilies


def test_a_skip_narrowed_to_what_holds_the_tag_finds_the_same_links_and_images():
    from miata_spiders.engines.html_text import image_urls, link_urls

    base = "https://example.org/forum/viewtopic.php?t=1"
    for body, skip in _skip_cases():
        assert link_urls(body, base, phpbb._holding(skip, "a")) == link_urls(body, base, skip)
        assert image_urls(body, base, phpbb._holding(skip, "img")) == image_urls(body, base, skip)
    body, skip = next(_skip_cases())
    assert phpbb._holding(skip, "a") < skip  # the code caption holds no link: it is dropped
