"""Which forum software served a page, from the markers each one prints on every page.

Only structural markers count (generator meta tags, ids on ``<html>``/``<body>``, asset paths, the
software's own URL scheme and footer link), never words in the page text: a phpBB post that talks
about vBulletin must not turn the forum into a vBulletin one.

``detect(page)`` says what it found and why; ``detect_engine(page)`` gives only the engine name, a key
of ``miata_spiders.engines.ENGINES`` when we have a parser for it. Software we recognise but do not parse
("vbulletin5", "invision", "smf", "mybb", "nodebb", "forumotion", "discourse", "phpbb2") is named all the
same (``Detection.supported`` is False), so a crawl asked to guess stops with
``unsupported_engine:<name>`` instead of mis-parsing it or calling its pages an unrecognised layout.

Two passes: first the markers each software prints structurally (ids, attributes, its own scripts and
URL schemes), in an order where the more specific software comes first (Forumotion's templates imitate
phpBB and Invision; vBulletin 5 shares vBulletin's generator tag); then, only when none of those
matched, a "Powered by <software>" footer link.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from parsel import Selector
from scrapy.exceptions import CloseSpider

_VB_GENERATOR = re.compile(r"vBulletin\s+(\d+)(?:\.(\d+))?", re.I)
_DISCOURSE_GENERATOR = re.compile(r"Discourse\s+(\d+)", re.I)


@dataclass(frozen=True)
class Detection:
    """``engine``: the engine name (None when nothing matched); ``family``: the version family when the
    page shows it ("3", "4", "1", "2", "3.0", "3.1", "3.2+", "json"); ``evidence``: the markers seen."""

    engine: str | None
    family: str | None = None
    evidence: tuple[str, ...] = ()

    @property
    def supported(self) -> bool:
        """Whether an engine parser reads this software."""
        from miata_spiders.engines import ENGINES

        return self.engine in ENGINES

    def describe(self) -> str:
        """One line for people: "unsupported forum software: vbulletin5 (seen: generator 'vBulletin 5.5.2')"."""
        seen = f" (seen: {'; '.join(self.evidence)})" if self.evidence else ""
        if self.engine is None:
            return "no known forum software recognised" + seen
        return f"{'' if self.supported else 'unsupported '}forum software: {self.engine}{seen}"


class UnsupportedSoftware(CloseSpider):
    """A page of forum software no engine parses. Raised from a spider callback it closes the crawl with
    the reason ``unsupported_engine:<name>`` (Scrapy closes on CloseSpider without a traceback); ``miata
    parse`` prints :meth:`Detection.describe` and exits 1."""

    def __init__(self, detection: Detection):
        super().__init__(f"unsupported_engine:{detection.engine}")
        self.detection = detection

    def __str__(self) -> str:
        return self.detection.describe()


def detect_engine(page) -> str | None:
    """The engine name for a Scrapy response, a parsel Selector, or raw bytes/str of a page."""
    return detect(page).engine


def detect(page) -> Detection:
    raw, sel = _inputs(page)
    if raw is not None and raw.lstrip()[:1] in (b"{", b"["):
        return _detect_json(raw)
    if sel is None:
        return Detection(None)
    if sel.type == "json":
        return _detect_json_data(sel.root)
    for check in (_discourse, _xenforo, _forumotion, _vbulletin, _invision, _smf, _mybb, _nodebb, _phpbb):
        found = check(sel)
        if found is not None:
            return found
    return _powered_by(sel)


def _inputs(page) -> tuple[bytes | None, Selector | None]:
    """Raw bytes (when we have them) and a selector of any accepted input."""
    if isinstance(page, str):
        page = page.encode("utf-8")
    if isinstance(page, (bytes, bytearray)):
        raw = bytes(page)
        if raw.lstrip()[:1] in (b"{", b"["):
            return raw, None
        return raw, Selector(text=raw.decode("utf-8", errors="replace"), type="html")
    if isinstance(page, Selector):
        return None, page
    body = getattr(page, "body", None)
    selector = getattr(page, "selector", None)
    if isinstance(body, bytes) and body.lstrip()[:1] in (b"{", b"["):
        return body, None
    return body if isinstance(body, bytes) else None, selector


# --- Discourse -----------------------------------------------------------------------------------

def _detect_json(raw: bytes) -> Detection:
    # A topic's /t/<slug>/<id>.json: only Discourse answers with a post_stream.
    if b"post_stream" not in raw:
        return Detection(None)
    try:
        data = json.loads(raw)
    except ValueError:
        return Detection("discourse", "json", ("'post_stream' in a JSON body that does not parse",))
    return _detect_json_data(data)


def _detect_json_data(data) -> Detection:
    if isinstance(data, dict) and isinstance(data.get("post_stream"), dict):
        return Detection("discourse", "json", ("JSON topic with a post_stream object",))
    return Detection(None)


def _discourse(sel: Selector) -> Detection | None:
    evidence = []
    generator = sel.xpath("//meta[@name='generator']/@content").get() or ""
    match = _DISCOURSE_GENERATOR.search(generator)
    if match:
        evidence.append(f"generator {generator.split(' - ')[0]!r}")
    if sel.xpath("//meta[starts-with(@name, 'discourse')]"):
        evidence.append("<meta name='discourse_*'> tags")
    if sel.xpath("//*[@id='data-discourse-setup' or @data-discourse-setup]"):
        evidence.append("data-discourse-setup")
    if sel.xpath("//*[@id='data-preloaded'][@data-preloaded]"):
        evidence.append("#data-preloaded store")
    if not evidence:
        return None
    return Detection("discourse", match.group(1) if match else None, tuple(evidence))


# --- XenForo -------------------------------------------------------------------------------------

def _xenforo(sel: Selector) -> Detection | None:
    html_id = sel.xpath("/html/@id").get()
    if html_id == "XenForo":
        return Detection("xenforo", "1", ("<html id='XenForo'>",))
    if html_id == "XF":
        return Detection("xenforo", "2", ("<html id='XF'>",))
    if sel.xpath("//*[@data-xf-init] | /html[@data-app and @data-template]"):
        return Detection("xenforo", "2", ("data-xf-init / data-app+data-template attributes",))
    if sel.xpath("//script[contains(., 'XenForo.')]"):
        return Detection("xenforo", "1", ("XenForo.* JavaScript",))
    if sel.xpath("//a[contains(@href, 'xenforo.com')][contains(., 'XenForo')]"):
        return Detection("xenforo", None, ("'Forum software by XenForo' footer link",))
    return None


# --- vBulletin -----------------------------------------------------------------------------------

def _vbulletin(sel: Selector) -> Detection | None:
    evidence = []
    generator = sel.xpath("//meta[@name='generator']/@content").get() or ""
    match = _VB_GENERATOR.search(generator)
    major = minor = None
    if match:
        major, minor = match.group(1), match.group(2)
        evidence.append(f"generator {generator!r}")
    if sel.xpath("//script[contains(., 'vBulletin_init')]"):
        evidence.append("vBulletin_init() script")
    if sel.xpath("/html[@id='vbulletin_html']"):
        evidence.append("<html id='vbulletin_html'>")
        major = major or "4"
    # Admins often remove the generator tag; vBulletin's own script bundle and post ids stay.
    if sel.xpath("//script[contains(@src, 'clientscript/vbulletin')]"):
        evidence.append("clientscript/vbulletin*.js")
    if sel.xpath("//*[starts-with(@id, 'post_message_')]"):
        evidence.append("post_message_<id> elements")
    # vBulletin 5 rewrote the templates: its page body id, node-id posts and js/*-rollup-<version>.js bundles.
    vb5 = []
    if sel.xpath("//body[@id='vb-page-body']"):
        vb5.append("<body id='vb-page-body'>")
    if sel.xpath("//*[@data-node-id][contains(concat(' ', normalize-space(@class), ' '), ' b-post ')]"):
        vb5.append("li.b-post[data-node-id] posts")
    if sel.xpath("//script[contains(@src, 'js/header-rollup-') or contains(@src, 'js/footer-rollup-')]"):
        vb5.append("js/*-rollup-<version>.js bundles")
    if vb5 and major in (None, "5"):
        return Detection("vbulletin5", "5", tuple(evidence + vb5))
    if not evidence:
        return None
    # Internet Brands' skin: its "nextgen" asset bundle, images on its ibsrv.net CDN, and its own 3.9 line
    # (classic vBulletin 3 ended at 3.8.11).
    ib = []
    if sel.xpath("//link[contains(@href, '/assets/nextgen/')] | //script[contains(@src, '/assets/nextgen/')]"):
        ib.append("/assets/nextgen/ assets")
    if sel.xpath("//img[contains(@src, 'ibsrv.net') or contains(@data-src, 'ibsrv.net')]"):
        ib.append("ibsrv.net images")
    if major == "3" and minor == "9":
        ib.append("vBulletin 3.9 (Internet Brands' line)")
    if ib and major in (None, "3"):
        return Detection("ib-vbulletin", "3", tuple(evidence + ib))
    if major == "5":
        return Detection("vbulletin5", "5", tuple(evidence))
    return Detection("vbulletin", major, tuple(evidence))


# --- software we name but do not parse ----------------------------------------------------------

def _found(engine: str, family: str | None, marks: list[tuple[str, str]], sel: Selector) -> Detection | None:
    evidence = tuple(label for query, label in marks if sel.xpath(query))
    return Detection(engine, family, evidence) if evidence else None


def _forumotion(sel: Selector) -> Detection | None:
    # Hosted Forumotion/Forumactif boards (phpBB-, punBB- and Invision-like templates alike) load their
    # scripts from Forumotion's illiweb.com CDN and declare the _board/_userdata script objects.
    return _found("forumotion", None, [
        ("//script[contains(@src, 'illiweb.com/') and contains(@src, '/frm/')]", "illiweb.com/…/frm/ scripts"),
        ("//script[contains(., '_board[') and contains(., 'Forumotion')]", "_board['Forumotion'] script"),
        ("//script[contains(., '_userdata[\"session_logged_in\"]')]", "_userdata script object"),
    ], sel)


def _invision(sel: Selector) -> Detection | None:
    found = _found("invision", "4", [
        ("//body[contains(concat(' ', normalize-space(@class), ' '), ' ipsApp ')]", "<body class='ipsApp'>"),
        ("//body[@data-pageapp and @data-pagecontroller]", "data-pageApp/data-pageController on <body>"),
    ], sel)
    if found:
        return found
    found = _found("invision", "5", [("//*[@data-ips-hook]", "data-ips-hook attributes (Invision Community 5)")], sel)
    if found:
        return found
    return _found("invision", "3", [
        ("//body[@id='ipboard_body']", "<body id='ipboard_body'> (IP.Board 3)"),
        ("//script[contains(., 'ipb.vars[')]", "ipb.vars script (IP.Board 3)"),
    ], sel)


def _smf(sel: Selector) -> Detection | None:
    return _found("smf", None, [
        ("//script[contains(., 'smf_scripturl') or contains(., 'smf_theme_url')]", "smf_scripturl/smf_theme_url script"),
        ("//a[contains(@href, 'action=profile;u=')]", "SMF profile links (action=profile;u=N)"),
        ("//a[contains(@href, '?topic=') and contains(@href, '.msg')]", "SMF message links (?topic=N.msgM)"),
    ], sel)


def _mybb(sel: Selector) -> Detection | None:
    return _found("mybb", None, [
        ("//script[contains(., 'my_post_key')]", "my_post_key script variable"),
        ("//script[contains(@src, 'jscripts/general.js')]", "jscripts/general.js"),
        ("//a[contains(@href, 'member.php?action=profile&uid=')]", "MyBB profile links (member.php?action=profile&uid=N)"),
    ], sel)


def _nodebb(sel: Selector) -> Detection | None:
    return _found("nodebb", None, [
        ("//script[contains(@src, '/assets/nodebb.min.js')]", "/assets/nodebb.min.js"),
        ("//link[contains(@href, '/plugins/nodebb-')] | //script[contains(@src, '/plugins/nodebb-')]",
         "/plugins/nodebb-* assets"),
        ("//*[@component='post'][@data-pid]", "[component='post'][data-pid] posts"),
    ], sel)


# Footer credits, read only when no structural marker matched: a link to the software's site whose
# surrounding text says "Powered by". (Text alone never decides; see the module docstring.)
_POWERED_BY = [
    ("invision", ("invisioncommunity.com", "invisionpower.com", "invisionboard.com"), "Invision"),
    ("smf", ("simplemachines.org",), "SMF"),
    ("mybb", ("mybb.com", "mybboard.net"), "MyBB"),
    ("nodebb", ("nodebb.org",), "NodeBB"),
    ("discourse", ("discourse.org",), "Discourse"),
    ("forumotion", ("forumotion.com", "forumactif.com"), "Forumotion"),
]


def _powered_by(sel: Selector) -> Detection:
    for engine, hosts, name in _POWERED_BY:
        host_test = " or ".join(f"contains(@href, '{host}')" for host in hosts)
        for link in sel.xpath(f"//a[{host_test}]"):
            around = " ".join(" ".join(link.xpath("..//text()").getall()).split()).lower()
            if "powered by" in around and name.lower() in around:
                return Detection(engine, None, (f"'Powered by {name}' footer link",))
    return Detection(None)


# --- phpBB ---------------------------------------------------------------------------------------

def _phpbb(sel: Selector) -> Detection | None:
    evidence = []
    if sel.xpath("//body[@id='phpbb']"):
        evidence.append("<body id='phpbb'>")
    copyright = " ".join(sel.xpath("//meta[@name='copyright']/@content").getall())
    footer = " ".join(" ".join(sel.xpath("//a[contains(@href, 'phpbb.com')]/..//text()").getall()).split())
    if "phpBB" in copyright:
        evidence.append(f"copyright meta {copyright!r}")
    if "phpBB" in footer:
        evidence.append("'Powered by phpBB' footer")
    if sel.xpath(
        "//div[re:test(@id, '^p\\d+$')][contains(concat(' ', normalize-space(@class), ' '), ' post ')]"
        "//a[contains(@href, 'memberlist.php')]"
        " | //ul[contains(concat(' ', normalize-space(@class), ' '), ' topiclist ')]"
        "//a[contains(@href, 'viewtopic.php') or contains(@href, 'viewforum.php')]"
    ):
        evidence.append("phpBB 3 post/topic-list markup with viewtopic/viewforum/memberlist links")
    phpbb2 = bool(sel.xpath("//a[contains(@href, 'profile.php?mode=viewprofile')]"))
    if not evidence or (evidence == ["'Powered by phpBB' footer"] and not phpbb2):
        return None
    if phpbb2 and not sel.xpath("//body[@id='phpbb'] | //a[contains(@href, 'memberlist.php')]"):
        return Detection("phpbb2", "2", tuple(evidence + ["profile.php?mode=viewprofile links (phpBB 2)"]))
    return Detection("phpbb", _phpbb_family(sel, copyright + " " + footer), tuple(evidence))


def _phpbb_family(sel: Selector, credits: str) -> str | None:
    # 3.0 credits the "phpBB Group"; 3.1 renamed it "phpBB Limited"; 3.2 brought Font Awesome icons and
    # <time datetime> post dates.
    if sel.xpath("//p[contains(concat(' ', normalize-space(@class), ' '), ' author ')]//time[@datetime]"
                 " | //i[contains(concat(' ', normalize-space(@class), ' '), ' fa-fw ')]"):
        return "3.2+"
    if "phpBB Limited" in credits:
        return "3.1"
    if "phpBB Group" in credits:
        return "3.0"
    return None
