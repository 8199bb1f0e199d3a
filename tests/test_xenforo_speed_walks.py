"""The XenForo post walks that run in C (lxml's iterators) instead of Python walks of the body keep what
the Python walks kept: images and links inside a quote, at any depth, are the quote's and not the post's;
quote blocks are recognised by their class tokens; the post index finds the same parts whatever tags
carry them; and leaving out quoted sub-trees costs linear time however deep the quotes nest.
"""

from lxml import etree

from miata_spiders.engines.html_text import outside
from tests.test_xenforo_skins import LINKED_NUMBER, parse, xf2_page, xf2_post


def quote(author: str, post_id: int, inner: str) -> str:
    """XF 2.x bb_code_tag_quote."""
    return (f'<blockquote class="bbCodeBlock bbCodeBlock--expandable bbCodeBlock--quote js-expandWatch" '
            f'data-quote="{author}" data-source="post: {post_id}"><div class="bbCodeBlock-title">'
            f'<a href="/goto/post?id={post_id}" class="bbCodeBlock-sourceJump">{author} said:</a></div>'
            f'<div class="bbCodeBlock-content"><div class="bbCodeBlock-expandContent js-expandContent">{inner}'
            f'</div></div></blockquote>')


def test_images_and_links_inside_quotes_at_any_depth_are_left_out_of_the_post():
    inner = quote("Cy", 3, 'deep <img src="/data/deep.jpg"> <a href="https://deep.example/">deep link</a>')
    body = (f'<a href="https://own.example/1">first</a> <img src="/data/own1.jpg">'
            f'{quote("Bob", 2, "said " + inner + " <img src=/data/mid.jpg> <a href=https://mid.example/>mid</a>")}'
            f'<img src="/data/own2.jpg"> <img class="smilie smilie--sprite" src="/styles/smilies/grin.png" alt=":D">'
            f' <a href="https://own.example/2">second</a>')
    page = parse(xf2_page(xf2_post(4, "Ann", 1, LINKED_NUMBER.format(id=4, n=1), body=body)))
    post = page.posts[0]
    assert post.images == ["https://forum.example/data/own1.jpg", "https://forum.example/data/own2.jpg"]
    assert post.links == ["https://own.example/1", "https://own.example/2"]
    assert [(q["author"], q["post_id"]) for q in post.quotes] == [("Bob", "2"), ("Cy", "3")]
    assert "deep" not in post.body_text and "mid" not in post.body_text


def test_a_quote_block_is_known_by_its_class_tokens_not_a_substring():
    look_alike = '<div class="bbCodeBlock bbCodeBlock--quoteLike">not a quote</div>'
    page = parse(xf2_page(xf2_post(4, "Ann", 1, LINKED_NUMBER.format(id=4, n=1),
                                   body=look_alike + quote("Bob", 2, "quoted words"))))
    post = page.posts[0]
    assert [q["author"] for q in post.quotes] == ["Bob"]
    assert "not a quote" in post.body_text and "quoted words" not in post.body_text


def test_post_parts_are_found_on_any_tag_and_class_order():
    # The index reads class tokens, wherever they stand in the class list: a skin's own token before
    # XenForo's still gives the member id (the page's repeated class strings are read once each).
    html = xf2_page(xf2_post(4, "Ann", 1, LINKED_NUMBER.format(id=4, n=1))
                    + xf2_post(5, "Bob", 2, LINKED_NUMBER.format(id=5, n=2))
                    .replace('<div class="message-userDetails">', '<div class="skin-x message-userDetails">'))
    page = parse(html)
    assert [(p.author, p.author_id, p.position) for p in page.posts] == [("Ann", "1", 1), ("Bob", "2", 2)]


def test_elements_under_quotes_nested_5000_deep_are_left_out_and_the_rest_kept():
    depth = 5000
    root = etree.Element("div")
    parent, blocks = root, []
    for _ in range(depth):
        block = etree.SubElement(parent, "blockquote")
        etree.SubElement(block, "img")
        blocks.append(block)
        parent = block
    own = etree.SubElement(root, "img")
    images = list(root.iter("img"))
    assert outside(images, root, frozenset(blocks)) == [own]
    # Only the innermost quote skipped: every image above it stays, in document order.
    assert outside(images, root, frozenset(blocks[-1:])) == images[:-2] + [own]
    assert outside(images, root, frozenset({root})) == []
