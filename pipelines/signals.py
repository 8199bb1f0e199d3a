"""Signals our pipelines send (Scrapy signals are plain sentinel objects)."""

#: a Parquet part was renamed into place: its rows are durable. Arguments: ``part`` (WrittenPart).
part_committed = object()
