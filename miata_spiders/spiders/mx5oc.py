from miata_spiders.forum_spider import BaseForumSpider


class Mx5ocSpider(BaseForumSpider):
    """MX-5 Owners Club (forum.mx5oc.co.uk): Discourse, crawled through its JSON API; UK time."""

    name = "mx5oc"
    engine = "discourse"
    start_url = "https://forum.mx5oc.co.uk/"
    timezone = "Europe/London"
    date_order = "DMY"
