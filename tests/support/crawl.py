"""Run the real ``scrapy crawl`` in a subprocess (Twisted's reactor cannot restart inside pytest)
against a server of ours on 127.0.0.1, with test-speed politeness settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds

ROOT = Path(__file__).resolve().parents[2]

FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "MIATA_RETRY_BACKOFF_BASE": "0.2",
    "MIATA_RETRY_BACKOFF_MAX": "2",
    "LOG_LEVEL": "INFO",
}


def scrapy_crawl(spider: str, base_url: str | None, data_dir: Path, settings: dict | None = None,
                 timeout: float = 120, check: bool = True, extra_args=()) -> subprocess.CompletedProcess:
    merged = {**FAST, "MIATA_DATA_DIR": str(data_dir), "HTTPCACHE_DIR": str(data_dir / "httpcache"), **(settings or {})}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider, *extra_args]
    if base_url:
        cmd += ["-a", f"base_url={base_url}"]
    for name, value in merged.items():
        cmd += ["-s", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if k not in ("MIATA_USER_AGENT", "MIATA_DATA_DIR")}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert result.returncode == 0, result.stderr[-4000:]
    return result


def dataset_rows(data_dir: Path, columns=None) -> list[dict]:
    posts = data_dir / "posts"
    if not any(posts.glob("*/*.parquet")):
        return []
    return ds.dataset(str(posts), format="parquet", partitioning="hive").to_table(columns=columns).to_pylist()


def edited_post_ids(old_site, new_site) -> set[str]:
    """Ids of the old forum's posts whose stored text differs on the grown site: exactly the posts a
    re-crawl must store a second version of (an engine that hides a deleted post's text shows no edit)."""
    old, new = old_site.forum, new_site.forum
    return {str(old.post(t, p).post_id) for t in old.all_thread_ids() for p in range(1, old.thread(t).post_count + 1)
            if new_site.expected_row(new.post(t, p))["body_text"] != old_site.expected_row(old.post(t, p))["body_text"]}
