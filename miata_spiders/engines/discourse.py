"""Discourse, read through its JSON API (and, for saved pages, its HTML crawler view).

Discourse pages are rendered by JavaScript; the server answers every page as JSON too, with exact ids
and timestamps. The crawl uses only the JSON (see ``miata_spiders.discourse_walk`` and
docs/engines/discourse.md); the HTML reading exists for pages saved from a browser or a crawler
(``miata parse``): the ``#data-preloaded`` store holds the same topic JSON, and the ``<noscript>``
crawler view is read when that store is missing or broken.

Everything here is pure: decoded JSON (or a parsel selector) and its URL in, records out.

JSON shapes read (defensively: the API has grown fields since 2013 and renamed a few):

- a topic, ``/t/<id>.json``: ``id``, ``title``, ``slug``, ``category_id``, ``posts_count``, ``chunk_size``,
  ``post_stream.posts`` (the first chunk) and ``post_stream.stream`` (every visible post id, in order);
- more posts, ``/t/<id>/posts.json?post_ids[]=…``: ``post_stream.posts`` (and the topic ``id``);
- a topic list, ``/c/<slug>/<id>.json``, ``/latest.json``: ``topic_list.topics`` and ``more_topics_url``;
- the categories, ``/categories.json?include_subcategories=true``: ``category_list.categories`` with
  their ``subcategory_list``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from miata_spiders.dates import DateResolver
from miata_spiders.engines.base import (ForumEngine, classes, html_root, iso_datetime, module_operations, page_root,
                                        text_of, unique, xpath)
from miata_spiders.engines.html_text import element_text, iter_own, outer_html
from miata_spiders.engines.records import ForumLink, ListingPage, ParsedPost, ThreadLink, ThreadPage

#: posts per ``posts.json`` request when the topic does not say (Discourse's own chunk size)
CHUNK_SIZE = 20
# Discourse's post types: 1 regular, 2 moderator action, 3 small action ("closed the topic"), 4 whisper.
_SMALL_ACTION = 3

_TOPIC_PATH = re.compile(r"^/t/(?:[^/]+/)?(\d+)(?:/\d+)?(?:\.json)?/?$|^/t/(\d+)/posts\.json$")
# /c/<slug path>/<id>, optionally /none (its own topics only) or /l/<filter>, as HTML or .json
_CATEGORY_PATH = re.compile(r"^/c/(?:.+?/)?(\d+)(?:/none)?(?:/l/[a-z_]+)?(?:\.json)?/?$")
_USER_PATH = re.compile(r"^/u/([^/?#]+)")
_CATEGORY_CRUMB = re.compile(r"/c/(?:.+/)?(\d+)/?$")


# --- JSON ---------------------------------------------------------------------------------------

def json_of(response) -> object | None:
    """The decoded JSON body of a response, or None when the body is not JSON (an HTML page).
    Decoded once per response (the spider and the engine both read it)."""
    cached = getattr(response, "_discourse_json", _MISSING)
    if cached is not _MISSING:
        return cached
    body = response.body if hasattr(response, "body") else response
    data = None
    if isinstance(body, (bytes, str)) and body.lstrip()[:1] in (b"{", b"[", "{", "["):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
    try:
        response._discourse_json = data
    except AttributeError:  # bytes, str
        pass
    return data


_MISSING = object()


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def topic_url(root: str, slug: str | None, topic_id) -> str:
    """The topic's address as Discourse links it: ``/t/<slug>/<id>``."""
    return f"{root}/t/{slug or 'topic'}/{topic_id}"


def topic_json_url(root: str, topic_id) -> str:
    return f"{root}/t/{topic_id}.json"


def posts_json_url(root: str, topic_id, post_ids) -> str:
    return f"{root}/t/{topic_id}/posts.json?" + "&".join(f"post_ids[]={i}" for i in post_ids)


def json_url(url: str) -> str:
    """The JSON form of a Discourse page URL (``/c/x/4?page=1`` -> ``/c/x/4.json?page=1``)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith(".json"):
        path += ".json"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def error_of(data) -> str | None:
    """The ``error_type`` of a Discourse error answer (``not_logged_in``, ``invalid_access``,
    ``not_found``), None for content."""
    if isinstance(data, dict) and "error_type" in data and "post_stream" not in data:
        return str(data.get("error_type") or "error")
    return None


def _topic_id_from_url(url: str | None) -> str | None:
    match = _TOPIC_PATH.match(urlsplit(url or "").path)
    return (match.group(1) or match.group(2)) if match else None


def instant(value) -> datetime | None:
    return iso_datetime(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class Category:
    category_id: str
    name: str
    slug: str
    parent_id: str | None
    path: tuple[str, ...]  # names from the top category down to this one
    url: str  # its topic list, JSON
    has_children: bool
    topic_count: int | None
    slug_path: str  # slugs from the top category down: /c/<slug path>/<id>
    child_ids: tuple[str, ...] = ()  # sub-categories the answer names (``subcategory_ids``)


def categories(data: dict, url: str) -> dict[str, Category]:
    """Every category of a ``/categories.json?include_subcategories=true`` answer, sub-categories
    (at any depth) included, by id; the ones the visitor may not read are not in the answer at all.
    A ``/site.json`` answer (every category in one flat list, each naming its parent) gives the same:
    Discourse versions whose categories answer names sub-categories only by id need it."""
    root = site_root(url)
    found: dict[str, Category] = {}
    flat = (data or {}).get("categories")
    if isinstance(flat, list) and "category_list" not in data:
        by_id = {str(c["id"]): c for c in flat if isinstance(c, dict) and c.get("id") is not None}
        for entry in by_id.values():
            entry.setdefault("subcategory_list", [c for c in by_id.values()
                                                  if str(c.get("parent_category_id")) == str(entry["id"])])
        data = {"category_list": {"categories": [c for c in by_id.values()
                                                 if str(c.get("parent_category_id")) not in by_id]}}

    def walk(entries, parent: Category | None):
        for entry in entries or ():
            if not isinstance(entry, dict) or entry.get("id") is None:
                continue
            cid, slug = str(entry["id"]), str(entry.get("slug") or entry["id"])
            slugs = f"{parent.slug_path}/{slug}" if parent else slug
            children = entry.get("subcategory_list") or []
            has_children = bool(children or entry.get("subcategory_ids"))
            # A parent's own list would repeat its sub-categories' topics: "/none" lists only its own.
            category = Category(
                category_id=cid, name=str(entry.get("name") or slug), slug=slug,
                parent_id=parent.category_id if parent else (str(entry["parent_category_id"])
                                                             if entry.get("parent_category_id") else None),
                path=(parent.path if parent else ()) + (str(entry.get("name") or slug),),
                url=f"{root}/c/{slugs}/{cid}{'/none' if has_children else ''}.json",
                has_children=has_children, topic_count=entry.get("topic_count"), slug_path=slugs,
                child_ids=tuple(str(i) for i in entry.get("subcategory_ids") or ()),
            )
            found.setdefault(cid, category)
            walk(children, category)

    walk(((data or {}).get("category_list") or {}).get("categories"), None)
    return found


def category_listing(data: dict, url: str) -> ListingPage:
    """The categories page as a listing: every category (sub-categories included) as a forum."""
    return ListingPage(forum_id=None, title=None, forum_path=[], threads=[], next_page=None, page=1,
                       forums=[ForumLink(c.category_id, c.name, c.url) for c in categories(data, url).values()])


def topic_link(topic: dict, root: str) -> ThreadLink:
    """A topic list row. ``reply_count`` is ``posts_count - 1`` and ``last_post_at`` the later of
    ``last_posted_at`` and ``bumped_at``: what changes when a topic gains, loses or bumps a post, so
    the crawl state can tell an unchanged topic without fetching it."""
    posts_count = topic.get("posts_count")
    moments = [m for m in (instant(topic.get("last_posted_at")), instant(topic.get("bumped_at"))) if m]
    return ThreadLink(
        thread_id=str(topic["id"]), title=str(topic.get("title") or ""),
        url=topic_url(root, topic.get("slug"), topic["id"]),
        author=None, reply_count=posts_count - 1 if isinstance(posts_count, int) else None,
        view_count=topic.get("views"), last_post_at=max(moments) if moments else None,
        sticky=bool(topic.get("pinned") or topic.get("pinned_globally")),
    )


def page_number(url: str) -> int:
    """1-based number of a topic list page (Discourse counts ``?page=`` from 0)."""
    match = re.search(r"[?&]page=(\d+)", url)
    return int(match.group(1)) + 1 if match else 1


def topic_listing(data: dict, url: str) -> ListingPage:
    """A topic list page (``/c/<slug>/<id>.json``, ``/latest.json``): its topics and the next page."""
    root = site_root(url)
    topic_list = (data or {}).get("topic_list") or {}
    threads = [topic_link(t, root) for t in topic_list.get("topics") or () if isinstance(t, dict) and "id" in t]
    more = topic_list.get("more_topics_url")
    match = _CATEGORY_PATH.match(urlsplit(url).path)
    return ForumEngine.listing(forum_id=match.group(1) if match else None, title=None, forum_path=[], forums=[],
                               threads=threads, next_page=json_url(urljoin(url, more)) if more else None,
                               page=page_number(url))


def stream_of(data: dict) -> list[int]:
    """Every visible post id of a topic, in reading order (its first answer only)."""
    stream = ((data or {}).get("post_stream") or {}).get("stream")
    return [i for i in stream if isinstance(i, int)] if isinstance(stream, list) else []


def topic_page(data: dict, url: str, known_numbers: dict | None = None) -> ThreadPage:
    """A topic's first answer (``/t/<id>.json``) or a later chunk (``posts.json``) as a thread page.
    ``known_numbers`` (post number -> post id, from earlier chunks of the same topic) resolve quotes
    of posts outside this answer. A topic's first answer is page 1; a later chunk has no page number
    (the crawler view's pages are not what was fetched)."""
    root = site_root(url)
    posts = [p for p in ((data.get("post_stream") or {}).get("posts") or ()) if isinstance(p, dict)]
    is_topic = "title" in data or "stream" in (data.get("post_stream") or {})
    topic_id = data.get("id")
    if topic_id is None:
        topic_id = next((p.get("topic_id") for p in posts if p.get("topic_id")), None)
    if topic_id is None:
        topic_id = _topic_id_from_url(url)
    slug = data.get("slug") or next((p.get("topic_slug") for p in posts if p.get("topic_slug")), None)
    numbers = {**(known_numbers or {}), **{p["post_number"]: p["id"] for p in posts if "post_number" in p and "id" in p}}
    reader = PostReader(root, str(topic_id) if topic_id is not None else None, slug, numbers)
    parsed, errors = [], 0
    for post in posts:
        try:
            record = reader.read(post)
        except Exception:  # noqa: BLE001 - one odd post costs only itself
            errors += 1
            continue
        if record is not None:
            parsed.append(record)
    category = data.get("category_id")
    address = topic_url(root, slug, topic_id) if topic_id is not None else None
    return ThreadPage(
        thread_id=str(topic_id) if topic_id is not None else None,
        title=data.get("title") if is_topic else None,
        forum_id=str(category) if category is not None else None, forum_path=[],
        page=1 if is_topic else None, page_count=None, posts=parsed, next_page=None,
        canonical_url=address, unparsed_dates=sum(1 for p in parsed if p.posted_at is None and not p.is_deleted),
        parse_errors=errors,
    )


# --- one post's cooked HTML ---------------------------------------------------------------------

_QUOTES = xpath(".//aside[contains(concat(' ', normalize-space(@class), ' '), ' quote ')]")
_ONEBOXES = xpath(".//aside[contains(concat(' ', normalize-space(@class), ' '), ' onebox ')]"
                  " | .//*[contains(concat(' ', normalize-space(@class), ' '), ' onebox-result ')]")
_QUOTE_BODY = xpath("./blockquote")
_DELETED_TEXT = re.compile(r"^\s*\(post (?:deleted|withdrawn) by (?:author|the author)", re.I)


def cooked_root(cooked: str):
    """The ``<div>`` holding a post's cooked HTML."""
    return html_root(f"<html><body><div class='cooked'>{cooked}</div></body></html>")[0][0]


class PostReader:
    """Reads one post object of a topic (JSON) into a ``ParsedPost``."""

    def __init__(self, root: str, topic_id: str | None, slug: str | None, numbers: dict):
        self.root, self.topic_id, self.slug, self.numbers = root, topic_id, slug, numbers

    def read(self, post: dict) -> ParsedPost | None:
        if post.get("id") is None or post.get("post_type") == _SMALL_ACTION and not post.get("cooked"):
            return None  # "closed the topic", "split this topic": an event, not a post
        cooked = post.get("cooked") or ""
        deleted = bool(post.get("deleted_at") or post.get("user_deleted") or _DELETED_TEXT.match(text_of(cooked)))
        version = post.get("version")
        number = post.get("post_number")
        reply_to = post.get("reply_to_post_number")
        common = dict(
            post_id=str(post["id"]), position=number if isinstance(number, int) else None,
            author=post.get("username") or None,
            author_id=str(post["user_id"]) if post.get("user_id") is not None else None,
            posted_at=instant(post.get("created_at")), posted_at_text=post.get("created_at"),
            # updated_at moves on a like or a rebake too: only a new version is an edit.
            edited_at=instant(post.get("updated_at")) if isinstance(version, int) and version > 1 else None,
            url=f"{topic_url(self.root, post.get('topic_slug') or self.slug, post.get('topic_id') or self.topic_id)}/{number}"
            if number is not None else None,
            parent_id=str(reply_to) if isinstance(reply_to, int) else None,
        )
        body = cooked_root(cooked)
        if deleted:
            return ParsedPost(**common, body_text=None, body_html=cooked or None, is_deleted=True)
        quotes = _QUOTES(body)
        oneboxes = frozenset(_ONEBOXES(body))
        skip = frozenset(quotes) | oneboxes | frozenset(_LIGHTBOX_META(body))
        return ParsedPost(
            **common, body_text=element_text(body, skip), body_html=cooked,
            quotes=[self.quote(q, quotes) for q in quotes],
            # a onebox's thumbnail is the linked site's picture, not the poster's; its URL stays a link
            images=self.images(body, frozenset(quotes) | oneboxes), links=self.links(body, frozenset(quotes)),
        )

    def quote(self, aside, all_quotes) -> dict:
        """Author and post id from the quote's ``data-username``/``data-post``/``data-topic``; its text
        without the quotes nested in it."""
        nested = frozenset(q for q in all_quotes if q is not aside and _inside(q, aside))
        body = _QUOTE_BODY(aside)
        text = element_text(body[0], nested) if body else ""
        post_id = None
        number, topic = aside.get("data-post"), aside.get("data-topic")
        if number and number.isdigit() and (topic is None or topic == self.topic_id):
            found = self.numbers.get(int(number))
            post_id = str(found) if found is not None else None
        return {"author": aside.get("data-username") or None, "post_id": post_id, "text": text}

    def images(self, body, skip) -> list[str]:
        """Content images: a lightbox's original rather than its optimised preview; never emoji,
        avatars (quote headers) nor onebox site icons."""
        found = []
        for node in iter_own(body, skip):
            if not isinstance(node.tag, str):
                continue
            if node.tag == "a" and "lightbox" in classes(node) and node.get("href"):
                found.append(urljoin(self.root + "/", node.get("href")))
            elif node.tag == "img":
                kinds = classes(node)
                if {"emoji", "avatar", "site-icon"} & set(kinds) or _in_lightbox(node) or not node.get("src"):
                    continue
                found.append(urljoin(self.root + "/", node.get("src")))
        return unique(found)

    def links(self, body, skip) -> list[str]:
        """Every link the post makes, oneboxes' URLs included; internal ``/t/`` links absolute.
        Links that only open an image (lightboxes) and mentions are left out."""
        found = []
        for node in iter_own(body, skip):
            if node.tag != "a":
                continue
            href = (node.get("href") or "").strip()
            kinds = classes(node)
            if not href or href.startswith(("#", "javascript:", "mailto:")) or "lightbox" in kinds or "mention" in kinds:
                continue
            found.append(urljoin(self.root + "/", href))
        return unique(found)


def _inside(node, ancestor) -> bool:
    parent = node.getparent()
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.getparent()
    return False


def _in_lightbox(img) -> bool:
    parent = img.getparent()
    return parent is not None and parent.tag == "a" and "lightbox" in classes(parent)


# --- HTML: the preloaded store and the crawler view ------------------------------------------------

_PRELOADED = xpath("//*[@id='data-preloaded']/@data-preloaded")
_CRAWLER_POSTS = xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' crawler-post ')]")
_CREATOR = xpath(".//*[contains(concat(' ', normalize-space(@class), ' '), ' creator ')]//*[@itemprop='name']")
_PUBLISHED = xpath(".//*[@itemprop='datePublished']")
_POSITION = xpath(".//*[@itemprop='position']")
_ARTICLE = xpath(".//*[@itemprop='articleBody' or @itemprop='text']")  # 2.x / 3.x
_CRUMBS = xpath("//*[@id='breadcrumbs']//a[@href]")
_CANONICAL = xpath("/html/head/link[@rel='canonical']/@href")
_NOSCRIPT_PATH = xpath("//noscript/@data-path")
_TITLES = (xpath("//meta[@itemprop='headline']/@content"), xpath("/html/head/meta[@property='og:title']/@content"),
           xpath("/html/head/title/text()"))
_LIGHTBOX_META = xpath(".//a[contains(concat(' ', normalize-space(@class), ' '), ' lightbox ')]"
                       "/*[contains(concat(' ', normalize-space(@class), ' '), ' meta ')]")
_NEXT = xpath("//*[@role='navigation']//a[@rel='next']/@href | /html/head/link[@rel='next']/@href")


def preloaded_topic(root) -> dict | None:
    """The ``topic_<id>`` entry of the page's ``#data-preloaded`` store (its values are JSON strings),
    None when the page has none or it does not decode."""
    raw = _PRELOADED(root)
    if not raw:
        return None
    try:
        store = json.loads(raw[0])
        for key, value in store.items():
            if key.startswith("topic_"):
                topic = json.loads(value) if isinstance(value, str) else value
                if isinstance(topic, dict) and isinstance(topic.get("post_stream"), dict):
                    return topic
    except (ValueError, AttributeError):
        return None
    return None


def crawler_view_page(root, url: str, dates: DateResolver) -> ThreadPage:
    """The posts of the ``<noscript>`` crawler view. It prints no post ids: a post's id is
    ``<topic id>#<post number>`` (never a made-up number that could pass for a real id), its author
    the username (no user id), its date the machine-readable ``datePublished``; no edit date (the view
    prints ``updated_at`` only, without the version that tells an edit from a like)."""
    canonical = (_CANONICAL(root) or [None])[0]
    topic_path = urljoin(url, canonical or (_NOSCRIPT_PATH(root) or [url])[0])
    topic_id = _topic_id_from_url(topic_path)
    root_url = site_root(url)
    match = re.search(r"[?&]page=(\d+)", url)
    page = max(1, int(match.group(1))) if match else 1  # a topic page's ?page= counts from 1
    posts = []
    for node in _CRAWLER_POSTS(root):
        position_text = text_of((_POSITION(node) or [None])[0]).lstrip("#")
        position = int(position_text) if position_text.isdigit() else None
        if position is None or topic_id is None:
            continue
        published = (_PUBLISHED(node) or [None])[0]
        # dateModified is the post's updated_at, which a like or a rebake moves too: not an edit date.
        posted_at = _attr_time(published)
        body = (_ARTICLE(node) or [None])[0]
        author = text_of((_CREATOR(node) or [None])[0]) or None
        if body is None:
            continue
        quotes = _QUOTES(body)
        skip = frozenset(quotes) | frozenset(_ONEBOXES(body)) | frozenset(_LIGHTBOX_META(body))
        reader = PostReader(root_url, topic_id, None, {})
        text = element_text(body, skip)
        if _DELETED_TEXT.match(text):
            posts.append(ParsedPost(post_id=f"{topic_id}#{position}", position=position, author=author, author_id=None,
                                    posted_at=posted_at, posted_at_text=None, body_text=None,
                                    body_html="".join(outer_html(c) for c in body).strip() or None,
                                    url=f"{topic_path.rstrip('/')}/{position}", is_deleted=True))
            continue
        posts.append(ParsedPost(
            post_id=f"{topic_id}#{position}", position=position, author=author, author_id=None,
            posted_at=posted_at, posted_at_text=published.get("content") or published.get("datetime") if published is not None else None,
            body_text=text, body_html="".join(outer_html(c) for c in body).strip() or None,
            url=f"{topic_path.rstrip('/')}/{position}",
            quotes=[reader.quote(q, quotes) for q in quotes],
            images=reader.images(body, frozenset(quotes)), links=reader.links(body, frozenset(quotes)),
        ))
    crumbs = [(a.get("href"), text_of(a)) for a in _CRUMBS(root)]
    forum_id = None
    if crumbs:
        match = _CATEGORY_CRUMB.search(urlsplit(crumbs[-1][0]).path)
        forum_id = match.group(1) if match else None
    title = next((text_of(found[0]) for query in _TITLES if (found := query(root))), None)
    next_href = (_NEXT(root) or [None])[0]
    return ThreadPage(
        thread_id=topic_id, title=title, forum_id=forum_id, forum_path=[name for _, name in crumbs if name],
        page=page, page_count=None, posts=posts, next_page=urljoin(url, next_href) if next_href else None,
        canonical_url=topic_path, unparsed_dates=sum(1 for p in posts if p.posted_at is None),
    )


def _attr_time(node) -> datetime | None:
    if node is None:
        return None
    return instant(node.get("content") or node.get("datetime"))


# --- the engine -----------------------------------------------------------------------------------

class Discourse(ForumEngine):
    name = "discourse"
    #: the one answer that names every category (``miata reparse`` takes forum paths from it)
    forum_index_path = "/categories.json"

    def forum_paths(self, response) -> dict[str, list[str]]:
        """Category id -> path of names, from a ``/categories.json`` answer."""
        data = json_of(response)
        return {cid: list(c.path) for cid, c in categories(data, response.url).items()} if isinstance(data, dict) else {}

    def api_walk(self, spider):
        """How the forum spider crawls Discourse: its JSON API (``miata_spiders.discourse_walk``)."""
        from miata_spiders.discourse_walk import DiscourseWalk

        return DiscourseWalk(spider)

    def canonical_url(self, url: str) -> str:
        # post_ids[] parameters name what a posts.json request asks for: kept, in order.
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))

    def thread_id_from_url(self, url: str | None) -> str | None:
        return _topic_id_from_url(url)

    def forum_id_from_url(self, url: str | None) -> str | None:
        match = _CATEGORY_PATH.match(urlsplit(url or "").path)
        return match.group(1) if match else None

    def member_id_from_url(self, url: str | None) -> str | None:
        return None  # /u/<username>: Discourse links members by name, the id is only in the JSON

    def page_kind(self, page) -> str | None:
        data = json_of(page)
        if isinstance(data, dict):
            if isinstance(data.get("post_stream"), dict):
                return "thread"
            if "topic_list" in data or "category_list" in data:
                return "listing"
            return None
        root = page_root(page)
        if preloaded_topic(root) is not None or _CRAWLER_POSTS(root):
            return "thread"
        return None

    def parse_thread_page(self, page, url: str, dates: DateResolver) -> ThreadPage:
        data = json_of(page)
        if isinstance(data, dict):
            return topic_page(data, url, _carried_numbers(page))
        root = page_root(page)
        crawled = crawler_view_page(root, url, dates)
        topic = preloaded_topic(root)
        if topic is not None:
            # The store holds this page's posts as the API gives them (exact ids); the view says which
            # page it is, where the next one is and the category names.
            parsed = topic_page(topic, url)
            parsed.forum_path, parsed.page, parsed.next_page = crawled.forum_path, crawled.page, crawled.next_page
            return parsed
        return crawled

    def parse_listing_page(self, page, url: str, dates: DateResolver) -> ListingPage:
        data = json_of(page)
        if isinstance(data, dict) and "category_list" in data:
            return category_listing(data, url)
        if isinstance(data, dict):
            return topic_listing(data, url)
        return ListingPage(forum_id=None, title=None, forum_path=[], forums=[], threads=[], next_page=None)


def _carried_numbers(page) -> dict | None:
    """Post numbers -> ids of the topic's earlier chunks, which the crawl carries from one posts.json
    request to the next (quotes of a post fetched in another chunk resolve to its id)."""
    try:
        return page.meta.get("discourse_numbers")
    except AttributeError:  # no request behind the response (a saved page, a cache entry)
        return None


ENGINE = Discourse()
__getattr__ = module_operations(ENGINE)


def is_discourse(engine) -> bool:
    return isinstance(engine, Discourse)


