"""What the synthetic-forum renderers (``render_*.py``) do the same way, whatever the skin.

Each renderer keeps its own markup; this module holds the forum facts they all print: how a post's
quotes nest, which rows a listing page shows, how vBulletin words a date for a guest.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta, timezone, tzinfo
from html import escape
from typing import Callable

from miata_spiders.testing.forumgen import POST_SLOTS, Forum, Post, SyntheticForum, Thread

# What forum software prints instead of a date for the last two days.
DAY_WORDS = {0: "Today", 1: "Yesterday"}


def days_ago(when: datetime, now: datetime, tz: tzinfo) -> int:
    """How many calendar days before ``now``'s ``when`` falls, both seen in ``tz``."""
    return (now.astimezone(tz).date() - when.astimezone(tz).date()).days


class SyntheticSite:
    """What every renderer's site shares: the model it renders, the time it renders at, its ground truth."""

    def __init__(self, forum: SyntheticForum):
        self.forum = forum
        self.now = forum.now

    @property
    def expected_post_ids(self):
        return self.forum.all_post_ids()

    def listing_page_count(self, f: Forum) -> int:
        """Pages of the forum's listing; stickies, shown above the rows, take no row of their own."""
        return pages_for(len(listing_rows(self.forum, f)), self.forum.shape.threads_per_page)


class VBulletinSite(SyntheticSite):
    """A vBulletin 3 or 4 site: a guest session id in every link, dates in the forum's zone."""

    timezone: tzinfo  # the zone the forum prints its dates in
    session_salt: str = "session"  # two sites of one seed get different session ids

    def __init__(self, forum: SyntheticForum):
        super().__init__(forum)
        # vBulletin renders a page's dates with the viewer's offset at that moment, DST included, and
        # prints the standard offset in the footer.
        self.dates = VBulletinDates(forum.now.astimezone(self.timezone).utcoffset(), forum.now)
        self.session = hashlib.md5(f"{self.session_salt}-{forum.shape.seed}".encode()).hexdigest()

    def forum_href(self, f: Forum, page: int = 1) -> str:
        raise NotImplementedError

    def _crumbs(self, forum_id: int | None) -> list:
        """(title, link) of every forum from the top down to ``forum_id``."""
        if forum_id is None:
            return []
        return [(x.title, self.forum_href(x)) for x in self.forum.forum_path(forum_id)]


def expected_quotes(forum: SyntheticForum, p: Post) -> list[dict]:
    """The quotes a crawl must store for the post: the post it quotes, then the one that post quotes."""
    quoted_ids = filter(None, (p.quote_of, p.nested_quote_of)) if p.quote_of else ()
    return [{"author": quoted.author or quoted.guest_name, "post_id": str(quoted_id)}
            for quoted_id in quoted_ids for quoted in [forum.post(p.thread_id, quoted_id % POST_SLOTS)]]


def quotes_html(forum: SyntheticForum, p: Post, render_quote: Callable[[Post, str], str]) -> str:
    """The post's quote of an earlier post, holding the quote that post made in turn, each rendered by
    ``render_quote(quoted post, nested quote html)``; "" for a post that quotes nothing."""
    if not p.quote_of:
        return ""
    nested = render_quote(forum.post(p.thread_id, p.nested_quote_of % POST_SLOTS), "") if p.nested_quote_of else ""
    return render_quote(forum.post(p.thread_id, p.quote_of % POST_SLOTS), nested)


def listing_rows(forum: SyntheticForum, f: Forum) -> list[Thread | tuple[str, Thread]]:
    """The forum's non-sticky threads, latest post first, with its moved-thread stub as ("moved", thread)
    in second place, where the move left it."""
    rows: list = [t for t in forum.listing(f) if not t.sticky]
    stub = forum.moved_stub(f)
    if stub is not None:
        rows.insert(min(1, len(rows)), ("moved", stub))
    return rows


def listing_page_rows(forum: SyntheticForum, f: Forum, page: int) -> list[Thread | tuple[str, Thread]]:
    """The ``listing_rows`` that listing page ``page`` shows."""
    per = forum.shape.threads_per_page
    return listing_rows(forum, f)[(page - 1) * per: page * per]


def pages_around(page: int, pages: int, reach: int = 2) -> range:
    """The page numbers a pager links around the current page."""
    return range(max(1, page - reach), min(pages, page + reach) + 1)


def pages_for(rows: int, per_page: int) -> int:
    """Pages a list of ``rows`` fills, ``per_page`` a page; an empty list still has its one page."""
    return max(1, math.ceil(rows / per_page))


def member_id(name: str) -> int:
    """A stable user id for a member name (vBulletin renderers; the model has names only)."""
    return 5000 + int(hashlib.md5(name.encode()).hexdigest()[:4], 16)


def latin1(page: str) -> bytes:
    # vBulletin 3 and 4 serve ISO-8859-1; characters outside it arrive as numeric character references.
    return page.encode("iso-8859-1", errors="xmlcharrefreplace")


def standard_offset_hours(year: int, tz: tzinfo) -> int:
    """The zone's standard (winter) offset in hours, as vBulletin's footer prints it all year round."""
    return int(datetime(year, 1, 1, tzinfo=tz).utcoffset().total_seconds() // 3600)


def vbulletin_message(forum: SyntheticForum, p: Post, render_quote: Callable[[Post, str], str], smilie: str) -> str:
    """A post's message as vBulletin 3 and 4 render its BB code: the quote, the text (a line break
    after its first sentence), images, links, and the ``smilie`` image in every seventh post."""
    parts = [quotes_html(forum, p, render_quote), escape(p.text).replace(". ", ".<br />\n", 1)]
    parts += [f'<br /><img src="{url}" border="0" alt="" />' for url in p.images + p.lazy_images]
    parts += [f' <a href="{url}" target="_blank">parts link</a>' for url in p.links]
    if p.post_id % 7 == 0:
        parts.append(f' <img src="{smilie}" border="0" alt="" title="Smile" class="inlineimg" />')
    return "".join(parts)


class VBulletinDates:
    """Dates as vBulletin prints them to a guest: in one fixed offset, "Today"/"Yesterday" or the date,
    then a 12-hour clock."""

    def __init__(self, offset: timedelta, now: datetime, date_format: str = "%m-%d-%Y"):
        self.tz = timezone(offset)
        self.now = now
        self.date_format = date_format

    def local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz)

    def date(self, when: datetime, date_format: str | None = None) -> str:
        return self.local(when).strftime(date_format or self.date_format)

    def day(self, when: datetime, date_format: str | None = None) -> str:
        return DAY_WORDS.get(days_ago(when, self.now, self.tz)) or self.date(when, date_format)

    def clock(self, when: datetime) -> str:
        return self.local(when).strftime("%I:%M %p")

    def plain(self, when: datetime, between: str = ", ") -> str:
        """ "Today, 09:14 AM" """
        return f"{self.day(when)}{between}{self.clock(when)}"

    def spanned(self, when: datetime, between: str = " ", date_format: str | None = None) -> str:
        """ 'Today <span class="time">09:14 AM</span>' """
        return f'{self.day(when, date_format)}{between}<span class="time">{self.clock(when)}</span>'

    def edited(self, when: datetime) -> str:
        """The date in "Last edited by NAME; DATE." """
        return self.spanned(when, " at ")
