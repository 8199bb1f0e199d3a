"""End to end on synthetic forums served on 127.0.0.1, one per vBulletin markup generation (see
tests/support/renderers.py): the crawl is complete, polite and survives a misbehaving server."""

import re
from datetime import timezone

import pytest

from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from tests.support.crawl import dataset_rows, scrapy_crawl
from tests.support.renderers import BY_SPIDER, RENDERER_IDS, RENDERERS

SMALL = ForumShape(seed=7, threads_per_forum=5, posts_per_thread=6, posts_per_page=5, threads_per_page=4)
# Paths robots.txt disallows on every renderer's site (member profiles, search, posting forms).
PRIVATE = re.compile(r"/members/|member\.php|search\.php|newreply\.php")


def serve(renderer, shape=SMALL, faults=None) -> ForumServer:
    server = ForumServer(renderer.site_factory(SyntheticForum(shape)), faults=faults)
    server.start()
    return server


@pytest.fixture(scope="module", params=RENDERERS, ids=RENDERER_IDS)
def clean_crawl(request, tmp_path_factory):
    renderer = request.param
    server = serve(renderer)
    data = tmp_path_factory.mktemp(f"clean-{renderer}")
    try:
        result = scrapy_crawl(renderer.spider, server.base_url, data)
    finally:
        server.stop()
    return renderer, server, data, result


def test_complete_crawl_collects_exactly_the_ground_truth_once(clean_crawl):
    _, server, data, _ = clean_crawl
    rows = dataset_rows(data)
    ids = [r["post_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(server.ground_truth())


def test_every_post_is_attributed_to_its_thread_forum_position_and_time(clean_crawl):
    _, server, data, _ = clean_crawl
    forum = server.site.forum
    for row in dataset_rows(data):
        thread_id, position = divmod(int(row["post_id"]), 100_000)
        post, thread = forum.post(thread_id, position), forum.thread(thread_id)
        assert row["thread_id"] == str(thread_id) and row["position"] == position
        assert row["thread_title"] == thread.title
        assert row["forum_id"] == str(thread.forum_id)
        assert row["forum_path"] == [f.title for f in forum.forum_path(thread.forum_id)]
        assert row["author"] == (post.author or post.guest_name)  # a guest: the name the page prints
        assert row["is_deleted"] == post.deleted
        assert row["posted_at"] == post.posted_at.astimezone(timezone.utc), row["post_id"]


def test_clean_crawl_is_polite(clean_crawl):
    renderer, server, _, result = clean_crawl
    paths = [r.path for r in server.requests]
    assert paths[0] == "/robots.txt"
    assert not [p for p in paths if PRIVATE.search(p)]
    pages = [renderer.page_key(p) for p in paths]
    assert len(pages) == len(set(pages)), "a page was requested twice"
    assert not [p for p in paths if re.search(r"[?&]s=", p)], "a session id was sent back to the forum"
    assert server.max_in_flight <= 2  # CONCURRENT_REQUESTS_PER_DOMAIN
    assert all("Scrapy" not in r.user_agent and r.user_agent.startswith("Mozilla/") for r in server.requests)


def gaps(server, path):
    times = [r.time for r in server.requests if r.path == path]
    return [b - a for a, b in zip(times, times[1:])]


def some_paths(renderer, forum):
    """Request paths of pages the fault tests aim at: two forums, two threads, a thread's page 2."""
    site = renderer.site_factory(forum)
    first, other = forum.forums[11], forum.forums[14]
    multi_page = next(t for t in forum.listing(first) + forum.listing(other) if forum.page_count(t.thread_id) > 1)
    return {
        "forum": renderer.path(site.forum_url(first)),
        "other_forum": renderer.path(site.forum_url(other)),
        "thread": renderer.path(site.thread_url(forum.listing(first)[1])),
        "other_thread": renderer.path(site.thread_url(forum.listing(other)[0])),
        "page2": renderer.path(site.thread_url(multi_page, 2)),
    }


@pytest.mark.parametrize("renderer", RENDERERS, ids=RENDERER_IDS)
def test_crawl_rides_out_429s_503_bursts_timeouts_and_drops(tmp_path, renderer):
    paths = some_paths(renderer, SyntheticForum(SMALL))
    faults = [
        FaultRule(f"^{re.escape(renderer.index_path)}$", "429", times=1, retry_after="2"),
        FaultRule(f"^{re.escape(paths['forum'])}$", "503", times=1, retry_after="date:1"),
        FaultRule(f"^{re.escape(paths['thread'])}$", "503", times=3),  # a burst without Retry-After: backoff must grow
        FaultRule(f"^{re.escape(paths['other_thread'])}$", "slow", times=1, delay=3),
        FaultRule(f"^{re.escape(paths['page2'])}", "drop", times=2),
    ]
    server = serve(renderer, faults=faults)
    try:
        result = scrapy_crawl(renderer.spider, server.base_url, tmp_path, {"DOWNLOAD_TIMEOUT": "1.5"})
    finally:
        server.stop()
    ids = sorted(r["post_id"] for r in dataset_rows(tmp_path, ["post_id"]))
    assert ids == sorted(server.ground_truth())
    index_times = [r.time for r in server.requests if r.path == renderer.index_path]
    assert index_times[1] - index_times[0] >= 2.0, "Retry-After: 2 was not honoured"
    forum_times = [r.time for r in server.requests if r.path == paths["forum"]]
    assert forum_times[1] - forum_times[0] >= 1.0, "Retry-After as an HTTP date was not honoured"
    burst = gaps(server, paths["thread"])
    # Backoff grows: retry n waits at least base * 2**(n-1) * (1 - jitter) (FAST: base 0.2 s, jitter 0.25).
    # Lower bounds only: a loaded machine can make a wait longer, never shorter.
    assert len(burst) == 3 and all(gap >= 0.2 * 2 ** n * 0.75 for n, gap in enumerate(burst)), \
        f"backoff did not grow: {burst}"
    assert [r.status for r in server.requests if r.path.startswith(paths["page2"])][:3] == [0, 0, 200]
    assert server.max_in_flight <= 2
    assert not [r for r in server.requests if PRIVATE.search(r.path)]
    assert "'retry/count'" in result.stderr


@pytest.mark.parametrize("renderer", RENDERERS, ids=RENDERER_IDS)
def test_truncated_and_maintenance_pages_are_reported_retried_and_recovered(tmp_path, renderer):
    paths = some_paths(renderer, SyntheticForum(SMALL))
    faults = [
        FaultRule(f"^{re.escape(paths['other_thread'])}$", "truncate", times=1),
        FaultRule(f"^{re.escape(paths['other_forum'])}$", "maintenance", times=1),
    ]
    server = serve(renderer, faults=faults)
    try:
        result = scrapy_crawl(renderer.spider, server.base_url, tmp_path)
    finally:
        server.stop()
    assert sorted(r["post_id"] for r in dataset_rows(tmp_path, ["post_id"])) == sorted(server.ground_truth())
    assert f"truncated thread page at {server.base_url}{paths['other_thread']}" in result.stderr
    assert f"unrecognised listing page at {server.base_url}{paths['other_forum']}" in result.stderr
    assert "'miata/parse/truncated_thread': 1" in result.stderr
    assert "'miata/parse/unrecognised_listing': 1" in result.stderr


def test_a_page_that_never_recovers_is_given_up_loudly_not_silently(tmp_path):
    # The retry limit is the spider's, not an engine's: one renderer shows it.
    renderer = BY_SPIDER["miataturbo"]
    forum = SyntheticForum(SMALL)
    thread_obj = forum.listing(forum.forums[14])[0]
    thread = renderer.path(renderer.site_factory(forum).thread_url(thread_obj))
    server = serve(renderer, faults=[FaultRule(f"^{re.escape(thread)}$", "maintenance", times=100)])
    try:
        result = scrapy_crawl(renderer.spider, server.base_url, tmp_path, check=False)
    finally:
        server.stop()
    # The rest is collected, but the run lost a page: it must not exit 0 as if all was well.
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(
        "scrapy crawl miataturbo: parse_errors: pages could not be parsed; run `miata parse` on a saved page")
    missing = set(server.ground_truth()) - {r["post_id"] for r in dataset_rows(tmp_path, ["post_id"])}
    assert missing == {str(p.post_id) for p in forum.posts(thread_obj.thread_id, 1)}
    assert f"gave up on thread page {server.base_url}{thread}" in result.stderr
    assert "'miata/parse/gave_up': 1" in result.stderr


def test_the_servers_in_flight_count_forgets_a_request_whose_client_hung_up(monkeypatch):
    # The accounting the politeness assertions rely on: a client that timed out on a slow answer and
    # sent its next request at once must not be counted twice, however late the slow thread wakes.
    import socket
    import time

    from miata_spiders.testing import server as server_module

    def wakes_late(handler, seconds):  # a loaded machine: the holding thread notices the hang-up late
        while handler.connection.recv(1, socket.MSG_PEEK) != b"":
            pass
        time.sleep(1.0)
        return False

    monkeypatch.setattr(server_module, "_wait_unless_client_leaves", wakes_late)
    renderer = BY_SPIDER["miataturbo"]
    server = serve(renderer, faults=[FaultRule(r"^/slow$", "slow", times=1, delay=30)])
    try:
        port = int(server.base_url.rsplit(":", 1)[1])
        held = socket.create_connection(("127.0.0.1", port))
        held.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        while server.in_flight < 1:
            pass
        held.close()  # gave up, as Scrapy does at DOWNLOAD_TIMEOUT
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as again:
                again.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert again.recv(12).startswith(b"HTTP/1.1 200")
        assert server.max_in_flight == 1
    finally:
        server.stop()
