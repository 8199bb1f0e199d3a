from miata_spiders.forum_spider import BaseForumSpider


class ClubroadsterSpider(BaseForumSpider):
    """ClubRoadster.net (www.clubroadster.net/vb_forum/): vBulletin, parsed by markup whether it serves
    4.x or 3.8 pages; US Eastern time unless the footer says otherwise, MM-DD-YYYY dates."""

    name = "clubroadster"
    engine = "vbulletin"
    start_url = "https://www.clubroadster.net/vb_forum/"
    timezone = "America/New_York"
    date_order = "MDY"
