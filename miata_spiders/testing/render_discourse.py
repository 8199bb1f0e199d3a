"""Render a ``SyntheticForum`` as a Discourse site, for ``ForumServer``: the JSON API a crawler uses and
a minimal HTML home page (what a browser or the generic spider's first request gets).

What Discourse does, and this site does too:

- ``/categories.json?include_subcategories=true``: top categories with their ``subcategory_list``
  (nested at most three deep: a deeper synthetic sub-forum hangs from its second-level ancestor);
- ``/c/<slug path>/<id>.json`` lists a category's topics, pinned first then by ``bumped_at``, a page of
  ``threads_per_page`` topics, ``more_topics_url`` (without ``.json``, ``?page=`` counted from 0) while
  more remain; ``/c/.../<id>/none.json`` the same for a category with sub-categories;
- ``/t/<id>.json`` (or ``/t/<slug>/<id>.json``): the topic with its first ``chunk_size`` posts and the
  ``stream`` of every post id; ``/t/<id>/posts.json?post_ids[]=…`` any of its posts, at most
  ``chunk_size`` of them;
- posts: ``cooked`` HTML with ``aside.quote[data-username][data-post][data-topic]`` quotes (nested),
  external images as ``<img>``, uploads as lightboxes (original link, optimised preview), links as
  oneboxes, emoji as ``img.emoji``; ``version`` 2 and a later ``updated_at`` for an edited post;
  deleted posts as ``user_deleted`` with "(post deleted by author)"; ``reply_to_post_number`` for a
  quoting post. Discourse has no guest posts: a guest of the model posts as a user without an id
  (a deleted account's posts look so).
- ``login_required``: HTML pages are the login splash, every JSON answer a 403 ``not_logged_in``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import timezone
from html import escape
from urllib.parse import parse_qs, urlsplit

from miata_spiders.testing.forumgen import POST_SLOTS, Forum, Post, SyntheticForum, Thread
from miata_spiders.testing.render_common import SyntheticSite, expected_quotes

HOST = "https://forum.mx5oc.co.uk"
CHUNK_SIZE = 20
_JSON = {"Content-Type": "application/json; charset=utf-8"}
_HTML = {"Content-Type": "text/html; charset=utf-8"}
ROBOTS = (b"User-agent: *\nDisallow: /admin/\nDisallow: /auth/\nDisallow: /email/\nDisallow: /session\n"
          b"Disallow: /user-api-key\nDisallow: /u/\nDisallow: /my\nDisallow: /search\nDisallow: /g\n")
PRIVATE = ("/admin/", "/auth/", "/email/", "/session", "/user-api-key", "/u/", "/my", "/search", "/g")


def _iso(when) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class DiscourseForumSite(SyntheticSite):
    def __init__(self, forum: SyntheticForum, host: str = HOST, chunk_size: int = CHUNK_SIZE,
                 login_required: bool = False):
        super().__init__(forum)
        self.host = host.rstrip("/")
        self.chunk_size = chunk_size
        self.login_required = login_required

    # --- the category tree as Discourse nests it ------------------------------------------------
    def parent_of(self, f: Forum) -> Forum | None:
        """The category ``f`` hangs from in Discourse: its own parent, or, below the third level,
        its second-level ancestor."""
        path = self.forum.forum_path(f.forum_id)
        if len(path) <= 3:
            return path[-2] if len(path) > 1 else None
        return path[1]

    def category_path(self, f: Forum) -> list[Forum]:
        chain, node = [], f
        while node is not None:
            chain.append(node)
            node = self.parent_of(node)
        return chain[::-1]

    def children_of(self, f: Forum | None) -> list[Forum]:
        return [c for c in self.forum.forums.values() if (self.parent_of(c) is f if f else self.parent_of(c) is None)]

    def slug_path(self, f: Forum) -> str:
        return "/".join(x.slug for x in self.category_path(f))

    def category_list_path(self, f: Forum) -> str:
        return f"/c/{self.slug_path(f)}/{f.forum_id}{'/none' if self.children_of(f) else ''}.json"

    # --- ground truth ---------------------------------------------------------------------------
    def thread_url(self, t: Thread) -> str:
        return f"{self.host}/t/{t.slug}/{t.thread_id}"

    def index_url(self) -> str:
        return f"{self.host}/"

    def expected_path(self, t: Thread) -> list[str]:
        return [f.title for f in self.category_path(self.forum.forums[t.forum_id])]

    def expected_row(self, post: Post) -> dict:
        thread = self.forum.thread(post.thread_id)
        return {
            "position": post.position,
            "author": post.author or post.guest_name,
            "author_id": str(post.author_id) if post.author_id else None,
            "posted_at": post.posted_at.astimezone(timezone.utc),
            "edited_at": post.edited_at.astimezone(timezone.utc) if post.edited_at else None,
            "is_deleted": post.deleted,
            "body_text": None if post.deleted else " ".join(post.text.split()),
            "quotes": [] if post.deleted else expected_quotes(self.forum, post),
            "images": [] if post.deleted else [*post.images, *post.lazy_images, *map(self.upload_url, post.attachments)],
            "links": [] if post.deleted else list(post.links),
            "signature": None,
            "parent_id": str(post.quote_of % POST_SLOTS) if post.quote_of else None,
            "url": f"{self.thread_url(thread)}/{post.position}",
        }

    def upload_url(self, attachment: int) -> str:
        digest = hashlib.sha1(str(attachment).encode()).hexdigest()
        return f"{self.host}/uploads/default/original/2X/{digest[0]}/{digest}.jpeg"

    def requests_for_topic(self, t: Thread) -> int:
        """What an ideal crawl asks for one topic: its JSON, then the rest of its posts a chunk at a time."""
        return 1 + math.ceil(max(0, t.post_count - self.chunk_size) / self.chunk_size)

    # --- routing --------------------------------------------------------------------------------
    def respond(self, path: str) -> tuple[int, bytes, dict]:
        parts = urlsplit(path)
        route, query = parts.path, parse_qs(parts.query)
        if route == "/robots.txt":
            return 200, ROBOTS, {"Content-Type": "text/plain"}
        if self.login_required:
            if route.endswith(".json"):
                return 403, json.dumps({"errors": ["You need to be logged in to do that."],
                                        "error_type": "not_logged_in"}).encode(), _JSON
            return 200, self.home_page(login=True).encode(), _HTML
        if route in ("/", "/latest", "/categories"):
            return 200, self.home_page().encode(), _HTML
        if route == "/categories.json":
            return self._json({"category_list": {"can_create_category": False,
                                                 "categories": [self.category(c) for c in self.children_of(None)]}})
        if route.startswith("/c/") and route.endswith(".json"):
            pieces = route[3:-5].split("/")
            if pieces and pieces[-1] == "none":
                pieces = pieces[:-1]
            f = self.forum.forums.get(int(pieces[-1])) if pieces and pieces[-1].isdigit() else None
            if f is None:
                return self._not_found()
            page = int(query.get("page", ["0"])[0]) if query.get("page", ["0"])[0].isdigit() else 0
            return self._json(self.topic_list(f, page))
        if route.startswith("/t/"):
            pieces = route[3:].split("/")
            if len(pieces) == 2 and pieces[0].isdigit() and pieces[1] == "posts.json":
                thread = self._thread(int(pieces[0]))
                if thread is None:
                    return self._not_found()
                ids = [int(i) for i in query.get("post_ids[]", []) if i.isdigit()][: self.chunk_size]
                wanted = [i for i in ids if divmod(i, POST_SLOTS)[0] == thread.thread_id
                          and 1 <= i % POST_SLOTS <= thread.post_count]
                return self._json({"post_stream": {"posts": [self.post_json(thread, self.forum.post(thread.thread_id, i % POST_SLOTS))
                                                             for i in wanted]}, "id": thread.thread_id})
            last = pieces[-1]
            if last.endswith(".json") and last[:-5].isdigit():
                thread = self._thread(int(last[:-5]))
                return self._json(self.topic_json(thread)) if thread else self._not_found()
            if len(pieces) == 2 and last.isdigit():  # /t/<slug>/<id>: the HTML page, as a crawler gets it
                thread = self._thread(int(last))
                page = int(query.get("page", ["1"])[0]) if query.get("page", ["1"])[0].isdigit() else 1
                if thread is not None and 1 <= page <= self.crawler_pages(thread):
                    return 200, self.topic_page(thread, page).encode(), _HTML
        return 404, b"<html><body>Not found</body></html>", _HTML

    def _thread(self, thread_id: int) -> Thread | None:
        forum_index = (thread_id - 1000) // 100_000
        forum = next((f for f in self.forum.forums.values() if f.index == forum_index and not f.is_category), None)
        if forum is None or thread_id not in self.forum.thread_ids(forum):
            return None
        return self.forum.thread(thread_id)

    def _json(self, data) -> tuple[int, bytes, dict]:
        return 200, json.dumps(data, separators=(",", ":")).encode(), _JSON

    def _not_found(self):
        return 404, json.dumps({"errors": ["The requested URL or resource could not be found."],
                                "error_type": "not_found"}).encode(), _JSON

    # --- JSON -----------------------------------------------------------------------------------
    def category(self, f: Forum) -> dict:
        children = self.children_of(f)
        threads = list(self.forum.thread_ids(f))
        return {
            "id": f.forum_id, "name": f.title, "slug": f.slug, "color": "0088CC", "text_color": "FFFFFF",
            "topic_count": len(threads), "post_count": sum(self.forum.thread(t).post_count for t in threads),
            "position": f.forum_id, "description": f"All about {escape(f.title)}", "read_restricted": False,
            "parent_category_id": self.parent_of(f).forum_id if self.parent_of(f) else None,
            "has_children": bool(children), "subcategory_ids": [c.forum_id for c in children],
            "subcategory_list": [self.category(c) for c in children],
        }

    def _ordered(self, f: Forum) -> list[Thread]:
        threads = [self.forum.thread(t) for t in self.forum.thread_ids(f)]
        return sorted(threads, key=lambda t: (not t.sticky, -self.bumped_at(t).timestamp(), -t.thread_id))

    def bumped_at(self, t: Thread):
        return t.last_post_at

    def topic_list(self, f: Forum, page: int) -> dict:
        per = self.forum.shape.threads_per_page
        threads = self._ordered(f)
        shown = threads[page * per:(page + 1) * per]
        topic_list = {"can_create_topic": False, "per_page": per, "topics": [self.topic_row(t) for t in shown]}
        if (page + 1) * per < len(threads):
            topic_list["more_topics_url"] = f"/c/{self.slug_path(f)}/{f.forum_id}{'/none' if self.children_of(f) else ''}?page={page + 1}"
        return {"users": [], "primary_groups": [], "topic_list": topic_list}

    def topic_row(self, t: Thread) -> dict:
        return {
            "id": t.thread_id, "title": t.title, "fancy_title": escape(t.title), "slug": t.slug,
            "posts_count": t.post_count, "reply_count": t.post_count - 1, "highest_post_number": t.post_count,
            "created_at": _iso(t.created_at), "last_posted_at": _iso(t.last_post_at), "bumped": True,
            "bumped_at": _iso(self.bumped_at(t)), "archetype": "regular", "pinned": t.sticky, "visible": True,
            "closed": False, "archived": False, "views": t.views, "like_count": 0, "category_id": t.forum_id,
            "pinned_globally": False, "last_poster_username": self.forum.author_name(t.thread_id, t.post_count),
        }

    def topic_json(self, t: Thread) -> dict:
        posts = [self.forum.post(t.thread_id, p) for p in range(1, t.post_count + 1)]
        return {
            **self.topic_row(t),
            "post_stream": {"posts": [self.post_json(t, p) for p in posts[: self.chunk_size]],
                            "stream": [p.post_id for p in posts]},
            "chunk_size": self.chunk_size, "timeline_lookup": [], "tags": [],
            "details": {"created_by": {"username": t.starter}, "can_create_post": False},
        }

    def post_json(self, t: Thread, p: Post) -> dict:
        return {
            "id": p.post_id, "name": (p.author or p.guest_name or "").title(), "username": p.author or p.guest_name,
            "avatar_template": f"/letter_avatar_proxy/v4/letter/{(p.author or p.guest_name or 'x')[0]}/8e7dd6/{{size}}.png",
            "created_at": _iso(p.posted_at), "cooked": self.cooked(p), "post_number": p.position, "post_type": 1,
            "updated_at": _iso(p.edited_at or p.posted_at), "reply_count": 0,
            "reply_to_post_number": p.quote_of % POST_SLOTS if p.quote_of else None, "quote_count": int(bool(p.quote_of)),
            "incoming_link_count": 0, "reads": 5, "score": 1.0, "yours": False, "topic_id": t.thread_id,
            "topic_slug": t.slug, "display_username": (p.author or p.guest_name or "").title(),
            "version": 2 if p.edited_at else 1, "user_id": p.author_id, "hidden": False, "trust_level": 1,
            "deleted_at": None, "user_deleted": p.deleted, "wiki": False,
        }

    def cooked(self, p: Post) -> str:
        if p.deleted:
            return "<p>(post deleted by author)</p>"
        parts = []
        if p.quote_of:
            parts.append(self.quote_html(p.quote_of, p.nested_quote_of))
        if p.text:
            parts.append(f"<p>{escape(p.text)}</p>")
        for url in p.images + p.lazy_images:
            parts.append(f'<p><img src="{url}" alt="image" width="690" height="388"></p>')
        for attachment in p.attachments:
            original = self.upload_url(attachment)
            optimized = original.replace("/original/", "/optimized/").replace(".jpeg", "_2_690x388.jpeg")
            parts.append(f'<p><div class="lightbox-wrapper"><a class="lightbox" href="{original}" title="photo.jpeg">'
                         f'<img src="{optimized}" alt="photo" width="690" height="388"><div class="meta">'
                         f'<span class="filename">photo.jpeg</span><span class="informations">1920×1080 320 KB</span>'
                         '</div></a></div></p>')
        for url in p.links:
            parts.append(f'<aside class="onebox allowlistedgeneric" data-onebox-src="{url}"><header class="source">'
                         f'<a href="{url}" target="_blank" rel="noopener">flyinmiata.com</a></header>'
                         f'<article class="onebox-body"><h3><a href="{url}">Flyin\' Miata parts</a></h3>'
                         '<p>Performance parts for your Miata, shipped worldwide.</p></article></aside>')
        if p.post_id % 7 == 0:
            parts.append('<p><img src="/images/emoji/twitter/slight_smile.png?v=12" title=":slight_smile:" '
                         'class="emoji" alt=":slight_smile:" loading="lazy" width="20" height="20"></p>')
        return "\n".join(parts)

    def quote_html(self, post_id: int, nested_id: int | None) -> str:
        thread_id, position = divmod(post_id, POST_SLOTS)
        quoted = self.forum.post(thread_id, position)
        name = quoted.author or quoted.guest_name
        inner = self.quote_html(nested_id, None) if nested_id else ""
        text = "" if quoted.deleted else f"<p>{escape(quoted.text)}</p>"
        return (f'<aside class="quote no-group" data-username="{escape(name)}" data-post="{position}" '
                f'data-topic="{thread_id}"><div class="title"><div class="quote-controls"></div>'
                f'<img alt="" width="24" height="24" src="/letter_avatar_proxy/v4/letter/{name[0]}/8e7dd6/48.png" '
                f'class="avatar"> {escape(name)}:</div><blockquote>{inner}{text}</blockquote></aside>')

    # --- HTML -----------------------------------------------------------------------------------
    def crawler_pages(self, t: Thread) -> int:
        return max(1, math.ceil(t.post_count / self.chunk_size))

    def topic_page(self, t: Thread, page: int) -> str:
        """A topic page as Discourse serves it to a crawler: the ``<noscript>`` view (``chunk_size`` posts a
        page, ``?page=N``, no post ids), and the ``#data-preloaded`` store holding the topic's JSON with
        that page's posts."""
        url = self.thread_url(t)
        numbers = range((page - 1) * self.chunk_size + 1, min(t.post_count, page * self.chunk_size) + 1)
        posts = "".join(self._crawler_post(t, self.forum.post(t.thread_id, n)) for n in numbers)
        crumbs = "".join(f'<div itemprop="itemListElement" itemscope itemtype="http://schema.org/ListItem">'
                         f'<a href="{self.host}/c/{self.slug_path(f)}/{f.forum_id}" class="badge-wrapper bullet" '
                         f'itemprop="item"><span class="category-title" itemprop="name">{escape(f.title)}</span></a>'
                         f'<meta itemprop="position" content="{i}"></div>'
                         for i, f in enumerate(self.category_path(self.forum.forums[t.forum_id]), 1))
        pager = "".join(
            f'<span itemprop="itemListElement"><a rel="{rel}" itemprop="url" href="/t/{t.slug}/{t.thread_id}'
            f'{"" if n == 1 else f"?page={n}"}">{label}</a></span>'
            for n, rel, label in ((page - 1, "prev", "← previous page"), (page + 1, "next", "next page →"))
            if 1 <= n <= self.crawler_pages(t))
        preloaded = self.topic_json(t)
        preloaded["post_stream"]["posts"] = [self.post_json(t, self.forum.post(t.thread_id, n)) for n in numbers]
        store = escape(json.dumps({"topic_" + str(t.thread_id): json.dumps(preloaded)}), quote=True)
        return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                f'<title>{escape(t.title)} - MX-5 Owners Club Forum</title>'
                '<meta name="generator" content="Discourse 3.3.2 - https://github.com/discourse/discourse version '
                f'abc123"><link rel="canonical" href="{url}{"" if page == 1 else f"?page={page}"}">'
                f'<meta property="og:title" content="{escape(t.title)}"></head><body>'
                f'<noscript data-path="/t/{t.slug}/{t.thread_id}"><div id="main-outlet" class="wrap" role="main">'
                f'<div id="topic-title"><h1><a href="{url}">{escape(t.title)}</a></h1>'
                f'<div id="breadcrumbs" itemscope itemtype="http://schema.org/BreadcrumbList">{crumbs}</div></div>'
                f'{posts}<div role="navigation" itemscope itemtype="http://schema.org/SiteNavigationElement" '
                f'class="topic-body crawler-post">{pager}</div></div></noscript>'
                f'<div class="hidden" id="data-preloaded" data-preloaded="{store}"></div>'
                '<div id="data-discourse-setup" data-discourse-setup="true"></div></body></html>')

    def _crawler_post(self, t: Thread, p: Post) -> str:
        name = p.author or p.guest_name
        return (f'<div id="post_{p.position}" itemprop="comment" itemscope itemtype="http://schema.org/Comment" '
                'class="topic-body crawler-post"><div class="crawler-post-meta"><span class="creator" itemprop="author" '
                f'itemscope itemtype="http://schema.org/Person"><a itemprop="url" href="{self.host}/u/{name}">'
                f'<span itemprop="name">{escape(name)}</span></a> ({escape(name.title())})</span>'
                f'<span class="crawler-post-infos"><time itemprop="datePublished" datetime="{_iso(p.posted_at)}" '
                f'class="post-time">{p.posted_at:%B %-d, %Y, %-I:%M%p}</time>'
                f'<meta itemprop="dateModified" content="{_iso(p.edited_at or p.posted_at)}">'
                f'<span itemprop="position">#{p.position}</span></span></div>'
                f'<div class="post" itemprop="text">{self.cooked(p)}</div></div>')

    def home_page(self, login: bool = False) -> str:
        body = ('<div class="login-welcome"><h1>Welcome to MX-5 Owners Club</h1><p>This is a private forum: '
                'log in to see it.</p></div>') if login else "".join(
            f'<li><a href="{self.host}/c/{self.slug_path(c)}/{c.forum_id}">{escape(c.title)}</a></li>'
            for c in self.children_of(None))
        return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>MX-5 Owners Club Forum</title>'
                '<meta name="generator" content="Discourse 3.3.2 - https://github.com/discourse/discourse version '
                'abc123"><meta name="discourse_theme_id" content="2"><meta name="discourse_current_homepage" '
                f'content="latest"></head><body><noscript data-path="/"><header><a href="{self.host}/">MX-5 Owners '
                f'Club</a></header><div id="main-outlet" class="wrap" role="main"><ul>{body}</ul></div></noscript>'
                '<div id="data-discourse-setup" data-discourse-setup="true" data-base-url="'
                f'{self.host}"></div></body></html>')
