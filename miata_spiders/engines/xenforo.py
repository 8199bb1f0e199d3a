"""XenForo 2 and XenForo 1 page parsers (MX5 Nutz and any other XenForo forum).

One module for both generations, told apart by their markup:

- XenForo 2 (``html#XF``): posts are ``article.message[data-content="post-N"]`` (a soft-deleted post
  is a ``div.message--deleted`` placeholder), bodies ``.message-body .bbWrapper``, dates
  ``time[datetime]``, quotes ``blockquote.bbCodeBlock--quote[data-quote][data-source="post: N"]``,
  thread rows ``.structItem--thread.js-threadListItem-N``, forums ``.node--forum .node-title a``,
  pages ``.pageNav``.
- XenForo 1 (``html#XenForo``): posts are ``li#post-N.message``, bodies ``blockquote.messageText``,
  dates ``abbr.DateTime[data-time]`` or ``span.DateTime[title]``, quotes
  ``div.bbCodeQuote[data-author]``, thread rows ``li#thread-N.discussionListItem``, pages
  ``.PageNav[data-page][data-last]``.

Machine-readable dates (``datetime``, ``data-time``) are preferred over printed ones. Printed dates
(XenForo 1 before a week old) are read in the page's own offset, which XenForo states in its JS
config (``serverTimeInfo``/``time: {now, today}``).

Every function is pure: a parsel ``Selector`` (or Scrapy response) and its URL in, records out.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit, urlunsplit

from parsel import Selector

from miata_spiders.dates import DateResolver
from miata_spiders.engines.html_text import element_text, image_urls, link_urls, outer_html
from miata_spiders.engines.records import ForumLink, ListingPage, ParsedPost, ThreadLink, ThreadPage

NAME = "xenforo"

# XenForo routes, friendly (/threads/slug.12/page-3) or not (/index.php?threads/slug.12/page-3).
_ID_END = r"(?=/|$|[?#&])"
_THREAD = re.compile(r"(?:^|[/?])threads/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
_FORUM = re.compile(r"(?:^|[/?])forums/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
_CATEGORY = re.compile(r"(?:^|[/?])categories/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
_MEMBER = re.compile(r"(?:^|[/?])members/(?:[^/?#&]*\.)?(\d+)" + _ID_END)
_PAGE = re.compile(r"/page-(\d+)/?$")
# Category anchors on the forum list: "/.#mazda-mx-5.1" or "/#mazda-mx-5.1".
_CATEGORY_ANCHOR = re.compile(r"^[\w-]*\.(\d+)$")
_QUOTED_POST = re.compile(r"post:\s*(\d+)|[?&]id=(\d+)|#post-(\d+)|posts/(\d+)")
_POSITION = re.compile(r"#\s*([\d,.\s]+)")
_COUNT = re.compile(r"(\d[\d,.]*)\s*([KkMm])?")
# Query parameters that are a visit's, not the page's.
_VOLATILE_PARAMS = {"_xftoken", "_xfrequesturi", "_xfwithdata", "_xfresponsetype", "_xfnoredirect"}
# `time: {now: 1562130994, today: 1562108400, ...}` (XF2) / `serverTimeInfo: {now: ..., today: ...}` (XF1):
# the server's clock and the unix time of the viewer's local midnight, i.e. the page's UTC offset.
_SERVER_TIME = re.compile(r"(?:serverTimeInfo|\btime)\s*:\s*\{\s*now\s*:\s*(\d+)\s*,\s*today\s*:\s*(\d+)")
_EDITED_BY_MODERATOR = re.compile(r"\bby a moderator\b", re.I)


def _has_class(name: str) -> str:
    """XPath predicate: the element's class list contains exactly ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_XF2_POSTS = f"//*[starts-with(@data-content, 'post-')][{_has_class('message')}]"
_XF1_POSTS = f"//li[starts-with(@id, 'post-')][{_has_class('message')}]"
_XF2_THREAD_ROWS = f"//*[{_has_class('structItem--thread')}][contains(@class, 'js-threadListItem-')]"
_XF1_THREAD_ROWS = f"//li[starts-with(@id, 'thread-')][{_has_class('discussionListItem')}]"
_QUOTE_BLOCKS = f".//*[self::blockquote or self::div][{_has_class('bbCodeBlock--quote')} or {_has_class('bbCodeQuote')}]"
_SMILIES = ".//img[contains(@class, 'smilie') or contains(@class, 'Smilie')]"


# --- URLs ----------------------------------------------------------------------------------------

def canonical_url(url: str) -> str:
    """The form of a URL we store and de-duplicate on: no fragment, no CSRF token, no ``page-1``.

    The query is filtered piece by piece and otherwise kept as written, because XenForo without
    friendly URLs puts the route itself in it (``index.php?threads/slug.12/``).
    """
    parts = urlsplit(url)
    query = "&".join(
        piece for piece in parts.query.split("&")
        if piece and piece.split("=", 1)[0].lower() not in _VOLATILE_PARAMS
    )
    path = parts.path
    if _THREAD.search(path) or _FORUM.search(path):
        path = re.sub(r"/page-1/?$", "/", path)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def thread_id_from_url(url: str | None) -> str | None:
    match = _THREAD.search(_route(url))
    return match.group(1) if match else None


def forum_id_from_url(url: str | None) -> str | None:
    match = _FORUM.search(_route(url))
    return match.group(1) if match else None


def member_id_from_url(url: str | None) -> str | None:
    match = _MEMBER.search(_route(url))
    return match.group(1) if match else None


def _route(url: str | None) -> str:
    """Path and query of a URL, where XenForo's route lives; never the host or fragment."""
    parts = urlsplit(url or "")
    return parts.path + ("?" + parts.query if parts.query else "")


def _thread_url(href: str) -> str:
    """A thread link cut back to the thread itself (drops /unread, /latest, /post-N, /page-N)."""
    match = _THREAD.search(href)
    if not match:
        return canonical_url(href)
    return canonical_url(href[: match.end()] + "/")


def _page_from_url(url: str) -> int | None:
    match = _PAGE.search(_route(url))
    return int(match.group(1)) if match else None


# --- Shared page helpers -------------------------------------------------------------------------

def _selector(sel) -> Selector:
    return sel.selector if hasattr(sel, "selector") and not isinstance(sel, Selector) else sel


def _base_url(sel: Selector, url: str) -> str:
    """What relative links resolve against: ``<base href>`` (XF1), else the page's own path on the
    forum's own host as its canonical link names it. XF2 links are root-relative, and a page fetched
    from a mirror or 127.0.0.1 must yield the same post URLs and images as one fetched from the forum."""
    base = sel.xpath("//head/base/@href").get()
    if base:
        return urljoin(url, base)
    canonical = urlsplit(urljoin(url, sel.xpath("//head/link[@rel='canonical']/@href").get() or ""))
    page = urlsplit(url)
    if canonical.scheme in ("http", "https") and canonical.netloc:
        return urlunsplit((canonical.scheme, canonical.netloc, page.path, page.query, ""))
    return url


def _text(node) -> str:
    """Whitespace-collapsed text of a parsel selector or lxml element."""
    if hasattr(node, "root") and not isinstance(node.root, str):
        node = node.root
    return " ".join(" ".join(node.itertext()).split()) if node is not None else ""


def _is_xf1(sel: Selector) -> bool:
    if sel.xpath("/html[@id='XenForo']"):
        return True
    return not sel.xpath("/html[@id='XF']") and bool(sel.xpath(_XF1_POSTS + " | " + _XF1_THREAD_ROWS))


def _template(sel: Selector) -> str | None:
    return sel.xpath("/html/@data-template").get() or sel.xpath("//body/@data-template").get()


def _count(text: str | None) -> int | None:
    """A count as XenForo prints it: "1,234", "12K", "1.2M"; "–" (a redirect) is None."""
    match = _COUNT.search(text or "")
    if not match:
        return None
    number, suffix = match.group(1), (match.group(2) or "").upper()
    if suffix:
        return round(float(number.replace(",", "")) * (1000 if suffix == "K" else 1_000_000))
    return int(re.sub(r"[,.]", "", number))


def _server_clock(sel: Selector) -> tuple[datetime, timedelta] | None:
    """(server time, UTC offset the page was rendered in) from XenForo's JS config, or None."""
    match = _SERVER_TIME.search(" ".join(sel.xpath("//script[contains(., 'today')]/text()").getall()))
    if not match:
        return None
    seconds = (-int(match.group(2))) % 86400  # local midnight is 00:00 local: offset = -today mod 1 day
    if seconds > 14 * 3600:
        seconds -= 86400
    return datetime.fromtimestamp(int(match.group(1)), timezone.utc), timedelta(seconds=seconds)


def _page_dates(sel: Selector, dates: DateResolver) -> DateResolver:
    """Printed dates are in the viewer's timezone. Keep the site's IANA zone (it knows DST) when it
    agrees with the offset the page declares; otherwise trust the page."""
    clock = _server_clock(sel)
    if clock is None:
        return dates
    now, offset = clock
    if now.astimezone(dates.tz).utcoffset() == offset:
        return dates
    return dates.with_tz(timezone(offset))


def _time_of(node, dates: DateResolver) -> tuple[datetime | None, str | None]:
    """(UTC instant, printed text) of a XenForo date element: ``time`` (XF2) or ``.DateTime`` (XF1).

    ``datetime`` and unix ``data-time``/``data-timestamp`` are exact; the printed text ("Today at
    9:14 AM", XF1's ``title="Oct 30, 2014 at 10:48 PM"``) is the fallback."""
    if node is None:
        return None, None
    element = node.root if hasattr(node, "root") else node
    printed = element.get("title") or _text(element) or None
    iso = element.get("datetime")
    if iso:
        try:
            return datetime.strptime(iso.strip(), "%Y-%m-%dT%H:%M:%S%z").astimezone(timezone.utc), printed
        except ValueError:
            pass
    for attr in ("data-timestamp", "data-time"):
        value = (element.get(attr) or "").strip()
        if value.isdigit():
            return datetime.fromtimestamp(int(value), timezone.utc), printed
    # XF1 prints a title only on dates older than a week; the visible text otherwise.
    parsed = dates.parse(element.get("title")) or dates.parse(_text(element))
    return parsed, printed


def _first(nodes):
    return nodes[0] if nodes else None


def _breadcrumbs(sel: Selector, base: str) -> list[tuple[str, str]]:
    """(title, url) of the top breadcrumb trail: XF2 ``ul.p-breadcrumbs``, XF1 ``.breadcrumb a.crumb``."""
    trail = sel.xpath(f"(//ul[{_has_class('p-breadcrumbs')}])[1]//li//a[@href]")
    if not trail:
        trail = sel.xpath("(//*[contains(@class, 'breadcrumb')][.//a[contains(@class, 'crumb')]])[1]"
                          "//a[contains(@class, 'crumb')]")
    crumbs = []
    for link in trail:
        name = link.xpath(".//*[@itemprop='name' or @itemprop='title']")
        title = _text(name[0]) if name else _text(link)
        if title:
            crumbs.append((title, urljoin(base, link.attrib["href"])))
    return crumbs


def _node_path(crumbs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The crumbs that are categories or forums (not the home page or the forum list)."""
    return [(t, u) for t, u in crumbs if forum_id_from_url(u) or _category_id(u)]


def _category_id(url: str) -> str | None:
    match = _CATEGORY.search(_route(url)) or _CATEGORY_ANCHOR.match(urlsplit(url).fragment)
    return match.group(1) if match else None


def _page_title(sel: Selector) -> str | None:
    """The page heading without thread prefixes (XF2 ``.label``, XF1 ``.prefix``)."""
    for heading in sel.xpath(f"//h1[{_has_class('p-title-value')}] | //div[{_has_class('titleBar')}]/h1"):
        root = heading.root
        skip = set(root.xpath(".//*[contains(@class, 'label') or contains(@class, 'prefix')]"))
        text = " ".join("".join(_own_text(root, skip)).split())
        if text:
            return text
    title = sel.xpath("//meta[@property='og:title']/@content").get()
    return " ".join(title.split()) if title else None


def _own_text(element, skip) -> list[str]:
    parts = [element.text or ""]
    for child in element:
        if child not in skip:
            parts.extend(_own_text(child, skip))
        parts.append(child.tail or "")
    return parts


def _pages(sel: Selector, url: str) -> tuple[int, int | None]:
    """(current page, page count) from XF2 ``.pageNav`` or XF1 ``.PageNav``."""
    nav = sel.xpath("//*[contains(@class, 'PageNav')][@data-page]")
    if nav:
        last = nav[0].attrib.get("data-last")
        return int(nav[0].attrib["data-page"]), int(last) if last and last.isdigit() else None
    current = _count(_text(_first(sel.xpath(f"//li[{_has_class('pageNav-page--current')}]"))))
    numbers = [_count(t) for t in sel.xpath(f"//ul[{_has_class('pageNav-main')}]/li/a/text()").getall()]
    numbers = [n for n in numbers if n]
    page = current or _page_from_url(url) or 1
    return page, max(numbers + [page]) if numbers or current else None


def _next_page(sel: Selector, base: str) -> str | None:
    href = (
        sel.xpath(f"//a[{_has_class('pageNav-jump--next')}]/@href").get()
        or sel.xpath(f"//a[{_has_class('pageNavSimple-el--next')}]/@href").get()
        or sel.xpath("//head/link[@rel='next']/@href").get()
        or sel.xpath("//*[contains(@class, 'PageNav')]//a[contains(@class, 'text')][contains(., 'Next')]/@href").get()
    )
    if href:
        return canonical_url(urljoin(base, href))
    nav = sel.xpath("//*[contains(@class, 'PageNav')][@data-page][@data-last][@data-baseurl]")
    if nav:  # XF1 with JS-only next arrows: build page N+1 from the template URL
        page, last = int(nav[0].attrib["data-page"]), int(nav[0].attrib["data-last"])
        sentinel = nav[0].attrib.get("data-sentinel", "{{sentinel}}")
        if page < last:
            return canonical_url(urljoin(base, nav[0].attrib["data-baseurl"].replace(sentinel, str(page + 1))))
    return None


# --- Thread pages --------------------------------------------------------------------------------

def parse_thread_page(sel: Selector, url: str, dates: DateResolver) -> ThreadPage:
    """Every post on one thread_view page, in page order, with the thread's identity and next page."""
    sel = _selector(sel)
    base = _base_url(sel, url)
    dates = _page_dates(sel, dates)
    crumbs = _node_path(_breadcrumbs(sel, base))
    forum_crumbs = [(t, u) for t, u in crumbs if forum_id_from_url(u)]
    page, page_count = _pages(sel, url)
    xf1 = _is_xf1(sel)
    posts, unparsed = [], 0
    for node in sel.xpath(_XF1_POSTS if xf1 else _XF2_POSTS):
        post = _parse_xf1_post(node, base, dates) if xf1 else _parse_xf2_post(node, base, dates)
        if post.posted_at is None and not post.is_deleted:
            unparsed += 1
        posts.append(post)
    canonical = sel.xpath("//head/link[@rel='canonical']/@href").get()
    return ThreadPage(
        thread_id=_thread_id(sel, url, base),
        title=_page_title(sel),
        forum_id=forum_id_from_url(forum_crumbs[-1][1]) if forum_crumbs else None,
        forum_path=[t for t, _ in crumbs],
        page=page,
        page_count=page_count,
        posts=posts,
        next_page=_next_page(sel, base),
        canonical_url=canonical_url(urljoin(base, canonical or url)),
        unparsed_dates=unparsed,
    )


def _thread_id(sel: Selector, url: str, base: str) -> str | None:
    key = sel.xpath("/html/@data-content-key").get() or ""
    if key.startswith("thread-") and key[7:].isdigit():
        return key[7:]
    for href in (sel.xpath("//head/link[@rel='canonical']/@href").get(),
                 sel.xpath("//*[contains(@class, 'PageNav')]/@data-baseurl").get(), url):
        thread_id = thread_id_from_url(urljoin(base, href)) if href else None
        if thread_id:
            return thread_id
    return None


def _quote_record(block, nested: list) -> dict:
    """One quote: who said it, which post (``data-source="post: N"``, XF1's goto link), its own text."""
    author = block.get("data-quote") or block.get("data-author")
    title = _first(block.xpath(f".//*[{_has_class('bbCodeBlock-title')} or {_has_class('attribution')}]"))
    if not author and title is not None:
        author = re.sub(r"\s*said:?\s*\W*$", "", _text(title)) or None
    post_id = None
    for candidate in [block.get("data-source")] + (title.xpath(".//a/@href") if title is not None else []):
        match = _QUOTED_POST.search(candidate or "")
        if match:
            post_id = next(g for g in match.groups() if g)
            break
    inner = [e for e in block.xpath(f".//*[{_has_class('bbCodeBlock-expandContent')} or {_has_class('quote')}]")
             if not any(n in e.iterancestors() for n in nested)]
    skip = set(nested) | set(block.xpath(
        f".//*[{_has_class('bbCodeBlock-expandLink')} or {_has_class('quoteExpand')}"
        f" or {_has_class('bbCodeBlock-title')} or {_has_class('attribution')}]"))
    return {"author": author.strip() if author else None, "post_id": post_id,
            "text": element_text(inner[0] if inner else block, skip=frozenset(skip))}


def _body_parts(body, base: str) -> dict:
    """Text, HTML, quotes, images and links of a post body (an lxml element)."""
    blocks = body.xpath(_QUOTE_BLOCKS)
    quotes = [_quote_record(b, [o for o in blocks if o is not b and b in o.iterancestors()]) for b in blocks]
    # Quotes are someone else's words; drawings (XF1 dice add-on SVG) are not words at all.
    text_skip = frozenset(blocks) | frozenset(body.xpath(".//*[local-name()='svg']"))
    image_skip = frozenset(blocks) | frozenset(body.xpath(_SMILIES))
    return {
        "body_text": element_text(body, text_skip),
        "body_html": outer_html(body).strip(),
        "quotes": quotes,
        "images": image_urls(body, base, image_skip),
        "links": link_urls(body, base, frozenset(blocks)),
    }


def _attachments(scope, base: str, images: list[str], links: list[str]) -> None:
    """Add a post's attachment list: thumbnails become their full-size attachment, files are links."""
    for item in scope.xpath(f".//*[{_has_class('attachmentList')}]/li"):
        found = image_urls(item, base)
        for url in found:
            if url not in images:
                images.append(url)
        if not found:
            for url in link_urls(item, base):
                if url not in links:
                    links.append(url)


def _edit(scope, dates: DateResolver, author: str | None) -> tuple[str | None, datetime | None]:
    """XenForo prints "Last edited: <date>" (by the author) or "Last edited by a moderator: <date>"."""
    note = _first(scope.xpath(f".//*[{_has_class('message-lastEdit')} or {_has_class('editDate')}]"))
    if note is None:
        return None, None
    when, _ = _time_of(_first(note.xpath(".//time | .//*[contains(@class, 'DateTime')]")), dates)
    return (None if _EDITED_BY_MODERATOR.search(_text(note)) else author), when


def _signature(scope) -> str | None:
    sig = _first(scope.xpath(f".//*[{_has_class('message-signature')} or {_has_class('signature')}]"))
    text = element_text(sig) if sig is not None else ""
    return text or None


def _user_id(scope) -> str | None:
    """Member id of the first ``.username`` in scope; guests have ``data-user-id="0"`` or no link."""
    for user in scope.xpath(f".//*[{_has_class('username')}]"):
        uid = (user.get("data-user-id") or "").strip()
        if uid.isdigit():
            return uid if uid != "0" else None
        from_href = member_id_from_url(user.get("href"))
        if from_href:
            return from_href
    return None


def _parse_xf2_post(node, base: str, dates: DateResolver) -> ParsedPost:
    root = node.root
    post_id = root.get("data-content").split("-", 1)[1]
    author = (root.get("data-author") or "").strip() or None
    header = _first(root.xpath(f".//*[{_has_class('message-attribution')}]"))
    scope = header if header is not None else root
    posted_at, printed = _time_of(_first(scope.xpath(".//time")), dates)
    position, url = None, None
    for link in scope.xpath(f".//*[{_has_class('message-attribution-opposite')}]//a[@href]"):
        match = _POSITION.match(_text(link))
        if match:
            position, url = _count(match.group(1)), urljoin(base, link.get("href"))
            break
    if url is None:
        href = _first(scope.xpath(".//a[contains(@href, '/post-') or contains(@href, 'posts/')]/@href"))
        url = urljoin(base, href) if href else None
    user_scope = _first(root.xpath(f".//*[{_has_class('message-user')} or {_has_class('message-userDetails')}]"))
    author_id = _user_id(user_scope) if user_scope is not None else None
    if author_id is None:
        author_id = _user_id(scope)
    common = dict(post_id=post_id, position=position, author=author, author_id=author_id,
                  posted_at=posted_at, posted_at_text=printed, url=url)
    body = _first(root.xpath(f".//*[{_has_class('message-body')}]//*[{_has_class('bbWrapper')}]")
                  or root.xpath(f".//*[{_has_class('bbWrapper')}][not(ancestor::*[{_has_class('message-signature')}])]"))
    if _has(root, "message--deleted") or body is None:
        # A post without a body we can find is only "deleted" when its placeholder class says so.
        return ParsedPost(**common, body_text=None, body_html=None, is_deleted=_has(root, "message--deleted"))
    parts = _body_parts(body, base)
    content = _first(root.xpath(f".//*[{_has_class('message-userContent')}]"))
    _attachments(content if content is not None else root, base, parts["images"], parts["links"])
    edited_by, edited_at = _edit(root, dates, author)
    return ParsedPost(**common, **parts, edited_at=edited_at, edited_by=edited_by, signature=_signature(root))


def _parse_xf1_post(node, base: str, dates: DateResolver) -> ParsedPost:
    root = node.root
    post_id = root.get("id").split("-", 1)[1]
    author = (root.get("data-author") or "").strip() or None
    meta = _first(root.xpath(f".//*[{_has_class('messageMeta')}]"))
    scope = meta if meta is not None else root
    date_el = _first(scope.xpath(".//*[contains(@class, 'datePermalink')]//*[contains(@class, 'DateTime')]")
                     or scope.xpath(".//*[contains(@class, 'DateTime')][not(ancestor::*[contains(@class, 'editDate')])]"))
    posted_at, printed = _time_of(date_el, dates)
    number = _first(root.xpath(".//a[contains(@class, 'postNumber')]"))
    match = _POSITION.match(_text(number)) if number is not None else None
    position = _count(match.group(1)) if match else None
    href = number.get("href") if number is not None else _first(root.xpath(".//a[contains(@class, 'datePermalink')]/@href"))
    user_block = _first(root.xpath(f".//*[{_has_class('messageUserInfo')}]"))
    author_id = _user_id(user_block if user_block is not None else root)
    common = dict(post_id=post_id, position=position, author=author, author_id=author_id,
                  posted_at=posted_at, posted_at_text=printed, url=urljoin(base, href) if href else None)
    body = _first(root.xpath(f".//blockquote[{_has_class('messageText')}]"))
    if _has(root, "deleted") or body is None:
        return ParsedPost(**common, body_text=None, body_html=None, is_deleted=_has(root, "deleted"))
    parts = _body_parts(body, base)
    _attachments(root, base, parts["images"], parts["links"])
    edited_by, edited_at = _edit(root, dates, author)
    return ParsedPost(**common, **parts, edited_at=edited_at, edited_by=edited_by, signature=_signature(root))


def _has(element, class_name: str) -> bool:
    return class_name in (element.get("class") or "").split()


# --- Listing pages (forum list, forum view) -------------------------------------------------------

def parse_listing_page(sel: Selector, url: str, dates: DateResolver) -> ListingPage:
    """Forums linked from the page (nodes and sub-forums), its thread rows, and the next listing page."""
    sel = _selector(sel)
    base = _base_url(sel, url)
    dates = _page_dates(sel, dates)
    own_id = forum_id_from_url(url) or _container_forum_id(sel)
    forums: dict[str, ForumLink] = {}
    for link in sel.xpath(
        "//*[contains(@class, 'node-title') or contains(@class, 'nodeTitle')]//a[@href]"
        f" | //a[{_has_class('subNodeLink--forum')}]"
    ):
        href = canonical_url(urljoin(base, link.attrib["href"]))
        forum_id, title = forum_id_from_url(href), _text(link)
        if forum_id and title and forum_id != own_id and forum_id not in forums:
            forums[forum_id] = ForumLink(forum_id=forum_id, title=title, url=href)
    threads: dict[str, ThreadLink] = {}
    for row in sel.xpath(_XF2_THREAD_ROWS):
        thread = _xf2_thread_row(row.root, base, dates)
        if thread:
            threads.setdefault(thread.thread_id, thread)
    for row in sel.xpath(_XF1_THREAD_ROWS):
        thread = _xf1_thread_row(row.root, base, dates)
        if thread:
            threads.setdefault(thread.thread_id, thread)
    title = _page_title(sel) if own_id else None
    path = [t for t, _ in _node_path(_breadcrumbs(sel, base))] if own_id else []
    if own_id and title and (not path or path[-1] != title):
        path.append(title)
    page, _ = _pages(sel, url)
    return ListingPage(
        forum_id=own_id,
        title=title,
        forum_path=path,
        forums=list(forums.values()),
        threads=list(threads.values()),
        next_page=_next_page(sel, base) if threads else None,
        page=page,
    )


def _container_forum_id(sel: Selector) -> str | None:
    """XF2 forum_view pages name their node: ``data-container-key="node-7"``."""
    if _template(sel) != "forum_view":
        return None
    key = sel.xpath("/html/@data-container-key").get() or ""
    return key[5:] if key.startswith("node-") and key[5:].isdigit() else None


def _thread_link(row, title_query: str):
    """The title link of a thread row: the last link in the title that goes to a thread (prefix
    labels link to the forum filtered by prefix)."""
    links = [a for a in row.xpath(title_query) if _THREAD.search(_route(a.get("href")))]
    primary = [a for a in links if a.get("data-tp-primary") == "on"]
    return (primary or links or [None])[-1]


def _xf2_thread_row(row, base: str, dates: DateResolver) -> ThreadLink | None:
    link = _thread_link(row, f".//*[{_has_class('structItem-title')}]//a[@href]")
    thread_id = re.search(r"js-threadListItem-(\d+)", row.get("class")).group(1)
    if link is None:
        return None
    moved = bool(row.xpath(f".//*[{_has_class('structItem-status--redirect')}]"))
    sticky = bool(row.xpath(f".//*[{_has_class('structItem-status--sticky')}]"
                            f" | ancestor::*[{_has_class('structItemContainer-group--sticky')}]"))
    stats = [_count(_text(dd)) for dd in row.xpath(f".//*[{_has_class('structItem-cell--meta')}]//dl/dd")]
    latest = _first(row.xpath(f".//*[{_has_class('structItem-latestDate')}]"
                              f" | .//*[{_has_class('structItem-cell--latest')}]//time"))
    author = (row.get("data-author") or "").strip() or _text(_first(row.xpath(
        f".//*[{_has_class('structItem-parts')}]//*[{_has_class('username')}]"))) or None
    return ThreadLink(
        thread_id=thread_id,
        title=_text(link),
        url=_thread_url(urljoin(base, link.get("href"))),
        author=author,
        reply_count=None if moved or not stats else stats[0],
        view_count=None if moved or len(stats) < 2 else stats[1],
        last_post_at=None if moved else _time_of(latest, dates)[0],
        sticky=sticky,
        moved=moved,
    )


def _xf1_thread_row(row, base: str, dates: DateResolver) -> ThreadLink | None:
    link = _thread_link(row, ".//*[contains(@class, 'title')]//a[@href]")
    if link is None:
        return None
    classes = (row.get("class") or "").split()
    moved = "moved" in classes or "redirect" in classes
    replies = _count(_text(_first(row.xpath(".//dl[contains(@class, 'major')]/dd"))))
    views = _count(_text(_first(row.xpath(".//dl[contains(@class, 'minor')]/dd"))))
    latest = _first(row.xpath(".//*[contains(@class, 'lastPost')]//*[contains(@class, 'DateTime')]"))
    return ThreadLink(
        thread_id=row.get("id").split("-", 1)[1],
        title=_text(link),
        url=_thread_url(urljoin(base, link.get("href"))),
        author=(row.get("data-author") or "").strip() or None,
        reply_count=None if moved else replies,
        view_count=None if moved else views,
        last_post_at=None if moved else _time_of(latest, dates)[0],
        sticky="sticky" in classes,
        moved=moved,
    )


# --- Page kinds ----------------------------------------------------------------------------------

def page_kind(sel: Selector) -> str | None:
    """"thread", "listing" or None (a page this engine does not recognise)."""
    sel = _selector(sel)
    template = _template(sel)
    if sel.xpath(_XF2_POSTS + " | " + _XF1_POSTS) or template == "thread_view":
        return "thread"
    if template in ("forum_list", "forum_view", "category_view") or sel.xpath(
        _XF2_THREAD_ROWS + " | " + _XF1_THREAD_ROWS
        + f" | //*[{_has_class('node--forum')}] | //li[{_has_class('node')}][{_has_class('forum')}]"
    ):
        return "listing"
    return None
