"""Whose post it is, on skins whose profile link does not carry the member id: vBSEO's
``members/name.html`` (the id is in the user's own popup menu: vBulletin 4's memberaction list,
vBulletin 3's ``postmenu_{id}_menu``), ``members/12345.html``, and a name that itself starts with digits."""

import pytest

from tests.test_vbulletin_skins import VB3_URL, VB4_URL, page, parse, utc, vb4_postbit


def vb3_legacy(pid, name_link, popup_links):
    """vB3 postbit_legacy and the popup menu it prints after the post's table, inside div#edit{id}."""
    popup = "".join(f'<tr><td class="vbmenu_option"><a href="{href}">{label}</a></td></tr>' for href, label in popup_links)
    return f'''<div id="edit{pid}"><table id="post{pid}" class="tborder"><tr><td class="thead"><!-- status icon and date -->
      <a name="post{pid}"></a> 03-03-2021, 10:05 PM<!-- / status icon and date --></td>
      <td class="thead" align="right">#<a href="showpost.php?p={pid}&amp;postcount=1" id="postcount{pid}" name="1"><strong>1</strong></a></td></tr>
      <tr><td class="alt2"><div id="postmenu_{pid}">{name_link}</div></td>
      <td class="alt1" id="td_post_{pid}"><div id="post_message_{pid}">Hello.</div></td></tr></table>
      <div class="vbmenu_popup" id="postmenu_{pid}_menu" style="display:none"><table>{popup}</table></div></div>'''


def test_vb3_member_id_from_the_posts_own_popup_menu():
    posts = (vb3_legacy("11", '<a class="bigusername" href="https://f.example/members/nils.html">nils</a>',
                        [("https://f.example/members/nils.html", "View Public Profile"),
                         ("private.php?do=newpm&amp;u=3307", "Send a private message to nils"),
                         ("search.php?do=finduser&amp;u=3307", "Find More Posts by nils")])
             + vb3_legacy("12", '<a class="bigusername" href="https://f.example/members/ola.html">ola</a>',
                          [("https://f.example/members/ola.html", "View Public Profile")]))
    first, second = parse(page(posts), VB3_URL, utc(2021, 3, 5, 12, 0)).posts
    assert (first.author, first.author_id) == ("nils", "3307")
    assert (second.author, second.author_id) == ("ola", None)  # nils's menu is not ola's


@pytest.mark.parametrize("href, name, member_id", [
    ("https://f.example/forum/members/12345.html", "nils", "12345"),  # vBSEO's members/[user_id].html
    ("https://f.example/forum/members/1985_miata.html", "1985_miata", None),  # the digits are the name's
    ("https://f.example/forum/members/1985.html", "1985", None),
    ("https://f.example/forum/members/71187_nb_nils.html", "nb_nils", "71187"),
])
def test_member_id_is_never_read_from_the_name(href, name, member_id):
    post = vb4_postbit("9001", 1, "Today,", "08:01 AM", f'<a class="username" href="{href}"><strong>{name}</strong></a>', "Hi.")
    (only,) = parse(page(post, generator="vBulletin 4.2.5"), VB4_URL, utc(2021, 3, 5, 18, 0)).posts
    assert (only.author, only.author_id) == (name, member_id)


def test_conflicting_popup_ids_give_none():
    link = ('<a class="username" href="https://f.example/members/nils.html"><strong>nils</strong></a>'
            '<ul class="popupbody"><li><a href="private.php?do=newpm&amp;u=3307">PM</a></li>'
            '<li><a href="search.php?do=finduser&amp;userid=4400">Posts</a></li></ul>')
    (only,) = parse(page(vb4_postbit("9002", 1, "Today,", "08:01 AM", link, "Hi."), generator="vBulletin 4.2.5"),
                    VB4_URL, utc(2021, 3, 5, 18, 0)).posts
    assert (only.author, only.author_id) == ("nils", None)
