"""XenForo skins and variants seen on real forums (issue 12), on pages written here in XenForo's own
markup (post_macros / message_macros / bb_code_tag_quote of XF 2.x, message / bb_code_tag_quote of XF 1.x):
every field comes from the post's own container, positions wherever the counter is printed, the forum
path down to the thread's own forum, machine-readable dates before text, quotes in any language, and
hostile nesting parsed in linear time or reported as truncated.
"""

from datetime import datetime, timezone

import pytest
from scrapy.http import HtmlResponse

from miata_spiders.dates import DateResolver
from miata_spiders.engines import xenforo

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
URL = "https://forum.example/threads/clutch-judder.7/"


def parse(html: str, url: str = URL, now: datetime = NOW):
    response = HtmlResponse(url=url, body=html.encode(), encoding="utf-8")
    assert xenforo.page_kind(response) == "thread"
    return xenforo.parse_thread_page(response, url, DateResolver(now=now))


def xf2_post(post_id: int, author: str, user_id: int, number: str, *, body: str = "Hello.",
             when: str = '<time class="u-dt" datetime="2025-03-01T09:00:00+0000" data-time="1740819600">'
                         'Mar 1, 2025</time>', edited: str = "", tail: str = "</article>") -> str:
    """One XF 2.x post (post_macros::post), ``number`` being the markup of the "#N" counter's list item."""
    return f"""
<article class="message message--post js-post js-inlineModContainer" data-author="{author}" data-content="post-{post_id}" id="js-post-{post_id}">
 <span class="u-anchorTarget" id="post-{post_id}"></span>
 <div class="message-inner">
  <div class="message-cell message-cell--user"><section class="message-user">
   <div class="message-avatar"><a href="/members/{author.lower()}.{user_id}/" class="avatar avatar--m" data-user-id="{user_id}"></a></div>
   <div class="message-userDetails"><h4 class="message-name"><a href="/members/{author.lower()}.{user_id}/" class="username" data-user-id="{user_id}">{author}</a></h4></div>
  </section></div>
  <div class="message-cell message-cell--main"><div class="message-main js-quickEditTarget">
   <header class="message-attribution message-attribution--split">
    <ul class="message-attribution-main listInline"><li class="u-concealed"><a href="/threads/clutch-judder.7/post-{post_id}" rel="nofollow">{when}</a></li></ul>
    <ul class="message-attribution-opposite message-attribution-opposite--list">
     <li><a href="/threads/clutch-judder.7/post-{post_id}" data-xf-init="share-tooltip"><i class="fa--xf far fa-share-alt"></i></a></li>
     {number}
    </ul>
   </header>
   <div class="message-content js-messageContent"><div class="message-userContent lbContainer js-lbContainer">
    <article class="message-body js-selectToQuote"><div class="bbWrapper">{body}</div><div class="js-selectToQuoteEnd">&nbsp;</div></article>
   </div>
   {edited}
   </div>
   <footer class="message-footer"></footer>
  </div></div>
 </div>
{tail}"""


def xf2_page(posts: str, *, crumbs: str = "", html_attrs: str = 'data-container-key="node-9"') -> str:
    trail = crumbs or """
<li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><a href="/" itemprop="item"><span itemprop="name">Forums</span></a><meta itemprop="position" content="1" /></li>
<li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><a href="/forums/drivetrain.9/" itemprop="item"><span itemprop="name">Drivetrain</span></a><meta itemprop="position" content="2" /></li>"""
    return f"""<!DOCTYPE html>
<html id="XF" lang="en-US" data-app="public" data-template="thread_view" {html_attrs} data-content-key="thread-7" class="has-no-js template-thread_view">
<head><meta charset="utf-8" /><title>Clutch judder | Forum</title><link rel="canonical" href="{URL}" /></head>
<body data-template="thread_view">
<div class="p-body"><ul class="p-breadcrumbs" itemscope itemtype="https://schema.org/BreadcrumbList">{trail}</ul>
<div class="p-title"><h1 class="p-title-value">Clutch judder</h1></div>
<div class="block block--messages"><div class="block-body js-replyNewMessageContainer">
{posts}
</div></div>
<ul class="p-breadcrumbs p-breadcrumbs--bottom" itemscope itemtype="https://schema.org/BreadcrumbList">{trail}</ul>
</div>
<script>XF.config = {{ time: {{ now: 1795608000, today: 1795564800, todayDow: 2 }} }};</script>
</body></html>"""


LINKED_NUMBER = '<li><a href="/threads/clutch-judder.7/post-{id}" rel="nofollow">#{n}</a></li>'
SPAN_NUMBER = "<li><span>#{n}</span></li>"
LAST_EDIT = ('<div class="message-lastEdit">Last edited: <time class="u-dt" datetime="2025-03-02T18:30:00+0000" '
             'data-time="1740940200">Mar 2, 2025</time></div>')


# --- positions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("counter", [LINKED_NUMBER, SPAN_NUMBER], ids=["link", "span"])
def test_positions_are_read_from_the_counter_whether_a_link_or_plain_text(counter):
    posts = "".join(xf2_post(70 + n, "Ann", 5, counter.format(id=70 + n, n=f"{n:,}")) for n in (1, 2, 1024))
    thread = parse(xf2_page(posts))
    assert [p.position for p in thread.posts] == [1, 2, 1024]
    # The post URL is the counter link, or, with a plain-text counter, the header's permalink.
    assert [p.url for p in thread.posts] == [f"https://forum.example/threads/clutch-judder.7/post-{70 + n}" for n in (1, 2, 1024)]


# --- one post's edit stays with that post ------------------------------------------------------------

def test_one_edited_post_gives_its_edit_date_to_no_other_post():
    posts = "".join(xf2_post(70 + n, name, uid, LINKED_NUMBER.format(id=70 + n, n=n), edited=LAST_EDIT if n == 2 else "")
                    for n, (name, uid) in enumerate([("Ann", 5), ("Bob", 6), ("Cat", 7)], start=1))
    thread = parse(xf2_page(posts))
    assert [(p.post_id, p.edited_by, p.edited_at) for p in thread.posts] == [
        ("71", None, None), ("72", "Bob", datetime(2025, 3, 2, 18, 30, tzinfo=timezone.utc)), ("73", None, None)]


def test_posts_nested_by_a_skins_unclosed_element_keep_their_own_fields():
    # A skin whose post is a <div> and whose template opens one <div> too many at its end: that post's
    # closing tag closes the stray one, so the HTML parser builds each following post INSIDE the one
    # before, and a query over a post's subtree would see every later post's edit note, dates and images.
    def skinned(n, name, uid, **kw):
        return xf2_post(70 + n, name, uid, SPAN_NUMBER.format(n=n), tail='<div class="clearfix"></div>', **kw).replace(
            "<article class=\"message message--post", "<div class=\"message message--post", 1)
    posts = (skinned(1, "Ann", 5) + skinned(2, "Bob", 6, body='Look: <img src="https://img.example/b.jpg" alt="" />')
             + skinned(3, "Cat", 7, edited=LAST_EDIT, body="Fixed it."))
    response = HtmlResponse(url=URL, body=xf2_page(posts).encode(), encoding="utf-8")
    ann_node = response.xpath("//*[@data-content='post-71']")[0]
    assert ann_node.xpath(".//*[@data-content='post-73']"), "the markup no longer nests the posts"
    thread = parse(xf2_page(posts))
    assert [p.post_id for p in thread.posts] == ["71", "72", "73"]
    ann, bob, cat = thread.posts
    assert [(p.author, p.author_id, p.position) for p in thread.posts] == [("Ann", "5", 1), ("Bob", "6", 2), ("Cat", "7", 3)]
    assert (ann.edited_at, bob.edited_at) == (None, None)
    assert cat.edited_at == datetime(2025, 3, 2, 18, 30, tzinfo=timezone.utc)
    assert (ann.body_text, ann.images, bob.body_text, bob.images) == ("Hello.", [], "Look:", ["https://img.example/b.jpg"])
    assert cat.body_text == "Fixed it."


# --- forum path and forum id ------------------------------------------------------------------------

def crumb(href: str, name: str, position: int) -> str:
    return (f'<li itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><a href="{href}" itemprop="item">'
            f'<span itemprop="name">{name}</span></a><meta itemprop="position" content="{position}" /></li>')


def test_forum_path_runs_down_to_the_threads_own_forum_even_when_its_crumb_has_no_id():
    # Route filters print /forums/mk1-gearbox/ for /forums/mk1-gearbox.12/: the last crumb is still the
    # thread's own forum, and the page names its node (data-container-key) for the id.
    crumbs = (crumb("https://example.com/", "Home", 1) + crumb("/", "Forums", 2) + crumb("/.#mazda-mx-5.1", "Mazda MX-5", 3)
              + crumb("/forums/mk1-tech.4/", "Mk1 Tech", 4) + crumb("/forums/mk1-gearbox/", "Mk1 Gearbox", 5))
    posts = xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1))
    thread = parse(xf2_page(posts, crumbs=crumbs, html_attrs='data-container-key="node-12"'))
    assert thread.forum_path == ["Mazda MX-5", "Mk1 Tech", "Mk1 Gearbox"]
    assert thread.forum_id == "12"


def test_forum_id_from_the_last_crumb_when_the_page_does_not_name_its_node():
    crumbs = crumb("/", "Forums", 1) + crumb("/categories/tech.3/", "Tech", 2) + crumb("/forums/brakes.11/", "Brakes", 3)
    thread = parse(xf2_page(xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1)), crumbs=crumbs, html_attrs=""))
    assert (thread.forum_path, thread.forum_id) == (["Tech", "Brakes"], "11")


def test_only_the_bottom_breadcrumbs():
    page = xf2_page(xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1)), html_attrs="")
    page = page.replace('<ul class="p-breadcrumbs" itemscope', '<ul class="p-breadcrumbs-empty" itemscope', 1)
    page = page.replace('<ul class="p-breadcrumbs-empty" itemscope itemtype="https://schema.org/BreadcrumbList">', "<div>", 1)
    thread = parse(page)
    assert (thread.forum_path, thread.forum_id) == (["Drivetrain"], "9")


# --- dates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("when, expected", [
    # The machine-readable instant wins over relative text.
    ('<time class="u-dt" datetime="2026-11-25T11:59:00+0000" data-time="1795607940">1 minute ago</time>',
     datetime(2026, 11, 25, 11, 59, tzinfo=timezone.utc)),
    ('<time class="u-dt" data-timestamp="1795599240" data-time="09:34">Today at 9:34 AM</time>',
     datetime(2026, 11, 25, 9, 34, tzinfo=timezone.utc)),
    # No attribute at all: the printed text, read at the page's own offset (its JS clock says UTC).
    ('<time class="u-dt">Today at 9:14 AM</time>', datetime(2026, 11, 25, 9, 14, tzinfo=timezone.utc)),
    ('<time>Mar 3, 2021 at 10:05 PM</time>', datetime(2021, 3, 3, 22, 5, tzinfo=timezone.utc)),
], ids=["datetime-over-ago", "data-timestamp", "text-today", "text-unclassed-time"])
def test_xenforo2_dates(when, expected):
    thread = parse(xf2_page(xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1), when=when)))
    assert thread.posts[0].posted_at == expected
    assert thread.unparsed_dates == 0


# --- quotes --------------------------------------------------------------------------------------

XF2_QUOTE = """<blockquote data-attributes="member: 6" data-quote="Bob" data-source="post: 72"
 class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch">
 <div class="bbCodeBlock-title"><a href="/goto/post?id=72" class="bbCodeBlock-sourceJump" rel="nofollow" data-xf-click="attribution" data-content-selector="#post-72">Bob said:</a></div>
 <div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent">{inner}</div>
 <div class="bbCodeBlock-expandLink js-expandLink"><a role="button" tabindex="0">Click to expand...</a></div></div>
</blockquote>"""


@pytest.mark.parametrize("header, author", [("Bob said:", "Bob"), ("Bob schrieb:", "Bob"), ("Bob a dit :", "Bob"),
                                            ("Bob ha scritto:", "Bob"), ("Bob dijo:", "Bob")])
def test_quote_author_and_post_from_the_link_whatever_the_language(header, author):
    # No data-quote / data-source (an older or customised template): the header link names the post.
    quote = XF2_QUOTE.format(inner="The flywheel is glazed.").replace(' data-quote="Bob" data-source="post: 72"', "")
    quote = quote.replace(">Bob said:</a>", f">{header}</a>")
    thread = parse(xf2_page(xf2_post(73, "Cat", 7, LINKED_NUMBER.format(id=73, n=3), body=quote + "New clutch then.")))
    (post,) = thread.posts
    assert post.quotes == [{"author": author, "post_id": "72", "text": "The flywheel is glazed."}]
    assert post.body_text == "New clutch then."


def test_nested_xenforo2_quotes_each_keep_their_own_words():
    inner = XF2_QUOTE.format(inner="Glazed flywheel?").replace("Bob", "Ann").replace("72", "71")
    outer = XF2_QUOTE.format(inner=inner + "Yes, glazed.")
    (post,) = parse(xf2_page(xf2_post(73, "Cat", 7, LINKED_NUMBER.format(id=73, n=3), body=outer + "Replace it."))).posts
    assert post.quotes == [{"author": "Bob", "post_id": "72", "text": "Yes, glazed."},
                           {"author": "Ann", "post_id": "71", "text": "Glazed flywheel?"}]
    assert post.body_text == "Replace it."


# --- XenForo 1 ---------------------------------------------------------------------------------------

def xf1_page(posts: str) -> str:
    return f"""<!DOCTYPE html>
<html id="XenForo" lang="de-DE" class="Public NoJs">
<head><base href="https://alt.example/" /><link rel="canonical" href="https://alt.example/index.php?threads/kupplung.8/" /></head>
<body><fieldset class="breadcrumb"><div class="boardTitle"><strong>Alt</strong></div><span class="crumbs">
 <span class="crust homeCrumb"><a href="https://alt.example/" class="crumb"><span>Forum</span></a></span>
 <span class="crust"><a href="https://alt.example/index.php?categories/technik.1/" class="crumb"><span itemprop="title">Technik</span></a></span>
 <span class="crust"><a href="https://alt.example/index.php?forums/antrieb.5/" class="crumb"><span itemprop="title">Antrieb</span></a></span>
</span></fieldset>
<div class="titleBar"><h1><span class="prefix prefixBlue">Frage</span> Kupplung rutscht</h1></div>
<ol class="messageList" id="messageList">{posts}</ol>
<script>jQuery.extend(true, XenForo, {{ visitor: {{ user_id: 0 }}, serverTimeInfo: {{ now: 1795608000, today: 1795561200, todayDow: 2 }} }});</script>
</body></html>"""


def xf1_post(post_id: int, author: str, user_id: int, number: int, date: str, body: str, extra: str = "") -> str:
    return f"""
<li id="post-{post_id}" class="message" data-author="{author}">
 <div class="messageUserInfo"><div class="messageUserBlock"><h3 class="userText">
  <a href="index.php?members/{author.lower()}.{user_id}/" class="username" dir="auto" itemprop="name">{author}</a></h3></div></div>
 <div class="messageInfo primaryContent"><div class="messageContent"><article>
  <blockquote class="messageText SelectQuoteContainer ugc baseHtml">{body}<div class="messageTextEndMarker">&nbsp;</div></blockquote>
 </article></div>{extra}
 <div class="messageMeta ToggleTriggerAnchor"><div class="privateControls">
  <span class="item muted"><span class="authorEnd"><a href="index.php?members/{author.lower()}.{user_id}/" class="username author">{author}</a>,</span>
  <a href="index.php?threads/kupplung.8/#post-{post_id}" title="Permalink" class="datePermalink">{date}</a></span></div>
  <div class="publicControls"><a href="index.php?threads/kupplung.8/#post-{post_id}" title="Permalink" class="item muted postNumber hashPermalink OverlayTrigger">#{number}</a></div>
 </div></div>
</li>"""


XF1_QUOTE = """<div class="bbCodeBlock bbCodeQuote" data-author="{author}">
 <aside><div class="attribution type">{header}
  <a href="goto/post?id={post_id}#post-{post_id}" class="AttributionLink">&uarr;</a></div>
 <blockquote class="quoteContainer"><div class="quote">{text}</div><div class="quoteExpand">Zum Vergrößern anklicken....</div></blockquote>
 </aside></div>"""


def test_xenforo1_forum_in_german_without_friendly_urls():
    quote = XF1_QUOTE.format(author="", header="Hans schrieb:", post_id=801, text="Rutscht bei Vollgas.")
    french = XF1_QUOTE.format(author="Marie", header="Marie a dit :", post_id=802, text="Embrayage usé.")
    posts = (xf1_post(801, "Hans", 41, 1, '<abbr class="DateTime" data-time="1795599240" data-diff="8760" '
                      'data-datestring="25.11.2026" data-timestring="09:34">Heute um 09:34</abbr>', "Kupplung rutscht.")
             + xf1_post(802, "Marie", 42, 2, '<span class="DateTime" title="24.11.2026 um 21:05">24.11.2026</span>',
                        "Ça arrive.", extra='<div class="editDate">Zuletzt bearbeitet von einem Moderator: '
                        '<span class="DateTime" title="25.11.2026 um 08:00">25.11.2026</span></div>')
             + xf1_post(803, "Gast", 0, 3, '<abbr class="DateTime" data-time="1795606000">vor 33 Minuten</abbr>',
                        quote + french + "Neue Kupplung.").replace('href="index.php?members/gast.0/" ', ""))
    thread = parse(xf1_page(posts), url="https://alt.example/index.php?threads/kupplung.8/")
    assert (thread.thread_id, thread.forum_id, thread.title) == ("8", "5", "Kupplung rutscht")
    assert thread.forum_path == ["Technik", "Antrieb"]
    hans, marie, guest = thread.posts
    assert [(p.post_id, p.position, p.author, p.author_id) for p in thread.posts] == [
        ("801", 1, "Hans", "41"), ("802", 2, "Marie", "42"), ("803", 3, "Gast", None)]
    # data-time is exact; a title is printed at the page's offset (serverTimeInfo: midnight at 23:00 UTC = UTC+1).
    assert hans.posted_at == datetime(2026, 11, 25, 9, 34, tzinfo=timezone.utc)
    assert marie.posted_at == datetime(2026, 11, 24, 20, 5, tzinfo=timezone.utc)
    assert guest.posted_at == datetime(2026, 11, 25, 11, 26, 40, tzinfo=timezone.utc)
    # A moderator's edit names nobody; it stays on Marie's post.
    assert (marie.edited_by, marie.edited_at) == (None, datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc))
    assert (hans.edited_at, guest.edited_at) == (None, None)
    assert guest.quotes == [{"author": "Hans", "post_id": "801", "text": "Rutscht bei Vollgas."},
                            {"author": "Marie", "post_id": "802", "text": "Embrayage usé."}]
    assert guest.body_text == "Neue Kupplung."
    assert hans.url == "https://alt.example/index.php?threads/kupplung.8/#post-801"


def test_member_ids_from_every_url_form_and_data_user_id():
    assert xenforo.member_id_from_url("https://f.example/members/ann-b.5/") == "5"
    assert xenforo.member_id_from_url("https://f.example/index.php?members/ann-b.5/") == "5"
    assert xenforo.member_id_from_url("https://f.example/members/5/") == "5"
    assert xenforo.member_id_from_url("https://f.example/threads/members.5/") is None
    post = xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1)).replace('href="/members/ann.5/" class="username" ',
                                                                            'class="username" ')
    assert parse(xf2_page(post)).posts[0].author_id == "5"  # data-user-id alone
    guest = post.replace('data-user-id="5"', 'data-user-id="0"')
    assert parse(xf2_page(guest)).posts[0].author_id is None


# --- hostile nesting ------------------------------------------------------------------------------------

def nested_quotes(depth: int) -> str:
    quote = XF2_QUOTE.format(inner="{inner}")
    opening, closing = quote.split("{inner}")
    return opening * depth + "deepest words" + closing * depth


def test_quotes_nested_300_deep_parse_completely():
    posts = (xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1), body=nested_quotes(300) + "My reply.")
             + xf2_post(72, "Bob", 6, LINKED_NUMBER.format(id=72, n=2), body="After the deep one."))
    html = xf2_page(posts)
    thread = parse(html)
    assert [p.post_id for p in thread.posts] == ["71", "72"]
    deep, after = thread.posts
    assert len(deep.quotes) == 300
    assert deep.quotes[-1]["text"] == "deepest words" and deep.body_text == "My reply."
    assert all(q == {"author": "Bob", "post_id": "72", "text": ""} for q in deep.quotes[:-1])
    assert after.body_text == "After the deep one."
    assert xenforo.ENGINE.missing_posts(html.encode(), thread) == 0


def test_divs_nested_1000_deep_parse_completely():
    body = "<div>" * 1000 + "down here" + "</div>" * 1000 + "and back up"
    posts = (xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1), body=body)
             + xf2_post(72, "Bob", 6, LINKED_NUMBER.format(id=72, n=2), body="After the deep one."))
    thread = parse(xf2_page(posts))
    assert [p.body_text for p in thread.posts] == ["down here\n\nand back up", "After the deep one."]


@pytest.mark.parametrize("depth", [1000, 5000])
def test_quotes_nested_beyond_what_the_html_parser_builds_are_reported_as_missing_posts(depth):
    # XenForo 2 prints three elements per quote level; lxml stops building the tree near 2,000 levels
    # (about 680 quotes): the posts after it vanish from the tree, and the page must say so.
    posts = (xf2_post(71, "Ann", 5, LINKED_NUMBER.format(id=71, n=1), body=nested_quotes(depth))
             + xf2_post(72, "Bob", 6, LINKED_NUMBER.format(id=72, n=2), body="After the deep one."))
    html = xf2_page(posts)
    response = HtmlResponse(url=URL, body=html.encode(), encoding="utf-8")
    thread = xenforo.parse_thread_page(response, URL, DateResolver(now=NOW))
    assert xenforo.ENGINE.missing_posts(html.encode(), thread) == 1
    assert thread.posts[0].post_id == "71" and len(thread.posts[0].quotes) > 600
