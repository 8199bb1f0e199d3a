"""Render a ``SyntheticForum`` in vBulletin 4.2 markup, as clubroadster.net/vb_forum/ would serve it
with "advanced" friendly URLs (``forumdisplay.php/12-Slug``, ``showthread.php/345-Slug/page2``).

The markup follows vBulletin 4's templates and the real pages in docs/engines/vbulletin.md
(``ol#forums`` with ``li.forumbit_nopost#cat{id}`` / ``li.forumbit_post#forum{id}`` and sub-forum
lists, ``li.threadbit#thread_{id}`` rows in ``ol#stickies`` / ``ol#threads``, ``li#post_{id}``
postbits in ``ol#posts``, ``form.pagination``), trimmed to the structure a crawler sees and aligned
with the saved pages in fixtures/clubroadster/ by tests/test_renderer_markup_drift.py.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from miata_spiders.testing.forumgen import POST_SLOTS, Forum, Post, Thread
from miata_spiders.testing.render_common import VBulletinSite, latin1, listing_page_rows, member_id, pages_around
from miata_spiders.testing.render_common import standard_offset_hours, vbulletin_message

HOST = "https://www.clubroadster.net"
ROOT = "/vb_forum/"
SITE_TITLE = "ClubRoadster.net"
TIMEZONE = ZoneInfo("America/New_York")
ROBOTS = (b"User-agent: *\nDisallow: /vb_forum/member.php\nDisallow: /vb_forum/search.php\n"
          b"Disallow: /vb_forum/private.php\nDisallow: /vb_forum/newreply.php\n")

_FORUM_PATH = re.compile(r"^/vb_forum/forumdisplay\.php/(?P<fid>\d+)(?:-[^/]*)?(?:/page(?P<page>\d+))?$")
_THREAD_PATH = re.compile(r"^/vb_forum/showthread\.php/(?P<tid>\d+)(?:-[^/]*)?(?:/page(?P<page>\d+))?$")


def slug(title: str) -> str:
    """vBulletin 4's friendly-URL slug: runs of other characters become one hyphen."""
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")


class VB4ForumSite(VBulletinSite):
    """A ``ForumServer`` site answering clubroadster.net's vBulletin 4 URLs with rendered pages."""

    root = ROOT
    timezone = TIMEZONE
    session_salt = "vb4-session"

    # --- URLs: relative to <base href>, session id appended as vBulletin 4 does ------------------
    def forum_href(self, f: Forum, page: int = 1) -> str:
        return f"forumdisplay.php/{f.forum_id}-{slug(f.title)}" + (f"/page{page}" if page > 1 else "") + f"?s={self.session}"

    def thread_href(self, t: Thread, page: int = 1) -> str:
        return f"showthread.php/{t.thread_id}-{slug(t.title)}" + (f"/page{page}" if page > 1 else "") + f"?s={self.session}"

    def forum_url(self, f: Forum, page: int = 1) -> str:
        return f"{HOST}{ROOT}forumdisplay.php/{f.forum_id}-{slug(f.title)}" + (f"/page{page}" if page > 1 else "")

    def thread_url(self, t: Thread, page: int = 1) -> str:
        return f"{HOST}{ROOT}showthread.php/{t.thread_id}-{slug(t.title)}" + (f"/page{page}" if page > 1 else "")

    def member_href(self, name: str, uid: int) -> str:
        return f"member.php/{uid}-{slug(name)}?s={self.session}"

    # --- routing --------------------------------------------------------------------------------
    def respond(self, path: str) -> tuple[int, bytes, dict]:
        html = {"Content-Type": "text/html; charset=ISO-8859-1"}
        if path == "/robots.txt":
            return 200, ROBOTS, {"Content-Type": "text/plain"}
        route = urlsplit(path).path
        if route in (ROOT, ROOT + "forum.php", ROOT + "index.php"):
            return 200, latin1(self.index_page()), html
        match = _THREAD_PATH.match(route)
        if match:
            tid, page = int(match["tid"]), int(match["page"] or 1)
            if any(tid in self.forum.thread_ids(f) for f in self.forum.forums.values()) and page <= self.forum.page_count(tid):
                return 200, latin1(self.thread_page(self.forum.thread(tid), page)), html
        match = _FORUM_PATH.match(route)
        if match:
            f = self.forum.forums.get(int(match["fid"]))
            page = int(match["page"] or 1)
            if f is not None and page <= self.listing_page_count(f):
                return 200, latin1(self.forum_page(f, page)), html
        return 404, latin1(_frame(SITE_TITLE, '<div class="blockrow restore">Invalid Thread specified.</div>', [], None, self)), html

    # --- pages ----------------------------------------------------------------------------------
    def index_page(self) -> str:
        cats = []
        for cat in self.forum.categories:
            cats.append(
                f'<li class="forumbit_nopost old L1" id="cat{cat.forum_id}"><div class="forumhead foruminfo L1 collapse"><h2>'
                f'<span class="forumtitle"><a href="{self.forum_href(cat)}">{escape(cat.title)}</a></span>'
                '<span class="forumlastpost">Last Post</span></h2></div>'
                f'<ol id="c_cat{cat.forum_id}" class="childforum">'
                + "".join(self._forumbit(self.forum.forums[c]) for c in cat.children) + "</ol></li>"
            )
        body = ('<div id="pagetitle" class="pagetitle"><h1>ClubRoadster.net Forums</h1></div>'
                f'<ol id="forums" class="floatcontainer">{"".join(cats)}</ol>')
        return _frame(SITE_TITLE, body, [], None, self)

    def _forumbit(self, f: Forum) -> str:
        subs = ""
        if f.children:
            subs = ('<div class="subforums"><h4 class="subforumslabel">Sub-Forums:</h4><ol class="subforumlist commalist">'
                    + "".join(f'<li class="subforum"><a href="{self.forum_href(self.forum.forums[c])}">{escape(self.forum.forums[c].title)}</a></li>'
                              for c in f.children) + "</ol></div>")
        listing = self.forum.listing(f)
        last = max(listing, key=lambda t: t.last_post_at) if listing else None
        lastpost = '<div class="forumlastpost td"><h4 class="lastpostlabel">Last Post:</h4><div>Never</div></div>'
        if last:
            lastpost = (
                '<div class="forumlastpost td"><h4 class="lastpostlabel">Last Post:</h4><div>'
                f'<p class="lastposttitle"><a href="{self.thread_href(last)}&amp;goto=newpost" class="threadtitle">{escape(last.title[:30])}</a></p>'
                f'<p class="lastpostdate">{self.dates.spanned(last.last_post_at)}</p></div></div>'
            )
        return (
            f'<li id="forum{f.forum_id}" class="forumbit_post old L2"><div class="forumrow table"><div class="foruminfo td">'
            f'<img src="images/statusicon/forum_old-48.png" class="forumicon" id="forum_statusicon_{f.forum_id}" alt="" />'
            '<div class="forumdata"><div class="datacontainer"><div class="titleline">'
            f'<h2 class="forumtitle"><a href="{self.forum_href(f)}">{escape(f.title)}</a></h2></div>'
            f'<p class="forumdescription">Talk about {escape(f.title.lower())}.</p>{subs}</div></div></div>'
            f'<ul class="forumstats td"><li>Threads: {len(listing):,}</li><li>Posts: {sum(t.post_count for t in listing):,}</li></ul>'
            f"{lastpost}</div></li>"
        )

    def forum_page(self, f: Forum, page: int) -> str:
        stickies = [t for t in self.forum.listing(f) if t.sticky]
        rows = []
        for entry in listing_page_rows(self.forum, f, page):
            rows.append(self._moved_threadbit(entry[1]) if isinstance(entry, tuple) else self._threadbit(entry))
        subforums = ""
        if f.children:
            subforums = ('<div id="forumbits" class="forumbits"><div class="forumhead"><h2><span class="forumtitle">Sub-Forums</span>'
                         '<span class="forumlastpost">Last Post</span></h2></div><ol>'
                         + "".join(self._forumbit(self.forum.forums[c]) for c in f.children) + "</ol></div>")
        threads = ""
        pages = self.listing_page_count(f)
        if not f.is_category:
            threads = (
                f'<div id="above_threadlist" class="above_threadlist"><div class="threadpagenav">'
                f"{_pagination(page, pages, lambda n: self.forum_href(f, n), 'f', f.forum_id)}</div></div>"
                '<div id="threadlist" class="threadlist"><div>'
                '<ol id="stickies" class="stickies">' + "".join(self._threadbit(t, sticky=True) for t in stickies) + "</ol>"
                f'<ol id="threads" class="threads">{"".join(rows)}</ol></div></div>'
                f'<div id="below_threadlist" class="noinlinemod below_threadlist"><div class="threadpagenav">'
                f"{_pagination(page, pages, lambda n: self.forum_href(f, n), 'f', f.forum_id)}</div></div>"
            )
        body = (f'<div id="pagetitle" class="pagetitle"><h1>Forum: <span class="forumtitle">{escape(f.title)}</span></h1></div>'
                + subforums + threads)
        return _frame(f"{f.title}", body, self._crumbs(f.parent_id), f.title, self)

    def _threadbit(self, t: Thread, sticky: bool = False) -> str:
        pages = self.forum.page_count(t.thread_id)
        minipages = ""
        if pages > 1:
            minipages = (f'<dl class="pagination" id="pagination_threadbit_{t.thread_id}"><dt class="label">{pages} Pages</dt><dd>'
                         + " ".join(f'<span><a href="{self.thread_href(t, n)}">{n}</a></span>' for n in range(1, min(pages, 4) + 1))
                         + "</dd></dl>")
        last_author = self.forum.author_name(t.thread_id, t.post_count)
        starter_uid = member_id(t.starter)
        return (
            f'<li class="threadbit hot" id="thread_{t.thread_id}"><div class="rating0 {"sticky" if sticky else "nonsticky"}">'
            f'<div class="threadinfo" title="{escape(t.title[:80])}"><a class="threadstatus" rel="vB::AJAX"></a><div class="inner">'
            '<h3 class="threadtitle">'
            + ('<span class="prefix understate">Sticky: </span>' if sticky else "")
            + f'<a class="title" href="{self.thread_href(t)}" id="thread_title_{t.thread_id}">{escape(t.title)}</a></h3>'
            f'<div class="threadmeta"><div class="author"><span class="label">Started by&nbsp;'
            f'<a href="{self.member_href(t.starter, starter_uid)}" class="username understate">{escape(t.starter)}</a>,&nbsp;'
            f'{self.dates.date(t.created_at)}</span>{minipages}</div></div></div></div>'
            f'<ul class="threadstats td alt" title=""><li>Replies: <a href="misc.php?do=whoposted&amp;t={t.thread_id}" '
            f'onclick="who({t.thread_id}); return false;" class="understate">{t.post_count - 1:,}</a></li>'
            f"<li>Views: {t.views:,}</li></ul>"
            '<dl class="threadlastpost td"><dt class="lastpostby hidden">Last Post By</dt>'
            f'<dd><div class="popupmenu memberaction"><a class="username offline popupctrl" href="{self.member_href(last_author, member_id(last_author))}">'
            f"<strong>{escape(last_author)}</strong></a></div></dd>"
            f'<dd>{self.dates.spanned(t.last_post_at, ",&nbsp;")} <a href="{self.thread_href(t)}&amp;p={t.thread_id * POST_SLOTS + t.post_count}" '
            'class="lastpostdate understate" title="Go to last post"><img src="images/buttons/lastpost-right.png" alt="Go to last post" /></a></dd>'
            "</dl></div></li>"
        )

    def _moved_threadbit(self, t: Thread) -> str:
        # The redirect keeps its own id (thread_<stub id>); its link goes to the thread in its new forum.
        stub_id = t.thread_id + 50_000
        return (
            f'<li class="threadbit moved" id="thread_{stub_id}"><div class="rating0 nonsticky">'
            '<div class="threadinfo" title=""><a class="threadstatus" rel="vB::AJAX"></a><div class="inner"><h3 class="threadtitle">'
            f'<span class="prefix understate">Moved: </span><a class="title" href="{self.thread_href(t)}" id="thread_title_{stub_id}">'
            f'{escape(t.title)}</a></h3><div class="threadmeta"><div class="author"><span class="label">Started by&nbsp;'
            f'<a href="{self.member_href(t.starter, member_id(t.starter))}" class="username understate">{escape(t.starter)}</a></span>'
            '</div></div></div></div><ul class="threadstats td alt" title=""><li>Replies: -</li><li>Views: -</li></ul>'
            '<dl class="threadlastpost td"><dt class="lastpostby hidden">Last Post By</dt><dd>-</dd></dl></div></li>'
        )

    def thread_page(self, t: Thread, page: int) -> str:
        posts = self.forum.posts(t.thread_id, page)
        pages = self.forum.page_count(t.thread_id)
        pagination = _pagination(page, pages, lambda n: self.thread_href(t, n), "t", t.thread_id)
        bits = "".join(self._postbit(p, t) for p in posts)
        body = (
            f'<div id="above_postlist" class="above_postlist"><div id="pagination_top" class="pagination_top">{pagination}</div></div>'
            f'<div id="pagetitle" class="pagetitle"><h1>Thread: <span class="threadtitle"><a href="{self.thread_href(t)}" '
            f'title="Reload this Page">{escape(t.title)}</a></span></h1></div>'
            '<div id="thread_controls" class="thread_controls toolsmenu"><ul id="postlist_popups" class="postlist_popups popupgroup">'
            f'<li class="popupmenu" id="threadtools"><ul class="popupbody popuphover"><li><a href="printthread.php?t={t.thread_id}&amp;pp=10&amp;page={page}" '
            'rel="nofollow">Show Printable Version</a></li></ul></li></ul></div>'
            f'<div id="postlist" class="postlist restrain"><ol id="posts" class="posts" start="{posts[0].position}">{bits}</ol></div>'
            f'<div id="below_postlist" class="noinlinemod below_postlist"><div id="pagination_bottom" class="pagination_bottom">{pagination}</div></div>'
        )
        f = self.forum.forums[t.forum_id]
        canonical = self.thread_url(t, page).replace(HOST + ROOT, "")
        return _frame(t.title, body, self._crumbs(f.forum_id), t.title, self, canonical=canonical)

    def _postbit(self, p: Post, t: Thread) -> str:
        head = (
            f'<div class="posthead"><span class="postdate old"><span class="date">{self.dates.spanned(p.posted_at, ",&nbsp;")}</span></span>'
            f'<span class="nodecontrols"><a name="post{p.post_id}" href="{self.thread_href(t)}&amp;p={p.post_id}&amp;viewfull=1#post{p.post_id}" '
            f'class="postcounter">#{p.position}</a><a id="postcount{p.post_id}" name="{p.position}"></a></span></div>'
        )
        if p.author:
            user = (f'<div class="username_container"><div class="popupmenu memberaction">'
                    f'<a class="username offline popupctrl" href="{self.member_href(p.author, p.author_id)}"><strong>{escape(p.author)}</strong></a>'
                    '</div></div><span class="usertitle">Junior Member</span>')
        else:
            user = (f'<div class="username_container"><span class="username guest">{escape(p.guest_name or "Guest")}</span></div>'
                    '<span class="usertitle">Guest</span>')
        if p.deleted:
            return (
                f'<li class="postbitlegacy postbitdeleted" id="post_{p.post_id}">{head}'
                f'<div class="postdetails"><div class="userinfo">{user}</div><div class="postbody"><div class="postrow"><div class="content">'
                f'<blockquote class="postcontent restore">This message has been deleted by <a href="{self.member_href("ModSquad", 2)}">ModSquad</a>. '
                '<span class="reason">Reason:</span> off topic</blockquote></div></div></div></div></li>'
            )
        after = ""
        if p.attachments:
            items = "".join(
                f'<li><a href="attachment.php?attachmentid={a}&amp;d=1700000000&amp;s={self.session}" id="attachment{a}" rel="Lightbox_{p.post_id}">'
                f'<img class="thumbnail" src="attachment.php?attachmentid={a}&amp;stc=1&amp;thumb=1&amp;d=1700000000" alt="" /></a></li>'
                for a in p.attachments
            )
            after += (f'<div class="attachments"><fieldset class="postcontent"><legend>Attached Thumbnails</legend>'
                      f"<ul>{items}</ul></fieldset></div>")
        if p.edited_at:
            after += (f'<blockquote class="postcontent lastedited">Last edited by {escape(p.edited_by or "Guest")}; '
                      f"{self.dates.edited(p.edited_at)}.</blockquote>")
        if p.signature:
            after += f'<blockquote class="signature restore"><div class="signaturecontainer">{escape(p.signature)}</div></blockquote>'
        return (
            f'<li class="postbitlegacy postbitim postcontainer old" id="post_{p.post_id}">{head}'
            f'<div class="postdetails"><div class="userinfo">{user}</div><div class="postbody"><div class="postrow"><div class="content">'
            f'<div id="post_message_{p.post_id}"><blockquote class="postcontent restore ">{self._message(p)}</blockquote></div>'
            f'</div></div><div class="after_content">{after}</div><div class="cleardiv"></div></div></div><hr /></li>'
        )

    def _message(self, p: Post) -> str:
        return vbulletin_message(self.forum, p, self._quote, smilie="images/smilies/smile.png")

    def _quote(self, quoted: Post, nested: str) -> str:
        text = "" if quoted.deleted else escape(quoted.text)
        if quoted.author:
            content = (f'<div class="bbcode_postedby">Originally Posted by <strong>{escape(quoted.author)}</strong> '
                       f'<a href="showthread.php?p={quoted.post_id}#post{quoted.post_id}" rel="nofollow">'
                       f'<img class="inlineimg" src="images/buttons/viewpost-right.png" alt="View Post" /></a></div>'
                       f'<div class="message">{nested}{text}</div>')
        else:
            content = nested + text
        return ('<div class="bbcode_container"><div class="bbcode_quote"><div class="quote_container">'
                f'<div class="bbcode_quote_container"></div>{content}</div></div></div>')



def _pagination(page: int, pages: int, href_for, key: str, ident: int) -> str:
    """vBulletin 4's ``pagenav`` template: a form.pagination with "Page x of y" and rel=next/prev links."""
    if pages <= 1:
        return ""
    spans = [f'<span><a href="javascript://" class="popupctrl">Page {page} of {pages}</a></span>']
    if page > 1:
        spans.append(f'<span class="prev_next"><a rel="prev" href="{href_for(page - 1)}" title="Prev Page">'
                     '<img src="images/pagination/previous-left.png" alt="Previous" /></a></span>')
    for n in pages_around(page, pages):
        spans.append(f'<span class="selected"><a href="javascript://" title="Results">{n}</a></span>' if n == page
                     else f'<span><a href="{href_for(n)}" title="Show results">{n}</a></span>')
    if page < pages:
        spans.append(f'<span class="prev_next"><a rel="next" href="{href_for(page + 1)}" title="Next Page">'
                     '<img src="images/pagination/next-right.png" alt="Next" /></a></span>')
    return (f'<form action="{href_for(min(page + 1, pages))}" method="get" class="pagination popupmenu nohovermenu">'
            f'<input type="hidden" name="{key}" value="{ident}" />' + "".join(spans) + "</form>")


def _frame(title: str, body: str, crumbs: list, last: str | None, site: VB4ForumSite, canonical: str | None = None) -> str:
    items = ['<li class="navbithome"><a href="index.php" accesskey="1"><img src="images/misc/navbit-home.png" alt="Home" /></a></li>',
             f'<li class="navbit"><a href="forum.php?s={site.session}">Forums</a></li>']
    items += [f'<li class="navbit"><a href="{href}">{escape(name)}</a></li>' for name, href in crumbs]
    if last is not None:
        items.append(f'<li class="navbit lastnavbit"><span> {escape(last)}</span></li>')
    now = site.dates.clock(site.now)
    standard = standard_offset_hours(site.now.year, TIMEZONE)
    link = f'<link rel="canonical" href="{canonical}" />\n' if canonical else ""
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" dir="ltr" lang="en" id="vbulletin_html">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1" />\n'
        f'<base href="{HOST}{ROOT}" />\n<meta name="generator" content="vBulletin 4.2.5" />\n'
        f"{link}<title>{escape(title)}</title>\n</head>\n<body>\n"
        '<div class="body_wrapper"><div id="breadcrumb" class="breadcrumb"><ul class="floatcontainer">'
        + "".join(items) + "</ul><hr /></div>\n" + body + "\n"
        '<div id="footer_copyright" class="shade footer_copyright">Powered by vBulletin&reg; Version 4.2.5</div>'
        f'<div id="footer_time" class="shade footer_time">All times are GMT {standard}. The time now is <span class="time">{now}</span>.</div>\n'
        "</div>\n</body>\n</html>\n"
    )
