"""Write the seed corpora (fuzz/corpus/<target>/) and dictionaries (fuzz/dicts/) from our
own files: the example pages, dispatches and manifest, the bundled rulebook, the index
test data, and small WARC files written here with warcio. Nothing from ../shared/data.

Run `python -m fuzz.seeds` after changing an input format; the output is committed so
CI fuzzes from the same starting point every time.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ROOT / "examples"
PAGES = sorted((EXAMPLES / "pages").iterdir())
PROSE = b"<p>The council met on Tuesday to discuss the harbour budget, officials said.</p>"


def _warc(records: list[tuple[str, str, bytes, str]], compress: bool) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=compress)
    writer.write_record(writer.create_warcinfo_record("crawl.warc", {"software": "seeds"}))
    for kind, url, body, status in records:
        if kind == "response":
            http = StatusAndHeaders(status, [("Content-Type", "text/html; charset=utf-8")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2026-11-19T08:30:00Z"}))
        elif kind == "resource":
            writer.write_record(writer.create_warc_record(
                url, "resource", payload=io.BytesIO(body), length=len(body),
                warc_content_type="text/plain", warc_headers_dict={"WARC-Date": "2026-11-18"}))
        elif kind == "revisit":
            writer.write_record(writer.create_revisit_record(
                url, digest="sha1:AAAA", refers_to_uri=url, refers_to_date="2026-11-01T00:00:00Z"))
        elif kind == "request":
            writer.write_record(writer.create_warc_record(
                url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"), length=18))
    return out.getvalue()


def _manifest_line(page: Path) -> tuple[str, str]:
    for line in (EXAMPLES / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if page.name in line:
            import json

            record = json.loads(line)
            return record.get("url") or "", record.get("fetched_at") or ""
    return "", ""


def corpora() -> dict[str, list[bytes]]:
    """Seed inputs per target, each in that target's input layout (a selector byte first)."""
    plain = [p.read_bytes() for p in PAGES if p.suffix != ".gz"]
    gzipped = [p.read_bytes() for p in PAGES if p.suffix == ".gz"]
    small = PROSE * 2
    crawl = [("request", "https://copycat.example/a", b"", ""),
             ("response", "https://copycat.example/a", plain[0], "200 OK"),
             ("response", "https://copycat.example/gone", b"gone", "410 Gone"),
             ("response", "https://copycat.example/moved", b"", "301 Moved Permanently"),
             ("revisit", "https://copycat.example/a", b"", ""),
             ("resource", "file:///notes.txt", b"PARIS (AFP) - The council met.", "")]
    audit = []
    for page in PAGES:
        raw = page.read_bytes()
        if page.suffix == ".gz":
            raw = gzip.decompress(raw)
        url, when = _manifest_line(page)
        kind = 1 if page.name.endswith(".txt") else 0
        audit.append(bytes([0x80 | 2 | kind]) + f"{url}|{when}\n".encode() + raw)
    audit.append(bytes([0]) + plain[0])
    index = ROOT / "tests" / "data" / "index"
    rules = ROOT / "rules"
    return {
        "pages": [b"\x00" + p for p in plain] + [b"\x01" + plain[-1], b"\x82" + small]
        + [b"\x02" + g for g in gzipped] + [b"\x00" + gzip.compress(small, mtime=0)]
        + [b"\x08" + ("<meta charset='iso-8859-1'><p>Fußgänger Öl</p>").encode("latin-1"),
           b"\x28" + ("<html><body>" + PROSE.decode() + "</body></html>").encode("utf-16"),
           b"\x00" + ("<p>" + "日本語のニュース。" * 8 + "</p>").encode("shift_jis")],
        "extract": [b"\x00" + p for p in plain] + [b"\x01" + plain[-1], b"\x00" + small],
        "warc": [b"\x00" + _warc(crawl, compress=False), b"\x02" + _warc(crawl, compress=True),
                 b"\x00" + _warc(crawl[:2], compress=False)],
        "lists": [b"\x00" + (EXAMPLES / "manifest.jsonl").read_bytes(),
                  b"\x01# watch list\nhttps://copycat.example/a\n\nhttps://www.dhnet.be/\n"],
        "archives": [b"\x00" + p.read_bytes() for p in sorted((EXAMPLES / "dispatches").iterdir())]
        + [b"\x80" + (index / "dispatches.jsonl").read_bytes(),
           b"\x01" + (index / "newsml.xml").read_bytes(),
           b"\x02" + (index / "nitf.xml").read_bytes(),
           b"\x01" + (index / "bad-nitf.xml").read_bytes(),
           b"\x83" + (index / "folder" / "skerry-ferry.txt").read_bytes(),
           b"\x84" + (index / "folder" / "orchard.html").read_bytes()],
        "rulebook": [(rules / "agencies" / f"{name}.yaml").read_bytes()
                     for name in ("afp", "dpa", "ap", "reuters", "unspecified")]
        + [(rules / "licensees" / "example.yaml").read_bytes(),
           (rules / "policy.yaml").read_bytes(),
           (rules / "agencies" / "afp.yaml").read_bytes() + b"\n" + SUPPRESSIONS],
        "audit": audit,
    }


SUPPRESSIONS = b"""suppressions:
  - {url_pattern: 'https://www.dhnet.be/*', clause: afp, reason: reviewed, approver: legal,
     until: 2027-01-01}
licensees:
  - id: ipm
    name: IPM Group
    domains: [dhnet.be]
    licences:
      - {agency: afp, permits: [reproduce], languages: [fr], valid_from: 2021-01-01}
"""

DICTS = {
    "rulebook": ["agencies:", "licensees:", "policy:", "suppressions:", "- id: ", "name: ",
                 "aliases: ", "credits: ", "own_domains: ", "languages: ", "markers: ",
                 "clauses: ", "kind: notice", "kind: credit", "kind: dateline", "regex: ",
                 "text: ", "lang: ", "translated_from: ", "ignore_case: true", "prohibits: ",
                 "requires: ", "severity: ", "generic: true", "part_of: ", "domains: ",
                 "licences: ", "agency: ", "permits: ", "valid_from: ", "valid_until: ",
                 "retention_days: ", "attribution: ", "url_pattern: ", "reason: ",
                 "approver: ", "until: ", "(?i)", "(?P<g>", "(?P=g)", "\\1", "(?x)", "(?=",
                 "(?<=", "[^", "{2,}", "&a ", "*a", "!!str", "!!binary", "? ", "---", "2026-13-01",
                 "reproduce", "translate", "modify", "attribute", "archive", "commercialize"],
    "warc": ["WARC/1.0\r\n", "WARC/1.1\r\n", "WARC-Type: response\r\n", "WARC-Type: resource\r\n",
             "WARC-Type: revisit\r\n", "WARC-Target-URI: ", "WARC-Date: ", "WARC-Record-ID: ",
             "Content-Length: ", "Content-Type: application/http; msgtype=response\r\n",
             "Content-Type: text/html\r\n", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 404 Not Found\r\n",
             "HTTP/1.0 ", "\r\n\r\n", "WARC-Payload-Digest: sha1:", "WARC-Block-Digest: ",
             "Transfer-Encoding: chunked\r\n", "Content-Encoding: gzip\r\n", "\x1f\x8b\x08"],
    "archives": ["<newsItem guid=\"", "<nitf>", "<head><docdata>", "<doc-id id-string=\"",
                 "management-status=\"", "<pubStatus qcode=\"stat:canceled\"/>", "<embargoed>",
                 "<date.issue norm=\"", "<date.release norm=\"", "<body.content>", "<inlineXML>",
                 "xmlns=\"http://iptc.org/std/nar/2006-10-01/\"", "xml:lang=\"", "<!DOCTYPE",
                 "<!ENTITY", "\"id\": ", "\"agency\": ", "\"lang\": ", "\"body\": ",
                 "\"published\": ", "\"embargo_until\": ", "\"status\": ", "\"rights\": ",
                 "20261204T090000Z", "2026-12-04T09:00:00+01:00", "canceled", "withheld"],
    "extract": ["<html lang=\"", "<meta charset=\"", "<meta name=\"author\" content=\"",
                "<script type=\"application/ld+json\">", "\"@type\": \"NewsArticle\"",
                "\"author\": ", "\"sourceOrganization\": ", "\"@graph\": [",
                "<link rel=\"canonical\" href=\"",
                "<article>", "<figure><figcaption>", "<div class=\"byline\">", "<time datetime=\"",
                "<footer>", "<nav>", "<p>", "</p>", "<br>", "(AFP)", "(dpa)", "Quelle: ", "©",
                "<!--", "-->", "<![CDATA[", "&#", "<?xml version=\"1.0\"?>"],
}
DICTS["audit"] = DICTS["extract"]
DICTS["lists"] = ["{\"path\": ", "\"url\": ", "\"fetched_at\": ", "null", "true", "[]", "{}",
                  "\"2026-11-20T08:15:00Z\"", "\\u0000", "../", "#", "https://"]


def _quote(token: str) -> str:
    escaped = "".join(chr(b) if 32 <= b < 127 and chr(b) not in "\"\\" else f"\\x{b:02x}"
                      for b in token.encode("utf-8"))
    return f'"{escaped}"'


def write() -> None:
    """Replace fuzz/corpus/ and fuzz/dicts/ with freshly generated seeds."""
    for target, inputs in corpora().items():
        folder = HERE / "corpus" / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for data in inputs:
            (folder / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
    dicts = HERE / "dicts"
    dicts.mkdir(exist_ok=True)
    for target, tokens in DICTS.items():
        text = "".join(_quote(t) + "\n" for t in tokens)
        (dicts / f"{target}.dict").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write()
