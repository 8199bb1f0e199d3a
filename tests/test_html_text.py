"""html_text's walkers give exactly what the straightforward walk gives, on every element of every real
reference page and every fixture page, with and without skipped sub-trees.

``element_text`` and friends run on lxml's C-level tree walk (``iterwalk`` with ``skip_subtree``) and
clean whitespace with two regexes, for speed; the readable definition of their output is the explicit
stack walk below (the implementation they replaced). Any difference, on any element, is a bug.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from lxml import etree

from miata_spiders.engines.html_text import BLOCK_TAGS, element_text, image_urls, iter_own, link_urls
from tests.support.reference import reference_pages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed"})
_BLANK_LINES = re.compile(r"\n{3,}")
_SMILIE = re.compile(r"/smilies/|/smiles/|/emoji/|/smilie|clear\.gif|/images/statusicon/", re.I)
_ATTACHMENT = re.compile(r"attachment\.php|(?:^|[/?])attachments/", re.I)
BASE = "https://forum.example/threads/1/"


# --- the reference definitions -------------------------------------------------------------------

def _tag(node) -> str:
    return node.tag.lower() if isinstance(node.tag, str) else ""


def reference_iter_own(root, skip=frozenset()):
    if root in skip:
        return
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed([child for child in node if child not in skip]))


def reference_element_text(root, skip=frozenset()) -> str:
    parts: list[str] = []
    stack = [(root, True)]
    while stack:
        node, entering = stack.pop()
        tag = _tag(node)
        if entering:
            if node in skip or tag in _SKIP_TAGS or not tag:
                if node is not root and node.tail:
                    parts.append(node.tail)
                continue
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if node.text:
                parts.append(node.text)
            stack.append((node, False))
            stack.extend((child, True) for child in reversed(node))
        else:
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if node is not root and node.tail:
                parts.append(node.tail)
    lines = (" ".join(line.split()) for line in "".join(parts).replace("\xa0", " ").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def reference_image_urls(root, skip=frozenset()) -> list[str]:
    found: dict[str, None] = {}
    for img in reference_iter_own(root, skip):
        if _tag(img) != "img":
            continue
        src = next((img.get(a) for a in ("data-src", "data-original", "data-lazy-src", "data-url") if img.get(a)),
                   None) or img.get("src")
        if not src or src.startswith("data:") or _SMILIE.search(src):
            continue
        parent = img.getparent()
        if parent is not None and _tag(parent) == "a" and _ATTACHMENT.search(parent.get("href") or ""):
            src = parent.get("href")
        found.setdefault(urljoin(BASE, src.strip()))
    return list(found)


def reference_link_urls(root, skip=frozenset()) -> list[str]:
    found: dict[str, None] = {}
    for anchor in reference_iter_own(root, skip):
        if _tag(anchor) != "a":
            continue
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        if _ATTACHMENT.search(href) and any(True for _ in anchor.iter("img")):
            continue
        found.setdefault(urljoin(BASE, href))
    return list(found)


# --- the pages -----------------------------------------------------------------------------------

def _pages() -> list[Path]:
    return reference_pages() + sorted(FIXTURES.rglob("*.html"))


def _skips(element) -> list[frozenset]:
    """Nothing skipped, and the element's quote-like sub-trees skipped (blockquotes, quote divs, and
    the nested ones inside them too, as engines pass them)."""
    quotes = [e for e in element.iterdescendants()
              if isinstance(e.tag, str) and (e.tag == "blockquote" or "quote" in (e.get("class") or ""))]
    return [frozenset(), frozenset(quotes)] if quotes else [frozenset()]


@pytest.mark.parametrize("path", _pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_every_element_reads_as_the_reference_walk_reads_it(path):
    root = etree.HTML(path.read_bytes())
    checked = 0
    for element in root.iter("div", "blockquote", "td", "li", "article", "dd"):
        if sum(1 for _ in element.iter()) > 400:
            continue  # a page wrapper, not a post or a part of one: its posts are checked one by one
        for skip in _skips(element):
            assert element_text(element, skip) == reference_element_text(element, skip), (path, element.get("id"))
            assert list(iter_own(element, skip)) == list(reference_iter_own(element, skip))
            assert image_urls(element, BASE, skip) == reference_image_urls(element, skip)
            assert link_urls(element, BASE, skip) == reference_link_urls(element, skip)
            checked += 1
    assert checked > 10


def test_comments_scripts_and_skipped_subtrees_keep_their_tails():
    # libxml2 closes the <p> at the <blockquote>: "after quote" is the quote's tail, in the div.
    root = etree.HTML("<div id='m'>a<p>b<!--c-->d<script>x</script>e<i>f</i>g<blockquote>q</blockquote>"
                      "after\xa0 quote</p>h<br>i<?pi x?>j<style>s</style></div>")
    body = root.find(".//div")
    quote = root.find(".//blockquote")
    assert element_text(body, frozenset({quote})) == "a\nbdefg\nafter quoteh\n\nij"
    assert element_text(body, frozenset({quote})) == reference_element_text(body, frozenset({quote}))
    assert element_text(quote) == "q"
    assert element_text(body, frozenset({body})) == ""
    assert list(iter_own(body, frozenset({quote}))) == list(reference_iter_own(body, frozenset({quote})))


def test_an_attachment_thumbnail_yields_the_attachment_with_friendly_urls_off_too():
    """XenForo without friendly URLs links attachments as index.php?attachments/..., not /attachments/."""
    body = etree.HTML(
        '<div><a href="index.php?attachments/hardtop-jpg.5512/" target="_blank">'
        '<img src="data/attachments/5/5512-0f3e.jpg" alt="hardtop.jpg"></a></div>').find(".//div")
    assert image_urls(body, "https://forum.example/") == ["https://forum.example/index.php?attachments/hardtop-jpg.5512/"]
    assert link_urls(body, "https://forum.example/") == []
    relative = etree.HTML('<div><a href="attachments/hardtop-jpg.5512/"><img src="data/attachments/5/5512.jpg"></a></div>')
    assert image_urls(relative.find(".//div"), "https://forum.example/") == ["https://forum.example/attachments/hardtop-jpg.5512/"]


@pytest.mark.parametrize("path", _pages(), ids=lambda p: "/".join(p.parts[-2:]))
def test_text_of_is_the_collapsed_itertext_of_every_element(path):
    from miata_spiders.engines.base import text_of

    root = etree.HTML(path.read_bytes())
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for element in elements:
        assert text_of(element) == " ".join("".join(element.itertext()).replace("\xa0", " ").split()), element.tag
    assert len(elements) > 20
