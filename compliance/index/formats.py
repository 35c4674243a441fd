"""Archive formats: JSONL (DESIGN.md §4), IPTC NewsML-G2, NITF, and plain .txt/.html files.

Readers only map fields; `dispatch.normalise` checks them. Each record carries
`file:line` so a problem can be found in the archive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from .dispatch import Dispatch, RecordError

G2 = "{http://iptc.org/std/nar/2006-10-01/}"
XHTML = "{http://www.w3.org/1999/xhtml}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
JSON_FIELDS = {"id", "agency", "lang", "title", "body", "published", "url", "embargo_until",
               "status", "rights"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def read_file(path: Path, root: Path | None) -> Iterator[Dispatch | RecordError]:
    """Every record of one archive file, by its extension (XML is sniffed for its vocabulary)."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".jsonl", ".json"}:
            yield from read_jsonl(path)
        elif suffix in {".xml", ".nitf"}:
            yield from read_xml(path)
        elif suffix in {".txt", ".html", ".htm"}:
            yield read_page_file(path, root)
        else:
            yield RecordError(str(path), 0, f"unknown archive format {suffix or '(none)'!r}")
    except OSError as exc:
        yield RecordError(str(path), 0, f"cannot read: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        yield RecordError(str(path), 0, f"not UTF-8 text: {exc.reason}")


def read_jsonl(path: Path) -> Iterator[Dispatch | RecordError]:
    with path.open(encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RecordError(str(path), number, f"invalid JSON: {exc.msg}")
                continue
            if not isinstance(data, dict):
                yield RecordError(str(path), number, "a line must hold one JSON object")
                continue
            problem = _json_problem(data)
            if problem:
                yield RecordError(str(path), number, problem)
                continue
            yield Dispatch(
                id=str(data.get("id") or ""),
                agency=str(data.get("agency") or ""),
                lang=data.get("lang"),
                title=data.get("title"),
                body=data.get("body") or "",
                published=data.get("published"),
                url=data.get("url"),
                embargo_until=data.get("embargo_until"),
                status=data.get("status") or "usable",
                rights=_rights_text(data.get("rights")),
                source=f"{path}:{number}",
            )


def _json_problem(data: dict[str, Any]) -> str | None:
    unknown = sorted(set(data) - JSON_FIELDS)
    if unknown:
        return f"unknown field {unknown[0]!r}"
    for name in JSON_FIELDS - {"rights"}:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} must be a string, not {type(value).__name__}"
    return None


def _rights_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def read_xml(path: Path) -> Iterator[Dispatch | RecordError]:
    try:
        tree = etree.parse(str(path), _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        yield RecordError(str(path), line, f"invalid XML: {exc.msg}")
        return
    root = tree.getroot()
    name = etree.QName(root).localname
    if root.tag.startswith(G2):
        items = [root] if name == "newsItem" else list(root.iter(f"{G2}newsItem"))
        if not items:
            yield RecordError(str(path), root.sourceline or 0, "a NewsML-G2 file without newsItem")
        for item in items:
            yield newsml_item(item, path)
    elif name == "nitf":
        yield nitf_document(root, path)
    else:
        yield RecordError(str(path), root.sourceline or 0, f"unknown XML vocabulary <{name}>")


def _text(element: Any) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _first(element: Any, path: str) -> Any:
    found = element.find(path)
    return found


def _paragraphs(container: Any) -> str:
    """Text of <p> (or block) elements, one paragraph each; else the whole text."""
    if container is None:
        return ""
    # elements only (comments and processing instructions have no tag), and their tag read
    # as written: QName refuses the tag names lxml's HTML parser makes of broken markup
    blocks = [e for e in container.iter(etree.Element)
              if e.tag.rpartition("}")[2] in {"p", "h2", "h3", "li"}]
    if not blocks:
        return "".join(container.itertext())
    return "\n\n".join(_text(e) for e in blocks if _text(e))


def newsml_item(item: Any, path: Path) -> Dispatch | RecordError:
    """One NewsML-G2 newsItem: guid, pubStatus, embargo, dates, language, headline, rights, body."""
    line = item.sourceline or 0
    guid = item.get("guid")
    if not guid:
        return RecordError(str(path), line, "newsItem has no guid")
    meta = item.find(f"{G2}itemMeta")
    content = item.find(f"{G2}contentMeta")
    status = "usable"
    published = embargo = None
    if meta is not None:
        pub_status = meta.find(f"{G2}pubStatus")
        if pub_status is not None:
            status = (pub_status.get("qcode") or "usable").split(":")[-1]
        embargoed = meta.find(f"{G2}embargoed")
        embargo = _text(embargoed) or None
        for field in ("contentCreated", "firstCreated", "versionCreated"):
            found = (content if field == "contentCreated" else meta)
            value = found.find(f"{G2}{field}") if found is not None else None
            if value is not None and _text(value):
                published = _text(value)
                break
    lang = item.get(XML_LANG)
    title = None
    if content is not None:
        language = content.find(f"{G2}language")
        if language is not None and language.get("tag"):
            lang = language.get("tag")
        title = _text(content.find(f"{G2}headline")) or None
    rights = []
    for info in item.iter(f"{G2}rightsInfo"):
        for part in ("copyrightHolder", "copyrightNotice", "usageTerms"):
            text = _text(info.find(f"{G2}{part}"))
            if text:
                rights.append(f"{part}: {text}")
    body = ""
    for holder in item.iter(f"{G2}inlineXML", f"{G2}inlineData"):
        body = _paragraphs(holder)
        if body.strip():
            break
    return Dispatch(
        id=guid,
        agency="",
        lang=lang,
        title=title,
        body=body,
        published=published,
        embargo_until=embargo,
        status=status,
        rights="; ".join(rights) or None,
        source=f"{path}:{line}",
    )


_NITF_STATUS = {"usable": "usable", "embargoed": "usable", "withheld": "withheld",
                "canceled": "canceled", "cancelled": "canceled"}


def nitf_document(root: Any, path: Path) -> Dispatch | RecordError:
    """An NITF document: doc-id, management-status, issue and release dates, copyright, body."""
    line = root.sourceline or 0
    docdata = root.find("head/docdata")
    if docdata is None:
        return RecordError(str(path), line, "NITF document without head/docdata")
    doc_id = docdata.find("doc-id")
    ident = doc_id.get("id-string") if doc_id is not None else None
    if not ident:
        return RecordError(str(path), docdata.sourceline or line, "NITF docdata has no doc-id")
    issue = docdata.find("date.issue")
    release = docdata.find("date.release")
    published = issue.get("norm") if issue is not None else None
    embargo = release.get("norm") if release is not None else None
    if embargo and published and embargo <= published:
        embargo = None  # released when issued: no embargo
    status = docdata.get("management-status") or "usable"
    copyright_ = docdata.find("doc.copyright")
    rights = []
    if copyright_ is not None and copyright_.get("holder"):
        rights.append(f"copyrightHolder: {copyright_.get('holder')}")
    doc_rights = docdata.find("doc.rights")
    if doc_rights is not None:
        usage = doc_rights.get("limitations") or doc_rights.get("owner")
        if usage:
            rights.append(f"usageTerms: {usage}")
    lang = root.get(XML_LANG) or (root.find("head") is not None and root.find("head").get(XML_LANG))
    body_root = root.find("body")
    title = _text(body_root.find("body.head/hedline/hl1")) if body_root is not None else ""
    title = title or _text(root.find("head/title"))
    content = body_root.find("body.content") if body_root is not None else None
    return Dispatch(
        id=ident,
        agency="",
        lang=lang or None,
        title=title or None,
        body=_paragraphs(content),
        published=published,
        embargo_until=embargo,
        status=_NITF_STATUS.get(status.lower(), status),
        rights="; ".join(rights) or None,
        source=f"{path}:{line}",
    )


def read_page_file(path: Path, root: Path | None) -> Dispatch | RecordError:
    """A .txt or .html file holding one dispatch; its id is its path inside the folder."""
    ident = (path.relative_to(root) if root else Path(path.name)).with_suffix("").as_posix()
    raw = path.read_bytes()
    if path.suffix.lower() == ".txt":
        text = raw.decode("utf-8-sig")
        lines = text.strip().split("\n", 1)
        title = lines[0].strip() if len(lines) > 1 and len(lines[0]) <= 200 else None
        body = lines[1] if title else text
        return Dispatch(ident, "", None, title, body, source=f"{path}:1")
    try:
        tree = etree.fromstring(raw, etree.HTMLParser(encoding="utf-8", no_network=True))
    except (etree.XMLSyntaxError, ValueError) as exc:
        return RecordError(str(path), 1, f"unreadable HTML: {exc}")
    if tree is None:
        return RecordError(str(path), 1, "empty HTML file")
    lang = tree.get("lang")
    title = _text(tree.find(".//title")) or _text(tree.find(".//h1")) or None
    body_el = tree.find(".//body")
    return Dispatch(ident, "", lang, title, _paragraphs(body_el), source=f"{path}:1")
