"""XenForo 2 and XenForo 1 (MX5 Nutz and any other XenForo forum), on the ``ForumEngine`` interface.

One engine for both generations, told apart by their markup:

- XenForo 2 (``html#XF``): posts are ``article.message[data-content="post-N"]`` (a soft-deleted post
  is a ``div.message--deleted`` placeholder), bodies ``.message-body .bbWrapper``, dates
  ``time[datetime]``, quotes ``blockquote.bbCodeBlock--quote[data-quote][data-source="post: N"]``,
  thread rows ``.structItem--thread.js-threadListItem-N``, forums ``.node--forum .node-title a``,
  pages ``.pageNav``.
- XenForo 1 (``html#XenForo``): posts are ``li#post-N.message``, bodies ``blockquote.messageText``,
  dates ``abbr.DateTime[data-time]`` or ``span.DateTime[title]``, quotes
  ``div.bbCodeQuote[data-author]``, thread rows ``li#thread-N.discussionListItem``, pages
  ``.PageNav[data-page][data-last]``.

Every post field is read from the post's own container and never from a post nested inside it (a skin
that leaves one element unclosed makes the HTML parser nest each following post in the one before: an
edit note, date or image must still belong to the post that printed it). Machine-readable dates
(``datetime``, ``data-time``, ``data-timestamp``) win over printed ones; printed dates are read in the
page's own offset, which XenForo states in its JS config (``serverTimeInfo``/``time: {now, today}``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

from lxml import etree

from miata_spiders.dates import DateResolver
from miata_spiders.engines.base import (
    ForumEngine,
    PostFields,
    as_selector,
    canonical_base_url,
    canonical_link,
    classes,
    element_time,
    first,
    has_class,
    head_next_link,
    module_operations,
    quote_children,
    text_of,
    to_int,
    unique,
    xpath,
)
from miata_spiders.engines.html_text import element_text, image_urls, iter_own, link_urls, outside
from miata_spiders.engines.records import ForumLink, ListingPage, ThreadLink, ThreadPage

NAME = "xenforo"

# XenForo routes, friendly (/threads/slug.12/page-3) or not (/index.php?threads/slug.12/page-3).
_ID_END = r"(?=/|$|[?#&])"
_THREAD = re.compile(r"(?:^|[/?])threads/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
_FORUM = re.compile(r"(?:^|[/?])forums/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
_CATEGORY = re.compile(r"(?:^|[/?])categories/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
_MEMBER = re.compile(r"(?:^|[/?])members/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
# A node route without an id: XenForo's route filters can print /forums/mazda-mx5/ for /forums/mazda-mx5.2/.
_NODE_ROUTE = re.compile(r"(?:^|[/?])(?:forums|categories)/[^/?#&]+")
_PAGE = re.compile(r"/page-(\d+)/?$")
# Category anchors on the forum list: "/.#mazda-mx-5.1" or "/#mazda-mx-5.1".
_CATEGORY_ANCHOR = re.compile(r"^[\w-]*\.(\d+)$")
# Where a quote's source post is named: data-source="post: N", goto/post?id=N, #post-N, /posts/N, post-N, p=N.
_QUOTED_POST = re.compile(r"post:\s*(\d+)|[?&](?:id|p)=(\d+)|#post-(\d+)|/posts/(\d+)|/post-(\d+)")
_POSITION = re.compile(r"^#\s*(\d[\d,.\s]*)$")
# The verb after the quoted member's name, in the languages XenForo ships ("said:", "schrieb:", "a dit :").
_QUOTE_VERB = re.compile(
    r"\s*\b(?:said|wrote|schrieb|sagte|a dit|a écrit|ha detto|ha scritto|scrisse|dijo|escribió|zei|schreef|"
    r"disse|escreveu|napisał|sade|skrev|sanoi|kirjoitti|написал|сказал)\s*:?\s*[\W]*$", re.I)
# A quote header whose verb is not in that list: XenForo's phrase is "{name} VERB:", so the name is what
# comes before the last word and the label separator ("Bob сказал(а):", "Hans mondta: ↑").
_QUOTE_HEADER = re.compile(r"^(.*?\S)\s+\S+\s*[:：]\W*$", re.S)
# "Last edited" notes: the moderator's label names one ("by a moderator", "von einem Moderator", "por un
# moderador", "модератором", "moderátorem", "bởi người điều hành"); the author's own label is the bare
# phrase, known here per language pack. A label that is neither names nobody: a guessed editor would be a
# wrong value.
_EDITED_BY_MODERATOR = re.compile(r"mod[eé]ra[dt]|moderát|moderaat|модерат|điều hành", re.I)
_OWN_EDIT_LABELS = frozenset({
    "last edited", "edited", "zuletzt bearbeitet", "bearbeitet", "dernière modification", "dernière édition",
    "modifié", "última edición", "última modificación", "editado", "ultima modifica", "modificato",
    "laatst bewerkt", "bewerkt", "última edição", "ultima edição", "ostatnio edytowany", "ostatnia edycja",
    "последнее редактирование", "последнее изменение", "naposledy upraveno", "naposledy upravené",
    "son düzenleme", "senast redigerad", "sidst redigeret", "sist redigert", "sist endret",
    "viimeksi muokattu", "chỉnh sửa lần cuối", "utoljára szerkesztve", "utolsó szerkesztés",
    "ultima editare", "ultima modificare", "τελευταία επεξεργασία", "останнє редагування",
    "последна редакция", "zadnja izmjena", "zadnje urejanje", "terakhir diubah", "terakhir disunting",
    "最終編集", "最后编辑", "最後編輯", "마지막 수정", "마지막 편집", "แก้ไขล่าสุด", "آخر تعديل",
    "עריכה אחרונה",
})
# Query parameters that are a visit's, not the page's.
_VOLATILE_PARAMS = frozenset({"_xftoken", "_xfrequesturi", "_xfwithdata", "_xfresponsetype", "_xfnoredirect"})
# `time: {now: 1562130994, today: 1562108400, ...}` (XF2) / `serverTimeInfo: {now: ..., today: ...}` (XF1):
# the server's clock and the unix time of the viewer's local midnight, i.e. the page's UTC offset.
_SERVER_TIME = re.compile(r"(?:serverTimeInfo|\btime)\s*:\s*\{\s*now\s*:\s*(\d+)\s*,\s*today\s*:\s*(\d+)")

# --- queries (compiled once) -----------------------------------------------------------------------
# Whole-document queries name their tags: libxml2 then tests predicates on those elements only.
_XF2_POSTS_ANY_TAG = xpath("//*[starts-with(@data-content, 'post-')]")  # a skin with its own tags
_XF1_POSTS = xpath("//li[starts-with(@id, 'post-')]")
_XF2_THREAD_ROWS = xpath(f"//div[contains(@class, 'js-threadListItem-')][{has_class('structItem--thread')}]")
_XF1_THREAD_ROWS = xpath(f"//li[starts-with(@id, 'thread-')][{has_class('discussionListItem')}]")
_ANY_POST = xpath("(//article[starts-with(@data-content, 'post-')] | //div[starts-with(@data-content, 'post-')]"
                  f" | //li[starts-with(@id, 'post-')][{has_class('message')}])[1]")
_ANY_ROW_OR_NODE = xpath(
    "(//div[contains(@class, 'js-threadListItem-')] | //li[starts-with(@id, 'thread-')]"
    f" | //div[{has_class('node--forum')}] | //li[{has_class('node')}][{has_class('forum')}])[1]")
_HTML_ID = xpath("/html/@id")
_TEMPLATE = xpath("/html/@data-template | /html/body/@data-template")
_CONTENT_KEY = xpath("/html/@data-content-key")
_CONTAINER_KEY = xpath("/html/@data-container-key")
_PAGE_NAV_BASEURL = xpath("//div[@data-baseurl][contains(@class, 'PageNav')]/@data-baseurl")
# Breadcrumb trails: XF2 `ul.p-breadcrumbs` (top, then `--bottom`), XF1 `fieldset.breadcrumb .crumbs`.
_XF2_TRAILS_ANY_TAG = xpath("//*[contains(@class, 'p-breadcrumbs')]")  # a skin's own list or nav element
_XF1_TRAILS_ANY_TAG = xpath("//*[contains(@class, 'breadcrumb')]")
_XF2_CRUMB_LINKS = xpath("descendant::li/descendant::a[@href]")
_XF1_CRUMB_LINKS = xpath("descendant::a[@href][contains(@class, 'crumb')]")
_CRUMB_NAME = xpath("descendant::*[@itemprop='name' or @itemprop='title']")
_HEADING_LABELS = xpath("descendant::*[contains(@class, 'label') or contains(@class, 'prefix')]")
_XF2_CURRENT_PAGE = xpath("descendant::li[contains(@class, 'pageNav-page--current')]")
_XF2_PAGE_NUMBERS = xpath(f"descendant::ul[{has_class('pageNav-main')}]/li/a/text()")
_XF2_NEXT_HREF = xpath("descendant::a[contains(@class, 'pageNav-jump--next') or contains(@class, 'pageNavSimple-el--next')]"
                       "/@href")
_XF1_NEXT_TEXT = xpath("//div[contains(@class, 'PageNav')]//a[contains(@class, 'text')][contains(., 'Next')]/@href")
_XF1_PAGE_TEMPLATE = xpath("//div[@data-baseurl][@data-page][@data-last][contains(@class, 'PageNav')]")

# Inside a post (relative, from one of its parts). `descendant::x[p]` finds what `.//x[p]` finds (no positional
# predicate), in one axis walk: libxml2 runs `.//` as descendant-or-self::node()/child::x, a step per node
# and a merge of the results, at two to three times the cost.
_COUNTER_CANDIDATES = xpath("descendant-or-self::*[self::a or self::span or self::li or self::strong or self::b]"
                            "[starts-with(normalize-space(.), '#')]")
_PERMALINKS = xpath("descendant::a[contains(@href, '/post-') or contains(@href, 'posts/')]/@href")
# Quote blocks: `blockquote`/`div` whose class list holds bbCodeBlock--quote (XF2) or bbCodeQuote (XF1);
# found by lxml's tag walk (see XenForoFields.quote_blocks), the tokens split as XPath's normalize-space does.
_QUOTE_CLASSES = frozenset({"bbCodeBlock--quote", "bbCodeQuote"})
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_SMILIES = xpath("descendant::img[contains(@class, 'milie')]")  # smilie, Smilie, mceSmilie

# Listing pages.
_FORUM_LINKS = xpath("//*[contains(@class, 'node-title') or contains(@class, 'nodeTitle')]//a[@href]"
                     f" | //a[{has_class('subNodeLink--forum')}]")
_XF2_ROW_TITLE_LINKS = xpath(f".//*[{has_class('structItem-title')}]//a[@href]")
_XF2_ROW_MOVED = xpath(f".//*[{has_class('structItem-status--redirect')}]")
_XF2_ROW_STICKY = xpath(f".//*[{has_class('structItem-status--sticky')}]"
                        f" | ancestor::*[{has_class('structItemContainer-group--sticky')}]")
_XF2_ROW_STATS = xpath(f".//*[{has_class('structItem-cell--meta')}]//dl/dd")
_XF2_ROW_LATEST = xpath(f".//*[{has_class('structItem-latestDate')}] | .//*[{has_class('structItem-cell--latest')}]//time")
_XF2_ROW_AUTHOR = xpath(f".//*[{has_class('structItem-parts')}]//*[{has_class('username')}]")
_XF1_ROW_TITLE_LINKS = xpath(".//*[contains(@class, 'title')]//a[@href]")
_XF1_ROW_REPLIES = xpath(".//dl[contains(@class, 'major')]/dd")
_XF1_ROW_VIEWS = xpath(".//dl[contains(@class, 'minor')]/dd")
_XF1_ROW_LATEST = xpath(".//*[contains(@class, 'lastPost')]//*[contains(@class, 'DateTime')]")


# --- URLs ----------------------------------------------------------------------------------------

def _route(url: str | None) -> str:
    """Path and query of a URL, where XenForo's route lives; never the host or fragment."""
    parts = urlsplit(url or "")
    return parts.path + ("?" + parts.query if parts.query else "")


def _route_id(pattern: re.Pattern, url: str | None) -> str | None:
    match = pattern.search(_route(url))
    return match.group(1) if match else None


def _numbered(key: str | None, prefix: str) -> str | None:
    """N of a XenForo content key such as ``post-N``, ``thread-N``, ``node-N``."""
    key = (key or "").strip()
    return key[len(prefix):] if key.startswith(prefix) and key[len(prefix):].isdigit() else None


def _category_id(url: str) -> str | None:
    match = _CATEGORY.search(_route(url)) or _CATEGORY_ANCHOR.match(urlsplit(url).fragment)
    return match.group(1) if match else None


def _page_from_url(url: str) -> int | None:
    match = _PAGE.search(_route(url))
    return int(match.group(1)) if match else None


_count = to_int  # counts as XenForo prints them: "1,234", "12K", "1.2M"; "–" (a redirect) is None


# --- page-level facts (computed once per page) --------------------------------------------------------

def _post_containers(root, xf1: bool) -> list:
    """Every post's container on a thread page, in page order (a container must carry ``message``):
    XF1 ``li[id^=post-]``, XF2 ``article``/``div`` ``[data-content^=post-]`` by lxml's tag walk (cheaper than an
    XPath test of every node); a skin's own tags by XPath."""
    if xf1:
        return [node for node in root.iter("li") if (node.get("id") or "").startswith("post-")
                and "message" in classes(node)]
    nodes = [node for node in root.iter("article", "div") if (node.get("data-content") or "").startswith("post-")
             and "message" in classes(node)]
    return nodes or [node for node in _XF2_POSTS_ANY_TAG(root) if "message" in classes(node)]


def _is_xf1(root) -> bool:
    html_id = first(_HTML_ID(root))
    if html_id in ("XenForo", "XF"):
        return html_id == "XenForo"
    return bool(_XF1_POSTS(root) or _XF1_THREAD_ROWS(root))


def _template(root) -> str | None:
    return first(_TEMPLATE(root))


def _server_clock(page) -> tuple[datetime, timedelta] | None:
    """(server time, UTC offset the page was rendered in) from XenForo's JS config, or None."""
    root = as_selector(page).root if not isinstance(page, etree._Element) else page
    match = _SERVER_TIME.search(" ".join(script.text for script in root.iter("script")
                                         if script.text and "today" in script.text))
    if not match:
        return None
    seconds = (-int(match.group(2))) % 86400  # local midnight is 00:00 local: offset = -today mod 1 day
    if seconds > 14 * 3600:
        seconds -= 86400
    return datetime.fromtimestamp(int(match.group(1)), timezone.utc), timedelta(seconds=seconds)


def _page_dates(root, dates: DateResolver) -> DateResolver:
    """Printed dates are in the viewer's timezone. Keep the site's IANA zone (it knows DST) when it
    agrees with the offset the page declares; otherwise trust the page."""
    clock = _server_clock(root)
    if clock is None:
        return dates
    now, offset = clock
    if now.astimezone(dates.tz).utcoffset() == offset:
        return dates
    return dates.with_tz(timezone(offset))


def _breadcrumbs(root, base: str, xf1: bool) -> list[tuple[str, str]]:
    """(title, url) of the first breadcrumb trail that has links: XF2 ``.p-breadcrumbs`` (the top one,
    else the bottom one; ``li[itemprop=itemListElement] > a[itemprop=item]``), XF1 ``.breadcrumb a.crumb``.
    The trails are looked for lazily: the walk of the document stops at the first trail with links (the
    top one, before the posts)."""
    if not xf1:
        trails = _or_else(_with_class(root, "ul", "p-breadcrumbs"), lambda: _XF2_TRAILS_ANY_TAG(root))
        any_trail = False
        for trail in trails:
            any_trail = True
            crumbs = _crumbs(trail, _XF2_CRUMB_LINKS, base)
            if crumbs:
                return crumbs
        if any_trail:
            return []
    for trail in _or_else(_with_class(root, "fieldset", "breadcrumb"), lambda: _XF1_TRAILS_ANY_TAG(root)):
        if "breadcrumb" in classes(trail):
            crumbs = _crumbs(trail, _XF1_CRUMB_LINKS, base)
            if crumbs:
                return crumbs
    return []


def _crumbs(trail, links, base: str) -> list[tuple[str, str]]:
    crumbs = []
    for link in links(trail):
        name = first(_CRUMB_NAME(link))
        title = text_of(name if name is not None else link)
        if title:
            crumbs.append((title, urljoin(base, link.get("href"))))
    return crumbs


def _is_own_edit(note, stamp) -> bool:
    """Whether an edit note's label (its words before the date) is the author's own "Last edited"."""
    if stamp is not None:
        label = element_text(note, frozenset((stamp,)))
    else:  # a skin that prints the date as text: the label ends at XenForo's label separator
        label = re.split(r"[:：]", element_text(note), maxsplit=1)[0]
    label = " ".join(label.split()).rstrip(" :：").lower()
    return not _EDITED_BY_MODERATOR.search(label) and label in _OWN_EDIT_LABELS


def _links_to_post(element, post_id: str) -> bool:
    """Whether ``element`` sits in a link to post ``post_id`` (``/post-N``, ``posts/N``, ``#post-N``, ``?id=N``)."""
    link = next((a for a in element.iterancestors("a")), None)
    href = link.get("href") if link is not None else None
    return bool(href) and re.search(rf"(?:post-|posts/|[?&](?:id|p)=){post_id}(?!\d)", href) is not None


def _or_else(found, fallback):
    """What the iterator ``found`` yields, or, when it yields nothing, what ``fallback()`` returns."""
    empty = True
    for item in found:
        empty = False
        yield item
    if empty:
        yield from fallback()


def _with_class(root, tag: str, part: str):
    """``//tag[contains(@class, part)]`` by lxml's tag walk (an XPath test of every node costs more), lazily."""
    return (element for element in root.iter(tag) if part in (element.get("class") or ""))


def _is_node_crumb(url: str) -> bool:
    route = _route(url)
    return bool(_FORUM.search(route) or _category_id(url) or _NODE_ROUTE.search(route))


def _node_path(crumbs: list[tuple[str, str]], own_is_last: bool) -> list[tuple[str, str]]:
    """The crumbs that are nodes (categories and forums), down to the page's own forum: everything from
    the first node crumb on (home and the forum list come before it). On a thread page the last crumb is
    the thread's own forum even when its URL does not say so (a route filter, a custom node URL), as long
    as it lies below the crumb before it. A skin's crumb for the thread itself is no forum."""
    while crumbs and _THREAD.search(_route(crumbs[-1][1])):
        crumbs = crumbs[:-1]
    start = next((i for i, (_, url) in enumerate(crumbs) if _is_node_crumb(url)), None)
    if start is not None:
        return crumbs[start:]
    if own_is_last and len(crumbs) > 1:
        parent, own = urlsplit(crumbs[-2][1]).path, urlsplit(crumbs[-1][1]).path
        if len(own) > len(parent) and own.startswith(parent.rstrip("/") + "/"):
            return crumbs[-1:]
    return []


def _page_title(root) -> str | None:
    """The page heading without thread prefixes (XF2 ``.label``, XF1 ``.prefix``)."""
    for heading in root.iter("h1"):
        parent = heading.getparent()
        if "p-title-value" not in classes(heading) and (parent is None or "titleBar" not in classes(parent)):
            continue
        text = " ".join(element_text(heading, frozenset(_HEADING_LABELS(heading))).split())
        if text:
            return text
    title = next((meta.get("content") for meta in root.iter("meta")
                  if meta.get("property") == "og:title" and meta.get("content") is not None), None)
    return " ".join(title.split()) if title else None


def _xf2_page_nav(root):
    """The first XF2 ``div.pageNav`` (or ``pageNavSimple``) on the page, or None."""
    return next((nav for nav in root.iter("div")
                 if "pageNav" in (nav.get("class") or "") and {"pageNav", "pageNavSimple"} & set(classes(nav))), None)


_FIND = object()  # "look the XF2 page nav up" (the thread parser passes the one it found already)


def _pages(root, url: str, xf1: bool, xf2_nav=_FIND) -> tuple[int, int | None]:
    """(current page, page count) from XF2 ``.pageNav`` or XF1 ``.PageNav``."""
    nav = next((div for div in root.iter("div") if div.get("data-page") is not None
                and "PageNav" in (div.get("class") or "")), None) if xf1 else None
    if nav is not None:
        last = nav.get("data-last")
        return int(nav.get("data-page")), int(last) if last and last.isdigit() else None
    nav = None if xf1 else _xf2_page_nav(root) if xf2_nav is _FIND else xf2_nav
    if nav is None:
        return _page_from_url(url) or 1, None
    current = _count(text_of(first(_XF2_CURRENT_PAGE(nav))))
    numbers = [n for n in (_count(t) for t in _XF2_PAGE_NUMBERS(nav)) if n]
    page = current or _page_from_url(url) or 1
    return page, max(numbers + [page]) if numbers or current else None


# --- post fields ---------------------------------------------------------------------------------

class PostIndex:
    """A post's own elements of interest, found by one query over its container and kept only when the
    post is their nearest container (never a post the parser nested inside it): every field then looks
    only here, so no value can come from another post."""

    __slots__ = ("node", "foreign", "first", "usernames", "wrappers", "times", "memo")

    def __init__(self, node, containers: frozenset, foreign: frozenset, class_names: dict | None = None):
        """``class_names`` memoises, per class attribute value, the indexed names it carries: a page
        repeats a few hundred class strings over thousands of elements, so each is split once."""
        self.node, self.foreign = node, foreign
        self.first: dict[str, object] = {}
        self.usernames, self.wrappers, self.times = [], [], []
        self.memo: dict[str, object] = {}  # what one field finds and another reuses (XF2's post counter)
        if class_names is None:
            class_names = {}
        elements = node.iter(etree.Element)  # lxml's walk in C: cheaper than an XPath for every classed element
        next(elements)  # the container itself
        for element in elements:
            value = element.get("class")
            if value is None or (foreign and self.owner(element, containers) is not node):
                continue
            if element.tag == "time":
                self.times.append(element)
                continue
            names = class_names.get(value)
            if names is None:
                names = class_names[value] = tuple(name for name in value.split() if name in _INDEXED)
            for name in names:
                if name == "username":
                    self.usernames.append(element)
                elif name == "bbWrapper":
                    self.wrappers.append(element)
                elif name == "DateTime":
                    self.times.append(element)
                elif name not in self.first and (name != "messageText" or element.tag == "blockquote"):
                    self.first[name] = element
        if not self.times:  # a skin whose <time> carries no class
            self.times = [t for t in _TIMES(node) if not foreign or self.owner(t, containers) is node]

    @staticmethod
    def owner(element, containers):
        parent = element.getparent()
        while parent is not None and parent not in containers:
            parent = parent.getparent()
        return parent

    def get(self, *names):
        """The first element carrying the first of ``names`` the post has (XF2 and XF1 names of a part)."""
        return next((self.first[n] for n in names if n in self.first), None)

    def inside(self, element, container) -> bool:
        """Whether ``element`` lies in ``container`` (a walk up that stops at the post's container)."""
        if container is None:
            return False
        parent = element
        while parent is not None and parent is not self.node:
            if parent is container:
                return True
            parent = parent.getparent()
        return container is self.node


# Classes the post walk records: XF2 then XF1 names of the same parts.
# One walk per post (every classed element; the classes are sorted out in Python), and the dates of a
# skin that prints an unclassed <time> when the first finds none.
_TIMES = xpath("descendant::time")
_IMAGES = xpath("descendant::img")
_LINKS = xpath("descendant::a[@href]")
_INDEXED = frozenset({
    "username", "avatar", "bbWrapper", "DateTime",
    "message-attribution", "message-attribution-opposite", "message-user", "message-userDetails",
    "message-body", "message-userContent", "message-lastEdit", "message-signature", "attachmentList",
    "messageUserInfo", "messageMeta", "datePermalink", "postNumber", "messageText", "editDate", "signature",
    "messageContent", "likesSummary",
})


class XenForoFields(PostFields):
    """What both generations share: quotes, edits, signatures, attachments, smilies, member ids.

    ``nested`` maps a post container to the post containers the HTML parser nested inside it (a skin that
    leaves an element unclosed): those are skipped by every field of the outer post.
    """

    def __init__(self, base_url: str, dates: DateResolver, containers: frozenset = frozenset(), nested=None):
        super().__init__(base_url, dates)
        self.containers = containers
        self.nested = nested or {}
        self.index: PostIndex | None = None
        self.class_names: dict[str, tuple[str, ...]] = {}  # see PostIndex: shared by the page's posts

    def own(self, node) -> PostIndex:
        """The index of the post being read (built once per post, on its first field)."""
        index = self.index
        if index is None or index.node is not node:
            index = self.index = PostIndex(node, self.containers, frozenset(self.nested.get(node, ())),
                                           self.class_names)
        return index

    # fields -------------------------------------------------------------------------------------------
    def author(self, node) -> tuple[str | None, str | None]:
        """``data-author``, and the member id of the user block's ``.username`` (``data-user-id``, else
        its ``members/name.N/`` link); without a user block, of the first username outside the post's
        words (an article's byline, a deleted post's notice), else of its avatar. Guests have
        ``data-user-id="0"`` or no link: no id, even when their post mentions a member."""
        index = self.own(node)
        name = (node.get("data-author") or "").strip()
        block = index.get("message-userDetails", "message-user", "messageUserInfo")
        users = [u for u in index.usernames if index.inside(u, block)] if block is not None else []
        if not users:
            words = [part for part in (index.get("message-userContent", "messageContent", "messageText"),
                                       index.get("message-signature", "signature"), index.get("likesSummary"))
                     if part is not None]
            users = [u for u in index.usernames if not any(index.inside(u, part) for part in words)]
        member = None
        if users:  # the author's own username decides: a guest's has no id
            user = users[0]
            uid = (user.get("data-user-id") or "").strip()
            member = (uid if uid != "0" else None) if uid.isdigit() else _route_id(_MEMBER, user.get("href"))
        if member is None and not users:
            avatar = index.first.get("avatar")
            uid = (avatar.get("data-user-id") or "").strip() if avatar is not None else ""
            member = uid if uid.isdigit() and uid != "0" else _route_id(_MEMBER, avatar.get("href")) if avatar is not None else None
        if not name and users:
            name = text_of(users[0])
        return name or None, member

    def quote_blocks(self, body) -> list:
        """Every quote block in the body, nested ones included, in document order: lxml's walk over the
        body's ``blockquote``/``div`` elements in C (cheaper than an XPath class test of each)."""
        blocks = []
        for element in body.iterdescendants("blockquote", "div"):
            value = element.get("class")
            if value and "bbCode" in value and not _QUOTE_CLASSES.isdisjoint(_XML_SPACE.split(value)):
                blocks.append(element)
        return blocks

    def quote(self, block, nested: list) -> dict:
        """Who is quoted (``data-quote``/``data-author``, else the header's name before "said:" in any
        language), which post (``data-source="post: N"``, else the header's link to it), and the quote's
        own text: without its header, "Click to expand..." and the quotes nested in it."""
        skip = frozenset(nested)
        title = content = None
        chrome = []
        # Without nested quotes to leave out, lxml walks the block's elements in C.
        elements = (block.iterdescendants(etree.Element) if not skip else
                    (e for e in iter_own(block, skip) if e is not block and isinstance(e.tag, str)))
        for element in elements:
            value = element.get("class")
            if not value:
                continue
            names = value.split()
            if title is None and ("bbCodeBlock-title" in names or "attribution" in names):
                title = element
                chrome.append(element)
            elif "bbCodeBlock-expandLink" in names or "quoteExpand" in names:
                chrome.append(element)
            elif content is None and ("bbCodeBlock-expandContent" in names or "quote" in names):
                content = element
        author = (block.get("data-quote") or block.get("data-author") or "").strip()
        if not author and title is not None:
            header = text_of(title)
            author = _QUOTE_VERB.sub("", header).strip()
            if author == header.strip():  # a verb not in the list: the words before it
                match = _QUOTE_HEADER.match(header)
                author = match.group(1).strip() if match else author
        candidates = [block.get("data-source")]
        if title is not None:
            for link in title.iter("a"):
                candidates += [link.get("href"), link.get("data-content-selector")]
        post_id = None
        for candidate in candidates:
            match = _QUOTED_POST.search(candidate or "")
            if match:
                post_id = next(g for g in match.groups() if g)
                break
        text = element_text(content if content is not None else block, skip | frozenset(chrome))
        return {"author": author or None, "post_id": post_id, "text": text}

    def text_skip(self, body, blocks: list) -> frozenset:
        # Quotes are someone else's words; drawings (XF1 dice add-on SVG; lxml's HTML parser names SVG
        # elements without a namespace) are not words at all.
        return frozenset(blocks) | frozenset(body.iterdescendants("svg")) | self.index.foreign

    def attachment_items(self, node) -> list:
        index = self.own(node)
        attachments = index.first.get("attachmentList")
        return [item for item in attachments if item.tag == "li"] if attachments is not None else []

    def images(self, node, body, skip) -> list[str]:
        smilies = frozenset(_SMILIES(body))
        skip = skip | self.own(node).foreign
        # The body's <img>s found in C, then those inside a quote (or a nested post) left out; no walk of
        # the whole body in Python.
        kept = (outside(body.iter("img"), body, skip | smilies) if skip else
                [img for img in _IMAGES(body) if img not in smilies])
        found = [url for img in kept for url in image_urls(img, self.base_url)]
        for item in self.attachment_items(node):
            found += image_urls(item, self.base_url)  # a thumbnail stands for its full-size attachment
        return unique(found)

    def links(self, node, body, skip) -> list[str]:
        skip = skip | self.own(node).foreign
        if skip:  # as images: the body's <a>s found in C, those inside a skipped sub-tree left out
            found = []
            for anchor in outside(body.iter("a"), body, skip):
                # an anchor the parser nested another one in: its own walk, which leaves out what it must
                found += (link_urls(anchor, self.base_url, skip) if next(anchor.iterdescendants("a"), None) is not None
                          else link_urls(anchor, self.base_url))
        else:
            found = [url for anchor in _LINKS(body) for url in link_urls(anchor, self.base_url)]
        for item in self.attachment_items(node):
            if not image_urls(item, self.base_url):
                found += link_urls(item, self.base_url)  # a file attachment is a link
        return unique(found)

    def edit(self, node, author: str | None) -> tuple[str | None, datetime | None]:
        """"Last edited: <date>" is the author's own edit; "Last edited by a moderator: <date>" names
        nobody, in any language (XF2 ``.message-lastEdit``, XF1 ``.editDate``); so does a label that
        is neither (see ``_OWN_EDIT_LABELS``)."""
        index = self.own(node)
        note = index.get("message-lastEdit", "editDate")
        if note is None:
            return None, None
        stamp = next((t for t in index.times if index.inside(t, note)), None)
        when, _ = element_time(stamp, self.dates)
        return (author if _is_own_edit(note, stamp) else None), when

    def signature(self, node) -> str | None:
        index = self.own(node)
        sig = index.get("message-signature", "signature")
        text = element_text(sig, index.foreign) if sig is not None else ""
        return text or None

    def date_element(self, index: PostIndex, header):
        """The post's date: the first in its header; else (a skin that moves it) the first linked to the
        post, as XenForo links every post date to its post, else the first that is neither the edit
        note's nor the user block's (a member's "Joined" or "Last seen" is not the post's date)."""
        in_header = next((t for t in index.times if index.inside(t, header)), None) if header is not None else None
        if in_header is not None:
            return in_header
        note = index.get("message-lastEdit", "editDate")
        times = [t for t in index.times if not index.inside(t, note)]
        post_id = self.post_id(index.node)
        linked = next((t for t in times if post_id and _links_to_post(t, post_id)), None)
        if linked is not None:
            return linked
        user = index.get("message-user", "messageUserInfo")
        return next((t for t in times if not index.inside(t, user)), None)

    @staticmethod
    def counter(elements) -> tuple[int | None, object]:
        """(number, element) of the first post counter printed as "#N" (a link or plain text)."""
        for element in elements:
            match = _POSITION.match(text_of(element))
            if match:
                return _count(match.group(1)), element
        return None, None


class XenForo2Fields(XenForoFields):
    """``article.message[data-content="post-N"]``."""

    def post_id(self, node) -> str | None:
        return _numbered(node.get("data-content"), "post-")

    def posted_at(self, node) -> tuple[datetime | None, str | None]:
        index = self.own(node)
        return element_time(self.date_element(index, index.first.get("message-attribution")), self.dates)

    def _counter(self, node):
        """(number, element) of the post counter; position and url both read it, so it is found once.
        XenForo prints it at the right of the header; a skin that moves it elsewhere in the header is read
        there."""
        index = self.own(node)
        found = index.memo.get("counter")
        if found is None:
            found = (None, None)
            for part in ("message-attribution-opposite", "message-attribution"):
                element = index.first.get(part)
                if element is not None:
                    found = self.counter(_COUNTER_CANDIDATES(element))
                    if found[0] is not None:
                        break
            index.memo["counter"] = found
        return found

    def position(self, node) -> int | None:
        return self._counter(node)[0]

    def url(self, node) -> str | None:
        _, element = self._counter(node)
        href = element.get("href") if element is not None and element.tag == "a" else None
        if not href:
            header = self.own(node).first.get("message-attribution")
            href = first(_PERMALINKS(header)) if header is not None else None
        return urljoin(self.base_url, href) if href else None

    def body(self, node):
        if "message--deleted" in classes(node):
            return None
        index = self.own(node)
        message_body = index.first.get("message-body")
        signature = index.first.get("message-signature")
        inside = next((w for w in index.wrappers if index.inside(w, message_body)), None)
        if inside is not None:
            return inside
        return next((w for w in index.wrappers if not index.inside(w, signature)), None)

    def is_deleted(self, node, body) -> bool:
        # A post without a body we can find is only "deleted" when its placeholder class says so.
        return "message--deleted" in classes(node)

    def attachment_items(self, node) -> list:
        index = self.own(node)
        content = index.first.get("message-userContent")
        return [item for item in super().attachment_items(node) if content is None or index.inside(item, content)]


class XenForo1Fields(XenForoFields):
    """``li#post-N.message``."""

    def post_id(self, node) -> str | None:
        return _numbered(node.get("id"), "post-")

    def posted_at(self, node) -> tuple[datetime | None, str | None]:
        index = self.own(node)
        return element_time(self.date_element(index, index.first.get("datePermalink")), self.dates)

    def position(self, node) -> int | None:
        number = self.own(node).first.get("postNumber")
        return self.counter([number])[0] if number is not None else None

    def url(self, node) -> str | None:
        index = self.own(node)
        number = index.first.get("postNumber")
        href = number.get("href") if number is not None else None
        if not href:
            permalink = index.first.get("datePermalink")
            href = permalink.get("href") if permalink is not None else None
        return urljoin(self.base_url, href) if href else None

    def body(self, node):
        if "deleted" in classes(node):
            return None
        return self.own(node).first.get("messageText")

    def is_deleted(self, node, body) -> bool:
        return "deleted" in classes(node)


# --- the engine ----------------------------------------------------------------------------------

class XenForoEngine(ForumEngine):
    name = NAME
    volatile_params = _VOLATILE_PARAMS
    fields = XenForo2Fields
    xf1_fields: type[XenForoFields] = XenForo1Fields
    # XF2 `data-content="post-N"`, XF1 `<li id="post-N">` (XF2's anchor `<span id="post-N">` names the same posts).
    post_id_markup = re.compile(rb'(?:data-content|(?<![\w-])id)\s*=\s*["\']post-(\d+)["\']')

    # URLs ---------------------------------------------------------------------------------------
    def canonical_url(self, url: str) -> str:
        """No fragment, no CSRF token, no ``page-1``; a plain route (``index.php?threads/x.1/``) kept."""
        url = super().canonical_url(url)
        parts = urlsplit(url)
        if _THREAD.search(parts.path) or _FORUM.search(parts.path):
            path = re.sub(r"/page-1/?$", "/", parts.path)
            if path != parts.path:
                return url.replace(parts.path, path, 1)
        return url

    def thread_id_from_url(self, url: str | None) -> str | None:
        return _route_id(_THREAD, url)

    def forum_id_from_url(self, url: str | None) -> str | None:
        return _route_id(_FORUM, url)

    def member_id_from_url(self, url: str | None) -> str | None:
        return _route_id(_MEMBER, url)

    def _thread_url(self, href: str) -> str:
        """A thread link cut back to the thread itself (drops /unread, /latest, /post-N, /page-N)."""
        match = _THREAD.search(href)
        return self.canonical_url(href[: match.end()] + "/" if match else href)

    # pages --------------------------------------------------------------------------------------
    def page_kind(self, page) -> str | None:
        root = as_selector(page).root
        template = _template(root)
        if template == "thread_view" or _ANY_POST(root):
            return "thread"
        if template in ("forum_list", "forum_view", "category_view") or _ANY_ROW_OR_NODE(root):
            return "listing"
        return None

    def parse_thread_page(self, page, url: str, dates: DateResolver) -> ThreadPage:
        """Every post on one thread_view page, in page order, with the thread's identity and next page."""
        root = as_selector(page).root
        base = canonical_base_url(root, url)
        dates = _page_dates(root, dates)
        xf1 = _is_xf1(root)
        nodes = _post_containers(root, xf1)
        nested = {parent: inner for parent, inner in quote_children(root, nodes).items() if inner}
        fields = (self.xf1_fields if xf1 else self.fields)(base, dates, frozenset(nodes), nested)
        posts, undated, errors = self.read_posts(nodes, fields, url)
        path = _node_path(_breadcrumbs(root, base, xf1), own_is_last=True)
        nav = None if xf1 else _xf2_page_nav(root)  # one walk for the page numbers and the next link
        page, page_count = _pages(root, url, xf1, nav)
        canonical = canonical_link(root)
        return ThreadPage(
            thread_id=self._thread_id(root, url, base),
            title=_page_title(root),
            forum_id=self._own_forum_id(root, path),
            forum_path=[title for title, _ in path],
            page=page,
            page_count=page_count,
            posts=posts,
            next_page=self._next_page(root, base, xf1, nav),
            canonical_url=self.canonical_url(urljoin(base, canonical or url)),
            unparsed_dates=undated,
            parse_errors=errors,
        )

    def parse_listing_page(self, page, url: str, dates: DateResolver) -> ListingPage:
        """Forums linked from the page (nodes and sub-forums), its thread rows, and the next listing page."""
        root = as_selector(page).root
        base = canonical_base_url(root, url)
        dates = _page_dates(root, dates)
        own_id = self.forum_id_from_url(url) or (_container_node(root) if _template(root) == "forum_view" else None)
        forums = []
        for link in _FORUM_LINKS(root):
            href = self.canonical_url(urljoin(base, link.get("href")))
            forum_id, title = self.forum_id_from_url(href), text_of(link)
            if forum_id and title:
                forums.append(ForumLink(forum_id=forum_id, title=title, url=href))
        threads = [t for t in (self._xf2_row(row, base, dates) for row in _XF2_THREAD_ROWS(root)) if t]
        threads += [t for t in (self._xf1_row(row, base, dates) for row in _XF1_THREAD_ROWS(root)) if t]
        xf1 = _is_xf1(root)
        path = _node_path(_breadcrumbs(root, base, xf1), own_is_last=False) if own_id else []
        return self.listing(forum_id=own_id, title=_page_title(root) if own_id else None,
                            forum_path=[title for title, _ in path], forums=forums, threads=threads,
                            next_page=self._next_page(root, base, xf1), page=_pages(root, url, xf1)[0])

    # page parts -----------------------------------------------------------------------------------
    def _thread_id(self, root, url: str, base: str) -> str | None:
        key = _numbered(first(_CONTENT_KEY(root)), "thread-")
        if key:
            return key
        # Each place is read only when the one before names no thread (the page nav is a walk of the document).
        for href_of in (canonical_link, lambda root: first(_PAGE_NAV_BASEURL(root)), lambda root: url):
            href = href_of(root)
            thread_id = self.thread_id_from_url(urljoin(base, href)) if href else None
            if thread_id:
                return thread_id
        return None

    def _own_forum_id(self, root, path: list[tuple[str, str]]) -> str | None:
        """The thread's own forum: XF2 names its node on the page (``data-container-key="node-N"``);
        else the last crumb's forum id (never an earlier crumb's: that would be a parent forum)."""
        node = _container_node(root)
        if node:
            return node
        return self.forum_id_from_url(path[-1][1]) if path else None

    def _next_page(self, root, base: str, xf1: bool, xf2_nav=_FIND) -> str | None:
        href = head_next_link(root)
        if not href and not xf1:
            nav = _xf2_page_nav(root) if xf2_nav is _FIND else xf2_nav
            href = first(_XF2_NEXT_HREF(nav)) if nav is not None else None
        if not href and xf1:
            href = first(_XF1_NEXT_TEXT(root))
        if href:
            return self.canonical_url(urljoin(base, href))
        nav = first(_XF1_PAGE_TEMPLATE(root)) if xf1 else None
        if nav is not None:  # XF1 with JS-only next arrows: build page N+1 from the template URL
            page, last = int(nav.get("data-page")), int(nav.get("data-last"))
            sentinel = nav.get("data-sentinel", "{{sentinel}}")
            if page < last:
                return self.canonical_url(urljoin(base, nav.get("data-baseurl").replace(sentinel, str(page + 1))))
        return None

    def _thread_link(self, row, query):
        """The title link of a thread row: the last link in the title that goes to a thread (prefix
        labels link to the forum filtered by prefix)."""
        links = [a for a in query(row) if _THREAD.search(_route(a.get("href")))]
        primary = [a for a in links if a.get("data-tp-primary") == "on"]
        return (primary or links or [None])[-1]

    def _xf2_row(self, row, base: str, dates: DateResolver) -> ThreadLink | None:
        link = self._thread_link(row, _XF2_ROW_TITLE_LINKS)
        match = re.search(r"js-threadListItem-(\d+)", row.get("class") or "")
        if link is None or not match:
            return None
        moved = bool(_XF2_ROW_MOVED(row))
        stats = [_count(text_of(dd)) for dd in _XF2_ROW_STATS(row)]
        author = (row.get("data-author") or "").strip() or text_of(first(_XF2_ROW_AUTHOR(row))) or None
        return ThreadLink(
            thread_id=match.group(1),
            title=text_of(link),
            url=self._thread_url(urljoin(base, link.get("href"))),
            author=author,
            reply_count=None if moved or not stats else stats[0],
            view_count=None if moved or len(stats) < 2 else stats[1],
            last_post_at=None if moved else element_time(first(_XF2_ROW_LATEST(row)), dates)[0],
            sticky=bool(_XF2_ROW_STICKY(row)),
            moved=moved,
        )

    def _xf1_row(self, row, base: str, dates: DateResolver) -> ThreadLink | None:
        link = self._thread_link(row, _XF1_ROW_TITLE_LINKS)
        if link is None:
            return None
        names = classes(row)
        moved = "moved" in names or "redirect" in names
        return ThreadLink(
            thread_id=row.get("id").split("-", 1)[1],
            title=text_of(link),
            url=self._thread_url(urljoin(base, link.get("href"))),
            author=(row.get("data-author") or "").strip() or None,
            reply_count=None if moved else _count(text_of(first(_XF1_ROW_REPLIES(row)))),
            view_count=None if moved else _count(text_of(first(_XF1_ROW_VIEWS(row)))),
            last_post_at=None if moved else element_time(first(_XF1_ROW_LATEST(row)), dates)[0],
            sticky="sticky" in names,
            moved=moved,
        )


def _container_node(root) -> str | None:
    """XF2 thread_view and forum_view pages name their forum: ``html[data-container-key="node-7"]``."""
    return _numbered(first(_CONTAINER_KEY(root)), "node-")


ENGINE = XenForoEngine()

__getattr__ = module_operations(ENGINE)  # xenforo.parse_thread_page(...) and the other operations
