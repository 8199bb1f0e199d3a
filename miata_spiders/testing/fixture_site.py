"""Serve a saved fixture forum (``fixtures/<site>/site.json`` + pages) over real HTTP on 127.0.0.1.

Every response carries the fixture's frozen crawl time as its ``Date`` header, so "Today"/"Yesterday"
resolve exactly as the fixture expectations say, however much later the crawl runs.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"


@dataclass(frozen=True)
class LoggedRequest:
    time: float
    path: str
    status: int
    user_agent: str


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
        self.requests: list[LoggedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self.base_url: str | None = None

    @classmethod
    def named(cls, site: str) -> "FixtureSite":
        return cls(FIXTURES_DIR / site)

    @property
    def expected_post_ids(self) -> list[str]:
        return [str(i) for i in self.manifest.get("expected_post_ids", [])]

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                status, body, ctype = site.respond(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Date", format_datetime(site.now, usegmt=False))
                self.end_headers()
                self.wfile.write(body)
                site.requests.append(LoggedRequest(time.monotonic(), self.path, status, self.headers.get("User-Agent", "")))

            def log_message(self, *args):  # keep test and demo output clean
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        return self.base_url

    def respond(self, path: str) -> tuple[int, bytes, str]:
        if path == "/robots.txt":
            robots = self.site_dir / "robots.txt"
            if robots.exists():
                return 200, robots.read_bytes(), "text/plain"
            return 404, b"", "text/plain"
        name = self.pages.get(path)
        if name is None:
            return 404, b"<html><body>Not found</body></html>", "text/html"
        body = (self.site_dir / name).read_bytes()
        charset = self.manifest.get("charset", "utf-8")
        return 200, body, f"text/html; charset={charset}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
