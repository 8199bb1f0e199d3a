"""Pages that declare no charset are decoded the way browsers do (UTF-8 when they are UTF-8, a few
bad bytes costing a few U+FFFD, not the whole page), the same way by the crawl and `miata parse`."""

import re
import subprocess
import sys

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.cli import parse_page_records
from miata_spiders.encoding import browser_encoding, sniffed_encoding, with_browser_encoding
from miata_spiders.testing.forumgen import ForumShape, SyntheticForum
from miata_spiders.testing.server import FaultRule, ForumServer
from tests.support.crawl import ROOT, dataset_rows, scrapy_crawl
from tests.support.renderers import BY_SPIDER

GERMAN = "Der K\u00fchler ist zu gro\u00df f\u00fcr den NA \u2013 sch\u00f6ne Gr\u00fc\u00dfe aus M\u00fcnchen. "
PAGE = f"<html><head><title>K\u00fchler</title></head><body><p>{GERMAN * 40}</p></body></html>"
BAD_BYTES = b"<!-- \x93quoted\x94 -->"


def undeclared_utf8_with_bad_bytes() -> bytes:
    return PAGE.encode("utf-8").replace(b"<head>", b"<head>" + BAD_BYTES)


def test_a_utf8_page_with_a_few_bad_bytes_is_read_as_utf8():
    body = undeclared_utf8_with_bad_bytes()
    assert sniffed_encoding(body) == "utf-8"
    response = with_browser_encoding(HtmlResponse("https://x/", body=body))
    assert GERMAN in response.text
    assert response.text.count("\ufffd") == 2  # the two bad bytes, and nothing else


def test_without_the_fix_scrapy_would_garble_the_whole_page():
    # What this guards against: Scrapy's own guess for the same bytes.
    plain = HtmlResponse("https://x/", body=undeclared_utf8_with_bad_bytes())
    assert GERMAN not in plain.text


def test_a_cp1252_page_is_read_as_cp1252_not_as_another_code_page():
    body = PAGE.encode("cp1252")
    assert sniffed_encoding(body) == "cp1252"
    assert GERMAN in with_browser_encoding(HtmlResponse("https://x/", body=body)).text


def test_a_declared_charset_always_wins():
    body = PAGE.encode("cp1252")
    assert browser_encoding(body, "text/html; charset=ISO-8859-1") == "cp1252"  # as browsers read latin-1
    assert browser_encoding(PAGE.encode("utf-8"), "text/html; charset=utf-8") == "utf-8"
    declared = b'<html><head><meta charset="windows-1252"></head><body>' + "\u00fcber".encode("cp1252") + b"</body></html>"
    assert browser_encoding(declared) == "cp1252"
    response = HtmlResponse("https://x/", body=declared, headers={"Content-Type": "text/html"})
    assert with_browser_encoding(response) is response  # Scrapy reads the declaration itself


def test_an_explicit_encoding_overrides():
    utf8 = PAGE.encode("utf-8")
    response = with_browser_encoding(HtmlResponse("https://x/", body=utf8), "cp1252")
    assert "K\u00c3\u00bchler" in response.text  # told cp1252, read as cp1252: the caller's choice
    with pytest.raises(LookupError):
        with_browser_encoding(HtmlResponse("https://x/", body=b"<html></html>"), "no-such-codec")


SHAPE = ForumShape(seed=7, threads_per_forum=3, posts_per_thread=4, posts_per_page=5, threads_per_page=4)


def undeclared_thread_page(forum):
    renderer = BY_SPIDER["miataturbo"]
    site = renderer.site_factory(forum)
    thread = next(t for f in forum.forums.values() for t in forum.listing(f) if not t.title.isascii())
    _, body, _ = site.respond(renderer.path(site.thread_url(thread, 1)))
    body = re.sub(rb"(?i)<meta[^>]*charset=[^>]*>", b"", body).replace(b"<head>", b"<head>" + BAD_BYTES, 1)
    return site.thread_url(thread, 1), body, thread


def test_miata_parse_decodes_an_undeclared_page_as_the_crawl_does(tmp_path):
    forum = SyntheticForum(SHAPE)
    url, body, thread = undeclared_thread_page(forum)
    posts = [r for r in parse_page_records("miataturbo", url, body) if r["kind"] == "post"]
    assert posts and {p["thread_title"] for p in posts} == {thread.title}
    saved = tmp_path / "page.html"
    saved.write_bytes(body)
    cli = [sys.executable, "-m", "miata_spiders.cli", "parse", "--site", "miataturbo", "--url", url, str(saved)]
    out = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f'"thread_title": "{thread.title}"' in out.stdout
    wrong = subprocess.run(cli[:-1] + ["--encoding", "nope", str(saved)], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert wrong.returncode == 2 and "--encoding 'nope' is not an encoding" in wrong.stderr


def test_the_crawl_reads_undeclared_pages_like_a_browser(tmp_path):
    renderer = BY_SPIDER["miataturbo"]
    forum = SyntheticForum(SHAPE)
    server = ForumServer(renderer.site_factory(forum), faults=[FaultRule(r".", "undeclared-charset", times=10**6)])
    server.start()
    try:
        scrapy_crawl(renderer.spider, server.base_url, tmp_path)
    finally:
        server.stop()
    rows = dataset_rows(tmp_path, ["post_id", "thread_title", "author"])
    assert sorted(r["post_id"] for r in rows) == sorted(server.ground_truth())
    for row in rows:
        thread_id, position = divmod(int(row["post_id"]), 100_000)
        assert row["thread_title"] == forum.thread(thread_id).title
        post = forum.post(thread_id, position)
        assert row["author"] == (post.author or post.guest_name)
