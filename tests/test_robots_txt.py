"""robots.txt binds every request of a crawl, also the ones queued while it was being fetched.

Scrapy 2.19's RobotsTxtMiddleware gives the parsed rules to the first waiting request only; the others
went through, disallowed or not. A resumed crawl starts many thread requests at once, so our settings
use SharedRobotsTxtMiddleware. One real `scrapy runspider` with the project's settings, in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import scrapy

from tests.support.http_server import Reply, ScriptedServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ROBOTS = Reply(200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /members/\n")
ALLOWED = [f"/threads/{n}" for n in range(4)]
DISALLOWED = [f"/members/{n}" for n in range(4)]


class ManyAtOnceSpider(scrapy.Spider):
    """Test-only: every URL of ``urls`` (JSON) queued at the start, before robots.txt has arrived."""

    name = "many_at_once"

    async def start(self):
        for url in json.loads(self.urls):
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        pass


def test_requests_queued_before_robots_txt_arrives_are_held_to_it():
    routes = {"/robots.txt": [ROBOTS], **{path: [Reply(200)] for path in ALLOWED + DISALLOWED}}
    with ScriptedServer(routes) as server:
        urls = [server.url(path) for pair in zip(DISALLOWED, ALLOWED) for path in pair]
        command = [sys.executable, "-m", "scrapy", "runspider", __file__, "-a", f"urls={json.dumps(urls)}",
                   "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "HTTPCACHE_ENABLED=False",
                   "-s", "ITEM_PIPELINES={}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "LOG_LEVEL=INFO"]
        env = {key: value for key, value in os.environ.items() if key != "MIATA_USER_AGENT"}
        proc = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
        fetched = {entry.path for entry in server.log}
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert fetched == {"/robots.txt", *ALLOWED}, sorted(fetched)
    assert "'robotstxt/forbidden': 4" in proc.stderr
