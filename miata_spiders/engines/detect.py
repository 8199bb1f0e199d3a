"""Which forum software served a page, from the markers each one prints on every page.

Only structural markers count (generator meta tags, ids on ``<html>``/``<body>``, asset paths, the
software's own URL scheme and footer link), never words in the page text: a phpBB post that talks
about vBulletin must not turn the forum into a vBulletin one.

``detect(page)`` says what it found and why; ``detect_engine(page)`` gives only the engine name, a key
of ``miata_spiders.engines.ENGINES`` when we have a parser for it. Software we recognise but do not parse
("vbulletin5", "invision", "smf", "mybb", "nodebb", "forumotion", "phpbb2") is named all the
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
from functools import lru_cache

from lxml import etree
from parsel import Selector
from scrapy.exceptions import CloseSpider
from scrapy.http import TextResponse

from miata_spiders.engines.base import as_selector, html_root

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
    raw, sel, markup = _inputs(page)
    if raw is not None and raw.lstrip()[:1] in (b"{", b"["):
        return _detect_json(raw)
    if sel is None:
        return Detection(None)
    if sel.type == "json":
        return _detect_json_data(sel.root)
    doc = _Document(sel.root, markup)
    for check in (_discourse, _xenforo, _forumotion, _vbulletin, _invision, _smf, _mybb, _nodebb, _phpbb, _other_software):
        found = check(doc)
        if found is not None:
            return found
    return _powered_by(doc)


def _inputs(page) -> tuple[bytes | None, Selector | None, bytes | None]:
    """Raw bytes (when we have them), a selector of any accepted input, and the markup to look for
    markers in (lower-cased; None when we only have a selector)."""
    if isinstance(page, str):
        page = page.encode("utf-8")
    if isinstance(page, (bytes, bytearray)):
        raw = bytes(page)
        if raw.lstrip()[:1] in (b"{", b"["):
            return raw, None, None
        return raw, Selector(root=html_root(raw.decode("utf-8", errors="replace")), type="html"), _lowered(raw)
    if isinstance(page, Selector):
        return None, page, None
    body = getattr(page, "body", None)
    if isinstance(body, bytes) and body.lstrip()[:1] in (b"{", b"["):
        return body, None, None
    selector = as_selector(page) if isinstance(page, TextResponse) else None
    markup = None
    if isinstance(body, bytes) and _ascii_safe(getattr(page, "encoding", None) or "utf-8"):
        markup = _lowered(body)
    return body if isinstance(body, bytes) else None, selector, markup


def _lowered(body: bytes) -> bytes:
    # parsel drops NUL characters before parsing: a marker split by one is whole in the tree.
    return (body.replace(b"\x00", b"") if b"\x00" in body else body).lower()


_MARKER_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./?=[];:'\"<> "


@lru_cache(maxsize=64)
def _ascii_safe(encoding: str) -> bool:
    """Whether every ASCII character of text in ``encoding`` is the same single byte in the raw page
    (UTF-8, the cp125x and ISO-8859 families, Shift_JIS, GBK...; not UTF-16 or UTF-7): then a marker in
    the parsed text is in the raw bytes too."""
    try:
        return _MARKER_CHARS.encode(encoding) == _MARKER_CHARS.encode("ascii")
    except (LookupError, UnicodeError):
        return False


class _Document:
    """The parsed page and its markup. A whole-document query runs only when the markup holds a marker
    the query cannot match without (the tag, attribute or value it looks for, lower-cased): a ``bytes``
    search costs a fraction of a walk of the tree, and most checks of most pages stop there. Without
    the markup (a parsel Selector given), every query runs."""

    def __init__(self, root, markup: bytes | None):
        self.root = root
        self.markup = markup
        self._generator = _UNSET

    def has(self, *markers: bytes) -> bool:
        return self.markup is None or any(marker in self.markup for marker in markers)

    def find(self, query: str, *markers: bytes) -> list:
        """``query``'s results, or [] without running it when the markup holds none of ``markers``."""
        if markers and not self.has(*markers):
            return []
        return _compiled(query)(self.root)

    def first(self, query: str, *markers: bytes):
        found = self.find(query, *markers)
        return found[0] if found else None

    @property
    def generator(self) -> str:
        if self._generator is _UNSET:
            self._generator = str(self.first("//meta[@name='generator']/@content", b"generator") or "")
        return self._generator


_UNSET = object()


@lru_cache(maxsize=None)
def _compiled(query: str) -> etree.XPath:
    return etree.XPath(query, namespaces={"re": "http://exslt.org/regular-expressions"}, smart_strings=False)


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


def _discourse(doc: _Document) -> Detection | None:
    evidence = []
    generator = doc.generator
    match = _DISCOURSE_GENERATOR.search(generator)
    if match:
        evidence.append(f"generator {generator.split(' - ')[0]!r}")
    if doc.find("//meta[starts-with(@name, 'discourse')]", b"discourse"):
        evidence.append("<meta name='discourse_*'> tags")
    if doc.find("//*[@id='data-discourse-setup' or @data-discourse-setup]", b"data-discourse-setup"):
        evidence.append("data-discourse-setup")
    if doc.find("//*[@id='data-preloaded'][@data-preloaded]", b"data-preloaded"):
        evidence.append("#data-preloaded store")
    if not evidence:
        return None
    return Detection("discourse", match.group(1) if match else None, tuple(evidence))


# --- XenForo -------------------------------------------------------------------------------------

def _xenforo(doc: _Document) -> Detection | None:
    html_id = doc.first("/html/@id")
    if html_id == "XenForo":
        return Detection("xenforo", "1", ("<html id='XenForo'>",))
    if html_id == "XF":
        return Detection("xenforo", "2", ("<html id='XF'>",))
    if doc.find("/html[@data-app and @data-template]") or doc.find("//*[@data-xf-init]", b"data-xf-init"):
        return Detection("xenforo", "2", ("data-xf-init / data-app+data-template attributes",))
    if doc.find("//script[contains(., 'XenForo.')]", b"xenforo."):
        return Detection("xenforo", "1", ("XenForo.* JavaScript",))
    if doc.find("//a[contains(@href, 'xenforo.com')][contains(., 'XenForo')]", b"xenforo.com"):
        return Detection("xenforo", None, ("'Forum software by XenForo' footer link",))
    return None


# --- vBulletin -----------------------------------------------------------------------------------

def _vbulletin(doc: _Document) -> Detection | None:
    evidence = []
    generator = doc.generator
    match = _VB_GENERATOR.search(generator)
    major = minor = None
    if match:
        major, minor = match.group(1), match.group(2)
        evidence.append(f"generator {generator!r}")
    if doc.find("//script[contains(., 'vBulletin_init')]", b"vbulletin_init"):
        evidence.append("vBulletin_init() script")
    if doc.find("/html[@id='vbulletin_html']"):
        evidence.append("<html id='vbulletin_html'>")
        major = major or "4"
    # Admins often remove the generator tag; vBulletin's own script bundle and post ids stay.
    if doc.find("//script[contains(@src, 'clientscript/vbulletin')]", b"clientscript/vbulletin"):
        evidence.append("clientscript/vbulletin*.js")
    if doc.find("//*[starts-with(@id, 'post_message_')]", b"post_message_"):
        evidence.append("post_message_<id> elements")
    # vBulletin 5 rewrote the templates: its page body id, node-id posts and js/*-rollup-<version>.js bundles.
    vb5 = []
    if doc.find("//body[@id='vb-page-body']", b"vb-page-body"):
        vb5.append("<body id='vb-page-body'>")
    if doc.find("//*[@data-node-id][contains(concat(' ', normalize-space(@class), ' '), ' b-post ')]", b"data-node-id"):
        vb5.append("li.b-post[data-node-id] posts")
    if doc.find("//script[contains(@src, 'js/header-rollup-') or contains(@src, 'js/footer-rollup-')]", b"-rollup-"):
        vb5.append("js/*-rollup-<version>.js bundles")
    if vb5 and major in (None, "5"):
        return Detection("vbulletin5", "5", tuple(evidence + vb5))
    if not evidence:
        return None
    # Internet Brands' skin: its "nextgen" asset bundle, images on its ibsrv.net CDN, and its own 3.9 line
    # (classic vBulletin 3 ended at 3.8.11).
    ib = []
    if doc.find("//link[contains(@href, '/assets/nextgen/')] | //script[contains(@src, '/assets/nextgen/')]",
                b"/assets/nextgen/"):
        ib.append("/assets/nextgen/ assets")
    if doc.find("//img[contains(@src, 'ibsrv.net') or contains(@data-src, 'ibsrv.net')]", b"ibsrv.net"):
        ib.append("ibsrv.net images")
    if major == "3" and minor == "9":
        ib.append("vBulletin 3.9 (Internet Brands' line)")
    if ib and major in (None, "3"):
        return Detection("ib-vbulletin", "3", tuple(evidence + ib))
    if major == "5":
        return Detection("vbulletin5", "5", tuple(evidence))
    return Detection("vbulletin", major, tuple(evidence))


# --- software we name but do not parse ----------------------------------------------------------

def _found(engine: str, family: str | None, marks: list[tuple[str, bytes, str]], doc: _Document) -> Detection | None:
    """``marks``: (query, a marker its markup cannot be without, evidence label)."""
    evidence = tuple(label for query, marker, label in marks if doc.find(query, marker))
    return Detection(engine, family, evidence) if evidence else None


def _forumotion(doc: _Document) -> Detection | None:
    # Hosted Forumotion/Forumactif boards (phpBB-, punBB- and Invision-like templates alike) load their
    # scripts from Forumotion's illiweb.com CDN and declare the _board/_userdata script objects.
    return _found("forumotion", None, [
        ("//script[contains(@src, 'illiweb.com/') and contains(@src, '/frm/')]", b"illiweb.com/",
         "illiweb.com/…/frm/ scripts"),
        ("//script[contains(., '_board[') and contains(., 'Forumotion')]", b"_board[", "_board['Forumotion'] script"),
        ("//script[contains(., '_userdata[\"session_logged_in\"]')]", b'_userdata["session_logged_in"]',
         "_userdata script object"),
    ], doc)


def _invision(doc: _Document) -> Detection | None:
    found = _found("invision", "4", [
        ("//body[contains(concat(' ', normalize-space(@class), ' '), ' ipsApp ')]", b"ipsapp", "<body class='ipsApp'>"),
        ("//body[@data-pageapp and @data-pagecontroller]", b"data-pageapp",
         "data-pageApp/data-pageController on <body>"),
    ], doc)
    if found:
        return found
    found = _found("invision", "5", [("//*[@data-ips-hook]", b"data-ips-hook",
                                      "data-ips-hook attributes (Invision Community 5)")], doc)
    if found:
        return found
    return _found("invision", "3", [
        ("//body[@id='ipboard_body']", b"ipboard_body", "<body id='ipboard_body'> (IP.Board 3)"),
        ("//script[contains(., 'ipb.vars[')]", b"ipb.vars[", "ipb.vars script (IP.Board 3)"),
    ], doc)


def _smf(doc: _Document) -> Detection | None:
    return _found("smf", None, [
        ("//script[contains(., 'smf_scripturl') or contains(., 'smf_theme_url')]", b"smf_",
         "smf_scripturl/smf_theme_url script"),
        ("//a[contains(@href, 'action=profile;u=')]", b"action=profile", "SMF profile links (action=profile;u=N)"),
        ("//a[contains(@href, '?topic=') and contains(@href, '.msg')]", b"?topic=", "SMF message links (?topic=N.msgM)"),
    ], doc)


def _mybb(doc: _Document) -> Detection | None:
    return _found("mybb", None, [
        ("//script[contains(., 'my_post_key')]", b"my_post_key", "my_post_key script variable"),
        ("//script[contains(@src, 'jscripts/general.js')]", b"jscripts/general.js", "jscripts/general.js"),
        # (the href's "&" is "&amp;" in the markup)
        ("//a[contains(@href, 'member.php?action=profile&uid=')]", b"member.php?action=profile",
         "MyBB profile links (member.php?action=profile&uid=N)"),
    ], doc)


def _nodebb(doc: _Document) -> Detection | None:
    return _found("nodebb", None, [
        ("//script[contains(@src, '/assets/nodebb.min.js')]", b"/assets/nodebb.min.js", "/assets/nodebb.min.js"),
        ("//link[contains(@href, '/plugins/nodebb-')] | //script[contains(@src, '/plugins/nodebb-')]",
         b"/plugins/nodebb-", "/plugins/nodebb-* assets"),
        ("//*[@component='post'][@data-pid]", b"data-pid", "[component='post'][data-pid] posts"),
    ], doc)


# More forum software, each from markup its templates always print (one row each: engine, its markers).
_OTHER_SOFTWARE = [
    ("flarum", [("//div[@id='flarum-loading']", b"flarum-loading", "#flarum-loading"),
                ("//script[contains(., 'flarum.core')]", b"flarum.core", "flarum.core script")]),
    ("vanilla", [("//script[contains(., 'gdn.meta')]", b"gdn.meta", "gdn.meta script (Vanilla)"),
                 ("//body[starts-with(@id, 'vanilla_')]", b"vanilla_", "<body id='vanilla_*'>")]),
    ("fluxbb", [("//div[@id='punwrap']", b"punwrap", "#punwrap (FluxBB/PunBB)"),
                ("//div[starts-with(@id, 'pun') and contains(@class, 'pun')]", b"pun", "div#pun* (FluxBB/PunBB)")]),
    ("woltlab", [("//body[@data-application='wbb'] | //body[starts-with(@id, 'tpl_wbb_')]", b"wbb",
                  "WoltLab Burning Board template ids")]),
    ("bbpress", [("//*[contains(concat(' ', normalize-space(@class), ' '), ' bbp-reply-content ')]", b"bbp-reply-content",
                  "bbPress .bbp-reply-content")]),
    ("ubbthreads", [("//a[contains(@href, 'ubbthreads.php')]", b"ubbthreads.php", "ubbthreads.php links")]),
    ("proboards", [("//script[contains(@src, 'proboards.com')] | //link[contains(@href, 'proboards.com')]",
                    b"proboards.com", "proboards.com assets")]),
    ("yabb", [("//a[contains(@href, 'YaBB.pl') or contains(@href, 'YaBB.cgi')]", b"yabb.", "YaBB.pl links")]),
]


def _other_software(doc: _Document) -> Detection | None:
    for engine, marks in _OTHER_SOFTWARE:
        found = _found(engine, None, marks, doc)
        if found:
            return found
    return None


# Footer credits, read only when no structural marker matched: a link to the software's site whose
# surrounding text says "Powered by". (Text alone never decides; see the module docstring.)
_POWERED_BY = [
    ("invision", ("invisioncommunity.com", "invisionpower.com", "invisionboard.com"), "Invision"),
    ("smf", ("simplemachines.org",), "SMF"),
    ("mybb", ("mybb.com", "mybboard.net"), "MyBB"),
    ("nodebb", ("nodebb.org",), "NodeBB"),
    ("discourse", ("discourse.org",), "Discourse"),
    ("forumotion", ("forumotion.com", "forumactif.com"), "Forumotion"),
    ("flarum", ("flarum.org",), "Flarum"),
    ("vanilla", ("vanillaforums.com", "vanillaforums.org"), "Vanilla"),
    ("fluxbb", ("fluxbb.org", "punbb.informer.com", "punbb.org"), "BB"),  # "FluxBB" / "PunBB"
    ("woltlab", ("woltlab.com",), "WoltLab"),
    ("bbpress", ("bbpress.org",), "bbPress"),
    ("ubbthreads", ("ubbcentral.com",), "UBB.threads"),
    ("proboards", ("proboards.com",), "ProBoards"),
    ("yabb", ("yabbforum.com",), "YaBB"),
]
_AROUND = etree.XPath("..//text()", smart_strings=False)


def _powered_by(doc: _Document) -> Detection:
    for engine, hosts, name in _POWERED_BY:
        host_test = " or ".join(f"contains(@href, '{host}')" for host in hosts)
        for link in doc.find(f"//a[{host_test}]", *(host.encode() for host in hosts)):
            around = " ".join(" ".join(_AROUND(link)).split()).lower()
            if "powered by" in around and name.lower() in around:
                return Detection(engine, None, (f"'Powered by {name}' footer link",))
    return Detection(None)


# --- phpBB ---------------------------------------------------------------------------------------

def _phpbb(doc: _Document) -> Detection | None:
    evidence = []
    if doc.find("//body[@id='phpbb']", b"phpbb"):
        evidence.append("<body id='phpbb'>")
    copyright = " ".join(doc.find("//meta[@name='copyright']/@content", b"copyright"))
    footer = " ".join(" ".join(doc.find("//a[contains(@href, 'phpbb.com')]/..//text()", b"phpbb.com")).split())
    if "phpBB" in copyright:
        evidence.append(f"copyright meta {copyright!r}")
    if "phpBB" in footer:
        evidence.append("'Powered by phpBB' footer")
    if doc.find(
        "//div[re:test(@id, '^p\\d+$')][contains(concat(' ', normalize-space(@class), ' '), ' post ')]"
        "//a[contains(@href, 'memberlist.php')]"
        " | //ul[contains(concat(' ', normalize-space(@class), ' '), ' topiclist ')]"
        "//a[contains(@href, 'viewtopic.php') or contains(@href, 'viewforum.php')]",
        b"memberlist.php", b"topiclist",
    ):
        evidence.append("phpBB 3 post/topic-list markup with viewtopic/viewforum/memberlist links")
    # subsilver2 (and styles built on it) has neither body#phpbb nor prosilver's post markup; phpBB 3's
    # user control panel (ucp.php: login and register in every page header) and b.postauthor names are its own.
    if doc.find("//a[contains(@href, 'ucp.php')] | //b[@class='postauthor']", b"ucp.php", b"postauthor"):
        evidence.append("phpBB 3 ucp.php links / b.postauthor names")
    phpbb2 = bool(doc.find("//a[contains(@href, 'profile.php?mode=viewprofile')]", b"profile.php?mode=viewprofile"))
    if not evidence or (evidence == ["'Powered by phpBB' footer"] and not phpbb2):
        return None
    if phpbb2 and not doc.find("//body[@id='phpbb'] | //a[contains(@href, 'memberlist.php')]", b"phpbb",
                               b"memberlist.php"):
        return Detection("phpbb2", "2", tuple(evidence + ["profile.php?mode=viewprofile links (phpBB 2)"]))
    return Detection("phpbb", _phpbb_family(doc, copyright + " " + footer), tuple(evidence))


def _phpbb_family(doc: _Document, credits: str) -> str | None:
    # 3.0 credits the "phpBB Group"; 3.1 renamed it "phpBB Limited"; 3.2 brought Font Awesome icons and
    # <time datetime> post dates.
    if doc.find("//p[contains(concat(' ', normalize-space(@class), ' '), ' author ')]//time[@datetime]"
                " | //i[contains(concat(' ', normalize-space(@class), ' '), ' fa-fw ')]", b"datetime", b"fa-fw"):
        return "3.2+"
    if "phpBB Limited" in credits:
        return "3.1"
    if "phpBB Group" in credits:
        return "3.0"
    return None
