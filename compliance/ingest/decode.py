"""Turn page bytes into text when charset declarations are missing or wrong.

Order of trust: a byte-order mark; UTF-16 without a BOM (NUL-byte pattern);
valid UTF-8 (pages declared as Latin-1 are very often UTF-8 in fact); then
Beautiful Soup's UnicodeDammit, which weighs the HTTP header's charset, the
page's own declaration and a statistical guess; finally windows-1252 with
replacement characters, so text is never lost for want of a codec.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from bs4.dammit import UnicodeDammit

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# What browsers actually use for these labels (WHATWG Encoding Standard).
_BROWSER_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso8859-1": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    how: str  # bom | utf-8 | declared | utf-16-sniffed | guessed | replaced


def declared_charset(raw: bytes, content_type: str | None = None) -> str | None:
    """The charset named by the Content-Type header or the page's <meta>, if any."""
    if content_type:
        found = _HEADER_CHARSET.search(content_type)
        if found:
            return found.group(1).lower()
    found = _META_CHARSET.search(raw[:8192])
    return found.group(1).decode("ascii", "replace").lower() if found else None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = _BROWSER_ALIASES.get(name.lower(), name.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _utf16_without_bom(raw: bytes) -> str | None:
    sample = raw[:4096]
    if len(sample) < 8:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def decode_bytes(raw: bytes, content_type: str | None = None) -> Decoded:
    """Decode page bytes, never raising: see the module docstring for the order."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return Decoded(raw.decode(encoding, errors="replace"), encoding, "bom")
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return Decoded(raw.decode(utf16, errors="replace"), utf16, "utf-16-sniffed")
    try:
        return Decoded(raw.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Beautiful Soup's UnicodeDammit weighs the header's charset, the page's own
    # declaration (meta, XML) and a statistical guess, falling back to windows-1252.
    header = _codec(declared_charset(b"", content_type)) if content_type else None
    dammit = UnicodeDammit(raw, known_definite_encodings=[header] if header else [],
                           is_html=True, exclude_encodings=["utf-8"])
    if dammit.unicode_markup is not None and dammit.original_encoding:
        how = "declared" if dammit.declared_html_encoding else "guessed"
        return Decoded(dammit.unicode_markup, dammit.original_encoding, how)
    # Last resort: keep every byte visible rather than fail the page.
    return Decoded(raw.decode("cp1252", errors="replace"), "cp1252", "replaced")
