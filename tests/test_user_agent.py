"""User-Agent handling: rotating desktop-browser UAs by default, exactly MIATA_USER_AGENT when set.

The crawls run `scrapy runspider` on this file in a subprocess (a Twisted reactor runs once per
process) with the project's settings against a scripted server on 127.0.0.1, whose request log shows
the User-Agent each request really carried.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import scrapy
from scrapy import Request
from scrapy.settings import Settings, default_settings
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from miata_spiders.middlewares import BrowserUserAgentMiddleware, DesktopBrowserUserAgentProvider
from tests.support.http_server import Reply, ScriptedServer

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PAGES = 20
FIXED_UA = "MiataSpidersTest/1.0 (+https://example.invalid/bot)"
MOBILE_MARKERS = ("Mobile", "Android", "iPhone", "iPad")

# --- Components in-process ------------------------------------------------------------------------


def test_provider_gives_varied_desktop_browser_user_agents():
    provider = DesktopBrowserUserAgentProvider(Settings())  # no FAKEUSERAGENT_FALLBACK: must not raise
    agents = [provider.get_random_ua() for _ in range(300)]
    assert all(ua.startswith("Mozilla/5.0 (") for ua in agents)
    assert not [ua for ua in agents if any(marker in ua for marker in MOBILE_MARKERS)]
    assert len(set(agents)) > 10


def test_project_settings_never_fall_back_to_scrapys_user_agent():
    settings = get_project_settings()
    assert settings["USER_AGENT"] != default_settings.USER_AGENT
    assert "Scrapy" not in settings["USER_AGENT"]
    assert settings["FAKEUSERAGENT_FALLBACK"].startswith("Mozilla/5.0 (")


@pytest.mark.parametrize("unset", [None, ""])
def test_unset_or_empty_miata_user_agent_means_rotation(unset):
    settings = {key: get_project_settings()[key] for key in ("FAKEUSERAGENT_PROVIDERS", "FAKEUSERAGENT_FALLBACK")}
    middleware = BrowserUserAgentMiddleware.from_crawler(get_crawler(settings_dict=settings | {"MIATA_USER_AGENT": unset}))
    agents = set()
    for n in range(PAGES):
        request = Request(f"http://127.0.0.1/{n}")
        middleware.process_request(request)
        agents.add(request.headers["User-Agent"])
    assert len(agents) > 1


def test_fixed_user_agent_applies_unless_the_request_sets_its_own():
    middleware = BrowserUserAgentMiddleware.from_crawler(get_crawler(settings_dict={"MIATA_USER_AGENT": FIXED_UA}))
    plain, explicit = Request("http://127.0.0.1/a"), Request("http://127.0.0.1/b", headers={"User-Agent": "Own/1"})
    middleware.process_request(plain)
    middleware.process_request(explicit)
    assert plain.headers["User-Agent"] == FIXED_UA.encode()
    assert explicit.headers["User-Agent"] == b"Own/1"


# --- Real crawls ----------------------------------------------------------------------------------


class UserAgentProbeSpider(scrapy.Spider):
    """Test-only: fetches every URL in `urls` (a JSON list)."""

    name = "user_agent_probe"

    async def start(self):
        for url in json.loads(self.urls):
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        pass


def crawl_user_agents(miata_user_agent: str | None) -> list[str | None]:
    """User-Agents that PAGES requests of a real crawl carried, with the project's settings."""
    routes = {f"/page/{n}": [Reply(200)] for n in range(PAGES)}
    with ScriptedServer(routes) as server:
        urls = [server.url(path) for path in routes]
        settings = {
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "HTTPCACHE_ENABLED": False,
            "ITEM_PIPELINES": "{}",
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
        }
        command = [sys.executable, "-m", "scrapy", "runspider", __file__, "-a", f"urls={json.dumps(urls)}"]
        for name, value in settings.items():
            command += ["-s", f"{name}={value}"]
        env = {key: value for key, value in os.environ.items() if key != "MIATA_USER_AGENT"}
        if miata_user_agent is not None:
            env["MIATA_USER_AGENT"] = miata_user_agent  # the documented way: settings.py reads it
        proc = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert len(server.log) == PAGES, proc.stderr[-5000:]
    return [entry.user_agent for entry in server.log]


def test_crawl_rotates_real_browser_user_agents():
    agents = crawl_user_agents(miata_user_agent=None)
    assert all(ua and "Mozilla/" in ua for ua in agents), agents
    assert not [ua for ua in agents if "Scrapy" in ua]
    assert len(set(agents)) > 1, agents


def test_crawl_with_miata_user_agent_sends_exactly_it():
    assert crawl_user_agents(miata_user_agent=FIXED_UA) == [FIXED_UA] * PAGES
