"""The Reddit collector end to end: real PRAW and prawcore against the fake Reddit API on 127.0.0.1."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from miata_spiders.items import PostItem
from pipelines.dataset import open_posts_dataset, site_dir
from pipelines.parquet import ParquetBatchWriter, item_to_row
from pipelines.reddit.backoff import Backoff
from pipelines.reddit.cli import add_reddit_parser, main
from pipelines.reddit.client import connect
from pipelines.reddit.collector import RedditCollector
from pipelines.schema import POST_SCHEMA
from tests.support.fake_reddit import NOW, Comment, FakeReddit, Subreddit, Submission, point_praw_at, sample_subreddits

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def start_fake(monkeypatch, tmp_path):
    """start_fake(**options) -> a running FakeReddit with the sample data, PRAW pointed at it."""
    servers = []

    def start(subreddits=None, *, with_credentials=True, **options) -> FakeReddit:
        fake = FakeReddit(sample_subreddits() if subreddits is None else subreddits, **options).__enter__()
        servers.append(fake)
        point_praw_at(fake, monkeypatch, tmp_path, with_credentials=with_credentials)
        return fake

    yield start
    for fake in servers:
        fake.__exit__(None, None, None)
        assert not fake.errors, "the fake Reddit API itself failed"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


def collect(data_dir: Path, *args: str) -> int:
    return main(["--praw-site", "fake_reddit", "--data-dir", str(data_dir), "--no-search", "--no-progress", *args])


def reddit_table(data_dir: Path, **kwargs):
    return open_posts_dataset(data_dir).to_table(filter=ds.field("site") == "reddit", **kwargs)


def rows(data_dir: Path) -> dict[str, dict]:
    """Newest version of every stored Reddit post, by post_id."""
    table = reddit_table(data_dir)
    newest: dict[str, dict] = {}
    for row in sorted(table.to_pylist(), key=lambda r: r["scraped_at"]):
        newest[row["post_id"]] = row
    return newest


def version_count(data_dir: Path, post_id: str) -> int:
    return reddit_table(data_dir, columns=["post_id"]).column("post_id").to_pylist().count(post_id)


# Fake-server options that make every kind of "more comments" appear in r/Miata's first thread:
# the deep chain hits "continue this thread" twice, c001's second reply and two top-level comments
# are folded into "load more comments".
FOLDED = {"top_level_limit": 2, "replies_limit": 1, "max_depth": 2}
MIATA_THREAD = {"t3_m1a001", "t1_c0d0", "t1_c0d1", "t1_c0d2", "t1_c0d3", "t1_c0d4", "t1_c0d5", "t1_c0d6",
                "t1_c001", "t1_c002", "t1_c003", "t1_c004", "t1_c005"}


def test_collects_submissions_and_whole_comment_trees_in_the_shared_schema(start_fake, data_dir, capsys):
    start_fake(**FOLDED)

    assert collect(data_dir) == 0

    parts = sorted(site_dir(data_dir, "reddit").glob("*.parquet"))
    assert parts and all(set(pq.ParquetFile(part).schema_arrow.names) <= set(POST_SCHEMA.names) for part in parts)
    assert reddit_table(data_dir).schema.equals(POST_SCHEMA)
    stored = rows(data_dir)
    assert set(stored) == MIATA_THREAD | {"t3_m1a002", "t1_c010", "t3_m1a003", "t3_x5a001", "t1_c100"}
    first = stored["t3_m1a001"]
    assert first | {"scraped_at": None, "content_hash": None, "body_html": None} == {
        "source": "reddit",
        "site": "reddit",
        "post_id": "t3_m1a001",
        "thread_id": "t3_m1a001",
        "thread_title": "BEGi turbo on a 99: boost creep above 6k",
        "thread_url": "https://www.reddit.com/r/Miata/comments/m1a001/begi_turbo_on_a_99_boost_creep_above_6k/",
        "forum_id": stored["t3_m1a001"]["forum_id"],
        "forum_path": ["r/Miata"],
        "position": 1,
        "page": None,
        "author": "turbo_tom",
        "author_id": first["author_id"],
        "posted_at": first["posted_at"],
        "edited_at": None,
        "edited_by": None,
        "is_deleted": False,
        "body_text": "Boost creeps to 14 psi by redline. Log: https://i.imgur.com/boostlog.png\n\nAny ideas?",
        "body_html": None,
        "quotes": [],
        "images": ["https://i.imgur.com/boostlog.png"],
        "links": [],
        "signature": None,
        "url": "https://www.reddit.com/r/Miata/comments/m1a001/begi_turbo_on_a_99_boost_creep_above_6k/",
        "content_hash": None,
        "scraped_at": None,
        "subreddit": "Miata",
        "link_id": None,
        "parent_id": None,
        "depth": None,
        "score": 120,
        "num_comments": 12,
        "is_submitter": None,
        "distinguished": None,
        "author_flair_text": None,
        "link_flair_text": "Tech",
        "permalink": "/r/Miata/comments/m1a001/begi_turbo_on_a_99_boost_creep_above_6k/",
        "domain": "self.Miata",
        "link_url": first["url"],
        "over_18": False,
        "author_deleted": False,
        "removed_by_category": None,
    }
    assert first["forum_id"].startswith("t5_") and first["author_id"].startswith("t2_")
    assert first["posted_at"].timestamp() == NOW - 3 * 86400

    reply = stored["t1_c001"]
    assert reply["parent_id"] == reply["link_id"] == "t3_m1a001" and reply["depth"] == 0
    assert reply["body_text"] == "Port the wastegate, it is too small. See this writeup."
    assert reply["quotes"] == [{"author": None, "post_id": None, "text": "Boost creeps to 14 psi"}]
    assert reply["links"] == ["https://www.miataturbo.net/wastegate"]
    assert reply["author_flair_text"] == "99 BEGi" and reply["score"] == 45
    assert reply["url"] == "https://www.reddit.com/r/Miata/comments/m1a001/begi_turbo_on_a_99_boost_creep_above_6k/c001/"
    answer = stored["t1_c002"]
    assert answer["is_submitter"] is True and answer["edited_at"] is not None and answer["edited_by"] == "turbo_tom"
    assert stored["t1_c005"]["distinguished"] == "moderator"

    # Positions follow the order the comments were written in, after the submission's own post.
    thread = sorted((r for r in stored.values() if r["thread_id"] == "t3_m1a001"), key=lambda r: r["position"])
    assert [r["position"] for r in thread] == list(range(1, 14))
    assert [r["posted_at"] for r in thread[1:]] == sorted(r["posted_at"] for r in thread[1:])

    out = capsys.readouterr().out
    assert "r/Miata: 3 submissions listed, 2 comment trees fetched (13 comments)" in out
    assert "r/mx5: 1 submissions listed" in out


def test_one_query_spans_forum_and_reddit_rows(start_fake, data_dir):
    forum_post = PostItem(source="forum", site="miataturbo", post_id="1234567", thread_id="98765",
                          body_text="Port the wastegate.", posted_at=datetime(2014, 3, 2, tzinfo=timezone.utc))
    writer = ParquetBatchWriter(data_dir, "miataturbo", batch_size=10)
    writer.add(item_to_row(forum_post, default_site="miataturbo"))
    writer.close()
    # A part written before the Reddit columns existed: readers fill them with nulls.
    older = pa.Table.from_pylist([item_to_row(forum_post, "miataturbo") | {"post_id": "1234568"}], schema=POST_SCHEMA)
    pq.write_table(older.select(POST_SCHEMA.names[: POST_SCHEMA.get_field_index("subreddit")]).drop_columns(["site"]),
                   site_dir(data_dir, "miataturbo") / "part-older.parquet")
    start_fake()

    assert collect(data_dir, "-r", "mx5") == 0

    assert duckdb.sql(
        f"SELECT site, source, count(*), count(subreddit) FROM read_parquet('{data_dir}/posts/*/*.parquet', "
        "hive_partitioning=true, union_by_name=true) GROUP BY ALL ORDER BY site"
    ).fetchall() == [("miataturbo", "forum", 2, 0), ("reddit", "reddit", 2, 2)]
    table = open_posts_dataset(data_dir).to_table()
    assert table.schema.equals(POST_SCHEMA) and table.num_rows == 4


def test_listings_are_read_page_by_page_and_combined_past_each_listings_cap(start_fake, data_dir):
    # One submission a page, and no listing goes past two: "new" alone misses the oldest post,
    # the top of all time reaches it.
    fake = start_fake(page_size=1, listing_cap=2)

    assert collect(data_dir, "-r", "Miata") == 0

    assert {"t3_m1a001", "t3_m1a002", "t3_m1a003"} <= set(rows(data_dir))
    pages = [request.params.get("after") for request in fake.requests_to("/r/Miata/new")]
    assert pages == [None, "t3_m1a001"]
    top_all = [r.params.get("after") for r in fake.requests_to("/r/Miata/top") if r.params.get("t") == "all"]
    assert top_all == [None, "t3_m1a002"]


def test_keyword_searches_reach_submissions_the_listings_do_not(start_fake, data_dir):
    # No listing goes past two submissions: the listings alone miss old002, the searches reach it.
    old = [Submission(f"old{n:03d}", f"Old thread {n}", selftext="hardtop fitment", created_utc=NOW - (500 + n) * 86400, score=1 + n)
           for n in range(3)]
    fake = start_fake([Subreddit("Miata", submissions=[*sample_subreddits()[0].submissions, *old])], listing_cap=2)
    assert collect(data_dir, "-r", "Miata") == 0
    assert "t3_old002" not in rows(data_dir)

    assert main(["--praw-site", "fake_reddit", "--data-dir", str(data_dir), "--no-progress", "-r", "Miata",
                 "--search", "hardtop"]) == 0

    assert {"t3_old000", "t3_old001", "t3_old002"} <= set(rows(data_dir))
    searches = fake.requests_to("/r/Miata/search")
    assert {r.params["sort"] for r in searches} == {"new", "top", "comments", "relevance"}
    assert all(r.params["q"] == "hardtop" and r.params["restrict_sr"] == "True" for r in searches)


def test_new_comments_on_a_submission_no_listing_reaches_are_found(start_fake, data_dir):
    # Every listing stops after one submission: the old thread is out of reach until it gets a comment.
    old = Submission("old001", "Rust repair on a 1990", created_utc=NOW - 600 * 86400, score=250,
                     comments=[Comment("k001", "Check the rockers too.", created_utc=NOW - 599 * 86400)])
    miata = Subreddit("Miata", submissions=[*sample_subreddits()[0].submissions, old])
    fake = start_fake([miata], listing_cap=1)
    assert collect(data_dir, "-r", "Miata") == 0
    assert "t3_old001" not in rows(data_dir)

    old.comments.append(Comment("k002", "Mine rusted there as well.", created_utc=NOW - 60))
    assert collect(data_dir, "-r", "Miata") == 0

    stored = rows(data_dir)
    assert {"t3_old001", "t1_k001", "t1_k002"} <= set(stored) and stored["t1_k002"]["position"] == 3
    assert fake.requests_to("/api/info")[-1].params["id"] == "t3_old001"


def test_deep_trees_resolve_every_more_comments_and_continue_this_thread(start_fake, data_dir):
    fake = start_fake(**FOLDED)

    assert collect(data_dir, "-r", "Miata") == 0

    stored = rows(data_dir)
    assert MIATA_THREAD <= set(stored)
    chain = [stored[f"t1_c0d{level}"] for level in range(7)]
    assert [c["depth"] for c in chain] == list(range(7))
    assert [c["parent_id"] for c in chain] == ["t3_m1a001"] + [f"t1_c0d{level}" for level in range(6)]
    assert stored["t1_c003"]["parent_id"] == "t1_c001" and stored["t1_c003"]["depth"] == 1
    assert [r.path for r in fake.requests_to("/comments/m1a001/_/")] == ["/comments/m1a001/_/c0d2", "/comments/m1a001/_/c0d4"]
    asked = sorted(r.params["children"] for r in fake.requests_to("/api/morechildren"))
    assert asked == ["c003", "c004,c005"]


def test_deleted_and_removed_bodies_and_authors_are_null_with_flags(start_fake, data_dir):
    start_fake(**FOLDED)
    assert collect(data_dir, "-r", "Miata") == 0
    stored = rows(data_dir)

    deleted = stored["t1_c003"]
    assert (deleted["author"], deleted["author_deleted"]) == (None, True)
    assert (deleted["body_text"], deleted["body_html"], deleted["is_deleted"]) == (None, None, True)
    assert deleted["removed_by_category"] == "deleted"
    removed = stored["t1_c004"]
    assert (removed["author"], removed["author_deleted"], removed["is_deleted"]) == ("spammer", False, True)
    assert (removed["body_text"], removed["removed_by_category"]) == (None, "removed")
    gone_author = stored["t3_m1a003"]
    assert (gone_author["author"], gone_author["author_id"], gone_author["author_deleted"]) == (None, None, True)
    assert not any("[deleted]" in (r["author"] or "") + (r["body_text"] or "") for r in stored.values())
    assert not any("[removed]" in (r["body_text"] or "") for r in stored.values())


def test_gallery_and_link_posts_keep_their_media(start_fake, data_dir):
    start_fake()
    assert collect(data_dir, "-r", "Miata") == 0
    stored = rows(data_dir)

    gallery = stored["t3_m1a002"]
    assert gallery["images"] == ["https://i.redd.it/gal1abc.jpg", "https://i.redd.it/gal2def.png"]
    assert (gallery["domain"], gallery["link_url"]) == ("reddit.com", "https://www.reddit.com/gallery/m1a002")
    assert gallery["body_text"] is None and gallery["links"] == []
    link = stored["t3_m1a003"]
    assert link["links"] == ["https://www.flyinmiata.com/blog/brake-pads/"]
    assert link["body_text"] == link["link_url"] == "https://www.flyinmiata.com/blog/brake-pads/"
    assert link["domain"] == "www.flyinmiata.com"


def test_a_429_is_waited_out_and_the_request_repeated(start_fake, data_dir, caplog):
    fake = start_fake(**FOLDED)
    fake.fail("/r/Miata/new", 429, headers={"Retry-After": "7"}, body={"message": "Too Many Requests", "error": 429})
    fake.fail("/comments/m1a001/", 429, body={"message": "Too Many Requests", "error": 429})  # x-ratelimit-reset: 300
    fake.fail("/api/morechildren/", 429, times=2, headers={"Retry-After": "1"})
    waits: list[float] = []
    collector = RedditCollector(
        connect("fake_reddit"), data_dir, batch_size=100, backoff=Backoff(base=2.0, sleep=waits.append), progress=False
    )

    reports = collector.run(["Miata"])

    assert reports[0].ok and MIATA_THREAD <= set(rows(data_dir))
    assert waits == [7.0, 300.0, 1.0, 1.0]
    statuses = [r.status for r in fake.requests_to("/r/Miata/new")]
    assert statuses[:2] == [429, 200]
    assert "429 Too Many Requests while listing r/Miata new; waiting 7 s before retry 1 of 5" in caplog.text
    assert "waiting 300 s" in caplog.text


def test_a_429_that_does_not_go_away_leaves_that_part_for_the_next_run(start_fake, data_dir):
    fake = start_fake()
    fake.fail("/comments/x5a001/", 429, times=3, headers={"Retry-After": "1"})
    collector = RedditCollector(
        connect("fake_reddit"), data_dir, batch_size=100, backoff=Backoff(retries=2, sleep=lambda s: None), progress=False
    )

    report = collector.run(["mx5"])[0]

    assert report.failed_submissions == ["t3_x5a001"] and not report.ok
    assert set(rows(data_dir)) == {"t3_x5a001"}  # the submission itself, from the listing
    assert collector.run(["mx5"])[0].trees_fetched == 1  # tried again, now with its comments
    assert set(rows(data_dir)) == {"t3_x5a001", "t1_c100"}


def test_413_too_large_asks_for_fewer_hidden_comments_at_a_time(start_fake, data_dir, caplog):
    fake = start_fake(top_level_limit=1, replies_limit=1, max_depth=10, morechildren_max=2)

    assert collect(data_dir, "-r", "Miata") == 0

    assert MIATA_THREAD <= set(rows(data_dir))
    requests = fake.requests_to("/api/morechildren")
    assert requests[0].status == 413
    assert all(len(r.params["children"].split(",")) <= 2 for r in requests if r.status == 200)
    assert "413 Too Large" in caplog.text


def test_413_even_for_one_comment_keeps_the_rest_and_retries_next_run(start_fake, data_dir):
    fake = start_fake(top_level_limit=1, replies_limit=10, max_depth=10, morechildren_max=0)

    assert collect(data_dir, "-r", "Miata") == 1

    stored = rows(data_dir)
    assert {"t3_m1a001", "t1_c0d0", "t1_c0d6"} <= set(stored) and "t1_c001" not in stored
    fake.morechildren_max = None
    assert collect(data_dir, "-r", "Miata") == 0
    assert MIATA_THREAD <= set(rows(data_dir))


def test_unreadable_subreddits_are_reported_and_the_others_collected(start_fake, data_dir, capsys):
    start_fake([*sample_subreddits(), Subreddit("oldmiata", status="banned"), Subreddit("quarantinedmx5", status="quarantined")])

    status = collect(data_dir, "-r", "secretmiata", "-r", "mx5", "-r", "nosuchsub", "-r", "oldmiata", "-r", "quarantinedmx5")

    assert status == 1
    out, err = capsys.readouterr()
    assert "r/secretmiata: skipped, the subreddit is private (HTTP 403)" in out
    assert "r/nosuchsub: skipped, the subreddit does not exist (HTTP 404)" in out
    assert "r/oldmiata: skipped, the subreddit is banned (HTTP 404)" in out
    assert "r/quarantinedmx5: skipped, the subreddit is quarantined" in out
    assert "r/secretmiata is private (HTTP 403); skipping it" in err
    assert set(rows(data_dir)) == {"t3_x5a001", "t1_c100"}


def test_progress_bars_and_subreddit_names_with_r_slash(start_fake, data_dir, capsys):
    start_fake()
    assert main(["--praw-site", "fake_reddit", "--data-dir", str(data_dir), "--no-search", "-r", "/r/mx5/"]) == 0
    assert "r/mx5: 1 submissions listed" in capsys.readouterr().out

    collector = RedditCollector(connect("fake_reddit"), data_dir / "fresh", batch_size=10, progress=True)
    assert collector.run(["r/mx5"])[0].ok

    err = capsys.readouterr().err
    assert "r/mx5 listings: 100%" in err and "r/mx5 submissions: 100%" in err and "comments=1" in err


def test_missing_credentials_are_one_line_and_exit_2(start_fake, data_dir, capsys):
    start_fake(with_credentials=False)

    assert collect(data_dir) == 2

    out, err = capsys.readouterr()
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert err.startswith("python -m pipelines.reddit: Reddit API credentials missing: client_id is not set")
    assert "[fake_reddit] section of praw.ini or the praw_client_id environment variable" in err
    assert not (data_dir / "posts").exists()


def test_an_unknown_praw_ini_section_is_one_line_and_exit_2(start_fake, data_dir, capsys):
    start_fake()
    assert main(["--praw-site", "no_such_section", "--data-dir", str(data_dir), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m pipelines.reddit: no [no_such_section] section in praw.ini") and err.count("\n") == 1


def test_credentials_come_from_praw_environment_variables(start_fake, data_dir, monkeypatch):
    fake = start_fake(with_credentials=False)
    monkeypatch.setenv("praw_client_id", fake.client_id)
    monkeypatch.setenv("praw_client_secret", fake.client_secret)
    monkeypatch.setenv("praw_user_agent", "miata-spiders tests via environment")

    assert collect(data_dir, "-r", "mx5") == 0
    assert set(rows(data_dir)) == {"t3_x5a001", "t1_c100"}


def test_rejected_credentials_are_one_line_and_exit_2(start_fake, data_dir, monkeypatch, capsys):
    start_fake()
    monkeypatch.setenv("praw_client_secret", "not-the-right-secret-5e6f")  # beats praw.ini, as in PRAW

    assert collect(data_dir) == 2

    out, err = capsys.readouterr()
    assert err.startswith("python -m pipelines.reddit: Reddit rejected the API credentials (HTTP 401 from the token endpoint)")
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert "not-the-right-secret-5e6f" not in out + err


def test_credentials_are_never_printed_or_logged(start_fake, data_dir, monkeypatch, capsys, caplog):
    fake = start_fake(**FOLDED)
    fake.fail("/r/mx5/about", 400)  # an error message on the way

    assert collect(data_dir, "--log-level", "DEBUG") == 1
    monkeypatch.setenv("praw_client_secret", "not-the-right-secret-5e6f")
    assert collect(data_dir, "--log-level", "DEBUG") == 2

    out, err = capsys.readouterr()
    assert "Fetching: GET" in err and "r/mx5: skipped, the subreddit cannot be read" in out  # DEBUG did log
    for text in (out, err, caplog.text):
        assert fake.client_secret not in text and fake.client_id not in text
        assert "not-the-right-secret-5e6f" not in text and "fake-token-" not in text


def test_incremental_rerun_fetches_only_threads_with_new_comments(start_fake, data_dir, capsys):
    fake = start_fake(**FOLDED)
    assert collect(data_dir) == 0
    first_parts = set(site_dir(data_dir, "reddit").glob("*.parquet"))
    comment_pages = len(fake.requests_to("/comments/"))

    # Nothing changed: no comment tree is fetched and nothing is written.
    assert collect(data_dir) == 0
    assert len(fake.requests_to("/comments/")) == comment_pages
    assert set(site_dir(data_dir, "reddit").glob("*.parquet")) == first_parts
    assert "0 rows written" in capsys.readouterr().out

    # A new reply and an edit in one thread; r/mx5's thread gets an edit but no new comment.
    miata = fake.subreddits["miata"].submissions[0]
    old_reply = miata.comments[1].replies[0]
    old_reply.body, old_reply.edited = "Did that, creep is gone. Thanks! Edit: new gate is a Tial 38mm.", NOW
    miata.comments[1].replies.append(Comment("c006", "Which gate did you get?", author="na_driver", created_utc=NOW - 600))
    mx5_thread = fake.subreddits["mx5"].submissions[0]
    mx5_thread.comments[0].body = "ND1, cheaper."

    assert collect(data_dir) == 0

    comment_pages_now = [r.path for r in fake.requests_to("/comments/")][comment_pages:]
    assert comment_pages_now[0] == "/comments/m1a001/" and "/comments/x5a001/" not in comment_pages_now
    stored = rows(data_dir)
    assert stored["t1_c006"]["position"] == 14 and stored["t1_c006"]["parent_id"] == "t1_c001"
    assert stored["t1_c002"]["body_text"].endswith("Tial 38mm.")
    assert version_count(data_dir, "t1_c002") == 2 and version_count(data_dir, "t1_c001") == 1
    assert stored["t1_c100"]["body_text"] == "ND2, the extra revs are worth it."  # not re-fetched: count unchanged
    out = capsys.readouterr().out
    assert "r/Miata: 3 submissions listed, 1 comment trees fetched (13 comments), 2 without new comments; " in out
    assert "2 rows written (1 new, 1 new versions), 14 duplicates dropped" in out
    assert "r/mx5: 1 submissions listed, 0 comment trees fetched (0 comments), 1 without new comments; 0 rows written" in out


def test_a_submission_edit_is_a_new_version_without_fetching_its_comments(start_fake, data_dir):
    fake = start_fake()
    assert collect(data_dir, "-r", "mx5") == 0
    fake.subreddits["mx5"].submissions[0].selftext = "Which one would you buy? Budget is 25k."
    pages = len(fake.requests_to("/comments/"))

    assert collect(data_dir, "-r", "mx5") == 0

    assert len(fake.requests_to("/comments/")) == pages
    assert version_count(data_dir, "t3_x5a001") == 2
    assert rows(data_dir)["t3_x5a001"]["body_text"] == "Which one would you buy? Budget is 25k."


def test_reddit_subcommand_help(capsys):
    parser = argparse.ArgumentParser(prog="miata")
    add_reddit_parser(parser.add_subparsers(dest="command", required=True))

    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["reddit", "--help"])

    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: miata reddit")
    for option in ("--subreddit", "--praw-site", "--data-dir", "--search", "--no-search", "--limit", "--no-progress"):
        assert option in help_text
    args = parser.parse_args(["reddit", "-r", "Miata"])
    assert args.func.__name__ == "cmd_reddit" and args.subreddits == ["Miata"]


def test_python_dash_m_entry_point_help():
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.reddit", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m pipelines.reddit")
