"""Forum-software parsers. Each engine module offers the same pure functions:

``page_kind(sel)`` -> "thread" | "listing" | None, ``parse_listing_page(sel, url, dates)``,
``parse_thread_page(sel, url, dates)`` and ``canonical_url(url)``.
"""

from importlib import import_module
from types import ModuleType

# engine name used by spiders -> module implementing it
ENGINES = {
    "ib-vbulletin": "miata_spiders.engines.vbulletin",
    "vbulletin": "miata_spiders.engines.vbulletin",
    "xenforo": "miata_spiders.engines.xenforo",
    "phpbb": "miata_spiders.engines.phpbb",
}


def get_engine(name: str) -> ModuleType:
    try:
        return import_module(ENGINES[name])
    except KeyError:
        raise ValueError(f"unknown forum engine {name!r}; known engines: {', '.join(sorted(ENGINES))}") from None
