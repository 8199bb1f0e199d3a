"""vBulletin pages in the board's own language (fixtures/vbulletin-skins/): a Spanish vBulletin 3.8
postbit_legacy page behind vBSEO, an Italian vBulletin 3.8 postbit page whose HTML comments a minifier
stripped, and a French vBulletin 4.2 postbitlegacy page. Dates ("Hoy", "Ieri", "Aujourd'hui, 09h14"),
quote headers, edit notes with their reason, and deleted posts are read in each language."""

from tests.test_vbulletin_skins import SKINS, parse, utc

NOW = utc(2026, 1, 1, 12, 0)  # each footer prints the time now in GMT +1: 13:00


def test_spanish_vb3_legacy_page_behind_vbseo():
    url = "https://www.foro-mx5.example/foro/motor/4711-embrague-patina-en-tercera-2.html"
    thread = parse((SKINS / "vb3-legacy-vbseo-spanish.html").read_bytes(), url, NOW)
    assert [(p.post_id, p.position, p.author, p.author_id, p.posted_at, p.is_deleted) for p in thread.posts] == [
        ("90011", 11, "carlos_nb", "3307", utc(2021, 3, 3, 21, 5), False),  # id from postmenu_90011_menu
        ("90015", 12, "lucia_na", "71187", utc(2025, 12, 31, 22, 50), False),  # "Ayer, 23:50"
        ("90016", 13, "invitado_pepe", None, utc(2026, 1, 1, 8, 14), False),  # a guest, "Hoy, 09:14"
        ("90017", 14, "spam_sam", None, utc(2026, 1, 1, 9, 2), True),  # "Mensaje borrado por lucia_na."
    ]
    carlos, lucia, _, _ = thread.posts
    # "Última edición por carlos_nb; 03/03/2021 a las 22:30. Razón: foto"
    assert (carlos.edited_by, carlos.edited_at) == ("carlos_nb", utc(2021, 3, 3, 21, 30))
    assert carlos.signature == "NB 1.8 Sport, 2001"
    assert carlos.images == ["https://fotos.example/mx5/embrague.jpg"]
    assert carlos.url == "https://www.foro-mx5.example/foro/90011-post11.html"
    assert lucia.quotes == [
        {"author": "carlos_nb", "post_id": "90011", "text": "sigue patinando en tercera a fondo"},
        {"author": "manual_taller", "post_id": None, "text": "Holgura del pedal: 0,6 a 3,0 mm"},
    ]
    assert lucia.body_text == "¿Has revisado el cilindro receptor?\nRevisa también la holgura del pedal."
    assert (lucia.edited_at, lucia.signature) == (None, None)
    assert (thread.thread_id, thread.page, thread.page_count) == ("4711", 2, 3)
    assert thread.next_page == "https://www.foro-mx5.example/foro/motor/4711-embrague-patina-en-tercera-3.html"
    assert thread.forum_path == ["Técnica", "Motor"]


def test_italian_vb3_page_without_html_comments():
    url = "https://www.clubmx5.example/forum/showthread.php?t=15007"
    thread = parse((SKINS / "vb3-postbit-italian-minified.html").read_bytes(), url, NOW)
    assert [(p.post_id, p.position, p.author, p.author_id, p.posted_at, p.is_deleted) for p in thread.posts] == [
        ("120001", 1, "giulia_na", "812", utc(2021, 3, 3, 21, 5), False),
        ("120004", 2, "marco_b6", "77", utc(2025, 12, 31, 22, 50), False),  # "Ieri, 23:50"
        ("120005", 3, "spammer99", "666", utc(2026, 1, 1, 8, 14), True),  # "Messaggio cancellato da marco_b6."
    ]
    giulia, marco, _ = thread.posts
    assert (giulia.edited_by, giulia.edited_at) == ("giulia_na", utc(2021, 3, 3, 21, 31))
    # no <!-- sig --> comment left: the signature is the block vBulletin 3 opens with its underscore rule
    assert (giulia.signature, marco.signature) == ("NA 1.6 del 1990", "Moderatore sezione tecnica")
    assert giulia.images == ["http://www.imagehost.example/punterie.jpg"]
    assert giulia.url == "https://www.clubmx5.example/forum/showpost.php?p=120001&postcount=1"
    assert marco.quotes == [{"author": "giulia_na", "post_id": "120001", "text": "perdita d'olio dal coperchio punterie"}]
    assert marco.body_text == "Cambia la guarnizione e le gommine delle candele.\n\nCodice:\n\ncoppia: 8-11 Nm"
    assert (marco.edited_by, marco.edited_at) == (None, None)
    assert (thread.thread_id, thread.forum_id, thread.forum_path) == ("15007", "31", ["Tecnica", "Motore NA/NB"])
    assert (thread.page, thread.page_count) == (1, 2)
    assert thread.next_page == "https://www.clubmx5.example/forum/showthread.php?t=15007&page=2"


def test_french_vb4_legacy_page():
    url = "https://forum.roadster-fr.example/showthread.php?2209-Bruit-de-boite-en-seconde"
    thread = parse((SKINS / "vb4-legacy-french.html").read_bytes(), url, NOW)
    assert [(p.post_id, p.position, p.author, p.author_id, p.posted_at, p.is_deleted) for p in thread.posts] == [
        ("33101", 1, "jean-mx5", "118", utc(2021, 3, 3, 21, 5), False),  # "03/03/2021, 22h05"
        ("33107", 2, "Sophie_B", "2044", utc(2025, 12, 31, 22, 50), False),  # "Hier, 23h50"
        ("33110", 3, "pubman", "5001", utc(2026, 1, 1, 8, 14), True),  # "Aujourd'hui, 09h14"
        ("33112", 4, "Marc (invité)", None, utc(2026, 1, 1, 10, 20), False),
    ]
    jean, sophie, _, guest = thread.posts
    assert (jean.edited_by, jean.edited_at) == ("jean-mx5", utc(2021, 3, 3, 21, 30))
    assert jean.signature == "MX-5 NA 1.6 de 1991"
    assert sophie.quotes == [{"author": "jean-mx5", "post_id": "33101",
                              "text": "un craquement en passant la seconde à froid"}]
    assert sophie.body_text == "C'est le synchro de seconde, classique sur les NA."
    assert guest.quotes == [{"author": "Sophie_B", "post_id": "33107", "text": "synchro de seconde"},
                            {"author": "jean-mx5", "post_id": "33101", "text": "craquement à froid"}]
    assert guest.body_text == "Idem sur la mienne, vidéo ici.\nMerci pour l'info."
    assert guest.links == ["https://www.youtube.example/watch?v=abc"]
    assert (thread.thread_id, thread.forum_id, thread.forum_path) == ("2209", "19", ["Mécanique", "Boîte et pont"])
