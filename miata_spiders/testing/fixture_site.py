"""A saved fixture forum (``fixtures/<site>/site.json`` + pages) as a site for ``ForumServer``.

Responses carry the fixture's frozen crawl time as their ``Date`` header, so "Today"/"Yesterday"
resolve exactly as the fixture expectations say, however much later the crawl runs.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


class FixtureSite:
    def __init__(self, site_dir: Path | str):
        self.site_dir = Path(site_dir)
        manifest = self.site_dir / "site.json"
        try:
            self.manifest = json.loads(manifest.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"fixture site manifest not found: {manifest}") from None
        self.pages: dict[str, str] = self.manifest["pages"]
        self.now = datetime.fromisoformat(self.manifest["now"])

    @classmethod
    def named(cls, site: str) -> "FixtureSite":
        return cls(FIXTURES_DIR / site)

    @property
    def expected_post_ids(self) -> list[str]:
        return [str(i) for i in self.manifest.get("expected_post_ids", [])]

    def respond(self, path: str) -> tuple[int, bytes, dict]:
        # site.json "redirects": e.g. XenForo answers a moved thread's stub with a 301 to the thread.
        target = self.manifest.get("redirects", {}).get(path)
        if target:
            return 301, b"", {"Location": target, "Content-Type": "text/html; charset=utf-8"}
        if path == "/robots.txt":
            robots = self.site_dir / "robots.txt"
            if robots.exists():
                return 200, robots.read_bytes(), {"Content-Type": "text/plain"}
            return 404, b"", {"Content-Type": "text/plain"}
        name = self.pages.get(path)
        if name is None:
            return 404, b"<html><body>Not found</body></html>", {"Content-Type": "text/html"}
        content_type = self.manifest.get("content_type", "text/html; charset=utf-8")
        return 200, (self.site_dir / name).read_bytes(), {"Content-Type": content_type}
