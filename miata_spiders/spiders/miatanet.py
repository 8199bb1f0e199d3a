from miata_spiders.forum_spider import BaseForumSpider


class MiatanetSpider(BaseForumSpider):
    """Miata.net's forum (forum.miata.net/vb/): classic vBulletin 3.8, US Pacific time (the footer's
    "All times are GMT -8" overrides it if the forum ever says otherwise), MM-DD-YYYY dates."""

    name = "miatanet"
    engine = "vbulletin"
    start_url = "https://forum.miata.net/vb/"
    timezone = "America/Los_Angeles"
    date_order = "MDY"
