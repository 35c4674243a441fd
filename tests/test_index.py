"""The dispatch index: archive readers, anchors, copies, translations, the index CLI."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.extract.html import extract_html, extract_text
from compliance.index import Dispatch, DispatchIndex, RecordError, read_dispatches
from compliance.index.anchors import canonical_number, extract_anchors, skeleton
from compliance.index.cli import index_group
from compliance.index.store import IndexFileError

from .conftest import ROOT, SHARED_DATA, needs_shared

DATA = Path(__file__).parent / "data" / "index"

TRANSLATION_DE = """Der Hafen von Saint-Malvern ist wieder offen

Saint-Malvern – Der Hafen von Saint-Malvern hat am Montag, dem 30. November, wieder geöffnet, fünf Tage nachdem Sturm Odile 42 Stege losgerissen und 17 Fischerboote versenkt hatte, wie die Seepräfektur mitteilte.

Der Schaden wird auf 3,8 Millionen Euro geschätzt, so der Präsident der Handelskammer, Aurélien Kerboeuf, der am Dienstag staatliche Soforthilfe forderte.

„In einer Nacht haben wir verloren, was wir in zwanzig Jahren aufgebaut haben“, sagte die Chefin der Fischereigenossenschaft, Maëlys Trégarec, bei einer öffentlichen Versammlung im Festsaal.

Meeresminister Fabrice Delannoy wird am Donnerstag, dem 3. Dezember, vor Ort erwartet. Er soll einen Plan über 12,5 Millionen Euro für die Häfen der Nordküste vorstellen, davon 1.250.000 Euro für Saint-Malvern.

Sturm Odile traf 28 Küstengemeinden; 64.300 Haushalte waren laut Netzbetreiber zwei Tage ohne Strom.
"""

OWN_WORDS_DE = """Herbststurm an der Küste

Nach dem Unwetter der vergangenen Woche räumen die Bewohner mehrerer Küstenorte auf. Viele Keller
standen unter Wasser, Bäume blockierten die Landstraßen, und die Feuerwehr war im Dauereinsatz.
Ein Sprecher des Landkreises sagte, man rechne mit Aufräumarbeiten bis Weihnachten. Die Schulen
sollen nach dem Wochenende wieder öffnen.
"""


def good(records: list[Dispatch | RecordError]) -> list[Dispatch]:
    return [r for r in records if isinstance(r, Dispatch)]


@pytest.fixture()
def index(tmp_path: Path) -> DispatchIndex:
    path = tmp_path / "dispatches.db"
    with DispatchIndex.open(path, read_only=False) as writable:
        writable.add(good(list(read_dispatches([DATA / "dispatches.jsonl"], agency="afp"))))
    opened = DispatchIndex.open(path, read_only=True)
    yield opened
    opened.close()


# ---------------------------------------------------------------- anchors


@pytest.mark.parametrize(
    ("raw", "value"),
    [("3.215,63", "3215.63"), ("3,215.63", "3215.63"), ("3 215,63", "3215.63"),
     ("1.250.000", "1250000"), ("1,000", "1000"), ("2,5", "2.5"), ("0,125", "0.125")],
)
def test_numbers_lose_their_locale(raw: str, value: str) -> None:
    assert str(canonical_number(raw)) == value


def test_dates_and_magnitudes_are_the_same_anchor_in_every_language() -> None:
    texts = {
        "fr": "le 29 décembre, 2,5 millions de personnes",
        "de": "am 29. Dezember 2,5 Millionen Menschen",
        "en": "on December 29, 2.5 million people",
        "ru": "29 декабря 2,5 млн человек",
        "zh": "12月29日有250万人",
    }
    for lang, text in texts.items():
        keys = {a.key for a in extract_anchors(text, lang)}
        assert "d:12-29" in keys, lang
        assert "n:2500000" in keys, lang


def test_name_skeletons_survive_transliteration() -> None:
    assert skeleton("Selenskyj") == skeleton("Zelensky") == skeleton("Зеленский")
    assert skeleton("Biden") == skeleton("Байден") == skeleton("baiden")
    assert skeleton("Putin") == skeleton("Poutine")
    assert skeleton("Biden") != skeleton("Putin")


def test_lowercase_words_and_month_names_are_not_names() -> None:
    kinds = {a.kind for a in extract_anchors("The Ministry said in December. The ministry", "en")}
    assert "name" not in kinds


# ---------------------------------------------------------------- readers


def test_jsonl_reports_bad_records_with_their_line() -> None:
    records = list(read_dispatches([DATA / "dispatches.jsonl"], agency="afp"))
    errors = [str(r) for r in records if isinstance(r, RecordError)]
    assert [e.split(":")[1] for e in errors] == ["4", "5", "6", "7"]
    assert "invalid JSON" in errors[0]
    assert "unknown status" in errors[1]
    assert "not 'afp'" in errors[2]
    assert "no text" in errors[3]
    dispatches = good(records)
    assert [d.id for d in dispatches] == [
        "xyz-20261201-0007", "xyz-20261202-0031", "xyz-20261203-0002"]
    assert dispatches[1].embargo_until == "2026-12-02T15:00:00Z"
    assert dispatches[2].status == "canceled"
    assert dispatches[0].body.count("\n\n") == 4


def test_newsml_g2_items() -> None:
    records = list(read_dispatches(DATA / "newsml.xml", agency="nml"))
    first, killed, missing = records
    assert isinstance(first, Dispatch) and isinstance(killed, Dispatch)
    assert first.id == "urn:newsml:example.org:20261204:nml-0001"
    assert (first.lang, first.status) == ("de", "usable")
    assert first.title == "Brückensanierung in Lindenau dauert länger"
    assert first.published == "2026-12-04T08:30:00Z"
    assert first.embargo_until == "2026-12-04T12:00:00Z"
    assert "usageTerms: No translation" in (first.rights or "")
    assert first.body.startswith("Lindenau (nml) - Die Sanierung") and "\n\n" in first.body
    assert killed.status == "canceled" and "Wasserrohrbruch" in killed.body
    assert isinstance(missing, RecordError) and "no guid" in missing.message
    assert missing.line > 0


def test_nitf_document() -> None:
    (record,) = read_dispatches(DATA / "nitf.xml", agency="efe")
    assert isinstance(record, Dispatch)
    assert record.id == "nitf-20261205-0100"
    assert (record.lang, record.status) == ("es", "withheld")
    assert record.published == "2026-12-05T07:00:00Z"
    assert record.embargo_until == "2026-12-05T09:00:00Z"
    assert "copyrightHolder: Agencia Ejemplo" in (record.rights or "")
    assert record.title == "Récord de visitantes en el parque de Almendral"


def test_folders_of_text_and_html_files() -> None:
    records = good(list(read_dispatches(DATA / "folder", agency="afp")))
    by_id = {r.id: r for r in records}
    assert set(by_id) == {"orchard", "skerry-ferry"}
    assert by_id["skerry-ferry"].title == "Ferry timetable changes on the Skerry line"
    assert by_id["orchard"].lang == "en" and "9,800 tonnes" in by_id["orchard"].body


def test_broken_xml_is_a_record_error() -> None:
    errors = list(read_dispatches([DATA / "broken.xml", DATA / "bad-nitf.xml"], agency="afp"))
    assert all(isinstance(e, RecordError) for e in errors)
    assert "invalid XML" in errors[0].message
    assert "doc-id" in errors[1].message


# ---------------------------------------------------------------- matching


def page(title: str, paragraphs: list[str], lang: str = "en") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html lang="{lang}"><head><title>{title}</title></head><body>'
            '<nav><a href="/">Home</a> <a href="/news">News</a></nav>'
            f"<article><h1>{title}</h1>{body}</article>"
            "<footer>© 2026 Example Daily. All rights reserved.</footer></body></html>")


def dispatch_paragraphs(index: DispatchIndex, ident: str) -> list[str]:
    found = index.get(ident)
    assert found is not None
    return found.body.split("\n\n")


def test_full_copy(index: DispatchIndex) -> None:
    paras = dispatch_paragraphs(index, "xyz-20261202-0031")
    (match,) = index.match(extract_html(page("Strike ends", paras)))
    assert (match.dispatch_id, match.kind, match.agency, match.lang) == (
        "xyz-20261202-0031", "copy", "afp", "en")
    assert match.score >= 0.99 and match.coverage >= 0.95
    assert match.embargo_until == "2026-12-02T15:00:00Z"
    assert match.matched_words > 100
    passage = match.passages[0]
    doc_text = extract_html(page("Strike ends", paras)).text
    assert doc_text[slice(*passage.page_span)] == passage.page_text
    assert index.get("xyz-20261202-0031").body[slice(*passage.dispatch_span)] == (
        passage.dispatch_text)


def test_partial_copy_inside_other_text(index: DispatchIndex) -> None:
    paras = dispatch_paragraphs(index, "xyz-20261202-0031")
    own = ["Our reporter spent the morning at the gates of the factory in Harlow.",
           "Many of the families there have worked at the plant for three generations."]
    (match,) = index.match(extract_html(page("At the gates", [*own, paras[1], paras[2]])))
    assert match.kind == "partial"
    assert 0.2 < match.coverage < 0.8


def test_edited_copy(index: DispatchIndex) -> None:
    paras = dispatch_paragraphs(index, "xyz-20261202-0031")
    edited = [
        paras[1].replace("2,340 employees", "about 2,300 staff").replace("said", "explained"),
        paras[0].replace("voted on Wednesday", "decided on Wednesday")
        .replace("the company agreed", "management offered"),
        paras[3].replace("would restart", "should resume"),
    ]
    (match,) = index.match(extract_html(page("Deal reached", edited)))
    assert match.dispatch_id == "xyz-20261202-0031"
    assert match.kind == "edited"


def test_translation_is_found_with_aligned_passages(index: DispatchIndex) -> None:
    doc = extract_text(TRANSLATION_DE)
    assert doc.lang == "de"
    (match,) = index.match(doc)
    assert (match.dispatch_id, match.kind, match.lang) == ("xyz-20261201-0007", "translation", "fr")
    assert match.score >= 0.5 and match.coverage > 0.5
    assert len(match.passages) >= 2
    for passage in match.passages:
        assert doc.text[slice(*passage.page_span)] == passage.page_text


def test_own_words_and_unrelated_pages_match_nothing(index: DispatchIndex) -> None:
    assert index.match(extract_text(OWN_WORDS_DE)) == []
    unrelated = extract_html(page("Cup final", [
        "The home side won the cup final 2-1 after extra time on Saturday evening.",
        "Their captain scored the winner with a header in the 112th minute."]))
    assert index.match(unrelated) == []


def test_canceled_dispatch_keeps_its_status(index: DispatchIndex) -> None:
    text = index.get("xyz-20261203-0002").body
    (match,) = index.match(extract_html(page("Bronzes", [text, "More news on our site."])))
    assert match.status == "canceled"


# ---------------------------------------------------------------- the store


def test_add_replaces_by_id_and_remove(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    first = Dispatch("a-1", "afp", "en", None, "One two three four five six seven eight nine.")
    with DispatchIndex.open(path, read_only=False) as index:
        assert index.add([first]).added == 1
        result = index.add([Dispatch("a-1", "afp", "en", None, "Another text, corrected.",
                                     status="canceled")])
        assert (result.added, result.replaced) == (0, 1)
        assert index.get("a-1").status == "canceled"
        assert index.stats()["dispatches"] == 1
        assert index.remove(["a-1", "nope"]) == ["nope"]
        assert len(index) == 0
        stats = index.stats()
        assert stats["shingles"] == 0 and stats["anchor_postings"] == 0
        assert stats["distinct_anchors"] == 0


def test_a_failing_add_leaves_the_index_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with DispatchIndex.open(path, read_only=False) as index:
        index.add([Dispatch("a-1", "afp", "en", None, "First dispatch text with 12 words.")])

    def records():
        yield Dispatch("a-2", "afp", "en", None, "Second dispatch.")
        raise RuntimeError("disk on fire")

    with DispatchIndex.open(path, read_only=False) as index:
        with pytest.raises(RuntimeError):
            index.add(records())
        assert list(index.ids()) == ["a-1"]


def test_read_only_index(tmp_path: Path, index: DispatchIndex) -> None:
    with pytest.raises(IndexFileError):
        index.add([])
    with pytest.raises(IndexFileError):
        DispatchIndex.open(tmp_path / "missing.db")
    (tmp_path / "other.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(IndexFileError):
        DispatchIndex.open(tmp_path / "other.db")


def test_two_readers_at_once(tmp_path: Path, index: DispatchIndex) -> None:
    second = DispatchIndex.open(index.path)
    doc = extract_text(TRANSLATION_DE)
    assert [m.dispatch_id for m in second.match(doc)] == [m.dispatch_id for m in index.match(doc)]
    second.close()
    with pytest.raises(sqlite3.OperationalError):
        index._db.execute("DELETE FROM dispatch")


# ---------------------------------------------------------------- the CLI


def test_cli_add_stats_remove(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    result = runner.invoke(index_group, ["add", "--index", db, "--agency", "afp",
                                         str(DATA / "dispatches.jsonl"), str(DATA / "folder")])
    assert result.exit_code == 0, result.output
    assert "5 added, 0 replaced, 4 skipped" in result.output
    assert f"{DATA / 'dispatches.jsonl'}:4: invalid JSON" in result.stderr
    stats = runner.invoke(index_group, ["stats", "--index", db, "--json"])
    assert json.loads(stats.output)["statuses"] == {"usable": 4, "canceled": 1}
    removed = runner.invoke(index_group, ["remove", "--index", db, "orchard", "nope"])
    assert removed.exit_code == 1 and "nope: not in the index" in removed.stderr


def test_cli_fatal_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(index_group, ["add", "--index", str(tmp_path / "x.db"), "--agency",
                                         "afp", str(DATA / "broken.xml")])
    assert result.exit_code == 2 and "no dispatch could be read" in result.stderr
    result = runner.invoke(index_group, ["stats", "--index", str(tmp_path / "none.db")])
    assert result.exit_code == 2


# ---------------------------------------------------------------- real data


@needs_shared
def test_wmt22_translations_found_and_seed_page_matches_nothing(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import reuse

    dispatches, queries = reuse.load(SHARED_DATA)
    reuse.build_index(tmp_path / "wmt.db", dispatches)
    with DispatchIndex.open(tmp_path / "wmt.db") as index:
        seed = extract_text((SHARED_DATA / "seed-page.txt").read_text(encoding="utf-8"))
        assert index.match(seed) == []
        refs = [q for q in queries if q.pair == "fr-de" and q.variant == "ref:A" and q.truth]
        found = sum(
            any(m.dispatch_id == q.truth for m in index.match(extract_html(reuse.wrap(q))))
            for q in refs
        )
        assert found >= 0.8 * len(refs)
        copies = [q for q in queries if q.group == "same" and q.variant == "copy"][:40]
        for q in copies:
            matches = index.match(extract_html(reuse.wrap(q)))
            if q.truth:
                assert matches and matches[0].dispatch_id == q.truth and matches[0].kind == "copy"
            else:
                assert not matches


# ---------------------------------------------------------------- dictionaries


def _write_dictd(folder: Path, name: str, entries: dict[str, str], chunk: int = 64) -> None:
    """A dictd dictionary (.index and dictzip .dict.dz) as Debian's FreeDict packages ship."""
    import struct
    import zlib

    def b64(value: int) -> str:
        digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        out = ""
        while True:
            out = digits[value % 64] + out
            value //= 64
            if not value:
                return out

    data, index = b"", []
    for head, definition in entries.items():
        body = f"{head} /x/\n{definition}\n".encode()
        index.append(f"{head.lower()}\t{b64(len(data))}\t{b64(len(body))}\n")
        data += body
    sizes, blobs = [], []
    for at in range(0, len(data), chunk):
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        blob = packer.compress(data[at : at + chunk]) + packer.flush(zlib.Z_FULL_FLUSH)
        sizes.append(len(blob))
        blobs.append(blob)
    ra = struct.pack("<HHH", 1, chunk, len(sizes)) + struct.pack(f"<{len(sizes)}H", *sizes)
    extra = b"RA" + struct.pack("<H", len(ra)) + ra
    header = b"\x1f\x8b\x08\x04" + b"\0" * 4 + b"\x02\x03" + struct.pack("<H", len(extra)) + extra
    (folder / f"freedict-{name}.dict.dz").write_bytes(header + b"".join(blobs) + b"\0" * 8)
    (folder / f"freedict-{name}.index").write_text("".join(sorted(index)), encoding="utf-8")


@pytest.fixture()
def dictionaries(tmp_path: Path):  # type: ignore[no-untyped-def]
    from compliance.index import lexicon

    folder = tmp_path / "dictd"
    folder.mkdir()
    _write_dictd(folder, "deu-eng", {
        "Hafen": "harbour <n>, port", "Schaden": "damage, harm", "Sturm": "storm <n>",
        "Versammlung": "assembly, meeting", "Fischerboot": "fishing boat",
        "Regierung": "government <n>Gov., administration",
    })
    _write_dictd(folder, "eng-ces", {"harbour": "přístav", "storm": "bouře", "damage": "škoda"})
    previous = lexicon.DICT_DIR
    lexicon.use_directory(folder)
    yield folder
    lexicon.use_directory(previous)


def test_dictionary_words_pivot_into_english(dictionaries: Path) -> None:
    from compliance.index.lexicon import lexicon, word_keys

    german = lexicon("de")
    assert german is not None
    assert "harbor" in german.english("Hafen")  # British and American spellings agree
    assert "government" in german.english("Regierungen")  # inflection stripped
    czech = lexicon("cs")
    assert czech is not None and "harbor" in czech.english("přístavu")  # English→Czech inverted
    de = [k for k, _, _ in word_keys("Der Sturm hat dem Hafen Schaden gebracht", "de")]
    en = [k for k, _, _ in word_keys("The storm damaged the harbours", "en")]
    cs = [k for k, _, _ in word_keys("Bouře způsobila škodu v přístavu", "cs")]
    assert {"c:storm", "c:harbor", "c:damag"} <= set(de) & set(en) & set(cs)
    assert "word" in {a.kind for a in extract_anchors("The storm damaged the harbour", "en")}


def test_a_headword_with_several_entries_reads_them_all(tmp_path: Path) -> None:
    from compliance.index.lexicon import DictdFile

    # "Bank" (a bench) and "bank" (a money bank) share one lowercased index headword.
    _write_dictd(tmp_path, "deu-eng", {"Bank": "bench", "bank": "bank <n>, shore",
                                       "Ufer": "shore"}, chunk=16)
    book = DictdFile(tmp_path / "freedict-deu-eng")
    assert [d.splitlines()[1] for d in book.definitions("bank")] == ["bench", "bank <n>, shore"]
    assert book.english("bank") == ("bench", "bank", "shor")
    assert book.definitions("absent") == [] and book.english("absent") == ()


def test_worked_out_dictionaries_are_kept_and_read_back(
    dictionaries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance.index import lexicon

    cache = tmp_path / "cache"
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(cache))
    lexicon.use_directory(dictionaries)
    built = lexicon.lexicon("de")
    assert built is not None and "harbor" in built.english("Hafen")
    kept = list(cache.glob("lexicon-de-*.json"))
    assert len(kept) == 1

    def no_building(*_: object) -> None:
        raise AssertionError("built again although kept")

    with monkeypatch.context() as patch:  # the next process reads it, builds nothing
        patch.setattr(lexicon, "build_state", no_building)
        lexicon.use_directory(dictionaries)
        again = lexicon.lexicon("de")
        assert again is not None and again is not built
        assert again.english("Regierungen") == built.english("Regierungen")
        assert again.heads == built.heads and again.forward == built.forward

    kept[0].write_text("{not json", encoding="utf-8")  # damaged: built again, rewritten
    lexicon.use_directory(dictionaries)
    repaired = lexicon.lexicon("de")
    assert repaired is not None and repaired.forward == built.forward
    assert json.loads(kept[0].read_text(encoding="utf-8"))["forward"] == built.forward

    _write_dictd(dictionaries, "deu-eng", {"Hafen": "port", "Wellen": "waves"})
    lexicon.use_directory(dictionaries)  # the dictionary changed: another file, the old one gone
    changed = lexicon.lexicon("de")
    assert changed is not None and changed.english("Wellen") == ("wav",)
    assert [p.name for p in cache.glob("lexicon-de-*.json")] != [kept[0].name]
    assert len(list(cache.glob("lexicon-de-*.json"))) == 1


def test_dictionaries_work_where_nothing_can_be_kept(
    dictionaries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compliance.index import lexicon

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(blocked / "cache"))
    lexicon.use_directory(dictionaries)
    german = lexicon.lexicon("de")
    assert german is not None and "harbor" in german.english("Hafen")
    assert blocked.read_text(encoding="utf-8") == "not a folder"


def test_stemming_removes_the_longest_ending_that_leaves_three_letters() -> None:
    from compliance.index.lexicon import stem

    assert stem("Regierungen", "de") == "regier"  # "ungen", not "en" or "n"
    assert stem("Haus", "de") == "hau"
    assert stem("ungen", "de") == "ung"  # "ungen" would leave nothing: "en" is removed
    assert stem("les", "fr") == "les"  # no ending leaves three letters
    assert stem("Stations", "en") == "station"  # "ations" would leave two letters
    assert stem("Wasser", "xx") == "wasser"  # a language without endings is only lowercased


def test_without_dictionaries_there_are_no_word_anchors(tmp_path: Path) -> None:
    from compliance.index import lexicon

    previous = lexicon.DICT_DIR
    lexicon.use_directory(tmp_path / "none")
    try:
        assert lexicon.lexicon("de") is None and lexicon.word_langs() == frozenset()
        kinds = {a.kind for a in extract_anchors(TRANSLATION_DE, "de")}
        assert "word" not in kinds and "name" in kinds
    finally:
        lexicon.use_directory(previous)


def test_translation_without_names_found_through_dictionary_words(
    tmp_path: Path, dictionaries: Path
) -> None:
    """An anchor-poor translation: no number, date or name, only words."""
    _write_dictd(dictionaries, "fra-eng", {
        "tempête": "storm", "port": "harbour, port", "dégâts": "damage",
        "pêcheurs": "fishermen", "bateaux": "boats", "coulé": "sunk",
        "réunion": "meeting", "colère": "anger", "quai": "quay, pier",
    })
    from compliance.index import lexicon

    lexicon.use_directory(dictionaries)
    english = (
        "The storm sank the boats of the fishermen in the harbour. The damage to the quay "
        "is heavy, and the anger of the fishermen grew at the meeting. The harbour stays "
        "closed while the damage to the pier is assessed."
    )
    french = (
        "La tempête a coulé les bateaux des pêcheurs dans le port. Les dégâts sur le quai "
        "sont lourds, et la colère des pêcheurs a grandi lors de la réunion. Le port reste "
        "fermé pendant que les dégâts du quai sont évalués."
    )
    path = tmp_path / "words.db"
    with DispatchIndex.open(path, read_only=False) as writable:
        writable.add([Dispatch("fr-1", "afp", "fr", None, french)])
    with DispatchIndex.open(path) as index:
        page = extract_text(english)
        page = type(page)(**{**page.__dict__, "lang": "en"})
        features = index.translation_features(page)
        assert features and features[0].candidate.id == "fr-1"
        assert len(features[0].chain.pairs) >= 5


def test_pivot_through_a_third_language(dictionaries: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Russian words read through a German→Russian dictionary, then German→English."""
    from compliance.index import lexicon

    _write_dictd(dictionaries, "deu-rus", {"Hafen": "порт", "Sturm": "буря\nein starker Wind"})
    monkeypatch.setattr(lexicon, "PIVOTS", {"ru": (("deu-rus", "de"),)})
    lexicon.use_directory(dictionaries)
    russian = lexicon.lexicon("ru")
    assert russian is not None
    assert "harbor" in russian.english("порта")
    assert "storm" in russian.english("бури")


# ---------------------------------------------------------------- quotations and short dispatches

SPEECH = (
    "The mayor of Dunmore spoke for an hour at the harbour on Friday. "
    '"We will rebuild every pier the storm took from us, we will pay every fisherman who lost '
    "a boat, and we will not rest until the last family of this town is back under its own "
    'roof before the winter comes," she told the crowd. '
    "Work on the first two piers begins next month, the council said."
)


def test_quoted_spans_follow_the_marks_of_each_convention() -> None:
    from compliance.index.text import quoted_spans

    text = ('He said "we will win" and "we will\n"go on" — «ça ira» „ja“ “yes” '
            "他说：“民主”。a 5\" screen")
    assert [text[a:b] for a, b in quoted_spans(text)] == [
        '"we will win"', '"we will', '"go on"', "«ça ira»", "„ja“", "“yes”", "“民主”"]


def test_a_shared_quotation_alone_is_not_a_copy(tmp_path: Path) -> None:
    """Two outlets quoting one speech share its words, not each other's copy."""
    with DispatchIndex.open(tmp_path / "d.db", read_only=False) as writable:
        writable.add([Dispatch("xyz-1", "afp", "en", "Mayor vows to rebuild", SPEECH)])
    with DispatchIndex.open(tmp_path / "d.db") as index:
        quote = SPEECH[SPEECH.index('"'):SPEECH.index(" she told")]
        own = extract_text(
            "Dunmore counts the cost\n\nFishermen gathered on the quay at first light to look at "
            "what was left of their boats. Later the mayor addressed them. " + quote
            + " she said, to applause. Few in the crowd expected help to come so soon.")
        assert index.match(own) == []
        copied = extract_text("Dunmore counts the cost\n\n" + SPEECH)
        assert [m.kind for m in index.match(copied)] == ["copy"]


def test_an_excerpt_of_a_short_dispatch_is_a_partial_copy(tmp_path: Path) -> None:
    body = ("Firefighters in Corran put out a blaze at the old mill on Tuesday night after "
            "four hours. Nobody was hurt, the fire service said. The mill, empty since 1998, "
            "was due to become flats next year. Police have opened an inquiry into the cause "
            "and asked witnesses to come forward.")
    with DispatchIndex.open(tmp_path / "d.db", read_only=False) as writable:
        writable.add([Dispatch("xyz-2", "afp", "en", "Mill fire", body)])
    with DispatchIndex.open(tmp_path / "d.db") as index:
        excerpt = body[body.index("The mill"):]
        (match,) = index.match(extract_text("Corran\n\n" + excerpt))
        assert (match.dispatch_id, match.kind) == ("xyz-2", "partial")
        assert 0.3 < match.coverage < 0.7


def test_japanese_is_split_into_the_longest_dictionary_words(tmp_path: Path) -> None:
    from compliance.index import lexicon

    folder = tmp_path / "dictd"
    folder.mkdir()
    _write_dictd(folder, "jpn-eng", {
        "政府": "government, administration", "地震": "earthquake", "地震計": "seismometer",
        "発表": "announcement, statement", "計画": "plan, project",
    })
    previous = lexicon.DICT_DIR
    lexicon.use_directory(folder)
    try:
        text = "政府は地震の計画を発表した。地震計も"
        keys = [(key, text[start:end]) for key, start, end in lexicon.word_keys(text, "ja")]
        assert keys == [
            ("c:government", "政府"), ("c:administr", "政府"), ("c:earthquak", "地震"),
            ("c:plan", "計画"), ("c:project", "計画"), ("c:announcement", "発表"),
            ("c:statement", "発表"), ("c:seismometer", "地震計"),
        ]
        assert "ja" in lexicon.word_langs()
    finally:
        lexicon.use_directory(previous)


# ---------------------------------------------------------------- bounds that spare alignment


def _heaviest_chain(page: list[int], dispatch: list[int], weight: dict[int, float]) -> float:
    """The heaviest chain by brute force (quadratic), weighed as `align` weighs pairs."""
    pairs = [
        (i, j, weight[k] / min(page.count(k), dispatch.count(k)) ** 0.5)
        for i, k in enumerate(page) for j, d in enumerate(dispatch) if d == k
    ]
    best: list[float] = []
    for a, (i, j, w) in enumerate(pairs):
        prior = [best[b] for b in range(a) if pairs[b][0] < i and pairs[b][1] < j]
        best.append(w + max(prior, default=0.0))
    return max(best, default=0.0)


def test_alignment_is_exact_and_never_outweighs_its_bound() -> None:
    """Aligning through a page's key positions (PageKeys, made once per page) finds the
    heaviest chain, and `chain_bound`, which spares aligning hopeless candidates, is
    never below it."""
    import random
    from collections import Counter

    from compliance.index.align import PageKeys, align
    from compliance.index.store import chain_bound

    rng = random.Random(7)
    for _ in range(300):
        alphabet = rng.randint(1, 12)
        page = [rng.randrange(alphabet) for _ in range(rng.randint(0, 30))]
        dispatch = [rng.randrange(alphabet) for _ in range(rng.randint(0, 30))]
        weight = {k: rng.choice([0.0, 0.3, 0.5, 1.0, 2.0]) * rng.random() for k in range(alphabet)}
        chain = align(PageKeys(page), dispatch, weight.__getitem__)
        assert chain == align(page, dispatch, weight.__getitem__)
        assert chain.weight == pytest.approx(_heaviest_chain(page, dispatch, weight))
        assert all(page[i] == dispatch[j] for i, j in chain.pairs)
        bound, _ = chain_bound(Counter(page), Counter(dispatch), weight.__getitem__)
        assert chain.weight <= bound + 1e-9


def test_z_ceiling_is_never_below_the_z_and_meets_it_when_all_are_known() -> None:
    """`z_ceiling`, which spares aligning every runner-up when no candidate's z can reach
    its minimum, is at least the z whatever the unknown chains weigh within their bounds
    (0 and each bound included), and is the z itself when none is unknown."""
    import random

    from compliance.index.match import runner_up_z
    from compliance.index.store import z_ceiling

    rng = random.Random(11)
    for _ in range(3000):
        known = [rng.choice([0.0, rng.random() * 10]) for _ in range(rng.randint(0, 20))]
        uppers = [rng.choice([0.0, rng.random() * 10]) for _ in range(rng.randint(0, 16))]
        top, pool = rng.random() * 20, rng.choice([1, 5, 30])
        ceiling = z_ceiling(top, known, uppers, pool)
        for _ in range(10):
            chains = [rng.choice([0.0, upper, rng.random() * upper]) for upper in uppers]
            assert runner_up_z(top, known + chains, pool) <= ceiling + 1e-9
        exact = runner_up_z(top, known + uppers, pool)
        if exact > 0:
            assert z_ceiling(top, known + uppers, [], pool) == pytest.approx(exact)
    assert z_ceiling(1.0, [5.0, 5.0], [3.0], 1) == 0.0  # the others outweigh it: z ≤ 0


def test_could_pass_rules_out_only_scores_below_the_threshold() -> None:
    """A candidate ruled out by its weight and Dice bounds scores below THRESHOLD whatever
    its z; one at the minima (rounded score 0.5) is kept."""
    from compliance.index.match import CALIBRATION, THRESHOLD, translation_score
    from compliance.index.store import could_pass

    for minima in CALIBRATION.values():
        _, weight_min, dice_min = minima
        divisor = 2 * weight_min / dice_min  # at weight_min, the Dice is dice_min exactly
        assert could_pass(weight_min, divisor, minima)
        assert translation_score(1e9, weight_min, 2 * weight_min / divisor, minima) >= THRESHOLD
        for scale in (0.5, 0.9, 0.99, 0.9985, 1.0, 1.0001, 1.5):
            for weight, div in ((weight_min * scale, divisor), (weight_min, divisor / scale),
                                (weight_min * 3, 3 * divisor / scale)):
                dice = 2 * weight / div
                if translation_score(1e9, weight, dice, minima) >= THRESHOLD:
                    assert could_pass(weight, div, minima)


def test_bounds_keep_every_translation_that_passes(index: DispatchIndex) -> None:
    """match() asks only for passing features (hopeless pages are not aligned): they are
    the very features, scores and chains the unbounded computation finds above THRESHOLD."""
    from compliance.index.match import THRESHOLD

    for doc in (extract_text(TRANSLATION_DE), extract_text(OWN_WORDS_DE)):
        full = [f for f in index.translation_features(doc) if f.score >= THRESHOLD]
        assert index.translation_features(doc, passing_only=True) == full
    (match,) = index.match(extract_text(TRANSLATION_DE))
    assert match.kind == "translation"


@needs_shared
def test_bounds_keep_every_wmt22_translation(tmp_path: Path) -> None:
    """On translations of an indexed article and of an unindexed one, the bounded features
    are the unbounded ones that reach THRESHOLD."""
    from compliance.index.match import THRESHOLD

    sys.path.insert(0, str(ROOT / "bench"))
    import reuse

    dispatches, queries = reuse.load(SHARED_DATA)
    reuse.build_index(tmp_path / "wmt.db", dispatches)
    chosen = [q for q in queries if q.group != "same" and q.variant == "ref:A"][::40]
    passing = 0
    with DispatchIndex.open(tmp_path / "wmt.db") as index:
        for q in chosen:
            doc = extract_html(reuse.wrap(q))
            full = [f for f in index.translation_features(doc) if f.score >= THRESHOLD]
            assert index.translation_features(doc, passing_only=True) == full
            passing += bool(full)
    assert passing >= len(chosen) // 3
