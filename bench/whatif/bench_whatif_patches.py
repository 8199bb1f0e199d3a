"""The proposed versions of product hot spots (see sitecustomize.py beside this file)."""

from __future__ import annotations

import dataclasses
import random


def fast_item_to_row(item, default_site: str) -> dict:
    """pipelines.parquet.item_to_row without ItemAdapter.asdict(): a PostItem is a flat dataclass whose
    values are already plain (str, int, datetime, lists of str/dict), so a shallow field copy is the
    same row. asdict() walks every nested value through is_item() checks: ~0.45 ms a post."""
    from datetime import datetime, timezone

    from itemadapter import ItemAdapter

    from pipelines.schema import content_hash

    if dataclasses.is_dataclass(item):
        row = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    else:
        row = ItemAdapter(item).asdict()
    row["site"] = row.get("site") or default_site
    if not row.get("content_hash"):
        row["content_hash"] = content_hash(row.get("body_text"), row.get("quotes"), row.get("images"),
                                           bool(row.get("is_deleted")))
    if row.get("scraped_at") is None:
        row["scraped_at"] = datetime.now(timezone.utc)
    return row


def cheap_check_row(row: dict) -> None:
    """pipelines.parquet._check_row without building a one-row RecordBatch (~0.3 ms a row): the same
    checks on the values themselves; a type mismatch would surface at flush (see the proposal in
    docs/benchmarks.md for keeping the "bad row cannot sink the batch" guarantee)."""
    from datetime import datetime

    from pipelines import parquet
    from pipelines.schema import CONTENT_HASH_FORMAT, FIELD_NAMES, POST_SCHEMA

    unknown = row.keys() - set(FIELD_NAMES)
    if unknown:
        raise ValueError(f"fields not in POST_SCHEMA: {sorted(unknown)}")
    empty = [f.name for f in POST_SCHEMA if not f.nullable and row.get(f.name) is None]
    if empty:
        raise ValueError(f"required fields are empty: {empty}")
    if not CONTENT_HASH_FORMAT.fullmatch(row["content_hash"]):
        raise ValueError(f"content_hash must be a SHA-256 hex digest, got {row['content_hash']!r}")
    for name in parquet.TIMESTAMP_FIELDS:
        value = row.get(name)
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def patch_user_agent() -> None:
    """DesktopBrowserUserAgentProvider.get_random_ua drawing from a list filtered once: fake-useragent's
    .random re-filters its whole data set on every call (~2.6 ms a request, cache hits included)."""
    from miata_spiders.middlewares import DesktopBrowserUserAgentProvider

    def get_random_ua(self) -> str:
        candidates = getattr(self, "_whatif_candidates", None)
        if candidates is None:
            candidates = [d["useragent"] for d in self._ua._filter_useragents() if "Mobile" not in d["useragent"]]
            self._whatif_candidates = candidates
        return random.choice(candidates) if candidates else self._ua.fallback  # noqa: S311

    DesktopBrowserUserAgentProvider.get_random_ua = get_random_ua


def apply(wanted: set[str]) -> None:
    from pipelines import parquet

    if "item_to_row" in wanted:
        parquet.item_to_row = fast_item_to_row
    if "check_row" in wanted:
        parquet._check_row = cheap_check_row
    if "user_agent" in wanted:
        patch_user_agent()
