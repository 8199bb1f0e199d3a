"""The naive baseline: the same thread-page extraction written with BeautifulSoup and html.parser.

This is what the seed project (requests + BeautifulSoup) would do, and what most scrapers start with:
``find``/``find_all``/CSS ``select`` on a BeautifulSoup tree. It extracts the same fields as our
engine parsers (ids, position, author, author id, date, own text without quotes, HTML, quotes,
images, links, signature, edit note, thread id/title/forum path, next page), and dates go through the
same ``DateResolver``, so the comparison is of the HTML work alone. ``bench_parse.py`` checks that it
finds the same posts and text as our parsers before timing it.

beautifulsoup4 is a benchmark-only dependency: ``.venv/bin/pip install beautifulsoup4`` (not in pyproject).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

_BLOCK = set(
    "address article aside blockquote br dd div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr label legend li ol p pre section table tbody td tfoot th thead tr ul".split()
)
_SKIP = {"script", "style", "noscript", "template", "iframe", "object", "embed"}
_SMILIE = re.compile(r"/smilies/|/smiles/|/emoji/|/smilie|clear\.gif|/images/statusicon/", re.I)
_ATTACHMENT = re.compile(r"attachment\.php|/attachments/", re.I)
_INT = re.compile(r"\d[\d,]*")


def soup_of(html: bytes) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def text_of(root: Tag, skip=()) -> str:
    """Readable text: blocks and <br> break lines, spaces collapse, skipped sub-trees contribute nothing."""
    skip_ids = {id(s) for s in skip}
    parts: list[str] = []

    def walk(node):
        if isinstance(node, Comment):
            return
        if isinstance(node, NavigableString):
            parts.append(str(node))
            return
        if id(node) in skip_ids or node.name in _SKIP:
            return
        block = node.name in _BLOCK
        if block:
            parts.append("\n")
        for child in node.children:
            walk(child)
        if block:
            parts.append("\n")

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).replace("\xa0", " ").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _inside(node: Tag, skip) -> bool:
    skip_ids = {id(s) for s in skip}
    return id(node) in skip_ids or any(id(parent) in skip_ids for parent in node.parents)


def images_of(root: Tag, base: str, skip=()) -> list[str]:
    found = []
    for img in root.find_all("img"):
        if _inside(img, skip):
            continue
        src = img.get("data-src") or img.get("data-original") or img.get("data-lazy-src") or img.get("data-url") or img.get("src")
        if not src or src.startswith("data:") or _SMILIE.search(src) or "smilie" in " ".join(img.get("class", [])).lower():
            continue
        if img.parent is not None and img.parent.name == "a" and _ATTACHMENT.search(img.parent.get("href", "")):
            src = img.parent["href"]
        url = urljoin(base, src.strip())
        if url not in found:
            found.append(url)
    return found


def links_of(root: Tag, base: str, skip=()) -> list[str]:
    found = []
    for a in root.find_all("a", href=True):
        href = a["href"].strip()
        if _inside(a, skip) or not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        if _ATTACHMENT.search(href) and a.find("img"):
            continue
        url = urljoin(base, href)
        if url not in found:
            found.append(url)
    return found


def _int(text) -> int | None:
    match = _INT.search(text or "")
    return int(match.group(0).replace(",", "")) if match else None


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _base(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    return urljoin(url, base["href"]) if base else url


# --- vBulletin 3 (IB skin) -----------------------------------------------------------------------

def parse_vbulletin(html: bytes, url: str, dates) -> dict:
    soup = soup_of(html)
    base = _base(soup, url)
    crumbs = [(_squash(li.get_text(" ")), li.find("a")["href"]) for li in soup.find_all(itemtype=re.compile("schema.org/ListItem"))
              if li.find("a", href=True)]
    thread_input = soup.find("input", attrs={"name": "t"})
    h1 = soup.find("h1", class_="threadtitle") or soup.find("h1")
    posts = []
    for node in soup.find_all(id=re.compile(r"^post_?\d+$")):
        post_id = re.search(r"\d+", node["id"]).group(0)
        message = node.find(id=f"post_message_{post_id}")
        if message is None and "deleted" not in node.get_text().lower():
            continue
        count = node.find("a", id=f"postcount{post_id}")
        permalink = node.find("a", title="Link to this Post") or count
        menu = node.find(id=f"postmenu_{post_id}") or node
        author = menu.find("a", class_=re.compile("bigusername|username"))
        date_holder = None
        for comment in node.find_all(string=lambda s: isinstance(s, Comment) and "status icon and date" in s):
            date_holder = comment.parent
            break
        date_text = _squash(" ".join(s for s in date_holder.find_all(string=True, recursive=False)
                                      if not isinstance(s, Comment))) if date_holder else None
        record = {"post_id": post_id, "position": _int(count.get("name") or count.get_text()) if count else None,
                  "author": _squash(author.get_text()) if author else None,
                  "author_id": (re.search(r"(\d+)/?$", author["href"]) or [None, None])[1] if author else None,
                  "posted_at": dates.parse(date_text), "url": urljoin(base, permalink["href"]) if permalink else None}
        if message is None:
            posts.append({**record, "is_deleted": True, "body_text": None})
            continue
        blocks = []
        for label in message.find_all(["label", "div"], string=re.compile(r"^\s*Quote:\s*$")):
            wrapper = label
            while wrapper is not None and wrapper is not message:
                if wrapper.find(class_=re.compile("panel|alt2"), recursive=False) or wrapper.find("table", recursive=False):
                    break
                wrapper = wrapper.parent
            if wrapper is not None and wrapper is not message and wrapper not in blocks:
                blocks.append(wrapper)
        quotes = []
        for block in blocks:
            attribution = block.find(string=re.compile("Originally Posted by"))
            line = attribution.parent if attribution else None
            panel = block.find(class_=re.compile("panel|alt2"))
            skip = [line] if line else []
            quotes.append({"author": _squash(line.find(["strong", "b"]).get_text()) if line and line.find(["strong", "b"]) else None,
                           "post_id": (re.search(r"post_?(\d+)", line.find("a")["href"]) or [None, None])[1]
                           if line and line.find("a", href=True) else None,
                           "text": text_of(panel or block, skip + [b for b in blocks if b is not block])})
        scope = node.find(id=f"td_post_{post_id}") or node
        edit = scope.find(string=re.compile("Last edited by"))
        sig = scope.find(class_=re.compile("signature"))
        posts.append({**record, "is_deleted": False, "body_text": text_of(message, blocks), "body_html": str(message),
                      "quotes": quotes, "images": images_of(message, base, blocks), "links": links_of(message, base, blocks),
                      "signature": re.sub(r"^_{5,}\s*", "", text_of(sig)).strip() or None if sig else None,
                      "edited_by": _squash(edit.parent.get_text()) if edit else None})
    nxt = soup.find("a", id="mb_pagenext") or soup.find("link", rel="next")
    return {"thread_id": thread_input["value"] if thread_input else None, "title": _squash(h1.get_text()) if h1 else None,
            "forum_path": [t for t, _ in crumbs[1:]], "posts": posts,
            "next_page": urljoin(base, nxt["href"]) if nxt and nxt.get("href") else None}


# --- XenForo 2 -----------------------------------------------------------------------------------

def parse_xenforo(html: bytes, url: str, dates) -> dict:
    soup = soup_of(html)
    canonical = soup.find("link", rel="canonical")
    base = _base(soup, canonical["href"] if canonical else url)
    posts = []
    for node in soup.select("article.message[data-content^=post-], div.message--deleted[data-content^=post-]"):
        post_id = node["data-content"].split("-", 1)[1]
        attribution = node.select_one(".message-attribution") or node
        time = attribution.find("time")
        position = None
        for a in attribution.select(".message-attribution-opposite a[href]"):
            if a.get_text().strip().startswith("#"):
                position = _int(a.get_text())
                break
        user = node.select_one(".message-user .username, .message-userDetails .username")
        record = {"post_id": post_id, "position": position, "author": (node.get("data-author") or "").strip() or None,
                  "author_id": user.get("data-user-id") if user else None,
                  "posted_at": datetime.fromisoformat(time["datetime"]).astimezone(timezone.utc)
                  if time and time.get("datetime") else dates.parse(time.get_text() if time else None)}
        body = node.select_one(".message-body .bbWrapper")
        if body is None or "message--deleted" in node.get("class", []):
            posts.append({**record, "is_deleted": True, "body_text": None})
            continue
        blocks = body.select("blockquote.bbCodeBlock--quote")
        quotes = []
        for block in blocks:
            source = re.search(r"post:\s*(\d+)", block.get("data-source", ""))
            inner = block.select_one(".bbCodeBlock-expandContent") or block
            skip = block.select(".bbCodeBlock-expandLink, .bbCodeBlock-title") + [b for b in blocks if b is not block]
            quotes.append({"author": block.get("data-quote"), "post_id": source.group(1) if source else None,
                           "text": text_of(inner, skip)})
        smilies = body.select("img.smilie")
        images = images_of(body, base, blocks + smilies)
        for item in node.select(".attachmentList li"):
            images += [u for u in images_of(item, base) if u not in images]
        sig = node.select_one(".message-signature")
        edit = node.select_one(".message-lastEdit")
        posts.append({**record, "is_deleted": False, "body_text": text_of(body, blocks), "body_html": str(body),
                      "quotes": quotes, "images": images, "links": links_of(body, base, blocks),
                      "signature": text_of(sig) or None if sig else None, "edited_by": _squash(edit.get_text()) if edit else None})
    crumbs = soup.select("ul.p-breadcrumbs li a[href]")
    title = soup.select_one("h1.p-title-value")
    nxt = soup.select_one("a.pageNav-jump--next")
    return {"thread_id": (re.search(r"\.(\d+)/", canonical["href"]) or [None, None])[1] if canonical else None,
            "title": _squash(title.get_text()) if title else None,
            "forum_path": [_squash(a.get_text()) for a in crumbs], "posts": posts,
            "next_page": urljoin(base, nxt["href"]) if nxt else None}


# --- phpBB 3 -------------------------------------------------------------------------------------

def parse_phpbb(html: bytes, url: str, dates) -> dict:
    soup = soup_of(html)
    base = _base(soup, url)
    posts = []
    start = _int((re.search(r"[?&]start=(\d+)", url) or [None, "0"])[1]) or 0
    for index, node in enumerate(soup.find_all("div", id=re.compile(r"^p\d+$"), class_="post")):
        post_id = node["id"][1:]
        author_line = node.find("p", class_="author")
        member = author_line.find("a", href=re.compile("memberlist.php")) if author_line else None
        time = author_line.find("time") if author_line else None
        date_text = time.get_text() if time else (_squash(author_line.get_text()).rsplit("»", 1)[-1] if author_line else None)
        record = {"post_id": post_id, "position": start + index + 1,
                  "author": _squash(member.get_text()) if member else None,
                  "author_id": (re.search(r"[?&]u=(\d+)", member["href"]) or [None, None])[1] if member else None,
                  "posted_at": datetime.fromisoformat(time["datetime"]).astimezone(timezone.utc)
                  if time and time.get("datetime") else dates.parse(date_text)}
        content = node.find("div", class_="content")
        if content is None:
            posts.append({**record, "is_deleted": True, "body_text": None})
            continue
        blocks = content.find_all("blockquote")
        quotes = []
        for block in blocks:
            cite = block.find("cite")
            inner = block.find("div", recursive=False) or block
            quotes.append({"author": _squash(re.sub(r"wrote:?\s*$", "", cite.get_text())) if cite else None,
                           "post_id": None, "text": text_of(inner, ([cite] if cite else []) + block.find_all("blockquote"))})
        smilies = content.find_all("img", class_="smilies")
        sig = node.find("div", id=f"sig{post_id}") or node.find("div", class_="signature")
        edit = node.find("div", class_="notice")
        posts.append({**record, "is_deleted": False, "body_text": text_of(content, blocks), "body_html": str(content),
                      "quotes": quotes, "images": images_of(content, base, blocks + smilies),
                      "links": links_of(content, base, blocks), "signature": text_of(sig) or None if sig else None,
                      "edited_by": _squash(edit.get_text()) if edit else None})
    title = soup.find("h2", class_="topic-title") or soup.find("h2")
    crumbs = [a for a in soup.select("ul.navlinks a[href*='viewforum.php']")]
    nxt = soup.select_one(".pagination a[rel=next]")
    thread = soup.select_one("form#topic-search input[name=t]")
    return {"thread_id": thread["value"] if thread else None, "title": _squash(title.get_text()) if title else None,
            "forum_path": [_squash(a.get_text()) for a in crumbs], "posts": posts,
            "next_page": urljoin(base, nxt["href"]) if nxt else None}


PARSERS = {"vbulletin": parse_vbulletin, "xenforo": parse_xenforo, "phpbb": parse_phpbb}
