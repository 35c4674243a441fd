"""The index's read-side caches and batched lookups change no result: the same weights,
features and matches as an index read afresh, the SHINGLE_CAP rule kept, and any
commit (ours or another connection's) forgetting what was cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.extract.html import extract_text
from compliance.index import Dispatch, DispatchIndex, read_dispatches, store
from compliance.index.anchors import extract_anchors
from compliance.index.text import stable_hash

from .test_index import DATA, OWN_WORDS_DE, TRANSLATION_DE, good

STORY = ("The council of Brackwell approved on Tuesday a plan to rebuild the old harbour wall, "
         "the mayor Odette Finchley told reporters after a meeting that lasted four hours. "
         "Work on the 340-metre wall is to start in March and cost 7.2 million pounds.")


def _features(index: DispatchIndex, text: str, passing_only: bool) -> list[tuple]:
    return [(f.candidate.id, f.chain, f.z, f.dice, f.score)
            for f in index.translation_features(extract_text(text), passing_only=passing_only)]


@pytest.fixture()
def path(tmp_path: Path) -> Path:
    path = tmp_path / "dispatches.db"
    with DispatchIndex.open(path, read_only=False) as writable:
        writable.add(good(list(read_dispatches([DATA / "dispatches.jsonl"], agency="afp"))))
    return path


def test_cached_frequencies_give_the_same_features_as_a_fresh_index(path: Path) -> None:
    warm = DispatchIndex.open(path)
    for text in (OWN_WORDS_DE, TRANSLATION_DE, OWN_WORDS_DE):  # fill the caches first
        warm.match(extract_text(text))
    assert warm._df_cache and warm._row_cache
    for text in (TRANSLATION_DE, OWN_WORDS_DE):
        for passing_only in (False, True):
            with DispatchIndex.open(path) as fresh:
                expected = _features(fresh, text, passing_only)
            assert _features(warm, text, passing_only) == expected
    assert _features(warm, TRANSLATION_DE, False)  # the translation is a candidate
    warm.close()


def test_df_lookup_caches_absent_keys_as_zero_and_returns_only_held_ones(path: Path) -> None:
    with DispatchIndex.open(path) as index:
        keys = {stable_hash(a.key) for a in extract_anchors(TRANSLATION_DE, "de")}
        absent = stable_hash("no dispatch holds this key")
        keys.add(absent)
        marks = ",".join("?" * len(keys))
        direct = dict(index._db.execute(
            f"SELECT hash, df FROM anchor_df WHERE hash IN ({marks})", tuple(keys)))  # nosec B608
        assert direct and absent not in direct
        assert index._dfs(keys) == direct
        assert index._df_cache[absent] == 0
        assert index._dfs(keys) == direct  # from the cache this time


def test_a_commit_forgets_what_was_cached(path: Path) -> None:
    """Our own add, and another connection's, both reach the next match."""
    reader = DispatchIndex.open(path)
    page = extract_text(STORY)
    assert reader.match(page) == []
    count = reader._count()
    with DispatchIndex.open(path, read_only=False) as writer:
        assert writer.match(page) == []
        writer.add([Dispatch("brk-1", "afp", "en", "Harbour wall", STORY, "2026-12-01")])
        (found,) = writer.match(page)
        assert found.dispatch_id == "brk-1"
        assert writer._count() == count + 1
        writer.remove(["brk-1"])
        assert writer.match(page) == []
        writer.add([Dispatch("brk-2", "afp", "en", "Harbour wall", STORY, "2026-12-01")])
    assert [m.dispatch_id for m in reader.match(page)] == ["brk-2"]
    assert reader._count() == count + 1
    reader.close()


@pytest.mark.parametrize("holders", [2, 3])
def test_a_shingle_held_by_more_than_the_cap_adds_no_hit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, holders: int
) -> None:
    """The batched shingle lookup keeps the rule of one lookup per shingle: up to
    SHINGLE_CAP dispatches a shingle leads to all of them, beyond it to none."""
    monkeypatch.setattr(store, "SHINGLE_CAP", 2)
    path = tmp_path / "cap.db"
    with DispatchIndex.open(path, read_only=False) as writable:
        writable.add([Dispatch(f"cap-{i}", "afp", "en", "Harbour wall", STORY, "2026-12-01")
                      for i in range(holders)])
    with DispatchIndex.open(path) as index:
        found = sorted(m.dispatch_id for m in index.match(extract_text(STORY)))
    assert found == ([] if holders > 2 else ["cap-0", "cap-1"])
