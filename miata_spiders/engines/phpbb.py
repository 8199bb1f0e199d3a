"""phpBB 3.0-3.3 page parsers (prosilver and the styles built on it), keyed on what phpBB's own
templates print and styles keep: ``div#p{id}.post``, ``p.author``, ``div.content``, ``div#sig{id}``,
``dl.attachbox``, ``ul.topiclist.topics``/``.forums`` with ``a.topictitle``/``a.forumtitle``, and the
``viewtopic.php?t=``/``viewforum.php?f=``/``memberlist.php?mode=viewprofile&u=`` URLs.

What differs between versions and is handled here:
- post dates: loose text after "»" in ``p.author`` (3.0, 3.1) or ``<time datetime>`` in UTC (3.2+);
- quotes: ``<cite>X wrote:</cite>`` (3.0, 3.1) or a cite with profile link, quoted-post link
  (``data-post-id``) and date (3.2+); ``blockquote.uncited`` without a name;
- the footer timezone: "All times are UTC - 5 hours [ DST ]" (3.0) or
  "All times are <span title="Europe/London">UTC+01:00</span>" (3.1+);
- pagination: "Page <strong>2</strong> of ..." with bare links (3.0) or ``li.active``/``a[rel=next]`` (3.1+).

prosilver prints no post numbers, so a post's position is the page's ``start`` offset plus its index
on the page. subsilver2 (a table layout) is not supported: ``page_kind`` returns None for it.

Every function is pure: a parsel ``Selector`` (or Scrapy response) and its URL in, records out.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parsel import Selector

from miata_spiders.dates import DateResolver
from miata_spiders.engines.html_text import element_text, image_urls, link_urls, outer_html
from miata_spiders.engines.records import ForumLink, ListingPage, ParsedPost, ThreadLink, ThreadPage

NAME = "phpbb"

# Query parameters that identify a visit, not a page: the session id phpBB appends to every link for
# cookie-less visitors, and search-word highlighting.
_VOLATILE_PARAMS = {"sid", "hilit", "highlight"}
_POST_ID = re.compile(r"^p(\d+)$")
_DIGITS = re.compile(r"\d[\d,.\s]*")
_EDITED = re.compile(
    r"Last edited by\s+(?P<who>.+?)\s+on\s+(?P<when>.+?),\s*edited\s+\d+\s+times?\s+in\s+total", re.S | re.I
)
_WROTE = re.compile(r"\s*wrote\s*:?\s*$", re.I)
_PAGE_OF = re.compile(r"Page\s+(\d+)\s+of\s+(\d+)", re.I)
_PER_PAGE_JS = re.compile(r"\bper_page\s*=\s*'(\d+)'")
# "All times are UTC - 5 hours [ DST ]" (3.0) / "All times are UTC-05:00" (3.1+)
_FOOTER_OFFSET = re.compile(
    r"All times are\s*(?:UTC|GMT)\s*(?:(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::(?P<minutes>\d{2}))?)?", re.I
)
_DST = re.compile(r"\[\s*DST\s*\]")
_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"


def _has_class(name: str) -> str:
    return _CLASS.format(name)


# --- URLs ----------------------------------------------------------------------------------------

def canonical_url(url: str) -> str:
    """The form of a URL we store and de-duplicate on: no session id, no fragment, no ``start=0``, and
    no ``f=`` on topic links, since phpBB finds a topic's forum itself and global announcements are
    linked with the id of every forum they are shown in."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _VOLATILE_PARAMS]
    if parts.path.endswith("viewtopic.php") and any(k in ("t", "p") for k, _ in query):
        query = [(k, v) for k, v in query if k != "f"]
    query = [(k, v) for k, v in query if not (k == "start" and v in ("", "0"))]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _without_session(urls: list[str], base: str) -> list[str]:
    """The same URLs minus phpBB's ``sid`` on links to this board, so a post's links and images (and so
    its content hash) do not change with the visitor's session; the order and fragments are kept."""
    host = urlsplit(base).netloc
    cleaned: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        if parts.netloc == host and "sid=" in parts.query:
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "sid"]
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
        if url not in cleaned:
            cleaned.append(url)
    return cleaned


def _query_value(url: str | None, key: str) -> str | None:
    if not url:
        return None
    for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if k == key and v.isdigit():
            return v
    return None


def forum_id_from_url(url: str | None) -> str | None:
    return _query_value(url, "f") if url and "viewforum.php" in url else None


def thread_id_from_url(url: str | None) -> str | None:
    return _query_value(url, "t") if url and "viewtopic.php" in url else None


def member_id_from_url(url: str | None) -> str | None:
    return _query_value(url, "u") if url and "memberlist.php" in url else None


def _base_url(sel: Selector, url: str) -> str:
    """What relative links resolve against: ``<base href>``, else the page's own path on the host its
    canonical link names (phpBB 3.2+ prints one), so a page fetched from a mirror or 127.0.0.1 yields
    the forum's own URLs, and the same content hashes, as the live page."""
    base = sel.xpath("//head/base/@href").get()
    if base:
        return urljoin(url, base)
    canonical = urlsplit(sel.xpath("//link[@rel='canonical']/@href").get() or "")
    if canonical.scheme in ("http", "https") and canonical.netloc:
        parts = urlsplit(url)
        return urlunsplit((canonical.scheme, canonical.netloc, parts.path, parts.query, ""))
    return url


def _selector(sel) -> Selector:
    return sel.selector if hasattr(sel, "selector") and not isinstance(sel, Selector) else sel


def _text(node) -> str:
    """Whitespace-collapsed text of a parsel node or lxml element."""
    if isinstance(node, Selector):
        raw = node.xpath("string()").get() or ""
    else:
        raw = "".join(node.itertext())
    return " ".join(raw.replace("\xa0", " ").split())


def _int(text: str | None) -> int | None:
    match = _DIGITS.search(text or "")
    if not match:
        return None
    digits = re.sub(r"\D", "", match.group(0))
    return int(digits) if digits else None


# --- Dates ---------------------------------------------------------------------------------------

def timezone_from_footer(sel: Selector) -> tzinfo | None:
    """The timezone a phpBB page was rendered in, from its "All times are ..." footer.

    3.1+ names the zone in the span's title ("Europe/London"): that zone, DST rules included, is what
    every date on the page was rendered in. 3.0 prints a fixed offset, plus "[ DST ]" when the board or
    user has its daylight-saving box ticked, which phpBB 3.0 applies as one more hour all year round.
    """
    holder = sel.xpath("(//*[text()[contains(., 'All times are')]])[1]")
    if not holder:
        return None
    title = (holder[0].xpath(".//span/@title").get() or "").strip()
    if "/" in title:
        try:
            return ZoneInfo(title.replace(" ", "_"))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    text = _text(holder[0])
    match = _FOOTER_OFFSET.search(text)
    if not match:
        return None
    delta = timedelta(hours=int(match.group("hours") or 0), minutes=int(match.group("minutes") or 0))
    if match.group("sign") == "-":
        delta = -delta
    if _DST.search(text):
        delta += timedelta(hours=1)
    return timezone(delta)


def _page_dates(sel: Selector, dates: DateResolver) -> DateResolver:
    return dates.with_tz(timezone_from_footer(sel))


def _parse_date(text: str | None, dates: DateResolver) -> datetime | None:
    if not text:
        return None
    if text.strip().lower().startswith("less than a minute ago"):  # phpBB 3.1+ relative dates
        return dates.now.astimezone(timezone.utc)
    return dates.parse(text)


def _iso_time(value: str | None) -> datetime | None:
    """A ``<time datetime>`` value (phpBB 3.2+ prints it in UTC, RFC 3339) as a UTC datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(timezone.utc)


def _dated(node, dates: DateResolver, after: str | None = None) -> tuple[datetime | None, str | None]:
    """(UTC datetime, printed text) of the date in ``node``: its ``<time datetime>`` when there is one,
    else the loose text after the last ``after`` marker."""
    time = node.xpath(".//time[@datetime]")
    if time:
        printed = _text(time[0]) or None
        return _iso_time(time[0].attrib.get("datetime")) or _parse_date(printed, dates), printed
    text = _text(node)
    if after is not None:
        if after not in text:
            return None, None
        text = text.rsplit(after, 1)[1].strip()
    return _parse_date(text, dates), text or None


# --- Paging --------------------------------------------------------------------------------------

def _paginations(sel: Selector):
    """The page's own pagination blocks, not the per-topic page links inside listing rows."""
    return sel.xpath(f"//*[{_has_class('pagination')}][not(ancestor::li[{_has_class('row')}])]")


def _paging(sel: Selector, url: str) -> tuple[int, int | None, int | None, int | None]:
    """(page, page_count, per_page, start offset) from the pagination, the URL and phpBB 3.0's JS vars."""
    page = page_count = per_page = None
    links: list[tuple[int, int]] = []  # (page number, start offset) of numbered page links
    for block in _paginations(sel):
        text = _text(block)
        match = _PAGE_OF.search(text)
        if match and page is None:
            page, page_count = int(match.group(1)), int(match.group(2))
        if page is None:
            current = block.xpath(f".//li[{_has_class('active')}]/span/text()").get() \
                or block.xpath("./span/strong/text()").get()
            if current and current.strip().isdigit():
                page = int(current.strip())
        for link in block.xpath(".//a[@href]"):
            label = _text(link)
            if label.isdigit():
                links.append((int(label), int(_query_value(link.attrib["href"], "start") or 0)))
    js = _PER_PAGE_JS.search(" ".join(sel.xpath("//script/text()").getall()))
    data_per_page = sel.xpath("//*[@data-per-page]/@data-per-page").get()
    if js:
        per_page = int(js.group(1))
    elif data_per_page and data_per_page.isdigit():
        per_page = int(data_per_page)
    else:
        steps = [start // (number - 1) for number, start in links if number > 1 and start]
        per_page = min(steps) if steps else None
    start = _query_value(url, "start")
    start = int(start) if start is not None else None
    if page is None:
        page = start // per_page + 1 if start is not None and per_page else 1
    if start is None:
        start = (page - 1) * per_page if per_page else (0 if page == 1 else None)
    numbers = [number for number, _ in links] + [page]
    if page_count is None:
        page_count = max(numbers)
    return page, page_count, per_page, start


def _next_page(sel: Selector, base: str, page: int) -> str | None:
    href = None
    for block in _paginations(sel):
        href = block.xpath(".//a[@rel='next']/@href").get()
        if not href:
            href = next((link.attrib["href"] for link in block.xpath(".//a[@href]")
                         if _text(link) == str(page + 1)), None)
        if href:
            break
    if not href:  # phpBB 3.0 viewtopic's "Next" link under the posts
        href = sel.xpath(f"//fieldset[{_has_class('display-options')}]//a[{_has_class('right-box')}]/@href").get()
    if not href or href.startswith(("#", "javascript")):
        return None
    return canonical_url(urljoin(base, href))


def _forum_crumbs(sel: Selector, base: str) -> list[tuple[str, str]]:
    """(title, url) of the forum links in the header breadcrumbs, board index left out."""
    crumbs = sel.xpath(f"(//ul[{_has_class('navlinks')}])[1]//a[contains(@href, 'viewforum.php')]")
    found = []
    for link in crumbs:
        title = _text(link)
        if title:
            found.append((title, canonical_url(urljoin(base, link.attrib["href"]))))
    return found


# --- Thread pages --------------------------------------------------------------------------------

_POST_NODES = f"//div[re:test(@id, '^p\\d+$')][{_has_class('post')}]"


def parse_thread_page(sel: Selector, url: str, dates: DateResolver) -> ThreadPage:
    """Every post on one viewtopic page, in page order, with the topic's identity and next page."""
    sel = _selector(sel)
    base = _base_url(sel, url)
    dates = _page_dates(sel, dates)
    crumbs = _forum_crumbs(sel, base)
    forum_id = forum_id_from_url(crumbs[-1][1]) if crumbs else _query_value(url, "f")
    page, page_count, _, start = _paging(sel, url)
    posts, unparsed = [], 0
    for index, node in enumerate(sel.xpath(_POST_NODES)):
        position = start + index + 1 if start is not None else None
        post = _parse_post(node, base, dates, position)
        if post.posted_at is None and not post.is_deleted:
            unparsed += 1
        posts.append(post)
    thread_id = _thread_id(sel, url)
    # phpBB 3.0 prints no canonical link; a page reached by a post link (viewtopic.php?p=N) is the
    # topic's page all the same.
    canonical = sel.xpath("//link[@rel='canonical']/@href").get()
    if not canonical and thread_id and not _query_value(url, "t"):
        canonical = f"./viewtopic.php?t={thread_id}" + (f"&start={start}" if start else "")
    return ThreadPage(
        thread_id=thread_id,
        title=_thread_title(sel),
        forum_id=forum_id,
        forum_path=[title for title, _ in crumbs],
        page=page,
        page_count=page_count,
        posts=posts,
        next_page=_next_page(sel, base, page),
        canonical_url=canonical_url(urljoin(base, canonical or url)),
        unparsed_dates=unparsed,
    )


def _thread_id(sel: Selector, url: str) -> str | None:
    hidden = sel.xpath("//form[@id='topic-search']//input[@name='t']/@value").get()
    if hidden and hidden.isdigit():
        return hidden
    for href in sel.xpath(
        "//h2//a/@href | //link[@rel='canonical']/@href | //a[contains(@href, 'posting.php') and contains(@href, 'mode=reply')]/@href"
    ).getall():
        found = _query_value(href, "t")
        if found:
            return found
    return thread_id_from_url(url)


def _thread_title(sel: Selector) -> str | None:
    for query in (f"//h2[{_has_class('topic-title')}]", "//div[@id='page-body']/h2"):
        node = sel.xpath(query)
        if node and _text(node[0]):
            return _text(node[0])
    title = _text(sel.xpath("//title")[0]) if sel.xpath("//title") else ""
    if " • " in title:  # 3.0: "Board name • Topic title"
        return title.split(" • ", 1)[1].strip() or None
    return title.rsplit(" - ", 1)[0].strip() or None


def _parse_post(node, base: str, dates: DateResolver, position: int | None) -> ParsedPost:
    post_id = _POST_ID.match(node.attrib["id"]).group(1)
    author_line = node.xpath(f".//p[{_has_class('author')}]")
    author, author_id = _post_author(node, author_line)
    posted_at, posted_text = _dated(author_line[0], dates, after="»") if author_line else (None, None)
    mini = author_line[0].xpath(".//a[contains(@href, 'viewtopic.php')]/@href").get() if author_line else None
    url = canonical_url(urljoin(base, mini or f"./viewtopic.php?p={post_id}"))
    deleted = bool(node.xpath(f"self::*[{_has_class('deleted')}] | .//*[{_has_class('post_deleted_msg')}]"))
    content = node.xpath(f".//div[{_has_class('content')}]")
    signature = _signature(node, post_id)
    edited_by, edited_at = _edit_note(node, dates)
    if not content:
        return ParsedPost(post_id=post_id, position=position, author=author, author_id=author_id,
                          posted_at=posted_at, posted_at_text=posted_text, body_text=None, body_html=None,
                          url=url, edited_at=edited_at, edited_by=edited_by, is_deleted=deleted,
                          signature=signature)
    body = content[0].root
    quotes = list(body.iter("blockquote"))
    smilies = [img for img in body.iter("img") if "smilies" in (img.get("class") or "").split()]
    inline_files = body.xpath(f".//div[{_has_class('inline-attachment')}]")
    # The "Code: Select all" caption of a code box is a button label, not what the poster wrote.
    code_labels = body.xpath(f".//*[{_has_class('codebox')}]/*[self::p or self::dt]")
    skip = frozenset(quotes + inline_files + code_labels)
    images = image_urls(body, base, skip | frozenset(smilies))
    links = link_urls(body, base, skip)
    attachments = inline_files + [box.root for box in node.xpath(f".//dl[{_has_class('attachbox')}]")]
    for box in attachments:
        files_images, files_links = _attachments(box, base)
        images += [u for u in files_images if u not in images]
        links += [u for u in files_links if u not in links]
    return ParsedPost(
        post_id=post_id,
        position=position,
        author=author,
        author_id=author_id,
        posted_at=posted_at,
        posted_at_text=posted_text,
        body_text=element_text(body, skip),
        body_html=outer_html(body).strip(),
        url=url,
        edited_at=edited_at,
        edited_by=edited_by,
        is_deleted=deleted,
        quotes=[_quote_record(q) for q in quotes],
        images=_without_session(images, base),
        links=_without_session(links, base),
        signature=signature,
    )


def _post_author(node, author_line) -> tuple[str | None, str | None]:
    """Name and member id from "by <strong>NAME</strong> »" (a member link, or a bare name or
    ``span.username`` for a guest), else from the profile column."""
    for scope in (author_line[0].xpath(".//strong") if author_line else []) + node.xpath(f".//dl[{_has_class('postprofile')}]/dt"):
        link = scope.xpath(".//a[contains(@href, 'memberlist.php')][normalize-space(string())]")
        if link:
            return _text(link[-1]) or None, member_id_from_url(link[-1].attrib.get("href"))
        name = scope.xpath(f".//span[{_has_class('username')} or {_has_class('username-coloured')}]")
        name = _text(name[0]) if name else _text(scope)
        if name:
            return name, None
    return None, None


def _quote_record(block) -> dict:
    """Author, quoted post id and text of one ``blockquote``, nested quotes left to their own record."""
    cite = block.xpath("./div/cite | ./cite")
    author = post_id = None
    skip = set(block.xpath(".//blockquote"))
    if cite:
        cite = cite[0]
        skip.add(cite)
        member = cite.xpath(".//a[contains(@href, 'memberlist.php')]")
        if member:
            author = _text(member[0]) or None
        else:
            label = "".join(cite.xpath("./text()")) or _text(cite)
            author = _WROTE.sub("", " ".join(label.split())) or None
        post_id = next(iter(cite.xpath(".//a/@data-post-id")), None)
    if post_id is None:
        source = block.get("cite")
        post_id = _query_value(source, "p") if source else None
    inner = block.xpath("./div")
    text = element_text(inner[0] if inner else block, skip=frozenset(skip))
    return {"author": author, "post_id": post_id, "text": text}


def _attachments(box, base: str) -> tuple[list[str], list[str]]:
    """Image URLs and file download URLs of an attachment box: a thumbnail (``dl.thumbnail``) yields the
    full image it links to, an inline image (``dt.attach-image``) its own ``download/file.php?id=N``;
    any other file (whose ``dt`` may show a file-type icon ``img``) is a download link."""
    images, files = [], []
    for dl in box.xpath(f".//dl[{_has_class('file')} or {_has_class('thumbnail')}]"):
        if "thumbnail" in (dl.get("class") or "").split():
            found, into = dl.xpath(".//a[@href][.//img]/@href"), images
        elif dl.xpath(f".//dt[{_has_class('attach-image')}]"):
            found, into = dl.xpath(f".//dt[{_has_class('attach-image')}]//img/@src"), images
        else:
            found, into = dl.xpath(".//a[@href]/@href"), files
        if found:
            url = urljoin(base, found[0])
            if url not in into:
                into.append(url)
    return images, files


def _signature(node, post_id: str) -> str | None:
    sig = node.xpath(f".//div[@id='sig{post_id}'] | .//div[{_has_class('signature')}]")
    if not sig:
        return None
    return element_text(sig[0].root) or None


def _edit_note(node, dates: DateResolver) -> tuple[str | None, datetime | None]:
    for notice in node.xpath(f".//div[{_has_class('notice')}][not({_has_class('post_deleted_msg')})]"):
        match = _EDITED.search(_text(notice))
        if match:
            return match.group("who").strip(), _parse_date(match.group("when"), dates)
    return None, None


# --- Listing pages (index and viewforum) ---------------------------------------------------------

def parse_listing_page(sel: Selector, url: str, dates: DateResolver) -> ListingPage:
    """Forums (rows, sub-forum links, category headers), topics and the next page of an index or
    viewforum page."""
    sel = _selector(sel)
    base = _base_url(sel, url)
    dates = _page_dates(sel, dates)
    own_id = forum_id_from_url(url) or forum_id_from_url(
        sel.xpath(f"//h2[{_has_class('forum-title')}]/a/@href | //div[@id='page-body']/h2/a/@href").get()
    )
    forums: dict[str, ForumLink] = {}
    for link in sel.xpath(
        f"//ul[{_has_class('topiclist')}]/li[{_has_class('header')}]//a[contains(@href, 'viewforum.php')]"
        f" | //ul[{_has_class('forums')}]/li[{_has_class('row')}][.//dd[{_has_class('topics')}]]"
        f"//a[{_has_class('forumtitle')} or {_has_class('subforum')}]"
    ):
        href = canonical_url(urljoin(base, link.attrib.get("href", "")))
        fid = forum_id_from_url(href)
        title = _text(link)
        if fid and title and fid != own_id and fid not in forums:
            forums[fid] = ForumLink(forum_id=fid, title=title, url=href)
    threads: dict[str, ThreadLink] = {}
    for row in sel.xpath(f"//ul[{_has_class('topics')}]/li[{_has_class('row')}][.//a[{_has_class('topictitle')}]]"):
        thread = _thread_row(row, base, dates)
        if thread.thread_id:
            threads.setdefault(thread.thread_id, thread)
    page, _, _, _ = _paging(sel, url)
    title = _listing_title(sel) if own_id else None
    path = [t for t, _ in _forum_crumbs(sel, base)] if own_id else []
    if title and (not path or path[-1] != title):
        path.append(title)
    return ListingPage(
        forum_id=own_id,
        title=title,
        forum_path=path,
        forums=list(forums.values()),
        threads=list(threads.values()),
        next_page=_next_page(sel, base, page) if threads else None,
        page=page,
    )


def _listing_title(sel: Selector) -> str | None:
    for query in (f"//h2[{_has_class('forum-title')}]", "//div[@id='page-body']/h2"):
        node = sel.xpath(query)
        if node and _text(node[0]):
            return _text(node[0])
    return None


def _thread_row(row, base: str, dates: DateResolver) -> ThreadLink:
    link = row.xpath(f".//a[{_has_class('topictitle')}]")[0]
    href = canonical_url(urljoin(base, link.attrib.get("href", "")))
    classes = (row.attrib.get("class") or "").split()
    folder = " ".join(row.xpath("./dl/@class | ./dl/@style | ./dl/dt/@title").getall())
    title_cell = _text(link.xpath("./ancestor::dt[1]")[0]) if link.xpath("./ancestor::dt") else ""
    moved = "topic_moved" in folder or "Moved topic" in folder or title_cell.startswith("Moved:")
    sticky = any(c in classes for c in ("sticky", "announce", "global-announce"))
    last = row.xpath(f".//dd[{_has_class('lastpost')}]")
    last_post_at = None
    if last and not moved:
        time = last[0].xpath(".//time[@datetime]/@datetime").get()
        if time:
            last_post_at = _iso_time(time)
        else:
            after_break = last[0].xpath(".//br[last()]/following-sibling::text()").getall()
            last_post_at = _parse_date(" ".join(" ".join(after_break).split()), dates)
    return ThreadLink(
        thread_id=thread_id_from_url(href),
        title=_text(link),
        url=href,
        author=_topic_author(row, link),
        reply_count=None if moved else _int(row.xpath(f"string(.//dd[{_has_class('posts')}])").get()),
        view_count=None if moved else _int(row.xpath(f"string(.//dd[{_has_class('views')}])").get()),
        last_post_at=last_post_at,
        sticky=sticky,
        moved=moved,
    )


def _topic_author(row, link) -> str | None:
    """The topic starter from "by NAME » first post date": ``div.topic-poster`` (3.2+), the
    ``responsive-hide`` line (3.1) or the title cell itself (3.0)."""
    scope = row.xpath(f".//dt//div[{_has_class('topic-poster')}] | .//dt//div[{_has_class('responsive-hide')}]")
    scope = scope[0] if scope else link.xpath("./ancestor::dt[1]")[0]
    name = scope.xpath(
        f".//a[contains(@href, 'memberlist.php')][not(ancestor::div[{_has_class('responsive-show')}])]"
        f" | .//span[{_has_class('username')} or {_has_class('username-coloured')}]"
    )
    if name:
        return _text(name[0]) or None
    text = _text(scope).split(_text(link), 1)[-1]
    match = re.search(r"\bby\s+(.+?)\s+»", text)
    return match.group(1).strip() if match else None


# --- Page kinds ----------------------------------------------------------------------------------

def page_kind(sel: Selector) -> str | None:
    """"thread", "listing" or None (a page this engine does not recognise)."""
    sel = _selector(sel)
    if sel.xpath(_POST_NODES + f"[.//p[{_has_class('author')}]]"):
        return "thread"
    if sel.xpath(f"//ul[{_has_class('topiclist')}]//a[{_has_class('topictitle')} or {_has_class('forumtitle')}]"):
        return "listing"
    # An empty forum still is a viewforum page: prosilver names the section on <body>.
    body_class = sel.xpath("//body[@id='phpbb']/@class").get() or ""
    if "section-viewforum" in body_class or "section-index" in body_class:
        return "listing"
    return None
