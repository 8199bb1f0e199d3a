"""How the forum spider walks a Discourse forum: through its JSON API, never its pages.

    /categories.json?include_subcategories=true     every category the visitor may read
      -> /c/<slug path>/<id>.json (?page=N)          each one's topics, newest activity first
        -> /t/<id>.json                              a topic: its first chunk of posts and the ids of all
          -> /t/<id>/posts.json?post_ids[]=...       the rest, ``chunk_size`` ids a request, in order

Every request goes through Scrapy's scheduler, AutoThrottle, retries and HTTP cache like any page.
Parsing is the engine's (``engines/discourse.py``) through ``page_records``; this module only routes.

Crawl state: a topic's row records, as its "page", the highest post id (in stream order) durably
stored, and as its listing facts ``posts_count - 1`` and the later of ``last_posted_at``/``bumped_at``.
An incremental crawl skips a topic whose facts did not change; a changed or unfinished one is fetched
afresh (``/t/<id>.json``: its stream says which posts exist now) and only the posts from the last
stored one on are requested. The chunks of one topic are requested one after the other, so the
recorded resume point only ever moves forward.
"""

from __future__ import annotations

from datetime import datetime, timezone

import scrapy

from miata_spiders.blocking import CLOSE_REASON, Block, BlockWatch, stop_crawl
from miata_spiders.engines.discourse import (CHUNK_SIZE, categories, error_of, json_of, page_number, posts_json_url,
                                             site_root, stream_of, topic_json_url)
from miata_spiders.httpcache import REFETCH
from miata_spiders.page_records import page_records
from pipelines.crawl_state import ThreadProgress

THREAD_PRIORITY = 10
LISTING_PRIORITY = 0
# Discourse answers a guest it will not serve with 403 and a JSON error_type.
_WALLED = {"not_logged_in", "invalid_access"}


class DiscourseWalk:
    def __init__(self, spider):
        self.spider = spider
        self.started = False
        self.categories = {}

    @property
    def stats(self):
        return self.spider.crawler.stats

    def _request(self, url: str, callback, priority: int, meta: dict | None = None, **kwargs) -> scrapy.Request:
        # 403 reaches the callback: it is how Discourse says "log in first".
        return scrapy.Request(self.spider.rebase(url), callback=callback, priority=priority,
                              meta={"handle_httpstatus_list": [403], **(meta or {})}, **kwargs)

    # --- entry: the first HTML page told us this is Discourse ------------------------------------
    def start(self, response):
        if self.started:
            return
        self.started = True
        root = site_root(self.spider.unbase(response.url))
        yield self._request(f"{root}/categories.json?include_subcategories=true", self.parse_categories,
                            LISTING_PRIORITY, {REFETCH: not self.spider.offline})

    def _data(self, response, expected: str) -> tuple[dict | None, list]:
        """(the answer's JSON, []) or (None, requests to send instead): a login wall stops the crawl,
        anything that is not JSON (a maintenance page, a cut-off body) is retried fresh a few times."""
        data = json_of(response)
        error = error_of(data)
        if response.status == 403 or error in _WALLED:
            block = Block("login_wall", f"Discourse answered {response.status} error_type {error or 'none'}")
            watch = BlockWatch.of(self.spider.crawler)
            watch.blocked(response.url, response.status, block, expected)
            if expected == "listing" and not watch.closing:
                # The categories or a topic list walled off: nothing of this forum is readable.
                self.spider.logger.error("%s requires login: %s; stopping", response.url, block)
                watch.closing = True
                stop_crawl(self.spider.crawler, CLOSE_REASON)
            return None, []
        if not isinstance(data, dict) or error is not None:
            return None, list(self.spider._unrecognised(response, expected))
        BlockWatch.of(self.spider.crawler).usable(expected)
        return data, []

    # --- categories and topic lists ---------------------------------------------------------------
    def parse_categories(self, response):
        data, instead = self._data(response, "listing")
        if data is None:
            yield from instead
            return
        found = categories(data, self.spider.unbase(response.url))
        self.stats.inc_value("miata/pages/listing")
        if not found and not self.categories:
            self.stats.inc_value("miata/parse/unrecognised_listing")
            self.spider.logger.error("no category readable in %s: nothing to crawl", response.url)
        new = {cid: c for cid, c in found.items() if cid not in self.categories}
        self.categories.update(new)
        for category in new.values():
            yield self._request(category.url, self.parse_topic_list, LISTING_PRIORITY, {REFETCH: not self.spider.offline})
        unnamed = {i for c in self.categories.values() for i in c.child_ids} - set(self.categories)
        if unnamed and not response.meta.get("discourse_site_json"):
            # An older Discourse names sub-categories only by id here: /site.json lists them all.
            root = site_root(self.spider.unbase(response.url))
            yield self._request(f"{root}/site.json", self.parse_categories, LISTING_PRIORITY,
                                {REFETCH: not self.spider.offline, "discourse_site_json": True})

    def parse_topic_list(self, response):
        spider = self.spider
        data, instead = self._data(response, "listing")
        if data is None:
            yield from instead
            return
        records = page_records(response, spider.parser, site=spider.name, dates=spider.dates_for(response),
                               unbase=spider.unbase, request_for="listing")
        listing = records.listing
        if listing is None:
            yield from spider._unrecognised(response, "listing")
            return
        self.stats.inc_value("miata/pages/listing")
        decisions = []
        for thread in listing.threads:
            self.stats.inc_value("miata/threads/listed")
            spider._listed[thread.thread_id] = (thread.reply_count, thread.last_post_at)
            decision, request = self._topic_request(thread)
            decisions.append(decision)
            if request is not None:
                yield request
        stop = spider._listing_walk_may_stop(listing, decisions)
        if spider.state_store is not None and listing.forum_id:
            spider.state_store.record_listing_page(
                listing.forum_id, listing.page, spider.unbase(response.url),
                [t.thread_id for t in listing.threads if not t.sticky], is_last=listing.next_page is None,
                now_iso=datetime.now(timezone.utc).isoformat())
        if listing.next_page and stop:
            self.stats.inc_value("miata/incremental/listing_walks_stopped")
        elif listing.next_page and page_number(listing.next_page) > listing.page:  # ?page= counts from 0
            yield self._request(listing.next_page, self.parse_topic_list, LISTING_PRIORITY,
                                {REFETCH: not spider.offline})

    def _topic_request(self, thread):
        """The spider's own decision (new, resumed, unchanged, scheduled), turned into a request for
        the topic's JSON; a resumed topic remembers the last post id already stored."""
        spider = self.spider
        decision, request = spider._thread_request(thread)
        if request is None:
            return decision, None
        meta = dict(request.meta)
        if decision == "resumed":
            known = spider.state.thread(thread.thread_id)
            meta["discourse_resume_after"] = known.last_page if known else None
        url = topic_json_url(site_root(thread.url), thread.thread_id)
        meta["handle_httpstatus_list"] = [403]
        # The topic's answer is its index (which posts exist now), as a listing page is a forum's: never
        # taken from the cache, where an earlier, interrupted run may have left a shorter stream.
        meta[REFETCH] = not spider.offline
        return decision, request.replace(url=spider.rebase(url), callback=self.parse_topic, meta=meta)

    # --- topics -----------------------------------------------------------------------------------
    def parse_topic(self, response):
        """A topic's first answer or one of its posts.json chunks: store its posts, ask for the next chunk."""
        spider = self.spider
        data, instead = self._data(response, "thread")
        if data is None:
            yield from instead
            return
        topic = response.meta.get("discourse_topic")
        listed = response.meta.get("listed_thread")
        records = page_records(response, spider.parser, site=spider.name, dates=spider.dates_for(response),
                               unbase=spider.unbase, request_for="thread",
                               thread_url=topic["thread_url"] if topic else response.meta.get("thread_url"),
                               listed_thread_id=listed.thread_id if listed else None)
        page = records.thread
        # Every post object of the answer, small actions ("closed the topic") included: they hold stream
        # ids too, and a chunk of nothing but them is answered, not broken.
        answered = [p["id"] for p in (data.get("post_stream") or {}).get("posts") or () if isinstance(p, dict)
                    and isinstance(p.get("id"), int)]
        if page is None or (records.kind != "thread" and not (answered and not page.posts and topic)):
            yield from spider._unrecognised(response, "thread")
            return
        page.thread_id = page.thread_id or (topic and topic["thread_id"])
        numbers = {**response.meta.get("discourse_numbers", {}),
                   **{p.position: int(p.post_id) for p in page.posts if p.position and p.post_id.isdigit()}}
        if topic is None:  # the topic's own answer: what the walk needs for its next chunks
            stream = stream_of(data)
            chunk = data.get("chunk_size") if isinstance(data.get("chunk_size"), int) and data["chunk_size"] > 0 else CHUNK_SIZE
            category = self.categories.get(page.forum_id)
            topic = {"thread_id": page.thread_id, "title": page.title, "thread_url": records.thread_url,
                     "forum_id": page.forum_id, "forum_path": list(category.path) if category else [],
                     "chunk": chunk, "covered": 0, "resumed": response.meta.get("discourse_resume_after") is not None,
                     "pending": self._pending(stream, set(answered), response.meta.get("discourse_resume_after"))}
        else:
            topic = dict(topic)
        for item in records.items:
            item.thread_title = topic["title"]
            item.forum_id = topic["forum_id"]
            item.forum_path = list(topic["forum_path"])
        requested = response.meta.get("discourse_requested")
        if requested is not None:
            missing = set(requested) - set(answered)
            if missing:  # deleted or hidden since the stream was read: nothing to fetch any more
                self.stats.inc_value("miata/discourse/posts_gone", len(missing))
        self.stats.inc_value("miata/pages/thread")
        self.stats.inc_value("miata/posts/parsed", len(page.posts))
        if page.unparsed_dates:
            self.stats.inc_value("miata/parse/date_unparsed", page.unparsed_dates)
        damaged = bool(page.parse_errors) or bool(response.meta.get("thread_damaged"))
        if page.parse_errors:
            self.stats.inc_value("miata/parse/errors", page.parse_errors)
            spider.logger.error("%d post(s) of %s could not be parsed; the topic stays incomplete for the next run",
                                page.parse_errors, response.url)
        pending = list(topic["pending"])
        next_ids, rest = pending[: topic["chunk"]], pending[topic["chunk"]:]
        # The resume point: the last post id, in stream order, that this topic's answers so far covered.
        if requested is not None:
            topic["covered"] = requested[-1]
        elif (after := response.meta.get("discourse_resume_after")) is not None:
            topic["covered"] = after  # what the state already holds stays covered
        else:
            topic["covered"] = answered[-1] if answered else 0
        if spider.crawl_progress is not None and not damaged:
            reply_count, last_post_at = spider._listed.get(page.thread_id) or (
                (listed.reply_count, listed.last_post_at) if listed else (None, None))
            spider.crawl_progress.expect(response, ThreadProgress(
                site=spider.name, thread_id=page.thread_id, forum_id=topic["forum_id"],
                thread_url=topic["thread_url"], page=topic["covered"],
                page_url=spider.unbase(topic_json_url(site_root(response.url), page.thread_id)),
                last_position=max((p.position for p in page.posts if p.position), default=None),
                has_next_page=bool(next_ids), reply_count=reply_count,
                last_post_at=last_post_at.isoformat() if last_post_at else None,
            ), posts=len(records.items))
        yield from records.items
        if next_ids:
            yield self._request(
                posts_json_url(site_root(spider.unbase(response.url)), page.thread_id, next_ids), self.parse_topic,
                THREAD_PRIORITY, {"discourse_topic": {**topic, "pending": rest}, "discourse_requested": next_ids,
                                  "discourse_numbers": numbers, "listed_thread": listed, "thread_damaged": damaged,
                                  # a resumed topic's chunks start at a stored post that may have been edited
                                  REFETCH: topic["resumed"] and not spider.offline})

    @staticmethod
    def _pending(stream: list[int], got: set[int], resume_after: int | None) -> list[int]:
        """The stream's post ids still to fetch: those not in the first answer; on a resumed topic only
        from the last stored post on (it is fetched again: an edit of it shows up as a new version)."""
        if resume_after is not None:
            if resume_after in stream:
                stream = stream[stream.index(resume_after):]
            else:  # that post is gone: ids are given out in order, so newer posts have larger ones
                stream = [i for i in stream if i > resume_after]
        return [i for i in stream if i not in got]
