"""Clean text, images and links out of a post body (an lxml element), skipping chosen sub-trees
(quotes, signatures) so a post's own words are kept apart from what it quotes."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml import etree

BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr label legend li ol p pre section table tbody td tfoot th thead tr ul".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "object", "embed"})
# vBulletin and XenForo serve smilies from these paths; they are decoration, not content.
_SMILIE = re.compile(r"/smilies/|/smiles/|/emoji/|/smilie|clear\.gif|/images/statusicon/", re.I)
_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-url")
_ATTACHMENT = re.compile(r"attachment\.php|/attachments/", re.I)


def _tag(node) -> str:
    return node.tag.lower() if isinstance(node.tag, str) else ""


def element_text(root, skip=frozenset()) -> str:
    """Readable text of ``root``: block elements and <br> become line breaks, runs of spaces collapse,
    images contribute nothing, links contribute their anchor text."""
    parts: list[str] = []

    def walk(node):
        tag = _tag(node)
        if node in skip or tag in _SKIP_TAGS or not tag:
            return
        block = tag in BLOCK_TAGS
        if block:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).replace("\xa0", " ").split("\n"))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _inside(node, skip) -> bool:
    return any(ancestor in skip for ancestor in node.iterancestors()) or node in skip


def image_urls(root, base_url: str, skip=frozenset()) -> list[str]:
    """Absolute URLs of content images: lazy ``data-src`` beats a placeholder ``src``; an image wrapped
    in an attachment link yields the full-size attachment; smilies are left out."""
    found: list[str] = []
    for img in root.iter("img"):
        if _inside(img, skip):
            continue
        src = next((img.get(a) for a in _LAZY_ATTRS if img.get(a)), None) or img.get("src")
        if not src or src.startswith("data:") or _SMILIE.search(src):
            continue
        parent = img.getparent()
        if parent is not None and _tag(parent) == "a" and _ATTACHMENT.search(parent.get("href") or ""):
            src = parent.get("href")
        url = urljoin(base_url, src.strip())
        if url not in found:
            found.append(url)
    return found


def link_urls(root, base_url: str, skip=frozenset()) -> list[str]:
    """Absolute hrefs of the links a post makes, minus those that merely wrap an attachment image."""
    found: list[str] = []
    for anchor in root.iter("a"):
        if _inside(anchor, skip):
            continue
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        if _ATTACHMENT.search(href) and any(True for _ in anchor.iter("img")):
            continue
        url = urljoin(base_url, href)
        if url not in found:
            found.append(url)
    return found


def outer_html(node) -> str:
    return etree.tostring(node, encoding="unicode", method="html", with_tail=False)
