"""A page is parsed into one tree, ours: detection, the engine and the records all walk the same plain
lxml.etree tree. Asking Scrapy for ``response.selector`` first (``hasattr(response, "selector")`` does)
would build lxml.html's tree of proxies as well, which every engine then walks several times slower."""

from pathlib import Path

from lxml import etree, html
from scrapy.http import HtmlResponse, TextResponse

from miata_spiders.engines.base import as_selector
from miata_spiders.engines.detect import detect

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
THREAD = FIXTURES / "miataturbo" / "thread-97412-page1.html"
THREAD_URL = "https://www.miataturbo.net/showthread.php?t=97412"


def _is_our_tree(response) -> bool:
    root = response._cached_selector.root
    return type(root) is etree._Element and not isinstance(root, html.HtmlElement)


def test_detection_parses_the_page_into_our_tree_once():
    response = HtmlResponse(url=THREAD_URL, body=THREAD.read_bytes())
    assert detect(response).engine == "ib-vbulletin"
    assert _is_our_tree(response)
    first_tree = response._cached_selector.root
    assert as_selector(response).root is first_tree  # the engine gets the same tree, not a second parse
    assert response.selector.root is first_tree  # and so does anything asking Scrapy for it


def test_a_text_response_is_parsed_as_html_into_our_tree():
    # A server that calls its pages text/plain still gets the HTML treatment, in one tree.
    response = TextResponse(url=THREAD_URL, body=THREAD.read_bytes(), encoding="utf-8")
    assert as_selector(response).root is response.selector.root
    assert _is_our_tree(response)
