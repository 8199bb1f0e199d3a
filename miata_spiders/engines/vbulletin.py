"""vBulletin page parsers for three generations of markup, keyed on the ids vBulletin itself prints
(``post{id}`` / ``post_{id}``, ``post_message_{id}``, ``postcount{id}``, ``postmenu_{id}``,
``thread_title_{id}``, ``f{id}`` / ``forum{id}``), which every skin keeps:

- Internet Brands' customised vBulletin 3.8/3.9 "nextgen" skin (MiataTurbo.net, rennlist, pprune):
  ``div.tbox``/``div.trow`` layout, SEO URLs; see docs/engines/ib-vbulletin.md;
- classic vBulletin 3.8 (forum.miata.net): table layout, ``showthread.php?t=N`` URLs with session ids;
- vBulletin 4.x: ``li.postcontainer`` posts, ``li.threadbit`` rows, ``li.forumbit_*`` forum rows and
  friendly URLs ``showthread.php/N-slug`` / ``showthread.php?N-slug``.

docs/engines/vbulletin.md describes the classic and 4.x markup and where it comes from.

Every function is pure: a parsel ``Selector`` (or Scrapy response) and its URL in, records out.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta, timezone
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from parsel import Selector

from miata_spiders.dates import DateResolver, offset_from_footer
from miata_spiders.engines.html_text import element_text, image_urls, link_urls, outer_html
from miata_spiders.engines.records import ForumLink, ListingPage, ParsedPost, ThreadLink, ThreadPage

NAME = "vbulletin"

# Query parameters that identify a visit, not a page: session ids, IB's preloading flag, sort echoes.
_VOLATILE_PARAMS = {"s", "ispreloading", "sid", "highlight"}
_POST_ID = re.compile(r"^post_?(\d+)$")
_THREAD_IN_QUERY = re.compile(r"[?&](?:amp;)?t=(\d+)")
_FORUM_IN_QUERY = re.compile(r"[?&](?:amp;)?f=(\d+)")
_POST_IN_LINK = re.compile(r"#post_?(\d+)|[?&](?:amp;)?p=(\d+)")
# vBulletin 4 friendly URLs: showthread.php/123-slug ("advanced"), showthread.php?123-slug ("basic"),
# threads/123-slug ("mod_rewrite"); forums likewise, with /pageN appended for later pages.
_FRIENDLY_THREAD = re.compile(r"(?:showthread\.php[/?]|/threads/)(\d+)(?:-[^/?#&]*)?(?:/page(\d+))?")
_FRIENDLY_FORUM = re.compile(r"(?:forumdisplay\.php[/?]|/forums/)(\d+)(?:-[^/?#&]*)?(?:/page(\d+))?")
# The low-fi archive (vBulletin 3.x and 4.x): archive/index.php/t-123.html, t-123-p-2.html, f-45.html.
_ARCHIVE = re.compile(r"^(?P<root>.*/)archive/index\.php/(?P<kind>[tf])-(?P<id>\d+)(?:-p-\d+)?\.html$")
# IB SEO URLs: /<forum-slug>-<fid>/ and /<forum-slug>-<fid>/<thread-slug>-<tid>/ (pprune: /<fslug>/<tid>-<slug>.html)
_IB_FORUM_URL = re.compile(r"^/(?:[^/]+-)?(\d+)/(?:index(\d+)\.html)?$")
_IB_THREAD_URL = re.compile(r"^/[^/]+/(?:[^/]*-)?(\d+)/(?:page(\d+)/)?$")
_IB_THREAD_HTML = re.compile(r"^/[^/]+/(\d+)-[^/]*?(?:-(\d+))?\.html$")
_MEMBER_ID = re.compile(
    r"(?:members/(?:(\d+)-[^/]*|[^/]*?-(\d+))/?$)|member\.php[/?](\d+)|[?&](?:amp;)?u(?:serid)?=(\d+)")
_EDITED = re.compile(r"Last edited by\s*(?P<who>.+?)\s*;\s*(?P<when>.+?)\s*\.?\s*(?:Reason:.*)?$", re.S)
_DELETED = re.compile(r"\b(deleted|moderated|awaiting moderation)\b", re.I)
_COUNT = re.compile(r"[\d,.]+")
_SESSION_HASH = re.compile(r"(?:amp;)*s=[0-9a-fA-F]{32}")
_FILE_TYPE_ICON = re.compile(r"/images/attach/[^/]+$")


# --- URLs ----------------------------------------------------------------------------------------

def canonical_url(url: str) -> str:
    """The form of a URL we store and de-duplicate on: no session id, no fragment, no IB preload flag;
    an archive view (``archive/index.php/t-N.html``) is the thread (or forum) it shows."""
    parts = urlsplit(url)
    archive = _ARCHIVE.match(parts.path)
    if archive:
        script, key = ("showthread.php", "t") if archive["kind"] == "t" else ("forumdisplay.php", "f")
        return urlunsplit((parts.scheme, parts.netloc, archive["root"] + script, f"{key}={archive['id']}", ""))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, _clean_query(parts.query), ""))


def _clean_query(query: str) -> str:
    """The query without the parameters that identify a visit (``s=`` session ids...). Parameters are
    kept as written: vBulletin 4's ``showthread.php?123-slug`` has a key without a value, which a
    parse/re-encode round trip would turn into ``123-slug=``."""
    kept = []
    for part in query.split("&"):
        # "&amp;s=" survives in hrefs that were escaped twice, and in URLs copied out of page source.
        while part.lower().startswith("amp;"):
            part = part[4:]
        if part and unquote(part.split("=", 1)[0]).lower() not in _VOLATILE_PARAMS:
            kept.append(part)
    return "&".join(kept)


def _without_session(url: str, base: str) -> str:
    """A URL printed in a post (permalink, link to a thread, attachment) without its session id; the
    fragment is kept. Another host's URL only loses an ``s=`` that is a vBulletin session hash (the
    forum's own absolute links, seen from a mirror, are such a host); the rest stays as written."""
    parts = urlsplit(url)
    if parts.netloc == urlsplit(base).netloc:
        query = _clean_query(parts.query)
    else:
        query = "&".join(p for p in parts.query.split("&") if not _SESSION_HASH.fullmatch(p))
    return urlunsplit(parts._replace(query=query))


def forum_id_from_url(url: str) -> str | None:
    match = _FORUM_IN_QUERY.search(url)
    if match and "forumdisplay" in url:
        return match.group(1)
    match = _FRIENDLY_FORUM.search(url)
    if match:
        return match.group(1)
    path = urlsplit(url).path
    archive = _ARCHIVE.match(path)
    if archive:
        return archive["id"] if archive["kind"] == "f" else None
    match = _IB_FORUM_URL.match(path)
    return match.group(1) if match else None


def thread_id_from_url(url: str) -> str | None:
    if "showthread" in url:
        match = _THREAD_IN_QUERY.search(url)
        if match:
            return match.group(1)
    match = _FRIENDLY_THREAD.search(url)
    if match:
        return match.group(1)
    path = urlsplit(url).path
    archive = _ARCHIVE.match(path)
    if archive:
        return archive["id"] if archive["kind"] == "t" else None
    for pattern in (_IB_THREAD_URL, _IB_THREAD_HTML):
        match = pattern.match(path)
        if match:
            return match.group(1)
    return None


def member_id_from_url(url: str | None) -> str | None:
    match = _MEMBER_ID.search(url or "")
    return next((g for g in match.groups() if g), None) if match else None


def _base_url(sel: Selector, url: str) -> str:
    base = sel.xpath("//head/base/@href").get()
    return urljoin(url, base) if base else url


def _int(text: str | None) -> int | None:
    match = _COUNT.search(text or "")
    if not match:
        return None
    digits = re.sub(r"[,.]", "", match.group(0))
    return int(digits) if digits else None


def _page_dates(sel: Selector, dates: DateResolver) -> DateResolver:
    """vBulletin renders every date on a page with one offset: the viewer's offset plus an hour while
    DST is on, whatever the date (its ``vbdate()`` applies a single ``hourdiff``). The footer prints the
    offset without the DST hour ("All times are GMT -5." all summer long). So: the site's offset at the
    time the page was rendered, checked against the footer; a footer that disagrees with the declared
    timezone altogether wins, and so does a footer on a site that declared none."""
    footer = offset_from_footer(" ".join(sel.xpath("//text()[contains(., 'All times are')]").getall()))
    current = dates.now.astimezone(dates.tz).utcoffset()
    if footer is not None:
        printed = footer.utcoffset(None)
        if printed not in (current, current - timedelta(hours=1)):
            return dates.with_tz(footer)
    return dates.with_tz(timezone(current))


def _next_page(sel: Selector, base: str) -> str | None:
    href = (
        sel.css("a#mb_pagenext::attr(href)").get()
        or sel.xpath("//link[@rel='next']/@href").get()
        or sel.xpath("//div[contains(@class,'pagenav')]//a[@rel='next']/@href").get()
        or sel.xpath("//a[@rel='next'][not(starts-with(@href,'javascript'))]/@href").get()
    )
    if not href or href.startswith("javascript"):
        return None
    return canonical_url(urljoin(base, href))


def _current_page(sel: Selector) -> tuple[int, int | None]:
    current = _int(sel.css("#mb_page_current::text").get())
    total = _int(sel.css("#mb_page_total::text").get())
    if current is None:
        # classic vB3 "div.pagenav" and vB4 "div.pagination" both print "Page 2 of 5"
        match = re.search(r"Page (\d+) of (\d+)", " ".join(sel.css(".pagenav ::text, .pagination ::text").getall()))
        if match:
            current, total = int(match.group(1)), int(match.group(2))
    return current or 1, total


def _breadcrumbs(sel: Selector, base: str) -> list[tuple[str, str]]:
    """(title, url) of the breadcrumb links after the site's home link."""
    crumbs = []
    for item in sel.xpath("//*[@itemtype='http://schema.org/ListItem' or @itemtype='https://schema.org/ListItem']"):
        href = item.xpath(".//a/@href").get()
        title = " ".join(" ".join(item.xpath(".//*[@itemprop='name']//text()").getall()).split())
        if href and title:
            crumbs.append((title, urljoin(base, href)))
    if not crumbs:  # classic vBulletin 3.8: span.navbar links inside td.navbar; vBulletin 4: li.navbit links
        for link in sel.xpath("//span[@class='navbar']/a"
                              " | //*[@id='breadcrumb']//li[contains(concat(' ', @class, ' '), ' navbit ')]/a"):
            title = " ".join(" ".join(link.xpath(".//text()").getall()).split())
            if title:
                crumbs.append((title, urljoin(base, link.attrib.get("href", ""))))
        return crumbs
    return crumbs[1:]


# --- Thread pages --------------------------------------------------------------------------------

def parse_thread_page(sel: Selector, url: str, dates: DateResolver) -> ThreadPage:
    """Every post on one showthread page, in page order, with the thread's identity and next page."""
    sel = _selector(sel)
    base = _base_url(sel, url)
    dates = _page_dates(sel, dates)
    crumbs = _breadcrumbs(sel, base)
    forum_crumbs = [(t, u) for t, u in crumbs if forum_id_from_url(u)]
    forum_id = forum_id_from_url(forum_crumbs[-1][1]) if forum_crumbs else None
    page, page_count = _current_page(sel)
    posts, unparsed = [], 0
    # Post containers: ``post{id}`` (3.x), ``post_{id}`` (4.x). Plain lxml from here on: a page has
    # dozens of posts and a dozen queries each, and parsel's per-result wrapping would dominate.
    for node in sel.root.xpath("//*[starts-with(@id, 'post')]"):
        if not _POST_ID.match(node.get("id", "")):
            continue
        post = _parse_post(node, base, dates)
        if post is None:
            continue
        if post.posted_at is None and not post.is_deleted:
            unparsed += 1
        posts.append(post)
    return ThreadPage(
        thread_id=_thread_id(sel, url),
        title=_thread_title(sel),
        forum_id=forum_id,
        forum_path=[t for t, _ in forum_crumbs],
        page=page,
        page_count=page_count,
        posts=posts,
        next_page=_next_page(sel, base),
        canonical_url=canonical_url(urljoin(base, sel.xpath("//link[@rel='canonical']/@href").get() or url)),
        unparsed_dates=unparsed,
    )


def _selector(sel) -> Selector:
    return sel.selector if hasattr(sel, "selector") and not isinstance(sel, Selector) else sel


def _thread_id(sel: Selector, url: str) -> str | None:
    hidden = sel.xpath("//input[@name='t']/@value").get()
    if hidden and hidden.isdigit():
        return hidden
    ids = Counter()
    for href in sel.xpath(
        "//a[contains(@href,'newreply.php') or contains(@href,'subscription.php') or contains(@href,'printthread.php')"
        " or contains(@href,'sendmessage.php') or contains(@href,'showthread.php')]/@href"
        " | //input[@class='backup_url' or @name='backup_url']/@value | //link[@rel='canonical']/@href"
    ).getall():
        match = _THREAD_IN_QUERY.search(href) or _FRIENDLY_THREAD.search(href)
        if match:
            ids[match.group(1)] += 1
    if ids:
        return ids.most_common(1)[0][0]
    return thread_id_from_url(url)


def _thread_title(sel: Selector) -> str | None:
    for query in ("//h1[contains(@class,'threadtitle')]//text()", "//h1//strong[@itemprop='name']//text()",
                  "//*[@id='pagetitle']//*[contains(@class,'threadtitle')]//text()",  # vBulletin 4
                  "//td[@class='navbar']/strong//text()", "//title/text()"):
        text = " ".join(" ".join(sel.xpath(query).getall()).split())
        if text:
            return text.rsplit(" - ", 1)[0].strip() if query.startswith("//title") else text
    return None


def _quote_blocks(message) -> list:
    """Outer lxml elements of every quote in a message: the wrapper of the "Quote:" label and its panel
    (vBulletin 3 and the IB skin), or the ``bbcode_container`` (vBulletin 4)."""
    blocks = []
    for label in message.xpath(".//*[self::label or self::div][normalize-space(text())='Quote:']"):
        wrapper = label
        while wrapper is not None and wrapper is not message:
            if wrapper.xpath("./*[contains(@class,'panel') or contains(@class,'alt2')] | ./table | ./div/table"):
                break
            wrapper = wrapper.getparent()
        if wrapper is not None and wrapper is not message and wrapper not in blocks:
            blocks.append(wrapper)
    for bb in message.xpath(".//div[contains(@class,'bbcode_container')][.//div[contains(@class,'bbcode_quote')]]"):
        if bb not in blocks:
            blocks.append(bb)
    return blocks


def _quote_record(block, nested, base: str) -> dict:
    """Author, quoted post id and text of one quote; quotes nested in it keep their own."""

    def own(elements):
        return [el for el in elements if not any(n is el or n in el.iterancestors() for n in nested)]

    attribution = own(block.xpath(".//*[text()[contains(., 'Originally Posted by')]]"))
    author, post_id, skip = None, None, set(nested)
    if attribution:
        line = attribution[0]
        skip.add(line)
        author = " ".join("".join(line.xpath("./strong//text() | ./b//text()")).split()) or None
        for href in line.xpath(".//a/@href"):
            match = _POST_IN_LINK.search(href)
            if match:
                post_id = match.group(1) or match.group(2)
                break
    skip.update(block.xpath(".//*[self::label or self::div][normalize-space(text())='Quote:']"))
    body = own(block.xpath(".//*[contains(@class,'panel') or contains(@class,'alt2') or contains(@class,'quote_container')]"))
    text = element_text(body[0] if body else block, skip=frozenset(skip))
    return {"author": author, "post_id": post_id, "text": text}


def _first(values):
    return values[0] if values else None


def _joined(strings) -> str:
    return " ".join(" ".join(strings).split())


def _parse_post(node, base: str, dates: DateResolver) -> ParsedPost | None:
    """One post from its container element (lxml)."""
    post_id = _POST_ID.match(node.get("id")).group(1)
    message = node.xpath(f".//*[@id='post_message_{post_id}']")
    date_text = _post_date_text(node)
    count_link = node.xpath(f".//a[@id='postcount{post_id}']")
    if count_link:
        position = _int(count_link[0].get("name")) or _int(count_link[0].xpath("string()"))
    else:
        position = _int(_joined(node.xpath(".//a[contains(@class,'postcounter')]//text()")))
    # Prefer the thread-anchored permalink ("Link to this Post") over the short postcount link
    # (vBulletin 3: showpost.php?p=N&postcount=K); vBulletin 4's postcount anchor has no href, its
    # "#N" link (a.postcounter) is the permalink.
    href = _first(node.xpath(".//a[@title='Link to this Post']/@href"))
    if not href and count_link:
        href = count_link[0].get("href")
    if not href:
        href = _first(node.xpath(".//a[contains(@class,'postcounter')]/@href"))
    url = _without_session(urljoin(base, href), base) if href else None
    author, author_id = _post_author(node, post_id)
    if not message:
        if not _DELETED.search(node.xpath("string()")):
            return None
        return ParsedPost(post_id=post_id, position=position, author=author, author_id=author_id,
                          posted_at=dates.parse(date_text), posted_at_text=date_text, body_text=None,
                          body_html=None, url=url, is_deleted=True)
    message_el = message[0]
    blocks = _quote_blocks(message_el)
    quotes = [
        _quote_record(block, [other for other in blocks if block in other.iterancestors()], base)
        for block in blocks
    ]
    skip = frozenset(blocks)
    images = image_urls(message_el, base, skip)
    scope = _first(node.xpath(f".//*[@id='td_post_{post_id}']"))
    scope = node if scope is None else scope
    for fieldset in scope.xpath(".//fieldset[.//legend[contains(., 'Attach')]]"):
        # Not attachments: the file-type icon (images/attach/pdf.gif) beside each "Attached Files" entry and
        # vBulletin 4's paperclip icon in the legend.
        legend = frozenset(fieldset.iter("legend"))
        images += [u for u in image_urls(fieldset, base, legend) if u not in images and not _FILE_TYPE_ICON.search(u)]
    edited_by, edited_at = _edit_note(scope, dates)
    links = link_urls(message_el, base, skip)
    return ParsedPost(
        post_id=post_id,
        position=position,
        author=author,
        author_id=author_id,
        posted_at=dates.parse(date_text),
        posted_at_text=date_text,
        body_text=element_text(message_el, skip),
        body_html=outer_html(message_el).strip(),
        url=url,
        edited_at=edited_at,
        edited_by=edited_by,
        quotes=quotes,
        images=_unique(_without_session(u, base) for u in images),
        links=_unique(_without_session(u, base) for u in links),
        signature=_signature(scope),
    )


def _unique(urls) -> list[str]:
    return list(dict.fromkeys(urls))


def _post_date_text(node) -> str | None:
    holder = node.xpath(".//comment()[contains(., 'status icon and date')]/..")
    if holder:
        text = _joined(holder[0].xpath("./text() | ./span[contains(@class,'time')]//text()"))
        if text:
            return text
    return _joined(node.xpath(".//span[contains(@class,'date')]//text()")) or None


def _post_author(node, post_id: str) -> tuple[str | None, str | None]:
    menu = node.xpath(f".//*[@id='postmenu_{post_id}']")
    scope = menu[0] if menu else node
    link = scope.xpath(".//a[contains(@class,'bigusername') or contains(@class,'username')]")
    if not link and menu:  # deleted posts keep the member link without its styling class
        link = menu[0].xpath(".//a[contains(@href,'members/') or contains(@href,'member.php')]")
    if not link:
        return None, None  # a guest: vBulletin prints the name typed in, without a member link
    name = " ".join("".join(link[0].xpath(".//text()")).split()) or None
    return name, member_id_from_url(link[0].get("href"))


def _edit_note(scope, dates: DateResolver) -> tuple[str | None, object]:
    for holder in scope.xpath(".//*[contains(text(),'Last edited by')]"):
        text = _joined(holder.xpath(".//text()"))
        match = _EDITED.search(text)
        if match:
            return match.group("who"), dates.parse(match.group("when"))
    return None, None


def _signature(scope) -> str | None:
    sig = scope.xpath(".//comment()[normalize-space(.)='sig']/following-sibling::*[1]"
                      " | .//*[contains(@class,'signaturecontainer') or contains(@class,'signature')]")
    if not sig:
        return None
    text = element_text(sig[0])
    text = re.sub(r"^_{5,}\s*", "", text).strip()
    return text or None


# --- Listing pages (index and forumdisplay) --------------------------------------------------------

def parse_listing_page(sel: Selector, url: str, dates: DateResolver) -> ListingPage:
    """Forums linked as forum rows (and sub-forums), threads in the listing, and the next listing page."""
    sel = _selector(sel)
    base = _base_url(sel, url)
    dates = _page_dates(sel, dates)
    forums: dict[str, ForumLink] = {}
    for link in sel.xpath(
        # IB skin: div#f{id} forum rows, ul.subforums lists, div.tcat category heads
        f"//*[{_FORUM_ROW_ID}]//a[@href][1] | //ul[contains(@class,'subforums')]//a[@href]"
        " | //div[contains(@class,'tcat')]//a[@href][.//strong or normalize-space(text())]"
        # classic vB3: td#f{id} rows with their "Sub-Forums:" lists, td.tcat category rows
        f" | //td[{_FORUM_ROW_ID}]//a[contains(@href, 'forumdisplay.php')]"
        " | //td[contains(concat(' ', @class, ' '), ' tcat ')]//a[contains(@href, 'forumdisplay.php')]"
        # vB4: li#forum{id} / li#cat{id} rows and their ol.subforumlist
        f" | //li[{_FORUM_LI_ID}]//*[contains(@class, 'forumtitle')]//a[@href]"
        " | //ol[contains(@class, 'subforumlist')]//a[@href]"
    ):
        href = canonical_url(urljoin(base, link.attrib["href"]))
        fid = forum_id_from_url(href)
        title = " ".join(" ".join(link.xpath(".//text()").getall()).split())
        if fid and title and fid not in forums:
            forums[fid] = ForumLink(forum_id=fid, title=title, url=href)
    threads: dict[str, ThreadLink] = {}
    for link in sel.xpath(f"//a[{_THREAD_TITLE_ID}]"):
        thread = _thread_row(link, base, dates)
        threads.setdefault(thread.thread_id, thread)
    crumbs = _breadcrumbs(sel, base)
    own_id = forum_id_from_url(canonical_url(url))
    page, _ = _current_page(sel)
    if page == 1:
        match = _IB_FORUM_URL.match(urlsplit(url).path)
        if match and match.group(2):
            page = int(match.group(2))
    path = [t for t, u in crumbs if forum_id_from_url(u)]
    title = _listing_title(sel)
    if own_id and title and (not path or path[-1] != title):
        path.append(title)
    forums.pop(own_id, None)
    return ListingPage(
        forum_id=own_id,
        title=title if own_id else None,
        forum_path=path if own_id else [],
        forums=list(forums.values()),
        threads=list(threads.values()),
        next_page=_next_page(sel, base) if threads else None,
        page=page,
    )


def _listing_title(sel: Selector) -> str | None:
    for query in ("//*[@id='pagetitle']//*[contains(@class,'forumtitle')]//text()",  # vBulletin 4
                  "//h1//strong[@itemprop='name']//text()", "//h1//text()", "//td[@class='navbar']/strong//text()"):
        text = " ".join(" ".join(sel.xpath(query).getall()).split())
        if text:
            return text
    return None


def _thread_row(link, base: str, dates: DateResolver) -> ThreadLink:
    thread_id = re.search(r"\d+$", link.attrib["id"]).group(0)
    row = link.xpath("./ancestor::*[self::tr or (self::div and contains(concat(' ', @class, ' '), ' trow '))"
                     " or (self::li and contains(concat(' ', @class, ' '), ' threadbit '))][1]")
    row = row[0] if row else link
    row_text = " ".join(" ".join(row.xpath(".//text()").getall()).split())
    title_cell_text = " ".join(" ".join(link.xpath("./..//text()").getall()).split())
    href = canonical_url(urljoin(base, link.attrib.get("href", "")))
    replies, views = _row_counts(row)
    last_post_text = _row_last_post_text(row)
    author = _row_author(row)
    prefix = title_cell_text.split(link.xpath("string()").get().strip(), 1)[0]
    sticky = ("sticky" in (row.attrib.get("class", "") + " " + prefix).lower() or "Sticky:" in row_text[:200]
              or bool(row.xpath(".//*[contains(concat(' ', @class, ' '), ' sticky ')]")))  # vB4: div.sticky
    moved = "Moved:" in prefix or "moved" in row.attrib.get("class", "").lower()
    return ThreadLink(
        thread_id=thread_id_from_url(href) if moved and thread_id_from_url(href) else thread_id,
        title=" ".join(link.xpath("string()").get().split()),
        url=href,
        author=" ".join(author.split()) if author else None,
        reply_count=None if moved else replies,
        view_count=None if moved else views,
        last_post_at=dates.parse(last_post_text) if last_post_text and not moved else None,
        sticky=sticky,
        moved=moved,
    )


def _row_counts(row) -> tuple[int | None, int | None]:
    """Replies and views: a "Replies: 23, Views: 4,812" title (vB3, IB), vBulletin 4's ul.threadstats
    ("Replies: 23" / "Views: 4,812"), or count cells."""
    texts = row.xpath(".//@title[contains(., 'Replies')]").getall()
    texts += [" ".join(" ".join(row.xpath(".//ul[contains(@class,'threadstats')]//text()").getall()).split())]
    for text in texts:
        match = re.search(r"Replies:\s*([\d,.]+).*?Views:\s*([\d,.]+)", text)
        if match:
            return _int(match.group(1)), _int(match.group(2))
    replies = _int(" ".join(row.xpath(".//*[contains(@class,'replies') or contains(@class,'replycount')]//text()").getall()))
    views = _int(" ".join(row.xpath(".//*[contains(@class,'views') or contains(@class,'viewcount')]//text()").getall()))
    return replies, views


def _row_last_post_text(row) -> str | None:
    # vBulletin 4: dl.threadlastpost > dd (the last poster's popup menu) + dd (the date)
    cell = row.xpath(".//dl[contains(@class,'threadlastpost')]/dd[last()]")
    if not cell:
        cell = row.xpath(".//*[contains(@class,'lastpost')] | .//*[@title[contains(., 'Replies')]]")
    if not cell:
        return None
    bits = cell[0].xpath(".//text()[not(ancestor::a)]").getall()
    candidate = " ".join(" ".join(bits).split())
    return re.split(r"\bby\b", candidate)[0].strip() or None


def _row_author(row) -> str | None:
    starter = row.xpath(".//div[contains(@class,'author')]")
    if starter:  # vBulletin 4: "Started by <a class=username>NAME</a>, date"; a guest has no link
        link = starter[0].xpath(".//a[contains(@class,'username')]")
        return link[0].xpath("string()").get() if link else None
    author = row.xpath(".//*[contains(@class,'author') or contains(@onclick,'member')]//text()").get()
    if not author:
        author_link = row.xpath(".//a[contains(@href,'members/') or contains(@href,'member.php')]")
        author = author_link[0].xpath("string()").get() if author_link else None
    return author


# --- Page kinds ----------------------------------------------------------------------------------

def _id_is(prefix: str) -> str:
    """XPath 1.0 test for ``@id`` = prefix + digits: lxml runs it in C, where EXSLT ``re:test`` calls
    back into Python for every element of the page."""
    return (f"(starts-with(@id, '{prefix}') and string-length(@id) > {len(prefix)}"
            f" and translate(substring(@id, {len(prefix) + 1}), '0123456789', '') = '')")


_THREAD_TITLE_ID = _id_is("thread_title_")
_FORUM_ROW_ID = _id_is("f")
_FORUM_LI_ID = f"({_id_is('forum')} or {_id_is('cat')})"


def page_kind(sel: Selector) -> str | None:
    """"thread", "listing" or None (a page this engine does not recognise)."""
    sel = _selector(sel)
    if sel.xpath("//*[starts-with(@id,'post_message_')]"):
        return "thread"
    if sel.xpath(f"//a[{_THREAD_TITLE_ID}] | //*[{_FORUM_ROW_ID}] | //li[{_FORUM_LI_ID}]"):
        return "listing"
    return None
