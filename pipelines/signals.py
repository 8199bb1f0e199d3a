"""Signals of the storage path (Scrapy signals are plain sentinel objects).

The spider owns the crawl state; the Parquet pipeline owns the writer; they meet only here:

    spider --page_progress(progress)--> ParquetPipeline (queued behind the rows buffered so far)
    ParquetPipeline --part_committed(part, progress)--> spider's CrawlProgress (records the progress)
                                                   \\-> DedupePipeline (folds the run's keys)
"""

#: a thread page's posts have all been through the item pipelines (stored, buffered or dropped as
#: duplicates). Argument: ``progress`` (crawl_state.ThreadProgress).
page_progress = object()

#: rows are durable: a Parquet part was renamed into place (``part``, a WrittenPart), or progress was
#: handed over while nothing was buffered (``part`` None). ``progress``: the ThreadProgress markers
#: that are now durable, in the order they were handed over.
part_committed = object()
