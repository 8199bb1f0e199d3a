from miata_spiders.forum_spider import BaseForumSpider


class ForumSpider(BaseForumSpider):
    """Any forum on a supported engine, without writing code:

        scrapy crawl forum -a url=https://some.forum/ [-a engine=xenforo] [-a timezone=Europe/London] [-a date_order=DMY]

    The engine is detected from the first page unless given. Data lands under site=forum-<host>.
    """

    name = "forum"

    def __init__(self, url: str | None = None, engine: str | None = None, timezone: str = "UTC",
                 date_order: str = "MDY", *args, **kwargs):
        from urllib.parse import urlsplit
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if not url:
            raise ValueError("the forum spider needs the forum's address: scrapy crawl forum -a url=https://some.forum/")
        host = urlsplit(url).hostname
        if urlsplit(url).scheme not in ("http", "https") or not host:
            raise ValueError(f"-a url={url!r} is not an absolute http(s) URL")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"-a timezone={timezone!r} is not an IANA timezone name such as Europe/London") from None
        if date_order not in ("MDY", "DMY"):
            raise ValueError(f"-a date_order={date_order!r}: use MDY or DMY")
        self.start_url = url
        self.engine = engine or ""
        self.timezone = timezone
        self.date_order = date_order
        super().__init__(*args, **kwargs)
        # One dataset partition per forum: the site column must tell forums apart.
        self.name = "forum-" + host.replace(":", "-")
