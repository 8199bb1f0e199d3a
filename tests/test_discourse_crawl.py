"""End to end on a synthetic Discourse forum served on 127.0.0.1, crawled through its JSON API.

A complete crawl by ``mx5oc`` stores exactly the forum's posts, as the API gives them, with the ideal
number of requests (one per topic plus one per further chunk of posts, never one per post); it rides
out 429 Retry-After, 503s, dropped connections and cut-off answers; the generic ``forum`` spider
detects Discourse from the home page's HTML and walks the same API; a login-only forum stops with
``site_blocking``; a re-crawl fetches only changed topics and only their new posts; a killed crawl
resumes where it stopped."""

from __future__ import annotations

import math
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from miata_spiders import errors
from miata_spiders.testing.forumgen import POST_SLOTS, ForumShape, SyntheticForum
from miata_spiders.testing.render_discourse import PRIVATE, DiscourseForumSite
from miata_spiders.testing.server import FaultRule, ForumServer
from pipelines.crawl_state import CrawlState
from pipelines.schema import normalise_text
from tests.support.crawl import FAST, ROOT, dataset_rows, edited_post_ids, scrapy_crawl

# Chunks of 4 posts (the server says so in each topic's chunk_size): most topics need posts.json calls.
CHUNK = 4
SMALL = ForumShape(seed=7, threads_per_forum=5, posts_per_thread=6, threads_per_page=4)
TOPIC = re.compile(r"^/t/(\d+)\.json$")
POSTS = re.compile(r"^/t/(\d+)/posts\.json\?")


def site_of(shape: ForumShape, **kwargs) -> DiscourseForumSite:
    return DiscourseForumSite(SyntheticForum(shape), chunk_size=CHUNK, **kwargs)


def listing_paths(site: DiscourseForumSite, first_pages_only: bool = False) -> list[str]:
    """robots.txt, the home page, the categories and every page of every category's topic list."""
    paths = ["/robots.txt", "/", "/categories.json?include_subcategories=true"]
    per = site.forum.shape.threads_per_page
    for f in site.forum.forums.values():
        path = site.category_list_path(f)
        pages = 1 if first_pages_only else max(1, math.ceil(len(site.forum.thread_ids(f)) / per))
        paths += [path] + [f"{path}?page={n}" for n in range(1, pages)]
    return paths


def topic_requests(server) -> Counter:
    """Per topic id: how many topic and posts.json answers the crawl got (status 200)."""
    counts = Counter()
    for r in server.requests:
        match = r.status == 200 and (TOPIC.match(r.path) or POSTS.match(r.path))
        if match:
            counts[match.group(1)] += 1
    return counts


def crawl(server, data, spider="mx5oc", **kwargs):
    return scrapy_crawl(spider, server.base_url + "/", data, **kwargs)


# --- a complete crawl ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clean_crawl(tmp_path_factory):
    server = ForumServer(site_of(SMALL))
    server.start()
    data = tmp_path_factory.mktemp("discourse-clean")
    try:
        result = crawl(server, data)
    finally:
        server.stop()
    return server, data, result


def test_scrapy_list_names_mx5oc():
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert "mx5oc" in result.stdout.split()


def test_complete_crawl_collects_exactly_the_ground_truth_once(clean_crawl):
    server, data, _ = clean_crawl
    ids = [r["post_id"] for r in dataset_rows(data, ["post_id", "site"])]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(server.ground_truth())
    assert {r["site"] for r in dataset_rows(data, ["site"])} == {"mx5oc"}


def test_every_post_is_stored_as_the_api_gives_it(clean_crawl):
    """Ids, topic, category path, post number, author and user id, exact dates, edits only for a new
    version, deletions, quotes with the quoted post's id, lightbox originals but no emoji, onebox links
    without their preview text, reply_to_post_number in parent_id."""
    server, data, _ = clean_crawl
    site, forum = server.site, server.site.forum
    for row in dataset_rows(data):
        thread_id, position = divmod(int(row["post_id"]), POST_SLOTS)
        post, thread = forum.post(thread_id, position), forum.thread(thread_id)
        want = site.expected_row(post)
        assert (row["thread_id"], row["thread_title"], row["forum_id"]) == (str(thread_id), thread.title, str(thread.forum_id))
        assert row["forum_path"] == site.expected_path(thread)
        assert row["thread_url"] == site.thread_url(thread)
        got = {**row, "body_text": row["body_text"] and normalise_text(row["body_text"]),
               "quotes": [{"author": q["author"], "post_id": q["post_id"]} for q in row["quotes"]]}
        assert {k: got[k] for k in want} == want, row["post_id"]
        assert "Performance parts for your Miata" not in (row["body_text"] or "")


def test_the_crawled_forum_had_every_edge_case(clean_crawl):
    server, data, _ = clean_crawl
    forum = server.site.forum
    posts = [forum.post(*divmod(int(r["post_id"]), POST_SLOTS)) for r in dataset_rows(data, ["post_id"])]
    for name, check in {"guest": lambda p: p.author is None, "deleted": lambda p: p.deleted,
                        "edited": lambda p: p.edited_at, "nested quote": lambda p: p.nested_quote_of,
                        "upload": lambda p: p.attachments, "onebox": lambda p: p.links,
                        "emoji": lambda p: p.post_id % 7 == 0,
                        "quote of a post in the previous chunk": lambda p: p.quote_of and (p.position - 1) % CHUNK == 0,
                        "topic of three chunks": lambda p: p.position > 2 * CHUNK}.items():
        assert any(check(p) for p in posts), f"no {name} post in the crawled forum"


def test_ideal_request_count_one_per_topic_plus_one_per_further_chunk(clean_crawl):
    server, _, _ = clean_crawl
    site = server.site
    paths = [r.path for r in server.requests]
    assert len(paths) == len(set(paths)), "a URL was requested twice"
    listings = [p for p in paths if not (TOPIC.match(p) or POSTS.match(p))]
    assert sorted(listings) == sorted(listing_paths(site))
    threads = [site.forum.thread(t) for t in site.forum.all_thread_ids()]
    assert topic_requests(server) == Counter({str(t.thread_id): 1 + math.ceil(max(0, t.post_count - CHUNK) / CHUNK)
                                              for t in threads})
    assert len(paths) == len(listing_paths(site)) + sum(site.requests_for_topic(t) for t in threads)
    # Each posts.json asks for one chunk of ids, in stream order.
    for path in paths:
        if POSTS.match(path):
            ids = [int(i) for i in parse_qs(urlsplit(path).query)["post_ids[]"]]
            assert 1 <= len(ids) <= CHUNK and ids == sorted(ids)


def test_reparse_of_the_cached_json_gives_the_same_posts(clean_crawl, tmp_path):
    """The HTTP cache holds the JSON answers; `miata reparse` reads them as the crawl did (forum paths
    from the cached categories, titles of later chunks from the topic's first answer). Only a quote of
    a post fetched in another chunk loses its post id (the crawl carried it from chunk to chunk)."""
    server, data, _ = clean_crawl
    result = subprocess.run([sys.executable, "-m", "miata_spiders.cli", "reparse", "mx5oc", "--out", str(tmp_path),
                             "--cache-dir", str(data / "httpcache")], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    columns = ["post_id", "content_hash", "thread_title", "thread_url", "forum_id", "forum_path", "position", "author",
               "posted_at", "edited_at", "body_text", "images", "links", "parent_id"]
    crawled = sorted(dataset_rows(data, columns), key=lambda r: r["post_id"])
    rebuilt = sorted(dataset_rows(tmp_path, columns), key=lambda r: r["post_id"])
    assert rebuilt == crawled and len(rebuilt) == len(server.ground_truth())


def test_offline_replay_from_the_http_cache_reproduces_the_dataset(clean_crawl, tmp_path):
    server, data, _ = clean_crawl  # the server is stopped: every answer must come from the cache
    scrapy_crawl("mx5oc", server.base_url + "/", tmp_path,
                 {"HTTPCACHE_DIR": str(data / "httpcache"), "HTTPCACHE_IGNORE_MISSING": "True"})
    columns = ["post_id", "content_hash", "forum_path", "thread_title", "quotes"]
    assert sorted(dataset_rows(tmp_path, columns), key=lambda r: r["post_id"]) == sorted(
        dataset_rows(data, columns), key=lambda r: r["post_id"])


def test_clean_crawl_is_polite(clean_crawl):
    server, _, _ = clean_crawl
    assert server.requests[0].path == "/robots.txt"
    assert not [r for r in server.requests if r.path.startswith(PRIVATE)]
    assert server.max_in_flight <= 2
    assert all("Scrapy" not in r.user_agent and r.user_agent.startswith("Mozilla/") for r in server.requests)


def test_generic_spider_detects_discourse_from_its_html_and_uses_the_api(tmp_path):
    site = site_of(SMALL)
    server = ForumServer(site)
    server.start()
    try:
        result = scrapy_crawl("forum", server.base_url, tmp_path, extra_args=["-a", f"url={site.index_url()}"])
    finally:
        server.stop()
    rows = dataset_rows(tmp_path, ["site", "post_id"])
    assert {r["site"] for r in rows} == {"forum-forum.mx5oc.co.uk"}
    assert sorted(r["post_id"] for r in rows) == sorted(server.ground_truth())
    assert "https://forum.mx5oc.co.uk/ runs discourse (family 3" in result.stderr
    assert not [r for r in server.requests if r.path.startswith("/t/") and not r.path.split("?")[0].endswith(".json")]


# --- faults --------------------------------------------------------------------------------------

def gaps(server, path):
    times = [r.time for r in server.requests if r.path == path]
    return [b - a for a, b in zip(times, times[1:])]


def test_crawl_rides_out_429s_503s_drops_and_cut_off_answers(tmp_path):
    site = site_of(SMALL)
    forum = site.forum
    categories_path = "/categories.json?include_subcategories=true"
    first_list = site.category_list_path(forum.forums[11])
    last_forum = [f for f in forum.forums.values() if not f.is_category][-1]
    burst_topic = f"/t/{forum.listing(last_forum)[0].thread_id}.json"  # late in the crawl, after the pauses
    faults = [
        FaultRule(f"^{re.escape(categories_path)}$", "429", times=1, retry_after="2"),
        FaultRule(f"^{re.escape(first_list)}$", "503", times=1, retry_after="date:1"),
        FaultRule(f"^{re.escape(burst_topic)}$", "503", times=3),  # no Retry-After: backoff must grow
        FaultRule(r"/posts\.json\?", "drop", times=2),
        FaultRule(r"^/t/\d+\.json$", "truncate", times=1, skip=2),  # a cut-off JSON body is fetched again
    ]
    server = ForumServer(site, faults=faults)
    server.start()
    try:
        result = crawl(server, tmp_path)
    finally:
        server.stop()
    ids = [r["post_id"] for r in dataset_rows(tmp_path, ["post_id"])]
    assert sorted(ids) == sorted(server.ground_truth()) and len(ids) == len(set(ids))
    assert gaps(server, categories_path)[0] >= 2.0, "Retry-After: 2 was not honoured"
    assert gaps(server, first_list)[0] >= 1.0, "Retry-After as an HTTP date was not honoured"
    burst = gaps(server, burst_topic)
    # Lower bounds only (a loaded machine can lengthen a wait, never shorten it): the third wait is at least
    # base * 2**2 less the jitter (MIATA_RETRY_BACKOFF_BASE 0.2 in tests, jitter 0.25), more than the first's floor.
    assert len(burst) == 3 and burst[2] >= 0.2 * 4 * 0.75 > 0.2 * 1.25, f"backoff did not grow: {burst}"
    assert len([r for r in server.requests if r.status == 0]) == 2
    assert [r.fault for r in server.requests if r.fault == "truncate"] == ["truncate"]
    assert "'miata/parse/unrecognised_thread': 1" in result.stderr
    assert server.max_in_flight <= 2


def test_login_only_forum_stops_with_site_blocking_and_fetches_no_topic(tmp_path):
    server = ForumServer(site_of(SMALL, login_required=True))
    server.start()
    try:
        result = crawl(server, tmp_path, check=False)
    finally:
        server.stop()
    assert result.returncode == errors.NOPERM == 77, result.stderr[-3000:]
    assert "requires login" in result.stderr and "not_logged_in" in result.stderr
    assert [r.path for r in server.requests] == ["/robots.txt", "/", "/categories.json?include_subcategories=true"]
    assert dataset_rows(tmp_path, ["post_id"]) == []


# --- incremental re-crawls -----------------------------------------------------------------------

GROWING = ForumShape(seed=11, threads_per_forum=8, posts_per_thread=7, threads_per_page=3)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    data = tmp_path_factory.mktemp("discourse-incremental")
    server = ForumServer(site_of(GROWING))
    server.start()
    crawl(server, data)
    first = list(server.requests)
    yield server, data, first
    server.stop()


def test_unchanged_forum_costs_only_its_topic_lists_first_pages(crawled):
    server, data, first = crawled
    rows_before = len(dataset_rows(data, ["post_id"]))
    server.requests.clear()
    result = crawl(server, data)
    assert sorted(r.path for r in server.requests) == sorted(listing_paths(server.site, first_pages_only=True))
    assert len(server.requests) <= 0.25 * len(first)
    assert len(dataset_rows(data, ["post_id"])) == rows_before
    assert "'miata/incremental/listing_walks_stopped'" in result.stderr


def test_growth_fetches_only_changed_topics_and_only_their_new_posts(crawled):
    server, data, first = crawled
    old_site = server.site
    server.site = new_site = site_of(replace(GROWING, generation=1))
    old, new = old_site.forum, new_site.forum
    server.requests.clear()
    crawl(server, data)
    rows = dataset_rows(data, ["post_id", "body_text"])
    versions = Counter(r["post_id"] for r in rows)
    assert set(versions) == {str(i) for i in new.all_post_ids()}
    # The grown topics' last old post was edited: it is fetched again (the chunk from it on) and stored
    # as a second version; nothing else is stored twice.
    edited = edited_post_ids(old_site, new_site)
    assert edited and {pid for pid, n in versions.items() if n > 1} == edited
    old_ids = set(old.all_thread_ids())
    grown = [t for t in old_ids if new.thread(t).post_count != old.thread(t).post_count]
    born = [t for t in new.all_thread_ids() if t not in old_ids]
    assert grown and born
    # A grown topic: its JSON (first chunk and stream), then posts.json only for ids from its last stored
    # post on that the first chunk did not hold. A new topic: as in a first crawl.
    expected = Counter()
    for t in grown:
        before, now = old.thread(t).post_count, new.thread(t).post_count
        rest = [p for p in range(max(before, CHUNK + 1), now + 1)]
        expected[str(t)] = 1 + math.ceil(len(rest) / CHUNK)
    for t in born:
        expected[str(t)] = new_site.requests_for_topic(new.thread(t))
    assert topic_requests(server) == expected
    for r in server.requests:
        if POSTS.match(r.path):
            topic = int(POSTS.match(r.path).group(1))
            asked = [int(i) % POST_SLOTS for i in parse_qs(urlsplit(r.path).query)["post_ids[]"]]
            assert topic in born or min(asked) >= old.thread(topic).post_count, (r.path, "an old post re-fetched")
    assert len(server.requests) < 0.5 * len(first)


# --- a killed crawl resumes ----------------------------------------------------------------------

PACED = [FaultRule(r".", "slow", times=10**9, delay=0.02)]  # every answer takes a moment: the kill lands mid-crawl


def test_crawl_killed_mid_topic_resumes_to_exactly_the_ground_truth(tmp_path):
    site = site_of(replace(GROWING, seed=5, threads_per_forum=6))
    server = ForumServer(site, faults=PACED)
    server.start()
    try:
        settings = {**FAST, "MIATA_DATA_DIR": str(tmp_path), "HTTPCACHE_DIR": str(tmp_path / "httpcache"),
                    "MIATA_PARQUET_BATCH_SIZE": "4"}
        cmd = [sys.executable, "-m", "scrapy", "crawl", "mx5oc", "-a", f"base_url={server.base_url}/"]
        for name, value in settings.items():
            cmd += ["-s", f"{name}={value}"]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(server.requests) < 40:
            assert proc.poll() is None, "the crawl finished before the kill point: " + proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "kill point never reached"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        state = CrawlState.for_site(tmp_path, "mx5oc")
        recorded = {t: state.thread(t) for t in map(str, site.forum.all_thread_ids()) if state.thread(t)}
        state.close()
        server.requests.clear()
        crawl(server, tmp_path)
    finally:
        server.stop()
    counts = Counter(r["post_id"] for r in dataset_rows(tmp_path, ["post_id"]))
    assert sorted(counts) == sorted(server.ground_truth())
    assert set(counts.values()) == {1}, "a post was stored twice"
    assert recorded, "the kill came before anything was recorded: the test proves nothing"
    # Topics recorded complete are not fetched again; unfinished ones ask only for posts from their
    # last stored one on.
    for r in server.requests:
        match = r.status == 200 and (TOPIC.match(r.path) or POSTS.match(r.path))
        if not match:
            continue
        known = recorded.get(match.group(1))
        assert known is None or not known.complete, f"finished topic {match.group(1)} fetched again: {r.path}"
        if known is not None and POSTS.match(r.path):
            asked = [int(i) for i in parse_qs(urlsplit(r.path).query)["post_ids[]"]]
            assert min(asked) >= known.last_page, f"topic resumed before its last stored post: {r.path}"
