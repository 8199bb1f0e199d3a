"""``miata``: everything that is not ``scrapy crawl``.

    miata parse --site miataturbo --url URL page.html   # parse one saved page as the spider would
    miata demo                                          # crawl a forum served on 127.0.0.1 into Parquet
    miata serve --posts 100000                          # serve a synthetic forum to crawl by hand
    miata query "SELECT site, count(*) FROM posts GROUP BY 1"   # SQL over the dataset (DuckDB)
    miata reparse miataturbo --out data-v2              # rebuild a site from the HTTP cache, every core
    miata reddit                                        # r/Miata and r/mx5 through PRAW
    miata crawl-all                                     # cron: every forum, then Reddit, incrementally
    miata data stats --plot stats.png                   # what the dataset holds; also compact, export, search
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from importlib import import_module
from datetime import date, datetime, timezone
from pathlib import Path


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def spider_class(site: str):
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    loader = SpiderLoader.from_settings(get_project_settings())
    try:
        return loader.load(site)
    except KeyError:
        raise SystemExit(f"miata: unknown --site {site!r}; known sites: {', '.join(sorted(loader.list()))}") from None


def parse_page_records(site: str, url: str, body: bytes, now: datetime | None = None, headers=None,
                       encoding: str | None = None):
    """Every record the spider would take from one page: dicts with a ``kind`` key
    (post, thread, forum, next_page, unrecognised). The page is decoded as the crawl decodes it
    (its declared charset, else like a browser), or in ``encoding`` when given."""
    from scrapy.http import HtmlResponse

    from miata_spiders.encoding import with_browser_encoding

    from miata_spiders.dates import DateResolver
    from miata_spiders.page_records import page_records

    cls = spider_class(site)
    spider = cls(url=url) if site == "forum" else cls()
    response = with_browser_encoding(HtmlResponse(url=url, body=body, headers=headers or {}), encoding)
    dates = DateResolver(tz=spider.timezone, now=now or datetime.now(timezone.utc), date_order=spider.date_order)
    records = page_records(response, spider.engine_for(response), site=spider.name, dates=dates)
    for item in records.items:
        yield {"kind": "post", **asdict(item)}
    if records.listing:
        for forum in records.listing.forums:
            yield {"kind": "forum", **asdict(forum)}
        for thread in records.listing.threads:
            yield {"kind": "thread", **asdict(thread)}
    page = records.listing or (records.thread if records.kind == "thread" else None)
    if page and page.next_page:
        yield {"kind": "next_page", "url": page.next_page}
    if records.kind == "unrecognised":
        yield {"kind": "unrecognised", "url": url, "reason": f"{spider.engine or 'forum'}: {records.problem}"}


def cmd_parse(args) -> int:
    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        print(f"miata parse: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        print(f"miata parse: --now {args.now!r} needs a UTC offset, e.g. 2026-11-25T12:00:00-05:00", file=sys.stderr)
        return 2
    if args.encoding:
        import codecs

        try:
            codecs.lookup(args.encoding)
        except LookupError:
            print(f"miata parse: --encoding {args.encoding!r} is not an encoding Python knows, e.g. utf-8, cp1252",
                  file=sys.stderr)
            return 2
    from miata_spiders.engines.detect import UnsupportedSoftware

    status = 0
    try:
        for record in parse_page_records(args.site, args.url, body, now=now, encoding=args.encoding):
            if record["kind"] == "unrecognised":
                print(f"miata parse: {path}: {record['reason']}", file=sys.stderr)
                status = 1
            print(json.dumps(record, default=_json_default, ensure_ascii=False))
    except UnsupportedSoftware as exc:
        print(exc, file=sys.stderr)
        return 1
    return status


#: Commands defined in their own modules: command -> (module, function that adds its sub-parser).
#: Only the command being run is imported: the others pull in PRAW, pandas and pyarrow.dataset,
#: seconds of start-up that `miata parse` of one page would otherwise pay.
COMMANDS = {
    "demo": ("miata_spiders.demo", "add_demo_parser"),
    "serve": ("miata_spiders.demo", "add_demo_parser"),
    "query": ("miata_spiders.query", "add_query_parser"),
    "reparse": ("miata_spiders.reparse", "add_reparse_parser"),
    "reddit": ("pipelines.reddit", "add_reddit_parser"),
    "crawl-all": ("miata_spiders.crawl_all", "add_crawl_all_parser"),
    "data": ("miata_spiders.data", "add_data_parser"),
}


def _commands_to_load(argv) -> list[str]:
    """The one command ``argv`` runs; every command for help, a typo or no command (argparse then
    lists them all)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    if first == "parse":
        return []
    if first in COMMANDS:
        return [first]
    return list(COMMANDS)


def main(argv=None) -> int:
    # `miata` works from any directory, not only beside scrapy.cfg.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "miata_spiders.settings")
    parser = argparse.ArgumentParser(prog="miata", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("parse", help="parse one saved page exactly as the spider would; print JSON lines")
    p.add_argument("--site", required=True, help="spider name, e.g. miataturbo (see `scrapy list`)")
    p.add_argument("--url", required=True, help="the URL the page was fetched from (resolves relative links and ids)")
    p.add_argument("--now", help="crawl time for Today/Yesterday dates, ISO 8601 with offset (default: now)")
    p.add_argument("--encoding", help="decode the page in this encoding (default: its declared charset, else "
                                      "as the crawl does: UTF-8 if it is, else detected)")
    p.add_argument("file", help="saved HTML page")
    p.set_defaults(func=cmd_parse)

    for module, function in dict.fromkeys(COMMANDS[name] for name in _commands_to_load(sys.argv[1:] if argv is None else argv)):
        getattr(import_module(module), function)(sub)  # each module once: "serve" comes with "demo"

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # `miata data stats --json | head`: the reader has what it wanted; no traceback at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
