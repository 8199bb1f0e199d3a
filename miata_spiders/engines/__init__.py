"""Forum-software parsers. Each engine is a ``ForumEngine`` (see ``engines/base.py``): URL facts,
``page_kind``, ``parse_listing_page``, ``parse_thread_page``, with posts read field by field.
"""

from importlib import import_module

from miata_spiders.engines.base import ForumEngine

# engine name used by spiders -> module implementing it (the module's ``ENGINE`` is the engine)
ENGINES = {
    "ib-vbulletin": "miata_spiders.engines.vbulletin",
    "vbulletin": "miata_spiders.engines.vbulletin",
    "xenforo": "miata_spiders.engines.xenforo",
    "phpbb": "miata_spiders.engines.phpbb",
    "discourse": "miata_spiders.engines.discourse",
}


def get_engine(name: str) -> ForumEngine:
    try:
        module = import_module(ENGINES[name])
    except KeyError:
        raise ValueError(f"unknown forum engine {name!r}; known engines: {', '.join(sorted(ENGINES))}") from None
    # Until every module exposes its ForumEngine instance as ENGINE, the module itself offers the same
    # functions.
    return getattr(module, "ENGINE", module)
