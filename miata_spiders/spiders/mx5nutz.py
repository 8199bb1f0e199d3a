from miata_spiders.forum_spider import BaseForumSpider


class Mx5nutzSpider(BaseForumSpider):
    """MX5 Nutz (mx5nutz.com): XenForo 2, a UK forum, dates printed day-first in UK time."""

    name = "mx5nutz"
    engine = "xenforo"
    start_url = "https://www.mx5nutz.com/"
    timezone = "Europe/London"
    date_order = "DMY"
