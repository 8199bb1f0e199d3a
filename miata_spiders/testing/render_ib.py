"""Render a ``SyntheticForum`` in Internet Brands' vBulletin 3 "nextgen" markup (MiataTurbo.net's skin).

The markup follows the real pages (see docs/engines/ib-vbulletin.md): the index's ``div.tbox`` /
``div.trow.forumbit`` rows, the thread page's ``div#edit{id} > div#post{id} > div.tpost`` postbits with
``postcount``/``postmenu_``/``post_message_`` ids, IB's ``mb_pagenav`` pagination and SEO URLs.
Only the structure a crawler sees is kept (no ads, scripts or CSS).
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape
from urllib.parse import urlsplit

from miata_spiders.testing.forumgen import Forum, Post, SyntheticForum, Thread
from miata_spiders.testing.render_common import SyntheticSite, VBulletinDates, listing_page_rows, quotes_html

HOST = "https://www.miataturbo.net"
ROBOTS = b"User-agent: *\nDisallow: /members/\nDisallow: /search.php\nDisallow: /private.php\nDisallow: /newreply.php\n"
SHORT_DATE = "%m-%d-%y"  # listings print a two-digit year, posts a four-digit one

_FORUM_PATH = re.compile(r"^/(?P<slug>[a-z0-9-]+)-(?P<fid>\d+)/(?:index(?P<page>\d+)\.html)?$")
_THREAD_PATH = re.compile(r"^/(?P<fslug>[a-z0-9-]+)-(?P<fid>\d+)/(?P<tslug>[^/]*)-(?P<tid>\d+)/(?:page(?P<page>\d+)/)?$")


class IBForumSite(SyntheticSite):
    """A ``ForumServer`` site: answers paths of the IB URL scheme with rendered pages."""

    def __init__(self, forum: SyntheticForum):
        super().__init__(forum)
        # The skin prints every date in the guest offset GMT -5 (the footer says so), DST or not.
        self.dates = VBulletinDates(timedelta(hours=-5), forum.now)

    # --- URLs -----------------------------------------------------------------------------------
    def forum_url(self, f: Forum, page: int = 1) -> str:
        return f"{HOST}/{f.slug}-{f.forum_id}/" + (f"index{page}.html" if page > 1 else "")

    def thread_url(self, t: Thread, page: int = 1) -> str:
        f = self.forum.forums[t.forum_id]
        return f"{HOST}/{f.slug}-{f.forum_id}/{t.slug}-{t.thread_id}/" + (f"page{page}/" if page > 1 else "")

    def post_url(self, p: Post) -> str:
        return f"{HOST}/{p.post_id}-post{p.position}.html"

    # --- routing --------------------------------------------------------------------------------
    def respond(self, path: str) -> tuple[int, bytes, dict]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/robots.txt":
            return 200, ROBOTS, {"Content-Type": "text/plain"}
        path = urlsplit(path).path
        if path == "/":
            return 200, self.index_page().encode(), html
        match = _THREAD_PATH.match(path)
        if match:
            tid, page = int(match["tid"]), int(match["page"] or 1)
            if self._thread_exists(tid, int(match["fid"])) and page <= self.forum.page_count(tid):
                return 200, self.thread_page(self.forum.thread(tid), page).encode(), html
        match = _FORUM_PATH.match(path)
        if match:
            f = self.forum.forums.get(int(match["fid"]))
            page = int(match["page"] or 1)
            if f is not None and page <= self.listing_page_count(f):
                return 200, self.forum_page(f, page).encode(), html
        return 404, _frame("Page not found", "<div class='tbox'>Invalid address.</div>", []).encode(), html

    def _thread_exists(self, tid: int, fid: int) -> bool:
        f = self.forum.forums.get(fid)
        return f is not None and tid in self.forum.thread_ids(f)

    # --- pages ----------------------------------------------------------------------------------
    def index_page(self) -> str:
        boxes = []
        for cat in self.forum.categories:
            rows = "".join(self._forumbit(self.forum.forums[c]) for c in cat.children)
            boxes.append(
                f'<div class="tbox"><div class="trow tcat"><div class="tcell">'
                f'<a href="{self.forum_url(cat)}"><strong>{escape(cat.title)}</strong></a></div></div>'
                f'<div class="trow-group" id="collapseobj_forumbit_{cat.forum_id}">'
                f'<div class="trow thead forumbit"><div class="tcell statusicon">&nbsp;</div><div class="tcell">Forum</div>'
                f'<div class="tcell lastpost">Last Post</div><div class="tcell threadcount">Threads</div>'
                f'<div class="tcell postcount">Posts</div></div>{rows}</div></div>'
            )
        return _frame("MiataTurbo.net - Miata Turbo Forum", "".join(boxes), [])

    def _forumbit(self, f: Forum) -> str:
        subs = "".join(
            f'<li><div class="left"><img class="inlineimg" src="images/statusicon/subforum_old.gif" alt="" '
            f'id="forum_statusicon_{c}" />&nbsp;</div><div class="overflow:hidden;"><a href="{self.forum_url(self.forum.forums[c])}">'
            f"{escape(self.forum.forums[c].title)}</a></div></li>"
            for c in f.children
        )
        listing = self.forum.listing(f)
        last = max(listing, key=lambda t: t.last_post_at) if listing else None
        lastpost = ""
        if last:
            lastpost = (
                f'<div class="smallfont text-left"><div><span><a href="{self.thread_url(last)}"><strong>'
                f'{escape(last.title[:30])}</strong></a></span></div><div class="text-right">'
                f"{self.dates.spanned(last.last_post_at, date_format=SHORT_DATE)}</div></div>"
            )
        return (
            f'<div class="trow text-center forumbit"><div class="tcell alt2 statusicon"><img class="inlineimg" '
            f'src="images/statusicon/forum_old.gif" alt="" id="forum_statusicon_{f.forum_id}" /></div>'
            f'<div id="f{f.forum_id}" class="tcell text-left"><a href="{self.forum_url(f)}"><strong>{escape(f.title)}</strong></a>'
            f'<div class="smallfont">Talk about {escape(f.title.lower())}.</div>'
            + (f'<ul class="subforums smallfont">{subs}</ul>' if subs else "")
            + f'</div><div class="tcell alt2 lastpost">{lastpost}</div>'
            f'<div class="tcell threadcount">{len(listing):,}</div>'
            f'<div class="tcell alt2 postcount">{sum(t.post_count for t in listing):,}</div></div>'
        )

    def forum_page(self, f: Forum, page: int) -> str:
        stickies = [t for t in self.forum.listing(f) if t.sticky]
        rows = []
        if stickies:  # vBulletin repeats the stickies at the top of every page
            rows.append('<div class="trow thead"><div class="tcell">Sticky Threads</div></div>')
            rows += [self._threadbit(t, sticky=True) for t in stickies]
            rows.append('<div class="trow thead"><div class="tcell">Normal Threads</div></div>')
        for entry in listing_page_rows(self.forum, f, page):
            rows.append(self._moved_threadbit(entry[1]) if isinstance(entry, tuple) else self._threadbit(entry))
        subforums = ""
        if f.children:
            subforums = (
                '<div class="tbox"><div class="trow tcat"><div class="tcell">Sub-Forums</div></div>'
                '<div class="trow-group">' + "".join(self._forumbit(self.forum.forums[c]) for c in f.children) + "</div></div>"
            )
        pages = self.listing_page_count(f)
        body = (
            subforums + _listing_pagenav(page, pages, lambda n: self.forum_url(f, n))
            + '<div class="tbox" id="threadslist"><div class="trow tcat"><div class="tcell">Threads in Forum'
            f'<span class="normal"> : {escape(f.title)}</span></div></div>'
            '<div class="trow thead"><div class="tcell">&nbsp;</div><div class="tcell">&nbsp;</div>'
            '<div class="tcell">Thread / Thread Starter</div><div class="tcell lastpost">Last Post</div>'
            '<div class="tcell replycount">Replies</div><div class="tcell viewcount">Views</div></div>'
            f'<div class="trow-group" id="threadbits_forum_{f.forum_id}">{"".join(rows)}</div></div>'
        )
        return _frame(f"{f.title} - MiataTurbo.net", body, self._crumbs(f), heading=f.title, next_url=(
            self.forum_url(f, page + 1) if page < pages else None))

    def _threadbit(self, t: Thread, sticky: bool = False) -> str:
        pages = self.forum.page_count(t.thread_id)
        minipages = ""
        if pages > 1:
            minipages = '<span class="smallfont">(' + " ".join(
                f'<a href="{self.thread_url(t, n)}">{n}</a>' for n in range(1, min(pages, 4) + 1)) + ")</span>"
        last_author = self.forum.author_name(t.thread_id, t.post_count)
        return (
            f'<div class="trow threadbit"><div class="tcell alt1 statusicon" id="td_threadstatusicon_{t.thread_id}">'
            f'<img src="images/statusicon/thread_hot.gif" id="thread_statusicon_{t.thread_id}" alt="" /></div>'
            f'<div class="tcell alt2 threadicon">&nbsp;</div>'
            f'<div class="tcell alt1 text-left" id="td_threadtitle_{t.thread_id}" title="{escape(t.title[:80])}"><div>'
            + ("Sticky: " if sticky else "")
            + f'<a href="{self.thread_url(t)}" id="thread_title_{t.thread_id}">{escape(t.title)}</a> {minipages}</div>'
            f'<div class="smallfont"><span style="cursor:pointer" onclick="window.open(\'{HOST}/members/'
            f'{t.starter.lower()}-1/\', \'_self\')">{escape(t.starter)}</span></div></div>'
            f'<div class="tcell alt2 lastpost" title="Replies: {t.post_count - 1:,}, Views: {t.views:,}">'
            f'<div class="smallfont text-right">{self.dates.spanned(t.last_post_at, date_format=SHORT_DATE)}<br />'
            f'by <a href="{HOST}/members/{last_author.lower()}-1/" rel="nofollow">{escape(last_author)}</a></div></div>'
            f'<div class="tcell alt1 replycount">{t.post_count - 1:,}</div><div class="tcell alt2 viewcount">{t.views:,}</div></div>'
        )

    def _moved_threadbit(self, t: Thread) -> str:
        # vBulletin keeps a redirect stub with its own id; its link goes to the real thread.
        stub_id = t.thread_id + 50_000
        return (
            f'<div class="trow threadbit"><div class="tcell alt1 statusicon" id="td_threadstatusicon_{stub_id}">'
            f'<img src="images/statusicon/thread_moved.gif" id="thread_statusicon_{stub_id}" alt="" /></div>'
            f'<div class="tcell alt2 threadicon">&nbsp;</div>'
            f'<div class="tcell alt1 text-left" id="td_threadtitle_{stub_id}"><div>Moved: '
            f'<a href="{self.thread_url(t)}" id="thread_title_{stub_id}">{escape(t.title)}</a></div>'
            f'<div class="smallfont"><span>{escape(t.starter)}</span></div></div>'
            f'<div class="tcell alt2 lastpost">-</div><div class="tcell alt1 replycount">-</div>'
            f'<div class="tcell alt2 viewcount">-</div></div>'
        )

    def thread_page(self, t: Thread, page: int) -> str:
        posts = self.forum.posts(t.thread_id, page)
        pages = self.forum.page_count(t.thread_id)
        bits = "".join(self._postbit(p, t) for p in posts)
        f = self.forum.forums[t.forum_id]
        body = (
            f'<a name="poststop" id="poststop"></a><h1 class="threadtitle">{escape(t.title)}</h1>'
            f'<div class="flexitem"><a href="{HOST}/newreply.php?do=newreply&amp;noquote=1&amp;t={t.thread_id}" '
            f'rel="nofollow" class="button medium primary">Reply</a><a href="{HOST}/subscription.php?do=addsubscription&amp;t={t.thread_id}" '
            f'rel="nofollow" class="button medium primary">Subscribe</a></div>'
            + f'<div id="posts">{bits}</div>'
            + _thread_pagenav(page, pages, lambda n: self.thread_url(t, n))
        )
        return _frame(f"{t.title} - MiataTurbo.net", body, self._crumbs(f), thread_title=t.title,
                      canonical=self.thread_url(t, page), next_url=self.thread_url(t, page + 1) if page < pages else None)

    def _postbit(self, p: Post, t: Thread) -> str:
        date = self.dates.plain(p.posted_at)
        head = (
            f'<div class="trow thead smallfont"><div class="tcell" style="width:175px;">\n<!-- status icon and date -->\n'
            f'<a name="post{p.post_id}"><img class="inlineimg" src="{HOST}/images/statusicon/post_old.gif" alt="Old" /></a>\n'
            f"{date}\n<!-- / status icon and date -->\n</div><div class=\"tcell text-right\">&nbsp;#"
            f'<a href="{self.post_url(p)}" target="new" rel="nofollow" id="postcount{p.post_id}" name="{p.position}">'
            f"<strong>{p.position}</strong></a></div></div>"
        )
        if p.author:
            user = (
                f'<div id="postmenu_{p.post_id}"><a rel="nofollow" class="bigusername" '
                f'href="{HOST}/members/{p.author.lower()}-{p.author_id}/">{escape(p.author)}</a></div>'
                f'<div class="smallfont">Junior Member</div>'
            )
        else:
            user = (f'<div id="postmenu_{p.post_id}"><span class="bigusername">{escape(p.guest_name or "Guest")}</span></div>'
                    '<div class="smallfont">Guest</div>')
        if p.deleted:
            return (
                f'<div id="edit{p.post_id}"><div id="post{p.post_id}"><div class="tpost"><div class="trow-group">{head}'
                f'<div class="trow"><div class="tcell alt2" style="width:175px;">{user}</div>'
                f'<div class="tcell alt1" id="td_post_{p.post_id}"><div class="smallfont">'
                f"<em>This message has been deleted by a moderator. Reason: off topic</em></div></div></div>"
                f"</div></div></div></div>"
            )
        message = self._message(p)
        edit = ""
        if p.edited_at:
            edit = (
                f'<div class="smallfont"><hr size="1" /><em>Last edited by {escape(p.edited_by or "Guest")}; '
                f"{self.dates.edited(p.edited_at)}.</em></div>"
            )
        sig = (f'<!-- sig --><div class="signature">__________________<br />{escape(p.signature)}</div><!-- / sig -->'
               if p.signature else "")
        attachments = ""
        if p.attachments:
            links = "".join(
                f'<a href="{HOST}/attachments/{a}d1700000000-photo-{a}.jpg" id="attachment{a}"><img class="thumbnail" '
                f'src="{HOST}/attachments/{a}d1700000000t-photo-{a}.jpg" alt="" /></a>' for a in p.attachments
            )
            attachments = f'<div style="padding:6px"><fieldset class="fieldset"><legend>Attached Thumbnails</legend>{links}</fieldset></div>'
        return (
            f'<div id="edit{p.post_id}"><div id="post{p.post_id}"><div class="tpost"><div class="trow-group">{head}'
            f'<div class="trow"><div class="tcell alt2" style="width:175px;">{user}</div>'
            f'<div class="tcell alt1" id="td_post_{p.post_id}"><!-- message --><div id="post_message_{p.post_id}">'
            f"{message}</div><!-- / message -->{attachments}{sig}{edit}</div></div></div></div></div>"
            f'<div id="post_thanks_box_{p.post_id}"></div></div>'
        )

    def _message(self, p: Post) -> str:
        parts = [quotes_html(self.forum, p, lambda quoted, nested: _quote_html(quoted, self, nested))]
        parts.append(escape(p.text).replace(". ", ".<br />\n", 1))
        for url in p.images:
            parts.append(f'<br /><img src="{url}" border="0" alt="" class="post_inline_image" />')
        for url in p.lazy_images:
            parts.append(f'<br /><img src="{HOST}/images/misc/lazy-placeholder.gif" data-src="{url}" alt="" class="post_inline_image lazyload" />')
        for url in p.links:
            parts.append(f' <a href="{url}" target="_blank">parts link</a>')
        if p.post_id % 7 == 0:
            parts.append(f' <img src="{HOST}/images/smilies/smile.gif" border="0" alt="" title="Smile" class="inlineimg" />')
        return "".join(parts)


def _quote_html(quoted: Post, site: IBForumSite, nested: str) -> str:
    by = ""
    if quoted.author:
        by = (f'<div>Originally Posted by <strong>{escape(quoted.author)}</strong> '
              f'<a href="{site.thread_url(site.forum.thread(quoted.thread_id))}#post{quoted.post_id}" rel="nofollow">'
              f'<i class="fas fa-arrow-circle-right"></i></a></div>')
    text = "" if quoted.deleted else escape(quoted.text)
    return (
        '<div style="margin:1rem; margin-top:0.3rem;"><div><label>Quote:</label></div>'
        f'<div class="panel alt2" style="border:1px inset">{by}{nested}<div style="font-style:italic">{text}</div></div></div>'
    )


def _thread_pagenav(page: int, pages: int, url_for) -> str:
    """IB's "magic bar" pager; its links carry ``?ispreloading=1`` as on the real site."""
    if pages <= 1:
        return ""

    def button(ident, rel, label, target):
        if target is None:
            return f'<li><a id="{ident}" rel="{rel}" class="button primary hollow disabled" href="javascript:void(0)">{label}</a></li>'
        return f'<li><a id="{ident}" rel="{rel}" class="button primary hollow" href="{url_for(target)}?ispreloading=1">{label}</a></li>'

    return (
        '<div id="magicbar" class="magicbar bottom norewrite" data-magicbar><div class="bar"><div class="bar-right">'
        '<div id="mb_pagenav" class="iblock"><ul class="button-group iblock">'
        + button("mb_pagefirst", "start", "First", 1 if page > 1 else None)
        + button("mb_pageprev", "prev", "Prev", page - 1 if page > 1 else None)
        + f'<li><span id="mb_page" class="button primary hollow middle"><span id="mb_page_current">{page}</span> / '
        f'<span id="mb_page_total">{pages}</span></span></li>'
        + button("mb_pagenext", "next", "Next", page + 1 if page < pages else None)
        + button("mb_pagelast", "last", "Last", pages if page < pages else None)
        + "</ul></div></div></div></div>"
    )


def _listing_pagenav(page: int, pages: int, url_for) -> str:
    if pages <= 1:
        return ""
    cells = [f'<div class="tcell vbmenu_control">Page {page} of {pages}</div>']
    if page > 1:
        cells.append(f'<div class="tcell alt1"><a rel="prev" class="smallfont" href="{url_for(page - 1)}">&lt;</a></div>')
    for n in range(1, pages + 1):
        cells.append(f'<div class="tcell alt2"><span class="smallfont"><strong>{n}</strong></span></div>' if n == page else
                     f'<div class="tcell alt1"><a class="smallfont" href="{url_for(n)}">{n}</a></div>')
    if page < pages:
        cells.append(f'<div class="tcell alt1"><a rel="next" class="smallfont" href="{url_for(page + 1)}">&gt;</a></div>')
    return f'<div class="pagenav text-right"><div class="tbox iblock"><div class="trow">{"".join(cells)}</div></div></div>'


def _frame(title: str, body: str, crumbs: list, heading: str | None = None, thread_title: str | None = None,
           canonical: str | None = None, next_url: str | None = None) -> str:
    items = [f'<span itemprop="itemListElement" itemscope itemtype="http://schema.org/ListItem"><a href="{HOST}/" '
             f'itemprop="item"><span itemprop="name">MiataTurbo.net | Miata Turbo Forum - Boost for Miatas!</span></a></span>']
    for name, url in crumbs:
        items.append(f'<span>&gt;</span><span itemprop="itemListElement" itemscope itemtype="http://schema.org/ListItem">'
                     f'<a href="{url}" itemprop="item"><span itemprop="name">{escape(name)}</span></a></span>')
    last = thread_title or heading
    if last:
        items.append(f'<div><span>&gt;</span><h1 class="style-inherit iblock"><strong itemprop="name">{escape(last)}</strong></h1></div>')
    head = f'<link rel="canonical" href="{canonical}" />' if canonical else ""
    head += f'<link rel="next" href="{next_url}?ispreloading=1" />' if next_url else ""
    return (
        '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="en">\n<head>\n'
        f'<base href="{HOST}/" /><title>{escape(title)}</title>{head}\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />'
        '<meta name="generator" content="vBulletin 3.8.7" />\n'
        '<link rel="stylesheet" href="/assets/nextgen/1.8.5/www.miataturbo.net/css/desktop.css?v=387" type="text/css" />\n'
        '</head>\n<body>\n<div class="row"><div class="page column">\n'
        '<div class="tbox"><div class="trow"><div class="tcell smallfont" itemscope itemtype="http://schema.org/BreadcrumbList">'
        + "".join(items) + "</div></div></div>\n"
        '<div class="row sticky-container"><div id="main-content" class="columns large-main">' + body + "</div></div>\n"
        '<div class="text-center clearfix">All times are GMT -5. The time now is <span class="time">12:00 PM</span>.</div>\n'
        "</div></div>\n</body>\n</html>\n"
    )


def _crumbs_for(site: IBForumSite, f: Forum) -> list:
    return [(x.title, site.forum_url(x)) for x in site.forum.forum_path(f.forum_id)]


IBForumSite._crumbs = _crumbs_for  # type: ignore[attr-defined]
