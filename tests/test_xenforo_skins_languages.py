"""What a XenForo page says in its own language: "Last edited" notes (the author's own edit names the
author, a moderator's names nobody, a label the engine cannot read names nobody rather than a guess) and
the "NAME said:" header of an XF 2.0 quote, which carries no data-quote attribute. Each case rewrites the
phrase of one real-markup page (fixtures/xenforo-skins/xf20-default-friendly-off.html) as that language
pack prints it."""

from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import xenforo

PAGE = Path(__file__).resolve().parents[1] / "fixtures" / "xenforo-skins" / "xf20-default-friendly-off.html"
URL = "https://roadster.example/index.php?threads/clutch-judder-after-flywheel-swap.4821/page-2"
NOW = datetime(2025, 3, 1, 7, 0, tzinfo=timezone.utc)


def parse(html: str):
    return xenforo.parse_thread_page(HtmlResponse(url=URL, body=html.encode()), URL, DateResolver(now=NOW))


def edits(html: str) -> dict:
    return {p.post_id: (p.edited_by, p.edited_at) for p in parse(html).posts if p.edited_at}


ANNA_EDIT = datetime(2025, 2, 28, 14, 0, tzinfo=timezone.utc)   # post 60019, "Last edited by a moderator:"
MIKE_EDIT = datetime(2025, 3, 1, 7, 0, tzinfo=timezone.utc)     # post 60023, "Last edited:"


@pytest.mark.parametrize("own, moderator", [
    ("Last edited:", "Last edited by a moderator:"),
    ("Zuletzt bearbeitet:", "Zuletzt bearbeitet von einem Moderator:"),
    ("Dernière modification :", "Dernière modification par un modérateur :"),
    ("Última edición:", "Última edición por un moderador:"),
    ("Ultima modifica:", "Ultima modifica di un moderatore:"),
    ("Laatst bewerkt:", "Laatst bewerkt door een moderator:"),
    ("Última edição:", "Última edição por um moderador:"),
    ("Последнее редактирование:", "Последнее редактирование модератором:"),
    ("Naposledy upraveno:", "Naposledy upraveno moderátorem:"),
    ("Son düzenleme:", "Son düzenleme moderatör tarafından:"),
], ids=["en", "de", "fr", "es", "it", "nl", "pt", "ru", "cs", "tr"])
def test_own_and_moderator_edits_in_each_language(own, moderator):
    html = PAGE.read_text().replace("Last edited by a moderator:", moderator).replace("Last edited:", own)
    assert edits(html) == {"60019": (None, ANNA_EDIT), "60023": ("MiataMike", MIKE_EDIT)}


def test_an_edit_label_the_engine_cannot_read_names_nobody():
    # The date is still the edit's; who edited is not guessed (a wrong name is worse than none).
    html = PAGE.read_text().replace("Last edited:", "Düzenlendi (yönetim):")
    assert edits(html)["60023"] == (None, MIKE_EDIT)


@pytest.mark.parametrize("verb", ["said", "schrieb", "a dit", "dijo", "сказал(а)", "dedi", "řekl", "nói", "mondta", "sanoi"])
def test_xenforo_2_0_quote_headers_name_the_quoted_member_in_any_language(verb):
    html = PAGE.read_text().replace(" said:</a>", f" {verb}:</a>").replace("Rick said:", f"Rick {verb}:")
    quotes = {p.post_id: [(q["author"], q["post_id"]) for q in p.quotes] for p in parse(html).posts if p.quotes}
    assert quotes == {"60014": [("MiataMike", "60011")], "60019": [("Rick", None)],
                      "60023": [("Anna K", "60019"), ("RoadsterRick", "60014")]}
