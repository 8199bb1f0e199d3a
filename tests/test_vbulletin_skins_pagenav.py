"""The next page of a vBulletin 3 page whose page navigation's "&gt;" link carries no rel="next"
(vBulletin 3.6 and restyled pagenav templates): the numbered link after the current page."""

from tests.test_vbulletin_skins import VB3_URL, page, parse, utc, vb3_postbit


def pagenav(current: int, total: int) -> str:
    cells = []
    for n in range(1, total + 1):
        if n == current:
            cells.append(f'<td class="alt2"><span class="smallfont" title="Showing results"><strong>{n}</strong></span></td>')
        else:
            cells.append(f'<td class="alt1"><a class="smallfont" href="showthread.php?t=4242&amp;page={n}" title="Show results">{n}</a></td>')
    if current < total:
        cells.append(f'<td class="alt1"><a class="smallfont" href="showthread.php?t=4242&amp;page={current + 1}" '
                     f'title="Next Page">&gt;</a></td>')
    return (f'<div class="pagenav" align="right"><table class="tborder"><tr><td class="vbmenu_control" '
            f'style="font-weight:normal">Page {current} of {total}</td>{"".join(cells)}</tr></table></div>')


def test_next_page_without_rel_next():
    html = page(vb3_postbit("501", 1, "Today, 09:14 AM", ("ann", "7"), "The clutch slips."),
                generator="vBulletin 3.6.8", crumbs=pagenav(2, 3))
    thread = parse(html, VB3_URL + "&page=2", utc(2021, 3, 4, 12, 0))
    assert (thread.page, thread.page_count) == (2, 3)
    assert thread.next_page == "https://forum.example.org/vb/showthread.php?t=4242&page=3"


def test_the_last_page_has_no_next_page():
    html = page(vb3_postbit("501", 1, "Today, 09:14 AM", ("ann", "7"), "The clutch slips."),
                generator="vBulletin 3.6.8", crumbs=pagenav(3, 3))
    thread = parse(html, VB3_URL + "&page=3", utc(2021, 3, 4, 12, 0))
    assert (thread.page, thread.page_count, thread.next_page) == (3, 3, None)
