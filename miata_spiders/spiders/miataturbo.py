from miata_spiders.forum_spider import BaseForumSpider


class MiataturboSpider(BaseForumSpider):
    """MiataTurbo.net: Internet Brands' vBulletin 3.8 skin, US Eastern time, MM-DD-YYYY dates."""

    name = "miataturbo"
    engine = "ib-vbulletin"
    start_url = "https://www.miataturbo.net/"
    timezone = "America/New_York"
    date_order = "MDY"
