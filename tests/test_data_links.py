"""`miata data links` / `miata data images`: one row per URL of the latest version of each post, with
where it was found; `images --download` fetches into a content-addressed store from a 127.0.0.1 server,
politely (robots.txt, size cap) and resumably."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest

from miata_spiders.cli import main
from miata_spiders.items import PostItem
from pipelines.dataset import open_posts_dataset
from pipelines.parquet import ParquetBatchWriter, item_to_row

ROOT = Path(__file__).resolve().parents[1]


def latest_rows(data_dir) -> list[dict]:
    rows = open_posts_dataset(data_dir).to_table(
        columns=["site", "post_id", "thread_id", "scraped_at", "content_hash", "images", "links", "url"]).to_pylist()
    best = {}
    for row in rows:
        key = (row["site"], row["post_id"])
        if key not in best or (row["scraped_at"], row["content_hash"]) > (best[key]["scraped_at"], best[key]["content_hash"]):
            best[key] = row
    return list(best.values())


def domain(url: str) -> str:
    return urlsplit(url).hostname.removeprefix("www.")


@pytest.mark.parametrize("kind", ["links", "images"])
def test_one_row_per_url_of_the_latest_posts(sample_dataset, tmp_path, kind, capsys):
    out = tmp_path / f"{kind}.parquet"
    assert main(["data", kind, "--data-dir", str(sample_dataset.data_dir), "--out", str(out)]) == 0
    table = pq.read_table(out).to_pylist()
    expected = Counter((r["site"], r["post_id"], url) for r in latest_rows(sample_dataset.data_dir) for url in r[kind])
    assert Counter((r["site"], r["post_id"], r["url"]) for r in table) == expected
    assert sum(expected.values()) > 0
    assert all(r["domain"] == domain(r["url"]) for r in table)
    post_urls = {(r["site"], r["post_id"]): r["url"] for r in latest_rows(sample_dataset.data_dir)}
    assert all(r["post_url"] == post_urls[(r["site"], r["post_id"])] for r in table)
    assert {r["source"] for r in table} <= {"forum", "reddit"}
    assert capsys.readouterr().err.startswith(f"{kind}: {len(table):,} rows")


def test_forum_links_are_the_synthetic_forums_links(sample_dataset, tmp_path):
    forum = sample_dataset.forum_after
    expected = Counter(link for t in forum.all_thread_ids() for p in range(1, forum.thread(t).post_count + 1)
                       for post in [forum.post(t, p)] if not post.deleted for link in post.links)
    out = tmp_path / "links.parquet"
    assert main(["data", "links", "--data-dir", str(sample_dataset.data_dir), "--site", sample_dataset.forum_site,
                 "--out", str(out)]) == 0
    table = pq.read_table(out).to_pylist()
    assert Counter(r["url"] for r in table) == expected
    assert {r["domain"] for r in table} == {"flyinmiata.com"}
    titles = {str(t): forum.thread(t).title for t in forum.all_thread_ids()}
    assert all(r["thread_title"] == titles[r["thread_id"]] for r in table)
    assert all(r["forum"] and r["posted_at"].tzinfo is not None for r in table)


def test_all_versions_and_output_exists(sample_dataset, tmp_path, capsys):
    out = tmp_path / "images.parquet"
    assert main(["data", "images", "--data-dir", str(sample_dataset.data_dir), "--out", str(out)]) == 0
    latest = pq.read_metadata(out).num_rows
    capsys.readouterr()
    assert main(["data", "images", "--data-dir", str(sample_dataset.data_dir), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--force" in err and err.count("\n") == 1
    assert main(["data", "images", "--data-dir", str(sample_dataset.data_dir), "--out", str(out), "--force",
                 "--all-versions"]) == 0
    rows = pq.read_table(out).to_pylist()
    every = open_posts_dataset(sample_dataset.data_dir).to_table(columns=["images"]).column("images").to_pylist()
    assert len(rows) == sum(len(i) for i in every) >= latest > 0
    assert {"content_hash", "scraped_at"} <= set(rows[0])


# --- images --download, against a server on 127.0.0.1 ----------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
ROUTES = {
    "/robots.txt": (200, "text/plain", b"User-agent: *\nDisallow: /private/\n"),
    "/img/a.png": (200, "image/png", PNG),
    "/img/same-as-a.png": (200, "image/png", PNG),  # other URL, same bytes: one stored file
    "/img/b.jpg": (200, "image/jpeg", b"\xff\xd8\xff\xe0" + b"jpeg body" * 50),
    "/private/secret.png": (200, "image/png", PNG + b"secret"),
    "/img/huge.jpg": (200, "image/jpeg", b"\xff\xd8" + b"x" * 50_000),
    "/img/login.jpg": (200, "text/html", b"<html>please log in</html>"),
}


class ImageServer:
    def __init__(self):
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                status, content_type, body = ROUTES.get(self.path, (404, "text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def write_posts(data_dir: Path, images_per_post: list[list[str]]) -> None:
    writer = ParquetBatchWriter(data_dir, "miataturbo", batch_size=100)
    for n, images in enumerate(images_per_post, start=1):
        writer.add(item_to_row(PostItem(source="forum", site="miataturbo", post_id=str(n), thread_id="7",
                                        body_text=f"post {n}", images=images,
                                        scraped_at=datetime(2026, 11, 25, tzinfo=timezone.utc)), "miataturbo"))
    writer.close()


def run_download(data_dir: Path, table: Path, store: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MIATA_DATA_DIR",)}
    return subprocess.run(
        [sys.executable, "-m", "miata_spiders.cli", "data", "images", "--data-dir", str(data_dir), "--out", str(table),
         "--force", "--download", str(store), "--delay", "0", "--max-bytes", "10000"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_download_is_polite_content_addressed_and_resumable(tmp_path):
    with ImageServer() as server:
        urls = {path: server.url(path) for path in ROUTES if path != "/robots.txt"}
        urls["/img/gone.png"] = server.url("/img/gone.png")
        write_posts(tmp_path / "data", [[urls["/img/a.png"], urls["/img/b.jpg"]], [urls["/img/same-as-a.png"]],
                                        [urls["/private/secret.png"], urls["/img/huge.jpg"]],
                                        [urls["/img/login.jpg"], urls["/img/gone.png"], urls["/img/a.png"]]])
        store = tmp_path / "store"
        first = run_download(tmp_path / "data", tmp_path / "images.parquet", store)
        assert first.returncode == 0, first.stderr

        manifest = [json.loads(line) for line in (store / "manifest.jsonl").read_text().splitlines()]
        assert sorted(r["url"] for r in manifest) == sorted([urls["/img/a.png"], urls["/img/same-as-a.png"],
                                                              urls["/img/b.jpg"]])
        png_digest = hashlib.sha256(PNG).hexdigest()
        stored = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()
                        and p.name != "manifest.jsonl")
        jpeg_digest = hashlib.sha256(ROUTES["/img/b.jpg"][2]).hexdigest()
        assert stored == sorted([f"sha256/{png_digest[:2]}/{png_digest}.png",
                                 f"sha256/{jpeg_digest[:2]}/{jpeg_digest}.jpg"])
        assert (store / f"sha256/{png_digest[:2]}/{png_digest}.png").read_bytes() == PNG
        # robots.txt read first; the disallowed image never asked for; each URL fetched once.
        assert server.requests[0] == "/robots.txt"
        assert "/private/secret.png" not in server.requests
        assert server.requests.count("/img/a.png") == 1
        summary = first.stderr.strip().splitlines()[-1]
        assert "3 fetched" in summary and "1 same bytes as another URL" in summary
        assert "1 refused by robots.txt" in summary and "1 over --max-bytes" in summary
        assert "1 not an image" in summary and "HTTP 404" in summary

        # A second run fetches nothing it already has.
        asked = len(server.requests)
        second = run_download(tmp_path / "data", tmp_path / "images.parquet", store)
        assert second.returncode == 0, second.stderr
        again = server.requests[asked:]
        assert not {"/img/a.png", "/img/b.jpg", "/img/same-as-a.png"} & set(again)
        assert "3 already in the store" in second.stderr.strip().splitlines()[-1]
        assert len((store / "manifest.jsonl").read_text().splitlines()) == 3


def test_download_dir_that_is_a_file(tmp_path, capsys):
    write_posts(tmp_path / "data", [["http://127.0.0.1:9/x.png"]])
    (tmp_path / "store").write_text("not a dir")
    assert main(["data", "images", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "i.parquet"),
                 "--download", str(tmp_path / "store")]) == 2
    assert "is a file" in capsys.readouterr().err
