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
# vBulletin's attachment.php, XenForo's /attachments/ (index.php?attachments/ with friendly URLs off,
# a relative attachments/x.N/ on XenForo 1)
_ATTACHMENT = re.compile(r"attachment\.php|(?:^|[/?])attachments/", re.I)
_BLANK_LINES = re.compile(r"\n{3,}")


def _tag(node) -> str:
    tag = node.tag
    return tag.lower() if isinstance(tag, str) else ""


# What element_text does with a tag: 0 inline, 1 block (a line break before and after), 2 left out.
_INLINE, _BLOCK, _LEFT_OUT = 0, 1, 2
_KINDS: dict[str, int] = {}


def _kind(tag: str) -> int:
    kind = _KINDS.get(tag)
    if kind is None:
        low = tag.lower()
        kind = _KINDS[tag] = _LEFT_OUT if low in _SKIP_TAGS else _BLOCK if low in BLOCK_TAGS else _INLINE
    return kind


def iter_own(root, skip=frozenset()):
    """Elements of ``root``'s subtree in document order, ``root`` included, without descending into
    any element of ``skip`` (nor yielding it). lxml walks the tree (``iterwalk``), iteratively: depth
    costs nothing."""
    if root in skip:
        return
    if not skip:
        yield from root.iter()
        return
    walker = etree.iterwalk(root, events=("start", "comment", "pi"))
    for _, node in walker:
        if node in skip:
            walker.skip_subtree()
            continue
        yield node


def outside(elements, root, skip: frozenset) -> list:
    """``elements`` (of ``root``'s subtree, in order) that lie in no sub-tree of ``skip``. lxml finds them
    by tag in C (``root.iter("img")``); each then walks up only until an element whose answer is already
    known, so a quote nested thousands deep costs linear time, not a Python walk of the whole post."""
    known = {} if root in skip else {root: True}  # element -> lies outside every skipped sub-tree
    kept = []
    for element in elements:
        path, parent, verdict = [], element, None
        while verdict is None:
            verdict = known.get(parent)
            if verdict is not None:
                break
            if parent in skip:
                verdict = False
                break
            path.append(parent)
            parent = parent.getparent()
            if parent is None:
                verdict = False
        for seen in path:
            known[seen] = verdict
        if verdict:
            kept.append(element)
    return kept


def element_text(root, skip=frozenset()) -> str:
    """Readable text of ``root``: block elements and <br> become line breaks, runs of spaces collapse,
    images contribute nothing, links contribute their anchor text; ``skip`` sub-trees (and scripts)
    contribute nothing, but their tails do."""
    tag = root.tag
    if not isinstance(tag, str) or root in skip or _kind(tag) == _LEFT_OUT:
        return ""
    parts: list[str] = []
    append = parts.append
    # lxml walks the tree in C; on "start" a node adds its text, on "end" it closes its block and adds
    # its tail (the text after it, which belongs to the parent). A left-out node's subtree is not
    # walked, but its tail still counts; so does a comment's.
    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    # Whether each open element closes with a line break (a block), kept on a stack so its tag is read
    # once; a left-out element closes like an inline one (no break, its tail kept).
    closes = []
    push, pop = closes.append, closes.pop
    kinds = _KINDS
    for event, node in walker:
        if event == "start":
            tag = node.tag
            kind = kinds.get(tag)
            if kind is None:
                kind = _kind(tag)
            if kind == _LEFT_OUT or (skip and node in skip):
                walker.skip_subtree()
                push(False)
                continue
            push(kind == _BLOCK)
            if kind:
                append("\n")
            text = node.text
            if text:
                append(text)
        elif event == "end":
            if pop():
                append("\n")
            if node is root:
                break
            tail = node.tail
            if tail:
                append(tail)
        else:  # a comment or processing instruction
            tail = node.tail
            if tail:
                append(tail)
    return clean_lines("".join(parts))


def clean_lines(text: str) -> str:
    """Each line's spaces collapsed and trimmed (\xa0 and every other Unicode space too), at most one
    blank line in a row, no blank edges."""
    return _BLANK_LINES.sub("\n\n", "\n".join([" ".join(line.split()) for line in text.split("\n")])).strip()


def image_urls(root, base_url: str, skip=frozenset()) -> list[str]:
    """Absolute URLs of content images: lazy ``data-src`` beats a placeholder ``src``; an image wrapped
    in an attachment link yields the full-size attachment; smilies are left out."""
    found: dict[str, None] = {}
    for img in (outside(root.iter("img"), root, skip) if skip else root.iter("img")):
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
    for anchor in (outside(root.iter("a"), root, skip) if skip else root.iter("a")):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        if _ATTACHMENT.search(href) and any(True for _ in anchor.iter("img")):
            continue
        found.setdefault(urljoin(base_url, href))
    return list(found)


def outer_html(node) -> str:
    return etree.tostring(node, encoding="unicode", method="html", with_tail=False)
