"""Render a ``SyntheticForum`` as a phpBB 3.3 board (prosilver), for ``ForumServer``.

The markup follows the saved fixture board (``fixtures/phpbb/board33/``, phpBB's own prosilver
templates; see docs/engines/phpbb.md): ``body#phpbb.section-*``, index and sub-forum lists as
``ul.topiclist.forums li.row`` with ``a.forumtitle``/``a.subforum`` and category headers, topic lists
``ul.topiclist.topics li.row`` (``sticky``, ``topic_moved``), posts ``div#p{id}.post`` with
``p.author``, ``div.content``, ``div#sig{id}.signature``, ``dl.attachbox``, edit notes in
``div.notice``, 3.3 quotes (``cite`` with profile link, ``data-post-id`` and date) and the
moderator's view of a soft-deleted post (``div.post.deleted``, body kept).

What phpBB does, and this board does too:

- URLs: ``viewforum.php?f=F&start=K`` and ``viewtopic.php?t=T&start=K`` where ``K`` is the offset of
  the page's first item (not a page number); categories are forums too (``viewforum.php?f=C`` lists
  their forums). Every link carries the visitor's session id (``sid=``), as phpBB does for a visitor
  without cookies: a crawler must strip it or fetch every page twice.
- Stickies open page 1 of a forum and count towards its pages; a moved topic leaves a shadow row
  that links to the real topic.
- Post dates are ``<time datetime>`` in UTC, printed in the board's timezone; edit notes are loose
  text in that timezone ("Last edited by X on Sun Mar 10, 2024 4:40 pm"), which the footer names
  ("All times are <span title="America/New York">UTC-05:00</span>"), so any spider timezone reads them.
- prosilver prints no post numbers: a post's position is the page's offset plus its place on it.
- Guests post under a typed name (``span.username``, no profile link); only a moderator edits a
  guest's post.
- prosilver shows every ``[img]`` as a plain ``img.postimage``: the model's lazy-loaded images are
  plain images here. (An edit printed in the hour repeated when DST ends is ambiguous, as on a real
  board; the seeds the tests use have none.)
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta, timezone
from html import escape
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from miata_spiders.testing.forumgen import POST_SLOTS, Forum, Post, SyntheticForum, Thread
from miata_spiders.testing.render_common import SyntheticSite, expected_quotes, listing_rows, pages_around, pages_for, quotes_html

HOST = "https://www.mx5club.example"
ROOT = "/forum"
BOARD_TZ = ZoneInfo("America/New_York")
BOARD_NAME = "MX-5 Club Forum"
MODERATOR = ("ModSquad", 3)  # who deletes posts and edits guests' posts
_HTML = {"Content-Type": "text/html; charset=UTF-8"}


def robots_txt(root: str = ROOT) -> bytes:
    private = ("memberlist.php", "search.php", "ucp.php", "posting.php", "mcp.php", "app.php/", "download/")
    return ("User-agent: *\n" + "".join(f"Disallow: {root}/{path}\n" for path in private)).encode()


class PhpbbForumSite(SyntheticSite):
    """A ``ForumServer`` site: answers ``index.php``/``viewforum.php``/``viewtopic.php`` with rendered pages."""

    def __init__(self, forum: SyntheticForum, host: str = HOST, root: str = ROOT, board_tz=BOARD_TZ):
        super().__init__(forum)
        self.host = host.rstrip("/")
        self.root = root.rstrip("/")
        self.tz = board_tz
        # One guest session for the whole visit, as phpBB keeps for a cookie-less visitor.
        self.sid = hashlib.blake2b(f"sid{forum.shape.seed}".encode(), digest_size=16).hexdigest()

    # --- ground truth -----------------------------------------------------------------------------
    def expected_row(self, post: Post) -> dict:
        """The dataset fields a complete crawl must store for ``post``, as phpBB shows it."""
        quotes = expected_quotes(self.forum, post)
        attachments = [f"{self.host}{self.root}/download/file.php?id={a}&mode=view" for a in post.attachments]
        return {
            "position": post.position,
            "page": math.ceil(post.position / self.forum.shape.posts_per_page),
            "author": post.author or post.guest_name,
            "author_id": str(post.author_id) if post.author_id else None,
            "posted_at": post.posted_at.astimezone(timezone.utc),
            # Edit notes print minutes, in the board's timezone.
            "edited_at": post.edited_at.astimezone(timezone.utc).replace(second=0) if post.edited_at else None,
            "edited_by": (post.edited_by or MODERATOR[0]) if post.edited_at else None,
            "is_deleted": post.deleted,
            "body_text": " ".join((post.text + " parts link" * len(post.links)).split()),
            "quotes": quotes,
            "images": [*post.images, *post.lazy_images, *attachments],
            "links": list(post.links),
            "signature": post.signature,
            "url": f"{self.host}{self.root}/viewtopic.php?p={post.post_id}",
        }

    def page_count(self, thread_id: int) -> int:
        return self.forum.page_count(thread_id)

    # --- URLs -------------------------------------------------------------------------------------
    def _link(self, script: str, **params) -> str:
        """A link as phpBB prints it on a page: relative, with the session id, ``&amp;``-escaped."""
        query = [f"{k}={v}" for k, v in params.items() if k != "start"] + [f"sid={self.sid}"]
        if params.get("start"):
            query.append(f"start={params['start']}")
        return f"./{script}?" + "&amp;".join(query)

    def forum_url(self, f: Forum, page: int = 1) -> str:
        start = (page - 1) * self.forum.shape.threads_per_page
        return f"{self.host}{self.root}/viewforum.php?f={f.forum_id}" + (f"&start={start}" if start else "")

    def thread_url(self, t: Thread, page: int = 1) -> str:
        start = (page - 1) * self.forum.shape.posts_per_page
        return f"{self.host}{self.root}/viewtopic.php?t={t.thread_id}" + (f"&start={start}" if start else "")

    def thread_path(self, t: Thread, page: int = 1) -> str:
        return self.thread_url(t, page)[len(self.host):]

    def index_url(self) -> str:
        return f"{self.host}{self.root}/"

    # --- routing ----------------------------------------------------------------------------------
    def respond(self, path: str) -> tuple[int, bytes, dict]:
        if path == "/robots.txt":
            return 200, robots_txt(self.root), {"Content-Type": "text/plain"}
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query))
        script = parts.path[len(self.root):] if parts.path.startswith(self.root + "/") else None
        start = int(query["start"]) if query.get("start", "").isdigit() else 0
        if script in ("/", "/index.php"):
            return 200, self.index_page().encode(), _HTML
        if script == "/viewforum.php" and query.get("f", "").isdigit():
            f = self.forum.forums.get(int(query["f"]))
            if f is not None:
                return 200, self.forum_page(f, start=start).encode(), _HTML
            return 404, self._message_page("The forum you selected does not exist.").encode(), _HTML
        if script == "/viewtopic.php":
            thread_id = int(query["t"]) if query.get("t", "").isdigit() else None
            if thread_id is None and query.get("p", "").isdigit():
                # A post link: the topic's page holding that post.
                thread_id, position = divmod(int(query["p"]), POST_SLOTS)
                start = (position - 1) // self.forum.shape.posts_per_page * self.forum.shape.posts_per_page
            if thread_id is not None and self._exists(thread_id):
                return 200, self.thread_page(self.forum.thread(thread_id), start=start).encode(), _HTML
            return 404, self._message_page("The requested topic does not exist.").encode(), _HTML
        return 404, self._message_page("The requested page could not be found.").encode(), _HTML

    def _exists(self, thread_id: int) -> bool:
        return any(thread_id in self.forum.thread_ids(f) for f in self.forum.forums.values())

    # --- pages ------------------------------------------------------------------------------------
    def index_page(self) -> str:
        blocks = "".join(
            self._forum_block([self.forum.forums[c] for c in cat.children],
                              f'<a href="{self._link("viewforum.php", f=cat.forum_id)}">{escape(cat.title)}</a>')
            for cat in self.forum.categories
        )
        body = (f'<p class="right responsive-center time">It is currently {_printed(self.now, self.tz)}</p>\n'
                f"{blocks}")
        return self._frame("index", f"{BOARD_NAME} - Index page", body, crumbs=[], canonical=self.index_url())

    def _forum_block(self, forums: list[Forum], header: str) -> str:
        rows = "".join(self._forum_row(f) for f in forums)
        return (
            '\n<div class="forabg"><div class="inner"><ul class="topiclist"><li class="header"><dl class="row-item">'
            f'<dt><div class="list-inner">{header}</div></dt><dd class="topics">Topics</dd><dd class="posts">Posts</dd>'
            '<dd class="lastpost"><span>Last post</span></dd></dl></li></ul>'
            f'<ul class="topiclist forums">{rows}</ul></div></div>'
        )

    def _forum_row(self, f: Forum) -> str:
        topics = self.forum.listing(f)
        subs = ""
        if f.children:
            subs = "<br /><strong>Subforum:</strong>" + "".join(
                f'<a href="{self._link("viewforum.php", f=c)}" class="subforum read" title="No unread posts">'
                '<i class="icon fa-file-o fa-fw  icon-blue icon-md" aria-hidden="true"></i>'
                f"{escape(self.forum.forums[c].title)}</a>" for c in f.children)
        last = ""
        if topics:
            latest = max(topics, key=lambda t: t.last_post_at)
            post = self.forum.post(latest.thread_id, latest.post_count)
            last = (
                "<span><dfn>Last post</dfn>"
                f'<a href="{self._post_link(post)}" title="Re: {escape(latest.title)}" class="lastsubject">'
                f"Re: {escape(latest.title)}</a> <br />by {self._user_link(post)}"
                f'<a href="{self._post_link(post)}" title="View the latest post"><i class="icon fa-external-link-square '
                'fa-fw icon-lightgray icon-md" aria-hidden="true"></i><span class="sr-only">View the latest post</span></a>'
                f"<br />{self._time(post.posted_at)}</span>"
            )
        status = "forum_read_subforum" if f.children else "forum_read"
        return (
            f'\n<li class="row"><dl class="row-item {status}"><dt title="No unread posts"><div class="list-inner">'
            f'<a href="{self._link("viewforum.php", f=f.forum_id)}" class="forumtitle">{escape(f.title)}</a>'
            f"<br />Talk about {escape(f.title.lower())}.{subs}"
            f'<div class="responsive-show" style="display: none;">Topics: <strong>{len(topics)}</strong></div>'
            f'</div></dt><dd class="topics">{len(topics)} <dfn>Topics</dfn></dd>'
            f'<dd class="posts">{sum(t.post_count for t in topics)} <dfn>Posts</dfn></dd>'
            f'<dd class="lastpost">{last}</dd></dl></li>'
        )

    def _topic_entries(self, f: Forum) -> list:
        """The forum's rows in phpBB's order: stickies, then by last post; a shadow row where the move left it."""
        return [t for t in self.forum.listing(f) if t.sticky] + listing_rows(self.forum, f)

    def listing_page_count(self, f: Forum) -> int:
        return pages_for(len(self._topic_entries(f)), self.forum.shape.threads_per_page)

    def forum_page(self, f: Forum, page: int | None = None, start: int = 0) -> str:
        per = self.forum.shape.threads_per_page
        entries = self._topic_entries(f) if not f.is_category else []
        if page is not None:
            start = (page - 1) * per
        start = _valid_start(start, per, len(entries))
        page = start // per + 1
        children = [self.forum.forums[c] for c in f.children]
        subforums = self._forum_block(children, "Forum") if children else ""
        topics = ""
        pagination = ""
        if not f.is_category:
            rows = "".join(self._topic_row(e[1], i, moved=True) if isinstance(e, tuple) else self._topic_row(e, i)
                           for i, e in enumerate(entries[start:start + per]))
            topics = (
                '\n<div class="forumbg"><div class="inner"><ul class="topiclist"><li class="header"><dl class="row-item">'
                '<dt><div class="list-inner">Topics</div></dt><dd class="posts">Replies</dd><dd class="views">Views</dd>'
                '<dd class="lastpost"><span>Last post</span></dd></dl></li></ul>'
                f'<ul class="topiclist topics">{rows}</ul></div></div>'
            )
            pagination = self._pagination(f"{len(entries)} topics", start, per, len(entries),
                                          lambda s: self._link("viewforum.php", f=f.forum_id, start=s))
        body = (
            f'<h2 class="forum-title"><a href="{self._link("viewforum.php", f=f.forum_id)}">{escape(f.title)}</a></h2>\n'
            f'<div><div style="display: none !important;">Talk about {escape(f.title.lower())}.<br /></div></div>\n'
            f"{subforums}"
            + (f'<div class="action-bar bar-top">{pagination}</div>' if not f.is_category else "")
            + topics
            + (f'<div class="action-bar bar-bottom">{pagination}</div>' if not f.is_category else "")
        )
        canonical = f"{self.host}{self.root}/viewforum.php?f={f.forum_id}" + (f"&amp;start={start}" if start else "")
        return self._frame("viewforum", f"{f.title} - {BOARD_NAME}", body, crumbs=self.forum.forum_path(f.forum_id),
                           canonical=canonical)

    def _topic_row(self, t: Thread, index: int, moved: bool = False) -> str:
        starter = self.forum.post(t.thread_id, 1)
        last = self.forum.post(t.thread_id, t.post_count)
        replies = t.post_count - 1
        bg = "bg2" if index % 2 == 0 else "bg1"
        row_class = f"row {bg} sticky" if t.sticky and not moved else f"row {bg}"
        status = "topic_moved" if moved else "sticky_read" if t.sticky else "topic_read_hot" if replies >= 15 else "topic_read"
        pages = self.forum.page_count(t.thread_id)
        mini = ""
        if pages > 1 and not moved:
            per = self.forum.shape.posts_per_page
            shown = sorted({1, *range(max(1, pages - 2), pages + 1)})
            mini = ('<div class="pagination"><span><i class="icon fa-clone fa-fw" aria-hidden="true"></i></span><ul>'
                    + "".join(f'<li><a class="button" href="{self._link("viewtopic.php", t=t.thread_id, start=(n - 1) * per)}">'
                              f"{n}</a></li>" for n in shown) + "</ul></div>")
        last_link = (
            f'<a href="{self._post_link(last)}" title="Go to last post"><i class="icon fa-external-link-square fa-fw '
            'icon-lightgray icon-md" aria-hidden="true"></i><span class="sr-only">View the latest post</span></a>'
        )
        return (
            f'\n<li class="{row_class}"><dl class="row-item {status}">'
            f'<dt title="{"Moved topic" if moved else "No unread posts"}"><div class="list-inner">'
            f'<a href="{self._link("viewtopic.php", t=t.thread_id)}" class="topictitle">{escape(t.title)}</a><br />'
            '<div class="responsive-show" style="display: none;">Last post by '
            f'{self._user_link(last)} &laquo; <a href="{self._post_link(last)}" title="Go to last post">'
            f"{self._time(last.posted_at)}</a></div>"
            f'<span class="responsive-show left-box" style="display: none;">Replies: <strong>{replies}</strong></span>'
            f'<div class="topic-poster responsive-hide left-box">by {self._user_link(starter)} &raquo; '
            f"{self._time(starter.posted_at)}</div>{mini}</div></dt>"
            f'<dd class="posts">{replies} <dfn>Replies</dfn></dd><dd class="views">{t.views} <dfn>Views</dfn></dd>'
            f'<dd class="lastpost"><span><dfn>Last post </dfn>by {self._user_link(last)}{last_link}'
            f"<br />{self._time(last.posted_at)}</span></dd></dl></li>"
        )

    def thread_page(self, t: Thread, page: int | None = None, start: int = 0) -> str:
        per = self.forum.shape.posts_per_page
        if page is not None:
            start = (page - 1) * per
        start = _valid_start(start, per, t.post_count)
        positions = range(start + 1, min(t.post_count, start + per) + 1)
        posts = "".join(self._post(self.forum.post(t.thread_id, n), t, i) for i, n in enumerate(positions))
        pagination = self._pagination(f"{t.post_count} posts", start, per, t.post_count,
                                      lambda s: self._link("viewtopic.php", t=t.thread_id, start=s))
        reply = (f'<a href="{self._link("posting.php", mode="reply", t=t.thread_id)}" class="button" title="Post a reply">'
                 '<span>Post Reply</span> <i class="icon fa-reply fa-fw" aria-hidden="true"></i></a>')
        f = self.forum.forums[t.forum_id]
        body = (
            f'<h2 class="topic-title"><a href="{self._link("viewtopic.php", t=t.thread_id)}">{escape(t.title)}</a></h2>\n'
            f'<div style="display: none !important;">Talk about {escape(f.title.lower())}.<br /></div>\n'
            f'<div class="action-bar bar-top">{reply}'
            f'<div class="search-box" role="search"><form method="get" id="topic-search" action="{self._link("search.php")}">'
            '<fieldset><input class="inputbox search tiny"  type="search" name="keywords" id="search_keywords" size="20" '
            'placeholder="Search this topic…" /><button class="button button-search" type="submit" title="Search">'
            '<i class="icon fa-search fa-fw" aria-hidden="true"></i><span class="sr-only">Search</span></button>'
            f'<input type="hidden" name="t" value="{t.thread_id}" /><input type="hidden" name="sf" value="msgonly" />'
            f'<input type="hidden" name="sid" value="{self.sid}" /></fieldset></form></div>{pagination}</div>\n'
            f"{posts}\n"
            f'<div class="action-bar bar-bottom">{reply}{pagination}</div>\n'
            '<div class="action-bar actions-jump"><p class="jumpbox-return">'
            f'<a href="{self._link("viewforum.php", f=f.forum_id)}" class="left-box arrow-left" accesskey="r">'
            '<i class="icon fa-angle-left fa-fw icon-black" aria-hidden="true"></i>'
            f"<span>Return to “{escape(f.title)}”</span></a></p></div>"
        )
        canonical = f"{self.host}{self.root}/viewtopic.php?t={t.thread_id}" + (f"&amp;start={start}" if start else "")
        return self._frame("viewtopic", f"{t.title} - {BOARD_NAME}", body, crumbs=self.forum.forum_path(f.forum_id),
                           canonical=canonical)

    # --- posts ------------------------------------------------------------------------------------
    def _post(self, p: Post, t: Thread, index: int) -> str:
        bg = "bg2" if index % 2 == 0 else "bg1"
        pid = p.post_id
        heading = ('<h3 class="first">' if p.position == 1 else "<h3 >") + (
            f'<a href="{self._post_link(p)}">{"" if p.position == 1 else "Re: "}{escape(t.title)}</a></h3>')
        author = (
            f'<p class="author"><a class="unread" href="{self._post_link(p)}" title="Post">'
            '<i class="icon fa-file fa-fw icon-lightgray icon-md" aria-hidden="true"></i><span class="sr-only">Post</span></a>'
            f'<span class="responsive-hide">by <strong>{self._user_link(p)}</strong> &raquo; </span>'
            f"{self._time(p.posted_at)}</p>"
        )
        buttons = (
            f'<ul class="post-buttons"><li><a href="{self._link("posting.php", mode="quote", p=pid)}" title="Reply with quote" '
            'class="button button-icon-only"><i class="icon fa-quote-left fa-fw" aria-hidden="true"></i>'
            '<span class="sr-only">Quote</span></a></li></ul>'
        )
        attachments = ""
        if p.attachments:
            attachments = '<dl class="attachbox"><dt>Attachments</dt>' + "".join(
                f'<dd><dl class="thumbnail"><dt><a href="{self._link("download/file.php", id=a, mode="view")}">'
                f'<img src="{self._link("download/file.php", id=a, t=1)}" class="postimage" alt="photo-{a}.jpg" '
                f'title="photo-{a}.jpg ({a % 900 + 40}.2 KiB) Viewed {a % 97} times" /></a></dt>'
                f"<dd> Photo {a}</dd></dl></dd>" for a in p.attachments) + "</dl>"
        notice = ""
        if p.edited_at:
            editor = f'<a href="{self._link("memberlist.php", mode="viewprofile", u=p.author_id)}" class="username">' \
                     f"{escape(p.edited_by)}</a>" if p.edited_by else self._moderator_link()
            notice = (f'<div class="notice">Last edited by {editor} on {_printed(p.edited_at, self.tz)}, '
                      "edited 1 time in total.</div>")
        if p.deleted:
            notice += (f'<div class="notice post_deleted_msg">Deleted by {self._moderator_link()} on '
                       f"{_printed(p.posted_at + timedelta(minutes=30), self.tz)}<br /><strong>Reason:</strong> "
                       "<em>Off topic</em></div>")
        signature = f'<div id="sig{pid}" class="signature">{escape(p.signature)}</div>' if p.signature else ""
        content = (f"{heading}{buttons}{author}" + (self._deleted_notice(p) if p.deleted else "")
                   + f'<div class="content">{self._content(p)}</div>{attachments}{notice}{signature}')
        hidden = ""
        if p.deleted:
            # The moderator's view: a "deleted" line first, the post itself folded away beneath it.
            hidden = (f'<div class="ignore" id="post_hidden{pid}"><strong>{self._moderator_link()}</strong> deleted the post '
                      f"by <strong>{self._user_link(p)}</strong> on {_printed(p.posted_at + timedelta(minutes=30), self.tz)}."
                      f'<br /><a href="{self._post_link(p)}" class="display_post" data-post-id="{pid}">Display this post</a>.</div>')
        return (
            f'\n<div id="p{pid}" class="post has-profile {bg}{" deleted" if p.deleted else ""}"><div class="inner">'
            f"{self._profile(p)}"
            f'<div class="postbody">{hidden}<div id="post_content{pid}"'
            + (' style="display: none;"' if p.deleted else "") + f">{content}</div></div>"
            '<div class="back2top"><a href="#top" class="top" title="Top"><i class="icon fa-chevron-circle-up fa-fw '
            'icon-gray" aria-hidden="true"></i><span class="sr-only">Top</span></a></div></div></div>'
        )

    def _deleted_notice(self, p: Post) -> str:
        return (
            f'<form method="post" class="mcp_approve" action="{self._link("mcp.php", i="queue", p=p.post_id, f=0)}">'
            '<p class="post-notice deleted"><strong>This post was deleted.</strong>'
            '<input class="button2" type="submit" value="Delete" name="action[disapprove]" />'
            '<input class="button1" type="submit" value="Restore" name="action[restore]" />'
            f'<input type="hidden" name="post_id_list[]" value="{p.post_id}" /></p></form>'
        )

    def _profile(self, p: Post) -> str:
        if not p.author:
            return (f'<dl class="postprofile" id="profile{p.post_id}"><dt class="no-profile-rank no-avatar">'
                    f'<div class="avatar-container"></div><span class="username">{escape(p.guest_name)}</span></dt></dl>')
        joined = _printed(p.posted_at - timedelta(days=400 + p.author_id % 900), self.tz)
        return (
            f'<dl class="postprofile" id="profile{p.post_id}"><dt class="has-profile-rank no-avatar">'
            f'<div class="avatar-container"></div>{self._user_link(p)}</dt><dd class="profile-rank">Roadster Regular</dd>'
            f'<dd class="profile-posts"><strong>Posts:</strong> <a href="{self._link("search.php", author_id=p.author_id, sr="posts")}">'
            f'{(p.author_id * 7) % 9000}</a></dd><dd class="profile-joined"><strong>Joined:</strong> {joined}</dd></dl>'
        )

    def _content(self, p: Post) -> str:
        quotes = quotes_html(self.forum, p, self._quote)
        parts = [quotes + "\n\n" if quotes else ""]
        parts.append(escape(p.text).replace(". ", ".<br>\n", 1))
        # prosilver shows [img] as a plain image (no lazy loading of its own).
        for url in (*p.images, *p.lazy_images):
            parts.append(f'<br>\n<img src="{escape(url)}" class="postimage" alt="Image">')
        for url in p.links:
            parts.append(f' <a href="{escape(url)}" class="postlink">parts link</a>')
        if p.post_id % 7 == 0:
            parts.append(' <img class="smilies" src="./images/smilies/icon_e_smile.gif" width="15" height="17" '
                         'alt=":)" title="Smile">')
        return "".join(parts)

    def _quote(self, quoted: Post, nested: str) -> str:
        who = (f'<a href="{self._link("memberlist.php", mode="viewprofile", u=quoted.author_id)}">{escape(quoted.author)}</a>'
               if quoted.author else escape(quoted.guest_name))
        link = self._post_link(quoted)
        text = "" if quoted.deleted else escape(quoted.text)
        return (
            f'<blockquote cite="{link}"><div><cite>{who} wrote: <a href="{link}" aria-label="View quoted post" '
            f'data-post-id="{quoted.post_id}" onclick="if(document.getElementById(hash.substr(1)))href=hash">'
            '<i class="icon fa-arrow-circle-up fa-fw" aria-hidden="true"></i></a>'
            f'<span class="responsive-hide">{_printed(quoted.posted_at, self.tz)}</span></cite>\n{nested}{text}\n'
            "</div></blockquote>"
        )

    # --- small pieces -----------------------------------------------------------------------------
    def _post_link(self, p: Post) -> str:
        return self._link("viewtopic.php", p=p.post_id) + f"#p{p.post_id}"

    def _user_link(self, p: Post) -> str:
        if not p.author:
            return f'<span class="username">{escape(p.guest_name)}</span>'
        return (f'<a href="{self._link("memberlist.php", mode="viewprofile", u=p.author_id)}" class="username">'
                f"{escape(p.author)}</a>")

    def _moderator_link(self) -> str:
        name, uid = MODERATOR
        return (f'<a href="{self._link("memberlist.php", mode="viewprofile", u=uid)}" style="color: #00AA00;" '
                f'class="username-coloured">{name}</a>')

    def _time(self, when: datetime) -> str:
        utc = when.astimezone(timezone.utc)
        return f'<time datetime="{utc.isoformat()}">{_printed(when, self.tz)}</time>'

    def _pagination(self, total_label: str, start: int, per: int, total: int, link_for) -> str:
        pages = pages_for(total, per)
        page = start // per + 1
        if pages <= 1:
            return f'<div class="pagination">{total_label} &bull; Page <strong>1</strong> of <strong>1</strong></div>'
        items = []
        if page > 1:
            items.append(f'<li class="arrow previous"><a class="button button-icon-only" href="{link_for(start - per)}" '
                         'rel="prev" role="button"><i class="icon fa-chevron-left fa-fw" aria-hidden="true"></i>'
                         '<span class="sr-only">Previous</span></a></li>')
        for n in sorted({1, pages, *pages_around(page, pages)}):
            items.append('<li class="active"><span>{}</span></li>'.format(n) if n == page else
                         f'<li><a class="button" href="{link_for((n - 1) * per)}" role="button">{n}</a></li>')
        if page < pages:
            items.append(f'<li class="arrow next"><a class="button button-icon-only" href="{link_for(start + per)}" '
                         'rel="next" role="button"><i class="icon fa-chevron-right fa-fw" aria-hidden="true"></i>'
                         '<span class="sr-only">Next</span></a></li>')
        return f'<div class="pagination">{total_label}<ul>{"".join(items)}</ul></div>'

    def _frame(self, section: str, title: str, body: str, crumbs: list, canonical: str) -> str:
        trail = "".join(
            f'<span class="crumb" itemtype="https://schema.org/ListItem" itemprop="itemListElement" itemscope '
            f'data-forum-id="{f.forum_id}"><a itemprop="item" href="{self._link("viewforum.php", f=f.forum_id)}">'
            f'<span itemprop="name">{escape(f.title)}</span></a><meta itemprop="position" content="{n}" /></span>'
            for n, f in enumerate(crumbs, 2)
        )
        offset = self.now.astimezone(self.tz).strftime("%z")
        zone = getattr(self.tz, "key", "UTC").replace("_", " ")
        return (
            '<!DOCTYPE html>\n<html dir="ltr" lang="en-gb">\n<head>\n<meta charset="utf-8" />\n'
            f"<title>{escape(title)}</title>\n"
            f'<link rel="alternate" type="application/atom+xml" title="Feed - {BOARD_NAME}" '
            f'href="{self.root}/app.php/feed?sid={self.sid}">\n<link rel="canonical" href="{canonical}">\n'
            '<link href="./styles/prosilver/theme/stylesheet.css?assets_version=12" rel="stylesheet">\n</head>\n'
            f'<body id="phpbb" class="nojs notouch section-{section} ltr ">\n<div id="wrap" class="wrap">'
            '<a id="top" class="top-anchor" accesskey="t"></a><div id="page-header"><div class="headerbar" role="banner">'
            '<div class="inner"><div id="site-description" class="site-description">'
            f'<a id="logo" class="logo" href="{self._link("index.php")}" title="Board index"><span class="site_logo"></span></a>'
            f"<h1>{BOARD_NAME}</h1><p>Roadster owners helping roadster owners</p>"
            '<p class="skiplink"><a href="#start_here">Skip to content</a></p></div></div></div>'
            '<div class="navbar" role="navigation"><div class="inner">'
            '<ul id="nav-main" class="nav-main linklist" role="menubar"><li class="rightside"  data-skip-responsive="true">'
            f'<a href="{self._link("ucp.php", mode="login")}" title="Login" accesskey="x" role="menuitem">'
            '<i class="icon fa-power-off fa-fw" aria-hidden="true"></i><span>Login</span></a></li></ul>'
            '<ul id="nav-breadcrumbs" class="nav-breadcrumbs linklist navlinks" role="menubar">'
            '<li class="breadcrumbs" itemscope itemtype="https://schema.org/BreadcrumbList">'
            '<span class="crumb" itemtype="https://schema.org/ListItem" itemprop="itemListElement" itemscope>'
            f'<a itemprop="item" href="{self._link("index.php")}" accesskey="h" data-navbar-reference="index">'
            '<i class="icon fa-home fa-fw"></i><span itemprop="name">Board index</span></a>'
            f'<meta itemprop="position" content="1" /></span>{trail}</li></ul></div></div></div>\n'
            '<a id="start_here" class="anchor"></a><div id="page-body" class="page-body" role="main">\n'
            f"{body}\n</div>\n"
            '<div id="page-footer" class="page-footer" role="contentinfo"><div class="navbar" role="navigation">'
            '<div class="inner"><ul id="nav-footer" class="nav-footer linklist" role="menubar"><li class="breadcrumbs">'
            f'<span class="crumb"><a href="{self._link("index.php")}" data-navbar-reference="index">'
            '<i class="icon fa-home fa-fw" aria-hidden="true"></i><span>Board index</span></a></span></li>'
            # The footer names the zone every printed date is in: how loose dates become instants.
            f'<li class="rightside">All times are <span title="{zone}">UTC{offset[:3]}:{offset[3:]}</span></li>'
            "</ul></div></div>"
            '<div class="copyright"><p class="footer-row"><span class="footer-copyright">Powered by '
            '<a href="https://www.phpbb.com/">phpBB</a>&reg; Forum Software &copy; phpBB Limited</span></p></div></div>\n'
            "</div>\n</body>\n</html>\n"
        )

    def _message_page(self, message: str) -> str:
        body = f'<div class="panel" id="message"><div class="inner"><h2 class="message-title">Information</h2><p>{escape(message)}</p></div></div>'
        return self._frame("error", f"Information - {BOARD_NAME}", body, crumbs=[], canonical=self.index_url())


def _valid_start(start: int, per: int, total: int) -> int:
    """phpBB's ``validate_start``: an offset past the end shows the last page."""
    if total <= 0:
        return 0
    return max(0, min(start, (math.ceil(total / per) - 1) * per))


def _printed(when: datetime, tz) -> str:
    """phpBB's default date format ``D M d, Y g:i a``: "Sat Mar 09, 2024 9:05 am"."""
    local = when.astimezone(tz)
    return f"{local:%a %b %d, %Y} {local.hour % 12 or 12}:{local:%M} {'am' if local.hour < 12 else 'pm'}"
