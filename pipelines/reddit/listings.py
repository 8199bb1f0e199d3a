"""Which submissions of a subreddit the API can list, and how to reach as many as possible.

Every Reddit listing stops after about 1000 items, whatever its sort, and keyword searches after
about 250. Older submissions are only reachable through a listing that still ranks them in its
first 1000 (the top of all time, of the year, ...) or a search that matches them; docs/reddit.md
says what stays out of reach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prawcore.exceptions import Forbidden, NotFound, PrawcoreException, Redirect, UnavailableForLegalReasons

from pipelines.reddit.backoff import Backoff
from pipelines.reddit.client import is_credentials_error

TIME_FILTERS = ("all", "year", "month", "week", "day")
SEARCH_SORTS = ("new", "top", "comments", "relevance")
INFO_BATCH = 100  # fullnames per /api/info request, Reddit's maximum
# Topics that Miata owners write about, each reaching up to ~250 more submissions per search sort.
DEFAULT_SEARCH_TERMS = (
    "NA", "NB", "NC", "ND", "RF", "turbo", "supercharger", "swap", "engine", "clutch", "transmission",
    "differential", "coilovers", "suspension", "alignment", "wheels", "tires", "brakes", "exhaust",
    "intake", "tune", "ECU", "hardtop", "soft top", "rust", "leak", "noise", "maintenance", "track",
    "autocross", "build", "restoration", "buying", "first Miata", "help", "advice",
)


@dataclass(frozen=True)
class Listing:
    """One way to list a subreddit: a PRAW listing method, or a keyword search."""

    name: str  # for messages, e.g. "top/year" or "search 'turbo' (new)"
    open: Callable  # subreddit, limit -> PRAW ListingGenerator


def standard_listings() -> list[Listing]:
    listings = [Listing("new", lambda sub, limit: sub.new(limit=limit)), Listing("hot", lambda sub, limit: sub.hot(limit=limit))]
    for sort in ("top", "controversial"):
        for period in TIME_FILTERS:
            listings.append(
                Listing(f"{sort}/{period}", lambda sub, limit, s=sort, p=period: getattr(sub, s)(time_filter=p, limit=limit))
            )
    return listings


def search_listings(terms) -> list[Listing]:
    return [
        Listing(f"search {term!r} ({sort})", lambda sub, limit, t=term, s=sort: sub.search(t, sort=s, time_filter="all", limit=limit))
        for term in terms
        for sort in SEARCH_SORTS
    ]


def unreachable_reason(error: PrawcoreException) -> str | None:
    """Why a subreddit cannot be read, from Reddit's answer; None when the error is not about that."""
    if isinstance(error, Redirect):
        return "does not exist (Reddit redirects to its subreddit search)"
    if not isinstance(error, (Forbidden, NotFound, UnavailableForLegalReasons)):
        return None
    try:
        reason = error.response.json().get("reason")
    except ValueError:
        reason = None
    status = error.response.status_code
    return {
        "private": f"is private (HTTP {status})",
        "banned": f"is banned (HTTP {status})",
        "quarantined": f"is quarantined and needs an account that opted in (HTTP {status})",
        "gold_only": f"is for premium members only (HTTP {status})",
    }.get(reason, "does not exist (HTTP 404)" if isinstance(error, NotFound) else f"cannot be read (HTTP {status}, reason {reason!r})")


def open_subreddit(reddit, name: str, backoff: Backoff):
    """(subreddit with its about data loaded, None) or (None, why it cannot be read)."""
    subreddit = reddit.subreddit(name)
    try:
        # Reading an attribute the lazy Subreddit lacks makes PRAW fetch r/<name>/about.
        backoff.call(f"reading r/{name}/about", lambda: getattr(subreddit, "subreddit_type", None))
    except PrawcoreException as error:
        if is_credentials_error(error):
            raise
        reason = unreachable_reason(error)
        if reason is None:
            return None, f"cannot be read: {error}"
        return None, reason
    return subreddit, None


def recently_commented(reddit, subreddit, known: set[str], limit: int | None, backoff: Backoff) -> list:
    """Submissions that the subreddit's newest comments (up to ~1000) belong to, beyond ``known`` ids.

    This is how a nightly run sees new comments on a submission too old for any listing.
    """
    name = subreddit.display_name
    fullnames: list[str] = []
    for comment in iterate(subreddit.comments(limit=limit), f"listing r/{name} comments", backoff):
        link_id = vars(comment).get("link_id") or ""
        if link_id.startswith("t3_") and link_id[3:] not in known and link_id not in fullnames:
            fullnames.append(link_id)
    submissions = []
    for start in range(0, len(fullnames), INFO_BATCH):
        batch = fullnames[start : start + INFO_BATCH]
        # One request per batch, so a retry after a 429 repeats exactly that request.
        submissions += backoff.call(f"reading {len(batch)} commented submissions of r/{name}", lambda b=batch: list(reddit.info(fullnames=b)))
    return submissions


def iterate(generator, what: str, backoff: Backoff) -> Iterator:
    """A PRAW ListingGenerator's items with 429s waited out: a failed page is asked for again.

    Only for ListingGenerator: it keeps its place when a page fails, where a Python generator that
    raised is finished for good.
    """
    while True:
        try:
            item = backoff.call(what, lambda: next(generator))
        except StopIteration:
            return
        yield item
