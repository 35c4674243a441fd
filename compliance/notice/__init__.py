"""Takedown notices drafted from findings: DMCA §512(c)(3), EU DSA Art. 16, or a plain letter.

A notice goes from one rights holder to one site, so findings are grouped by
(claimant agency, site): several pages of one site make one notice listing
every URL. Templates are Jinja files the user may override (a folder searched
before the bundled one). Whatever the template says, the rendered notice is
checked against the elements its regime requires, each filled from the
finding and the rulebook's `claimant`; a missing or placeholder element
("[…]") makes the notice incomplete, and the command says which.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html as html_lib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from ..rulebook import Rulebook
from ..rulebook.schema import Claimant

REGIMES = ("dmca", "dsa", "letter")
FORMATS = ("md", "html", "eml")
PLACEHOLDER = re.compile(r"\[[^\]]*\]")


class NoticeError(Exception):
    """A notice cannot be drafted (no claimant, unknown template…)."""


@dataclass(frozen=True)
class Work:
    """The copyrighted work: a matched dispatch, or the dispatch the page's credits point to."""

    agency_name: str
    dispatch_id: str | None
    title: str | None
    lang: str | None
    credits: tuple[str, ...]  # the agency's credit and notice as quoted from the page

    @property
    def description(self) -> str:
        if self.dispatch_id:
            title = f" “{self.title}”" if self.title else ""
            lang = f" ({self.lang})" if self.lang else ""
            return f"{self.agency_name} dispatch {self.dispatch_id}{title}{lang}"
        if not self.credits:
            return f"a news dispatch of {self.agency_name}"
        quoted = "; ".join(f"“{c}”" for c in self.credits[:3])
        return (
            f"a news dispatch of {self.agency_name}, identified on the page by its credit {quoted}"
        )


@dataclass(frozen=True)
class Item:
    """One infringing page: where it is, what it copies, and why it is not licensed."""

    url: str
    title: str | None
    fetched_at: str | None
    sha256: str
    lang: str | None
    work: Work
    actions: tuple[str, ...]
    clauses: tuple[tuple[str, str], ...]  # (id, title)
    explanations: tuple[str, ...]
    match_kind: str
    licence: str  # the licence situation, in words
    finding_ids: tuple[str, ...]

    @property
    def translated(self) -> bool:
        return "translate" in self.actions


@dataclass(frozen=True)
class Notice:
    """One notice: a claimant, a site, its pages, and who signs it when."""

    regime: str
    agency_id: str
    agency_name: str
    terms_url: str | None
    claimant: Claimant
    signer: str
    domain: str
    recipient: str
    items: tuple[Item, ...]
    date: dt.date

    @property
    def finding_ids(self) -> tuple[str, ...]:
        return tuple(i for item in self.items for i in item.finding_ids)

    @property
    def name(self) -> str:
        slug = re.sub(r"[^a-z0-9.-]+", "-", self.domain.lower()).strip("-") or "site"
        return f"{self.regime}-{self.agency_id}-{slug}-{self.date.isoformat()}"


@dataclass(frozen=True)
class Element:
    """One requirement of the regime, and whether the rendered notice fills it."""

    key: str
    label: str
    values: tuple[str, ...]  # what the notice must contain, from real data
    ok: bool
    problem: str = ""


# --- building ----------------------------------------------------------------------------


def claimant_for(rulebook: Rulebook, agency_id: str) -> tuple[str, Claimant]:
    """The agency (or the parent it is part of) that holds a `claimant` block."""
    for candidate in rulebook.lineage(agency_id):
        claimant = rulebook.agencies[candidate].claimant
        if claimant is not None:
            return candidate, claimant
    raise NoticeError(
        f"agency {agency_id!r} has no 'claimant' in the rulebook; add rights_holder, agent, "
        "address and email to its file to draft notices"
    )


def _licence_words(record: dict[str, Any], agency: str) -> str:
    licence = record.get("licence")
    if not licence:
        return f"the site holds no licence for {agency} content"
    status = licence.get("status")
    if status == "current":
        return f"the site's licence ({licence.get('name')}) does not permit this use"
    return (
        f"the site's licence ({licence.get('name')}) is {status} "
        f"(valid {licence.get('valid_from') or '…'} to {licence.get('valid_until') or '…'})"
    )


def build_notices(
    records: Iterable[dict[str, Any]],
    rulebook: Rulebook,
    regime: str,
    *,
    signer: str | None = None,
    recipient: str | None = None,
    today: dt.date | None = None,
) -> list[Notice]:
    """One notice per (claimant, site), listing every page of that site once."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        agency_id = record["clause"]["agency"]
        if agency_id not in rulebook.agencies:
            raise NoticeError(f"finding {record['id']}: agency {agency_id!r} not in the rulebook")
        owner, _ = claimant_for(rulebook, agency_id)
        domain = record["page"].get("domain") or _host(record["page"].get("url")) or "unknown"
        groups.setdefault((owner, domain), []).append(record)
    notices = []
    for (owner, domain), group in sorted(groups.items()):
        agency = rulebook.agencies[owner]
        _, claimant = claimant_for(rulebook, owner)
        notices.append(
            Notice(
                regime=regime,
                agency_id=owner,
                agency_name=agency.name,
                terms_url=agency.terms_url,
                claimant=claimant,
                signer=signer or claimant.signatory or claimant.agent or "",
                domain=domain,
                recipient=recipient or f"[designated agent or abuse contact of {domain}]",
                items=tuple(_items(group, rulebook)),
                date=today or dt.date.today(),
            )
        )
    return notices


def _host(url: str | None) -> str | None:
    match = re.match(r"^[a-z][a-z0-9+.-]*://([^/:?#]+)", url or "", re.IGNORECASE)
    return match.group(1).lower() if match else None


def _items(group: list[dict[str, Any]], rulebook: Rulebook) -> list[Item]:
    by_url: dict[str, list[dict[str, Any]]] = {}
    for record in group:
        url = record["page"].get("url")
        if not url:
            raise NoticeError(
                f"finding {record['id']} has no page URL; a notice must locate the material"
            )
        by_url.setdefault(url, []).append(record)
    items = []
    for url, records in by_url.items():
        first = records[0]
        agency = rulebook.agencies[first["clause"]["agency"]]
        dispatch = next((r["dispatch"] for r in records if r.get("dispatch")), None) or {}
        credits = []
        for record in records:
            for e in record.get("evidence") or []:
                if e.get("kind") in (
                    "dateline",
                    "credit",
                    "byline",
                    "source",
                    "notice",
                    "metadata",
                ):
                    text = " ".join(str(e.get("text") or "").split())
                    if text and text not in credits:
                        credits.append(text)
        actions: list[str] = []
        for record in records:
            actions += [a for a in record.get("actions") or [] if a not in actions]
        items.append(
            Item(
                url=url,
                title=first["page"].get("title"),
                fetched_at=first["page"].get("fetched_at"),
                sha256=first["page"].get("sha256") or "",
                lang=first["page"].get("lang"),
                work=Work(
                    agency.name,
                    dispatch.get("id"),
                    dispatch.get("title"),
                    dispatch.get("lang"),
                    tuple(credits),
                ),
                actions=tuple(actions),
                clauses=tuple(
                    dict.fromkeys(
                        (r["clause"]["id"], r["clause"].get("title") or r["clause"]["id"])
                        for r in records
                    )
                ),
                explanations=tuple(dict.fromkeys(r.get("explanation") or "" for r in records)),
                match_kind=(first.get("match") or {}).get("kind") or "marker",
                licence=_licence_words(first, agency.name),
                finding_ids=tuple(r["id"] for r in records),
            )
        )
    return items


# --- the elements each regime requires -----------------------------------------------------

GOOD_FAITH = re.compile(r"good[- ]faith belief", re.IGNORECASE)
PERJURY = re.compile(r"penalty of perjury", re.IGNORECASE)
AUTHORISED = re.compile(r"authori[sz]ed to act on behalf of", re.IGNORECASE)
ACCURATE = re.compile(r"accurate", re.IGNORECASE)
ACCURATE_COMPLETE = re.compile(r"accurate and complete", re.IGNORECASE)
BONA_FIDE = re.compile(r"bona fide|good[- ]faith", re.IGNORECASE)


def required_elements(notice: Notice) -> list[tuple[str, str, list[str], list[re.Pattern[str]]]]:
    """(key, label, values that must appear, phrases that must appear) for the regime."""
    c = notice.claimant
    urls = [item.url for item in notice.items]
    works = [item.work.dispatch_id or item.work.agency_name for item in notice.items]
    contact = [c.address or "", c.email or c.phone or ""]
    if notice.regime == "dmca":
        return [
            ("i", "signature of a person authorised to act for the owner", [notice.signer], []),
            ("ii", "identification of the copyrighted work(s)", [c.rights_holder, *works], []),
            ("iii", "identification and location (URL) of the infringing material", urls, []),
            ("iv", "contact information of the complaining party", contact, []),
            (
                "v",
                "statement of good-faith belief that the use is not authorised",
                [],
                [GOOD_FAITH],
            ),
            (
                "vi",
                "statement of accuracy, and under penalty of perjury of authority to act",
                [c.rights_holder],
                [ACCURATE, PERJURY, AUTHORISED],
            ),
        ]
    if notice.regime == "dsa":
        reasons = [clause_id for item in notice.items for clause_id, _ in item.clauses]
        return [
            (
                "a",
                "substantiated explanation of why the content is illegal",
                [c.rights_holder, *reasons],
                [],
            ),
            ("b", "exact electronic location (URL) of the content", urls, []),
            ("c", "name and e-mail address of the notifier", [notice.signer, c.email or ""], []),
            (
                "d",
                "statement of good-faith belief that the notice is accurate and complete",
                [],
                [BONA_FIDE, ACCURATE_COMPLETE],
            ),
        ]
    return [
        ("sender", "who writes, for whom", [c.rights_holder, notice.signer], []),
        ("urls", "the pages concerned", urls, []),
        ("contact", "how to reply", contact, []),
    ]


def check_elements(notice: Notice, text: str) -> list[Element]:
    """Each required element, checked against the notice's plain text."""
    plain = " ".join(text.split())
    out = []
    for key, label, values, phrases in required_elements(notice):
        problems = []
        for value in values:
            if not value:
                problems.append("no data in the rulebook's claimant")
            elif PLACEHOLDER.fullmatch(value.strip()) or PLACEHOLDER.search(value):
                problems.append(f"placeholder {value!r} to fill in")
            elif " ".join(value.split()) not in plain:
                problems.append(f"{value!r} missing from the notice")
        for phrase in phrases:
            if not phrase.search(plain):
                problems.append(f"statement ({phrase.pattern}) missing")
        out.append(Element(key, label, tuple(values), not problems, "; ".join(problems)))
    return out


# --- rendering ---------------------------------------------------------------------------


def environment(user_dir: Path | None, html: bool) -> Environment:
    loaders: list[Any] = [FileSystemLoader(str(user_dir))] if user_dir else []
    loaders.append(PackageLoader("compliance.notice", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        # Markdown and e-mail text are escaped by their own filters (bandit B701 silenced):
        autoescape=html,  # nosec B701
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["md"] = md_escape
    env.filters["oneline"] = lambda v: " ".join(str(v or "").split())
    return env


def md_escape(value: object) -> str:
    """Page-derived text made inert in Markdown: no links, code or HTML when rendered, and
    still readable as the plain-text body of an e-mail."""
    text = " ".join(str(value or "").split())
    return re.sub(r"([\\`\[\]<>])", r"\\\1", text)


def available_templates(user_dir: Path | None) -> set[str]:
    names = set()
    for loader_dir in [user_dir] if user_dir else []:
        names |= {p.name.split(".")[0] for p in Path(loader_dir).glob("*.j2")}
    return names | set(REGIMES)


@dataclass(frozen=True)
class Rendered:
    notice: Notice
    fmt: str
    content: str  # the file's text (an .eml is RFC 5322 text)
    plain: str  # what the element check reads
    elements: tuple[Element, ...] = field(default=())

    @property
    def complete(self) -> bool:
        return all(e.ok for e in self.elements)


def render(notice: Notice, fmt: str, user_dir: Path | None = None) -> Rendered:
    """The notice as Markdown, HTML or an e-mail (text with an HTML alternative)."""
    if fmt not in FORMATS:
        raise NoticeError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    context = {"n": notice, "c": notice.claimant, "items": notice.items}
    try:
        if fmt == "html":
            content = (
                environment(user_dir, True)
                .get_template(f"{notice.regime}.html.j2")
                .render(**context)
            )
            plain = _html_text(content)
        else:
            text_env = environment(user_dir, False)
            content = text_env.get_template(f"{notice.regime}.md.j2").render(**context)
            plain = content
            if fmt == "eml":
                subject = text_env.get_template(f"{notice.regime}.subject.j2").render(**context)
                page = environment(user_dir, True).get_template(f"{notice.regime}.html.j2")
                content = _email(notice, subject, content, page.render(**context))
    except Exception as exc:  # a user template's error is the user's to see
        if type(exc).__name__ in ("TemplateNotFound", "UndefinedError", "TemplateSyntaxError"):
            raise NoticeError(f"template {notice.regime!r} ({fmt}): {exc}") from None
        raise
    return Rendered(notice, fmt, content, plain, tuple(check_elements(notice, plain)))


def _html_text(markup: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    text = re.sub(r"<[^>]+>", " ", text)
    return html_lib.unescape(text)


def _email(notice: Notice, subject: str, text: str, html: str) -> str:
    message = EmailMessage()
    c = notice.claimant
    sender = c.email if c.email and not PLACEHOLDER.search(c.email) else None
    message["Subject"] = " ".join(subject.split())  # never a header break from page text
    message["From"] = f"{c.agent or c.rights_holder} <{sender}>" if sender else c.rights_holder
    message["To"] = notice.recipient
    message["Date"] = formatdate(localtime=False)
    message["X-Compliance-Findings"] = ", ".join(notice.finding_ids)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_string()


# --- recording for the audit store ----------------------------------------------------------

NoticeRecorder = Callable[[dict[str, Any]], None]
"""What the audit store passes to be told of each notice (to mark findings `notice_sent`)."""


def notice_event(rendered: Rendered, path: Path | None, sent: bool) -> dict[str, Any]:
    """The record of one drafted (or sent) notice, as the store and notices.jsonl keep it."""
    n = rendered.notice
    return {
        "event": "notice_sent" if sent else "notice_drafted",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "finding_ids": list(n.finding_ids),
        "template": n.regime,
        "format": rendered.fmt,
        "agency": n.agency_id,
        "domain": n.domain,
        "urls": [item.url for item in n.items],
        "path": str(path) if path else None,
        "sha256": hashlib.sha256(rendered.content.encode()).hexdigest(),
        "complete": rendered.complete,
    }


_RECORDERS: list[NoticeRecorder] = []


def register_recorder(recorder: NoticeRecorder) -> None:
    """Let the audit store hear of every notice drafted or sent (to set `notice_sent`)."""
    if recorder not in _RECORDERS:
        _RECORDERS.append(recorder)


def notify(
    rendered: Rendered, path: Path | None, sent: bool, log: Path | None = None
) -> dict[str, Any]:
    """Record one notice: append it to `log` (notices.jsonl) and tell every registered recorder."""
    import json

    event = notice_event(rendered, path, sent)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
    for recorder in _RECORDERS:
        recorder(event)
    return event
