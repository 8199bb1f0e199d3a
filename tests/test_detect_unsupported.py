"""Forum software we recognise but do not parse is named (Discourse, parsed since its engine landed, is
recognised from the same kind of markers and is the one supported row below), from the markers the software itself prints,
and a run on it ends with one plain line: `miata parse` exits 1, a crawl closes with
``unsupported_engine:<name>``. The pages below are minimal hand-written pages in each software's markup."""

import subprocess
import sys
from pathlib import Path

import pytest

from miata_spiders import errors
from miata_spiders.engines import ENGINES
from miata_spiders.engines.detect import Detection, UnsupportedSoftware, detect
from tests.support.crawl import scrapy_crawl
from tests.support.http_server import Reply, ScriptedServer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def page(head: str = "", body: str = "", body_attrs: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body{body_attrs}>{body}</body></html>"


VBULLETIN5 = page(
    head='<script type="text/javascript" src="js/header-rollup-565.js"></script>',
    body_attrs=' id="vb-page-body" class="l-desktop page76 vb-page view-mode logged-out"',
    body='<ul class="conversation-list"><li class="b-post js-post" data-node-id="727745">'
         '<div class="b-post__body">first</div></li></ul>',
)

STRUCTURAL = [
    # vBulletin 5 with the generator tag removed: its body id, node-id posts and rollup bundles remain.
    (VBULLETIN5, "vbulletin5", "5", "<body id='vb-page-body'>"),
    # Invision Community 4: the app/controller attributes on <body>.
    (page(body_attrs=" class='ipsApp ipsApp_front ipsJS_none' data-pageApp='forums' data-pageModule='forums'"
                     " data-pageController='topic'",
          body="<article id='elComment_5' class='cPost ipsBox ipsComment'><div data-role='commentContent'>hi"
               "</div></article>"),
     "invision", "4", "<body class='ipsApp'>"),
    # Invision Community 5: hook attributes on every template block.
    (page(body='<article data-ips-hook="postWrapper" data-commentid="456"><h3 data-ips-hook="postUsername">'
               '<a href="/profile/10-buyer/">Buyer</a></h3></article>'),
     "invision", "5", "data-ips-hook attributes (Invision Community 5)"),
    # IP.Board 3.
    (page(head="<script type='text/javascript'>ipb.vars['base_url'] = 'https://forum.example/index.php?';</script>",
          body_attrs=" id='ipboard_body'", body="<div id='ipbwrapper'>x</div>"),
     "invision", "3", "<body id='ipboard_body'> (IP.Board 3)"),
    # SMF: the theme's script variables and its semicolon URL scheme.
    (page(head='<script type="text/javascript"><!-- // --><![CDATA[ var smf_theme_url = "https://f.example/Themes/default";'
               ' var smf_scripturl = "https://f.example/index.php"; // ]]></script>',
          body='<div id="msg_12"><a href="https://f.example/index.php?action=profile;u=2">admin</a></div>'),
     "smf", None, "smf_scripturl/smf_theme_url script"),
    (page(body='<div class="post_wrapper"><a href="https://f.example/index.php?action=profile;u=2">admin</a>'
               '<a href="https://f.example/index.php?topic=15.msg42#msg42">Re: x</a></div>'),
     "smf", None, "SMF profile links (action=profile;u=N)"),
    # MyBB: the post key every page declares, its script bundle and profile URLs.
    (page(head='<script type="text/javascript" src="https://f.example/jscripts/general.js?ver=1821"></script>'
               '<script type="text/javascript">var my_post_key = "0f1e2d";</script>',
          body='<div id="post_7"><a href="member.php?action=profile&amp;uid=1">admin</a></div>'),
     "mybb", None, "my_post_key script variable"),
    # NodeBB: its asset bundle and component attributes.
    (page(body='<ul component="topic"><li component="post" data-pid="5" data-index="0">'
               '<div component="post/content">hi</div></li></ul>'
               '<script defer src="/assets/nodebb.min.js?v=abc"></script>'),
     "nodebb", None, "/assets/nodebb.min.js"),
    # Forumotion with a phpBB-like template (post ids p<N>, a phpBB credit): Forumotion, not phpBB.
    (page(head='<script src="https://illiweb.com/rs3/60/frm/lang/de.js"></script>',
          body='<div id="p7" class="post"><div class="postbody"><a href="/memberlist.php">x</a></div></div>'
               '<p>Powered by <a href="https://www.phpbb.com/">phpBB</a></p>'),
     "forumotion", None, "illiweb.com/…/frm/ scripts"),
    # Flarum: its loading placeholder and app boot script.
    (page(body='<div id="flarum-loading" style="display: none">Loading...</div>'
               '<script>document.getElementById("flarum-loading").style.display = "block"; flarum.core.app.load({});</script>'),
     "flarum", None, "#flarum-loading"),
    # Vanilla: its gdn.meta object and template body ids.
    (page(head='<script>gdn=window.gdn||{};gdn.meta={"DiscussionID":"123"};</script>',
          body_attrs=' id="vanilla_discussion_index" class="Vanilla Discussion"'),
     "vanilla", None, "gdn.meta script (Vanilla)"),
    # FluxBB / PunBB: the pun wrappers.
    (page(body='<div id="punwrap"><div id="punviewtopic" class="pun"><div id="p12" class="blockpost">hi</div></div></div>'),
     "fluxbb", None, "#punwrap (FluxBB/PunBB)"),
    # WoltLab Burning Board.
    (page(body_attrs=' id="tpl_wbb_thread" data-template="thread" data-application="wbb"',
          body='<article class="wbbPost message" data-post-id="77">hi</article>'),
     "woltlab", None, "WoltLab Burning Board template ids"),
    # bbPress (a WordPress plugin).
    (page(body='<div class="bbp-reply-header"></div><div class="bbp-reply-content"><p>hi</p></div>'),
     "bbpress", None, "bbPress .bbp-reply-content"),
    (page(body='<a href="https://f.example/ubbthreads.php/topics/123/title.html">Topic</a>'),
     "ubbthreads", None, "ubbthreads.php links"),
    (page(head='<script src="https://images.proboards.com/v5/script.min.js"></script>'),
     "proboards", None, "proboards.com assets"),
    (page(body='<a href="https://f.example/cgi-bin/YaBB.pl?num=1234567890">Topic</a>'), "yabb", None, "YaBB.pl links"),
    # Discourse, from any one of its page markers.
    (page(head='<meta name="discourse_theme_id" content="2">'), "discourse", None, "<meta name='discourse_*'> tags"),
    (page(body='<div id="data-discourse-setup" data-discourse-setup="true"></div>'), "discourse", None,
     "data-discourse-setup"),
    (page(body='<div class="hidden" id="data-preloaded" data-preloaded="{}"></div>'), "discourse", None,
     "#data-preloaded store"),
    (page(head='<meta name="generator" content="Discourse 3.3.0 - https://github.com/discourse/discourse">'),
     "discourse", "3", "generator 'Discourse 3.3.0'"),
]


@pytest.mark.parametrize("html, engine, family, marker", STRUCTURAL, ids=[f"{e}-{i}" for i, (_, e, _, _) in enumerate(STRUCTURAL)])
def test_software_is_named_from_its_own_markers(html, engine, family, marker):
    found = detect(html)
    assert (found.engine, found.family) == (engine, family), found.evidence
    assert marker in found.evidence
    parsed = engine == "discourse"  # read through its JSON API (engines/discourse.py)
    assert found.supported is parsed and (engine in ENGINES) is parsed


@pytest.mark.parametrize("footer, engine", [
    ('Powered by <a href="https://www.simplemachines.org/" title="Simple Machines">SMF 2.1.4</a> &copy; 2023', "smf"),
    ('Powered By <a href="https://mybb.com" target="_blank">MyBB</a>, &copy; 2002-2024', "mybb"),
    ('Powered by <a href="https://invisioncommunity.com" rel="nofollow">Invision Community</a>', "invision"),
    ('Powered by <a href="https://nodebb.org">NodeBB</a>', "nodebb"),
    ('Powered by <a href="https://www.discourse.org">Discourse</a>, best viewed with JavaScript enabled', "discourse"),
    ('Powered by <a href="https://fluxbb.org/">FluxBB</a>', "fluxbb"),
    ('Forum Software: <a href="https://www.woltlab.com/">Burning Board&reg;</a>, powered by WoltLab Suite&trade;', "woltlab"),
    ('Powered by <a href="https://flarum.org">Flarum</a>', "flarum"),
])
def test_a_footer_credit_names_software_without_other_markers(footer, engine):
    found = detect(page(body=f'<div id="main">x</div><div id="footer"><span class="copyright">{footer}</span></div>'))
    assert found.engine == engine and found.supported is (engine == "discourse")


def test_structural_markers_win_over_a_footer_credit_in_a_post():
    """A phpBB post that says "Powered by MyBB" does not make the forum a MyBB one."""
    body = (FIXTURES / "phpbb" / "board33" / "viewtopic-t12.html").read_text(encoding="utf-8")
    body = body.replace("Swapping to a Koyo", 'Powered by <a href="https://mybb.com">MyBB</a>. Swapping to a Koyo')
    assert "Powered by <a" in body
    assert detect(body).engine == "phpbb"


@pytest.mark.parametrize("html", [
    page(body="<p>We use <a href='https://www.simplemachines.org/'>SMF</a> at work.</p>"),  # a link, no credit
    page(body="<p>Powered by coffee. NodeBB, MyBB and SMF are all fine.</p>"),  # words, no link
    page(body="<div component='post'>no data-pid: any site may use a component attribute</div>"),
])
def test_words_and_stray_links_name_nothing(html):
    assert detect(html) == Detection(None)


def test_the_description_and_close_reason_name_the_software():
    found = detect(VBULLETIN5)
    assert found.describe() == (
        "unsupported forum software: vbulletin5 (seen: <body id='vb-page-body'>; li.b-post[data-node-id] posts; "
        "js/*-rollup-<version>.js bundles)")
    error = UnsupportedSoftware(found)
    assert error.reason == "unsupported_engine:vbulletin5"
    assert str(error) == found.describe()
    assert errors.exit_status_for(error.reason) == errors.FAILED == 1


def test_miata_parse_names_unsupported_software_in_one_line(tmp_path):
    saved = tmp_path / "node.html"
    saved.write_text(VBULLETIN5, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "miata_spiders.cli", "parse", "--site", "forum", "--url", "https://forum.example/node/1",
         str(saved)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [detect(VBULLETIN5).describe()]


def test_a_crawl_of_unsupported_software_closes_cleanly_with_its_name(tmp_path):
    with ScriptedServer({"/": [Reply(200, {"Content-Type": "text/html; charset=utf-8"}, VBULLETIN5.encode())]}) as server:
        result = scrapy_crawl("forum", None, tmp_path, check=False, extra_args=["-a", f"url={server.url('/')}"])
    assert result.returncode == 1, result.stderr[-3000:]
    errors_logged = [line for line in result.stderr.splitlines() if "] ERROR:" in line]
    assert len(errors_logged) == 1, errors_logged
    assert "unsupported forum software: vbulletin5 (seen: <body id='vb-page-body'>" in errors_logged[0]
    assert "unsupported_engine:vbulletin5" in result.stderr
    assert "Traceback" not in result.stderr
    assert "unrecognised" not in result.stderr.lower()
