"""Scrapy commands of this project (``COMMANDS_MODULE`` in settings): ``crawl`` ends with an exit
status that tells cron the truth."""
