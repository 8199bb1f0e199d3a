"""How a page's bytes become text when the page does not say: the way browsers do it.

A forum page declares its charset in the ``Content-Type`` header or a ``<meta>``; then that is used.
When neither does, Scrapy guesses by trying strict decoders, so a UTF-8 page with a few invalid bytes
(a post pasted from an old Windows editor) fails UTF-8 and is decoded whole as a single-byte code page:
every accent on the page garbled for three bad bytes. Browsers instead read it as UTF-8 when it is
UTF-8 (a few U+FFFD where the bad bytes are) and only otherwise ask a detector.

One function decides, and both the crawl (:class:`miata_spiders.middlewares.BrowserEncodingMiddleware`)
and ``miata parse`` use it, so a saved page decodes exactly as it did when crawled.
"""

from __future__ import annotations

import codecs

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# A page is read as UTF-8 when at most this share of its non-ASCII characters are invalid bytes.
# Text in a single-byte code page almost never forms a valid UTF-8 multi-byte sequence (a lead byte
# 0xC2-0xF4 directly followed by continuation bytes: "Ã©" but not "é"), so its valid share is about
# zero; a UTF-8 page with a pasted cp1252 quote has a few invalid bytes beside its valid characters,
# even on a mostly-English page with only a title or a name in another script.
MAX_INVALID_SHARE = 1 / 3
FALLBACK = "cp1252"  # what browsers use for undeclared Western pages when nothing else fits
ACCEPTABLE_CHAOS = 0.2  # charset-normalizer's own default threshold for a readable decoding


def declared_encoding(body: bytes, content_type: str | bytes | None) -> str | None:
    """The charset the page itself declares: a BOM, the Content-Type header, or a ``<meta>``."""
    bom, _ = read_bom(body)
    if bom:
        return bom
    if content_type:
        if isinstance(content_type, bytes):
            content_type = content_type.decode("latin-1")
        declared = http_content_type_encoding(content_type)
        if declared:
            return declared
    return html_body_declared_encoding(body)


def sniffed_encoding(body: bytes) -> str:
    """The encoding of a page that declares none: UTF-8 when it is (nearly) UTF-8, else what
    charset-normalizer detects, else cp1252."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = sum(1 for char in text if ord(char) > 127 and char != "\ufffd")
    if valid and invalid <= MAX_INVALID_SHARE * (valid + invalid):
        return "utf-8"
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body))
    # Several single-byte code pages fit a Western page equally well by the detector's measure (it
    # often ranks cp1250 first, turning è into č); a browser's undeclared-page default is cp1252, so
    # it wins whenever it reads the page cleanly. The detector decides only for pages cp1252 cannot read.
    if any(FALLBACK in match.could_be_from_charset and match.chaos <= ACCEPTABLE_CHAOS for match in matches):
        return FALLBACK
    if matches and matches[0].encoding:
        return codecs.lookup(matches[0].encoding).name
    return FALLBACK


def browser_encoding(body: bytes, content_type: str | bytes | None = None) -> str:
    """The encoding a page's text is read in: declared, or sniffed like a browser."""
    return declared_encoding(body, content_type) or sniffed_encoding(body)


def with_browser_encoding(response, encoding: str | None = None):
    """``response`` with its encoding fixed: ``encoding`` if given, else :func:`browser_encoding`.

    A response that declares its charset is returned as it is (Scrapy reads the declaration the same
    way); one that does not gets the sniffed encoding, as Scrapy's ``TextResponse(encoding=...)``.
    Invalid bytes then become U+FFFD, never a whole page in the wrong code page.
    """
    if not hasattr(response, "text"):
        return response  # not a text response (an image, a file): nothing to decode
    if encoding:
        codecs.lookup(encoding)  # an unknown name is the caller's error, raised here with its name
        return response.replace(encoding=encoding)
    content_type = response.headers.get(b"Content-Type")
    if declared_encoding(response.body, content_type):
        return response
    return response.replace(encoding=sniffed_encoding(response.body))
