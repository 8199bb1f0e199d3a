"""Clean text, images and links out of a post body (an lxml element), skipping chosen sub-trees
(quotes, signatures) so a post's own words are kept apart from what it quotes.

Every walk here is iterative and visits each element once: a hostile post nested thousands of levels
deep costs time in proportion to its size, never a RecursionError or a quadratic ancestor scan.
"""

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
_BLANK_LINES = re.compile(r"\n{3,}")


def _tag(node) -> str:
    tag = node.tag
    return tag.lower() if isinstance(tag, str) else ""


def iter_own(root, skip=frozenset()):
    """Elements of ``root``'s subtree in document order, ``root`` included, without descending into
    any element of ``skip`` (nor yielding it). Iterative: depth costs nothing but the stack list."""
    if root in skip:
        return
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        children = [child for child in node if child not in skip]
        children.reverse()
        stack.extend(children)


def element_text(root, skip=frozenset()) -> str:
    """Readable text of ``root``: block elements and <br> become line breaks, runs of spaces collapse,
    images contribute nothing, links contribute their anchor text; ``skip`` sub-trees (and scripts)
    contribute nothing, but their tails do."""
    parts: list[str] = []
    # (node, entering?) pairs: on entering, a node adds its text and schedules its exit and children;
    # on exit it closes its block and adds its tail (the text after it, which belongs to the parent).
    stack: list[tuple[object, bool]] = [(root, True)]
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
            for child in reversed(node):
                stack.append((child, True))
        else:
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if node is not root and node.tail:
                parts.append(node.tail)
    lines = (" ".join(line.split()) for line in "".join(parts).replace("\xa0", " ").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def image_urls(root, base_url: str, skip=frozenset()) -> list[str]:
    """Absolute URLs of content images: lazy ``data-src`` beats a placeholder ``src``; an image wrapped
    in an attachment link yields the full-size attachment; smilies are left out."""
    found: dict[str, None] = {}
    for img in iter_own(root, skip):
        if _tag(img) != "img":
            continue
        src = next((img.get(a) for a in _LAZY_ATTRS if img.get(a)), None) or img.get("src")
        if not src or src.startswith("data:") or _SMILIE.search(src):
            continue
        parent = img.getparent()
        if parent is not None and _tag(parent) == "a" and _ATTACHMENT.search(parent.get("href") or ""):
            src = parent.get("href")
        found.setdefault(urljoin(base_url, src.strip()))
    return list(found)


def link_urls(root, base_url: str, skip=frozenset()) -> list[str]:
    """Absolute hrefs of the links a post makes, minus those that merely wrap an attachment image."""
    found: dict[str, None] = {}
    for anchor in iter_own(root, skip):
        if _tag(anchor) != "a":
            continue
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        if _ATTACHMENT.search(href) and any(True for _ in anchor.iter("img")):
            continue
        found.setdefault(urljoin(base_url, href))
    return list(found)


def outer_html(node) -> str:
    return etree.tostring(node, encoding="unicode", method="html", with_tail=False)
