"""Turn page bytes into text: the declared charset first, then UTF-8, then CP949.

httpx decodes a page without a charset header as UTF-8, and older Korean pages declare EUC-KR in
a `<meta>` tag only. Pages labelled EUC-KR are really CP949 (UHC), a superset that also covers
the 8,822 Hangul syllables EUC-KR lacks, so every EUC-KR label is decoded as CP949. Charset
detectors misfire on short Korean text; we never guess beyond UTF-8 versus CP949.
"""

from __future__ import annotations

import codecs
import re

_LEGACY_KOREAN = {
    "euc-kr",
    "euc_kr",
    "euckr",
    "ks_c_5601-1987",
    "ks_c_5601",
    "ksc5601",
    "korean",
    "windows-949",
    "x-windows-949",
    "ms949",
    "uhc",
    "cp949",
}
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_SNIFF_BYTES = 4096


def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().lower()
    if label in _LEGACY_KOREAN:
        return "cp949"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charset(content: bytes, content_type: str | None) -> str | None:
    """The codec a page declares: the Content-Type header wins over a `<meta>` tag."""
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match and (codec := _codec(match.group(1))):
            return codec
    match = _META_CHARSET.search(content[:_SNIFF_BYTES])
    if match:
        return _codec(match.group(1).decode("ascii", "ignore"))
    return None


def decode_page(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page and say which codec did it.

    Returns:
        (text, codec). Strict decoding is tried with the declared codec, UTF-8 and CP949 in that
        order; only if all fail is the declared codec (or UTF-8) applied with replacement
        characters, and the codec is reported with a `+replace` suffix so callers can tell.
    """
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8", "replace"), "utf-8"
    declared = declared_charset(content, content_type)
    tried: list[str] = []
    for codec in (declared, "utf-8", "cp949"):
        if codec is None or codec in tried:
            continue
        tried.append(codec)
        try:
            return content.decode(codec), codec
        except UnicodeDecodeError:
            continue
    fallback = declared or "utf-8"
    return content.decode(fallback, "replace"), f"{fallback}+replace"
