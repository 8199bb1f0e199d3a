"""Pagination that cannot loop: a next-page link is followed only when it moves forward.

A link that points back (or to the same page) with a parameter that changes on every visit (a
session id, a cache buster, ``?loop=7``) escapes Scrapy's duplicate filter and would be followed
forever. Every forum engine we read numbers its pages in the URL, either as a page number
(vBulletin ``page=3`` / ``/page3``, XenForo ``/page-3``, IB ``/page3/``) or as an offset (phpBB
``start=50``), so comparing the two URLs tells forward from back without fetching anything.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

# Query parameters that number a page or offset its first item.
_POSITION_PARAMS = ("page", "pagenumber", "start", "offset")
# A page number in the path: /page3, /page-3, /page3/, /page-3.html
_PATH_PAGE = re.compile(r"/page-?(\d+)(?:/|\.html?)?$", re.IGNORECASE)
# IB vBulletin's archive-style listing pages: /forum-name-12/index3.html
_PATH_INDEX = re.compile(r"/index(\d+)\.html?$", re.IGNORECASE)


def page_position(url: str) -> int:
    """Where a page stands in its thread or listing: its page number or item offset, 0 for a URL that
    names none (the first page)."""
    parts = urlsplit(url)
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in _POSITION_PARAMS and value.isdigit():
            return int(value)
    match = _PATH_PAGE.search(parts.path) or _PATH_INDEX.search(parts.path)
    return int(match.group(1)) if match else 0


def _page_stem(url: str) -> tuple[str, str]:
    """Host and path without the page number: pages of one thread or listing share it (the query is
    left out, as a looping link changes it)."""
    parts = urlsplit(url)
    path = _PATH_INDEX.sub("/", _PATH_PAGE.sub("/", parts.path))
    return parts.netloc, path.rstrip("/")


def moves_forward(current_url: str, next_url: str) -> bool:
    """True when ``next_url`` is a later page than ``current_url``: its page number or offset is
    greater. A link elsewhere (another path) is judged forward: only the engine knows it is the
    next page, and it cannot loop back through the page numbers compared here."""
    if _page_stem(current_url) != _page_stem(next_url):
        return True
    # Page 1 is written without a number (position 0) or with one (page=1): the same page.
    return max(page_position(next_url), 1) > max(page_position(current_url), 1)
