"""`miata parse --site forum` on the two real Discourse answers in ../shared/reference-html/discourse: the
topic JSON of try.discourse.org (2013 API shape) and a meta.discourse.org topic page as HTML (its
``#data-preloaded`` store is damaged in that file, so its posts come from the ``<noscript>`` crawler
view). Expected values were read from the raw files. Skips with the reason when ../shared is absent."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

from tests.support.crawl import ROOT
from tests.support.reference import REFERENCE, needs_reference

pytestmark = needs_reference

TRY_URL = "https://try.discourse.org/t/this-site-is-a-sandbox-it-is-reset-every-day/57.json"
META_URL = "https://meta.discourse.org/t/congratulations-most-stars-in-2013-github-octoverse/12483"


def miata_parse(name: str, url: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "miata_spiders.cli", "parse", "--site", "forum", "--url", url,
                             str(REFERENCE / "discourse" / name)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def utc(*parts) -> str:
    return datetime(*parts, tzinfo=timezone.utc).isoformat()


def test_topic_json_gives_every_post_with_ids_authors_exact_dates_and_positions():
    posts = miata_parse("try-discourse-t-57.json", TRY_URL)
    assert [p["kind"] for p in posts] == ["post"] * 4
    got = [(p["post_id"], p["position"], p["author"], p["author_id"], p["posted_at"], p["edited_at"], p["parent_id"])
           for p in posts]
    assert got == [
        # version 5: an edit, dated by updated_at; the other posts are at version 1 (no edit)
        ("83", 1, "samsaffron", "15", "2013-02-04T20:26:26.278000+00:00", "2013-04-30T18:33:37.273000+00:00", None),
        ("84", 2, "samsaffron", "15", "2013-02-04T20:26:32.362000+00:00", None, None),
        ("86", 3, "stienman", "23", "2013-02-04T20:29:00.843000+00:00", None, None),
        # post numbers 4-13 were deleted: the gap stays; reply_to_post_number 1 is kept as parent_id
        ("226", 14, "splattne", "50", "2013-02-05T17:14:17.364000+00:00", None, "1"),
    ]
    assert {(p["thread_id"], p["thread_title"], p["forum_id"]) for p in posts} == {
        ("57", "THIS SITE IS A SANDBOX -- it is reset every day", "13")}
    assert posts[0]["url"] == "https://try.discourse.org/t/this-site-is-a-sandbox-it-is-reset-every-day/57/1"
    assert posts[0]["thread_url"] == "https://try.discourse.org/t/this-site-is-a-sandbox-it-is-reset-every-day/57"
    assert posts[0]["body_text"].startswith("Welcome!\n\nTry is a sandbox, a safe place to play with Discourse")
    assert "<h3>" not in posts[0]["body_text"] and "<h3>Try is a sandbox" in posts[0]["body_html"]
    assert posts[0]["links"] == ["http://www.discourse.org", "http://meta.discourse.org",
                                 "https://github.com/discourse/discourse"]
    assert posts[1]["body_text"] == "This topic is now pinned. It will appear at the top of its category."
    assert (posts[2]["body_text"], posts[2]["images"]) == ("", ["http://i288.photobucket.com/albums/ll164/stienman/ahh.gif"])
    assert posts[3]["body_text"] == "What? So I have to post this every day?"
    assert posts[3]["images"] == ["http://q101.com/wp-content/uploads/2012/02/GroundhogDay.gif"]
    assert not any(p["is_deleted"] or p["quotes"] for p in posts)


def test_topic_page_html_gives_every_post_from_its_crawler_view():
    posts = miata_parse("meta-discourse-t-12483.html", META_URL)
    assert [p["kind"] for p in posts] == ["post", "post"]
    # The crawler view prints no post ids nor user ids: topic#number stands for the id, never a guess.
    got = [(p["post_id"], p["position"], p["author"], p["author_id"], p["posted_at"], p["edited_at"]) for p in posts]
    assert got == [("12483#1", 1, "techAPJ", None, utc(2014, 2, 6, 4, 55, 19), None),
                   ("12483#2", 2, "codinghorror", None, utc(2014, 2, 6, 5, 27, 6), None)]
    assert {(p["thread_id"], p["thread_title"], p["forum_id"], tuple(p["forum_path"])) for p in posts} == {
        ("12483", "Congratulations, most stars in 2013 GitHub Octoverse!", None, ("praise",))}
    first, second = posts
    # The lightbox's file name and size line and the emoji are not text; the lightbox's original is the image.
    assert first["body_text"] == ("Congratulations Discourse for qualifying Repositories with the most stars on "
                                  "GitHub Octoverse.\n\nAnd that too in just over an year, way to go!")
    assert first["images"] == ["https://d11a6trkgmumsb.cloudfront.net/original/2X/d/"
                               "d063b3b0807377d98695ee08042a9ba0a8c593bd.png"]
    assert first["links"] == ["http://octoverse.github.com/"]
    assert second["body_text"].startswith("Ah, cool. I was not sure how to see that since GitHub changed")
    assert second["url"] == META_URL + "/2"
