"""The engine interface every forum-software parser implements, and the helpers they share.

An engine is a ``ForumEngine`` subclass: URL facts (canonical form, ids from URLs), page kinds, and two
page parsers. Thread pages are read post by post by a ``PostFields`` object, one small method per field
(id, author, author id, date, position, URL, body, quotes, edit, signature), in the spirit of web-poet
page objects: a forum skin that prints one field differently overrides that method, not the parser.

Everything here is pure: a parsel ``Selector`` (or a Scrapy response) and its URL in, records out.
Per-post work runs on plain lxml elements with precompiled XPath, never whole-document ``//`` queries
from inside a post, and no walk recurses over the tree.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import ClassVar, Iterable
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from lxml import etree
from parsel import Selector
from scrapy.http import TextResponse, XmlResponse
from scrapy.selector import Selector as ScrapySelector
from scrapy.utils.response import get_base_url

from miata_spiders.dates import DateResolver
from miata_spiders.engines.html_text import element_text, image_urls, iter_own, link_urls, outer_html
from miata_spiders.engines.records import ForumLink, ListingPage, ParsedPost, ThreadLink, ThreadPage

logger = logging.getLogger(__name__)

_COUNT = re.compile(r"(\d[\d,.\s]*)\s*([KkMm])?\b")
_ISO = re.compile(r"^\s*(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?\s*(Z|[+-]\d\d:?\d\d)?\s*$")


# --- selectors and elements ----------------------------------------------------------------------

def as_selector(page) -> Selector:
    """A parsel Selector for a Scrapy response or a Selector.

    A text response (what Scrapy would parse as HTML) is parsed once, by :func:`html_selector`, and the
    selector is kept as the response's own (``response.selector``, ``response.xpath`` and ``response.css``
    then use the same tree, so nothing parses the page twice). Callers test ``isinstance(page,
    TextResponse)``, never ``hasattr(page, "selector")``: that property builds Scrapy's own lxml.html
    tree first, and the engines would then walk its slower element proxies."""
    if isinstance(page, TextResponse) and not isinstance(page, XmlResponse):  # what Scrapy parses as HTML
        if page._cached_selector is None:  # Scrapy's own cache slot of TextResponse.selector
            page._cached_selector = html_selector(page)
        return page._cached_selector
    return page.selector if hasattr(page, "selector") and not isinstance(page, Selector) else page


def page_root(page):
    """The lxml root element of a page: a Scrapy response, a parsel Selector, or an element."""
    return page if isinstance(page, etree._Element) else as_selector(page).root


def html_selector(response) -> Selector:
    """The page's selector over a plain ``lxml.etree`` tree.

    What Scrapy and parsel would build, from the same text (the response's decoding: its declared
    or sniffed encoding, see ``miata_spiders.encoding``), trimmed and re-encoded as parsel does, but
    with ``lxml.etree.HTMLParser`` instead of ``lxml.html``'s: the tree is the same, while every element
    lxml hands to Python skips lxml.html's per-element class lookup (an ``HtmlElement`` proxy costs about
    five times a plain one, and the engines touch every element of a post at least once)."""
    base_url = get_base_url(response)
    selector = ScrapySelector(root=html_root(response.text, base_url), type="html", base_url=base_url)
    selector.response = response
    return selector


def html_root(text: str, base_url: str | None = None):
    """The root element of an HTML document's text, parsed as parsel parses it (trimmed, NULs
    dropped, UTF-8 to libxml2, huge trees allowed) into a plain ``lxml.etree`` tree."""
    body = text.strip().replace("\x00", "").encode("utf8") or b"<html/>"
    parser = etree.HTMLParser(recover=True, encoding="utf8", huge_tree=True)
    root = etree.fromstring(body, parser=parser, base_url=base_url)
    if root is None:  # an empty or comment-only document
        root = etree.fromstring(b"<html/>", parser=parser, base_url=base_url)
    return root


def xpath(query: str) -> etree.XPath:
    """A compiled XPath 1.0 query (compiled once at import; lxml runs it in C)."""
    return etree.XPath(query)


def has_class(name: str) -> str:
    """XPath predicate: the element's class list contains exactly ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def id_is(prefix: str) -> str:
    """XPath predicate: ``@id`` is ``prefix`` followed by digits only."""
    return (f"(starts-with(@id, '{prefix}') and string-length(@id) > {len(prefix)}"
            f" and translate(substring(@id, {len(prefix) + 1}), '0123456789', '') = '')")


def classes(element) -> list[str]:
    return (element.get("class") or "").split()


def first(values):
    return values[0] if values else None


def text_of(node) -> str:
    """Whitespace-collapsed text of an lxml element or parsel selector ("" for None)."""
    if node is None:
        return ""
    if isinstance(node, Selector):
        node = node.root
    if isinstance(node, str):
        return " ".join(node.split())
    # libxml2 serialises the text (what itertext joins, comments left out) in one C call: a quarter of
    # itertext's cost on the small elements this reads (names, dates, crumbs), the same string.
    return " ".join(etree.tostring(node, method="text", encoding=str, with_tail=False).replace("\xa0", " ").split())


def joined(strings: Iterable[str]) -> str:
    return " ".join(" ".join(strings).replace("\xa0", " ").split())


def to_int(text: str | None) -> int | None:
    """A count as forums print it: "1,234", "1.234", "1 234", "12K", "1.2M"; None when there is none."""
    match = _COUNT.search(text or "")
    if not match:
        return None
    number, suffix = match.group(1).strip(), (match.group(2) or "").upper()
    if suffix:
        try:
            return round(float(number.replace(",", "").replace(" ", "")) * (1000 if suffix == "K" else 1_000_000))
        except ValueError:
            return None
    digits = re.sub(r"\D", "", number)
    return int(digits) if digits else None


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --- URLs ----------------------------------------------------------------------------------------

def clean_query(query: str, volatile: frozenset[str]) -> str:
    """The query without parameters that identify a visit (session ids, tokens). Pieces are kept as
    written: a key without a value (vBulletin 4's ``showthread.php?123-slug``, XenForo's
    ``index.php?threads/x.1/``) would become ``key=`` in a parse/re-encode round trip."""
    kept = []
    for piece in query.split("&"):
        # "&amp;s=" survives in hrefs that were escaped twice, and in URLs copied out of page source.
        while piece.lower().startswith("amp;"):
            piece = piece[4:]
        if piece and unquote(piece.split("=", 1)[0]).lower() not in volatile:
            kept.append(piece)
    return "&".join(kept)


def page_base_url(root, url: str) -> str:
    """What relative links on the page resolve against: ``<base href>``, else the page URL."""
    base = first(_BASE_HREF(root))
    return urljoin(url, base) if base else url


def canonical_base_url(root, url: str) -> str:
    """``<base href>``, else the page's own path on the host its canonical link names: a page fetched
    from a mirror or 127.0.0.1 then yields the forum's own URLs (and the same content hashes)."""
    base = first(_BASE_HREF(root))
    if base:
        return urljoin(url, base)
    canonical = urlsplit(urljoin(url, first(_CANONICAL_HREF(root)) or ""))
    page = urlsplit(url)
    if canonical.scheme in ("http", "https") and canonical.netloc:
        return urlunsplit((canonical.scheme, canonical.netloc, page.path, page.query, ""))
    return url


def canonical_link(root) -> str | None:
    return first(_CANONICAL_HREF(root))


def head_next_link(root) -> str | None:
    """The href of ``<link rel="next">`` in the page's head."""
    return first(_NEXT_LINK_HREF(root))


# libxml2's HTML parser only ever puts <head> directly under <html>: a direct path finds what "//head"
# finds without a walk of the whole document (three of them per page).
_BASE_HREF = xpath("/html/head/base/@href")
_CANONICAL_HREF = xpath("/html/head/link[@rel='canonical']/@href")
_NEXT_LINK_HREF = xpath("/html/head/link[@rel='next']/@href")


# --- dates ---------------------------------------------------------------------------------------

def iso_datetime(value: str | None) -> datetime | None:
    """An ISO 8601 instant ("2010-11-21T10:51:58+0000", "...Z", "+00:00"); None if not one or naive."""
    match = _ISO.match(value or "")
    if not match or not match.group(7):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        zone = match.group(7)
        try:
            parsed = datetime.strptime(value.strip()[: match.start(7)] + zone.replace(":", ""),
                                       "%Y-%m-%dT%H:%M:%S%z" if match.group(6) else "%Y-%m-%dT%H:%M%z")
        except ValueError:
            return None
    return parsed.astimezone(timezone.utc) if parsed.utcoffset() is not None else None


def unix_datetime(value: str | None) -> datetime | None:
    value = (value or "").strip()
    if not value.isdigit() or not 9 <= len(value) <= 11:  # seconds between 1973 and 5138
        return None
    return datetime.fromtimestamp(int(value), timezone.utc)


#: Attributes forums put machine-readable instants in, best first.
TIME_ATTRIBUTES = ("datetime", "data-time", "data-timestamp", "data-datestring", "title")


def machine_time(element) -> datetime | None:
    """The exact instant an element states in an attribute (``<time datetime>``, ``data-time``,
    ``data-timestamp`` unix seconds), or None: a date from markup beats the printed text."""
    if element is None:
        return None
    for attr in ("datetime", "data-time", "data-timestamp"):
        value = element.get(attr)
        if value:
            parsed = iso_datetime(value) or unix_datetime(value)
            if parsed is not None:
                return parsed
    return None


def element_time(element, dates: DateResolver) -> tuple[datetime | None, str | None]:
    """(UTC instant, printed text) of a date element: the machine-readable attribute first, then a
    ``title`` (XenForo 1 prints full dates there), then the visible text."""
    if element is None:
        return None, None
    printed = element.get("title") or text_of(element) or None
    exact = machine_time(element)
    if exact is not None:
        return exact, printed
    return dates.parse(element.get("title")) or dates.parse(text_of(element)), printed


# --- post fields ---------------------------------------------------------------------------------

class PostFields:
    """Reads one post from its own container element: one method per field.

    Each method receives the post's container (an lxml element) and looks only inside it, so no value
    can come from a neighbouring post. ``read`` assembles a ``ParsedPost``; engines subclass this and
    override the fields their software prints its own way, and a skin subclasses an engine's fields
    to change one of them.
    """

    def __init__(self, base_url: str, dates: DateResolver):
        self.base_url = base_url
        self.dates = dates

    # one method per field ------------------------------------------------------------------------
    def post_id(self, node) -> str | None:
        raise NotImplementedError

    def author(self, node) -> tuple[str | None, str | None]:
        """(display name, member id)."""
        raise NotImplementedError

    def posted_at(self, node) -> tuple[datetime | None, str | None]:
        """(UTC instant, printed text)."""
        raise NotImplementedError

    def position(self, node) -> int | None:
        return None

    def url(self, node) -> str | None:
        return None

    def body(self, node):
        """The message element (lxml) or None when the post has no body (deleted, moderated)."""
        raise NotImplementedError

    def is_deleted(self, node, body) -> bool:
        return body is None

    def quote_blocks(self, body) -> list:
        """Outer elements of every quote in the body, nested ones included, in document order."""
        return []

    def quote(self, block, nested: list) -> dict:
        """{"author", "post_id", "text"} of one quote block; ``nested`` are the quotes directly inside it."""
        return {"author": None, "post_id": None, "text": element_text(block, frozenset(nested))}

    def text_skip(self, body, blocks: list) -> frozenset:
        """Sub-trees of the body that are not the poster's own words (quotes, by default)."""
        return frozenset(blocks)

    def images(self, node, body, skip) -> list[str]:
        return image_urls(body, self.base_url, skip)

    def links(self, node, body, skip) -> list[str]:
        return link_urls(body, self.base_url, skip)

    def edit(self, node, author: str | None) -> tuple[str | None, datetime | None]:
        """(edited by, edited at) from the post's own edit note."""
        return None, None

    def signature(self, node) -> str | None:
        return None

    def clean_url(self, url: str) -> str:
        """A URL printed in a post as it is stored (engines drop session ids here)."""
        return url

    # assembly ----------------------------------------------------------------------------------
    def read(self, node) -> ParsedPost | None:
        post_id = self.post_id(node)
        if not post_id:
            return None
        author, author_id = self.author(node)
        posted_at, printed = self.posted_at(node)
        url = self.url(node)
        common = dict(post_id=post_id, position=self.position(node), author=author, author_id=author_id,
                      posted_at=posted_at, posted_at_text=printed, url=self.clean_url(url) if url else None)
        body = self.body(node)
        if body is None:
            deleted = self.is_deleted(node, None)
            if not deleted:
                return None  # not a post after all (a placeholder, an ad slot)
            return ParsedPost(**common, body_text=None, body_html=None, is_deleted=True)
        blocks = self.quote_blocks(body)
        children = quote_children(body, blocks)
        skip = self.text_skip(body, blocks)
        edited_by, edited_at = self.edit(node, author)
        return ParsedPost(
            **common,
            body_text=element_text(body, skip),
            body_html=outer_html(body).strip(),
            edited_at=edited_at,
            edited_by=edited_by,
            is_deleted=self.is_deleted(node, body),
            quotes=[self.quote(block, children[block]) for block in blocks],
            images=unique(self.clean_url(u) for u in self.images(node, body, frozenset(blocks))),
            links=unique(self.clean_url(u) for u in self.links(node, body, frozenset(blocks))),
            signature=self.signature(node),
        )


def quote_children(body, blocks: list) -> dict:
    """For each quote block, the quote blocks directly inside it, found in one pass: each block walks
    up only to the nearest enclosing block, so a quote nested thousands deep costs linear time."""
    children = {block: [] for block in blocks}
    for block in blocks:
        parent = block.getparent()
        while parent is not None and parent is not body:
            if parent in children:
                children[parent].append(block)
                break
            parent = parent.getparent()
    return children


def descendants_by_tag(node) -> dict:
    """``node``'s descendants (not ``node`` itself) grouped by tag, each group in document order, comments
    under ``etree.Comment``: one walk of a post (lxml's iterator, in C) from which a reader answers its
    ``.//tag[...]`` queries in Python instead of one XPath walk of the post per query."""
    found: dict = {}
    elements = node.iter()
    next(elements)
    for element in elements:
        group = found.get(element.tag)
        if group is None:
            found[element.tag] = [element]
        else:
            group.append(element)
    return found


def in_document_order(elements: list) -> list:
    """``elements`` (of one tree, no repeats) in document order, as an XPath union returns them."""
    return sorted(elements, key=document_position) if len(elements) > 1 else elements


def document_position(element) -> list[int]:
    """A sort key that puts elements of one tree in document order (an XPath union's order): the
    child index of each ancestor on the way down from the root."""
    path = []
    parent = element.getparent()
    while parent is not None:
        path.append(parent.index(element))
        element, parent = parent, parent.getparent()
    return path[::-1]


def first_own(root, predicate, skip=frozenset()):
    """The first element of ``root``'s own subtree (not inside ``skip``) that satisfies ``predicate``."""
    for element in iter_own(root, skip):
        if predicate(element):
            return element
    return None


# --- the engine ----------------------------------------------------------------------------------

class ForumEngine:
    """One forum software. Subclasses set the class attributes and implement the abstract methods;
    a module-level instance is what ``miata_spiders.engines.get_engine`` returns."""

    #: engine name (a key of ``miata_spiders.engines.ENGINES``)
    name: ClassVar[str] = ""
    #: query parameters that identify a visit, not a page (session ids, tokens)
    volatile_params: ClassVar[frozenset[str]] = frozenset()
    #: the post-reading fields; a skin passes its own subclass
    fields: ClassVar[type[PostFields]] = PostFields
    #: a regex over the raw page bytes that finds every post id the markup carries (group 1): a tree
    #: with fewer posts than this found was cut short by the HTML parser (see ``missing_posts``)
    post_id_markup: ClassVar[re.Pattern | None] = None

    # URLs ---------------------------------------------------------------------------------------
    def canonical_url(self, url: str) -> str:
        """The form of a URL we store and de-duplicate on: no fragment, no visit parameters."""
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, clean_query(parts.query, self.volatile_params), ""))

    def thread_id_from_url(self, url: str | None) -> str | None:
        raise NotImplementedError

    def forum_id_from_url(self, url: str | None) -> str | None:
        raise NotImplementedError

    def member_id_from_url(self, url: str | None) -> str | None:
        raise NotImplementedError

    # pages --------------------------------------------------------------------------------------
    def page_kind(self, page) -> str | None:
        """"thread", "listing" or None (a page this engine does not recognise)."""
        raise NotImplementedError

    def parse_thread_page(self, page, url: str, dates: DateResolver) -> ThreadPage:
        raise NotImplementedError

    def parse_listing_page(self, page, url: str, dates: DateResolver) -> ListingPage:
        raise NotImplementedError

    # shared assembly ------------------------------------------------------------------------------
    def read_posts(self, nodes, fields: PostFields, url: str) -> tuple[list[ParsedPost], int, int]:
        """(posts, dates not understood, posts that raised) for the post containers ``nodes``: one
        post that cannot be read is counted and logged, and costs none of its neighbours."""
        posts, undated, errors = [], 0, 0
        for node in nodes:
            try:
                post = fields.read(node)
            except Exception:  # noqa: BLE001 - any bug or hostile markup in one post
                errors += 1
                logger.warning("could not parse a post (%s) on %s", node.get("id") or node.get("data-content"), url,
                               exc_info=logger.isEnabledFor(logging.DEBUG))
                continue
            if post is None:
                continue
            if post.posted_at is None and not post.is_deleted:
                undated += 1
            posts.append(post)
        return posts, undated, errors

    def missing_posts(self, body: bytes, page: ThreadPage) -> int:
        """How many post ids the raw markup carries that the parsed page lacks: more than zero means the
        HTML parser stopped building the tree early (lxml does past ~2,000 levels of nesting), and the
        page must be treated as truncated, never as complete."""
        if self.post_id_markup is None:
            return 0
        in_markup = {m.group(1) for m in self.post_id_markup.finditer(body)}
        return len(in_markup - {p.post_id.encode() for p in page.posts})

    @staticmethod
    def listing(*, forum_id, title, forum_path, forums: Iterable[ForumLink], threads: Iterable[ThreadLink],
                next_page, page: int) -> ListingPage:
        """A listing page from the links found on it: forums once each (not the page's own forum),
        threads once each (a sticky repeated on the page counts once), the forum's own title at the end
        of its path, and no next page on a page without threads."""
        unique_forums: dict[str, ForumLink] = {}
        for forum in forums:
            if forum.forum_id != forum_id:
                unique_forums.setdefault(forum.forum_id, forum)
        unique_threads: dict[str, ThreadLink] = {}
        for thread in threads:
            unique_threads.setdefault(thread.thread_id, thread)
        path = list(forum_path) if forum_id else []
        if forum_id and title and (not path or path[-1] != title):
            path.append(title)
        return ListingPage(
            forum_id=forum_id,
            title=title if forum_id else None,
            forum_path=path,
            forums=list(unique_forums.values()),
            threads=list(unique_threads.values()),
            next_page=next_page if unique_threads else None,
            page=page,
        )


#: What an engine module offers as module functions (``vbulletin.parse_thread_page(...)``).
OPERATIONS = frozenset({"canonical_url", "thread_id_from_url", "forum_id_from_url", "member_id_from_url",
                        "page_kind", "parse_thread_page", "parse_listing_page"})


def module_operations(engine: ForumEngine):
    """A module ``__getattr__`` (PEP 562) that offers ``engine``'s operations as module functions, for
    callers that hold the module (tests, benchmarks): one line per engine module instead of a list."""

    def operation(name: str):
        if name in OPERATIONS:
            return getattr(engine, name)
        raise AttributeError(name)

    return operation

