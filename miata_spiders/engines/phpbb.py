"""phpBB 3.0-3.3 page parsers: prosilver and the styles built on it, and subsilver2 (3.0's table layout).

Anchored on what phpBB's own templates print and styles keep: post ids (``div#p{id}.post`` in
prosilver, ``<a name="p{id}">`` in subsilver2), member links ``memberlist.php?mode=viewprofile&u=N``,
post links ``viewtopic.php?p=N#pN``, ``<time datetime>`` (3.2+), ``div.content``/``div.postbody``,
``ul.topiclist.topics``/``.forums`` with ``a.topictitle``/``a.forumtitle`` on listings.

What differs between versions and styles is a field of ``ProsilverFields`` (or of its subsilver2
subclass), not a copy of the parser:
- post dates: ``<time datetime>`` in UTC (3.2+) before the loose text after "»" (3.0, 3.1), or after
  subsilver2's "Posted:" label;
- quotes: ``<cite>X wrote:</cite>`` (3.0, 3.1; "schrieb:", "a écrit :" on other language packs), a cite
  with profile link, quoted-post link (``data-post-id``) and date (3.2+), ``blockquote.uncited``, and
  subsilver2's ``div.quotetitle`` + ``div.quotecontent`` pair;
- the footer timezone: "All times are UTC - 5 hours [ DST ]" (3.0) or
  "All times are <span title="Europe/London">UTC+01:00</span>" (3.1+);
- pagination: "Page <strong>2</strong> of ..." with bare links (3.0) or ``li.active``/``a[rel=next]`` (3.1+).

subsilver2's index and viewforum tables are read too.

phpBB prints no post numbers, so a post's position is the page's ``start`` offset plus its index on
the page. A login form served in place of a page (the board or forum requires login) is no page of
ours: ``page_kind`` returns None for it.

Every parser is pure: a parsel ``Selector`` (or Scrapy response) and its URL in, records out.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from urllib.parse import parse_qsl, urljoin, urlsplit, urlunsplit
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from miata_spiders.dates import DateResolver
from miata_spiders.engines.base import (
    ForumEngine,
    PostFields,
    as_selector,
    canonical_base_url,
    canonical_link,
    clean_query,
    first,
    first_own,
    has_class,
    id_is,
    machine_time,
    text_of,
    to_int,
    xpath,
)
from miata_spiders.engines.html_text import element_text, image_urls, link_urls
from miata_spiders.engines.records import ListingPage, ParsedPost, ThreadLink, ThreadPage, ForumLink

NAME = "phpbb"

# Query parameters that identify a visit, not a page: the session id phpBB appends to every link for
# cookie-less visitors, and search-word highlighting.
_VOLATILE_PARAMS = frozenset({"sid", "hilit", "highlight"})
_SESSION = frozenset({"sid"})
_POST_ID = re.compile(r"^p(\d+)$")
# "wrote:" in the language packs phpBB ships or the community translates, longest first; any other
# language: the cite's last word before the colon.
_WROTE_WORDS = ("hat geschrieben", "heeft geschreven", "ha scritto", "a écrit", "escribió", "escreveu", "schreef",
                "schrieb", "napisał(a)", "napisał", "napsal", "kirjoitti", "skrev", "írta", "yazdı", "писал(а)",
                "писал", "написал", "έγραψε", "wrote")
_WROTE = re.compile(r"\s*(?:" + "|".join(map(re.escape, _WROTE_WORDS)) + r"|\S+)\s*:\s*$", re.I)
_LONGEST_WROTE = max(map(len, _WROTE_WORDS))


def _without_wrote(label: str) -> str:
    """``_WROTE.sub("", ...)`` of the label with its spaces collapsed. A match runs to the end of the
    text, so it starts at the space before the last word or at most one phrase of ``_WROTE_WORDS``
    before the colon: the search starts there, not at every position of a long name."""
    text = " ".join(label.split())
    if not text.endswith(":"):  # no match without the colon
        return text
    words = text[:-1].rstrip(" ")
    start = max(0, min(words.rfind(" "), len(words) - _LONGEST_WROTE - 1) - 1)
    match = _WROTE.search(text, start)
    return text if match is None else text[:match.start()] + text[match.end():]


_ENGLISH_EDIT = re.compile(r"Last edited by\s+(?P<who>.+?)\s+on\s", re.I)
_PAGE_OF = re.compile(r"(\d+)\D{1,12}?(\d+)")
_PER_PAGE_JS = re.compile(r"\bper_page\s*=\s*'(\d+)'")
# "UTC - 5 hours [ DST ]" (3.0) / "UTC-05:00" (3.1+) / "GMT + 1 Stunde [ Sommerzeit ]"
_FOOTER_OFFSET = re.compile(
    r"\b(?:UTC|GMT)\s*(?:(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?:[:.](?P<minutes>\d{2}))?)?(?P<rest>[^\]\n]{0,40}\])?"
)
# The count of an edit note: a number that is no part of a time or a year.
_EDIT_COUNT = re.compile(r"(?<![\d:])\d{1,3}(?![\d:])")
_SUBSILVER_SIGNATURE = re.compile(r"^\s*_{5,}\s*")


def _cls(name: str) -> str:
    """XPath predicate: the class list holds ``name``; the cheap ``contains`` runs first, so the exact
    token test only runs on candidates."""
    return f"contains(@class, '{name}') and {has_class(name)}"


def _name_is(prefix: str) -> str:
    """XPath predicate: ``@name`` is ``prefix`` followed by digits only (subsilver2's post anchors)."""
    return id_is(prefix).replace("@id", "@name")


# --- URLs ----------------------------------------------------------------------------------------

def canonical_url(url: str) -> str:
    """The form of a URL we store and de-duplicate on: no session id, no fragment, no ``start=0``, and
    no ``f=`` on topic links, since phpBB finds a topic's forum itself and global announcements are
    linked with the id of every forum they are shown in."""
    parts = urlsplit(url)
    pieces = [piece.partition("=") for piece in clean_query(parts.query, _VOLATILE_PARAMS).split("&") if piece]
    topic = parts.path.endswith("viewtopic.php") and any(key in ("t", "p") for key, _, _ in pieces)
    query = "&".join(key + sep + value for key, sep, value in pieces
                     if not (topic and key == "f") and not (key == "start" and value in ("", "0")))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _query_value(url: str | None, key: str) -> str | None:
    if not url:
        return None
    query = urlsplit(url).query
    # Without "%" or "+" there is nothing for parse_qsl to decode: its pairs are the pieces split at
    # "=" (read several times per post, so the cheap split pays).
    pairs = (parse_qsl(query, keep_blank_values=True) if "%" in query or "+" in query
             else (piece.partition("=")[::2] for piece in query.split("&") if piece))
    for k, v in pairs:
        if k == key and v.isdigit():
            return v
    return None


# SEO URL mods (phpBB SEO premod and Ultimate SEO URL, tas2580's SEO URLs) rewrite the scripts' URLs
# and keep the ids in them: forums "/name-f9/" (page "/name-f9/page15.html") or "forum9.html" ("forum9-15.html"),
# topics "/name-t77.html" (pages "-t77-15.html", "-t77-s15.html") or "topic77.html", members "member5.html" or
# "/name-u5/". A URL without an id ("/member/name/", a forum slug alone) names none.
_SEO_FORUM = re.compile(r"(?:-f|/forum)(\d+)(?:/(?:page\d+\.html)?|-\d+\.html|\.html)?$")
_SEO_TOPIC = re.compile(r"(?:-t|/topic)(\d+)(?:-s?\d+)?\.html$")
_SEO_MEMBER = re.compile(r"(?:-u|/member)(\d+)(?:/|\.html)?$")


def _seo_id(url: str | None, pattern: re.Pattern) -> str | None:
    if not url or ".php" in url:
        return None
    match = pattern.search(urlsplit(url).path)
    return match.group(1) if match else None


def forum_id_from_url(url: str | None) -> str | None:
    return _query_value(url, "f") if url and "viewforum.php" in url else _seo_id(url, _SEO_FORUM)


def thread_id_from_url(url: str | None) -> str | None:
    return _query_value(url, "t") if url and "viewtopic.php" in url else _seo_id(url, _SEO_TOPIC)


def member_id_from_url(url: str | None) -> str | None:
    return _query_value(url, "u") if url and "memberlist.php" in url else _seo_id(url, _SEO_MEMBER)


def _without_session(url: str, host: str) -> str:
    """``url`` minus phpBB's ``sid`` when it links to this board, so a post's links and images (and so
    its content hash) do not change with the visitor's session; fragments are kept."""
    if "sid=" not in url:  # most URLs: no split needed to see there is no session id
        return url
    parts = urlsplit(url)
    if parts.netloc != host or "sid=" not in parts.query:
        return url
    return urlunsplit(parts._replace(query=clean_query(parts.query, _SESSION)))


# --- Dates ---------------------------------------------------------------------------------------

_FOOTER_ZONE_SPAN = xpath(
    "/descendant::span[@title][starts-with(normalize-space(.), 'UTC') or starts-with(normalize-space(.), 'GMT')]"
)
# prosilver's footer (``div#page-footer``), subsilver2's "All times are ..." line (``p.datetime``).
_FOOTER_TEXTS = xpath("/descendant::div[@id='page-footer']/descendant::text()[contains(., 'UTC') or contains(., 'GMT')]"
                      " | /descendant::p[@class='datetime']/text()[contains(., 'UTC') or contains(., 'GMT')]")
_ALL_TIMES_ARE = xpath("(/descendant::*[text()[contains(., 'All times are')]])[1]")


def timezone_from_footer(page) -> tzinfo | None:
    """The timezone a phpBB page was rendered in, from its "All times are ..." footer, in any language.

    3.1+ names the zone in the span's title ("Europe/London"): that zone, DST rules included, is what
    every date on the page was rendered in; a title without "/" falls back to the printed offset. 3.0
    prints a fixed offset, plus "[ DST ]" (localised) when the board or user has its daylight-saving box
    ticked, which phpBB 3.0 applies as one more hour all year round.
    """
    root = as_selector(page).root
    span = first(_FOOTER_ZONE_SPAN(root))
    if span is not None:
        title = span.get("title", "").strip()
        if "/" in title:
            try:
                return ZoneInfo(title.replace(" ", "_"))
            except (ZoneInfoNotFoundError, ValueError):
                pass
        parent = span.getparent()
        return _offset(text_of(parent if parent is not None else span))
    text = first(_FOOTER_TEXTS(root))
    if text is not None:
        holder = text.getparent()  # a tail's getparent() is the element it follows
        return _offset(text_of(holder.getparent() if text.is_tail and holder.getparent() is not None else holder))
    holder = first(_ALL_TIMES_ARE(root))
    return _offset(text_of(holder)) if holder is not None else None


def _offset(text: str) -> tzinfo | None:
    match = _FOOTER_OFFSET.search(text)
    if not match:
        return None
    delta = timedelta(hours=int(match.group("hours") or 0), minutes=int(match.group("minutes") or 0))
    if match.group("sign") == "-":
        delta = -delta
    if match.group("rest") and "[" in match.group("rest"):  # "[ DST ]", "[ Sommerzeit ]", "[ HAE ]"
        delta += timedelta(hours=1)
    return timezone(delta)


# phpBB 3.1+'s relative date for the last minute (its language packs' AGO string for 0 minutes).
_UNDER_A_MINUTE = ("less than a minute ago", "vor weniger als einer minute", "il y a moins d’une minute",
                   "il y a moins d'une minute", "hace menos de un minuto", "meno di un minuto fa",
                   "minder dan een minuut geleden")


def _parse_date(text: str | None, dates: DateResolver) -> datetime | None:
    if not text:
        return None
    if text.strip().lower().startswith(_UNDER_A_MINUTE):  # phpBB 3.1+ relative dates
        return dates.now.astimezone(timezone.utc)
    return dates.parse(text)


def _date_before_count(text: str, dates: DateResolver) -> datetime | None:
    """The date in the rest of an edit note, "on Sun May 26, 2019 5:35 pm, edited 2 times in total.",
    in any language: the text before its last comma, whose last piece must hold the count ("edited 2
    times", "insgesamt 1-mal geändert", "édité 2 fois"; a number that is no part of a time), minus the
    connecting word ("on", "am", "le"). A sentence without a count ("Last bumped by X on DATE.") is no
    edit note."""
    pieces = text.strip().rstrip(".").split(",")
    if len(pieces) < 2 or not _EDIT_COUNT.search(pieces[-1]):
        return None
    words = ",".join(pieces[:-1]).split()
    for drop in (1, 0, 2, 3):
        if drop < len(words):
            when = _parse_date(" ".join(words[drop:]), dates)
            if when is not None:
                return when
    return None


# --- Post fields ---------------------------------------------------------------------------------

_MEMBER_LINK = "a[contains(@href, 'memberlist.php') and contains(@href, 'u=')][normalize-space(.)]"
_USERNAME = f"*[{_cls('username')} or {_cls('username-coloured')}]"

# Precise paths first (prosilver: div.post > div.inner > div.postbody > ...), then any depth in the post
# (``_post_layout`` walks a post for both in one pass; tests/test_phpbb_post_walks.py holds them together).
_AUTHOR_LINE = xpath(f"./div/div[{_cls('postbody')}]/p[{_cls('author')}]"
                     f" | ./div/div[{_cls('postbody')}]/div/p[{_cls('author')}]"  # 3.1+: div#post_content{id}
                     f" | ./div[{_cls('postbody')}]/p[{_cls('author')}]")
_AUTHOR_LINE_ANYWHERE = xpath(f"descendant::p[{_cls('author')}]")
_CONTENT = xpath(f"./div/div[{_cls('postbody')}]/div[{_cls('content')}]"
                 f" | ./div/div[{_cls('postbody')}]/div/div[{_cls('content')}]"
                 f" | ./div[{_cls('postbody')}]/div[{_cls('content')}]")
_CONTENT_ANYWHERE = xpath(f"descendant::div[{_cls('content')}]")
_PROFILE_NAME = xpath(f"descendant::dl[{_cls('postprofile')}]/dt")
_LINE_MEMBER = xpath(f"descendant::{_MEMBER_LINK}")
_LINE_NAME = xpath(f"descendant::{_USERNAME} | descendant::strong")
_LINE_TIME = xpath("descendant::time[@datetime]")
_LINE_POST_LINK = xpath("descendant::a[contains(@href, 'viewtopic.php') and contains(@href, 'p=')]/@href")
# The boxes around a post's message, read in one walk (``_post_boxes``; these queries define what it
# returns, tests/test_phpbb_post_walks.py holds them together): the soft-delete notice, edit notices,
# the signature, attachment boxes under the message (dl.attachbox) and inline in it (div.inline-attachment).
_DELETED = xpath(f"self::*[{_cls('deleted')}] | descendant::div[{_cls('post_deleted_msg')}]")
_NOTICES = xpath(f"descendant::div[{_cls('notice')}][not({_cls('post_deleted_msg')})]")
_SIGNATURE = xpath(f"descendant::div[{_cls('signature')}]")
_ATTACHMENT_BOXES = xpath(f"descendant::div[{_cls('inline-attachment')}] | descendant::dl[{_cls('attachbox')}]")
# Inline attachment boxes, and the "Code: Select all" caption of code boxes (a button label): the
# software's words, not the poster's.
_LABELS = f"descendant::div[{_cls('inline-attachment')}] | descendant::*[{_cls('codebox')}]/*[self::p or self::dt]"
# Attachment boxes under the message (dl.attachbox) and inline in it (div.inline-attachment).
# ... and one per message for its quotes, images, links and those labels.
_QUOTES = xpath("descendant::blockquote")
_LABELS = xpath(_LABELS)
_SMILIES = xpath(f"descendant::img[{_cls('smilies')}]")
_ANY_IMAGE = xpath("boolean(descendant::img)")
_ANY_LINK = xpath("boolean(descendant::a[@href])")
_CITE = xpath("./div/cite | ./cite")
_QUOTE_BODY = xpath("./div")
_ATTACHED_FILES = xpath(f"descendant::dl[{_cls('file')} or {_cls('thumbnail')}]")
_THUMBNAIL_TARGET = xpath("descendant::a[@href][descendant::img]/@href")
_INLINE_IMAGE = xpath(f"descendant::dt[{_cls('attach-image')}]/descendant::img/@src")
_FILE_LINK = xpath("descendant::a[@href]/@href")
_XML_SPACE = re.compile(r"[ \t\r\n]+")
# phpBB's own link to a post: its forum id and a cookie-less visitor's session id drop out of the
# canonical form, and so does the fragment (whatever it holds: urlsplit drops tabs and newlines
# before it splits it off).
_PLAIN_POST_LINK = re.compile(r"\./viewtopic\.php\?(?:f=[0-9]+&)?p=([0-9]+)(?:&sid=[0-9a-f]+)?(?:#.*)?", re.S)


def _class_tokens(element) -> set[str]:
    """The class list as XPath's ``normalize-space`` splits it (XML whitespace only)."""
    return set(_XML_SPACE.split(element.get("class") or ""))


def _spaced(value: str) -> str:
    """A class attribute as ``has_class`` reads it: " a b " (XML whitespace made spaces; runs of
    spaces need no collapsing for a test of " name " in it)."""
    if "\t" in value or "\n" in value or "\r" in value:
        value = _XML_SPACE.sub(" ", value)
    return f" {value} "


class _PostBoxes(NamedTuple):
    deleted_notice: bool  # div.post_deleted_msg (3.1+ soft delete)
    notices: list  # div.notice that is not the delete notice (edit notes), page order
    signature: object  # the first div.signature, or None
    attachment_boxes: list  # div.inline-attachment and dl.attachbox, page order


def _has_class(element, name: str) -> bool:
    """``_cls(name)`` in Python: the class list holds ``name``."""
    value = element.get("class")
    return value is not None and name in value and f" {name} " in _spaced(value)


# A post is small (tens of elements): walking it in Python with lxml's C-level tag filter costs less
# than the set-up and node-set merges of an XPath union per field. Each walk below returns exactly
# what the XPath beside it names.

def _post_layout(node) -> tuple:
    """(author line, message) of a prosilver post: the first element of ``_AUTHOR_LINE`` (else of
    ``_AUTHOR_LINE_ANYWHERE``) and of ``_CONTENT`` (else ``_CONTENT_ANYWHERE``)."""
    return _post_scan(node)[:2]


def _post_boxes(node) -> _PostBoxes:
    """``_DELETED`` (but for the post's own class), ``_NOTICES``, ``_SIGNATURE``, ``_ATTACHMENT_BOXES``."""
    return _post_scan(node)[2]


def _post_scan(node) -> tuple:
    """(author line, message, ``_PostBoxes``) of a prosilver post: ``_post_layout`` and ``_post_boxes``
    in one walk of its p, div and dl elements."""
    line = any_line = content = any_content = None
    deleted, notices, signature, boxes = False, [], None, []
    for element in node.iter("p", "div", "dl"):
        value = element.get("class")
        if value is None or element is node:
            continue
        tag = element.tag
        if tag == "p":
            if line is None and "author" in value and " author " in _spaced(value):
                if any_line is None:
                    any_line = element
                if _under_postbody(element, node):
                    line = element
        elif tag == "dl":
            if "attachbox" in value and " attachbox " in _spaced(value):
                boxes.append(element)
        elif ("content" in value or "notice" in value or "signature" in value or "inline-attachment" in value
              or "post_deleted_msg" in value):
            tokens = _spaced(value)
            if content is None and " content " in tokens:
                if any_content is None:
                    any_content = element
                if _under_postbody(element, node):
                    content = element
            if " post_deleted_msg " in tokens:
                deleted = True
            elif " notice " in tokens:
                notices.append(element)
            if signature is None and " signature " in tokens:
                signature = element
            if " inline-attachment " in tokens:
                boxes.append(element)
    return ((line if line is not None else any_line), (content if content is not None else any_content),
            _PostBoxes(deleted, notices, signature, boxes))


def _under_postbody(element, node) -> bool:
    """``element`` is a child of ``./div/div[postbody]``, ``./div/div[postbody]/div`` or ``./div[postbody]``
    of ``node`` (the precise paths of ``_AUTHOR_LINE`` and ``_CONTENT``)."""
    parent = element.getparent()
    if parent is None or parent is node or parent.tag != "div":
        return False
    grandparent = parent.getparent()
    if grandparent is node:  # ./div[postbody]/element
        return _has_class(parent, "postbody")
    if grandparent is None or grandparent.tag != "div":
        return False
    above = grandparent.getparent()
    if above is node:  # ./div/div[postbody]/element
        return _has_class(parent, "postbody")
    if above is None or above.tag != "div":
        return False
    return above.getparent() is node and _has_class(grandparent, "postbody")  # ./div/div[postbody]/div/element


class _BodyParts(NamedTuple):
    quotes: list  # every blockquote, nested ones included, page order
    labels: frozenset  # inline attachment boxes, code box captions
    smilies: frozenset  # img.smilies
    any_image: bool
    any_link: bool  # a[@href]


def _body_parts(body) -> _BodyParts:
    """``_QUOTES``, ``_LABELS``, ``_SMILIES``, ``_ANY_IMAGE``, ``_ANY_LINK``, in one walk."""
    quotes, labels, smilies, any_image, any_link = [], [], [], False, False
    for element in body.iter("blockquote", "img", "a", "div", "p", "dt"):
        if element is body:
            continue
        tag = element.tag
        if tag == "blockquote":
            quotes.append(element)
        elif tag == "img":
            any_image = True
            if _has_class(element, "smilies"):
                smilies.append(element)
        elif tag == "a":
            any_link = any_link or element.get("href") is not None
        elif tag == "div":
            if _has_class(element, "inline-attachment"):
                labels.append(element)
        else:  # a code box's caption: p/dt directly in a .codebox below the body
            parent = element.getparent()
            if parent is not body and _has_class(parent, "codebox"):
                labels.append(element)
    return _BodyParts(quotes, frozenset(labels), frozenset(smilies), any_image, any_link)


# The author line is a handful of elements: its three lookups run as walks with lxml's C-level tag
# filter (no XPath context to set up), each returning the first element of the query named.

def _member_link(scope):
    """The first element of ``_LINE_MEMBER`` in ``scope``: a member link whose text is not blank (XML
    whitespace; the text serialisation, like XPath's string value, leaves out comments)."""
    for link in scope.iter("a"):
        href = link.get("href")
        if (href and "memberlist.php" in href and "u=" in href and link is not scope
                and etree.tostring(link, method="text", encoding=str, with_tail=False).strip(" \t\r\n")):
            return link
    return None


def _line_time(line):
    """The first element of ``_LINE_TIME`` in ``line``."""
    for time in line.iter("time"):
        if time.get("datetime") is not None and time is not line:
            return time
    return None


def _post_link(line) -> str | None:
    """The first value of ``_LINE_POST_LINK`` in ``line``."""
    for link in line.iter("a"):
        href = link.get("href")
        if href and "viewtopic.php" in href and "p=" in href and link is not line:
            return href
    return None


def _holding(skip: frozenset, tag: str) -> frozenset:
    """The sub-trees of ``skip`` that are or hold a ``tag`` element: the others change nothing for a
    reader of ``tag`` elements, and an empty skip lets it use lxml's tag filter instead of a walk of the
    whole body. A long skip list (deeply nested quotes) is kept whole, so the test stays linear."""
    if not skip or len(skip) > 8:
        return skip
    return frozenset(element for element in skip if next(element.iter(tag), None) is not None)


def _quote_cite(block):
    """The first element of ``_CITE``: a cite among the block's children or its divs' children."""
    for child in block:
        if child.tag == "cite":
            return child
        if child.tag == "div":
            for grandchild in child:
                if grandchild.tag == "cite":
                    return grandchild
    return None


def _div_author_line(node):
    """A style's author line printed as ``div.author`` (outside the message): the first one."""
    for div in node.iter("div"):
        if div is not node and _has_class(div, "author"):
            above = div.getparent()
            while above is not None and above is not node:
                if _has_class(above, "content"):
                    break
                above = above.getparent()
            else:
                return div
    return None


def _name_member_id(name) -> str | None:
    """The member id of the author's name element (``a.username``, or ``strong`` around it) from its
    link, whatever URL form the board gives profiles; a guest's name has no link."""
    link = name if name.tag == "a" else next(name.iter("a"), None)
    return member_id_from_url(link.get("href")) if link is not None else None


def _permalink(line, post_id: str | None) -> str | None:
    """A link in the author line to the post's own anchor ``#p{id}`` (an SEO mod's "/post123.html#p123")."""
    if not post_id:
        return None
    anchor = f"#p{post_id}"
    for link in line.iter("a"):
        href = link.get("href")
        if href and href.endswith(anchor) and not href.startswith("#"):
            return href
    return None


_POST_ANCHOR = re.compile(r"#p(\d+)$")
_BOARD_SCRIPT = xpath("(/descendant::form[@id='topic-search']/@action"
                      " | /descendant::a[contains(@href, 'posting.php') or contains(@href, 'search.php')]/@href)[1]")


class ProsilverFields(PostFields):
    """One prosilver post (``div#p{id}.post``); subsilver2 overrides the fields its table layout prints
    elsewhere. ``start`` is the page's offset: a post's position is ``start`` plus its index."""

    def __init__(self, base_url: str, dates: DateResolver, start: int | None, nodes: list):
        super().__init__(base_url, dates)
        self.start = start
        self.index = {node: number for number, node in enumerate(nodes, 1)}
        self.host = urlsplit(base_url).netloc
        # Several fields read the same sub-element of the post being read; it is looked up once.
        self._cached: dict[str, tuple[object, object]] = {}
        self._post_url_stem: str | None = None
        self._board_root: str | None = None

    def cached(self, key: str, element, compute):
        """``compute(element)`` once per post: each key remembers the element it was last computed for
        (held, so the identity test is sound), and ``read`` empties the cache when it moves to a new post."""
        found = self._cached.get(key)
        if found is None or found[0] is not element:
            found = self._cached[key] = (element, compute(element))
        return found[1]

    def read(self, node):
        self._cached.clear()
        notice = self.ignore_notice(node) if self.body(node) is None else None
        if notice is None:
            return super().read(node)
        # phpBB 3.0 prints a foe's post (the visitor's ignore list) as one notice, "This post was made by
        # NAME who is currently on your ignore list": a post, not a deleted one, with its author only.
        post_id = self.post_id(node)
        if not post_id:
            return None
        link = _member_link(notice)
        name = link if link is not None else next(notice.iter("strong"), None)
        return ParsedPost(post_id=post_id, position=self.position(node), author=text_of(name) or None,
                          author_id=member_id_from_url(link.get("href")) if link is not None else None,
                          posted_at=None, posted_at_text=None, body_text=None, body_html=None,
                          url=self.url(node), is_deleted=False)

    def ignore_notice(self, node):
        """3.0's ``div.ignore`` standing in for a foe's post (3.1+ keeps the post, hidden, beside it)."""
        for div in node.iter("div"):
            if div is not node and _has_class(div, "ignore"):
                return div
        return None

    # identity and author ------------------------------------------------------------------------
    def post_id(self, node) -> str | None:
        match = _POST_ID.match(node.get("id") or "")
        return match.group(1) if match else None

    def author_line(self, node):
        line = self.cached("scan", node, _post_scan)[0]
        if line is None:  # a style that prints it in a div (card-style themes): rare, so looked up only then
            line = self.cached("div_line", node, _div_author_line)
        return line

    def author(self, node) -> tuple[str | None, str | None]:
        """The member link in "by <strong>NAME</strong> »", else in the profile column (mobile and
        "noavatar" styles keep one of the two); a guest or deleted user is a bare name."""
        line = self.author_line(node)
        if line is not None:
            link = _member_link(line)
            if link is not None:
                return text_of(link) or None, member_id_from_url(link.get("href"))
        profile = _PROFILE_NAME(node)
        for scope in profile:
            link = _member_link(scope)
            if link is not None:
                return text_of(link) or None, member_id_from_url(link.get("href"))
        for scope in ([line] if line is not None else []) + profile:
            name = first(_LINE_NAME(scope))
            if name is not None and text_of(name):
                return text_of(name), _name_member_id(name)
        return None, None

    def posted_at(self, node) -> tuple[datetime | None, str | None]:
        """``<time datetime>`` (3.2+, UTC) in the author line, else the loose text after its last "»"."""
        line = self.author_line(node)
        if line is None:
            return None, None
        time = _line_time(line)
        if time is not None:
            printed = text_of(time) or None
            return machine_time(time) or _parse_date(printed, self.dates), printed
        text = text_of(line)
        if "»" in text:
            printed = text.rsplit("»", 1)[1].strip()
            return _parse_date(printed, self.dates), printed or None
        # Styles that drop the "»": "by NAME on DATE" -- the text after the name, minus its connector.
        name = first(_LINE_NAME(line))
        words = " ".join((name.tail or "").split()).split() if name is not None else []
        for drop in (0, 1):
            printed = " ".join(words[drop:])
            when = _parse_date(printed, self.dates) if printed else None
            if when is not None:
                return when, printed
        return None, None

    def position(self, node) -> int | None:
        return self.start + self.index[node] if self.start is not None and node in self.index else None

    def url(self, node) -> str | None:
        line = self.author_line(node)
        href = _post_link(line) if line is not None else None
        if href is not None:
            return self.post_url(href)
        post_id = self.post_id(node)
        href = _permalink(line, post_id) if line is not None else None  # an SEO mod's "/post123.html#p123"
        if href is None and self.board_root(node) is not None:  # an SEO page's folder is no board folder
            return canonical_url(urljoin(self.board_root(node), f"viewtopic.php?p={post_id}"))
        return self.post_url(href or f"./viewtopic.php?p={post_id}")

    def board_root(self, node) -> str | None:
        """The board's own folder when the page's URL is not a phpBB script's (SEO mods' rewritten
        folders): where its posting/search links point. Looked up once, and only for a post without a
        permalink of its own."""
        if ".php" in urlsplit(self.base_url).path:
            return None
        if self._board_root is None:
            script = first(_BOARD_SCRIPT(node))
            self._board_root = urljoin(self.base_url, script) if script else ""
        return self._board_root or None

    def post_url(self, href: str) -> str:
        """``canonical_url(urljoin(base, href))`` of a post link. phpBB's own, "./viewtopic.php?p=N#pN"
        (``_PLAIN_POST_LINK``), canonicalises to the page's "./viewtopic.php?p=0" with N for 0 (neither
        urljoin nor canonical_url reads the digits), so that one is resolved once per page; any other href
        takes the full route."""
        match = _PLAIN_POST_LINK.fullmatch(href)
        if match is not None:
            if self._post_url_stem is None:
                stem = canonical_url(urljoin(self.base_url, "./viewtopic.php?p=0"))
                self._post_url_stem = stem[:-1] if stem.endswith("?p=0") else ""
            if self._post_url_stem:
                return self._post_url_stem + match.group(1)
        return canonical_url(urljoin(self.base_url, href))

    # body ----------------------------------------------------------------------------------------
    def body(self, node):
        return self.cached("scan", node, _post_scan)[1]

    def is_deleted(self, node, body) -> bool:
        """Soft-deleted (3.1+, shown to moderators): ``div.post.deleted`` or its notice; the body stays.
        A post container without a body is a post all the same (its id is in the markup)."""
        return body is None or _has_class(node, "deleted") or self.boxes(node).deleted_notice

    def boxes(self, node) -> _PostBoxes:
        return self.cached("scan", node, _post_scan)[2]

    def body_parts(self, body) -> _BodyParts:
        return self.cached("body_parts", body, _body_parts)

    def quote_blocks(self, body) -> list:
        return list(self.body_parts(body).quotes)

    def quote(self, block, nested: list) -> dict:
        """Author and quoted post id from the ``cite`` (its profile link, its link to the quoted post,
        or its text minus "wrote:" in whatever language), text without nested quotes and the cite."""
        skip = set(nested)
        author = post_id = None
        cite = _quote_cite(block)
        if cite is None:
            # Without nested quotes the block's own subtree is all of it: lxml's tag filter finds the cite.
            cite = (first_own(block, lambda e: e.tag == "cite", frozenset(nested)) if nested
                    else next(block.iter("cite"), None))
        if cite is not None:
            skip.add(cite)
            author, post_id = self.cite_author(cite), self.cite_post_id(cite)
        if post_id is None:
            post_id = _query_value(block.get("cite"), "p")
        inner = next((child for child in block if child.tag == "div"), None)  # _QUOTE_BODY
        return {"author": author, "post_id": post_id,
                "text": element_text(inner if inner is not None else block, frozenset(skip))}

    def cite_author(self, cite) -> str | None:
        for element in cite.iter("a"):
            if "memberlist.php" in (element.get("href") or "") and text_of(element):
                return text_of(element)
        # "NAME wrote:" is the cite's own text before any link or date span.
        label = cite.text or ""
        if not label.strip() and len(cite) == 0:
            label = text_of(cite)
        author = _without_wrote(label) or None
        if author is None and len(cite) and cite[0].tag == "a" and cite[0].get("data-post-id") is None:
            # 3.2+ "<a href=PROFILE>NAME</a> wrote:" where an SEO mod rewrote the profile URL: the link
            # before the words, not the one to the quoted post.
            lead = cite[0]
            if "#p" not in (lead.get("href") or "") and not _without_wrote(lead.tail or ""):
                author = text_of(lead) or None
        return author

    def cite_post_id(self, cite) -> str | None:
        for link in cite.iter("a"):
            found = link.get("data-post-id")
            if found and found.isdigit():
                return found
            href = link.get("href") or ""
            if "viewtopic.php" in href:
                found = _query_value(href, "p")
                if found:
                    return found
            elif "#p" in href:  # an SEO mod's "/post123.html#p123"
                found = _POST_ANCHOR.search(href)
                if found:
                    return found.group(1)
        return None

    def text_skip(self, body, blocks: list) -> frozenset:
        return frozenset(blocks) | self.labels(body)

    def labels(self, body) -> frozenset:
        """Parts of a body that are the software's, not the poster's: inline attachment boxes and the
        "Code: Select all" caption of code boxes (a button label)."""
        return self.body_parts(body).labels

    def images(self, node, body, skip) -> list[str]:
        # Most posts have no image: the C-level query saves the walk.
        parts = self.body_parts(body)
        images = image_urls(body, self.base_url, _holding(skip | self.text_skip(body, []) | parts.smilies, "img")) \
            if parts.any_image else []
        return images + self.cached("attachments", node, self.attached)[0]

    def links(self, node, body, skip) -> list[str]:
        links = link_urls(body, self.base_url, _holding(skip | self.text_skip(body, []), "a")) \
            if self.body_parts(body).any_link else []
        return links + self.cached("attachments", node, self.attached)[1]

    def attached(self, node) -> tuple[list[str], list[str]]:
        """(images, files) of the post's attachment boxes, inline ones included."""
        images, files = [], []
        for box in self.boxes(node).attachment_boxes:
            found_images, found_files = self.attachments(box)
            images += found_images
            files += found_files
        return images, files

    def attachments(self, box) -> tuple[list[str], list[str]]:
        """Image URLs and file download URLs of an attachment box: a thumbnail (``dl.thumbnail``) yields
        the full image it links to, an inline image (``dt.attach-image``) its own
        ``download/file.php?id=N``; any other file (whose ``dt`` may show a file-type icon) is a link."""
        images, files = [], []
        for dl in _ATTACHED_FILES(box):
            if "thumbnail" in (dl.get("class") or "").split():
                found, into = _THUMBNAIL_TARGET(dl), images
            else:
                inline = _INLINE_IMAGE(dl)
                found, into = (inline, images) if inline else (_FILE_LINK(dl), files)
            if found:
                into.append(urljoin(self.base_url, found[0]))
        return images, files

    # notes around the body ---------------------------------------------------------------------
    def edit(self, node, author: str | None) -> tuple[str | None, datetime | None]:
        for notice in self.boxes(node).notices:
            found = self.edit_note(notice)
            if found != (None, None):
                return found
        return None, None

    def edit_note(self, note) -> tuple[str | None, datetime | None]:
        """"Last edited by NAME on DATE, edited N times in total." in any language: the editor is the
        note's member link (or, in English, the words after "by"), the date the first piece of the
        sentence after the name that reads as one. A count must follow it: "Last bumped by NAME on
        DATE." (no count) is not an edit."""
        # Only the sentence itself: 3.1+ appends "<br><strong>Reason:</strong> <em>...</em>".
        parts, editor, after = [note.text or ""], None, None
        for child in note:
            if child.tag == "br":
                if " ".join(parts).strip():
                    break
                parts.append(child.tail or "")  # subsilver2 opens its notes with <br /><br />
                continue
            if editor is None and (child.tag == "a" or "username" in (child.get("class") or "")):
                editor, after = text_of(child), len(parts) + 1
            parts += [text_of(child), child.tail or ""]
        sentence = " ".join(" ".join(parts).split())
        if editor is None:
            match = _ENGLISH_EDIT.search(sentence)
            if not match:
                return None, None
            editor, rest = match.group("who").strip(), sentence[match.end() - 1:]
        else:
            rest = " ".join(" ".join(parts[after:]).split())
        when = _date_before_count(rest, self.dates)
        return (editor or None, when) if when is not None else (None, None)

    def signature(self, node) -> str | None:
        sig = self.boxes(node).signature
        return (element_text(sig) or None) if sig is not None else None

    def clean_url(self, url: str) -> str:
        return _without_session(url, self.host)


# subsilver2: one ``table.tablebg`` per post; its first row holds ``<a name="p{id}">`` and
# ``b.postauthor`` (a bare name), then "Post subject:" and "Posted: DATE"; the second the profile column
# and ``div.postbody`` (message, then a second ``postbody`` with the "_________________" signature);
# the last row the profile/PM buttons (the member link).
_SS_ANCHOR = xpath(f"./tr/td/a[{_name_is('p')}]/@name | ./tbody/tr/td/a[{_name_is('p')}]/@name")
_SS_AUTHOR = xpath(f"descendant::b[{_cls('postauthor')}]")
# The buttons row's links (td > div.gensmall > a), the profile button among them; the message sits deeper (td > table).
_SS_BUTTONS = xpath("./tr/td/div/a/@href | ./tbody/tr/td/div/a/@href")
# Attachment boxes: a table.tablebg of their own inside the post's.
_SS_ATTACH_BOXES = xpath(f"descendant::table[{_cls('tablebg')}]")
# The header's right-hand block: [mini-post link] <b>Posted:</b> DATE (after "<b>Post subject:</b> ...").
_SS_POSTED = xpath(f"(descendant::td[{_cls('gensmall')}]/div[b])[last()]")
_SS_POST_LINK = xpath("./a[contains(@href, 'viewtopic.php') and contains(@href, 'p=')]/@href")
_SS_BODIES = xpath(f"descendant::*[{_cls('postbody')}]")
_SS_QUOTES = xpath(f"descendant::div[{_cls('quotecontent')}]")
_SS_LABELS = xpath(f"descendant::div[{_cls('quotetitle')} or {_cls('codetitle')} or {_cls('attachtitle')}]")
_SS_NOTES = xpath(f"descendant::span[{_cls('gensmall')}]")


def _profile_button_member_id(hrefs: list) -> str | None:
    """The member id of subsilver2's profile button: ``memberlist.php?mode=viewprofile&u=N``, or the
    first button whose URL is a rewritten profile URL (``member5.html``)."""
    for href in hrefs:
        if "memberlist.php" in href and "mode=viewprofile" in href:
            return member_id_from_url(href)
    for href in hrefs:
        found = _seo_id(href, _SEO_MEMBER)
        if found:
            return found
    return None


class Subsilver2Fields(ProsilverFields):
    """phpBB 3.0's subsilver2 table layout (and the styles derived from it)."""

    def post_id(self, node) -> str | None:
        match = _POST_ID.match(first(_SS_ANCHOR(node)) or "")
        return match.group(1) if match else None

    def posted_block(self, node):
        """The header's right-hand block: [mini-post link] <b>Posted:</b> DATE."""
        return self.cached("posted_block", node, lambda n: first(_SS_POSTED(n)))

    def author(self, node) -> tuple[str | None, str | None]:
        name = first(_SS_AUTHOR(node))
        return (text_of(name) or None if name is not None else None), _profile_button_member_id(_SS_BUTTONS(node))

    def posted_at(self, node) -> tuple[datetime | None, str | None]:
        """The text after the last label (``<b>Posted:</b>``) of the header's right-hand block."""
        block = self.posted_block(node)
        if block is None:
            return None, None
        label = block.findall("b")[-1]
        printed = " ".join((label.tail or "").replace("\xa0", " ").split()) or None
        return _parse_date(printed, self.dates), printed

    def url(self, node) -> str | None:
        block = self.posted_block(node)
        href = first(_SS_POST_LINK(block)) if block is not None else None
        return self.post_url(href or f"./viewtopic.php?p={self.post_id(node)}")

    def body(self, node):
        bodies = [b for b in _SS_BODIES(node) if b.tag == "div"]
        return bodies[0] if bodies and not _SUBSILVER_SIGNATURE.match(bodies[0].text or "") else None

    def is_deleted(self, node, body) -> bool:
        return body is None

    def quote_blocks(self, body) -> list:
        return _SS_QUOTES(body)

    def quote(self, block, nested: list) -> dict:
        """``div.quotetitle`` "NAME wrote:" (or "<b>Quote:</b>" for an uncited quote) just before it."""
        title = block.getprevious()
        author = None
        if title is not None and "quotetitle" in (title.get("class") or "").split():
            label = title.text or ""
            author = _without_wrote(label) or None
        return {"author": author, "post_id": None, "text": element_text(block, frozenset(nested))}

    def text_skip(self, body, blocks: list) -> frozenset:
        return frozenset(blocks) | frozenset(_SS_LABELS(body))

    def attached(self, node) -> tuple[list[str], list[str]]:
        """(images, files) of the attachment boxes under the message: phpBB's download links
        (``download/file.php?id=N``): a linked thumbnail yields the image it links to, an inline image its
        own URL, a text link a file."""
        images, files = [], []
        for box in _SS_ATTACH_BOXES(node):
            for element in box.iter("a", "img"):
                if element.tag == "a":
                    href = element.get("href") or ""
                    if "file.php" in href and "id=" in href:
                        thumbnail = next(element.iter("img"), None) is not None
                        (images if thumbnail else files).append(urljoin(self.base_url, href))
                else:
                    src = element.get("src") or ""
                    if "file.php" in src and "id=" in src and element.getparent().tag != "a":
                        images.append(urljoin(self.base_url, src))
        return images, files

    def ignore_notice(self, node):
        return None

    def edit(self, node, author: str | None) -> tuple[str | None, datetime | None]:
        for note in _SS_NOTES(node):
            found = self.edit_note(note)
            if found != (None, None):
                return found
        return None, None

    def signature(self, node) -> str | None:
        for element in _SS_BODIES(node)[1:]:
            text = element_text(element)
            if _SUBSILVER_SIGNATURE.match(text):
                return _SUBSILVER_SIGNATURE.sub("", text) or None
        return None


# --- Page-level facts ----------------------------------------------------------------------------

_PROSILVER_POSTS = xpath(f"/descendant::div[{id_is('p')}][{_cls('post')}]")


def _prosilver_posts(root) -> list:
    """``_PROSILVER_POSTS``: a walk of the divs, whose id test runs in Python before any class test,
    costs less than the query's predicates on every div of the page."""
    posts = []
    for div in root.iter("div"):
        value = div.get("id")
        if (value and value[0] == "p" and len(value) > 1 and not value[1:].strip("0123456789")
                and _has_class(div, "post")):
            posts.append(div)
    return posts

_SUBSILVER_POSTS = xpath(f"/descendant::table[{_cls('tablebg')}][./tr/td/a[{_name_is('p')}] or ./tbody/tr/td/a[{_name_is('p')}]]")
_PAGINATIONS = xpath(f"/descendant::div[{_cls('pagination')}][not(ancestor::li[{_cls('row')}])]")
_SUBSILVER_PAGINATION = xpath(f"/descendant::div[@id='pagecontent']/table[not({_cls('tablebg')})]/descendant::td[{_cls('gensmall')}][descendant::a[contains(@href, 'start=')] or descendant::strong]"
                              f" | /descendant::div[@id='pagecontent']/table[not({_cls('tablebg')})]/descendant::td[{_cls('nav')}]")
_SCRIPTS = xpath("/descendant::script/text()")
# Within one pagination block (compiled once: the blocks' own ``.xpath`` would compile on every call).
_ACTIVE_PAGE = xpath(f"descendant::li[{_cls('active')}]/span/text()")
_REL_NEXT = xpath("descendant::a[@rel='next']/@href")
_DATA_PER_PAGE = xpath("/descendant::input[@data-per-page]/@data-per-page")  # 3.1+ "jump to page" box
# The header breadcrumbs: every link of the first navlinks list (3.0 prosilver, 3.1+) or of subsilver2's
# p.breadcrumbs; which of them are forums is decided per link (``_forum_crumbs``), since SEO mods rewrite
# viewforum.php away.
_CRUMBS = xpath(f"(/descendant::ul[{_cls('navlinks')}])[1]/descendant::a"
                f" | (/descendant::p[{_cls('breadcrumbs')}])[1]/descendant::a")
_NEXT_30 = xpath(f"/descendant::fieldset[{_cls('display-options')}]/descendant::a[{_cls('right-box')}]/@href")
_TOPIC_SEARCH_T = xpath("/descendant::form[@id='topic-search']/descendant::input[@name='t']/@value")
_TOPIC_LINKS = xpath("/descendant::h2/descendant::a/@href | /descendant::head/link[@rel='canonical']/@href"
                     " | /descendant::a[contains(@href, 'posting.php') and contains(@href, 'mode=reply')]/@href")
# div#page-body/h2 and div#pageheader/h2, found from the page's few h2 rather than its many divs.
_THREAD_TITLES = (xpath(f"/descendant::h2[{_cls('topic-title')}]"), xpath("/descendant::h2[parent::div[@id='page-body']]"),
                  xpath("/descendant::h2[parent::div[@id='pageheader']]"))
_TITLE = xpath("/descendant::title")
_LOGIN_FORM = xpath("/descendant::form[@id='login'] | /descendant::form[contains(@action, 'mode=login')][descendant::input[@type='password']]")
_TOPIC_ROWS_ANY = xpath(f"/descendant::ul[{_cls('topiclist')}]/descendant::a[{_cls('topictitle')} or {_cls('forumtitle')}]"
                        f" | /descendant::table[{_cls('tablebg')}]/descendant::a[{_cls('topictitle')} or {_cls('forumlink')}]")
_BODY_CLASS = xpath("/descendant::body[@id='phpbb']/@class")
# What every phpBB page has, whatever its style: prosilver's <body id="phpbb">, or phpBB's own script
# names in its links. Forumotion copies prosilver's post markup (div#p{id}.post, p.author) but not these.
_PHPBB_PAGE = xpath("boolean(/descendant::body[@id='phpbb'] | /descendant::a[contains(@href, 'viewtopic.php')"
                    " or contains(@href, 'viewforum.php') or contains(@href, 'memberlist.php')])")


def _pagination_blocks(root) -> list:
    """The page's own pagination blocks (prosilver ``div.pagination``, subsilver2's table cells)."""
    return _PAGINATIONS(root) or _SUBSILVER_PAGINATION(root)


def _paging(root, url: str, blocks: list) -> tuple[int, int | None, int | None, int | None]:
    """(page, page_count, per_page, start offset) from the pagination, the URL and phpBB 3.0's JS vars."""
    page = page_count = None
    links: list[tuple[int, int]] = []  # (page number, start offset) of numbered page links
    for block in blocks:
        # "Page <strong>2</strong> of <strong>10</strong>", in any language (3.0, subsilver2).
        strongs = [s for s in block.iter("strong") if text_of(s).isdigit()]
        if page is None and len(strongs) >= 2 and _PAGE_OF.search(text_of(strongs[0].getparent())):
            page, page_count = int(text_of(strongs[0])), int(text_of(strongs[1]))
        if page is None:
            current = first(_ACTIVE_PAGE(block)) or (
                text_of(strongs[0]) if len(strongs) == 1 else None)
            if current and current.strip().isdigit():
                page = int(current.strip())
        for link in block.iter("a"):
            label = text_of(link)
            if label.isdigit() and link.get("href"):
                links.append((int(label), int(_query_value(link.get("href"), "start") or 0)))
    js = _PER_PAGE_JS.search(" ".join(_SCRIPTS(root)))
    data_per_page = first(_DATA_PER_PAGE(root)) if not js else None
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
    if page_count is None:
        page_count = max([number for number, _ in links] + [page])
    return page, page_count, per_page, start


def _next_page(root, base: str, page: int, blocks: list) -> str | None:
    href = None
    for block in blocks:
        href = first(_REL_NEXT(block))
        if not href:
            href = next((link.get("href") for link in block.iter("a") if text_of(link) == str(page + 1)), None)
        if href:
            break
    if not href:  # phpBB 3.0 viewtopic's "Next" link under the posts
        href = first(_NEXT_30(root))
    if not href or href.startswith(("#", "javascript")):
        return None
    return canonical_url(urljoin(base, href))


def _forum_crumbs(root, base: str) -> list[tuple[str, str, str | None]]:
    """(title, url, forum id) of the forum links in the header breadcrumbs, board index left out: the
    crumbs 3.1+ marks with ``data-forum-id``, and links to a forum (``viewforum.php``, or a rewritten
    URL with the forum's id in it)."""
    found = []
    for link in _CRUMBS(root):
        href = link.get("href")
        if not href:
            continue
        parent = link.getparent()
        marked = parent.get("data-forum-id") if parent is not None else None
        forum_id = marked if marked and marked.isdigit() else forum_id_from_url(href)
        if forum_id is None and "viewforum.php" not in href:
            continue
        title = text_of(link)
        if title:
            found.append((title, canonical_url(urljoin(base, href)), forum_id))
    return found


def _thread_id(root, url: str) -> str | None:
    hidden = first(_TOPIC_SEARCH_T(root))
    if hidden and hidden.isdigit():
        return hidden
    for href in _TOPIC_LINKS(root):
        found = _query_value(href, "t")
        if found:
            return found
    return thread_id_from_url(url)


def _thread_title(root) -> str | None:
    for query in _THREAD_TITLES:
        node = first(query(root))
        if node is not None and text_of(node):
            return text_of(node)
    title = text_of(first(_TITLE(root)))
    if " • " in title:  # 3.0: "Board name • Topic title"
        return title.split(" • ", 1)[1].strip() or None
    return title.rsplit(" - ", 1)[0].strip() or None


# --- Listing pages (index and viewforum) ---------------------------------------------------------

_OWN_FORUM_LINK = xpath(f"/descendant::h2[{_cls('forum-title')}]/a/@href | /descendant::div[@id='page-body']/h2/a/@href"
                        " | /descendant::div[@id='pageheader']/h2/a/@href")
_FORUM_LINKS = xpath(
    f"/descendant::ul[{_cls('topiclist')}]/li[{_cls('header')}]/descendant::a[contains(@href, 'viewforum.php')]"
    f" | /descendant::ul[{_cls('forums')}]/li[{_cls('row')}][descendant::dd[{_cls('topics')}]]"
    f"/descendant::a[{_cls('forumtitle')} or {_cls('subforum')}]"
)
_TOPIC_ROWS = xpath(f"/descendant::ul[{_cls('topics')}]/li[{_cls('row')}][descendant::a[{_cls('topictitle')}]]")
_LISTING_TITLES = (xpath(f"/descendant::h2[{_cls('forum-title')}]"), xpath("/descendant::div[@id='page-body']/h2"),
                   xpath("/descendant::div[@id='pageheader']/h2"))
_ROW_TITLE = xpath(f"descendant::a[{_cls('topictitle')}]")
_TITLE_CELL = xpath("./ancestor::dt[1]")
_AFTER_LAST_BREAK = xpath("descendant::br[last()]/following-sibling::text()")
_ROW_FOLDER = xpath("./dl/@class | ./dl/@style | ./dl/dt/@title")
_ROW_LAST = xpath(f"descendant::dd[{_cls('lastpost')}]")
_ROW_COUNT = {name: xpath(f"string(descendant::dd[{_cls(name)}])") for name in ("posts", "views")}
_ROW_POSTER = xpath(f"descendant::dt/descendant::div[{_cls('topic-poster')}] | descendant::dt/descendant::div[{_cls('responsive-hide')}]")
_ROW_STARTER = xpath(f"descendant::a[contains(@href, 'memberlist.php')][not(ancestor::div[{_cls('responsive-show')}])]"
                     f" | descendant::span[{_cls('username')} or {_cls('username-coloured')}]")
_STARTER_TEXT = re.compile(r"\bby\s+(.+?)\s+»")


def _thread_row(row, base: str, dates: DateResolver) -> ThreadLink:
    link = _ROW_TITLE(row)[0]
    href = canonical_url(urljoin(base, link.get("href", "")))
    row_classes = (row.get("class") or "").split()
    folder = " ".join(_ROW_FOLDER(row))
    cell = first(_TITLE_CELL(link))
    moved = "topic_moved" in folder or "Moved topic" in folder or text_of(cell).startswith("Moved:")
    last = first(_ROW_LAST(row))
    last_post_at = None
    if last is not None and not moved:
        time = first(_LINE_TIME(last))
        if time is not None:
            last_post_at = machine_time(time)
        else:
            after_break = _AFTER_LAST_BREAK(last)
            last_post_at = _parse_date(" ".join(" ".join(after_break).split()), dates)
    return ThreadLink(
        thread_id=thread_id_from_url(href),
        title=text_of(link),
        url=href,
        author=_topic_author(row, link, cell),
        reply_count=None if moved else to_int(_ROW_COUNT["posts"](row)),
        view_count=None if moved else to_int(_ROW_COUNT["views"](row)),
        last_post_at=last_post_at,
        sticky=any(c in row_classes for c in ("sticky", "announce", "global-announce")),
        moved=moved,
    )


def _topic_author(row, link, cell) -> str | None:
    """The topic starter from "by NAME » first post date": ``div.topic-poster`` (3.2+), the
    ``responsive-hide`` line (3.1) or the title cell itself (3.0)."""
    scope = first(_ROW_POSTER(row))
    if scope is None:
        scope = cell
    if scope is None:
        return None
    name = first(_ROW_STARTER(scope))
    if name is not None:
        return text_of(name) or None
    match = _STARTER_TEXT.search(text_of(scope).split(text_of(link), 1)[-1])
    return match.group(1).strip() if match else None


# subsilver2 listings: forum rows (``a.forumlink`` with the topic/post counts in ``p.topicdetails``;
# a link forum has none), sub-forum links in ``p.forumdesc``, category headers ``td.cat > h4 > a``;
# topic rows (``a.topictitle``, ``p.topicauthor``, then replies, views and last-post date in
# ``p.topicdetails``; the folder image names sticky, announcement and moved topics).
_SS_FORUM_LINKS = xpath(
    f"/descendant::table[{_cls('tablebg')}]/tr[td/p[{_cls('topicdetails')}]]/td/descendant::a[{_cls('forumlink')} or {_cls('subforum')}]"
    f" | /descendant::table[{_cls('tablebg')}]/tr/td[{_cls('cat')}]/h4/a[contains(@href, 'viewforum.php')]"
)
_SS_TOPIC_ROWS = xpath(f"/descendant::table[{_cls('tablebg')}]/tr[td/a[{_cls('topictitle')}]]")
_SS_ROW_TITLE = xpath(f"./td/a[{_cls('topictitle')}]")
_SS_ROW_AUTHOR = xpath(f"./td/p[{_cls('topicauthor')}]")
_SS_ROW_DETAILS = xpath(f"./td/p[{_cls('topicdetails')}]")
_SS_ROW_FOLDER = xpath("./td[1]/img/@src | ./td[1]/img/@title | ./td/b/text()")


def _subsilver2_thread_row(row, base: str, dates: DateResolver) -> ThreadLink:
    link = _SS_ROW_TITLE(row)[0]
    href = canonical_url(urljoin(base, link.get("href", "")))
    folder = " ".join(_SS_ROW_FOLDER(row))
    moved = "topic_moved" in folder or "Moved" in folder
    details = [text_of(cell) for cell in _SS_ROW_DETAILS(row)]
    author = first(_SS_ROW_AUTHOR(row))
    return ThreadLink(
        thread_id=thread_id_from_url(href),
        title=text_of(link),
        url=href,
        author=text_of(author) or None if author is not None else None,
        reply_count=None if moved or len(details) < 1 else to_int(details[0]),
        view_count=None if moved or len(details) < 2 else to_int(details[1]),
        last_post_at=None if moved or len(details) < 3 else _parse_date(details[2], dates),
        sticky="sticky_" in folder or "announce_" in folder,
        moved=moved,
    )


# --- The engine ----------------------------------------------------------------------------------

class PhpbbEngine(ForumEngine):
    name = NAME
    volatile_params = _VOLATILE_PARAMS
    fields = ProsilverFields
    skin_fields = {"prosilver": ProsilverFields, "subsilver2": Subsilver2Fields}
    post_id_markup = re.compile(rb"""<(?:div|a)\b[^>]*?\b(?:id|name)=["']p(\d+)["']""")

    def canonical_url(self, url: str) -> str:
        return canonical_url(url)

    def thread_id_from_url(self, url: str | None) -> str | None:
        return thread_id_from_url(url)

    def forum_id_from_url(self, url: str | None) -> str | None:
        return forum_id_from_url(url)

    def member_id_from_url(self, url: str | None) -> str | None:
        return member_id_from_url(url)

    @staticmethod
    def post_nodes(root) -> tuple[str, list]:
        """(skin, post containers) of a viewtopic page."""
        nodes = _prosilver_posts(root)
        if nodes:
            return "prosilver", nodes
        return "subsilver2", _SUBSILVER_POSTS(root)

    def page_kind(self, page) -> str | None:
        """"thread", "listing" or None: a login form served in place of the page (the board or forum
        requires login) is not an empty forum, a page we do not recognise is not one either, and
        neither is a page without phpBB's own markers (Forumotion copies prosilver's post markup)."""
        root = as_selector(page).root
        if not _PHPBB_PAGE(root):
            return None
        skin, nodes = self.post_nodes(root)
        if skin == "prosilver":
            if any(first(_AUTHOR_LINE_ANYWHERE(node)) is not None for node in nodes):
                return "thread"
        elif nodes:
            return "thread"
        if _TOPIC_ROWS_ANY(root):
            return "listing"
        if _LOGIN_FORM(root):
            return None
        # An empty forum still is a viewforum page: prosilver names the section on <body>.
        body_class = first(_BODY_CLASS(root)) or ""
        if "section-viewforum" in body_class or "section-index" in body_class:
            return "listing"
        return None

    def parse_thread_page(self, page, url: str, dates: DateResolver) -> ThreadPage:
        """Every post on one viewtopic page, in page order, with the topic's identity and next page."""
        root = as_selector(page).root
        base = canonical_base_url(root, url)
        dates = dates.with_tz(timezone_from_footer(page))
        crumbs = _forum_crumbs(root, base)
        forum_id = crumbs[-1][2] if crumbs else _query_value(url, "f")
        blocks = _pagination_blocks(root)
        number, page_count, _, start = _paging(root, url, blocks)
        skin, nodes = self.post_nodes(root)
        fields = self.skin_fields[skin](base, dates, start, nodes)
        posts, undated, errors = self.read_posts(nodes, fields, url)
        thread_id = _thread_id(root, url)
        # phpBB 3.0 prints no canonical link; a page reached by a post link (viewtopic.php?p=N) is the
        # topic's page all the same.
        canonical = canonical_link(root)
        if not canonical and thread_id and not _query_value(url, "t"):
            canonical = f"./viewtopic.php?t={thread_id}" + (f"&start={start}" if start else "")
        return ThreadPage(
            thread_id=thread_id,
            title=_thread_title(root),
            forum_id=forum_id,
            forum_path=[name for name, *_ in crumbs],
            page=number,
            page_count=page_count,
            posts=posts,
            next_page=_next_page(root, base, number, blocks),
            canonical_url=canonical_url(urljoin(base, canonical or url)),
            unparsed_dates=undated,
            parse_errors=errors,
        )

    def parse_listing_page(self, page, url: str, dates: DateResolver) -> ListingPage:
        """Forums (rows, sub-forum links, category headers), topics and the next page of an index or
        viewforum page."""
        root = as_selector(page).root
        base = canonical_base_url(root, url)
        dates = dates.with_tz(timezone_from_footer(page))
        own_id = forum_id_from_url(url) or forum_id_from_url(first(_OWN_FORUM_LINK(root)))
        forums = []
        for link in _FORUM_LINKS(root) + _SS_FORUM_LINKS(root):
            href = canonical_url(urljoin(base, link.get("href", "")))
            forum_id, title = forum_id_from_url(href), text_of(link)
            if forum_id and title:
                forums.append(ForumLink(forum_id=forum_id, title=title, url=href))
        threads = [_thread_row(row, base, dates) for row in _TOPIC_ROWS(root)]
        threads += [_subsilver2_thread_row(row, base, dates) for row in _SS_TOPIC_ROWS(root)]
        threads = [thread for thread in threads if thread.thread_id]
        blocks = _pagination_blocks(root)
        number = _paging(root, url, blocks)[0]
        title = None
        for query in _LISTING_TITLES:
            node = first(query(root))
            if node is not None and text_of(node):
                title = text_of(node)
                break
        return self.listing(
            forum_id=own_id,
            title=title,
            forum_path=[name for name, *_ in _forum_crumbs(root, base)],
            forums=forums,
            threads=threads,
            next_page=_next_page(root, base, number, blocks),
            page=number,
        )


ENGINE = PhpbbEngine()
page_kind = ENGINE.page_kind
parse_thread_page = ENGINE.parse_thread_page
parse_listing_page = ENGINE.parse_listing_page
